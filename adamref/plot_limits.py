"""Figures of the chapters on generalization and non-convergence, and the
``draw_*(fig, **params)`` functions their explorers call.  Imports matplotlib
(with ``plotting`` and ``widgets``, the only modules allowed to)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import Adam
from . import online, overfitting
from . import _validation as check
from .plotting import COLORS


def _ax(ax):
    return ax if ax is not None else plt.figure().add_subplot()


#: Colours of the labels these chapters add to ``plotting.COLORS``.
EXTRA_COLORS = {"GD": "tab:gray", "AdaGrad": "tab:olive", "Adam + L2": "tab:brown"}


def _color(label, index):
    """The book's colour for a label; "AdamW (λ = 1)" gets the colour of "AdamW"."""
    key = str(label).split(" (")[0]
    return {**COLORS, **EXTRA_COLORS}.get(key, f"C{index}")


def _series(name, mapping):
    if not isinstance(mapping, dict) or not mapping:
        raise ValueError(f"{name} must be a non-empty dict of label -> array, got {mapping!r:.80}")
    return {label: np.asarray(values, dtype=float) for label, values in mapping.items()}


def plot_test_errors(errors: dict, negative_fraction, ax=None, *, title=None):
    """One column of dots per method (one dot per data draw) with the mean as a
    bar, and the fraction of negative test labels as a dashed line."""
    errors = _series("errors", errors)
    ax = _ax(ax)
    rng = np.random.default_rng(0)          # fixed horizontal jitter
    for i, (label, e) in enumerate(errors.items()):
        ax.bar(i, e.mean(), color=_color(label, i), alpha=0.35, width=0.6)
        ax.plot(i + rng.uniform(-0.15, 0.15, e.size), e, "o", color=_color(label, i),
                markersize=4)
    ax.axhline(float(np.mean(negative_fraction)), color="k", linestyle="--",
               label="fraction of negative test labels")
    ax.set_xticks(range(len(errors)), list(errors))
    ax.set(ylabel="test error", title=title or "Test error per method (dots: data draws)")
    ax.legend(loc="upper left")
    return ax


def plot_weights(weights: dict, ax=None, *, coordinates=23, title=None):
    """The first ``coordinates`` entries of each (normalized) weight vector."""
    weights = _series("weights", weights)
    coordinates = int(coordinates)
    ax = _ax(ax)
    width = 0.8 / len(weights)
    for i, (label, w) in enumerate(weights.items()):
        w = w[:coordinates] / np.max(np.abs(w))
        ax.bar(np.arange(w.size) + (i - (len(weights) - 1) / 2) * width, w, width=width,
               color=_color(label, i), label=label)
    ax.set(xlabel="feature index (0: label feature, 1–2: constants, 3+: own features)",
           ylabel="weight / max |weight|", title=title or "Learned weights (first draw)")
    ax.legend(loc="upper right")
    return ax


def plot_train_test(curves: dict, ax=None, *, title=None, log=True):
    """Train (dashed) and test (solid) MSE against the step, one colour per label;
    ``curves`` maps a label to a pair ``(train, test)`` of 1-D arrays."""
    if not isinstance(curves, dict) or not curves:
        raise ValueError(f"curves must be a non-empty dict of label -> (train, test), "
                         f"got {curves!r:.80}")
    ax = _ax(ax)
    for i, (label, (train, test)) in enumerate(curves.items()):
        color = _color(label, i)
        ax.plot(np.asarray(train), "--", color=color, linewidth=1)
        ax.plot(np.asarray(test), "-", color=color, label=label)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="step $t$", ylabel="mean squared error",
           title=title or "Train (dashed) and test (solid) loss")
    ax.legend(loc="best")
    return ax


