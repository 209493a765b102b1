"""Figures the chapters share.  The only module (with ``widgets``) that imports
matplotlib; each function draws on an ``ax`` it is given (or a new one) and
returns the axes, so notebooks, widgets and tests all call the same code."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

#: The book's figure style: white figure background (readable in the theme's
#: light and dark modes), grid, titles and labels large enough for the page.
BOOK_STYLE = {
    "figure.figsize": (6.4, 4.2),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
}


def use_book_style() -> None:
    """Apply ``BOOK_STYLE`` globally: the first line of every chapter."""
    plt.rcParams.update(BOOK_STYLE)


#: One colour per optimizer, the same in every chapter.
COLORS = {"SGD": "tab:gray", "Momentum": "tab:blue", "RMSprop": "tab:green",
          "Adam": "tab:red", "AMSGrad": "tab:purple", "AdamW": "tab:orange",
          "GD": "tab:gray", "AdaGrad": "tab:olive", "Adam + L2": "tab:brown"}


def label_color(label, index: int) -> str:
    """The book's colour for an optimizer's label (``"AdamW (λ = 1)"`` gets the
    colour of ``"AdamW"``); other labels take matplotlib's ``C{index}``."""
    return COLORS.get(str(label).split(" (")[0], f"C{index}")


#: The most points a drawn line gets: a series of thousands of steps is drawn at
#: every k-th step (a figure cannot show more, and drawing is faster).
MAX_POINTS = 1000


def thinning(length: int, max_points: int = MAX_POINTS) -> int:
    """The stride k that keeps at most ``max_points`` of ``length`` entries."""
    return max(1, -(-int(length) // max_points))


def thinned(values, max_points: int = MAX_POINTS):
    """``(indices, values)`` of every k-th entry along the first axis (and the
    last entry), at most about ``max_points`` of them."""
    values = np.asarray(values)
    index = np.arange(0, len(values), thinning(max(len(values) - 1, 1), max_points))
    if index[-1] != len(values) - 1:
        index = np.append(index, len(values) - 1)
    return index, values[index]


def axes_or_new(ax):
    """``ax``, or the axes of a new figure when it is None."""
    return ax if ax is not None else plt.figure().add_subplot()


def checked_mapping(name: str, mapping) -> dict:
    """A non-empty dict (label -> data), the argument every multi-series plot takes."""
    if not isinstance(mapping, dict):
        raise TypeError(f"{name} must be a non-empty dict of label -> array, "
                        f"got {type(mapping).__name__} {mapping!r:.60}")
    if not mapping:
        raise ValueError(f"{name} must be a non-empty dict of label -> array, got {{}}")
    return mapping


def series(name: str, mapping, length: int | None = None) -> dict:
    """``{str(label): float array}`` from a non-empty dict; with ``length``, each
    array's last axis must have that length (one value per x)."""
    out = {str(label): np.asarray(values, dtype=float)
           for label, values in checked_mapping(name, mapping).items()}
    if length is not None:
        for label, values in out.items():
            if values.shape[-1:] != (length,):
                raise ValueError(f"{name}[{label!r}] must have a last axis of length {length}, "
                                 f"got shape {values.shape}")
    return out


def plot_contours(objective, trajectories: dict, ax=None, *, bounds=None, levels=20,
                  title=None):
    """Log-spaced contours of a 2-D ``objective`` with one path per optimizer.

    ``trajectories`` maps a label to an array of shape ``(steps + 1, 2)``.
    ``bounds`` is ``((xmin, xmax), (ymin, ymax))``; by default it frames the paths.
    """
    ax = ax if ax is not None else plt.figure(figsize=(6, 4.5)).add_subplot()
    if bounds is None:
        points = np.concatenate([np.asarray(p) for p in trajectories.values()])
        low, high = points.min(axis=0), points.max(axis=0)
        pad = 0.15 * (high - low) + 1e-3
        bounds = tuple(zip(low - pad, high + pad))
    (x0, x1), (y0, y1) = bounds
    x, y = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    z = objective.value(np.stack([x, y], axis=-1))
    z_min, z_max = max(z.min(), 1e-12), z.max()
    ax.contour(x, y, z, levels=np.geomspace(z_min + 1e-3 * (z_max - z_min), z_max, levels),
               colors="0.75", linewidths=0.8)
    for i, (label, path) in enumerate(trajectories.items()):
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], ".-", color=label_color(label, i), label=label,
                markersize=3, linewidth=1.2)
    ax.plot(*np.asarray(trajectories[next(iter(trajectories))])[0], "ko", label="start")
    ax.plot(*objective.minimum, "k*", markersize=12, label="minimum")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=r"$\theta_1$", ylabel=r"$\theta_2$",
           title=title or f"Trajectories on the {objective.name}")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_loss_curves(objective, trajectories: dict, ax=None, *, title=None):
    """``f(θ_t) − f(θ*)`` against the step ``t`` on a log scale, one line per optimizer."""
    ax = ax if ax is not None else plt.figure(figsize=(6, 4.5)).add_subplot()
    best = float(objective.value(np.asarray(objective.minimum, dtype=float)))
    for i, (label, path) in enumerate(trajectories.items()):
        gap = objective.value(np.asarray(path)) - best
        ax.semilogy(np.arange(len(gap)), np.maximum(gap, 1e-300), color=label_color(label, i),
                    label=label)
    ax.set(xlabel="step $t$", ylabel=r"$f(\theta_t) - f(\theta^*)$",
           title=title or f"Loss on the {objective.name}")
    ax.legend(loc="best", fontsize="small")
    return ax
