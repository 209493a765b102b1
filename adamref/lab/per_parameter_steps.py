"""Badly scaled problems and the size of Adam's per-coordinate steps.

``badly_scaled_quadratic`` is an axis-aligned ``Quadratic`` bowl whose
coordinates have gradient scales many orders of magnitude apart.  The other
functions measure what Adam does with each coordinate: the steps it takes on a
given gradient stream, the closed-form step after a run of zero gradients, and
the step as a function of the gradient's scale (where ε takes over), the
largest step any gradient sequence can produce (``step_supremum``, checked on
``adamref.Adam`` by ``largest_steps``) and the explorer's runs on the badly
scaled bowl (``sgd_and_adam_on_the_bowl``).  NumPy only: nothing here imports
matplotlib.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.optim.optimizer import power_table
from adamref.optim.baselines import SGD
from adamref.problems.objectives import Quadratic
from adamref.problems.runs import run, trajectory
from adamref.roundoff import agreement


def badly_scaled_quadratic(low=1e-3, high=1e3, dim=7) -> Quadratic:
    """An axis-aligned ``Quadratic`` with ``dim`` curvatures log-spaced from ``low`` to ``high``."""
    low = check.hyperparameter("low", low, low=0.0)
    high = check.hyperparameter("high", high, low=0.0)
    if isinstance(low, np.ndarray) or isinstance(high, np.ndarray) or not 0 < low <= high:
        raise ValueError(f"low and high must be numbers with 0 < low <= high, "
                         f"got low={low!r}, high={high!r}")
    return Quadratic(np.geomspace(low, high, check.integer("dim", dim, low=1)))


def steps_along(optimizer, grads) -> np.ndarray:
    """The updates ``Δθ_t = θ_t − θ_{t−1}`` that ``optimizer`` makes when fed the
    fixed gradient stream ``grads`` (shape ``(T, ...)``, one row per step),
    starting from θ = 0.  The parameters do not influence the gradients, so this
    isolates how the optimizer turns gradients into steps."""
    grads = check.float_array("grads", grads)
    if grads.ndim < 1 or grads.shape[0] < 1:
        raise ValueError(f"grads must have shape (T, ...) with T >= 1, got shape {grads.shape}")
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer must have a step(params, grads) method, "
                        f"got {type(optimizer).__name__}")
    column = grads[:, None] if grads.ndim == 1 else grads   # the run loop wants a coordinate axis
    stream = iter(column)
    # The parameters never feed back into the gradients: no divergence bound.
    path = run(optimizer, lambda theta: np.ascontiguousarray(next(stream)),
               np.zeros(column.shape[1:], dtype=grads.dtype), grads.shape[0],
               record=np.copy, bound=np.inf).history
    return np.diff(path, axis=0).reshape(grads.shape)


def spike_step(t, beta1=0.9, beta2=0.999):
    """``|Δθ|/α`` when a gradient spike arrives at step ``t`` after ``t − 1`` zero
    gradients (ε negligible):
    ``(1 − β1)/(1 − β1^t) · √(1 − β2^t)/√(1 − β2)``.

    ``t`` may be an integer array; for ``t → ∞`` this tends to
    ``(1 − β1)/√(1 − β2)`` (≈ 3.16 at the defaults)."""
    t_array = check.step_counts("t", t)
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    t_float = t_array.astype(float)
    return ((1 - beta1) / (1 - beta1**t_float)
            * np.sqrt(1 - beta2**t_float) / np.sqrt(1 - beta2))


def step_vs_gradient_scale(scales, eps, t, *, lr=1e-3, beta1=0.9, beta2=0.999,
                           epsilon_hat=False):
    """``|Δθ_t|/α`` of ``Adam`` after ``t`` steps of the constant gradient ``g = s``,
    for every gradient scale ``s`` in ``scales`` and every ``eps`` (a number or a
    1-D array).  Returns shape ``(len(eps), len(scales))``.

    One broadcast run: the parameters have shape ``(len(eps), len(scales))`` and
    ``eps`` is passed as a column, so each row is an independent Adam.  The run
    takes ``t − 1`` steps and then step ``t`` (the optimizer keeps its state
    between the two), so only the last step is stored."""
    scales = check.positive_vector("scales", scales)
    eps_values = np.atleast_1d(check.hyperparameter("eps", eps, low=0.0))
    if eps_values.ndim != 1:
        raise ValueError(f"eps must be a number or a 1-D array, got shape {eps_values.shape}")
    t = check.step_count("t", t)
    opt = Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps_values[:, None],
               epsilon_hat=check.flag("epsilon_hat", epsilon_hat))
    grad = np.broadcast_to(scales, (eps_values.size, scales.size)).astype(float)
    constant = lambda theta: grad                    # noqa: E731  the gradient never changes
    # θ never feeds back into the gradient: no divergence bound
    before = run(opt, constant, np.zeros_like(grad), t - 1, bound=np.inf).theta
    after = run(opt, constant, before, 1, bound=np.inf).theta
    return np.abs(after - before) / lr


def steps_to_reach(distances, tol):
    """For each coordinate, the first step at which ``distances[t] <= tol·distances[0]``.

    ``distances`` has shape ``(T + 1, ...)`` (row 0 is the start); coordinates
    that never get there return ``np.inf``.  Returns a float array of shape ``(...)``."""
    distances = check.float_array("distances", distances)
    if distances.ndim < 1 or distances.shape[0] < 2:
        raise ValueError(f"distances must have shape (T + 1, ...) with T >= 1, "
                         f"got shape {distances.shape}")
    tol = check.hyperparameter("tol", tol, low=0.0, high=1.0)
    if isinstance(tol, np.ndarray):
        raise TypeError(f"tol must be a number, got an array of shape {tol.shape}")
    reached = distances <= tol * distances[0]
    first = np.argmax(reached, axis=0).astype(float)  # not tuning: the first step within tol
    first[~reached.any(axis=0)] = np.inf
    return first


def sgd_steps_to_reach(curvatures, lr, tol):
    """Steps plain gradient descent (step ``lr``) needs to shrink coordinate ``i``
    of an axis-aligned ``Quadratic`` to ``tol`` times its start: ``ln tol / ln|1 − lr·c_i|``
    (``np.inf`` where ``|1 − lr·c_i| >= 1``: no progress or divergence; 1 where
    one step lands exactly on the minimum)."""
    curvatures = check.positive_vector("curvatures", curvatures)
    lr = check.hyperparameter("lr", lr, low=0.0)
    tol = check.hyperparameter("tol", tol, low=0.0, high=1.0, high_inclusive=False)
    if isinstance(lr, np.ndarray) or isinstance(tol, np.ndarray) or tol == 0:
        raise ValueError(f"lr and tol must be numbers with 0 < tol < 1, got lr={lr!r}, tol={tol!r}")
    factor = np.abs(1 - lr * curvatures)
    out = np.full(curvatures.shape, np.inf)
    contracting = factor < 1
    exact = factor == 0
    with np.errstate(divide="ignore"):
        out[contracting] = np.ceil(np.log(tol) / np.log(factor[contracting]))
    out[exact] = 1.0
    return out


def sign_descent(gradient, theta0, lr, steps) -> np.ndarray:
    """``θ_t = θ_{t−1} − α·sign(g_t)``: the path (shape ``(steps + 1, ...)``, row 0
    is ``theta0``), for comparison with Adam at β1 = β2 = 0.  It is plain SGD
    on the gradient's sign, run by ``run`` (its divergence policy included)."""
    if not callable(gradient):
        raise TypeError(f"gradient must be a callable theta -> gradient, got {gradient!r:.60}")
    lr = check.hyperparameter("lr", lr, low=0.0)
    return trajectory(SGD(lr=lr), lambda theta: np.sign(gradient(theta)), theta0, steps)


