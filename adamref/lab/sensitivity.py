"""Hyperparameter sweeps in one broadcast run.

Every ``adamref`` optimizer accepts array hyperparameters that broadcast to the
parameters: parameters of shape ``(K, n)`` with ``lr`` of shape ``(K, 1)`` run K
configurations in one ``step``.  ``sweep`` builds such a grid from named axes,
runs it, and returns the final losses on the grid; ``sweep_loop`` runs the same
configurations one at a time (the Python-loop baseline it is timed against).
How wide the good region of a slice is, is ``adamref.problems.tune``'s job
(every good value, holes and open ends included); ``adam_step_bound`` says
why Adam cannot leave the divergence bound at moderate ``lr``, and
``rotated_least_squares`` turns the chapter's axis-aligned problem into one with
the same spectrum and rotated eigenvectors.

The runs are ``adamref.problems.runs.run`` with its divergence policy and
``bound=divergence``: a configuration that diverges (a non-finite coordinate,
or one beyond ``divergence``) is frozen at NaN and reported with an infinite
loss, so one exploding configuration cannot stop the other K − 1.  The loss
is every problem's ``excess_loss``, ``f(θ) − f(θ*)``.  Nothing here imports
matplotlib.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.lab.per_parameter_steps import step_supremum
from adamref.optim import SGD, Adam
from adamref.problems import runs
from adamref.problems.tuning import tune
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


def off_diagonal_share(matrix) -> float:
    """``Σ_{j≠k} |H_jk| / Σ |H_jk|``: how much of a square matrix lies off its
    diagonal (0 for a diagonal Hessian, whose eigenvectors are the axes)."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not matrix.size:
        raise ValueError(f"matrix must be a non-empty square matrix, got shape {matrix.shape}")
    total = np.abs(matrix).sum()
    if not total > 0:
        raise ValueError("matrix must have a nonzero entry, got all zeros")
    return float(np.abs(matrix - np.diag(np.diag(matrix))).sum() / total)


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

    def at(self, **values) -> np.ndarray:
        """The slice of ``loss`` at the grid values nearest to ``values``
        (e.g. ``at(beta2=0.999)`` leaves the lr axis)."""
        index = []
        for name, axis in self.axes.items():
            if name in values:
                target = values[name]
                index.append(int(np.argmin(np.abs(axis - target))))  # not tuning: a grid lookup
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


# -- why Adam cannot "diverge" in these sweeps ------------------------------------------
def adam_step_bound(beta1, beta2, steps) -> float:
    """The largest ``|m̂_t / √v̂_t|`` any gradient sequence can produce in the first
    ``steps`` steps: Adam's step per coordinate is at most ``α`` times this number,
    whatever the gradients (ε ≥ 0 only shrinks it).  It is the maximum over
    ``t ≤ steps`` of ``per_parameter_steps.step_supremum(t)``, the theorem (with
    its proof) of the per-parameter steps chapter; for ``β1² ≥ β2`` it still
    exists for a finite run, but grows without bound with ``steps``."""
    steps = check.integer("steps", steps, low=1)
    return float(np.max(step_supremum(np.arange(1, steps + 1), beta1, beta2)))


# -- the same spectrum, rotated ----------------------------------------------------------
def random_rotation(n, seed=0) -> np.ndarray:
    """A seeded random orthogonal ``n × n`` matrix (QR of a Gaussian matrix, signs
    fixed so the draw is uniform).  Its entries are rounded to 12 decimals: QR's
    last bits depend on the LAPACK/BLAS kernel, the rounded matrix does not (it is
    orthogonal to about 1e-12, far below anything the chapter prints)."""
    n = check.integer("n", n, low=1)
    rng = np.random.default_rng(check.seed("seed", seed))
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return np.round(q * np.sign(np.diag(r)), 12)


