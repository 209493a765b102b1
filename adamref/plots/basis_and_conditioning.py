"""Figures of the basis-and-conditioning chapter: the contraction per step
against the step size (theory lines, measured points), the tuned steps per
method across rotation angles, the cost of a rotation per method
(rotated/axis-aligned steps), and one method's tuning curves with every good
value marked.  Each function draws results of ``adamref.lab.basis_and_conditioning``
on an ``ax`` it is given (or a new one) and returns it; the theory lines are
the lab's closed forms.  Imports matplotlib (a plotting module)."""

from __future__ import annotations

import numpy as np

from adamref.lab.basis_and_conditioning import (BasisExperiment, MethodResult, RateCheck,
                                                bowl_runs, gd_rate, heavy_ball_rate,
                                                log_spaced_curvatures, optimal_gd,
                                                optimal_heavy_ball)
from adamref.plots.style import COLORS, axes_or_new, checked_mapping

#: One colour per method of the chapter (the book's colours where it has one).
METHOD_COLORS = {"GD": COLORS["GD"], "heavy ball": COLORS["Momentum"], "Adam": COLORS["Adam"],
                 "sign descent": "tab:cyan", "sign descent, decaying": "tab:pink",
                 "full-matrix AdaGrad": COLORS["AdaGrad"], "Newton": "black"}


def method_color(name, index=0) -> str:
    return METHOD_COLORS.get(name, f"C{index}")


def _checked(name, value, kind):
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__} (adamref.lab.basis_and_conditioning), "
                        f"got {type(value).__name__}")
    return value


def plot_rates(rates, method="GD", ax=None, *, title=None):
    """``1 − ρ`` (the error's shrinkage per step, ρ the contraction) against ``α/α*`` for every κ of
    ``rates`` (a ``RateCheck``): the theory (``gd_rate``, or ``heavy_ball_rate``
    at the optimal μ) as lines, the measured contraction as circles, and for
    heavy ball the rate fitted with its ``t`` prefactor at the optimum as a star."""
    _checked("rates", rates, RateCheck)
    if method not in ("GD", "heavy ball"):
        raise ValueError(f"method must be 'GD' or 'heavy ball', got {method!r}")
    ax = axes_or_new(ax)
    scale = np.linspace(rates.lr_scale.min(), rates.lr_scale.max(), 400)
    theory_of = {"GD": lambda c: gd_rate(c, optimal_gd(c)[0] * scale),
                 "heavy ball": lambda c: heavy_ball_rate(c, optimal_heavy_ball(c)[0] * scale,
                                                         optimal_heavy_ball(c)[1])}[method]
    measured = rates.gd_measured if method == "GD" else rates.hb_measured
    for i, kappa in enumerate(rates.kappas):
        color = f"C{i}"
        theory = theory_of(log_spaced_curvatures(kappa, rates.dim))
        ax.semilogy(scale, np.clip(1 - theory, 1e-12, None), "-", color=color, lw=1,
                    label=f"κ = {kappa:g}: theory")
        ax.semilogy(rates.lr_scale, 1 - measured[i], "o", color=color, markersize=5,
                    markerfacecolor="none", label=f"κ = {kappa:g}: measured")
        if method == "heavy ball":
            ax.semilogy([1.0], [1 - rates.hb_fitted[i]], "*", color=color, markersize=11,
                        label="_fit" if i else "fitted with the $t$ prefactor")
    ax.axvline(1.0, color="0.6", lw=0.8, ls=":")
    ax.set(xlabel=r"step size $\alpha / \alpha^*$",
           ylabel=r"$1 - \rho$ (error shrinkage per step)",
           title=title or f"{method}: contraction per step")
    ax.legend(loc="best", fontsize="small", ncol=2)
    return ax


def _unreached_marker(ax, x, cap, color):
    ax.plot(x, cap, marker="^", linestyle="none", color=color, markersize=8,
            markerfacecolor="none")


