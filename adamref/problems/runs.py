"""The run loop: an optimizer on a gradient oracle, K configurations at once.

Every chapter that runs an optimizer for many steps runs it through ``run``:
the parameters ``theta`` have shape ``(..., n)``, each index of the leading
axes a *row* (one configuration, one seed, one data set) that the optimizer's
array hyperparameters (shape ``(K, 1)``) broadcast against.

**Divergence policy** (the one policy of the package): after every step, a row
whose iterate has left ``|θ_i| <= bound`` in some coordinate, or has a
non-finite coordinate, has *diverged*: it is set to NaN and stays NaN from then
on (its gradients and losses are NaN, and no later step can overflow or warn),
and ``Run.diverged`` reports it.  The other rows are not affected, so one
exploding configuration cannot stop the other K − 1.  ``bound`` defaults to
``DIVERGENCE_BOUND``; ``bound=np.inf`` flags only non-finite rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.optim.optimizer import restoring

#: A row with a coordinate beyond this size has diverged (``run``'s default bound):
#: far beyond every problem's scale, far below float64's overflow.
DIVERGENCE_BOUND = 1e6


@dataclass(frozen=True)
class Run:
    """What ``run`` returns.

    ``theta``: the final parameters, shape ``theta0.shape`` (NaN in diverged rows);
    ``diverged``: boolean, shape ``theta0.shape[:-1]``;
    ``steps``: the step counts at which ``record`` was called (0, every, 2·every, …
    up to ``steps``); ``history``: the recorded values stacked on a new first
    axis, ``history[i] = record(θ_{steps[i]})`` (``None`` without ``record``).
    """

    theta: np.ndarray
    diverged: np.ndarray
    steps: np.ndarray
    history: np.ndarray | None


def run(optimizer, gradient, theta0, steps: int, *, record=None, every: int = 1,
        bound=DIVERGENCE_BOUND) -> Run:
    """Apply ``optimizer`` for ``steps`` steps from ``theta0`` (copied, not modified;
    its float dtype is kept); ``gradient(theta)`` returns the gradient at ``theta``.

    ``record(theta)`` (optional) is called at steps ``0, every, 2·every, …`` (the
    start and every ``every``-th iterate) and must return an array of one shape
    every time (a loss per row, the iterate itself, ...).  Divergence: see the
    module docstring.  If a step raises, the optimizer is restored to the state
    the caller passed in (``restoring``).
    """
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer must have a step(params, grads) method, "
                        f"got {type(optimizer).__name__}")
    if not callable(gradient):
        raise TypeError(f"gradient must be callable, got {type(gradient).__name__}")
    if record is not None and not callable(record):
        raise TypeError(f"record must be callable or None, got {type(record).__name__}")
    steps = check.integer("steps", steps, low=0)
    every = check.integer("every", every, low=1)
    if not (isinstance(bound, float) and bound == np.inf):
        bound = check.positive_number("bound", bound)
    # float32 stays float32 (the optimizers compute in the parameters' dtype)
    keep = isinstance(theta0, np.ndarray) and theta0.dtype in check.FLOAT_DTYPES
    theta = np.array(theta0, dtype=theta0.dtype if keep else float)
    check.float_array("theta0", theta)
    if theta.ndim == 0:
        raise ValueError("theta0 must have at least one axis (the coordinates), got a scalar")
    at = np.arange(0, steps + 1, every)
    history = None
    diverged = np.zeros(theta.shape[:-1], dtype=bool)
    # NaN rows are expected (the policy above): their arithmetic must not warn.
    with restoring(optimizer, theta), np.errstate(all="ignore"):
        for t in range(steps + 1):
            if record is not None and t % every == 0:
                value = np.asarray(record(theta))
                if history is None:
                    history = np.empty((at.size, *value.shape), dtype=value.dtype)
                history[t // every] = value
            if t == steps:
                break
            optimizer.step(theta, gradient(theta))
            bad = ~(np.isfinite(theta) & (np.abs(theta) <= bound)).all(axis=-1)
            if bad.any():
                diverged |= bad
                theta[diverged] = np.nan
    return Run(theta, diverged, at, history)


def trajectory(optimizer, gradient, theta0, steps: int, *, bound=DIVERGENCE_BOUND) -> np.ndarray:
    """The visited points of ``run``: shape ``(steps + 1, *theta0.shape)``, row 0
    is ``theta0`` (diverged rows are NaN from the step they left ``bound``)."""
    return run(optimizer, gradient, theta0, steps, record=np.copy, bound=bound).history


def grid(**axes):
    """The product of named 1-D axes as ``(shape, columns)``: ``shape`` is the grid
    shape (axes in the order given) and ``columns[name]`` an array of shape
    ``(K, 1)``, ``K = prod(shape)``, ready to broadcast against ``(K, n)``
    parameters (row ``k`` is grid index ``np.unravel_index(k, shape)``)."""
    if not axes:
        raise ValueError("grid must name at least one hyperparameter axis, got none")
    values = {}
    for name, axis in axes.items():
        array = np.asarray(axis)
        if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "fiu":
            raise ValueError(f"grid[{name!r}] must be a non-empty 1-D array of numbers, "
                             f"got {axis!r}")
        values[name] = array.astype(float)
    mesh = np.meshgrid(*values.values(), indexing="ij")
    return mesh[0].shape, {name: m.reshape(-1, 1) for name, m in zip(values, mesh)}
