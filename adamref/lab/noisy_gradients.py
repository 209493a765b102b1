"""Computations for the noisy-gradients chapter (NumPy and the optimizers only).

``make_optimizer`` builds the four optimizers the book compares with
(possibly array-valued) learning rates; ``config_grid`` lays a product of
hyperparameter axes out as ``(K, 1)`` columns; ``run_batch`` runs K
configurations as one batch; ``summarize`` and ``best_per_row`` turn the
final losses into medians, spreads and each optimizer's best learning rate.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.optim.baselines import SGD, RMSprop
from adamref.problems.datasets import _count, make_least_squares
from adamref.optim.optimizer import restoring


@lru_cache(maxsize=1)
def least_squares_problem():
    """The chapter's problem: ``make_least_squares(200, 10, noise=0.5, seed=0)``
    (features scaled from 2 down to 0.5, so the Hessian's condition number is ~17)."""
    return make_least_squares(200, 10, noise=0.5, seed=0)


#: The four optimizers of the comparison, PyTorch's defaults except the lr.
OPTIMIZERS = ("SGD", "Momentum", "RMSprop", "Adam")


def make_optimizer(name: str, lr):
    """``SGD`` (no momentum), ``Momentum`` (SGD, μ = 0.9), ``RMSprop`` (α_v = 0.99,
    ε = 1e-8) or ``Adam`` (β1 = 0.9, β2 = 0.999, ε = 1e-8) with learning rate ``lr``
    (a number or an array broadcasting against the parameters)."""
    builders = {"SGD": lambda: SGD(lr=lr), "Momentum": lambda: SGD(lr=lr, momentum=0.9),
                "RMSprop": lambda: RMSprop(lr=lr), "Adam": lambda: Adam(lr=lr)}
    if name not in builders:
        raise ValueError(f"name must be one of {OPTIMIZERS}, got {name!r}")
    return builders[name]()


def config_grid(**axes):
    """The product of named 1-D axes as ``(shape, columns)``: ``shape`` is the grid
    shape (axes in the order given) and ``columns[name]`` an array of shape
    ``(K, 1)``, ``K = prod(shape)``, ready to broadcast against ``(K, n)`` parameters."""
    if not axes:
        raise ValueError("config_grid needs at least one axis, got none")
    values = {}
    for name, axis in axes.items():
        array = np.asarray(axis)
        if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "fiu":
            raise ValueError(f"axis {name!r} must be a non-empty 1-D sequence of numbers, "
                             f"got {axis!r}")
        values[name] = array.astype(float)
    mesh = np.meshgrid(*values.values(), indexing="ij")
    return mesh[0].shape, {name: m.reshape(-1, 1) for name, m in zip(values, mesh)}


#: A configuration whose parameters exceed this size has diverged: its row is set
#: to NaN (and stays NaN), so that no later step overflows.
DIVERGED = 1e30


def run_batch(optimizer, gradient, theta0, steps, *, loss=None, record_every=0):
    """Run ``steps`` updates of ``optimizer`` on ``gradient`` from ``theta0``
    (copied; shape ``(K, n)``: K configurations at once).

    Returns the final parameters, or ``(final, history)`` if ``record_every > 0``,
    where ``history`` holds ``loss(θ_t)`` for ``t = 0, record_every, 2·record_every, ...``
    (shape ``(records, K)``).  Overflow in a diverging configuration is not an error:
    its loss becomes inf or NaN and ``summarize`` treats it as diverged.
    """
    steps = _count("steps", steps)
    record_every = _count("record_every", record_every, low=0)
    if record_every and loss is None:
        raise ValueError(f"record_every={record_every} needs a loss function, got loss=None")
    theta = np.array(theta0, dtype=float)
    check.float_array("theta0", theta)
    history = []
    with np.errstate(over="ignore", invalid="ignore"), restoring(optimizer, theta):
        for t in range(steps + 1):
            if record_every and t % record_every == 0:
                history.append(loss(theta))
            if t < steps:
                optimizer.step(theta, gradient(theta))
                blown = ~(np.abs(theta) < DIVERGED).all(axis=-1)   # also catches NaN
                theta[blown] = np.nan
    return (theta, np.array(history)) if record_every else theta


def summarize(losses, axis=-1):
    """Median and spread over ``axis`` (the seeds): returns ``(median, low, high)``
    with ``low``/``high`` the 10th and 90th percentiles.  NaN counts as diverged
    (+inf), so a configuration that blew up on any seed cannot look good."""
    losses = np.asarray(losses, dtype=float)
    if losses.size == 0:
        raise ValueError("losses must not be empty, got an empty array")
    huge = np.finfo(float).max                 # diverged (NaN, inf) stands in as the largest float
    clean = np.where(np.isfinite(losses), losses, huge)
    low, median, high = np.percentile(clean, [10, 50, 90], axis=axis)
    # a percentile interpolated towards a diverged run is itself "diverged"
    low, median, high = (np.where(p > 1e300, np.inf, p) for p in (low, median, high))
    return median, low, high


def best_per_row(values, lrs):
    """For a ``(..., n_lr)`` array of (median) losses: ``(best_value, best_lr, index)``
    minimizing over the last axis; ties go to the smaller learning rate."""
    values = np.asarray(values, dtype=float)
    lrs = np.asarray(lrs, dtype=float)
    if values.ndim == 0 or values.shape[-1] != lrs.size:
        raise ValueError(f"values must have a last axis of length len(lrs) = {lrs.size}, "
                         f"got shape {values.shape}")
    clean = np.where(np.isnan(values), np.inf, values)
    index = np.argmin(clean, axis=-1)
    best = np.take_along_axis(clean, index[..., None], axis=-1)[..., 0]
    return best, lrs[index], index


def gradient_noise_rms(gradient, theta, draws=1000):
    """Root-mean-square deviation of ``gradient(theta)`` from its mean over
    ``draws`` calls (an estimate of the oracle's noise per coordinate at ``theta``,
    a 1-D parameter vector): the quantity σ of additive noise, measured."""
    draws = _count("draws", draws, low=2)
    check.float_array("theta", theta)
    if theta.ndim != 1:
        raise ValueError(f"theta must be a 1-D parameter vector, got shape {theta.shape}")
    samples = gradient(np.broadcast_to(theta, (draws, theta.size)).copy())
    return float(np.sqrt(np.mean(np.var(samples, axis=0, ddof=1))))
