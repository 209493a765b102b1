"""Figures of the non-convergence chapter, and the ``draw_online(fig,
**params)`` function its explorer calls."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import LogLocator

from adamref.lab import non_convergence as online
from adamref.plots.style import axes_or_new, label_color, series


def plot_iterates(paths: dict, ax=None, *, title=None, optimum=-1.0):
    """``θ_t`` against ``t`` (log time axis), one line per label."""
    paths = series("paths", paths)
    ax = axes_or_new(ax)
    for i, (label, x) in enumerate(paths.items()):
        ax.plot(np.arange(1, x.size + 1), x, color=label_color(label, i), label=label, linewidth=1)
    ax.axhline(optimum, color="k", linestyle=":", label=f"optimum x = {optimum:g}")
    ax.set_xscale("log")
    ax.set(xlabel="step $t$", ylabel=r"$\theta_t$", ylim=(-1.1, 1.1), title=title or "Iterates")
    ax.legend(loc="center left")
    return ax


def plot_average_regret(regrets: dict, ax=None, *, title=None):
    """``R_t/t`` against ``t`` on log-log axes, one line per label."""
    regrets = series("regrets", regrets)
    ax = axes_or_new(ax)
    for i, (label, r) in enumerate(regrets.items()):
        t = np.arange(1, r.size + 1)
        ax.loglog(t, np.maximum(r, 1e-6), color=label_color(label, i), label=label)
    ax.set(xlabel="step $t$", ylabel="average regret $R_t/t$",
           title=title or "Average regret")
    ax.legend(loc="lower left")
    return ax


def draw_online(fig, C=3.0, lr=0.1, steps=3000, beta1=0.0):
    """Explorer figure for Reddi et al.'s Theorem 1 problem with constant ``C``
    (β2 = 1/(1 + C²), η_t·α = α/√t, β1 = 0 as in the theorem unless ``beta1``
    says otherwise): Adam and AMSGrad iterates and average regret (best at
    about 11 × 4.2 inches).  Returns the ``OnlineRun``."""
    beta2, run, regret = online.theorem_1_runs(C, lr, steps, beta1)
    # fixed margins: a layout engine would measure every label again on each redraw
    ax_x, ax_r = fig.subplots(1, 2, gridspec_kw=dict(left=0.07, right=0.985, bottom=0.13,
                                                     top=0.91, wspace=0.22))
    plot_iterates({"Adam": run.theta[1:, 0], "AMSGrad": run.theta[1:, 1]}, ax_x,
                  title=f"Iterates (C = {C:g}, β1 = {beta1:g}, β2 = {beta2:.3g}, α = {lr:.2g})")
    plot_average_regret({"Adam": regret[:, 0], "AMSGrad": regret[:, 1]}, ax_r,
                        title="Average regret $R_t/t$")
    for ax in (ax_x, ax_r):
        ax.set_title(ax.get_title(), y=1.0)     # a fixed place: no search for free room
        # minor ticks at 2 and 5 times the powers of ten only: each tick is
        # several artists to make and draw
        ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    ax_r.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    return run


def plot_effective_steps(steps: dict, ax=None, *, title=None):
    """Effective step ``η_t·α/(√v̂_t + ε)`` against ``t`` (log y)."""
    steps = series("steps", steps)
    ax = axes_or_new(ax)
    for i, (label, s) in enumerate(steps.items()):
        ax.semilogy(np.arange(1, s.size + 1), s, color=label_color(label, i), label=label,
                    linewidth=1)
    ax.set(xlabel="step $t$", ylabel=r"$\eta_t\alpha/(\sqrt{\hat v_t}+\epsilon)$",
           title=title or "Effective step size")
    ax.legend(loc="best")
    return ax


__all__ = ["plot_test_errors", "plot_weights", "plot_train_test", "draw_overfitting",
           "plot_iterates", "plot_average_regret", "draw_online", "plot_effective_steps"]
