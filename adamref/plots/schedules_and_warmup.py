"""Figures of the chapter *Schedules and warmup*: the schedules, RAdam's
variance argument (Monte Carlo against the formula), RAdam's ζ_t against the
untuned warmup rule, and the warmup sweep on the digits.  They draw results of
``adamref.lab.schedules_and_warmup``."""

from __future__ import annotations

import numpy as np

from adamref.lab.schedules_and_warmup import explorer_curves
from adamref.plots.style import axes_or_new, checked_mapping, label_color, series


def plot_schedules(t, table: dict, ax=None, *, title=None):
    """Each schedule of ``schedule_table`` against the step ``t``."""
    t = np.asarray(t)
    table = series("table", table, length=t.shape[-1])
    ax = axes_or_new(ax)
    for i, (name, values) in enumerate(table.items()):
        ax.plot(t, values, color=f"C{i}", label=name)
    ax.set(xlabel="step $t$", ylabel=r"learning rate $\eta_t\,\alpha$",
           title=title or "Learning-rate schedules")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_variance(comparison: dict, ax=None, *, title=None):
    """``Var[ψ_t]`` against t: Monte Carlo (dots), the scaled inverse-χ formula
    with ρ_t degrees of freedom (line) and Liu et al.'s approximation (dashed)."""
    checked_mapping("comparison", comparison)
    ax = axes_or_new(ax)
    t = np.asarray(comparison["t"])
    ax.plot(t, comparison["monte_carlo"], "o", color="k", label="Monte Carlo")
    ax.plot(t, comparison["formula"], "-", color="tab:red", label=r"formula with $\rho_t$")
    approx = np.where(np.isfinite(comparison["approximation"]), comparison["approximation"],
                      np.nan)
    ax.plot(t, approx, "--", color="tab:blue", label="first-order approximation")
    ax.set(xscale="log", yscale="log", xlabel="step $t$",
           ylabel=r"$\mathrm{Var}[\psi_t]$ ($\sigma = 1$)",
           title=title or "Variance of the adaptive factor")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_warmup_factors(factors: dict, ax=None, *, title=None):
    """RAdam's ζ_t (from its first adaptive step) and the untuned linear and
    exponential warmups, against the step."""
    checked_mapping("factors", factors)
    ax = axes_or_new(ax)
    t = factors["t"]
    ax.plot(t, factors["radam"], color="tab:purple", label=r"RAdam's $\zeta_t$ ($\rho_t > 5$)")
    ax.plot(t, factors["linear"], color="tab:green", label=r"linear, $\min(1, t(1-\beta_2)/2)$")
    ax.plot(t, factors["exponential"], "--", color="tab:olive",
            label=r"exponential, $1 - e^{-(1-\beta_2)t}$")
    ax.set(xlabel="step $t$", ylabel="multiplier of the adaptive step",
           title=title or "RAdam's rectification and untuned warmup")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_warmup_sweep(sweep, ax=None, *, step=None, title=None):
    """Validation error at checkpoint ``step`` (default: the end; mean over
    seeds, bars: lowest and highest seed) against the learning rate, per
    method of ``warmup_sweep``."""
    if not hasattr(sweep, "val_error"):
        raise TypeError(f"sweep must be a WarmupSweep, got {type(sweep).__name__}")
    ax = axes_or_new(ax)
    at = sweep.checkpoint(step)
    for i, (method, errors) in enumerate(sweep.val_error.items()):
        final = errors[at]
        mean = final.mean(axis=-1)
        shift = 1.0 + 0.06 * (i - 1)                    # side by side on the log axis
        ax.errorbar(sweep.lrs * shift, mean, yerr=[mean - final.min(axis=-1),
                                                   final.max(axis=-1) - mean],
                    fmt="o-", capsize=3, color=label_color(method, i), label=method)
    ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\alpha$",
           ylabel=f"validation error at step {sweep.steps[at]}",
           title=title or rf"Warmup on the digits ($\beta_2$ = {sweep.beta2:g})")
    ax.legend(loc="upper center", fontsize="small")
    return ax


def draw_schedules_and_warmup(fig, beta2=0.999, warmup_fraction=0.1, total_steps=1000):
    """The explorer: on ``fig`` (about 11 × 4.2 inches), the schedules over a run
    of ``total_steps`` with a warmup of ``warmup_fraction`` of it (left), and
    RAdam's ζ_t against the untuned warmups at ``beta2`` (right); returns the axes."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    curves = explorer_curves(beta2, warmup_fraction, total_steps)
    left, right = fig.subplots(1, 2)
    plot_schedules(curves["t"], curves["schedules"], left,
                   title=f"Schedules: {total_steps} steps, warmup {curves['warmup_steps']}")
    left.set_ylabel(r"multiplier $\eta_t$ ($\alpha$ = 1)")
    plot_warmup_factors(curves["factors"], right,
                        title=rf"RAdam's $\zeta_t$ and untuned warmup, $\beta_2$ = {beta2:g}")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.91, wspace=0.22)
    return left, right
