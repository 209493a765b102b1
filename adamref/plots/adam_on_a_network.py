"""Figures of the chapter *Adam on a network*: the learning-rate sweeps of
SGD with momentum, Adam + L2 and AdamW on the digits MLP, their training
curves at the tuned learning rate, and what Adam's steps look like inside the
network.  They draw results of ``adamref.lab.adam_on_a_network``."""

from __future__ import annotations

import numpy as np

from adamref.plots.style import axes_or_new, checked_mapping, label_color

#: Line style of each schedule.
SCHEDULE_STYLE = {"constant": "-", "warmup+cosine": "--"}


def _sweeps(sweeps) -> dict:
    sweeps = checked_mapping("sweeps", sweeps)
    for key, sweep in sweeps.items():
        if not (hasattr(sweep, "tuned") and hasattr(sweep, "val_error")):
            raise TypeError(f"sweeps[{key!r}] must be an LrSweep, got {type(sweep).__name__}")
    return sweeps


def plot_lr_sweep(sweeps: dict, ax=None, *, title=None):
    """Mean final validation error (over seeds) against the learning rate, one
    colour per optimizer, solid for a constant rate and dashed for warmup +
    cosine; the good values (``LrSweep.tuned``) are filled, the best is a star."""
    sweeps = _sweeps(sweeps)
    ax = axes_or_new(ax)
    names = list(dict.fromkeys(sweep.optimizer for sweep in sweeps.values()))
    for sweep in sweeps.values():
        color = label_color(sweep.optimizer, names.index(sweep.optimizer))
        tuned = sweep.tuned()
        scores = np.where(np.isfinite(sweep.scores), sweep.scores, np.nan)
        ax.plot(sweep.lrs, scores, SCHEDULE_STYLE.get(sweep.schedule, ":"), color=color,
                label=f"{sweep.optimizer}, {sweep.schedule}")
        ax.plot(sweep.lrs[tuned.good], scores[tuned.good], "o", color=color, markersize=5)
        ax.plot(sweep.lrs[tuned.best_index], scores[tuned.best_index], "*", color=color,
                markersize=12)
    ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\alpha$",
           ylabel="validation error (mean over seeds)",
           title=title or "Learning-rate sweeps on the digits (dots: good values, star: best)")
    ax.legend(loc="upper center", fontsize="small", ncol=2)
    return ax


def plot_training_curves(sweeps: dict, axes=None, *, title=None):
    """At each sweep's tuned learning rate: the training loss (left) and the
    validation error (right) against the step, mean over seeds."""
    sweeps = _sweeps(sweeps)
    if axes is None:
        import matplotlib.pyplot as plt
        axes = plt.figure(figsize=(10, 4)).subplots(1, 2)
    names = list(dict.fromkeys(sweep.optimizer for sweep in sweeps.values()))
    for sweep in sweeps.values():
        best = sweep.tuned().best_index
        color = label_color(sweep.optimizer, names.index(sweep.optimizer))
        style = SCHEDULE_STYLE.get(sweep.schedule, ":")
        label = f"{sweep.optimizer}, {sweep.schedule}, α = {sweep.lrs[best]:g}"
        axes[0].plot(sweep.steps, sweep.train_loss[:, best].mean(axis=-1), style, color=color,
                     label=label)
        axes[1].plot(sweep.steps, sweep.val_error[:, best].mean(axis=-1), style, color=color,
                     label=label)
    axes[0].set(yscale="log", xlabel="step $t$", ylabel="training loss (cross-entropy)",
                title=title or "Training loss at the tuned learning rate")
    axes[1].set(yscale="log", xlabel="step $t$", ylabel="validation error",
                title="Validation error at the tuned learning rate")
    axes[1].legend(loc="upper right", fontsize="x-small")
    return axes


def plot_step_histograms(stats: dict, axes=None, *, title=None):
    """One panel per step of ``stats["at"]``: the distribution of |Δθ|/α in each
    layer (``adam_statistics``), as the fraction of the layer's coordinates per bin."""
    checked_mapping("stats", stats)
    at, bins, layers = stats["at"], np.asarray(stats["bins"]), stats["layers"]
    if axes is None:
        import matplotlib.pyplot as plt
        axes = plt.figure(figsize=(12, 3.5)).subplots(1, len(at), sharey=True)
    axes = np.atleast_1d(axes)
    if len(axes) != len(at):
        raise ValueError(f"axes must have one panel per step ({len(at)}), got {len(axes)}")
    for i, (ax, t) in enumerate(zip(axes, at)):
        for j, layer in enumerate(layers):
            counts = stats["counts"][i, j]
            total = counts.sum() / max(1.0 - stats["zero"][i, j], 1e-300)   # all coordinates
            ax.stairs(counts / total, bins, color=f"C{j}", label=layer)
        ax.axvline(1.0, color="k", linestyle=":", linewidth=1)
        ax.set(xscale="log", xlabel=r"$|\Delta\theta|/\alpha$", title=f"step t = {t}")
    axes[0].set(ylabel="fraction of the layer's coordinates")
    axes[-1].legend(loc="upper left", fontsize="small")
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
    ax.set(xscale="log", xlabel="step $t$", ylabel="fraction of coordinates",
           title=title or r"Where $\epsilon$ decides Adam's step")
    ax.legend(loc="upper right", fontsize="x-small", ncol=2)
    return ax
