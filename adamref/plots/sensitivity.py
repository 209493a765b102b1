"""Figures of the sensitivity chapter: heatmaps of a sweep's final loss, loss
against the learning rate with every good value marked (a ``Tuned`` result,
holes and all), and the explorer's ``draw_sensitivity``.  Imports matplotlib
(a plotting module)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogLocator, NullLocator

from adamref.lab.sensitivity import SweepResult, explorer_sweeps
from adamref.problems import Tuned
from adamref.plots.style import checked_mapping, label_color

#: Diverged runs: a light grey that neither end of viridis resembles.
DIVERGED_COLOR = "0.82"

_LABELS = {"lr": r"learning rate $\alpha$", "beta1": r"$\beta_1$", "beta2": r"$\beta_2$",
           "eps": r"$\epsilon$", "momentum": r"momentum $\mu$"}


def _check_result(result):
    if not isinstance(result, SweepResult):
        raise TypeError(f"result must be a SweepResult, got {type(result).__name__}")
    if result.loss.ndim != 2:
        raise ValueError(f"result must be a 2-D sweep, got loss of shape {result.loss.shape}")


def plot_sweep_heatmap(result, ax=None, *, title=None, mark=None, vmin=-12, vmax=2):
    """``log10`` of the final loss on a 2-D sweep (first axis horizontal, on a log
    scale); diverged runs in light grey; the best configuration marked with a star and
    ``mark`` (e.g. the defaults, ``{"lr": 1e-3, "beta2": 0.999}``) with a circle."""
    _check_result(result)
    if mark is not None and (not isinstance(mark, dict) or set(mark) != set(result.axes)):
        raise ValueError(f"mark must be a dict with keys {list(result.axes)}, got {mark!r}")
    ax = ax if ax is not None else plt.figure().add_subplot()
    (xname, xs), (yname, ys) = result.axes.items()
    with np.errstate(divide="ignore"):
        z = np.log10(np.maximum(result.loss, 1e-300)).T
    z = np.where(np.isinf(z) & (z > 0), np.nan, np.clip(z, vmin, vmax))
    cmap = plt.get_cmap("viridis").with_extremes(bad=DIVERGED_COLOR)
    rows = np.arange(len(ys))
    image = ax.pcolormesh(np.arange(len(xs) + 1) - 0.5, np.arange(len(ys) + 1) - 0.5,
                          np.ma.masked_invalid(z), cmap=cmap, vmin=vmin, vmax=vmax)
    ax.figure.colorbar(image, ax=ax, label=r"$\log_{10}(f(\theta_T) - f^*)$")
    ticks = np.arange(0, len(xs), max(1, len(xs) // 6))
    ax.set_xticks(ticks, [f"{xs[i]:.0e}" for i in ticks], rotation=45)
    ax.set_yticks(rows, [f"{y:g}" for y in ys])
    best = np.unravel_index(np.argmin(result.loss), result.loss.shape)
    ax.plot(best[0], best[1], "*", color="white", markeredgecolor="black", markersize=14,
            label="best")
    if mark is not None:
        mx = int(np.argmin(np.abs(np.log(xs) - np.log(mark[xname]))))
        my = int(np.argmin(np.abs(ys - mark[yname])))
        ax.plot(mx, my, "o", markerfacecolor="none", markeredgecolor="red", markersize=11,
                markeredgewidth=2, label="defaults")
    if np.isinf(result.loss).any():
        ax.fill_between([], [], color=DIVERGED_COLOR, label="diverged")
    ax.set(xlabel=_LABELS.get(xname, xname), ylabel=_LABELS.get(yname, yname),
           title=title or f"Final loss after {result.steps} steps")
    ax.grid(False)
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_lr_slices(tuned: dict, ax=None, *, title=None):
    """Final loss against the learning rate, one line per label from its ``Tuned``
    result (``adamref.problems.tune`` over the lr grid): every *good* value ringed
    and repeated as a tick on a strip at the bottom (holes in the good set stay
    visible, no range is shaded across them); diverged runs as crosses at the top."""
    checked_mapping("tuned", tuned)
    for label, result in tuned.items():
        if not isinstance(result, Tuned):
            raise TypeError(f"tuned[{label!r}] must be a Tuned (adamref.problems.tune), "
                            f"got {type(result).__name__}")
    ax = ax if ax is not None else plt.figure().add_subplot()
    finite = np.concatenate([r.scores[np.isfinite(r.scores)] for r in tuned.values()])
    top = 10 * max(float(finite.max()), 1.0) if finite.size else 10.0
    strip = ax.get_xaxis_transform()            # x in data, y in axes coordinates
    for i, (label, result) in enumerate(tuned.items()):
        lrs, losses, good = result.values, result.scores, result.good
        color = label_color(label.split(" ")[0], i)
        ok = np.isfinite(losses)
        ax.loglog(lrs[ok], np.maximum(losses[ok], 1e-300), "o-", color=color, markersize=3,
                  label=label)
        ax.plot(lrs[good], np.maximum(losses[good], 1e-300), "o", markersize=9,
                markerfacecolor="none", markeredgecolor=color)
        if (~ok).any():
            ax.plot(lrs[~ok], np.full((~ok).sum(), top), "x", color=color)
        ax.plot(lrs[good], np.full(good.sum(), 0.03 + 0.05 * i), "|", color=color,
                markersize=10, markeredgewidth=2, transform=strip, label=f"_good {label}")
    ax.set(xlabel=_LABELS["lr"], ylabel=r"$f(\theta_T) - f^*$",
           title=title or "Final loss against the learning rate")
    ax.legend(loc="best", fontsize="small")
    return ax


def draw_sensitivity(fig, problem="least squares", steps=500, beta1=0.9, eps=1e-8,
                     momentum=0.9):
    """The explorer's figure: a live lr × β2 sweep of Adam (left) and, right, the
    final loss against lr for Adam (β2 = 0.999) and SGD with ``momentum``."""
    adam, slices = explorer_sweeps(problem, steps, beta1, eps, momentum)
    # fixed margins (best at about 12 × 4.3 inches): a layout engine would
    # measure every tick label again on each redraw
    left, right = fig.subplots(1, 2, gridspec_kw=dict(left=0.08, right=0.985, bottom=0.2,
                                                      top=0.915, wspace=0.22))
    plot_sweep_heatmap(adam, left, mark={"lr": 1e-3, "beta2": 0.999},
                       title=f"Adam on {problem}, $\\beta_1$={beta1:g}, $\\epsilon$={eps:.0e}")
    plot_lr_slices(slices, right, title=f"{problem}: final loss after {steps} steps")
    # fewer minor ticks (each is several artists to make and draw): 2 and 5 times
    # the powers of ten along α, none along the loss's ~25 decades
    right.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    right.yaxis.set_minor_locator(NullLocator())
    for ax in (left, right):
        ax.set_title(ax.get_title(), y=1.0)     # a fixed place: no search for free room
    return fig
