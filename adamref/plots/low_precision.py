"""Figures of the low-precision chapter: they draw what
``adamref.lab.low_precision`` computed, and compute nothing."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import LogLocator, NullLocator

from adamref.lab import low_precision as lab
from adamref.plots.style import axes_or_new, checked_mapping, series

#: Colours of the precisions and of the memory options.
_COLORS = {"fp32": "tab:red", "bf16": "tab:blue", "fp16": "tab:orange", "fp16, loss": "tab:brown",
           "Adam (fp32 state)": "tab:red", "Adam (bf16 state)": "tab:blue",
           "Adam (8-bit state)": "tab:purple", "Adafactor": "tab:green",
           "SGD + momentum": "tab:gray"}


#: Marker shapes of the options, in order.
_MARKERS = ("o", "s", "^", "D", "v")


def _color(label: str, index: int) -> str:
    return _COLORS.get(label, _COLORS.get(label.split(" ×")[0], _COLORS.get(label.split(",")[0],
                                                                        f"C{index}")))


def plot_steps_by_precision(scales, steps, ax=None, *, thresholds=None, title=None):
    """``|Δθ|/α`` against the gradient scale, one line per run (label -> steps,
    as ``lab.low_precision.steps_by_precision`` returns them).  Where a run's
    step is infinite or NaN it is drawn as a marker (× inf, ○ NaN) on that
    run's own row above the curves; ``thresholds`` (label -> gradient scale)
    are dotted vertical lines, labelled at the bottom."""
    scales = np.asarray(scales, dtype=float)
    steps = series("steps", steps, scales.size)
    ax = axes_or_new(ax)
    finite_max = max([float(np.max(v[np.isfinite(v)], initial=0)) for v in steps.values()])
    top = 2 * max(finite_max, 1.0)
    rows = 1.8 ** np.arange(1, len(steps) + 1) * top      # one row of markers per run
    for i, (label, values) in enumerate(steps.items()):
        color = _color(label, i)
        style = "--" if "loss" in label else "-"
        ax.loglog(scales, np.where(np.isfinite(values), values, np.nan), style, color=color,
                  label=label)
        for kind, marker in ((np.isinf(values), "x"), (np.isnan(values), "o")):
            if kind.any():
                ax.plot(scales[kind], np.full(kind.sum(), rows[i]), marker, color=color, ms=5,
                        mfc="none", mew=1.2)
    for label, scale in (checked_mapping("thresholds", thresholds).items()
                         if thresholds else ()):
        ax.axvline(scale, color="0.4", ls=":", lw=1)
        ax.text(scale, 0.45, f" {label}", rotation=90, va="bottom", ha="right", fontsize=7,
                color="0.3", transform=ax.get_xaxis_transform())
    ax.set_ylim(top=1.6 * rows[-1])
    ax.set(xlabel="gradient scale $|g|$", ylabel=r"step size $|\Delta\theta| / \alpha$",
           title=title or "Adam's step in each precision (× inf, ○ NaN)")
    ax.legend(loc="lower center", fontsize="small")
    return ax


def plot_loss_against_state_bytes(results, ax=None, *, floor=None, title=None):
    """Each option's final loss at its tuned learning rate against its bytes of
    optimizer state per parameter (``results``: name -> ``OptionResult``);
    ``floor`` (the "solved" level) as a grey line, losses below it drawn on it."""
    results = checked_mapping("results", results)
    ax = axes_or_new(ax)
    seen = {}
    for i, (name, result) in enumerate(results.items()):
        loss = result.tuned.best_score
        shown = max(loss, floor) if floor else loss
        # hollow markers of different shapes: options at the same point stay visible
        ax.semilogy(result.state_bytes, shown, _MARKERS[i % len(_MARKERS)], color=_color(name, i),
                    ms=9, mfc="none", mew=2, label=name)
        place = (round(result.state_bytes, 6), shown)
        below = seen.get(place, 0)                   # labels of points drawn here already
        seen[place] = below + 1
        ax.annotate(f"α = {result.tuned.best:.3g}", (result.state_bytes, shown), fontsize=7,
                    xytext=(7, 4 - 10 * below), textcoords="offset points")
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


def draw_steps_by_precision(fig, eps=1e-8, loss_scale=4096.0, t=1000, beta2=0.999):
    """The explorer's figure (best about 8 × 4.4 inches): Adam's step at step
    ``t`` against the gradient scale in each precision
    (``lab.low_precision.steps_by_precision`` over ``STEP_SCALES``), with fp16's
    thresholds for this ε and β2 (``format_thresholds``) as dotted lines."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    steps = lab.steps_by_precision(lab.STEP_SCALES, t, loss_scale=loss_scale, eps=eps,
                                   beta2=beta2)
    fp16 = lab.format_thresholds(beta2=beta2, eps=eps)["fp16"]
    ax = fig.add_subplot()
    plot_steps_by_precision(lab.STEP_SCALES, steps, ax,
                            thresholds={"fp16: v = 0 below": fp16["first_v_underflow"],
                                        "fp16: g² = inf above": fp16["square_overflow"]},
                            title=rf"Adam's step at $t$ = {t:g} ($\epsilon$ = {eps:g}, "
                                  rf"$\beta_2$ = {beta2:g}; × inf, ○ NaN)")
    ax.axvline(eps, color="tab:red", lw=0.8, ls="--", alpha=0.6)
    ax.text(eps, 0.45, r" $\epsilon$", color="tab:red", va="bottom", ha="right", fontsize=8,
            transform=ax.get_xaxis_transform())
    # a tick every other decade and no minor ticks: 12 decades of log ticks dominate a redraw
    ax.xaxis.set_major_locator(LogLocator(base=100.0))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(NullLocator())
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.9)
    return ax


def draw_memory_comparison(fig, results, *, floors=None):
    """Two rows on ``fig``, one column per problem (``results``: problem name
    -> ``{option: OptionResult}``, as ``compare_memory_options`` returns them):
    the final loss at the tuned learning rate against the bytes of state per
    parameter (``floors``: problem name -> its solved level, or None), and the
    good learning rates of each option."""
    results = checked_mapping("results", results)
    floors = floors or {}
    axes = fig.subplots(2, len(results), squeeze=False,
                        gridspec_kw={"height_ratios": (3, 2)})
    for column, (problem, options) in enumerate(results.items()):
        plot_loss_against_state_bytes(options, axes[0, column], floor=floors.get(problem),
                                      title=problem)
        plot_good_learning_rates(options, axes[1, column],
                                 title=f"{problem}: good learning rates")
        if column:
            axes[0, column].get_legend().remove()
            axes[1, column].set_yticklabels([])
    return axes