def draw_overfitting(fig, lr=0.01, weight_decay=0.1, decoupled=False, steps=2000, seed=0):
    """Explorer figure: plain Adam against Adam with weight decay ``weight_decay``
    (L2, or decoupled as AdamW) on one draw of the regression data; left the
    train/test curves, right the fitted functions."""
    lr = check.hyperparameter("lr", lr, low=0.0)
    weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
    decoupled = check.flag("decoupled", decoupled)
    data = overfitting.make_data(draws=1, seed=seed)
    decays = np.array([[0.0], [weight_decay]])
    curves = overfitting.train_curves(
        Adam(lr=lr, weight_decay=decays, decoupled_weight_decay=decoupled), data, steps,
        configs=(2,))
    name = ("AdamW" if decoupled else "Adam + L2") + f" (λ = {weight_decay:.3g})"
    ax_curves, ax_fit = fig.subplots(1, 2)
    plot_train_test({"Adam": (curves.train[:, 0, 0], curves.test[:, 0, 0]),
                     name: (curves.train[:, 0, 1], curves.test[:, 0, 1])}, ax_curves,
                    title=f"Loss per step (α = {lr:.2g})")
    grid = np.linspace(-1, 1, 300)
    basis = np.polynomial.legendre.legvander(grid, data.n_features - 1)
    x_train = data.features["train"][0, :, 1]            # P_1(x) = x
    ax_fit.plot(grid, overfitting.target(grid), "k-", label="true sin(3x)")
    ax_fit.plot(x_train, data.targets["train"][0], "ko", markersize=4, label="training data")
    for i, label in enumerate(["Adam", name]):
        ax_fit.plot(grid, basis @ curves.w[0, i], color=_color(label, i), label=label)
    ax_fit.set(ylim=(-2.5, 2.5), xlabel="$x$", ylabel="$y$",
               title=f"Fitted functions after {steps} steps")
    ax_fit.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return curves


def plot_iterates(paths: dict, ax=None, *, title=None, optimum=-1.0):
    """``x_t`` against ``t`` (log time axis), one line per label."""
    paths = _series("paths", paths)
    ax = _ax(ax)
    for i, (label, x) in enumerate(paths.items()):
        ax.plot(np.arange(1, x.size + 1), x, color=_color(label, i), label=label, linewidth=1)
    ax.axhline(optimum, color="k", linestyle=":", label=f"optimum x = {optimum:g}")
    ax.set_xscale("log")
    ax.set(xlabel="step $t$", ylabel="$x_t$", ylim=(-1.1, 1.1), title=title or "Iterates")
    ax.legend(loc="center left")
    return ax


def plot_average_regret(regrets: dict, ax=None, *, title=None):
    """``R_t/t`` against ``t`` on log-log axes, one line per label."""
    regrets = _series("regrets", regrets)
    ax = _ax(ax)
    for i, (label, r) in enumerate(regrets.items()):
        t = np.arange(1, r.size + 1)
        ax.loglog(t, np.maximum(r, 1e-6), color=_color(label, i), label=label)
    ax.set(xlabel="step $t$", ylabel="average regret $R_t/t$",
           title=title or "Average regret")
    ax.legend(loc="lower left")
    return ax


def draw_online(fig, C=3.0, lr=0.1, steps=3000):
    """Explorer figure for Reddi et al.'s Theorem 1 problem with constant ``C``
    (β1 = 0, β2 = 1/(1 + C²), α_t = α/√t): Adam and AMSGrad iterates and
    average regret.  Returns the ``OnlineRun``."""
    beta2 = online.reddi_beta2(C)
    grads = online.cyclic_gradients(steps, large=C, small=-1.0, period=3)
    run = online.projected_adam(grads, lr=lr, beta1=0.0, beta2=beta2,
                                amsgrad=np.array([False, True]))
    regret = online.average_regret(run.x, grads)
    ax_x, ax_r = fig.subplots(1, 2)
    plot_iterates({"Adam": run.x[1:, 0], "AMSGrad": run.x[1:, 1]}, ax_x,
                  title=f"Iterates (C = {C:g}, β2 = {beta2:.3g}, α = {lr:.2g})")
    plot_average_regret({"Adam": regret[:, 0], "AMSGrad": regret[:, 1]}, ax_r,
                        title="Average regret $R_t/t$")
    fig.tight_layout()
    return run


def plot_effective_steps(steps: dict, ax=None, *, title=None):
    """Effective step ``α_t/(√v̂_t + ε)`` against ``t`` (log y)."""
    steps = _series("steps", steps)
    ax = _ax(ax)
    for i, (label, s) in enumerate(steps.items()):
        ax.semilogy(np.arange(1, s.size + 1), s, color=_color(label, i), label=label,
                    linewidth=1)
    ax.set(xlabel="step $t$", ylabel=r"$\alpha_t/(\sqrt{\hat v_t}+\epsilon)$",
           title=title or "Effective step size")
    ax.legend(loc="best")
    return ax


__all__ = ["plot_test_errors", "plot_weights", "plot_train_test", "draw_overfitting",
           "plot_iterates", "plot_average_regret", "draw_online", "plot_effective_steps"]
