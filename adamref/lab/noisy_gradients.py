"""Computations for the noisy-gradients chapter (NumPy and the optimizers only).

The four optimizers compared are ``adamref.problems.registry.LINEAGE`` (built
by ``make_optimizer`` with possibly array-valued learning rates) and grids of
configurations come from ``adamref.problems.runs.grid``; ``run_batch`` runs K
configurations as one batch (``run`` with the chapter's bound ``DIVERGED``);
``noise_runs`` is the explorer's experiment; ``summarize`` turns final losses
into medians and spreads, and ``tune_rows`` tunes the learning rate of every
row through ``adamref.problems.tune`` (bracketed optima only);
``washboard_fractions`` is the local-minima experiment, with RMSprop as PyTorch
ships it and RMSprop with bias correction side by side.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from adamref.optim import validation as check
from adamref.problems.datasets import gradient_oracle, make_least_squares
from adamref.problems.registry import LINEAGE, make_optimizer
from adamref.problems.runs import run
from adamref.problems.tuning import Tuned, tune


@lru_cache(maxsize=1)
def least_squares_problem():
    """The chapter's problem: ``make_least_squares(200, 10, noise=0.5, seed=0)``
    (features scaled from 2 down to 0.5, so the Hessian's condition number is ~17)."""
    return make_least_squares(200, 10, noise=0.5, seed=0)


#: The chapter's divergence bound (``run``'s policy with ``bound=DIVERGED``): a
#: configuration whose parameters exceed this size is set to NaN and stays NaN.
DIVERGED = 1e30


def run_batch(optimizer, gradient, theta0, steps, *, loss=None, record_every=0):
    """Run ``steps`` updates of ``optimizer`` on ``gradient`` from ``theta0``
    (copied; shape ``(K, n)``: K configurations at once) with ``run`` and the
    chapter's bound ``DIVERGED``.

    Returns the final parameters, or ``(final, history)`` if ``record_every > 0``,
    where ``history`` holds ``loss(θ_t)`` for ``t = 0, record_every, 2·record_every, ...``
    (shape ``(records, K)``).  A diverged configuration is NaN from then on, and
    ``summarize`` treats it as diverged.
    """
    steps = check.integer("steps", steps, low=1)
    record_every = check.integer("record_every", record_every, low=0)
    if record_every and loss is None:
        raise ValueError(f"record_every={record_every} needs a loss function, got loss=None")
    result = run(optimizer, gradient, theta0, steps, record=loss if record_every else None,
                 every=max(record_every, 1), bound=DIVERGED)
    return (result.theta, result.history) if record_every else result.theta


def noise_runs(noise=1.0, lr=1e-2, *, steps=500, seeds=8, record_every=5):
    """The four optimizers of ``LINEAGE`` at one common ``lr`` on
    ``least_squares_problem()`` with exact gradients plus ``noise·N(0, 1)`` per
    coordinate, ``seeds`` independent streams each (one batch of ``seeds`` rows
    per optimizer).  Returns ``(t, {name: excess-loss history of shape (records, seeds)})``."""
    problem = least_squares_problem()
    seeds = check.integer("seeds", seeds, low=1)
    theta0 = np.zeros((seeds, problem.n_features))
    out = {}
    for i, name in enumerate(LINEAGE):
        oracle = gradient_oracle(problem, noise=noise, seed=100 + i)
        _, history = run_batch(make_optimizer(name, lr), oracle, theta0, steps,
                               loss=problem.excess_loss, record_every=record_every)
        out[name] = history
    return np.arange(0, steps + 1, record_every), out


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


def tune_rows(medians, lrs, *, floor=0.0) -> list[Tuned]:
    """``tune(lrs, row, floor=floor)`` for every row of a ``(rows, n_lr)`` array of
    (median) losses: one ``Tuned`` per row, whose ``best`` raises
    ``UnbracketedOptimum`` if a row's best learning rate is an edge of ``lrs``.
    NaN counts as diverged; losses at or below ``floor`` tie (the smallest such
    learning rate is the best)."""
    medians = np.asarray(medians, dtype=float)
    lrs = np.asarray(lrs, dtype=float)
    if medians.ndim != 2 or medians.shape[1] != lrs.size:
        raise ValueError(f"medians must have shape (rows, len(lrs) = {lrs.size}), "
                         f"got shape {medians.shape}")
    return [tune(lrs, row, floor=floor) for row in medians]   # NaN: a failed run


#: The washboard's optimizers: the lineage, plus RMSprop with bias correction
#: (Adam with β1 = 0 and RMSprop's β2 = 0.99), whose first step is α and not
#: PyTorch RMSprop's α/√(1 − 0.99) = 10α.
CORRECTED_RMSPROP = "RMSprop (bias-corrected)"
WASHBOARD_OPTIMIZERS = LINEAGE[:3] + (CORRECTED_RMSPROP,) + LINEAGE[3:]


def washboard_optimizer(name, lr):
    """``make_optimizer(name, lr)``, or for ``CORRECTED_RMSPROP`` Adam with
    ``beta1=0, beta2=0.99`` (RMSprop's smoothing, with bias correction)."""
    if name == CORRECTED_RMSPROP:
        return make_optimizer("Adam", lr, beta1=0.0, beta2=0.99)
    return make_optimizer(name, lr)


def washboard_fractions(washboard, lrs, starts, sigma, *, seed, steps=1000,
                        names=WASHBOARD_OPTIMIZERS):
    """For each optimizer in ``names``: the fraction of ``starts`` whose run (``steps``
    steps of gradient + ``sigma·N(0, 1)`` noise, stream ``seed + i`` for the i-th name)
    ends in the global minimum's basin, one value per learning rate in ``lrs``.
    Runs that leave ``|θ| < 10`` (or diverge) count as failures."""
    lrs = np.asarray(lrs, dtype=float)
    starts = np.asarray(starts, dtype=float)
    if lrs.ndim != 1 or starts.ndim != 1:
        raise ValueError(f"lrs and starts must be 1-D, got shapes {lrs.shape} and {starts.shape}")
    sigma = check.hyperparameter("sigma", sigma, low=0.0)
    seed = check.seed("seed", seed)
    lr_col = np.repeat(lrs, starts.size)[:, None]        # (lr, start) rows, lr-major
    theta0 = np.tile(starts, lrs.size)[:, None]
    out = {}
    for i, name in enumerate(names):
        noise_rng = np.random.default_rng(seed + i)

        def gradient(theta, noise_rng=noise_rng):
            return washboard.gradient(theta) + sigma * noise_rng.standard_normal(theta.shape)

        final = run_batch(washboard_optimizer(name, lr_col), gradient, theta0, steps)[:, 0]
        inside = np.abs(final) < 10            # diverged runs (NaN, far away) count as failures
        ended = np.full(final.shape, np.nan)
        ended[inside] = washboard.basin(final[inside, None])
        out[name] = (np.abs(ended) < 0.5).reshape(lrs.size, starts.size).mean(axis=1)
    return out


def gradient_noise_rms(gradient, theta, draws=1000):
    """Root-mean-square deviation of ``gradient(theta)`` from its mean over
    ``draws`` calls (an estimate of the oracle's noise per coordinate at ``theta``,
    a 1-D parameter vector): the quantity σ of additive noise, measured."""
    draws = check.integer("draws", draws, low=2)
    check.float_array("theta", theta)
    if theta.ndim != 1:
        raise ValueError(f"theta must be a 1-D parameter vector, got shape {theta.shape}")
    samples = gradient(np.broadcast_to(theta, (draws, theta.size)).copy())
    return float(np.sqrt(np.mean(np.var(samples, axis=0, ddof=1))))
