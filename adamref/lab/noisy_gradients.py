"""Computations for the noisy-gradients chapter (NumPy and the optimizers only).

The four optimizers compared are ``adamref.problems.registry.LINEAGE`` (built
by ``make_optimizer`` with possibly array-valued learning rates) and grids of
configurations come from ``adamref.problems.runs.grid``; ``run_batch`` runs K
configurations as one batch (``run`` with the chapter's bound ``DIVERGED``).
The chapter's experiments: ``final_excess_losses`` (every optimizer over a grid
of noise levels, learning rates and seeds), ``tuned_summary`` (each row at its
own best learning rate, tuned through ``adamref.problems.tune``),
``noise_floors`` (the excess loss that noise keeps around the optimum) with
``log_slope``, ``noise_runs`` (the explorer's experiment) and
``washboard_fractions`` (the local-minima experiment, with RMSprop as PyTorch
ships it and RMSprop with bias correction side by side); ``summarize`` turns
final losses into medians and spreads.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from adamref.optim import validation as check
from adamref.problems.datasets import gradient_oracle, make_least_squares
from adamref.problems.registry import LINEAGE, make_optimizer
from adamref.problems.runs import grid, run
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


def final_excess_losses(lrs, *, sigmas=(0.0,), batch_size=None, seeds=8, steps=500,
                        seed=10):
    """The final excess loss ``f(θ_T) − f(θ*)`` of every optimizer of ``LINEAGE`` on
    ``least_squares_problem()`` after ``steps`` steps from ``θ_0 = 0``, for every
    point of the grid (noise level ``σ`` in ``sigmas``, learning rate in ``lrs``,
    ``seeds`` independent streams): one batch run per optimizer, whose gradients come
    from ``gradient_oracle(problem, batch_size=batch_size, noise=σ)`` with the
    stream ``seed + i`` for the i-th optimizer.

    Returns ``{name: array of shape (len(sigmas), len(lrs), seeds)}``; a run that
    diverged is NaN."""
    seeds = check.integer("seeds", seeds, low=1)
    problem = least_squares_problem()
    shape, cols = grid(sigma=sigmas, lr=lrs, seed=np.arange(seeds))
    theta0 = np.zeros((cols["lr"].shape[0], problem.n_features))
    out = {}
    for i, name in enumerate(LINEAGE):
        oracle = gradient_oracle(problem, batch_size=batch_size, noise=cols["sigma"],
                                 seed=seed + i)
        theta = run_batch(make_optimizer(name, cols["lr"]), oracle, theta0, steps)
        out[name] = problem.excess_loss(theta).reshape(shape)
    return out


def tuned_summary(losses, lrs, *, floor=0.0) -> dict:
    """Each row of ``losses`` (shape ``(rows, len(lrs), seeds)``) at its own best
    learning rate: the median over seeds is tuned with ``tune_rows`` (``floor``:
    losses at or below it tie, the smallest such rate wins), and the median and
    the 10th and 90th percentiles are read at the best rate.

    Returns ``{"median", "low", "high", "lr"}``, arrays of shape ``(rows,)``;
    raises ``UnbracketedOptimum`` if a row's best rate is an edge of ``lrs``."""
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 3:
        raise ValueError(f"losses must have shape (rows, len(lrs), seeds), "
                         f"got shape {losses.shape}")
    median, low, high = summarize(losses)
    tuned = tune_rows(median, lrs, floor=floor)
    best = np.array([t.best_index for t in tuned])
    lr_best = np.array([t.best for t in tuned])          # raises if an optimum is unbracketed
    rows = np.arange(losses.shape[0])
    return {"median": median[rows, best], "low": low[rows, best], "high": high[rows, best],
            "lr": lr_best}


def noise_floors(sigmas, *, lr, seeds=8, steps=2000, tail=1000, record_every=10, seed=40,
                 names=LINEAGE, **options):
    """The noise floor of each optimizer in ``names``: runs start *at* the optimum
    of ``least_squares_problem()`` with gradient noise ``σ`` (each of ``sigmas``,
    ``seeds`` streams each, stream ``seed + i`` for the i-th name) and
    ``make_optimizer(name, lr, **options)``; the excess loss recorded every
    ``record_every`` steps over the last ``tail`` of ``steps`` steps is averaged,
    then averaged over the seeds.  Returns ``{name: array of shape (len(sigmas),)}``."""
    steps = check.integer("steps", steps, low=1)
    tail = check.integer("tail", tail, low=0)
    record_every = check.integer("record_every", record_every, low=1)
    if tail > steps or tail % record_every:
        raise ValueError(f"tail must be a multiple of record_every = {record_every} "
                         f"and at most steps = {steps}, got {tail}")
    seeds = check.integer("seeds", seeds, low=1)
    problem = least_squares_problem()
    shape, cols = grid(sigma=sigmas, seed=np.arange(seeds))
    at_optimum = np.tile(problem.optimum, (cols["sigma"].shape[0], 1))
    first = (steps - tail) // record_every               # the record at step steps − tail
    out = {}
    for i, name in enumerate(names):
        oracle = gradient_oracle(problem, noise=cols["sigma"], seed=seed + i)
        _, history = run_batch(make_optimizer(name, lr, **options), oracle, at_optimum, steps,
                               loss=problem.excess_loss, record_every=record_every)
        out[name] = history[first:].mean(axis=0).reshape(shape).mean(axis=1)
    return out


def log_slope(x, y) -> float:
    """The slope of the least-squares line through ``(log10 x, log10 y)``: how
    ``y`` grows with ``x`` on a log–log scale (2 for ``y ∝ x²``)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"x and y must be 1-D of one length >= 2, got shapes "
                         f"{x.shape} and {y.shape}")
    if not (np.all(x > 0) and np.all(y > 0)):
        raise ValueError(f"x and y must be positive (their logarithms are fitted), "
                         f"got x = {x!r}, y = {y!r}")
    return float(np.polyfit(np.log10(x), np.log10(y), 1)[0])


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
