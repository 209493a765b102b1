"""Hyperparameter sweeps in one broadcast run.

Every ``adamref`` optimizer accepts array hyperparameters that broadcast to the
parameters: parameters of shape ``(K, n)`` with ``lr`` of shape ``(K, 1)`` run K
configurations in one ``step``.  ``sweep`` builds such a grid from named axes,
runs it, and returns the final losses on the grid; ``sweep_loop`` runs the same
configurations one at a time (the Python-loop baseline it is timed against);
``good_range`` measures how wide the "good" region of a 1-D slice is.

A configuration that diverges (a non-finite coordinate, or one beyond
``divergence``) is frozen at NaN and reported with an infinite loss, so one
exploding configuration cannot stop the other K − 1.  Nothing here imports
matplotlib.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.problems.objectives import Rosenbrock
from adamref.roundoff import round_significant


def _positive_int(name, value):
    return check.integer(name, value, low=1)


def _positive_float(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def log_grid(low, high, per_decade=4):
    """Log-spaced values from ``low`` to ``high``, ``per_decade`` points per decade
    (both ends included)."""
    low, high = _positive_float("low", low), _positive_float("high", high)
    if high <= low:
        raise ValueError(f"high must be > low, got low={low!r}, high={high!r}")
    per_decade = _positive_int("per_decade", per_decade)
    num = int(round(np.log10(high / low) * per_decade)) + 1
    return np.geomspace(low, high, max(num, 2))


# -- problems vectorized over configurations -------------------------------------------
@dataclass(frozen=True)
class LeastSquares:
    """``f(θ) = ‖Aθ − b‖² / (2N) − f*``: a seeded linear regression whose feature
    scales grow geometrically, so the Hessian ``AᵀA/N`` has condition number
    about ``scale_ratio²``.  ``θ`` has shape ``(..., n_features)``; the value is
    the gap to the optimum (0 at the least-squares solution)."""

    n_samples: int = 200
    n_features: int = 10
    scale_ratio: float = 10.0
    noise: float = 0.1
    seed: int = 0
    name: str = "least squares"

    def __post_init__(self):
        _positive_int("n_samples", self.n_samples)
        _positive_int("n_features", self.n_features)
        _positive_float("scale_ratio", self.scale_ratio)
        check.hyperparameter("noise", self.noise, low=0.0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise TypeError(f"seed must be an integer, got {self.seed!r}")
        # Everything a run touches is computed the same way on every CPU (see
        # CONTRIBUTING, "Portable outputs"): geomspace goes through np.power, whose
        # last bit depends on NumPy's SIMD path, so the scales are rounded to 12
        # significant digits; products use einsum's own loops, not BLAS kernels.
        rng = np.random.default_rng(self.seed)
        scales = round_significant(np.geomspace(1.0, self.scale_ratio, self.n_features), 12)
        a = rng.standard_normal((self.n_samples, self.n_features)) * scales
        truth = rng.standard_normal(self.n_features) / scales
        b = np.einsum("nj,j->n", a, truth) + self.noise * rng.standard_normal(self.n_samples)
        object.__setattr__(self, "A", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "hessian", np.einsum("nj,nk->jk", a, a) / self.n_samples)
        object.__setattr__(self, "_aty", np.einsum("nj,n->j", a, b) / self.n_samples)  # Aᵀb/N
        # LAPACK's solution differs in the last bits between BLAS kernels; it only
        # enters the value, where such a difference is of order (eps·|θ*|)² ≈ 1e-30.
        object.__setattr__(self, "solution", np.linalg.lstsq(a, b, rcond=None)[0])
        object.__setattr__(self, "best", 0.0)

    def _points(self, theta):
        theta = np.asarray(theta, dtype=float) if not isinstance(theta, np.ndarray) else theta
        check.float_array("theta", theta)
        if theta.ndim == 0 or theta.shape[-1] != self.n_features:
            raise ValueError(f"theta must have shape (..., {self.n_features}), "
                             f"got shape {theta.shape}")
        return theta

    def value(self, theta):
        # The gap is computed as ½(θ − θ*)ᵀH(θ − θ*) with H = AᵀA/N: exact, with
        # no cancellation between two nearly equal losses near the optimum.
        d = self._points(theta) - self.solution
        return 0.5 * np.einsum("...j,jk,...k->...", d, self.hessian, d)

    def gradient(self, theta):
        # (AᵀAθ − Aᵀb)/N with einsum's own loops: each row's result does not depend
        # on how many rows there are (BLAS blocking would), so a sweep reproduces
        # single runs exactly, and no input depends on the CPU's BLAS kernel.
        return np.einsum("...j,jk->...k", self._points(theta), self.hessian) - self._aty

    @property
    def condition_number(self) -> float:
        eig = np.linalg.eigvalsh(self.hessian)
        return float(eig[-1] / eig[0])


def problem_best(problem) -> float:
    """``f(θ*)`` of a problem: 0 for ``LeastSquares`` (its value is a gap),
    the value at ``problem.minimum`` otherwise (Rosenbrock, Quadratic)."""
    if hasattr(problem, "best"):
        return float(problem.best)
    if hasattr(problem, "minimum"):
        return float(problem.value(np.asarray(problem.minimum, dtype=float)))
    raise TypeError(f"problem must have a 'best' or 'minimum' attribute, got "
                    f"{type(problem).__name__}")


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


def _checked_grid(grid: dict) -> dict:
    if not grid:
        raise ValueError("grid must name at least one hyperparameter axis, got none")
    axes = {}
    for name, values in grid.items():
        values = np.asarray(values, dtype=float) if not isinstance(values, np.ndarray) else values
        if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "fiu":
            raise ValueError(f"grid[{name!r}] must be a non-empty 1-D array of numbers, "
                             f"got {values!r}")
        axes[name] = values.astype(float)
    return axes


def _run(optimizer, problem, theta, steps, divergence):
    """``steps`` steps on the rows of ``theta`` (in place); returns the diverged mask."""
    diverged = np.zeros(theta.shape[0], dtype=bool)
    for _ in range(steps):
        with np.errstate(all="ignore"):            # NaN rows are expected
            grad = problem.gradient(theta)
        optimizer.step(theta, grad)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(theta).all(axis=-1) | (np.abs(theta) > divergence).any(axis=-1)
        if bad.any():
            diverged |= bad
            theta[diverged] = np.nan
    return diverged


def _final_loss(problem, theta, diverged):
    with np.errstate(all="ignore"):
        loss = problem.value(theta) - problem_best(problem)
    return np.where(diverged, np.inf, np.maximum(loss, 0.0))


def _checked_run_args(make_optimizer, problem, theta0, steps, divergence):
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be callable, got {make_optimizer!r}")
    if not (hasattr(problem, "value") and hasattr(problem, "gradient")):
        raise TypeError(f"problem must have value() and gradient(), got {problem!r}")
    theta0 = np.array(theta0, dtype=float)
    if theta0.ndim != 1:
        raise ValueError(f"theta0 must be a 1-D starting point, got shape {theta0.shape}")
    return (theta0, _positive_int("steps", steps), _positive_float("divergence", divergence))


def sweep(make_optimizer, problem, theta0, steps, *, divergence=1e6, **grid) -> SweepResult:
    """Run every combination of the ``grid`` values in one broadcast run.

    ``sweep(lambda **h: Adam(**h), Rosenbrock(), [-1.2, 1], 1000,
    lr=log_grid(1e-4, 1), beta2=[0.9, 0.99, 0.999])``: the K = 5·3 configurations
    are the rows of one ``(K, n)`` parameter array, each hyperparameter a
    ``(K, 1)`` column, so each of the ``steps`` calls to ``step`` updates all K.
    """
    theta0, steps, divergence = _checked_run_args(make_optimizer, problem, theta0, steps,
                                                  divergence)
    axes = _checked_grid(grid)
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    columns = {name: m.reshape(-1, 1) for name, m in zip(axes, mesh)}
    shape = mesh[0].shape
    theta = np.tile(theta0, (mesh[0].size, 1))
    start = time.perf_counter()
    optimizer = make_optimizer(**columns)
    diverged = _run(optimizer, problem, theta, steps, divergence)
    loss = _final_loss(problem, theta, diverged)
    seconds = time.perf_counter() - start
    return SweepResult(axes, loss.reshape(shape), steps, seconds)


def sweep_loop(make_optimizer, problem, theta0, steps, configurations, *,
               divergence=1e6) -> tuple[np.ndarray, float]:
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
        theta = theta0[None, :].copy()
        diverged = _run(make_optimizer(**config), problem, theta, steps, divergence)
        losses[i] = _final_loss(problem, theta, diverged)[0]
    return losses, time.perf_counter() - start


def grid_configurations(result: SweepResult, indices) -> list[dict]:
    """The scalar configurations at flat grid ``indices`` of ``result``
    (to re-run them with ``sweep_loop``)."""
    indices = np.asarray(indices)
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise ValueError(f"indices must be a 1-D integer array, got {indices!r}")
    if indices.size and (indices.min() < 0 or indices.max() >= result.loss.size):
        raise ValueError(f"indices must be in [0, {result.loss.size}), got {indices!r}")
    mesh = np.meshgrid(*result.axes.values(), indexing="ij")
    return [{name: float(m.reshape(-1)[i]) for name, m in zip(result.axes, mesh)}
            for i in indices]


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
    factor = _positive_float("factor", factor)
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
    ls = LeastSquares(n_features=20, scale_ratio=30.0)
    return {"Rosenbrock": (Rosenbrock(), np.array([-1.2, 1.0])),
            "least squares": (ls, np.zeros(ls.n_features))}
