"""Figures of the seed-regression chapter (matplotlib; the computations are in
``adamref.lab.seed_regression``)."""

from __future__ import annotations

import numpy as np

from adamref.lab import seed_regression as sr
from adamref.optim import validation as check
from adamref.plots.style import axes_or_new, thinned


def plot_training_loss(loss, ax=None, *, label=None, log=False,
                       title="Training loss over time"):
    """``history.history['loss']`` against the epoch, titled and labelled as the snippet."""
    loss = np.asarray(loss, dtype=float)
    if loss.ndim != 1 or loss.size == 0:
        raise ValueError(f"loss must be a non-empty 1-D sequence, got shape {loss.shape}")
    ax = axes_or_new(ax)
    ax.plot(*thinned(loss), label=label)
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel="Epoch", ylabel="Loss")
    return ax


def plot_kernel_path(history, w_ls, ax=None, *, label="Adam", true_slope=sr.TRUE_SLOPE,
                     title="The weight, step by step"):
    """The kernel ``w`` after every step, with the true slope and the least-squares ``w``."""
    w = sr.history_trace(history)["kernel"][:, 0, 0]
    ax = axes_or_new(ax)
    ax.plot(*thinned(w), label=label)
    ax.axhline(true_slope, color="k", linestyle=":", label=f"true slope {true_slope:g}")
    ax.axhline(w_ls, color="tab:green", linestyle="--", linewidth=1,
               label=f"least squares {w_ls:.4f}")
    ax.set(title=title, xlabel="step $t$", ylabel="weight $w$")
    ax.legend(loc="lower right")
    return ax


def plot_step_ratio(history, lr, ax=None, *, title=r"Step size relative to $\alpha$"):
    """``|Δw_t| / α`` for every step ``t``: 1 means a full step of size α."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    w = sr.history_trace(history)["kernel"][:, 0, 0].astype(float)
    ax = axes_or_new(ax)
    ax.plot(np.arange(1, w.size), np.abs(np.diff(w)) / lr)
    ax.set(title=title, xlabel="step $t$", ylabel=r"$|\Delta w_t| / \alpha$", ylim=(0, None))
    return ax


def draw_seed_regression(fig, lr=sr.LEARNING_RATE, epochs=sr.EPOCHS, batch_size=32,
                         noise=sr.NOISE):
    """Explorer figure: the snippet trained with these settings (``fit_by_hand``,
    the same run as ``fit``); left the loss per epoch (log scale), right the
    weight per step against 3 and least squares."""
    epochs = check.integer("epochs", epochs, 1)
    batch_size = check.integer("batch_size", batch_size, 1)
    history, x, y = sr.fit_by_hand(lr=lr, epochs=epochs, batch_size=batch_size, noise=noise)
    w_ls, _ = sr.least_squares(x, y)
    ax_loss, ax_w = fig.subplots(1, 2)
    plot_training_loss(history.history["loss"], ax_loss, log=True,
                       title=f"Training loss (α = {lr:.2g}, batch {batch_size})")
    w = history.trace["kernel"][:, 0, 0]
    plot_kernel_path(history, w_ls, ax_w,
                     title=f"Weight: {w[-1]:.3f} after {w.size - 1} steps")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.91, wspace=0.22)
    return fig


def plot_weight_per_epoch(runs: dict, w_ls, ax=None, *,
                          title="The weight at the end of each epoch"):
    """``w`` after each epoch (epochs on a log axis), one line per labelled run,
    with the least-squares weight."""
    if not runs:
        raise ValueError("runs must map at least one label to a History")
    ax = axes_or_new(ax)
    for label, history in runs.items():
        w = sr.kernel_per_epoch(history)[1:]
        ax.semilogx(np.arange(1, w.size + 1), w, label=label, linewidth=1.2)
    ax.axhline(w_ls, color="k", linestyle="--", linewidth=1,
               label=f"least squares {w_ls:.4f}")
    ax.set(title=title, xlabel="Epoch", ylabel="weight $w$")
    ax.legend(loc="lower right")
    return ax


def plot_final_vs_initial(w0, w_final, w_ls, ax=None, *, epochs=sr.EPOCHS,
                          title="Where the seed sends the weight"):
    """Final against initial kernel, one point per seed, with the least-squares ``w``."""
    w0, w_final = np.asarray(w0, dtype=float), np.asarray(w_final, dtype=float)
    if w0.shape != w_final.shape or w0.ndim != 1 or w0.size == 0:
        raise ValueError(f"w0 and w_final must be 1-D of one length, got shapes "
                         f"{w0.shape} and {w_final.shape}")
    ax = axes_or_new(ax)
    ax.plot(w0, w_final, "o", color="tab:red", label="one seed")
    ax.axhline(w_ls, color="tab:green", linestyle="--", linewidth=1,
               label=f"least squares {w_ls:.4f}")
    ax.set(title=title, xlabel="initial weight $w_0$ (glorot_uniform)",
           ylabel=f"weight after {epochs} epochs")
    ax.legend(loc="lower right")
    return ax
