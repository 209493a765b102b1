"""Figures of the bias-correction chapter (imports matplotlib; computes with
``adamref.lab.bias_correction``).  Each function draws on the axes or figure it is given."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from adamref.lab import bias_correction as bias
from adamref.optim import validation as check
from adamref.plots.style import axes_or_new

_CORRECTION_COLORS = {True: "tab:green", False: "tab:red"}


def plot_second_moment_bias(beta2s, ratio_mean, ratio_sem, ax=None):
    """Measured mean of ``v_t / E[g²]`` (points, ±2 standard errors) against
    ``1 − β2^t`` (dashed), one colour per β2, log-scaled step axis."""
    ax = axes_or_new(ax)
    beta2s = np.atleast_1d(np.asarray(beta2s, dtype=float))
    ratio_mean, ratio_sem = np.atleast_2d(ratio_mean), np.atleast_2d(ratio_sem)
    if ratio_mean.shape != ratio_sem.shape or ratio_mean.shape[0] != beta2s.size:
        raise ValueError("ratio_mean and ratio_sem must have shape (len(beta2s), steps), got "
                         f"{ratio_mean.shape} and {ratio_sem.shape} for {beta2s.size} beta2s")
    t = np.arange(1, ratio_mean.shape[1] + 1)
    for i, b2 in enumerate(beta2s):
        color = f"C{i}"
        ax.fill_between(t, ratio_mean[i] - 2 * ratio_sem[i], ratio_mean[i] + 2 * ratio_sem[i],
                        color=color, alpha=0.25, linewidth=0)
        ax.plot(t, ratio_mean[i], color=color, label=fr"measured, $\beta_2$ = {b2:g}")
        ax.plot(t, 1 - b2**t, "k--", linewidth=0.9)
    ax.plot([], [], "k--", linewidth=0.9, label=r"$1 - \beta_2^t$")
    ax.set(xscale="log", xlabel="step $t$", ylabel=r"mean of $v_t\,/\,E[g^2]$",
           title="Zero initialization biases $v_t$ towards 0")
    ax.legend(loc="upper left")
    return ax


def plot_step_inflation(beta1, beta2s, steps, ax=None):
    """``(1 − β1^t)/√(1 − β2^t)``: the uncorrected step over the corrected one."""
    t = np.arange(1, check.integer("steps", steps, 1) + 1)
    ax = axes_or_new(ax)
    for i, b2 in enumerate(np.atleast_1d(beta2s)):
        ax.plot(t, bias.step_inflation(beta1, b2, t), color=f"C{i}",
                label=fr"$\beta_2$ = {b2:g}")
    ax.axhline(1.0, color="k", linewidth=0.8)
    ax.set(xscale="log", yscale="log", xlabel="step $t$",
           ylabel="uncorrected step / corrected step",
           title=fr"Step inflation without bias correction ($\beta_1$ = {beta1:g})")
    ax.legend(loc="upper right")
    return ax


def plot_adam_grid(fig, lrs, beta2s, beta1s, results, epochs_per_step=0.1):
    """Kingma & Ba's Figure 4 layout: one row per recorded step count, one column
    per β2; loss against log10(α), green with and red without bias correction,
    solid β1 = beta1s[-1], dashed β1 = beta1s[0].

    ``results[flag][t]`` is the ``(len(beta1s), len(beta2s), len(lrs))`` array of
    ``bias.adam_grid(..., bias_correction=flag)``.
    """
    if not (isinstance(results, dict) and set(results) == {True, False}
            and set(results[True]) == set(results[False]) and results[True]):
        raise ValueError("results must map True and False to {step: losses} dicts with the "
                         f"same steps, got {results!r:.80}")
    expected = (len(beta1s), len(beta2s), len(lrs))
    for flag, by_step in results.items():
        for t, losses in by_step.items():
            if np.shape(losses) != expected:
                raise ValueError(f"results[{flag}][{t}] must have shape {expected} "
                                 f"(beta1s, beta2s, lrs), got {np.shape(losses)}")
    records = sorted(results[True])
    axes = fig.subplots(len(records), len(beta2s), sharex=True, squeeze=False)
    styles = {len(beta1s) - 1: "-", 0: "--"}
    log_lr = np.log10(lrs)
    for r, t in enumerate(records):
        for c, b2 in enumerate(beta2s):
            ax = axes[r, c]
            for flag in (True, False):
                for j, b1 in enumerate(beta1s):
                    label = (f"{'with' if flag else 'without'} correction, "
                             fr"$\beta_1$ = {b1:g}")
                    ax.plot(log_lr, results[flag][t][j, c], styles.get(j, ":"), marker=".",
                            color=_CORRECTION_COLORS[flag], label=label)
            ax.set(yscale="log", title=fr"$\beta_2$ = {b2:g}, after {t * epochs_per_step:g} epochs")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            if r == len(records) - 1:
                ax.set_xlabel(r"$\log_{10} \alpha$")
            if c == 0:
                ax.set_ylabel("training loss")
    axes[0, 0].legend(loc="upper left", fontsize="x-small")
    fig.tight_layout()
    return axes


def draw_bias_correction(fig, beta2=0.999, lr=1e-2, bias_correction=True, *, steps=500):
    """Explorer figure: Adam (β1 = 0.9) on the chapter's logistic problem.
    Left, the training loss; right, the mean step ``|Δθ|/α``.  The chosen
    ``bias_correction`` is drawn solid, the other setting faint for comparison.
    The runs come from ``bias.correction_runs`` (every value the explorer offers
    is run once, in one sweep); labels are plain text and the layout fixed, so a
    redraw is quick."""
    runs = bias.correction_runs(beta2, lr, steps=steps)
    ax_loss, ax_step = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
    for flag in (not bias_correction, bias_correction):
        losses, step_ratio = runs[flag]
        style = {"color": _CORRECTION_COLORS[flag],
                 "alpha": 1.0 if flag == bias_correction else 0.35,
                 "label": f"{'with' if flag else 'without'} correction"}
        ax_loss.plot(np.arange(steps + 1), losses, **style)
        ax_step.plot(np.arange(1, steps + 1), step_ratio, **style)
    ax_loss.set(yscale="log", xlabel="step t", ylabel="training loss")
    ax_step.set(xscale="log", yscale="log", xlabel="step t", ylabel="mean |Δθ| / α")
    # a title at a fixed height: matplotlib need not measure the tick labels to place it
    ax_loss.set_title(f"Loss, α = {lr:.1e}, β2 = {beta2:g}", y=1.01)
    ax_step.set_title("Step size relative to α", y=1.01)
    for axis in (ax_loss.yaxis, ax_step.xaxis, ax_step.yaxis):
        _plain_log_ticks(axis)
    ax_step.legend(loc="lower left")
    return ax_loss, ax_step


def _plain_log_ticks(axis):
    # 1-2-5 ticks labelled as plain numbers, no minor ticks: readable on a
    # narrow range and much cheaper to draw than log-scale minor ticks and
    # math-text labels
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())
