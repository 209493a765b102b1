"""Figures of the chapter *The family* (Part V, "Beyond Adam"): each draws what
``adamref.lab.the_family`` computed and computes nothing itself."""

from __future__ import annotations

import numpy as np

from adamref.lab.the_family import STREAM_SWITCH, STREAMS, gradient_streams, stream_steps
from adamref.plots.non_convergence import plot_average_regret, plot_iterates
from adamref.plots.style import axes_or_new, checked_mapping, label_color, series


def _figure(fig):
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    return fig


def plot_scores(tunings: dict, ax=None, *, ylabel="score", title=None, logy=True):
    """Each optimizer's score against the learning rate (log x), its best value
    marked; ``tunings`` maps a label to a ``Tuned`` or to anything with a
    ``.tuned`` (a ``Tuning``).  Failed runs (infinite scores) leave gaps."""
    ax = axes_or_new(ax)
    for i, (label, item) in enumerate(checked_mapping("tunings", tunings).items()):
        tuned = getattr(item, "tuned", item)
        scores = np.where(np.isfinite(tuned.scores), tuned.scores, np.nan)
        color = label_color(label, i)
        ax.plot(tuned.values, scores, marker=".", color=color, label=label)
        ax.plot(tuned.values[tuned.best_index], tuned.best_score, marker="o", markersize=9,
                markerfacecolor="none", color=color)
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.minorticks_off()                        # log axes: minor ticks cost most of a draw
    ax.set(xlabel=r"learning rate $\alpha$", ylabel=ylabel, title=title or "Tuning")
    ax.legend(fontsize="small")
    return ax


def plot_curves(curves: dict, ax=None, *, steps=None, ylabel=r"$f(\theta_t) - f(\theta^*)$",
                title=None):
    """Loss curves (log y), one per label; ``steps`` the x values (default 0, 1, …)."""
    curves = series("curves", curves)
    ax = axes_or_new(ax)
    for i, (label, values) in enumerate(curves.items()):
        x = np.arange(values.size) if steps is None else np.asarray(steps)
        ax.semilogy(x, np.where(values > 0, values, np.nan), color=label_color(label, i),
                    label=label, linewidth=1)
    ax.minorticks_off()
    ax.set(xlabel="step $t$", ylabel=ylabel, title=title or "Loss at the best learning rate")
    ax.legend(fontsize="small")
    return ax


def draw_steps_to_target(fig, result, *, title=""):
    """The NAdam experiment (``StepsToTarget``): steps to the target against the
    learning rate (left), the loss curves at each best learning rate (right)."""
    left, right = _figure(fig).subplots(1, 2)
    plot_scores(result.tuned, left, ylabel=f"steps to {result.target:.0e} × initial loss",
                title=f"Steps to the target{': ' + title if title else ''}")
    plot_curves(result.curves, right)
    fig.tight_layout()
    return left, right


def draw_nadam(fig, result, schedule, controls, *, lr=0.1):
    """The NAdam experiment in one figure: steps to the target against α and the
    loss at each best α (top, ``draw_steps_to_target``'s panels), NAdam's β1,t
    (``schedule``) and the loss of ``controls`` (``{label: curve}``, all at one
    learning rate ``lr``) (bottom)."""
    axes = _figure(fig).subplots(2, 2)
    plot_scores(result.tuned, axes[0, 0], ylabel=f"steps to {result.target:.0e} × initial loss",
                title="Steps to the target")
    plot_curves(result.curves, axes[0, 1])
    plot_momentum_schedule(schedule, axes[1, 0])
    plot_curves(controls, axes[1, 1], title=f"At one learning rate, α = {lr:g}")
    fig.tight_layout()
    return axes


def plot_momentum_schedule(mu, ax=None, *, beta1=0.9):
    """torch NAdam's β1,t (torch's mu_t) against t (log x), with Adam's constant β1."""
    mu = np.asarray(mu, dtype=float)
    ax = axes_or_new(ax)
    t = np.arange(1, mu.size + 1)
    ax.semilogx(t, mu, label=r"NAdam's $\beta_{1,t}$")
    ax.axhline(beta1, color=label_color("Adam", 0), linestyle=":", label=rf"Adam: $\beta_1$ = {beta1:g}")
    ax.minorticks_off()
    ax.set(xlabel="step $t$", ylabel="weight of the momentum", ylim=(0, 1),
           title="NAdam's momentum schedule")
    ax.legend()
    return ax