def rotated_least_squares(problem: LeastSquares, seed=0) -> LeastSquares:
    """``problem`` with its features rotated by ``random_rotation(d, seed)``: the
    design ``X Rᵀ`` has Hessian ``R H Rᵀ`` (the same curvatures, eigenvectors no
    longer the coordinate axes) and the same targets, so the optimum is ``R θ*``
    and the initial excess loss from 0 is unchanged."""
    if not isinstance(problem, LeastSquares) or problem.X.ndim != 2:
        raise TypeError(f"problem must be a LeastSquares with one data set, got {problem!r:.80}")
    rotation = random_rotation(problem.n_features, seed)
    X = np.einsum("nj,kj->nk", problem.X, rotation)      # einsum's own loops, not BLAS
    return LeastSquares(X, problem.y, name=f"rotated {problem.name}")


#: The two problems of the sensitivity chapter, with their starting points.
def default_problems():
    """``{name: (problem, theta0)}``: Rosenbrock from (−1.2, 1) and a seeded
    20-feature least-squares problem (condition number about 1100) from 0."""
    ls = conditioned_least_squares(n_features=20, scale_ratio=30.0)
    return {"Rosenbrock": (Rosenbrock(), np.array([-1.2, 1.0])),
            "least squares": (ls, np.zeros(ls.n_features))}


#: The explorer's grid: α from 1e-4 to 10 only (narrower than the chapter's), every β2.
EXPLORER_LRS = log_grid(1e-4, 10.0, 5)
EXPLORER_BETAS2 = np.array([0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999])


@functools.lru_cache(maxsize=64)
def _explorer_sweep(optimizer, problem, steps, **hyperparameters) -> SweepResult:
    """One of the explorer's two sweeps, kept (read-only): moving one control
    reruns only the sweep it changes, and going back to a setting reruns nothing."""
    objective, theta0 = default_problems()[problem]
    if optimizer == "Adam":
        result = sweep(lambda **h: Adam(**hyperparameters, **h), objective, theta0, steps,
                       lr=EXPLORER_LRS, beta2=EXPLORER_BETAS2)
    else:
        result = sweep(lambda **h: SGD(**hyperparameters, **h), objective, theta0, steps,
                       lr=EXPLORER_LRS)
    result.loss.setflags(write=False)
    return result


def explorer_sweeps(problem="least squares", steps=500, beta1=0.9, eps=1e-8, momentum=0.9):
    """The explorer's runs on one of ``default_problems()``: an lr × β2 sweep of
    Adam, and the lr slices of Adam (β2 = 0.999) and SGD with ``momentum``
    through ``tune`` (solved below 1e-8 of the starting gap, the chapter's rule).
    Returns ``(adam SweepResult, {label: Tuned})``; the sweeps are kept, so a
    setting seen before costs nothing (their losses are read-only)."""
    problems = default_problems()
    if problem not in problems:
        raise ValueError(f"problem must be one of {list(problems)}, got {problem!r}")
    objective, theta0 = problems[problem]
    steps = check.integer("steps", steps, low=1)
    scalars = {name: check.hyperparameter(name, value, low=0.0, **limits)
               for name, value, limits in (("beta1", beta1, dict(high=1.0, high_inclusive=False)),
                                           ("eps", eps, {}),
                                           ("momentum", momentum, dict(high=1.0)))}
    if any(not isinstance(v, float) for v in scalars.values()):
        raise TypeError(f"beta1, eps and momentum must be numbers (one explorer setting), "
                        f"got {beta1!r}, {eps!r}, {momentum!r}")
    adam = _explorer_sweep("Adam", problem, steps, beta1=scalars["beta1"], eps=scalars["eps"])
    sgd = _explorer_sweep("SGD", problem, steps, momentum=scalars["momentum"])
    floor = 1e-8 * float(objective.excess_loss(theta0))     # the chapter's "solved"
    return adam, {"Adam (β2 = 0.999)": tune(EXPLORER_LRS, adam.at(beta2=0.999), floor=floor),
                  f"Momentum (μ = {momentum:g})": tune(EXPLORER_LRS, sgd.loss, floor=floor)}
