"""Figures of the generalization chapter, and the ``draw_overfitting(fig,
**params)`` function its explorer calls."""

from __future__ import annotations

import numpy as np

from adamref.lab import generalization
from adamref.plots.style import thinned
from adamref.plots.style import axes_or_new, checked_mapping, label_color, series


def plot_test_errors(errors: dict, negative_fraction, ax=None, *, title=None):
    """One column of dots per method (one dot per data draw) with the mean as a
    bar, and the fraction of negative test labels as a dashed line."""
    errors = series("errors", errors)
    ax = axes_or_new(ax)
    rng = np.random.default_rng(0)          # fixed horizontal jitter
    for i, (label, e) in enumerate(errors.items()):
        ax.bar(i, e.mean(), color=label_color(label, i), alpha=0.35, width=0.6)
        ax.plot(i + rng.uniform(-0.15, 0.15, e.size), e, "o", color=label_color(label, i),
                markersize=4)
    ax.axhline(float(np.mean(negative_fraction)), color="k", linestyle="--",
               label="fraction of negative test labels")
    ax.set_xticks(range(len(errors)), list(errors))
    ax.set(ylabel="test error", title=title or "Test error per method (dots: data draws)")
    ax.legend(loc="upper left")
    return ax


def plot_weights(weights: dict, ax=None, *, coordinates=23, title=None):
    """The first ``coordinates`` entries of each (normalized) weight vector."""
    weights = series("weights", weights)
    coordinates = int(coordinates)
    ax = axes_or_new(ax)
    width = 0.8 / len(weights)
    for i, (label, w) in enumerate(weights.items()):
        w = w[:coordinates] / np.max(np.abs(w))
        ax.bar(np.arange(w.size) + (i - (len(weights) - 1) / 2) * width, w, width=width,
               color=label_color(label, i), label=label)
    ax.set(xlabel="feature index (0: label feature, 1–2: constants, 3+: own features)",
           ylabel="weight / max |weight|", title=title or "Learned weights (first draw)")
    ax.legend(loc="upper right")
    return ax


def plot_train_test(curves: dict, ax=None, *, title=None, log=True):
    """Train (dashed) and test (solid) MSE against the step, one colour per label;
    ``curves`` maps a label to a pair ``(train, test)`` of 1-D arrays."""
    checked_mapping("curves", curves)
    ax = axes_or_new(ax)
    for i, (label, (train, test)) in enumerate(curves.items()):
        color = label_color(label, i)
        ax.plot(*thinned(train), "--", color=color, linewidth=1)   # at most ~1000 points
        ax.plot(*thinned(test), "-", color=color, label=label)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="step $t$", ylabel="mean squared error",
           title=title or "Train (dashed) and test (solid) loss")
    ax.legend(loc="best")
    return ax


def draw_overfitting(fig, lr=0.01, weight_decay=0.1, decoupled=False, steps=2000, seed=0):
    """Explorer figure: plain Adam against Adam with weight decay ``weight_decay``
    (L2, or decoupled as AdamW) on the first draw of the regression data; left
    the train/test curves, right the fitted functions."""
    data, curves = generalization.plain_and_decayed_adam(lr, weight_decay, decoupled, steps, seed)
    name = ("AdamW" if decoupled else "Adam + L2") + f" (λ = {weight_decay:.3g})"
    ax_curves, ax_fit = fig.subplots(1, 2)
    plot_train_test({"Adam": (curves.train[:, 0, 0], curves.test[:, 0, 0]),
                     name: (curves.train[:, 0, 1], curves.test[:, 0, 1])}, ax_curves,
                    title=f"Loss per step (α = {lr:.2g})")
    grid = np.linspace(-1, 1, 300)
    fitted = generalization.fitted_functions(data, curves, grid)
    x_train = data.features["train"][0, :, 1]            # P_1(x) = x
    ax_fit.plot(grid, generalization.target(grid), "k-", label="true sin(3x)")
    ax_fit.plot(x_train, data.targets["train"][0], "ko", markersize=4, label="training data")
    for i, label in enumerate(["Adam", name]):
        ax_fit.plot(grid, fitted[0, i], color=label_color(label, i), label=label)
    ax_fit.set(ylim=(-2.5, 2.5), xlabel="$x$", ylabel="$y$",
               title=f"Fitted functions after {steps} steps")
    ax_fit.legend(loc="lower right", fontsize="small")
    fig.subplots_adjust(left=0.065, right=0.985, bottom=0.13, top=0.91, wspace=0.2)
    return curves


