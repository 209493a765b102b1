"""Computations for the bias-correction chapter (NumPy and the optimizers only).

- ``second_moment_bias``: the zero-initialization bias of ``v_t``, measured on
  many seeded gradient streams with ``adamref.Adam`` itself.
- ``step_inflation``: how much larger an uncorrected step is than a corrected one.
- ``first_step``: the first update of ``adamref.Adam``; ``adam_steps``: its
  updates over a given sequence of gradients.
- ``adam_grid``: Kingma & Ba's Sec. 6.4 experiment in one broadcast run.
- ``adam_run``: one configuration, with its loss curve and step sizes.
- ``correction_sweep`` and ``correction_runs``: the explorer's curves, every
  (β2, α) it offers in one cached broadcast run per setting of the flag.
- ``inflation_landmarks``: where the step inflation starts, peaks and fades.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import Adam, checked_hyperparameters
from adamref.problems.datasets import gradient_oracle, make_logistic
from adamref.problems.runs import grid, run

#: The minibatch size of the chapter's runs: 10 steps make one epoch of 200 samples.
BATCH_SIZE = 20


@lru_cache(maxsize=1)
def logistic_problem():
    """The chapter's small problem: logistic regression, 200 samples, 20 features,
    10 % flipped labels (``make_logistic(200, 20, label_noise=0.1, seed=0)``)."""
    return make_logistic(200, 20, label_noise=0.1, seed=0)


def _vector(name: str, values, low, high, high_inclusive=True) -> np.ndarray:
    array = check.hyperparameter(name, values, low=low, high=high, high_inclusive=high_inclusive)
    array = np.atleast_1d(np.asarray(array, dtype=float))
    if array.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence, got shape {array.shape}")
    return array


def second_moment_bias(beta2, steps, *, n_streams=1000, mean=0.0, std=1.0, seed=0):
    """``v_t / E[g²]`` averaged over ``n_streams`` i.i.d. gradient streams
    ``g ~ N(mean, std²)``, for ``t = 1..steps`` and each ``beta2``.

    ``v`` is read from ``adamref.Adam`` (run with ``lr = 0`` so θ stays put):
    the measured quantity is the optimizer's own buffer.  Returns
    ``(ratio_mean, ratio_sem)``, each of shape ``(len(beta2), steps)``:
    the mean over streams and its standard error.
    """
    beta2 = _vector("beta2", beta2, 0.0, 1.0, high_inclusive=False)
    steps, n_streams = check.integer("steps", steps, 1), check.integer("n_streams", n_streams, 2)
    mean = check.hyperparameter("mean", mean, low=-np.inf)
    std = check.hyperparameter("std", std, low=0.0)
    if not isinstance(mean, float) or not isinstance(std, float):
        raise TypeError(f"mean and std must be real numbers, got mean={mean!r}, std={std!r}")
    second_moment = mean**2 + std**2
    if second_moment == 0:
        raise ValueError("mean and std cannot both be 0 (E[g²] = 0), got mean=0.0, std=0.0")
    rng = np.random.default_rng(check.seed("seed", seed))
    opt = Adam(lr=0.0, beta2=beta2[:, None])

    def v_ratio(theta):                      # v is 0 before the first step
        return np.zeros_like(theta) if opt.t == 0 else opt.v / second_moment

    history = run(opt, lambda theta: mean + std * rng.standard_normal(theta.shape),
                  np.zeros((beta2.size, n_streams)), steps, record=v_ratio).history[1:]
    ratio_mean = np.moveaxis(history.mean(axis=2), 0, 1)           # (len(beta2), steps)
    ratio_sem = np.moveaxis(history.std(axis=2, ddof=1), 0, 1) / np.sqrt(n_streams)
    return ratio_mean, ratio_sem


def step_inflation(beta1, beta2, t):
    """``(1 − β1^t) / √(1 − β2^t)``: the uncorrected step ``α·m/(√v + ε)`` divided
    by the corrected one ``α·m̂/(√v̂ + ε)`` for the same ``m`` and ``v`` (ε → 0).
    Arguments broadcast; ``t`` holds step counts >= 1."""
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    t_arr = check.step_counts("t", t).astype(float)
    return (1 - np.power(beta1, t_arr)) / np.sqrt(1 - np.power(beta2, t_arr))


def first_step(grad, **adam_options):
    """The parameter change ``θ_1 − θ_0`` of ``adamref.Adam(**adam_options)``'s
    first update from ``θ_0 = 0`` with gradient ``grad`` (a float ndarray)."""
    check.float_array("grad", grad)
    theta = np.zeros_like(grad)
    Adam(**adam_options).step(theta, grad.copy())
    return theta


def adam_steps(grads, **adam_options):
    """The parameter changes ``θ_t − θ_{t−1}``, ``t = 1..len(grads)``, of
    ``adamref.Adam(**adam_options)`` fed the gradient ``grads[t − 1]`` at step
    ``t`` from ``θ_0 = 0``.  ``grads`` is a float ndarray whose first axis is the
    step; the result has its shape."""
    check.float_array("grads", grads)
    if grads.ndim < 2 or grads.shape[0] == 0:
        raise ValueError(f"grads must have shape (steps, ...) with steps >= 1 and at least "
                         f"one coordinate axis, got shape {grads.shape}")
    given = iter(grads)
    path = run(Adam(**adam_options), lambda theta: next(given).copy(),
               np.zeros(grads.shape[1:]), grads.shape[0], record=np.copy,
               bound=np.inf).history
    return np.diff(path, axis=0)


def _grid_problem(problem):
    if not (hasattr(problem, "loss") and hasattr(problem, "gradient")
            and hasattr(problem, "n_features")):
        raise TypeError("problem must be a dataset problem (adamref.problems.datasets), "
                        f"got {type(problem).__name__}")
    return problem


def _record(record, steps):
    record = tuple(record)
    if not record or any(check.integer("record[i]", r, 1) > steps for r in record):
        raise ValueError(f"record must list step counts in [1, steps={steps}], got {record!r}")
    return record


def adam_grid(problem, lrs, beta2s, beta1s=(0.9,), *, steps, record, bias_correction=True,
              batch_size=None, seed=0):
    """Adam on ``problem`` for every (β1, β2, α) of the grid, in one broadcast run.

    Parameters have shape ``(K, n_features)`` with ``K = len(beta1s)·len(beta2s)·len(lrs)``
    and the hyperparameters shape ``(K, 1)``; every configuration starts at θ = 0
    and gets its own minibatch stream from ``gradient_oracle(problem,
    batch_size=batch_size, seed=seed)``.  Returns ``{t: losses}`` for each ``t`` in
    ``record``, ``losses`` of shape ``(len(beta1s), len(beta2s), len(lrs))``:
    the full-data loss after ``t`` steps.
    """
    problem = _grid_problem(problem)
    lrs = _vector("lrs", lrs, 0.0, np.inf)
    beta2s = _vector("beta2s", beta2s, 0.0, 1.0, high_inclusive=False)
    beta1s = _vector("beta1s", beta1s, 0.0, 1.0, high_inclusive=False)
    steps = check.integer("steps", steps, 1)
    record = _record(record, steps)
    shape, columns = grid(beta1=beta1s, beta2=beta2s, lr=lrs)
    opt = Adam(**columns, bias_correction=check.flag("bias_correction", bias_correction))
    oracle = gradient_oracle(problem, batch_size=batch_size, seed=seed)
    every = math.gcd(*record)                    # the loss only where it is asked for
    result = run(opt, oracle, np.zeros((columns["lr"].shape[0], problem.n_features)), steps,
                 record=problem.loss, every=every)
    return {t: result.history[t // every].reshape(shape) for t in record}


def adam_run(problem, lr=1e-3, beta1=0.9, beta2=0.999, *, bias_correction=True, steps=1000,
             batch_size=None, seed=0):
    """One Adam run from θ = 0: returns ``(losses, step_ratio)``, each of length
    ``steps + 1``/``steps``: the full-data loss at every iterate and the mean
    ``|Δθ|/α`` over coordinates at every step."""
    problem = _grid_problem(problem)
    lr, beta1, beta2, _ = checked_hyperparameters(lr, beta1, beta2, 1e-8)
    if lr == 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    steps = check.integer("steps", steps, 1)
    opt = Adam(lr=lr, beta1=beta1, beta2=beta2,
               bias_correction=check.flag("bias_correction", bias_correction))
    oracle = gradient_oracle(problem, batch_size=batch_size, seed=seed)
    path = run(opt, oracle, np.zeros(problem.n_features), steps, record=np.copy).history
    return problem.loss(path), np.mean(np.abs(np.diff(path, axis=0)), axis=1) / lr


def inflation_landmarks(beta1, beta2, steps, *, threshold=1.1):
    """Landmarks of ``step_inflation(beta1, beta2, t)`` for ``t = 1..steps``:
    its value at ``t = 1`` (``first``), its largest value (``peak``) and the step
    where it is reached (``peak_step``), and the first step after the peak from
    which it is below ``threshold`` (``below_from``; None if it never is)."""
    steps = check.integer("steps", steps, 1)
    threshold = check.positive_number("threshold", threshold)
    inflation = step_inflation(beta1, beta2, np.arange(1, steps + 1))
    peak = int(np.argmax(inflation))  # not tuning: where the inflation peaks
    below = np.flatnonzero(inflation[peak:] < threshold)
    return {"first": float(inflation[0]), "peak": float(inflation[peak]),
            "peak_step": peak + 1,
            "below_from": int(peak + below[0] + 1) if below.size else None}


#: The α and β2 values of the chapter's explorer: ``correction_runs`` runs them
#: all at once (``correction_sweep``), so that moving a slider only redraws.
EXPLORER_LRS = tuple(float(f"{m}e{e}") for e in range(-4, 1) for m in (1, 2, 5)
                  if float(f"{m}e{e}") <= 1.0)
EXPLORER_BETA2S = (0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999)


@lru_cache(maxsize=2)
def correction_sweep(beta2s: tuple, lrs: tuple, *, beta1=0.9, steps=500,
                     batch_size=BATCH_SIZE, seed=1):
    """Adam's paths on ``logistic_problem()`` from θ = 0 for every ``(β2, α)`` of
    ``beta2s × lrs``, with and without bias correction: one broadcast run per
    flag, every configuration fed the same minibatches (the ones ``adam_run``
    with this ``seed`` draws), so each path is ``adam_run``'s for its setting.

    Returns ``{flag: paths}``, ``paths`` of shape ``(len(beta2s), len(lrs),
    steps + 1, n_features)``; cached, so read-only.
    """
    beta2s = _vector("beta2s", beta2s, 0.0, 1.0, high_inclusive=False)
    lrs = _vector("lrs", lrs, 0.0, np.inf)
    if np.any(lrs == 0):
        raise ValueError(f"lrs must be > 0, got {lrs.tolist()!r}")
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    steps, batch_size = check.integer("steps", steps, 1), check.integer("batch_size", batch_size, 1)
    problem = logistic_problem()
    shape, columns = grid(beta2=beta2s, lr=lrs)
    rows = columns["lr"].shape[0]
    paths = {}
    for flag in (True, False):
        rng = np.random.default_rng(check.seed("seed", seed))   # the same batches for both flags

        def shared_batches(theta):
            batch = rng.integers(0, problem.n_samples, size=batch_size)
            return problem.gradient(theta, np.broadcast_to(batch, (rows, batch_size)))

        opt = Adam(beta1=beta1, **columns, bias_correction=flag)
        history = run(opt, shared_batches, np.zeros((rows, problem.n_features)), steps,
                      record=np.copy).history                   # (steps + 1, rows, n)
        paths[flag] = np.ascontiguousarray(np.moveaxis(history, 0, 1)).reshape(
            *shape, steps + 1, problem.n_features)
        paths[flag].flags.writeable = False
    return paths


def correction_runs(beta2, lr, *, steps=500):
    """``{flag: (losses, step_ratio)}`` as ``adam_run(logistic_problem(), lr, 0.9,
    beta2, bias_correction=flag, steps=steps, batch_size=BATCH_SIZE, seed=1)``
    returns them, from the cached sweep over ``EXPLORER_BETA2S × EXPLORER_LRS`` when
    both values are in it."""
    if beta2 in EXPLORER_BETA2S and lr in EXPLORER_LRS:
        beta2s, lrs = EXPLORER_BETA2S, EXPLORER_LRS
    else:
        beta2s, lrs = (beta2,), (lr,)
    i, j = beta2s.index(beta2), lrs.index(lr)
    problem = logistic_problem()
    runs = {}
    for flag, paths in correction_sweep(beta2s, lrs, steps=steps).items():
        path = paths[i, j]
        runs[flag] = (problem.loss(path), np.mean(np.abs(np.diff(path, axis=0)), axis=1) / lr)
    return runs
