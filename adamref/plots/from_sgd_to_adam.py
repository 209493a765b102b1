"""Figures of the chapter *From gradient descent to Adam*: trajectories of the
lineage (SGD, momentum, RMSprop, Adam) on contours beside their loss curves."""

from __future__ import annotations

import numpy as np

from adamref.lab.from_sgd_to_adam import lineage_paths, lineage_problem
from adamref.plots.style import checked_mapping, plot_contours, plot_loss_curves


#: The loss axis stops here: a run that reaches the exact minimum of a quadratic
#: (values like 1e-200) would otherwise squash every other curve.
LOSS_FLOOR = 1e-20


def draw_paths(fig, objective, paths, *, bounds=None, title=""):
    """Contours with the ``paths`` (left) and ``f(θ_t) − f(θ*)`` (right) on ``fig``;
    returns the two axes.  ``bounds`` frames the contour plot (default: the paths)."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    checked_mapping("paths", paths)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {title!r}")
    left, right = fig.subplots(1, 2)
    shown = {k: np.asarray(p) for k, p in paths.items()}
    plot_contours(objective, shown, left, bounds=bounds,
                  title=f"Paths: {title}" if title else None)
    plot_loss_curves(objective, shown, right, title=f"Loss: {title}" if title else None)
    low, high = right.get_ylim()
    # the top stops a decade above the worst starting loss, so that a run's far
    # excursion cannot squash every other curve (the note on the left says where it went)
    start = max(float(objective.excess_loss(p[0])) for p in shown.values())
    top = min(high, 10 * max(start, LOSS_FLOOR))
    right.set_ylim(max(low, LOSS_FLOOR), max(top, 10 * LOSS_FLOOR))  # see LOSS_FLOOR
    if bounds is not None:
        (x0, x1), (y0, y1) = bounds
        notes = []
        for label, p in shown.items():
            finite = p[np.all(np.isfinite(p), axis=1)]
            if finite.size and (finite[:, 0].min() < x0 or finite[:, 0].max() > x1
                                or finite[:, 1].min() < y0 or finite[:, 1].max() > y1):
                notes.append(f"{label} leaves the frame: max |θ_i| = {np.abs(finite).max():.3g}")
        if notes:
            left.text(0.02, 0.02, "\n".join(notes), transform=left.transAxes, fontsize="small",
                      va="bottom", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    fig.tight_layout()
    return left, right


#: Contour frames that show the interesting region of each problem.
BOUNDS = {"quadratic": ((-5.0, 1.5), (-2.0, 2.0)), "rosenbrock": ((-2.0, 2.0), (-1.0, 3.0))}


def draw_lineage(fig, problem="quadratic", lr=0.1, sgd_lr=0.01, beta1=0.9, beta2=0.999,
                 noise=0.0, seed=0):
    """The explorer's figure: the four optimizers with shared hyperparameters.

    RMSprop and Adam use ``lr``; SGD uses ``sgd_lr`` and Momentum (heavy ball,
    μ = β1) uses ``sgd_lr·(1 − β1)``, the EMA-form equivalent of the same step,
    so that changing β1 changes the averaging, not the step size.
    """
    setup = lineage_problem(problem)
    lrs = {"SGD": sgd_lr, "Momentum": sgd_lr * (1 - beta1), "RMSprop": lr, "Adam": lr}
    paths = lineage_paths(problem, lrs, beta1=beta1, beta2=beta2, noise=noise, seed=seed)
    label = f"{setup.objective.name}" + (f", noise σ = {noise:g}" if noise else "")
    return draw_paths(fig, setup.objective, paths, bounds=BOUNDS[problem], title=label)