def step_supremum(t, beta1=0.9, beta2=0.999):
    """The largest ``|m̂_t|/√v̂_t`` over *all* gradient sequences ``g_1 … g_t``
    (ε = 0), i.e. the largest ``|Δθ_t|/α`` Adam can take at step ``t``:

    ``(1 − β1)/(1 − β1^t) · √(1 − β2^t)/√(1 − β2) · √(Σ_{k<t} (β1²/β2)^k)``.

    By Cauchy–Schwarz on ``m_t = (1 − β1) Σ_i β1^{t−i} g_i`` against
    ``v_t = (1 − β2) Σ_i β2^{t−i} g_i²``; equality for ``g_i ∝ (β2/β1)^i``
    (``extremal_gradients``).  ``t`` may be an integer array.  The sum grows
    without bound in ``t`` when ``β1² ≥ β2``.  Only + − × ÷ √ and repeated
    multiplication, so the value is the same on every CPU."""
    t_array = check.step_counts("t", t)
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    if isinstance(beta1, np.ndarray) or isinstance(beta2, np.ndarray) or beta2 == 0:
        raise ValueError(f"beta1 and beta2 must be numbers with beta2 > 0, "
                         f"got beta1={beta1!r}, beta2={beta2!r}")
    t_max = int(t_array.max())
    # Σ_{k<t} q^k for t = 1 … t_max, with q^k by repeated multiplication
    q_powers = np.cumprod(np.concatenate([[1.0], np.full(t_max - 1, beta1 * beta1 / beta2)]))
    partial = np.cumsum(q_powers)[t_array - 1]
    b1t, b2t = power_table(beta1, 1, t_max)[t_array - 1], power_table(beta2, 1, t_max)[t_array - 1]
    return (1 - beta1) / (1 - b1t) * np.sqrt(1 - b2t) / np.sqrt(1 - beta2) * np.sqrt(partial)


