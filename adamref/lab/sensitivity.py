"""Hyperparameter sweeps in one broadcast run.

Every ``adamref`` optimizer accepts array hyperparameters that broadcast to the
parameters: parameters of shape ``(K, n)`` with ``lr`` of shape ``(K, 1)`` run K
configurations in one ``step``.  ``sweep`` builds such a grid from named axes,
runs it, and returns the final losses on the grid; ``sweep_loop`` runs the same
configurations one at a time (the Python-loop baseline it is timed against);
``good_range`` measures how wide the "good" region of a 1-D slice is.

The runs are ``adamref.problems.runs.run`` with its divergence policy and
``bound=divergence``: a configuration that diverges (a non-finite coordinate,
or one beyond ``divergence``) is frozen at NaN and reported with an infinite
loss, so one exploding configuration cannot stop the other K − 1.  The loss
is every problem's ``excess_loss``, ``f(θ) − f(θ*)``.  Nothing here imports
matplotlib.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.problems import runs
from adamref.problems.datasets import LeastSquares
from adamref.problems.objectives import Rosenbrock
from adamref.roundoff import round_significant


def log_grid(low, high, per_decade=4):
    """Log-spaced values from ``low`` to ``high``, ``per_decade`` points per decade
    (both ends included)."""
    low, high = check.positive_number("low", low), check.positive_number("high", high)
    if high <= low:
        raise ValueError(f"high must be > low, got low={low!r}, high={high!r}")
    per_decade = check.integer("per_decade", per_decade, low=1)
    num = int(round(np.log10(high / low) * per_decade)) + 1
    return np.geomspace(low, high, max(num, 2))


# -- the chapter's least-squares problem ----------------------------------------------
def conditioned_least_squares(n_samples=200, n_features=10, *, scale_ratio=10.0, noise=0.1,
                              seed=0) -> LeastSquares:
    """A seeded linear regression whose feature scales grow geometrically from 1 to
    ``scale_ratio``, so the Hessian ``XᵀX/N`` has condition number about
    ``scale_ratio²``; the true weights are ``N(0, 1)/scale`` per feature and
    ``y = X w + noise·N(0, 1)``."""
    n_samples = check.integer("n_samples", n_samples, low=1)
    n_features = check.integer("n_features", n_features, low=1)
    scale_ratio = check.positive_number("scale_ratio", scale_ratio)
    noise = check.hyperparameter("noise", noise, low=0.0)
    rng = np.random.default_rng(check.seed("seed", seed))
    # geomspace goes through np.power, whose last bit depends on NumPy's SIMD
    # path: the scales are rounded to 12 significant digits (see CONTRIBUTING).
    scales = round_significant(np.geomspace(1.0, scale_ratio, n_features), 12)
    X = rng.standard_normal((n_samples, n_features)) * scales
    truth = rng.standard_normal(n_features) / scales
    y = np.einsum("nj,j->n", X, truth) + noise * rng.standard_normal(n_samples)
    return LeastSquares(X, y)


# -- the runs --------------------------------------------------------------------------
@dataclass
class SweepResult:
    """Final losses ``f(θ_T) − f(θ*)`` on a grid (``inf`` where a run diverged).

    ``axes`` maps each swept hyperparameter to its values, in grid order;
    ``loss`` has shape ``tuple(len(v) for v in axes.values())``."""

    axes: dict
    loss: np.ndarray
    steps: int
    seconds: float

    @property
    def configurations(self) -> int:
        return int(self.loss.size)

    def best(self) -> dict:
        """The best configuration and its loss."""
        index = np.unravel_index(np.argmin(self.loss), self.loss.shape)
        out = {name: float(values[i]) for (name, values), i in zip(self.axes.items(), index)}
        out["loss"] = float(self.loss[index])
        return out

    def at(self, **values) -> np.ndarray:
        """The slice of ``loss`` at the grid values nearest to ``values``
        (e.g. ``at(beta2=0.999)`` leaves the lr axis)."""
        index = []
        for name, axis in self.axes.items():
            if name in values:
                target = values[name]
                index.append(int(np.argmin(np.abs(axis - target))))
            else:
                index.append(slice(None))
        unknown = set(values) - set(self.axes)
        if unknown:
            raise ValueError(f"values must name swept axes {list(self.axes)}, got {sorted(unknown)}")
        return self.loss[tuple(index)]


def _final_loss(problem, run_result):
    """``f(θ_T) − f(θ*)`` per row, ``inf`` where the run diverged."""
    with np.errstate(all="ignore"):                # NaN rows are expected
        loss = problem.excess_loss(run_result.theta)
    return np.where(run_result.diverged, np.inf, np.maximum(loss, 0.0))


def _checked_run_args(make_optimizer, problem, theta0, steps, divergence):
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be callable, got {make_optimizer!r}")
    if not (hasattr(problem, "excess_loss") and hasattr(problem, "gradient")):
        raise TypeError(f"problem must have excess_loss() and gradient(), got {problem!r}")
    theta0 = np.array(theta0, dtype=float)
    if theta0.ndim != 1:
        raise ValueError(f"theta0 must be a 1-D starting point, got shape {theta0.shape}")
    return (theta0, check.integer("steps", steps, low=1),
            check.positive_number("divergence", divergence))


def sweep(make_optimizer, problem, theta0, steps, *, divergence=runs.DIVERGENCE_BOUND,
          **grid) -> SweepResult:
    """Run every combination of the ``grid`` values in one broadcast run.

    ``sweep(lambda **h: Adam(**h), Rosenbrock(), [-1.2, 1], 1000,
    lr=log_grid(1e-4, 1), beta2=[0.9, 0.99, 0.999])``: the K = 5·3 configurations
    are the rows of one ``(K, n)`` parameter array, each hyperparameter a
    ``(K, 1)`` column, so each of the ``steps`` calls to ``step`` updates all K.
    """
    theta0, steps, divergence = _checked_run_args(make_optimizer, problem, theta0, steps,
                                                  divergence)
    shape, columns = runs.grid(**grid)
    axes = {name: np.asarray(values).astype(float) for name, values in grid.items()}
    theta = np.tile(theta0, (columns[next(iter(columns))].shape[0], 1))
    start = time.perf_counter()
    result = runs.run(make_optimizer(**columns), problem.gradient, theta, steps,
                      bound=divergence)
    loss = _final_loss(problem, result)
    seconds = time.perf_counter() - start
    return SweepResult(axes, loss.reshape(shape), steps, seconds)


def sweep_loop(make_optimizer, problem, theta0, steps, configurations, *,
               divergence=runs.DIVERGENCE_BOUND) -> tuple[np.ndarray, float]:
    """The baseline: one optimizer per configuration, one after the other.

    ``configurations`` is a list of dicts of scalar hyperparameters; returns the
    final losses (same convention as ``sweep``) and the seconds taken.
    """
    theta0, steps, divergence = _checked_run_args(make_optimizer, problem, theta0, steps,
                                                  divergence)
    if not isinstance(configurations, (list, tuple)) or not configurations:
        raise ValueError(f"configurations must be a non-empty list of dicts, got "
                         f"{configurations!r:.80}")
    losses = np.empty(len(configurations))
    start = time.perf_counter()
    for i, config in enumerate(configurations):
        if not isinstance(config, dict):
            raise TypeError(f"configurations[{i}] must be a dict, got {config!r}")
        result = runs.run(make_optimizer(**config), problem.gradient, theta0[None, :], steps,
                          bound=divergence)
        losses[i] = _final_loss(problem, result)[0]
    return losses, time.perf_counter() - start


def grid_configurations(result: SweepResult, indices) -> list[dict]:
    """The scalar configurations at flat grid ``indices`` of ``result``
    (to re-run them with ``sweep_loop``)."""
    indices = np.asarray(indices)
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise ValueError(f"indices must be a 1-D integer array, got {indices!r}")
    if indices.size and (indices.min() < 0 or indices.max() >= result.loss.size):
        raise ValueError(f"indices must be in [0, {result.loss.size}), got {indices!r}")
    _, columns = runs.grid(**result.axes)
    return [{name: float(column[i, 0]) for name, column in columns.items()} for i in indices]


# -- how wide is the good region? ------------------------------------------------------
@dataclass(frozen=True)
class GoodRange:
    """The contiguous run of grid values around the best whose loss is within
    ``factor`` of the best (or below ``floor``)."""

    low: float
    high: float
    best_value: float
    best_loss: float
    threshold: float

    @property
    def decades(self) -> float:
        """Width in decades: log10(high / low)."""
        return float(np.log10(self.high / self.low))


def good_range(values, losses, *, factor=10.0, floor=0.0) -> GoodRange:
    """Width of the good region of a 1-D slice: the contiguous run of ``values``
    around the best loss where ``loss <= max(factor · best, floor)``.

    ``floor`` stops the criterion from collapsing when the best run has reached
    rounding level (10 × 1e-30 is not a meaningful tolerance).  Losses at or
    below ``floor`` count as solved and tie: the best value is then the
    smallest solving one, not an argmin over rounding noise (whose winner
    changes with the CPU's floating-point kernels)."""
    values = np.asarray(values, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if values.ndim != 1 or values.shape != losses.shape or values.size == 0:
        raise ValueError(f"values and losses must be 1-D arrays of one length, got shapes "
                         f"{values.shape} and {losses.shape}")
    if not (values > 0).all():
        raise ValueError(f"values must be > 0 (a log-spaced axis), got {values!r}")
    factor = check.positive_number("factor", factor)
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor!r}")
    floor = check.hyperparameter("floor", floor, low=0.0)
    if not np.isfinite(losses).any():
        raise ValueError("losses has no finite value: every run diverged")
    best = int(np.argmin(np.where(np.isfinite(losses), np.maximum(losses, floor), np.inf)))
    threshold = max(factor * losses[best], floor)
    good = np.isfinite(losses) & (losses <= threshold)
    lo = hi = best
    while lo > 0 and good[lo - 1]:
        lo -= 1
    while hi < values.size - 1 and good[hi + 1]:
        hi += 1
    return GoodRange(float(values[lo]), float(values[hi]), float(values[best]),
                     float(losses[best]), float(threshold))


#: The two problems of the sensitivity chapter, with their starting points.
def default_problems():
    """``{name: (problem, theta0)}``: Rosenbrock from (−1.2, 1) and a seeded
    20-feature least-squares problem (condition number about 1100) from 0."""
    ls = conditioned_least_squares(n_features=20, scale_ratio=30.0)
    return {"Rosenbrock": (Rosenbrock(), np.array([-1.2, 1.0])),
            "least squares": (ls, np.zeros(ls.n_features))}
