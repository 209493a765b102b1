"""Online convex problems on which Adam fails to converge (Reddi, Kale & Kumar,
2018) and a projected Adam/AMSGrad runner with a decaying step size.

The losses are linear, ``f_t(x) = c_t·x`` on the interval ``[low, high]``, so
the gradient at step ``t`` is ``c_t`` wherever ``x`` is: a problem is just the
sequence ``c_1, …, c_T`` (an array of shape ``(T,)`` or ``(T, ...)``).

``projected_adam`` runs the paper's Adam (``amsgrad=False``) and AMSGrad
(``amsgrad=True``) on such a sequence: ``adamref.Adam`` with the step size
``η_t·α = α/√t`` (``schedule="sqrt"``, the paper's choice: the schedule
``inverse_sqrt``) or ``α`` (``"constant"``), each step followed by the
projection onto the interval.  Hyperparameters may be arrays: they broadcast against each
other, so one call runs many configurations (the time loop is the only loop).
Nothing here imports matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.optim.schedules import inverse_sqrt

SCHEDULES = ("sqrt", "constant")


def _steps(name, value, low=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def cyclic_gradients(steps: int, large: float = 3.0, small: float = -1.0,
                     period: int = 3) -> np.ndarray:
    """``c_t = large`` for ``t mod period = 1``, else ``small`` (t = 1, …, steps).

    ``large=C, small=-1, period=3`` is the problem of Reddi et al.'s Theorem 1;
    ``large=1010, small=-10, period=101`` is their synthetic experiment.
    """
    steps = _steps("steps", steps)
    period = _steps("period", period, low=2)
    large = check.hyperparameter("large", large, low=-np.inf)
    small = check.hyperparameter("small", small, low=-np.inf)
    if np.ndim(large) or np.ndim(small):
        raise TypeError(f"large and small must be scalars, got {large!r} and {small!r}")
    t = np.arange(1, steps + 1)
    return np.where(t % period == 1 % period, large, small)


def stochastic_gradients(steps: int, large: float = 1010.0, small: float = -10.0,
                         prob: float = 0.01, seed: int = 0) -> np.ndarray:
    """``c_t = large`` with probability ``prob``, else ``small``, drawn i.i.d.
    from ``np.random.default_rng(seed)``."""
    steps = _steps("steps", steps)
    prob = check.hyperparameter("prob", prob, low=0.0, high=1.0)
    large = check.hyperparameter("large", large, low=-np.inf)
    small = check.hyperparameter("small", small, low=-np.inf)
    if np.ndim(large) or np.ndim(small) or np.ndim(prob):
        raise TypeError("large, small and prob must be scalars, got "
                        f"{large!r}, {small!r}, {prob!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    return np.where(rng.random(steps) < prob, large, small)


def reddi_beta2(C) -> float:
    """β2 = 1/(1 + C²), the value in Reddi et al.'s Theorem 1 (C > 2)."""
    C = check.hyperparameter("C", C, low=0.0)
    if np.any(np.asarray(C) <= 2):
        raise ValueError(f"C must be > 2 (the theorem's condition), got {C!r}")
    return 1.0 / (1.0 + np.asarray(C) ** 2) if np.ndim(C) else 1.0 / (1.0 + C**2)


@dataclass(frozen=True)
class OnlineRun:
    """What ``projected_adam`` records.

    ``theta``: the iterates θ, shape ``(T + 1, *config)``; ``theta[0]`` is the start and
    ``theta[t]`` the point after update ``t`` (so ``theta[t-1]`` is played at round ``t``).
    ``effective_step``: ``η_t·α/(√v̂_t + ε)`` used by update ``t``, shape ``(T, *config)``.
    """

    theta: np.ndarray
    effective_step: np.ndarray