def plot_steps_by_problem(experiment, ax=None, *, methods=None, title=None, legend=True):
    """The tuned steps (every start at ``f − f* ≤ tol``) of each method on each
    problem of ``experiment`` (a ``BasisExperiment``; problems along x, labelled),
    on a log scale; a method that did not reach the tolerance within the cap is
    an open triangle on the cap line.  Dashed: GD's bound and heavy ball's
    estimate (``predicted_steps``); dotted squares: heavy ball at the
    theoretical α and μ, untuned."""
    _checked("experiment", experiment, BasisExperiment)
    names = list(experiment.methods) if methods is None else list(methods)
    unknown = [n for n in names if n not in experiment.methods]
    if unknown or not names:
        raise ValueError(f"methods must be names from {list(experiment.methods)}, got {methods!r}")
    ax = axes_or_new(ax)
    x = np.arange(len(experiment.labels))
    cap = experiment.cap
    for i, name in enumerate(names):
        steps, color = experiment.steps(name), method_color(name, i)
        reached = np.isfinite(steps)
        ax.semilogy(x[reached], steps[reached], "o-", color=color, label=name)
        if (~reached).any():
            _unreached_marker(ax, x[~reached], np.full((~reached).sum(), cap), color)
    ax.semilogy(x, np.minimum(experiment.gd_bound, 10 * cap), "--", color=COLORS["GD"], lw=1,
                label="GD bound (optimal α)")
    ax.semilogy(x, experiment.hb_estimate, "--", color=COLORS["Momentum"], lw=1,
                label="heavy ball estimate (√κ rate)")
    theory = experiment.hb_theory_steps
    ax.semilogy(x[np.isfinite(theory)], theory[np.isfinite(theory)], "s:",
                color=COLORS["Momentum"], markerfacecolor="none",
                label="heavy ball at theory α, μ")
    ax.axhline(cap, color="0.5", lw=0.8, ls="-.", label=f"cap ({cap} steps): ▵ did not reach")
    ax.set_xticks(x, experiment.labels)
    ax.set(xlabel="problem", ylabel=f"steps to $f - f^* \\leq$ {experiment.tol:g}",
           title=title or "Tuned steps per method")
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    return ax


def plot_rotation_cost(experiments, ax=None, *, methods=None, rotated=1, title=None):
    """``steps(rotated)/steps(axis-aligned)`` per method for every experiment of
    ``experiments`` (``{label: BasisExperiment}``, problem 0 axis-aligned and
    problem ``rotated`` rotated), on a log scale: 1 means the basis does not
    matter.  A method that reached the tolerance axis-aligned but not rotated
    is an open triangle at ``cap/steps(axis-aligned)``, a lower bound of its
    ratio; one that reached it in neither basis is left out.  ``rotated`` is one
    problem index for all, or ``{label: index}``."""
    checked_mapping("experiments", experiments)
    for label, experiment in experiments.items():
        _checked(f"experiments[{label!r}]", experiment, BasisExperiment)
    names = (list(dict.fromkeys(n for e in experiments.values() for n in e.methods))
             if methods is None else list(methods))
    ax = axes_or_new(ax)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        color, offset = method_color(name, i), (i - (len(names) - 1) / 2) * width
        shown = False
        for j, (label, e) in enumerate(experiments.items()):
            if name not in e.methods or not np.isfinite(e.steps(name)[0]):
                continue
            index = rotated[label] if isinstance(rotated, dict) else rotated
            axis_steps, rotated_steps = e.steps(name)[0], e.steps(name)[index]
            if np.isfinite(rotated_steps):
                ax.plot(j + offset, rotated_steps / axis_steps, "o", color=color,
                        label="_" if shown else name)
            else:
                ax.plot(j + offset, e.cap / axis_steps, "^", color=color, markersize=8,
                        markerfacecolor="none", label="_" if shown else name)
            shown = True
    ax.set_yscale("log")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xticks(np.arange(len(experiments)), list(experiments))
    ax.set(xlabel="problem", ylabel="steps rotated / steps axis-aligned",
           title=title or "What a rotation costs each method (▵: rotated did not reach)")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_tuning(result, labels, ax=None, *, title=None):
    """Steps against the learning rate of ``result`` (a ``MethodResult``), one line
    per problem (``labels``), at the tuned value of a second hyperparameter;
    every good value (``tuned(p).good``) ringed, runs that did not reach the
    tolerance as open triangles on the cap line."""
    _checked("result", result, MethodResult)
    if len(labels) != result.steps.shape[0]:
        raise ValueError(f"labels must name the {result.steps.shape[0]} problems, got {labels!r}")
    ax = axes_or_new(ax)
    lrs = result.axes["lr"]
    for p, label in enumerate(labels):
        if not result.reached(p):
            continue
        tuned, color = result.tuned(p), f"C{p}"
        reached = np.isfinite(tuned.scores)
        ax.loglog(lrs[reached], tuned.scores[reached], "o-", color=color, markersize=3,
                  label=label)
        ax.plot(lrs[tuned.good], tuned.scores[tuned.good], "o", markersize=9,
                markerfacecolor="none", markeredgecolor=color)
        if (~reached).any():
            _unreached_marker(ax, lrs[~reached], np.full((~reached).sum(), result.cap), color)
    ax.axhline(result.cap, color="0.5", lw=0.8, ls="-.")
    ax.set(xlabel=r"learning rate $\alpha$", ylabel=f"steps to $f - f^* \\leq$ {result.tol:g}",
           title=title or f"Tuning {result.name} (ringed: good values)")
    ax.legend(loc="best", fontsize="small")
    return ax