def _step_traces(ax, steps: dict, mark, title, *, xscale):
    """``|Δθ_t|/α`` per optimizer against t (log y), a dotted line at step ``mark``."""
    for i, (label, s) in enumerate(steps.items()):
        ax.plot(np.arange(1, s.size + 1), s, color=label_color(label, i), label=label)
    ax.set_xscale(xscale)
    ax.set_yscale("log")
    if mark is not None:
        ax.axvline(mark, color="k", linestyle=":", linewidth=1)
    ax.minorticks_off()
    ax.set(xlabel="step $t$", ylabel=r"$|\Delta\theta_t|/\alpha$", title=title)
    ax.legend()


def _scale_change_panels(axes, changes, before):
    for ax, (kind, steps) in zip(axes, checked_mapping("changes", changes).items()):
        _step_traces(ax, series(f"changes[{kind!r}]", steps), before,
                     f"The gradient's scale {kind}", xscale="log")


def _online_panels(ax_x, ax_r, result, lr_index):
    alpha = result.lrs[lr_index]
    plot_iterates({k: v[1:, lr_index] for k, v in result.theta.items()}, ax_x,
                  title=f"Iterates (C = {result.C:g}, β2 = {result.beta2:.3g}, α = {alpha:.2g})")
    plot_average_regret({k: v[:, lr_index] for k, v in result.regret.items()}, ax_r)
    for ax in (ax_x, ax_r):
        ax.minorticks_off()


def draw_scale_changes(fig, changes, *, before=None):
    """Yogi's experiment (``scale_changes``): ``|Δθ_t|/α`` of Adam and Yogi when
    the gradient's scale shrinks (left) and grows (right); ``before`` marks the
    step of the change."""
    axes = _figure(fig).subplots(1, 2)
    _scale_change_panels(axes, changes, before)
    fig.tight_layout()
    return axes


def draw_online(fig, result, lr_index=2):
    """Reddi et al.'s counterexample (``OnlineResult``): iterates and average
    regret of Adam, AMSGrad and Yogi at the learning rate ``lrs[lr_index]``."""
    ax_x, ax_r = _figure(fig).subplots(1, 2)
    _online_panels(ax_x, ax_r, result, lr_index)
    fig.tight_layout()
    return ax_x, ax_r


def draw_yogi(fig, changes, online, *, before=None, lr_index=2):
    """Yogi's two experiments in one figure: the panels of ``draw_scale_changes``
    (top) and of ``draw_online`` (bottom)."""
    axes = _figure(fig).subplots(2, 2)
    _scale_change_panels(axes[0], changes, before)
    _online_panels(axes[1, 0], axes[1, 1], online, lr_index)
    fig.tight_layout()
    return axes


def draw_comparisons(fig, comparisons: dict, *, name="", ylabel="score"):
    """One panel per setting of ``comparisons`` (``{setting: {label: Tuning}}``,
    as ``belief_vs_noise``, ``rare_spikes`` or ``lion_learning_rates`` return):
    the scores against the learning rate, titled ``"{name} = {setting}"``."""
    comparisons = checked_mapping("comparisons", comparisons)
    axes = np.atleast_1d(_figure(fig).subplots(1, len(comparisons)))
    for ax, (setting, tunings) in zip(axes, comparisons.items()):
        plot_scores(tunings, ax, ylabel=ylabel, title=f"{name} = {setting}" if name else None)
    fig.tight_layout()
    return axes


def plot_spike_response(response: dict, ax=None, *, spike_at=None):
    """``|Δθ_t|/α`` of Adam and AdaMax around one gradient spike (``spike_response``)."""
    response = series("response", response)
    ax = axes_or_new(ax)
    _step_traces(ax, response, spike_at, "One gradient spike, then the gradient 1 again",
                 xscale="linear")
    return ax


