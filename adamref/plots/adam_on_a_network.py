"""Figures of the chapter *Adam on a network*: the learning-rate sweeps of
SGD with momentum, Adam + L2 and AdamW on the digits MLP, their training
curves at the tuned learning rate, and what Adam's steps look like inside the
network.  They draw results of ``adamref.lab.adam_on_a_network``;
``draw_network_sweep`` (the explorer) reads the chapter's cached sweeps."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from adamref.lab import adam_on_a_network as lab
from adamref.plots.style import axes_or_new, checked_mapping, label_color

#: Line style of each schedule.
SCHEDULE_STYLE = {"constant": "-", "warmup+cosine": "--"}
#: What the explorer's curve control shows, and the LrSweep field it reads.
CURVES = {"validation error": "val_error", "training loss": "batch_loss"}


def _sweeps(sweeps) -> dict:
    sweeps = checked_mapping("sweeps", sweeps)
    for key, sweep in sweeps.items():
        if not (hasattr(sweep, "tuned") and hasattr(sweep, "val_error")):
            raise TypeError(f"sweeps[{key!r}] must be an LrSweep, got {type(sweep).__name__}")
    return sweeps


def _new_axes(columns: int, figsize, axes):
    if axes is None:
        import matplotlib.pyplot as plt
        axes = plt.figure(figsize=figsize).subplots(1, columns)
    return np.atleast_1d(axes)


#: The ticks of an error-rate axis (log scale), labelled in percent.
ERROR_TICKS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def _error_axis(axis):
    """A log-scale error-rate axis with a few ticks in percent and no minor
    ticks (matplotlib's minor ticks on log axes cost most of a redraw)."""
    axis.set_major_locator(FixedLocator(ERROR_TICKS))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{100 * x:g}%"))
    axis.set_minor_locator(NullLocator())


def _test_error_band(ax, sweep, color, label):
    """The mean final test error over seeds against α, a band from the lowest
    to the highest seed, the good values (by validation) as dots, the best as a star."""
    tuned = sweep.tuned()
    test = sweep.test_error[-1]                                  # (L, S)
    mean = test.mean(axis=1)
    ax.fill_between(sweep.lrs, test.min(axis=1), test.max(axis=1), color=color, alpha=0.18,
                    linewidth=0)
    ax.plot(sweep.lrs, mean, SCHEDULE_STYLE.get(sweep.schedule, ":"), color=color, label=label)
    ax.plot(sweep.lrs[tuned.good], mean[tuned.good], "o", color=color, markersize=5)
    ax.plot(sweep.lrs[tuned.best_index], mean[tuned.best_index], "*", color=color,
            markersize=13, markeredgecolor="k", markeredgewidth=0.5)


def plot_test_error_vs_lr(sweeps: dict, axes=None, *, title=None):
    """One panel per schedule: the final test error against the learning rate
    for every optimizer, mean over the seeds with a band from the lowest to the
    highest seed; dots: the good learning rates (tuned on the validation
    error), star: the best; dotted: chance (always one class)."""
    sweeps = _sweeps(sweeps)
    schedules = list(dict.fromkeys(sweep.schedule for sweep in sweeps.values()))
    axes = _new_axes(len(schedules), (11, 4.2), axes)
    if len(axes) != len(schedules):
        raise ValueError(f"axes must have one panel per schedule ({len(schedules)}), "
                         f"got {len(axes)}")
    names = list(dict.fromkeys(sweep.optimizer for sweep in sweeps.values()))
    for ax, schedule in zip(axes, schedules):
        for sweep in sweeps.values():
            if sweep.schedule == schedule:
                _test_error_band(ax, sweep, label_color(sweep.optimizer,
                                                        names.index(sweep.optimizer)),
                                 sweep.optimizer)
        ax.axhline(lab.CHANCE_ERROR, color="0.4", linestyle=":", linewidth=1, label="chance")
        ax.set(xscale="log", yscale="log", ylim=(0.02, 1.0), xlabel=r"learning rate $\alpha$",
               title=f"{schedule} learning rate")
        _error_axis(ax.yaxis)
        ax.xaxis.set_minor_locator(NullLocator())
    axes[0].set(ylabel="test error (band: lowest to highest seed)")
    axes[0].legend(loc="upper center", fontsize="small")
    axes[0].figure.suptitle(title or "Test error against the learning rate, five seeds "
                                     "(dots: good on validation, star: tuned)")
    return axes


def plot_training_curves(sweeps: dict, axes=None, *, title=None):
    """At each sweep's tuned learning rate: the training loss (the mean loss of
    the minibatches since the previous checkpoint, left) and the validation
    error (right) against the step, mean over seeds."""
    sweeps = _sweeps(sweeps)
    axes = _new_axes(2, (11, 4.2), axes)
    names = list(dict.fromkeys(sweep.optimizer for sweep in sweeps.values()))
    for sweep in sweeps.values():
        best = sweep.tuned().best_index
        color = label_color(sweep.optimizer, names.index(sweep.optimizer))
        style = SCHEDULE_STYLE.get(sweep.schedule, ":")
        label = f"{sweep.optimizer}, {sweep.schedule}, α = {sweep.lrs[best]:g}"
        axes[0].plot(sweep.steps[1:], sweep.batch_loss[1:, best].mean(axis=-1), style,
                     color=color, label=label)
        axes[1].plot(sweep.steps, sweep.val_error[:, best].mean(axis=-1), style, color=color,
                     label=label)
    axes[0].set(yscale="log", xlabel="step $t$", ylabel="training loss (minibatches)",
                title=title or "Training loss at the tuned learning rate")
    axes[1].set(yscale="log", xlabel="step $t$", ylabel="validation error",
                title="Validation error at the tuned learning rate")
    _error_axis(axes[1].yaxis)
    axes[1].legend(loc="upper right", fontsize="x-small")
    return axes


def plot_step_histograms(stats: dict, axes=None, *, title=None):
    """One panel per step of ``stats["at"]``: the distribution of |Δθ|/α in each
    layer (one learning rate of ``adam_statistics``), as the fraction of the
    layer's coordinates per bin (coordinates that did not move are left out)."""
    checked_mapping("stats", stats)
    at, bins, layers = stats["at"], np.asarray(stats["bins"]), stats["layers"]
    axes = _new_axes(len(at), (12, 3.5), axes)
    if len(axes) != len(at):
        raise ValueError(f"axes must have one panel per step ({len(at)}), got {len(axes)}")
    for i, (ax, t) in enumerate(zip(axes, at)):
        for j, layer in enumerate(layers):
            counts = stats["counts"][i, j]
            total = counts.sum() / max(1.0 - stats["zero"][i, j], 1e-300)   # all coordinates
            ax.stairs(counts / total, bins, color=f"C{j}", label=layer)
        ax.axvline(1.0, color="k", linestyle=":", linewidth=1)
        ax.axvline(stats["bound"][i], color="tab:red", linestyle="--", linewidth=1)
        ax.set(xscale="log", xlabel=r"$|\Delta\theta|/\alpha$", title=f"step t = {t}")
        ax.xaxis.set_minor_locator(NullLocator())
    axes[0].set(ylabel="fraction of the layer's coordinates")
    axes[0].legend(loc="upper left", fontsize="small")
    if title:
        axes[0].figure.suptitle(title)
    return axes


def plot_below_eps(stats: dict, ax=None, *, title=None):
    """Per layer, against the step: the fraction of coordinates with √v̂ < ε
    (solid) and of coordinates that did not move (dotted)."""
    checked_mapping("stats", stats)
    ax = axes_or_new(ax)
    for j, layer in enumerate(stats["layers"]):
        ax.plot(stats["at"], stats["below_eps"][:, j], "o-", color=f"C{j}",
                label=f"{layer}: " + r"$\sqrt{\hat v} < \epsilon$")
        ax.plot(stats["at"], stats["zero"][:, j], ":", color=f"C{j}",
                label=f"{layer}: did not move")
    ax.set(xscale="log", ylim=(-0.02, 1.0), xlabel="step $t$", ylabel="fraction of coordinates",
           title=title or r"Where $\sqrt{\hat v} < \epsilon$")
    ax.legend(loc="upper left", fontsize="x-small", ncol=2)
    return ax


def draw_inside_adam(fig, stats: dict):
    """The histograms of ``plot_step_histograms`` (one panel per step, each
    with its own vertical scale) and, right, ``plot_below_eps``, on ``fig``
    (best about 15 × 3.7 inches); returns the axes."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    count = len(stats["at"])
    axes = fig.subplots(1, count + 1, gridspec_kw={"width_ratios": [1] * count + [1.3]})
    plot_step_histograms(stats, axes[:count])
    plot_below_eps(stats, axes[count])
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.16, top=0.82, wspace=0.3)
    fig.suptitle(r"Adam's steps $|\Delta\theta_t|/\alpha$ per layer (dotted: $\alpha$, "
                 r"dashed: the largest step possible, $S_t$)")
    return axes


# -- the explorer ------------------------------------------------------------------------
def draw_network_sweep(fig, optimizer: str = "Adam + L2", schedule: str = "constant",
                       curve: str = "validation error"):
    """One (optimizer, schedule) of the chapter's sweeps (``lab.chapter_sweeps``):
    left, ``curve`` against the step for every learning rate of the grid (mean
    over the seeds, the tuned one thick); right, the final test error against
    the learning rate (mean and the band over the seeds).  Returns the axes."""
    if not hasattr(fig, "add_subplot"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if curve not in CURVES:
        raise ValueError(f"curve must be one of {list(CURVES)}, got {curve!r}")
    sweeps = lab.chapter_sweeps()
    if (optimizer, schedule) not in sweeps:
        raise ValueError(f"(optimizer, schedule) must be one of {list(sweeps)}, "
                         f"got {(optimizer, schedule)!r}")
    sweep = sweeps[(optimizer, schedule)]
    best = sweep.tuned().best_index
    values = getattr(sweep, CURVES[curve]).mean(axis=-1)          # (C, L)
    start = 1 if curve == "training loss" else 0                  # no minibatch before step 1
    left, right = fig.subplots(1, 2)
    colors = [f"C{i}" for i in range(sweep.lrs.size)]
    for i, lr in enumerate(sweep.lrs):
        left.plot(sweep.steps[start:], values[start:, i], color=colors[i],
                  linewidth=3 if i == best else 1.2,
                  label=f"α = {lr:g}" + (" (tuned)" if i == best else ""))
    left.set(yscale="log", xlabel="step $t$", ylabel=f"{curve} (mean over seeds)",
             title=f"{optimizer}, {schedule}: {curve}")
    if curve == "validation error":
        _error_axis(left.yaxis)
    else:
        left.yaxis.set_minor_locator(NullLocator())
    left.legend(loc="lower left", fontsize="x-small", ncol=2)
    color = label_color(optimizer, 0)
    _test_error_band(right, sweep, color, optimizer)
    right.axhline(lab.CHANCE_ERROR, color="0.4", linestyle=":", linewidth=1)
    right.set(xscale="log", yscale="log", ylim=(0.02, 1.0), xlabel=r"learning rate $\alpha$",
              ylabel="final test error",
              title="Test error (band: the seeds; dotted: chance)")
    _error_axis(right.yaxis)
    right.xaxis.set_minor_locator(NullLocator())
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
    return left, right
