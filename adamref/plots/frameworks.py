"""Figures of the chapter on the frameworks' Adams.

Each ``plot_*`` function draws precomputed data on an ``ax`` it is given (or a
new one) and returns it; ``draw_epsilon_forms(fig, **params)`` computes and
draws a whole figure, so the book's static figure and the explorer's sliders
call the same code.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullLocator

from adamref.optim import validation as check
from adamref.lab.per_parameter_steps import step_vs_gradient_scale
from adamref.plots.per_parameter_steps import plot_step_vs_scale
from adamref.plots.style import axes_or_new, label_color, series


def draw_epsilon_forms(fig, eps=1e-8, eps_hat=1e-7, t=1):
    """Left: ``|Δθ_t|/α`` against the (constant) gradient scale for ε added to √v̂
    (PyTorch, Optax) and ε̂ added to √v (Keras/TensorFlow).  Right: their ratio."""
    t = check.step_count("t", t)
    scales = np.geomspace(1e-12, 1, 49)
    torch_form = step_vs_gradient_scale(scales, eps, t)[0]
    keras_form = step_vs_gradient_scale(scales, eps_hat, t, epsilon_hat=True)[0]
    ax_steps, ax_ratio = fig.subplots(1, 2)
    curves = {rf"$\epsilon$ = {eps:.0e} on $\sqrt{{\hat v}}$ (PyTorch, Optax)": torch_form,
              rf"$\hat\epsilon$ = {eps_hat:.0e} on $\sqrt{{v}}$ (Keras)": keras_form}
    plot_step_vs_scale(scales, curves, ax_steps, title=f"Step size at step t = {t}")
    ax_steps.set_ylim(1e-6, 3)
    ax_ratio.loglog(scales, torch_form / keras_form, color="tab:red")
    ax_ratio.set(xlabel="gradient scale $|g|$", ylabel="PyTorch step / Keras step",
                 title=f"Ratio of the two steps at t = {t}")
    for ax in (ax_steps, ax_ratio):          # log axes over many decades: no minor ticks
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.92, wspace=0.25)
    return ax_steps, ax_ratio


def plot_step_curves(curves, ax=None, *, title=None, styles=None,
                     ylabel=r"step size $|\Delta\theta| / \alpha$"):
    """One line per label of ``|Δθ_t|/α`` against the step ``t`` (log y)."""
    curves = series("curves", curves)
    ax = axes_or_new(ax)
    styles = styles or {}
    for i, (label, values) in enumerate(curves.items()):
        if values.ndim != 1:
            raise ValueError(f"curves[{label!r}] must be 1-D, got shape {values.shape}")
        ax.semilogy(np.arange(1, values.size + 1), values, styles.get(label, "-"),
                    color=label_color(label, i), label=label)
    ax.set(xlabel="step $t$", ylabel=ylabel, title=title or "Step size per step")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_decay_paths(paths, fixed_points, ax=None, *, title=None):
    """Mean paths ``θ_t`` (shape ``(T + 1, dim)``) of several decay variants, one
    colour per variant and one line style per coordinate, with their predicted rest
    points as dotted horizontal lines."""
    paths = series("paths", paths)
    fixed_points = series("fixed_points", fixed_points)
    ax = axes_or_new(ax)
    line_styles = ["-", "--", "-.", ":"]
    for i, (label, path) in enumerate(paths.items()):
        if path.ndim != 2:
            raise ValueError(f"paths[{label!r}] must have shape (T + 1, dim), got {path.shape}")
        color = label_color(label, i)
        for j in range(path.shape[1]):
            ax.plot(path[:, j], line_styles[j % 4], color=color,
                    label=f"{label}, coordinate {j + 1}")
        for value in np.atleast_1d(fixed_points.get(label, [])):
            ax.axhline(value, color=color, lw=0.8, ls=":")
    ax.set(xlabel="step $t$", ylabel=r"$\theta_t$ (mean over runs)",
           title=title or "Where weight decay comes to rest")
    ax.legend(loc="best", fontsize="small")
    return ax
