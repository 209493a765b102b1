"""Figures of the per-parameter steps chapter.

Each ``plot_*`` function draws precomputed data on an ``ax`` it is given (or a
new one) and returns it; each ``draw_*(fig, **params)`` computes and draws a
whole figure, so the book's static figure and the explorer's sliders call the
same code.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullLocator

from adamref.optim import validation as check
from adamref.lab.per_parameter_steps import sgd_and_adam_on_the_bowl, spike_step
from adamref.plots.style import axes_or_new, label_color, series, thinning


def plot_step_statistics(means, mean_steps, max_steps, ax=None, *, noise=1.0, title=None):
    """Average and largest ``|Δθ|/α`` against the gradient mean E[g] (noise σ fixed),
    with the prediction ``r = |E[g]|/√(E[g]² + σ²)`` and the line ``|Δθ| = α``."""
    means, mean_steps, max_steps = (np.asarray(a, dtype=float)
                                    for a in (means, mean_steps, max_steps))
    if not (means.ndim == 1 and means.shape == mean_steps.shape == max_steps.shape):
        raise ValueError(f"means, mean_steps and max_steps must be 1-D arrays of one length, "
                         f"got shapes {means.shape}, {mean_steps.shape}, {max_steps.shape}")
    noise = check.hyperparameter("noise", noise, low=0.0)
    ax = axes_or_new(ax)
    grid = np.linspace(0, means.max(), 200)
    ax.plot(grid, grid / np.sqrt(grid**2 + noise**2), "k--", lw=1,
            label=r"$r = |\mathbb{E}[g]|/\sqrt{\mathbb{E}[g]^2+\sigma^2}$")
    ax.plot(means, mean_steps, "o-", color="tab:red", label=r"mean $|\Delta\theta|/\alpha$")
    ax.plot(means, max_steps, "^-", color="tab:purple", label=r"max $|\Delta\theta|/\alpha$")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set(xlabel=r"gradient mean $\mathbb{E}[g]$ (noise $\sigma = %g$)" % noise,
           ylabel=r"step size $|\Delta\theta| / \alpha$",
           title=title or "Dense noisy gradients")
    ax.legend(loc="lower right")
    return ax


def plot_spike_steps(t, measured, ax=None, *, beta1=0.9, beta2=0.999, title=None):
    """Measured ``|Δθ|/α`` of a spike after ``t − 1`` zero gradients, the closed form
    ``spike_step`` and its limit ``(1 − β1)/√(1 − β2)``."""
    t = np.asarray(t)
    measured = np.asarray(measured, dtype=float)
    if t.shape != measured.shape or t.ndim != 1:
        raise ValueError(f"t and measured must be 1-D arrays of one length, "
                         f"got shapes {t.shape} and {measured.shape}")
    ax = axes_or_new(ax)
    grid = np.unique(np.geomspace(1, max(int(t.max()), 2), 300).astype(int))
    ax.semilogx(grid, spike_step(grid, beta1, beta2), "k--", lw=1, label="closed form")
    ax.semilogx(t, measured, "o", color="tab:red", label="measured (adamref.Adam)")
    limit = (1 - beta1) / np.sqrt(1 - beta2)
    ax.axhline(limit, color="0.5", lw=0.8,
               label=rf"limit $(1-\beta_1)/\sqrt{{1-\beta_2}}$ = {limit:.2f}")
    ax.axhline(1.0, color="0.7", lw=0.8, ls=":")
    ax.set(xlabel="step $t$ of the spike (after $t-1$ zero gradients)",
           ylabel=r"step size $|\Delta\theta| / \alpha$", title=title or "A spike after silence")
    ax.legend(loc="lower right")
    return ax


def plot_step_supremum(t, measured, supremum, spike, ax=None, *, limit, heuristic, title=None):
    """The largest possible step ``S_t`` (line), the steps ``adamref.Adam`` takes on
    the extremal gradients (dots, about 14 evenly on the log axis), the spike after
    silence (dashed), the limit ``S_∞`` and the heuristic figure (grey lines):
    all computed by the lab, drawn here."""
    t, measured, supremum, spike = (np.asarray(x, dtype=float) for x in (t, measured, supremum, spike))
    if not (t.ndim == 1 and t.shape == measured.shape == supremum.shape == spike.shape):
        raise ValueError(f"t, measured, supremum and spike must be 1-D arrays of one length, "
                         f"got shapes {t.shape}, {measured.shape}, {supremum.shape}, {spike.shape}")
    ax = axes_or_new(ax)
    ax.semilogx(t, supremum, "k-", lw=1.2, label=r"$S_t$ (theorem)")
    shown = np.unique(np.geomspace(1, t.size, 14).astype(int)) - 1   # evenly on the log axis
    ax.semilogx(t[shown], measured[shown], "o", color="tab:red",
                label=r"measured, $g_i \propto (\beta_2/\beta_1)^i$")
    ax.semilogx(t, spike, "k--", lw=1, label="spike after silence")
    ax.axhline(limit, color="0.4", lw=0.8, label=rf"$S_\infty$ = {limit:.2f}")
    ax.axhline(heuristic, color="0.6", lw=0.8, ls="-.",
               label=rf"$(1-\beta_1)/\sqrt{{1-\beta_2}}$ = {heuristic:.2f}")
    ax.set(xlabel="step $t$", ylabel=r"step size $|\Delta\theta_t| / \alpha$",
           title=title or "The largest possible step")
    ax.legend(loc="center left", fontsize="small")
    return ax


def plot_per_coordinate_progress(curvatures, path, ax=None, *, minimum=None, title=None,
                                 floor=1e-12):
    """``|θ_i(t) − θ*_i|`` against ``t`` for every coordinate of a diagonal
    quadratic, coloured by its curvature ``c_i``.  ``path`` has shape
    ``(T + 1, dim)``; values are clipped below at ``floor`` for the log scale.
    A long path is drawn at every k-th step (at most ``style.MAX_POINTS`` points per
    line, the last step always included)."""
    curvatures = np.asarray(curvatures, dtype=float)
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != curvatures.size:
        raise ValueError(f"path must have shape (T + 1, {curvatures.size}), got {path.shape}")
    minimum = np.zeros(curvatures.size) if minimum is None else np.asarray(minimum, dtype=float)
    ax = axes_or_new(ax)
    colors = plt.cm.viridis(np.linspace(0, 0.9, curvatures.size))
    every = thinning(path.shape[0])                              # at most MAX_POINTS
    t = np.unique(np.append(np.arange(0, path.shape[0], every), path.shape[0] - 1))
    distance = np.maximum(np.abs(path[t] - minimum), floor)
    for i, c in enumerate(curvatures):
        ax.semilogy(t, distance[:, i], color=colors[i], label=f"c = {c:.0e}")
    ax.set(xlabel="step $t$", ylabel=r"$|\theta_i - \theta^*_i|$", ylim=(floor / 3, 3),
           title=title or "Per-coordinate progress")
    return ax


def draw_per_coordinate_progress(fig, lr=0.01, eps=1e-8, beta1=0.9, beta2=0.999, steps=400):
    """SGD (largest stable step, 10% margin) and Adam on the 7-coordinate quadratic
    with curvatures 1e-3..1e3, from θ = 1: one panel each.  Returns the axes."""
    bowl, sgd_lr, paths = sgd_and_adam_on_the_bowl(lr, eps, beta1, beta2, steps)
    ax_sgd, ax_adam = fig.subplots(1, 2, sharey=True)
    plot_per_coordinate_progress(bowl.curvatures, paths["SGD"], ax_sgd,
                                 title=rf"SGD, $\alpha$ = {sgd_lr:.1e}")
    plot_per_coordinate_progress(bowl.curvatures, paths["Adam"], ax_adam,
                                 title=rf"Adam, $\alpha$ = {lr:.1e}, $\epsilon$ = {eps:.0e}")
    ax_adam.set_ylabel("")
    ax_adam.legend(title="curvature", loc="lower left", fontsize="small")
    ax_sgd.yaxis.set_minor_locator(NullLocator())   # shared y: thirteen decades of minor
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.92, wspace=0.05)
    return ax_sgd, ax_adam


def plot_step_vs_scale(scales, curves, ax=None, *, title=None, styles=None):
    """``|Δθ|/α`` against the gradient scale on log–log axes, one line per label."""
    scales = np.asarray(scales, dtype=float)
    curves = series("curves", curves)
    ax = axes_or_new(ax)
    styles = styles or {}
    for i, (label, values) in enumerate(curves.items()):
        if values.shape != scales.shape:
            raise ValueError(f"curves[{label!r}] has shape {values.shape}, "
                             f"scales has shape {scales.shape}")
        ax.loglog(scales, values, styles.get(label, "-"), color=label_color(label, i),
                  label=label)
    ax.set(xlabel="gradient scale $|g|$", ylabel=r"step size $|\Delta\theta| / \alpha$",
           title=title or "Step size against gradient scale")
    ax.legend(loc="lower right", fontsize="small")
    return ax