def step_supremum_limit(beta1=0.9, beta2=0.999) -> float:
    """``sup_t step_supremum(t)`` for ``β1² < β2``:
    ``(1 − β1)/√((1 − β2)(1 − β1²/β2))`` (≈ 7.27 at the defaults); ``inf`` when
    ``β1² ≥ β2``, where no bound holds."""
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    if isinstance(beta1, np.ndarray) or isinstance(beta2, np.ndarray) or beta2 == 0:
        raise ValueError(f"beta1 and beta2 must be numbers with beta2 > 0, "
                         f"got beta1={beta1!r}, beta2={beta2!r}")
    q = beta1 * beta1 / beta2
    if q >= 1:
        return float("inf")
    return float((1 - beta1) / np.sqrt((1 - beta2) * (1 - q)))


def extremal_gradients(steps, beta1=0.9, beta2=0.999) -> np.ndarray:
    """The gradient sequence that attains ``step_supremum`` at *every* step
    ``t ≤ steps``: ``g_i ∝ (β2/β1)^i``, normalized so that the last one is 1
    (``g_i = (β1/β2)^{steps − i}``, by repeated multiplication).  Shape ``(steps,)``.

    Raises if the earliest gradient would fall below 1e-100 (its square would
    underflow towards float64's smallest numbers): choose fewer steps."""
    steps = check.integer("steps", steps, low=1)
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    if isinstance(beta1, np.ndarray) or isinstance(beta2, np.ndarray) or beta1 == 0 or beta2 == 0:
        raise ValueError(f"beta1 and beta2 must be numbers > 0, got beta1={beta1!r}, beta2={beta2!r}")
    ratio = beta1 / beta2
    g = np.cumprod(np.concatenate([[1.0], np.full(steps - 1, ratio)]))[::-1].copy()
    if g[0] < 1e-100 or g[0] > 1e100:
        raise ValueError(f"steps={steps} is too many for beta1={beta1}, beta2={beta2}: "
                         f"the first gradient would be {g[0]:.1e} (keep it within 1e±100)")
    return g


def largest_steps(steps, beta1=0.9, beta2=0.999) -> dict:
    """The theorem of the largest step, checked on ``adamref.Adam`` itself: Adam
    (ε = 0, α = 1) fed ``extremal_gradients(steps, beta1, beta2)`` against
    ``step_supremum`` at every step ``t ≤ steps``.

    Returns ``{"measured": |Δθ_t|, "supremum": S_t, "agreement": str}`` (arrays of
    shape ``(steps,)``); ``agreement`` describes the round-off bound the two meet
    (``roundoff.agreement``, relative to θ, the sum of the steps), and it raises
    ``AssertionError`` if they do not."""
    measured = np.abs(steps_along(Adam(lr=1.0, beta1=beta1, beta2=beta2, eps=0.0),
                                  extremal_gradients(steps, beta1, beta2)))
    supremum = step_supremum(np.arange(1, measured.size + 1), beta1, beta2)
    # the steps are differences of θ, which sums them: round-off is relative to θ
    gap = agreement(measured, supremum, scale=float(measured.sum()))
    return {"measured": measured, "supremum": supremum, "agreement": gap}


@lru_cache(maxsize=8)
def _sgd_on_the_bowl(steps):
    # the SGD run does not depend on Adam's settings: computed once per step count
    bowl = badly_scaled_quadratic()
    sgd_lr = 0.9 * 2 / bowl.curvatures.max()
    path = trajectory(SGD(lr=sgd_lr), bowl.gradient, np.ones(bowl.dim), steps)
    path.setflags(write=False)                  # shared between calls: nobody may change it
    return bowl, sgd_lr, path


def sgd_and_adam_on_the_bowl(lr=0.01, eps=1e-8, beta1=0.9, beta2=0.999, steps=400):
    """The explorer's runs: SGD (the largest stable step with a 10 % margin,
    0.9·2/c_max) and Adam on ``badly_scaled_quadratic()`` from θ = 1; returns
    ``(bowl, sgd_lr, {"SGD": path, "Adam": path})``, paths of shape (steps + 1, 7)
    (the SGD path, which depends only on ``steps``, is computed once and read-only)."""
    steps = check.step_count("steps", steps)
    bowl, sgd_lr, sgd_path = _sgd_on_the_bowl(steps)
    adam_path = trajectory(Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps), bowl.gradient,
                           np.ones(bowl.dim), steps)
    return bowl, sgd_lr, {"SGD": sgd_path, "Adam": adam_path}

