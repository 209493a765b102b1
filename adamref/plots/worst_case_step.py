"""Figures of the chapter *The worst case of Adam's step*: the supremum of
|m̂/√v̂| and the sequence that attains it, heavy-tailed noise, and the loss
spike.  They draw results of ``adamref.lab.worst_case_step``."""

from __future__ import annotations

import numpy as np

from adamref.plots.style import axes_or_new, checked_mapping, label_color


def plot_supremum(attained: dict, random: dict | None = None, ax=None, *, title=None):
    """The theorem's S_t (line), ``adamref.Adam`` on the extremal sequence
    (dots) and, if given, the largest step over random sequences of each kind."""
    checked_mapping("attained", attained)
    ax = axes_or_new(ax)
    t = attained["t"]
    ax.plot(t, attained["supremum"], color="k", label=r"theorem $S_t$")
    every = max(1, len(t) // 40)
    ax.plot(t[::every], attained["measured"][::every], "o", color="tab:red", markersize=4,
            label=r"Adam on $g_i \propto (\beta_2/\beta_1)^i$")
    if np.isfinite(attained["limit"]):
        ax.axhline(attained["limit"], color="k", linestyle=":", linewidth=1,
                   label=rf"$S_\infty$ = {attained['limit']:.2f}")
    for i, (kind, values) in enumerate((random or {}).items()):
        if kind not in ("t", "supremum"):
            ax.plot(random["t"], values, color=f"C{i}", linewidth=1,
                    label=f"largest over random {kind} sequences")
    ax.set(xscale="log", xlabel="step $t$", ylabel=r"$|\Delta\theta_t|/\alpha$",
           title=title or r"The largest step Adam can take ($\epsilon$ = 0)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_heavy_tail(result, ax=None, *, title=None):
    """Each method's score (excess loss over the last quarter, mean over seeds)
    against the learning rate; good values (``tuned``) filled, the best a star."""
    if not hasattr(result, "scores"):
        raise TypeError(f"result must be a HeavyTail, got {type(result).__name__}")
    ax = axes_or_new(ax)
    for i, method in enumerate(result.loss):
        scores = np.where(np.isfinite(result.scores(method)), result.scores(method), np.nan)
        tuned = result.tuned(method)
        color = label_color(method, i)
        ax.plot(result.lrs, scores, "-", color=color, label=method)
        ax.plot(result.lrs[tuned.good], scores[tuned.good], "o", color=color)
        ax.plot(result.lrs[tuned.best_index], scores[tuned.best_index], "*", color=color,
                markersize=12)
    ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\alpha$",
           ylabel="excess loss, last quarter (mean over seeds)",
           title=title or rf"Student-t gradient noise, $\nu$ = {result.nu:g}")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_spike(spike, ax=None, *, seed_index=0, title=None):
    """The excess loss against the step for each (β2, jump) setting of
    ``loss_spike`` (one seed), with the jump marked."""
    if not hasattr(spike, "peaks"):
        raise TypeError(f"spike must be a Spike, got {type(spike).__name__}")
    ax = axes_or_new(ax)
    t = np.arange(spike.loss.shape[0])
    for i, (beta2, jump) in enumerate(spike.settings):
        ax.plot(t, spike.loss[:, i, seed_index], color=f"C{i}", linewidth=0.8,
                label=rf"$\beta_2$ = {beta2:g}, gradient scale ×{jump:g}")
    ax.axvline(spike.quiet_steps, color="k", linestyle=":", linewidth=1)
    ax.set(yscale="log", xlabel="step $t$", ylabel="excess loss",
           title=title or "A change of gradient scale after a quiet phase")
    ax.legend(loc="upper right", fontsize="small")
    return ax
