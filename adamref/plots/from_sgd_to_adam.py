"""Figures of the chapter *From gradient descent to Adam*: trajectories of the
lineage (SGD, momentum, RMSprop, Adam) on contours beside their loss curves.

The same drawing serves the chapter's figures and its explorer, so it is kept
quick: a fixed layout (no ``tight_layout``), plain-text labels (no math text to
parse), no minor ticks, markers only on short paths, long series thinned to at
most ``style.MAX_POINTS`` points, and the contour grid cached by the lab."""

from __future__ import annotations

import math
from functools import lru_cache

import contourpy
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from adamref.lab.from_sgd_to_adam import contour_grid, explorer_paths, lineage_problem
from adamref.plots.style import checked_mapping, label_color, thinning

#: The loss axis stops here: a run that reaches the exact minimum of a quadratic
#: (values like 1e-200) would otherwise squash every other curve.
LOSS_FLOOR = 1e-20


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value, _position):
    # 10⁻⁵ as plain text: math-text tick labels cost a parse each
    return "10" + str(round(math.log10(value))).translate(_SUPERSCRIPT) if value > 0 else ""


def _thinned(series):
    every = thinning(len(series))
    return series[::every], every


def _frame(paths):
    finite = np.concatenate([p[np.all(np.isfinite(p), axis=1)] for p in paths.values()])
    low, high = finite.min(axis=0), finite.max(axis=0)
    pad = 0.15 * (high - low) + 1e-3
    return tuple((float(a), float(b)) for a, b in zip(low - pad, high + pad))


def draw_paths(fig, objective, paths, *, bounds=None, title=""):
    """Contours with the ``paths`` (left) and ``f(θ_t) − f(θ*)`` (right) on ``fig``;
    returns the two axes.  ``bounds`` frames the contour plot (default: the paths)."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    checked_mapping("paths", paths)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {title!r}")
    shown = {k: np.asarray(p, dtype=float) for k, p in paths.items()}
    bounds = _frame(shown) if bounds is None else tuple(tuple(map(float, b)) for b in bounds)
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.91, wspace=0.2)
    _draw_contours(left, objective, bounds)
    best = float(objective.value(np.asarray(objective.minimum, dtype=float)))
    for i, (label, path) in enumerate(shown.items()):
        color = label_color(label, i)
        points, _ = _thinned(path)
        left.plot(points[:, 0], points[:, 1], ".-" if len(path) <= 200 else "-", color=color,
                  markersize=3, linewidth=1.2)
        gap, every = _thinned(objective.value(path) - best)
        right.plot(np.arange(len(gap)) * every, np.maximum(gap, 1e-300), color=color,
                   label=label)
    left.plot(*next(iter(shown.values()))[0], "ko")
    left.plot(*objective.minimum, "k*", markersize=12)
    (x0, x1), (y0, y1) = bounds
    left.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="θ₁", ylabel="θ₂")
    left.set_title(f"Paths: {title}" if title else "Paths (● start, ★ minimum)", y=1.01)
    right.set(yscale="log", xlabel="step t", ylabel="f(θ) − f(θ*)")
    right.set_title(f"Loss: {title}" if title else "Loss", y=1.01)
    for axis in (left.xaxis, left.yaxis, right.xaxis):
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))  # fewer artists
    right.yaxis.set_major_locator(LogLocator(numticks=7))
    right.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
    right.yaxis.set_minor_locator(NullLocator())
    right.legend(loc="upper right", fontsize="small")
    low, high = right.get_ylim()
    # the top stops a decade above the worst starting loss, so that a run's far
    # excursion cannot squash every other curve (the note on the left says where it went)
    start = max(float(objective.value(p[0]) - best) for p in shown.values())
    top = min(high, 10 * max(start, LOSS_FLOOR))
    right.set_ylim(max(low, LOSS_FLOOR), max(top, 10 * LOSS_FLOOR))  # see LOSS_FLOOR
    notes = [f"{label} leaves the frame: max |θ_i| = {np.abs(finite).max():.3g}"
             for label, p in shown.items()
             for finite in [p[np.all(np.isfinite(p), axis=1)]]
             if finite.size and (finite[:, 0].min() < x0 or finite[:, 0].max() > x1
                                 or finite[:, 1].min() < y0 or finite[:, 1].max() > y1)]
    if notes:
        left.text(0.02, 0.02, "\n".join(notes), transform=left.transAxes, fontsize="small",
                  va="bottom", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    return left, right


def _draw_contours(ax, objective, bounds):
    ax.add_collection(LineCollection(_contour_lines(objective, bounds), colors="0.75",
                                     linewidths=0.8))


@lru_cache(maxsize=8)
def _contour_lines(objective, bounds, levels=20):
    # log-spaced level lines, traced once per problem and frame (the explorer
    # redraws the same background each time) and drawn as one collection
    x, y, values = contour_grid(objective, bounds)
    low, high = max(values.min(), 1e-12), values.max()
    tracer = contourpy.contour_generator(x, y, values)
    return tuple(line for level in np.geomspace(low + 1e-3 * (high - low), high, levels)
                 for line in tracer.lines(level))


#: Contour frames that show the interesting region of each problem.
BOUNDS = {"quadratic": ((-5.0, 1.5), (-2.0, 2.0)), "rosenbrock": ((-2.0, 2.0), (-1.0, 3.0))}


def draw_lineage(fig, problem="quadratic", lr=0.1, sgd_lr=0.01, beta1=0.9, beta2=0.999,
                 noise=0.0, seed=0):
    """The explorer's figure: the four optimizers with shared hyperparameters.

    RMSprop and Adam use ``lr``; SGD uses ``sgd_lr`` and Momentum (heavy ball,
    μ = β1) uses ``sgd_lr·(1 − β1)``, the EMA-form equivalent of the same step,
    so that changing β1 changes the averaging, not the step size
    (``explorer_lrs``).
    """
    setup = lineage_problem(problem)
    paths = explorer_paths(problem, lr=lr, sgd_lr=sgd_lr, beta1=beta1, beta2=beta2,
                           noise=noise, seed=seed)
    label = f"{setup.objective.name}" + (f", noise σ = {noise:g}" if noise else "")
    return draw_paths(fig, setup.objective, paths, bounds=BOUNDS[problem], title=label)
