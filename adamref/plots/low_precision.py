"""Figures of the low-precision chapter: they draw what
``adamref.lab.low_precision`` computed, and compute nothing."""

from __future__ import annotations

import numpy as np

from adamref.plots.style import axes_or_new, checked_mapping, series

#: Colours of the precisions and of the memory options.
_COLORS = {"fp32": "tab:red", "bf16": "tab:blue", "fp16": "tab:orange",
           "Adam (fp32 state)": "tab:red", "Adam (bf16 state)": "tab:blue",
           "Adam (8-bit state)": "tab:purple", "Adafactor": "tab:green",
           "SGD + momentum": "tab:gray"}


def _color(label: str, index: int) -> str:
    return _COLORS.get(label, _COLORS.get(label.split(",")[0], f"C{index}"))


def plot_steps_by_precision(scales, steps, ax=None, *, thresholds=None, title=None):
    """``|Δθ|/α`` against the gradient scale, one line per run (label -> steps,
    as ``lab.low_precision.steps_by_precision`` returns them).  A step the
    format made infinite or NaN is drawn as a marker on the top edge (× for
    inf, ○ for NaN); ``thresholds`` (label -> gradient scale) are dotted
    vertical lines."""
    scales = np.asarray(scales, dtype=float)
    steps = series("steps", steps, scales.size)
    ax = axes_or_new(ax)
    finite_max = max([float(np.max(v[np.isfinite(v)], initial=0)) for v in steps.values()])
    top = 2 * max(finite_max, 1.0)
    for i, (label, values) in enumerate(steps.items()):
        color = _color(label, i)
        style = "--" if "loss" in label else "-"
        ax.loglog(scales, np.where(np.isfinite(values), values, np.nan), style, color=color,
                  label=label)
        for kind, marker in ((np.isinf(values), "x"), (np.isnan(values), "o")):
            if kind.any():
                ax.plot(scales[kind], np.full(kind.sum(), top), marker, color=color, ms=4,
                        mfc="none")
    for i, (label, scale) in enumerate(checked_mapping("thresholds", thresholds or {0: 0}).items()
                                       if thresholds else ()):
        ax.axvline(scale, color="0.4", ls=":", lw=1)
        ax.text(scale, 1.2 * top, f" {label}", rotation=90, va="bottom", ha="center",
                fontsize=7, color="0.3")
    ax.set_ylim(top=4 * top)
    ax.set(xlabel="gradient scale $|g|$", ylabel=r"step size $|\Delta\theta| / \alpha$",
           title=title or "Adam's step in each precision (× inf, ○ NaN)")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_loss_against_state_bytes(results, ax=None, *, floor=None, title=None):
    """Each option's final loss at its tuned learning rate against its bytes of
    optimizer state per parameter (``results``: name -> ``OptionResult``);
    ``floor`` (the "solved" level) as a grey line, losses below it drawn on it."""
    results = checked_mapping("results", results)
    ax = axes_or_new(ax)
    for i, (name, result) in enumerate(results.items()):
        loss = result.tuned.best_score
        shown = max(loss, floor) if floor else loss
        ax.semilogy(result.state_bytes, shown, "o", color=_color(name, i), ms=8, label=name)
        ax.annotate(f" lr {result.tuned.best:.3g}", (result.state_bytes, shown), fontsize=7)
    if floor:
        ax.axhline(floor, color="0.5", lw=0.8, ls="--", label="solved")
    ax.set_xlim(left=0)
    ax.set(xlabel="optimizer state (bytes per parameter)", ylabel="final loss at the tuned lr",
           title=title or "Memory against quality")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_good_learning_rates(results, ax=None, *, title=None):
    """Each option's learning-rate grid (small grey dots), its good values
    (``tune``: within its factor of the best, or solved; filled) and its best
    value (ringed): one row per option."""
    results = checked_mapping("results", results)
    ax = axes_or_new(ax)
    for row, (name, result) in enumerate(results.items()):
        tuned = result.tuned
        color = _color(name, row)
        ax.semilogx(tuned.values, np.full(tuned.values.size, row), ".", color="0.7")
        ax.semilogx(tuned.values[tuned.good], np.full(tuned.count, row), "o", color=color)
        ax.semilogx(tuned.values[tuned.best_index], row, "o", ms=12, mfc="none", color="k")
    ax.set_yticks(np.arange(len(results)), list(results))
    ax.invert_yaxis()
    ax.set(xlabel=r"learning rate $\alpha$", ylabel="",
           title=title or "Good learning rates (filled) and the best (ringed)")
    return ax