def _batch_axis(sweep):
    """x positions and tick labels of ``sweep``'s batch sizes (the full batch at
    ``n_samples``, labelled with it)."""
    x = np.array([sweep.n_samples if b is None else b for b in sweep.batch_sizes], dtype=float)
    labels = [f"full ({sweep.n_samples})" if b is None else str(b) for b in sweep.batch_sizes]
    return x, labels


def plot_batch_sweep(sweep, ax=None):
    """``BatchSweep``: each optimizer's best training loss against the batch size
    (log-log; the full batch at the number of training images)."""
    ax = axes_or_new(ax)
    x, labels = _batch_axis(sweep)
    for i, label in enumerate(next(iter(sweep.tuned.values()))):
        ax.loglog(x, sweep.best_losses(label), marker="o", color=label_color(label, i),
                  label=label)
    ax.set_xticks(x, labels)
    ax.minorticks_off()
    ax.set(xlabel="batch size", ylabel=f"training loss after {sweep.steps} steps (tuned α)",
           title="Best training loss per batch size")
    ax.legend()
    return ax


def plot_sign_agreement(agreement, ax=None, *, n_samples=None):
    """``SignAgreement``: Adam's mean ``|Δθ|/α`` and the cosine between its step and
    sign descent's, against the batch size (1 for both: Adam is sign descent)."""
    ax = axes_or_new(ax)
    full = n_samples if n_samples is not None else 2 * max(
        (b for b in agreement.batch_sizes if b is not None), default=1)
    x = np.array([full if b is None else b for b in agreement.batch_sizes], dtype=float)
    color = label_color("Adam", 0)
    ax.semilogx(x, agreement.cosine, marker="s", color=color, label="cosine(Δθ, −sign(m))")
    ax.semilogx(x, agreement.step, marker="o", linestyle="--", color=color,
                label=r"mean $|\Delta\theta_i|/\alpha$")
    ax.axhline(1.0, color="0.5", linewidth=0.8, linestyle=":", label="sign descent")
    ax.set_xticks(x, [f"full ({full})" if b is None else str(b)
                      for b in agreement.batch_sizes])
    ax.minorticks_off()
    ax.set(xlabel="batch size", ylabel="Adam's step against a sign step", ylim=(0, 1.05),
           title="How close Adam's steps are to sign(m)")
    ax.legend(fontsize="small")
    return ax


def draw_batches(fig, sweep, agreement):
    """The batch-size experiment: best training losses (left) and Adam against
    sign descent (right)."""
    left, right = _figure(fig).subplots(1, 2)
    plot_batch_sweep(sweep, left)
    plot_sign_agreement(agreement, right, n_samples=sweep.n_samples)
    fig.tight_layout()
    return left, right


def draw_streams(fig, variant="Yogi", stream="shrinks ×100"):
    """The explorer: the gradient ``stream`` (left) and the steps ``|Δθ_t|/α`` of
    Adam and ``variant`` on it (right), from ``lab.stream_steps``."""
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {list(STREAMS)}, got {stream!r}")
    column = STREAMS.index(stream)
    grads = gradient_streams()[:, column]
    t = np.arange(1, grads.size + 1)
    left, right = _figure(fig).subplots(1, 2)
    left.semilogy(t, np.abs(grads), color="0.4", lw=0.8)
    left.set(xlabel="step $t$", ylabel="$|g_t|$", ylim=(1e-3, 1e3),
             title=f"The gradient: {stream}")
    for i, label in enumerate(("Adam", variant)):
        right.semilogy(t, np.maximum(stream_steps(label)[:, column], 1e-4),
                       color=label_color(label, i + 1), lw=1.1, label=label)
    right.axhline(1.0, color="0.5", lw=0.8, ls=":")
    right.set(xlabel="step $t$", ylabel=r"$|\Delta\theta_t|/\alpha$", ylim=(1e-4, 1e2),
              title=f"{variant} beside Adam (α = 1, ε = 1e-8)")
    right.legend(loc="upper right")
    for ax in (left, right):
        ax.axvline(STREAM_SWITCH + 1, color="k", lw=0.6, ls=":")
        ax.minorticks_off()                                   # (a redraw's slowest part)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.9, wspace=0.28)
    return left, right