def projected_adam(grads, lr=0.1, beta1=0.0, beta2=0.1, eps=1e-8, *, amsgrad=False,
                   schedule: str = "sqrt", bias_correction: bool = True, theta0=0.0,
                   low: float = -1.0, high: float = 1.0) -> OnlineRun:
    """Adam or AMSGrad with step ``η_t·α`` and projection onto ``[low, high]``.

    ``grads``: the gradient sequence, shape ``(T,)`` or ``(T, *config)``.
    ``lr, beta1, beta2, eps, theta0`` and ``amsgrad`` (a bool or a bool array) may
    be arrays; everything broadcasts to one configuration shape.  Per step:
    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``, AMSGrad ``v ← max(v_max, v)``,
    bias correction (if on) as in ``adamref.Adam``, then
    ``θ ← clip(θ − η_t·α·m̂/(√v̂ + ε), low, high)``.
    """
    if not isinstance(grads, np.ndarray):
        raise TypeError(f"grads must be a NumPy ndarray, got {type(grads).__name__}")
    check.float_array("grads", grads)
    if grads.ndim == 0 or grads.shape[0] == 0:
        raise ValueError(f"grads must have shape (T, ...) with T >= 1, got shape {grads.shape}")
    lr = check.hyperparameter("lr", lr, low=0.0)
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    eps = check.hyperparameter("eps", eps, low=0.0)
    theta0 = check.hyperparameter("theta0", theta0, low=-np.inf)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    bias_correction = check.flag("bias_correction", bias_correction)
    low = check.hyperparameter("low", low, low=-np.inf)
    high = check.hyperparameter("high", high, low=-np.inf)
    if np.ndim(low) or np.ndim(high) or not low < high:
        raise ValueError(f"low and high must be scalars with low < high, got {low!r}, {high!r}")
    amsgrad_arr = np.asarray(amsgrad)
    if amsgrad_arr.dtype != np.bool_:
        raise TypeError(f"amsgrad must be True/False or a bool array, got {amsgrad!r}")
    if np.any((np.asarray(theta0) < low) | (np.asarray(theta0) > high)):
        raise ValueError(f"theta0 must lie in [{low}, {high}], got {theta0!r}")

    shape = np.broadcast_shapes(grads.shape[1:], np.shape(lr), np.shape(beta1),
                                np.shape(beta2), np.shape(eps), np.shape(theta0),
                                amsgrad_arr.shape)
    steps = grads.shape[0]
    rate = inverse_sqrt(lr) if schedule == "sqrt" else lr
    runs = {}    # one Adam per value of amsgrad that occurs, on every configuration
    for flag in sorted({bool(a) for a in amsgrad_arr.flat}):
        opt = Adam(rate, beta1, beta2, eps, amsgrad=flag, bias_correction=bias_correction)
        x = np.broadcast_to(np.asarray(theta0, dtype=float), shape).copy()
        g = np.empty(shape)
        path, effective = np.empty((steps + 1, *shape)), np.empty((steps, *shape))
        path[0] = x
        for i in range(steps):
            np.copyto(g, grads[i])                    # c_t, for every configuration
            opt.step(x, g)
            np.minimum(np.maximum(x, low, out=x), high, out=x)   # projection onto [low, high]
            path[i + 1] = x
            effective[i] = opt.effective_step()       # η_t·α/(√v̂_t + ε)
        runs[flag] = path, effective
    if len(runs) == 1:
        path, effective = runs[bool(amsgrad_arr.flat[0])]
    else:                                             # each configuration takes its own
        path, effective = (np.where(amsgrad_arr, ams, adam)
                           for adam, ams in zip(runs[False], runs[True]))
    return OnlineRun(theta=path, effective_step=effective)


def average_regret(theta, grads, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """``R_t/t`` for linear losses ``f_s(θ) = c_s·θ``: the loss of the points
    played, ``Σ_{s≤t} c_s·θ_{s−1}``, minus that of the best fixed point in
    hindsight, ``min_{θ∈[low,high]} θ·Σ_{s≤t} c_s``; shape ``(T, *config)``.

    ``theta`` is ``OnlineRun.theta`` (shape ``(T + 1, ...)``), ``grads`` the sequence.
    """
    if not np.ndim(low) == np.ndim(high) == 0 or not low < high:
        raise ValueError(f"low and high must be scalars with low < high, got {low!r}, {high!r}")
    x, grads = np.asarray(theta, dtype=float), np.asarray(grads, dtype=float)
    if x.ndim == 0 or grads.ndim == 0 or x.shape[0] != grads.shape[0] + 1:
        raise ValueError(f"theta must have one more row than grads, got shapes {x.shape} "
                         f"and {grads.shape}")
    g = grads.reshape(grads.shape + (1,) * (x.ndim - grads.ndim))
    played = np.cumsum(g * x[:-1], axis=0)
    total = np.cumsum(g, axis=0)
    best = np.minimum(low * total, high * total)
    t = np.arange(1, grads.shape[0] + 1).reshape((-1,) + (1,) * (x.ndim - 1))
    return (played - best) / t


def theorem_1_runs(C=3.0, lr=0.1, steps=3000):
    """Adam and AMSGrad (β1 = 0, β2 = 1/(1 + C²), η_t·α = α/√t) on Reddi et
    al.'s Theorem 1 problem with constant ``C``: returns ``(beta2, OnlineRun,
    average regret)``, configuration 0 Adam and 1 AMSGrad."""
    beta2 = reddi_beta2(C)
    grads = cyclic_gradients(steps, large=C, small=-1.0, period=3)
    run = projected_adam(grads, lr=lr, beta1=0.0, beta2=beta2, amsgrad=np.array([False, True]))
    return beta2, run, average_regret(run.theta, grads)

