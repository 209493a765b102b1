"""Figures of the chapter *Moments*: how m and v follow a noisy gradient stream,
and the size of Adam's step against the gradient's signal-to-noise ratio."""

from __future__ import annotations

import numpy as np

from adamref.lab.moments import moments_on_stream, predicted_mean_abs_step
from adamref.plots.style import checked_mapping, thinning


def draw_moments(fig, beta1=0.9, beta2=0.999, noise=1.0, seed=0):
    """Three stacked panels on ``fig`` (best about 9 × 6.6 inches): m̂ against
    E[g], v̂ against E[g²], and the step m̂/(√v̂ + ε) against the signal-to-noise
    ratio E[g]/√E[g²], on a shared step axis; returns the axes."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    grads, mean, second, h = moments_on_stream(beta1, beta2, noise, seed)
    t = np.arange(1, grads.shape[0] + 1)
    # fixed margins: a layout engine would measure every label on each redraw
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw=dict(
        left=0.08, right=0.98, top=0.955, bottom=0.075, hspace=0.42))  # one time axis
    ax = axes[0]
    every = thinning(grads.shape[0])                # ~1000 dots show the cloud
    ax.plot(t[::every], grads[::every], ".", color="0.75", markersize=1.5,
            label=f"$g_t$ (one in {every})" if every > 1 else "$g_t$")
    ax.plot(t, h["m_hat"], color="tab:red", linewidth=1, label=r"$\hat m_t$")
    ax.plot(t, mean, "k--", linewidth=1.2, label=r"$E[g]$")
    spread = max(2.5 * float(noise), 1.0)
    ax.set(ylim=(min(mean.min(), 0) - spread, mean.max() + spread), xlabel="step $t$",
           ylabel="gradient")
    ax.set_title(rf"First moment, $\beta_1$ = {beta1:g}", y=1.0)   # y: no auto placement
    ax.legend(loc="upper right", fontsize="small", markerscale=6)
    ax = axes[1]
    ax.plot(t, h["v_hat"], color="tab:green", linewidth=1, label=r"$\hat v_t$")
    ax.plot(t, second, "k--", linewidth=1.2, label=r"$\mathbb{E}[g^2]$")
    ax.set(ylim=(0, 1.6 * second.max()), xlabel="step $t$", ylabel="squared gradient")
    ax.set_title(rf"Second moment, $\beta_2$ = {beta2:g}", y=1.0)
    ax.legend(loc="upper right", fontsize="small")
    ax = axes[2]
    ax.plot(t, -h["step"], color="tab:blue", linewidth=1,
            label=r"$\hat m_t / (\sqrt{\hat v_t} + \epsilon)$")
    ax.plot(t, mean / np.sqrt(second), "k--", linewidth=1.2, label=r"$\mathbb{E}[g]/\sqrt{\mathbb{E}[g^2]}$ (signed $r$)")
    ax.set(ylim=(-1.1, 1.1), xlabel="step $t$", ylabel=r"step / $\alpha$")
    ax.set_title("Step size and signal-to-noise ratio", y=1.0)
    ax.legend(loc="lower left", fontsize="small", ncol=2)
    return axes


def plot_snr_steps(results, ax):
    """Measured mean |Δθ|/α (markers) and mean signed step (crosses) against the
    book's SNR r, with the folded-normal prediction (lines) and the identity (dotted).
    ``results`` maps β1 to an ``adamref.ema.snr_step_sizes`` result."""
    checked_mapping("results", results)
    ax.plot([0, 1], [0, 1], ":", color="0.4", label=r"step = $r$")
    for i, (beta1, r) in enumerate(results.items()):
        color = f"C{i}"
        grid = np.linspace(0, 1, 101)
        ax.plot(grid, predicted_mean_abs_step(grid, beta1), color=color, linewidth=1,
                label=rf"predicted $E|\hat m|/\sqrt{{v}}$, $\beta_1$ = {beta1:g}")
        ax.plot(r["snr"], r["mean_abs"], "o", color=color,
                label=rf"measured mean $|\Delta\theta|/\alpha$, $\beta_1$ = {beta1:g}")
        ax.plot(r["snr"], r["mean_signed"], "x", color=color, markersize=8,
                label=rf"measured mean signed step, $\beta_1$ = {beta1:g}")
    ax.set(xlabel=r"$r = |\mathbb{E}[g]|/\sqrt{\mathbb{E}[g^2]}$", ylabel=r"step / $\alpha$",
           title=r"Adam's step size against the gradient's $r$", xlim=(-0.02, 1.02),
           ylim=(-0.05, 1.05))
    ax.legend(loc="lower right", fontsize="x-small")
    return ax
