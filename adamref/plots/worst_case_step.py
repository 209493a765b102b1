"""Figures of the chapter *The worst case of Adam's step*: the supremum of
|m̂/√v̂| and the sequence that attains it, one outlier's kick, heavy-tailed
noise, and the loss spike (with the explorer's ``draw_spike``).  They draw
results of ``adamref.lab.worst_case_step``."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullLocator

from adamref.lab.worst_case_step import spike_traces
from adamref.plots.style import axes_or_new, checked_mapping, label_color

#: Line styles of the Adam variants (β2 in the label), one colour for Adam.
_VARIANT_STYLES = ("-", "--", ":", "-.")


def _style(method: str, i: int, seen: dict) -> dict:
    """Colour by optimizer (``label_color``), a new line style per variant of one."""
    base = method.split(" (")[0]
    k = seen[base] = seen.get(base, -1) + 1
    return {"color": label_color(method, i), "linestyle": _VARIANT_STYLES[k % 4]}


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
    kinds = [kind for kind in (random or {}) if kind not in ("t", "supremum")]
    for kind, color in zip(kinds, ("tab:orange", "tab:green", "tab:purple", "tab:brown")):
        ax.plot(random["t"], random[kind], color=color, linewidth=1,
                label=f"largest over random {kind} sequences")
    ax.set(xscale="log", xlabel="step $t$", ylabel=r"$|\Delta\theta_t|/\alpha$",
           title=title or r"The largest step Adam can take ($\epsilon$ = 0)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_outlier_kick(response, ax=None, *, title=None):
    """How far one outlier G moves the coordinate it hits (``outlier_response``),
    against G, per method, with each method's limit as G → ∞ (thin lines)."""
    if not hasattr(response, "kick"):
        raise TypeError(f"response must be an OutlierResponse, got {type(response).__name__}")
    ax = axes_or_new(ax)
    seen = {}
    for i, (method, kick) in enumerate(response.kick.items()):
        style = _style(method, i, seen)
        ax.plot(response.sizes, kick, marker="o", markersize=4, label=method, **style)
        if np.isfinite(response.limit[method]):
            ax.axhline(response.limit[method], color=style["color"], linewidth=0.7,
                       linestyle=style["linestyle"], alpha=0.6)
    ax.set(xscale="log", yscale="log", xlabel=r"outlier $G$ (noise $\sigma$ = 1)",
           ylabel=r"distance moved because of it / $\alpha$",
           title=title or f"The kick of one outlier (over {response.window} steps)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_heavy_tail(result, ax=None, *, methods=None, title=None):
    """Each method's score (excess loss over the last quarter, mean over seeds)
    against the learning rate; good values (``tuned``) filled, the best a star.
    ``methods``: the ones to draw (default: all of ``result``)."""
    if not hasattr(result, "scores"):
        raise TypeError(f"result must be a HeavyTail, got {type(result).__name__}")
    ax = axes_or_new(ax)
    seen = {}
    for i, method in enumerate(methods or result.loss):
        scores = np.where(np.isfinite(result.scores(method)), result.scores(method), np.nan)
        tuned = result.tuned(method)
        style = _style(method, i, seen)
        color = style["color"]
        ax.plot(result.lrs, scores, label=method, **style)
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


def draw_spike(fig, beta2=0.999, jump=10.0):
    """The explorer: on ``fig`` (about 11 × 4.2 inches), ``spike_traces`` at
    (``beta2``, ``jump``) against the control (no jump): the excess loss (left)
    and the largest step per bin with the theorem's bound S_∞ (right)."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    curves = spike_traces(beta2, jump)
    left, right = fig.subplots(1, 2)
    for ax, key, ylabel in ((left, "loss", "excess loss"),
                            (right, "step", r"largest $|\Delta\theta|/\alpha$ per bin")):
        ax.plot(curves["t"], curves[f"{key}_control"], color="0.55", linewidth=0.8,
                label="no jump (control)")
        ax.plot(curves["t"], curves[f"{key}_jump"], color="tab:red", linewidth=0.8,
                label=f"gradient scale ×{jump:g} at step {curves['quiet_steps']}")
        ax.axvline(curves["quiet_steps"], color="k", linestyle=":", linewidth=1)
        ax.set(xlabel="step $t$", ylabel=ylabel)
    left.set(yscale="log", title=rf"Loss, $\beta_2$ = {beta2:g}")
    left.yaxis.set_minor_locator(NullLocator())                 # fewer ticks: a faster redraw
    right.axhline(curves["bound"], color="k", linewidth=1,
                  label=rf"theorem: $S_\infty$ = {curves['bound']:.3g}")
    right.set(ylim=(0, 1.35 * curves["bound"]), title=r"Largest step ($\beta_1$ = 0.9)")
    left.legend(loc="upper right", fontsize="small")
    right.legend(loc="upper right", fontsize="small", ncol=2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.91, wspace=0.22)
    return left, right
