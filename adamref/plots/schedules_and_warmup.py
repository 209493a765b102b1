"""Figures of the chapter *Schedules and warmup*: the schedules, RAdam's
variance argument (Monte Carlo against the formula), RAdam's r_t against the
untuned warmup rule, and the warmup sweep on the digits.  They draw results of
``adamref.lab.schedules_and_warmup``."""

from __future__ import annotations

import numpy as np

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
    """RAdam's r_t (from its first adaptive step) and the untuned linear and
    exponential warmups, against the step."""
    checked_mapping("factors", factors)
    ax = axes_or_new(ax)
    t = factors["t"]
    ax.plot(t, factors["radam"], color="tab:purple", label=r"RAdam's $r_t$ ($\rho_t > 5$)")
    ax.plot(t, factors["linear"], color="tab:green", label=r"linear, $\min(1, t(1-\beta_2)/2)$")
    ax.plot(t, factors["exponential"], "--", color="tab:olive",
            label=r"exponential, $1 - e^{-(1-\beta_2)t}$")
    ax.set(xlabel="step $t$", ylabel="multiplier of the adaptive step",
           title=title or "RAdam's rectification and untuned warmup")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_warmup_sweep(sweep, ax=None, *, title=None):
    """Final validation error (mean over seeds; bars: lowest and highest seed)
    against the learning rate, per method of ``warmup_sweep``."""
    if not hasattr(sweep, "val_error"):
        raise TypeError(f"sweep must be a WarmupSweep, got {type(sweep).__name__}")
    ax = axes_or_new(ax)
    for i, (method, errors) in enumerate(sweep.val_error.items()):
        final = errors[-1]
        mean = final.mean(axis=-1)
        shift = 1.0 + 0.06 * (i - 1)                    # side by side on the log axis
        ax.errorbar(sweep.lrs * shift, mean, yerr=[mean - final.min(axis=-1),
                                                   final.max(axis=-1) - mean],
                    fmt="o-", capsize=3, color=label_color(method, i), label=method)
    ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\alpha$",
           ylabel="final validation error",
           title=title or rf"Warmup on the digits ($\beta_2$ = {sweep.beta2:g})")
    ax.legend(loc="upper center", fontsize="small")
    return ax