def draw_bowl(fig, angle=20.0, condition_number=100.0, adam_lr=0.2, *, steps=500):
    """The explorer: GD and heavy ball at the theory's step sizes, Adam at
    ``adam_lr`` and Newton on the 2-D bowl with curvatures 1 and
    ``condition_number`` turned by ``angle`` degrees (``lab.bowl_runs``): the
    paths over the contour lines (left), ``f − f*`` per step (right)."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    runs = bowl_runs(angle, condition_number, adam_lr, steps=steps)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.35]})
    x, y, values = runs.grid
    left.contour(x, y, values, levels=np.geomspace(1e-3, values.max(), 9), colors="0.75",
                 linewidths=0.7)
    for axis in runs.rotation.T:                               # the bowl's eigenvectors
        left.plot(*np.outer([-1.1, 1.1], axis).T, color="0.6", lw=0.6, ls=":")
    for i, (name, path) in enumerate(runs.paths.items()):
        left.plot(path[:, 0], path[:, 1], "-", color=method_color(name, i), lw=1,
                  marker="." if name == "Newton" else None)
        steps_text = "—" if not np.isfinite(runs.steps[name]) else f"{runs.steps[name]:.0f}"
        losses = np.where(runs.losses[name] > 0, runs.losses[name], np.nan)
        right.semilogy(np.arange(losses.size), losses, color=method_color(name, i), lw=1.2,
                       label=f"{name}: {steps_text} steps")
    left.plot(*runs.start, "ko", markersize=4)
    left.set(xlim=(-1.15, 1.15), ylim=(-1.15, 1.15), aspect="equal", xlabel=r"$\theta_1$",
             ylabel=r"$\theta_2$", title=f"κ = {condition_number:g}, turned by φ = {angle:g}°")
    right.axhline(runs.tol, color="0.5", lw=0.8, ls="-.")
    right.set(xlabel="step $t$", ylabel=r"$f(\theta_t) - f^*$", ylim=(1e-12, 1e2),
              title=f"Steps to $f - f^* \\leq$ {runs.tol:g} (— : not in {steps})")
    right.legend(loc="upper right", fontsize="small")
    right.set_yticks(10.0 ** np.arange(-12, 3, 2))
    right.minorticks_off()                                    # (a redraw's slowest part)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
    return left, right


def draw_rates(fig, rates):
    """The theorems against the measurement (a ``RateCheck``): GD (left) and heavy
    ball (right)."""
    left, right = fig.subplots(1, 2)
    plot_rates(rates, "GD", left)
    plot_rates(rates, "heavy ball", right)
    fig.tight_layout()
    return left, right


def draw_angles(fig, experiments, *, methods=None):
    """One panel of ``plot_steps_by_problem`` per experiment of ``experiments``
    (``{title: BasisExperiment}``), the legend beside the last."""
    checked_mapping("experiments", experiments)
    axes = np.atleast_1d(fig.subplots(1, len(experiments), sharey=True))
    for i, (ax, (title, experiment)) in enumerate(zip(axes, experiments.items())):
        plot_steps_by_problem(experiment, ax, methods=methods, title=title,
                              legend=i == len(experiments) - 1)
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    return axes
