"""Figures of the noisy-gradients chapter (imports matplotlib; computes with
``adamref.lab.noisy_gradients``, ``adamref.problems.datasets``).  Each function draws on the axes or
figure it is given."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullLocator

from adamref.lab import noisy_gradients as nz
from adamref.plots.style import COLORS, axes_or_new, label_color, series


def plot_lr_sensitivity(lrs, summaries, ax=None, *, title="Final loss against learning rate"):
    """Median final excess loss against α (log–log), with the 10–90 % band over
    seeds; ``summaries[name] = (median, low, high)``, each of length ``len(lrs)``.
    Diverged configurations (inf) are left out of the line."""
    ax = axes_or_new(ax)
    lrs = np.asarray(lrs, dtype=float)
    series("summaries", {k: np.asarray(v) for k, v in summaries.items()}, lrs.size)
    for name, (median, low, high) in summaries.items():
        color = COLORS.get(name)
        ok = np.isfinite(median)
        ax.plot(lrs[ok], median[ok], ".-", color=color, label=name)
        band = ok & np.isfinite(high)
        ax.fill_between(lrs[band], low[band], high[band], color=color, alpha=0.2, linewidth=0)
    ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\alpha$",
           ylabel=r"final $f(\theta_T) - f(\theta^*)$", title=title)
    ax.legend(loc="best")
    return ax


def plot_best_vs_noise(levels, best, ax=None, *, xlabel="noise level", title=None,
                       xscale="log"):
    """Each optimizer's final excess loss at its own best α against the noise level;
    ``best[name] = (median, low, high)`` over the levels (error bars: 10–90 %)."""
    ax = axes_or_new(ax)
    levels = np.asarray(levels, dtype=float)
    series("best", {k: np.asarray(v) for k, v in best.items()}, levels.size)
    offsets = np.linspace(-0.06, 0.06, len(best))
    for offset, (name, (median, low, high)) in zip(offsets, best.items()):
        x = levels * 10**offset if xscale == "log" else levels + offset
        ax.errorbar(x, median, yerr=[median - low, high - median], fmt="o-", capsize=3,
                    color=COLORS.get(name), label=name, markersize=4)
    ax.set(xscale=xscale, yscale="log", xlabel=xlabel,
           ylabel=r"final $f(\theta_T) - f(\theta^*)$ at the best $\alpha$",
           title=title or "Each optimizer at its best learning rate")
    ax.legend(loc="best")
    return ax


def plot_basin_fractions(lrs, fractions, ax=None, *, baseline=None,
                         title="Runs that end in the global minimum's basin"):
    """Fraction of starts ending in the global basin against α, one line per
    optimizer; ``baseline``: the fraction that *started* there (dotted line).  A
    variant of an optimizer (a label with a parenthesis, "RMSprop (bias-corrected)")
    takes its colour, dashed."""
    ax = axes_or_new(ax)
    lrs = np.asarray(lrs, dtype=float)
    series("fractions", {k: np.asarray(v) for k, v in fractions.items()}, lrs.size)
    for i, (name, frac) in enumerate(fractions.items()):
        ax.plot(lrs, frac, "o--" if " (" in name else "o-", color=label_color(name, i),
                label=name, markersize=4)
    if baseline is not None:
        ax.axhline(baseline, color="k", linestyle=":", label="started there")
    ax.set(xscale="log", ylim=(-0.03, 1.03), xlabel=r"learning rate $\alpha$",
           ylabel="fraction of starts", title=title)
    ax.legend(loc="upper left")
    return ax


def draw_noise(fig, noise=1.0, lr=1e-2, *, steps=500, seeds=8):
    """Explorer figure: excess loss against the step for SGD, momentum, RMSprop
    and Adam at a common α and additive gradient noise σ (median over seeds and
    10–90 % band, left), and each seed's final value (right)."""
    t, histories = nz.noise_runs(noise, lr, steps=steps, seeds=seeds)
    ax_curve, ax_final = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    for i, (name, history) in enumerate(histories.items()):
        median, low, high = nz.summarize(history, axis=1)
        color = COLORS.get(name)
        ok = np.isfinite(median)
        ax_curve.plot(t[ok], median[ok], color=color, label=name)
        band = ok & np.isfinite(high)
        ax_curve.fill_between(t[band], low[band], high[band], color=color, alpha=0.2,
                              linewidth=0)
        final = history[-1]
        shown = np.where(np.isfinite(final), final, np.nan)
        ax_final.plot(np.full(final.shape, i), shown, "o", color=color, alpha=0.6)
    ax_curve.set(yscale="log", xlabel="step $t$", ylabel=r"$f(\theta_t) - f(\theta^*)$",
                 title=fr"Common $\alpha$ = {lr:.1e}, noise $\sigma$ = {noise:g}")
    ax_curve.legend(loc="upper right")
    ax_final.set(yscale="log", xticks=range(len(histories)), xticklabels=list(histories),
                 ylabel="final excess loss", title=f"Step {t[-1]}, {seeds} seeds")
    for ax in (ax_curve, ax_final):
        ax.yaxis.set_minor_locator(NullLocator())
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.91, wspace=0.25)
    return ax_curve, ax_final
