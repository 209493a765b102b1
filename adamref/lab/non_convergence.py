"""Online convex problems on which Adam fails to converge (Reddi, Kale & Kumar,
2018) and a projected Adam/AMSGrad runner with a decaying step size.

The losses are linear, ``f_t(x) = c_t·x`` on the interval ``[low, high]``, so
the gradient at step ``t`` is ``c_t`` wherever ``x`` is: a problem is just the
sequence ``c_1, …, c_T`` (an array of shape ``(T,)`` or ``(T, ...)``).

``projected_adam`` runs the paper's Adam (``amsgrad=False``) and AMSGrad
(``amsgrad=True``) on such a sequence: ``adamref.Adam``'s update with the step
size ``η_t·α = α/√t`` (``schedule="sqrt"``, the paper's choice) or ``α``
(``"constant"``), each step followed by the projection onto the interval.
Hyperparameters may be arrays: they broadcast against each other, so one call
runs many configurations.  Since the gradients do not depend on θ, there is no
loop over time either: the moments are prefix scans (``moments.ema_scan``) and so is
the projected path (``clip_scan``), each ⌈log2 T⌉ vectorized passes.
Nothing here imports matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.lab.moments import ema_scan
from adamref.optim.optimizer import power_table

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


def clip_scan(theta0, moves, low, high):
    """``θ_t = min(max(θ_{t−1} + d_t, low), high)`` for every t at once, from
    ``θ_0 = theta0`` and the moves ``d_t`` (time on axis 0).

    Each step is the map ``x ↦ clamp(x + a, l, h)``, and such maps compose into
    one of the same form: applying ``(a1, l1, h1)`` then ``(a2, l2, h2)`` is
    ``(a1 + a2, clamp(l1 + a2, l2, h2), clamp(h1 + a2, l2, h2))``.  A doubling
    prefix scan composes the first t maps for every t in ⌈log2 T⌉ vectorized
    passes; ``θ_t`` is the composed map applied to ``θ_0``.  Equal to the
    step-by-step clipping up to rounding (the sums are added in another order)."""
    shift = np.array(moves, dtype=float)                   # a: the summed moves
    floor, ceiling = np.full_like(shift, low), np.full_like(shift, high)   # l, h
    offset = 1
    while offset < shift.shape[0]:
        later = shift[offset:]                                # applied after the earlier maps
        lo, hi = floor[offset:], ceiling[offset:]
        composed = (shift[:-offset] + later,
                    np.minimum(np.maximum(floor[:-offset] + later, lo), hi),
                    np.minimum(np.maximum(ceiling[:-offset] + later, lo), hi))
        shift[offset:], floor[offset:], ceiling[offset:] = composed
        offset *= 2
    return np.minimum(np.maximum(theta0 + shift, floor), ceiling)


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

    The losses are linear, so the gradients do not depend on θ: ``m``, ``v`` and
    every step's move are computed for all t at once (``ema_scan``, a running
    maximum), and only the projection links one step to the next (``clip_scan``).
    The result is ``adamref.Adam`` followed by clipping, up to rounding (tested).
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
    # c_t on every configuration: the sequence's own axes line up with the last ones
    g = np.broadcast_to(grads.reshape(steps, *([1] * (len(shape) + 1 - grads.ndim)),
                                      *grads.shape[1:]), (steps, *shape)).astype(float)
    t = np.arange(1, steps + 1).reshape(steps, *([1] * len(shape)))

    def powers(beta):                       # β^t, t = 1 … T, shaped (T, 1, …, *β's shape)
        table = power_table(beta, 1, steps)
        return table.reshape(steps, *([1] * (len(shape) - np.ndim(beta))), *np.shape(beta))

    m, v = ema_scan(g, beta1), ema_scan(g * g, beta2)
    v = np.where(amsgrad_arr, np.maximum.accumulate(v, axis=0), v)   # AMSGrad: v_max
    if bias_correction:
        correction1 = 1 - powers(beta1)                                 # 1 − β1^t
        sqrt_correction2 = np.sqrt(1 - powers(beta2))                   # √(1 − β2^t)
    else:
        correction1 = sqrt_correction2 = 1.0
    rate = lr / np.sqrt(t) if schedule == "sqrt" else lr * np.ones_like(t, dtype=float)
    denom = np.sqrt(v) / sqrt_correction2 + eps                         # √v̂ + ε
    effective = rate / denom                                            # η_t·α/(√v̂_t + ε)
    moves = -(rate / correction1) * (m / denom)                         # −η_t·α·m̂/(√v̂ + ε)
    theta = clip_scan(np.broadcast_to(theta0, shape), moves, low, high)
    path = np.concatenate([np.broadcast_to(np.asarray(theta0, dtype=float), (1, *shape)),
                           theta])
    return OnlineRun(theta=path, effective_step=np.broadcast_to(effective, (steps, *shape)).copy())


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


def theorem_1_runs(C=3.0, lr=0.1, steps=3000, beta1=0.0):
    """Adam and AMSGrad (β2 = 1/(1 + C²), η_t·α = α/√t, and β1 = 0 as in the
    theorem unless ``beta1`` says otherwise) on Reddi et al.'s Theorem 1 problem
    with constant ``C``: returns ``(beta2, OnlineRun, average regret)``,
    configuration 0 Adam and 1 AMSGrad."""
    beta2 = reddi_beta2(C)
    grads = cyclic_gradients(steps, large=C, small=-1.0, period=3)
    run = projected_adam(grads, lr=lr, beta1=beta1, beta2=beta2, amsgrad=np.array([False, True]))
    return beta2, run, average_regret(run.theta, grads)
