"""Rotation, conditioning and the preconditioner view.

On a quadratic ``f(θ) = ½ θᵀHθ`` whose curvatures (the eigenvalues of ``H``)
lie in ``[c_min, c_max]``, ``κ = c_max/c_min``:

1. **Theory, then measurement.**  Gradient descent contracts the error by at
   best ``(κ − 1)/(κ + 1)`` per step, at ``α = 2/(c_min + c_max)``; heavy ball
   (SGD with momentum μ) by ``(√κ − 1)/(√κ + 1)``, at ``α = 4/(√c_max + √c_min)²``
   and ``μ = ((√κ − 1)/(√κ + 1))²`` (``gd_rate``, ``heavy_ball_rate`` and the
   ``optimal_*`` functions).  ``measured_rates`` runs both and measures the
   contraction per step; at heavy ball's optimum the extreme curvatures have a
   double root, so ``‖θ_t‖ ≈ C·t·r^t`` and the measurement fits that prefactor
   (``contraction_with_prefactor``) instead of ignoring it.
2. **Basis dependence.**  Both rates depend on the curvatures only, so GD and
   heavy ball take the same steps whatever the orientation of ``H``'s
   eigenvectors.  A diagonal preconditioner (Adam, sign descent) does not:
   ``angle_experiment`` rotates a 2-D bowl (κ = 100) by φ = 0° … 45° and
   ``dimension_experiment`` compares a 50-D bowl axis-aligned and randomly
   rotated.  Every method is tuned on a grid (``tuned_methods``; each tuned
   value through ``adamref.problems.tune``, which refuses an optimum at an edge
   of its grid) for the steps until *every* start has ``f − f* ≤ tol``, with one
   cap on the steps for all methods.  Full-matrix AdaGrad
   (``FullMatrixAdaGrad``), whose preconditioner ``G^{-1/2}`` turns with the
   problem, is the basis-free adaptive method a diagonal one approximates:
   like Adam it is built from gradients alone and has a learning rate to tune.
   The chapter runs it in 2-D, where its ``G^{-1/2}`` has a closed form
   (``FULL_MATRIX_MAX_DIM`` says why not beyond); ``Newton`` (``θ − α H^{-1}∇f``,
   one step to the minimum of any quadratic at α = 1) is the full-matrix limit
   everywhere, the 50-D bowls included.
3. **Variation.**  ``dimension_experiment(seed=1)`` (another rotation, another
   start) and ``dimension_experiment(1000.0)`` (κ = 1000) beside the headline.
4. **The explorer.**  ``bowl_runs`` runs GD, heavy ball (both at the theory's
   step sizes), Adam at a given α and Newton on one 2-D bowl at a given angle
   and condition number, with the paths and losses the explorer draws.
5. **Tie-backs.**  ``rotated_tie_backs`` rotates the per-parameter chapter's
   badly scaled bowl and the sensitivity chapter's least squares (their own
   constructors, ``random_rotation`` and ``rotated_least_squares``) and tunes
   the methods on both versions.

All runs go through ``adamref.problems.runs.run`` (its divergence policy
included), many configurations and problems at once: parameters of shape
``(P, S, K, n)`` hold P problems (``ProblemStack``), S starting points and K
hyperparameter configurations, whose ``(K, 1)`` columns broadcast against them.
Nothing here imports matplotlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from adamref.lab.per_parameter_steps import badly_scaled_quadratic
from adamref.lab.sensitivity import (default_problems, log_grid, random_rotation,
                                     rotated_least_squares)
from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.optim.baselines import SGD
from adamref.problems.objectives import Quadratic
from adamref.problems.runs import grid, run
from adamref.problems.tuning import Tuned, tune
from adamref.roundoff import round_significant

#: The book's stopping rule for this chapter: ``f(θ) − f* ≤ TOLERANCE``.
TOLERANCE = 1e-6

#: The chapter's cap on the steps, the same for every method: a run that has
#: not reached ``TOLERANCE`` after ``CAP`` steps "did not reach".
CAP = 1000

#: A grid value is *good* if its steps are at most this factor times the best.
GOOD_FACTOR = 2.0


# -- problems ------------------------------------------------------------------------------
def log_spaced_curvatures(condition_number, dim) -> np.ndarray:
    """``dim`` curvatures log-spaced from 1 to ``condition_number`` (rounded to 12
    significant digits: ``geomspace``'s last bit depends on NumPy's SIMD path)."""
    kappa = check.positive_number("condition_number", condition_number)
    if kappa < 1:
        raise ValueError(f"condition_number must be >= 1, got {condition_number!r}")
    return round_significant(np.geomspace(1.0, kappa, check.integer("dim", dim, low=2)), 12)


def rotation_2d(degrees) -> np.ndarray:
    """The rotation by ``degrees``, ``[[cos φ, −sin φ], [sin φ, cos φ]]``, with cos
    and sin rounded to 12 decimals (libm's last bit differs between platforms)."""
    if isinstance(degrees, (bool, np.bool_)) or not isinstance(degrees, (int, float)):
        raise TypeError(f"degrees must be a real number, got {degrees!r}")
    if not -360 <= degrees <= 360:
        raise ValueError(f"degrees must be in [-360, 360], got {degrees!r}")
    phi = math.radians(degrees)
    cos, sin = round(math.cos(phi), 12), round(math.sin(phi), 12)
    return np.array([[cos, -sin], [sin, cos]])


def rotated_quadratic(curvatures, rotation, *, name="rotated quadratic") -> Quadratic:
    """The ``Quadratic`` with Hessian ``R diag(c) Rᵀ``: the curvatures ``c`` along
    the columns of ``R`` instead of the coordinate axes.  The product uses
    einsum's own loops (the same bits on every CPU) and is symmetrized exactly."""
    c = check.positive_vector("curvatures", curvatures)
    rotation = np.array(rotation, dtype=float)
    if rotation.shape != (c.size, c.size) or not np.allclose(
            np.einsum("ij,kj->ik", rotation, rotation), np.eye(c.size), atol=1e-9):
        raise ValueError(f"rotation must be an orthogonal {c.size} x {c.size} matrix, "
                         f"got {rotation!r:.80}")
    hessian = np.einsum("ij,j,kj->ik", rotation, c, rotation)
    return Quadratic.from_hessian(0.5 * (hessian + hessian.T), name=name)


def rotate_points(points, rotation) -> np.ndarray:
    """``R u`` for every point ``u`` (shape ``(..., n)``): a start given in the
    eigenbasis, placed in the rotated problem's coordinates."""
    points = np.asarray(points, dtype=float)
    return np.einsum("...j,kj->...k", points, np.asarray(rotation, dtype=float))


def circle_starts(count=8) -> np.ndarray:
    """``count`` unit vectors at angles ``(k + ½)·180°/count``: half a circle,
    since every method here is odd-symmetric (``−θ0`` gives the mirrored run).
    None lies exactly on an axis or a diagonal at the chapter's angles."""
    count = check.integer("count", count, low=1)
    psi = [math.pi * (k + 0.5) / count for k in range(count)]
    return np.round(np.array([[math.cos(p), math.sin(p)] for p in psi]), 12)


def gaussian_starts(count, dim, seed=0) -> np.ndarray:
    """``count`` seeded standard normal starting points in ``dim`` dimensions."""
    rng = np.random.default_rng(check.seed("seed", seed))
    return rng.standard_normal((check.integer("count", count, low=1),
                                check.integer("dim", dim, low=1)))


class ProblemStack:
    """P problems of one dimension side by side: ``theta`` of shape ``(P, ..., n)``,
    its slice ``p`` evaluated on ``problems[p]``; so one run (one optimizer, one
    loop) serves every problem."""

    def __init__(self, problems):
        problems = tuple(problems)
        if not problems or not all(hasattr(q, "gradient") and hasattr(q, "excess_loss")
                                   for q in problems):
            raise TypeError(f"problems must be a non-empty sequence of problems with "
                            f"gradient() and excess_loss(), got {problems!r:.80}")
        self.problems = problems

    def _check(self, theta):
        if not isinstance(theta, np.ndarray) or theta.ndim < 2 \
                or theta.shape[0] != len(self.problems):
            raise ValueError(f"theta must have shape ({len(self.problems)}, ..., n), one "
                             f"slice per problem, got {np.shape(theta)}")
        return theta

    def gradient(self, theta):
        theta = self._check(theta)
        return np.stack([q.gradient(theta[p]) for p, q in enumerate(self.problems)])

    def excess_loss(self, theta):
        theta = self._check(theta)
        return np.stack([q.excess_loss(theta[p]) for p, q in enumerate(self.problems)])


# -- 1. theory -------------------------------------------------------------------------------
def _curvature_range(curvatures):
    c = check.positive_vector("curvatures", curvatures)
    return float(c.min()), float(c.max())


def gd_rate(curvatures, lr):
    """Gradient descent's contraction per step on a quadratic with these
    curvatures: ``max_i |1 − α c_i|`` (each eigen-coordinate is multiplied by
    ``1 − α c_i`` per step).  ``lr`` may be an array (one rate per value)."""
    c = check.positive_vector("curvatures", curvatures)
    lr = np.asarray(check.hyperparameter("lr", lr, low=0.0))
    rate = np.max(np.abs(1 - lr[..., None] * c), axis=-1)
    return float(rate) if rate.ndim == 0 else rate


def optimal_gd(curvatures):
    """``(α, r)``: the step ``2/(c_min + c_max)`` that minimizes ``gd_rate`` and
    the rate ``(κ − 1)/(κ + 1)`` there (both extremes contract by r, with
    opposite signs)."""
    low, high = _curvature_range(curvatures)
    return 2 / (low + high), (high - low) / (high + low)


def heavy_ball_rate(curvatures, lr, momentum):
    """Heavy ball's contraction per step, ``θ_{t+1} = θ_t − α g_t + μ(θ_t − θ_{t−1})``
    (PyTorch's SGD with momentum μ is this recursion): the largest modulus of
    the roots of ``z² − (1 + μ − α c) z + μ`` over the curvatures c, i.e. the
    spectral radius of each eigen-coordinate's 2 × 2 recursion.  Complex roots
    have modulus √μ.  ``lr`` and ``momentum`` may be arrays (broadcast).  At a
    double root (heavy ball's optimum) the radius is a square root of the
    discriminant, so rounding moves it by about √(rounding), ~1e-8."""
    c = check.positive_vector("curvatures", curvatures)
    lr = np.asarray(check.hyperparameter("lr", lr, low=0.0))[..., None]
    mu = np.asarray(check.hyperparameter("momentum", momentum, low=0.0, high=1.0,
                                         high_inclusive=False))[..., None]
    b = 1 + mu - lr * c
    discriminant = b * b - 4 * mu
    real = (np.abs(b) + np.sqrt(np.maximum(discriminant, 0.0))) / 2
    modulus = np.where(discriminant < 0, np.sqrt(mu), real)
    rate = np.max(modulus, axis=-1)
    return float(rate) if rate.ndim == 0 else rate


def optimal_heavy_ball(curvatures):
    """``(α, μ, r)``: Polyak's ``α = 4/(√c_max + √c_min)²``,
    ``μ = ((√κ − 1)/(√κ + 1))²`` and the rate ``r = (√κ − 1)/(√κ + 1) = √μ``.
    There both extreme curvatures have a double root (at ±r) and every other
    one a complex pair of modulus r."""
    low, high = _curvature_range(curvatures)
    root = math.sqrt(high / low)
    rate = (root - 1) / (root + 1)
    return 4 / (math.sqrt(high) + math.sqrt(low)) ** 2, rate * rate, rate


def predicted_steps(rate, initial_loss, tol=TOLERANCE):
    """``ln(f0/tol) / (2 ln(1/r))``: the steps for an excess loss that shrinks by
    ``r²`` per step (the error by r) to fall from ``initial_loss`` to ``tol``.
    For GD at its optimal step it is an upper bound (every eigen-coordinate
    contracts by at most r, so ``f_t ≤ r^{2t} f_0``); for heavy ball it ignores
    the ``t`` prefactor of the double root, an estimate that runs short."""
    rate = np.asarray(check.hyperparameter("rate", rate, low=0.0, high=1.0,
                                           high_inclusive=False))
    initial_loss = np.asarray(check.hyperparameter("initial_loss", initial_loss, low=0.0))
    tol = check.positive_number("tol", tol)
    with np.errstate(divide="ignore"):
        steps = np.maximum(np.log(initial_loss / tol), 0.0) / (2 * np.log(1 / rate))
    return float(steps) if steps.ndim == 0 else steps


# -- 1. measurement ----------------------------------------------------------------------------
def _window(norms, start):
    norms = check.float_array("norms", norms)
    if norms.ndim < 1 or norms.shape[0] < 3:
        raise ValueError(f"norms must have shape (T + 1, ...) with T >= 2, got {norms.shape}")
    start = check.integer("start", start, low=1)
    if start > norms.shape[0] - 3:
        raise ValueError(f"start must leave at least 3 steps of the {norms.shape[0]} "
                         f"norms, got {start}")
    return norms, start


def contraction(norms, start):
    """The geometric mean of ``‖θ_{t+1}‖/‖θ_t‖`` over ``t = start … T − 1``:
    ``(‖θ_T‖/‖θ_start‖)^{1/(T − start)}``, per column of ``norms`` (shape
    ``(T + 1, ...)``).  Exact for ``‖θ_t‖ = C r^t``; a prefactor ``t^p`` biases it
    up by about ``p·ln(T/start)/(T − start)`` in ``ln r``."""
    norms, start = _window(norms, start)
    span = norms.shape[0] - 1 - start
    return np.exp((np.log(norms[-1]) - np.log(norms[start])) / span)


def contraction_with_prefactor(norms, start):
    """``(r, p)`` from the least-squares fit ``ln ‖θ_t‖ = a + p ln t + t ln r`` over
    ``t = start … T`` (each column of ``norms``, shape ``(T + 1, ...)``): the rate
    with a polynomial prefactor ``t^p`` fitted rather than ignored (p = 1 at
    heavy ball's optimum, p = 0 for GD)."""
    norms, start = _window(norms, start)
    t = np.arange(start, norms.shape[0], dtype=float)
    design = np.stack([np.ones_like(t), np.log(t), t], axis=1)
    logs = np.log(norms[start:].reshape(t.size, -1))
    coefficients = np.linalg.lstsq(design, logs, rcond=None)[0]
    shape = norms.shape[1:]
    return np.exp(coefficients[2]).reshape(shape), coefficients[1].reshape(shape)


def log_rate_error(measured, predicted):
    """``|ln r_measured / ln r_predicted − 1|``: the relative error of the
    contraction per step in the unit that sets the step count (steps ∝ 1/ln(1/r))."""
    return np.abs(np.log(measured) / np.log(predicted) - 1)


@dataclass(frozen=True)
class RateCheck:
    """What ``measured_rates`` returns, one entry per condition number.

    ``lr_scale`` are the step sizes as multiples of each method's optimal α
    (1 is the optimum); the arrays ``gd_*`` and ``hb_*`` have shape
    ``(len(kappas), len(lr_scale))``: ``*_theory`` from ``gd_rate`` and
    ``heavy_ball_rate`` (heavy ball at its optimal μ), ``*_measured`` the
    ``contraction`` over the second half of the run.  ``hb_fitted`` and
    ``hb_power`` are ``contraction_with_prefactor`` at heavy ball's optimum;
    ``steps`` (shape ``(len(kappas), 2)``) the length of each κ's GD and heavy
    ball runs."""

    kappas: np.ndarray
    dim: int
    lr_scale: np.ndarray
    gd_theory: np.ndarray
    gd_measured: np.ndarray
    hb_theory: np.ndarray
    hb_measured: np.ndarray
    hb_fitted: np.ndarray
    hb_power: np.ndarray
    steps: np.ndarray

    @property
    def optimum(self) -> int:
        """The column of ``lr_scale`` that holds the optimum (scale 1)."""
        return int(np.flatnonzero(self.lr_scale == 1.0)[0])


def _norm_history(optimizer, problem, theta0, steps):
    result = run(optimizer, problem.gradient, theta0, steps,
                 record=lambda theta: np.sqrt(np.sum(theta * theta, axis=-1)))
    return result.history


def measured_rates(kappas=(10.0, 100.0, 1000.0), dim=10, *,
                   lr_scale=(0.25, 0.5, 0.75, 0.9, 1.0), depth=1e-20) -> RateCheck:
    """GD and heavy ball on ``Quadratic(log_spaced_curvatures(κ, dim))`` from
    θ0 = (1, …, 1), every κ in ``kappas``, at step sizes ``lr_scale`` times each
    method's optimal α (heavy ball at its optimal μ): one run per κ and method,
    the step sizes as rows.  Each run lasts until the optimum would shrink the
    error by ``depth`` (``ln depth / ln r`` steps) and the rate is measured over
    its second half."""
    kappas = check.positive_vector("kappas", kappas)
    dim = check.integer("dim", dim, low=2)
    scale = check.positive_vector("lr_scale", lr_scale)
    if not np.any(scale == 1.0):
        raise ValueError(f"lr_scale must contain 1.0 (the optimum), got {lr_scale!r}")
    depth = check.hyperparameter("depth", depth, low=0.0, high=1.0, high_inclusive=False)
    rows = {name: np.empty((kappas.size, scale.size))
            for name in ("gd_theory", "gd_measured", "hb_theory", "hb_measured")}
    fitted, power, lengths = np.empty(kappas.size), np.empty(kappas.size), []
    optimum = int(np.flatnonzero(scale == 1.0)[0])
    for i, kappa in enumerate(kappas):
        c = log_spaced_curvatures(kappa, dim)
        bowl, theta0 = Quadratic(c), np.ones((scale.size, dim))
        gd_lr, gd_r = optimal_gd(c)
        hb_lr, hb_mu, hb_r = optimal_heavy_ball(c)
        for prefix, lr, r, make in (
                ("gd", gd_lr * scale, gd_r, lambda lr: SGD(lr=lr)),
                ("hb", hb_lr * scale, hb_r, lambda lr: SGD(lr=lr, momentum=hb_mu))):
            steps = int(math.ceil(math.log(depth) / math.log(r)))
            norms = _norm_history(make(lr[:, None]), bowl, theta0, steps)
            rows[f"{prefix}_measured"][i] = contraction(norms, steps // 2)
            rows[f"{prefix}_theory"][i] = (gd_rate(c, lr) if prefix == "gd"
                                           else heavy_ball_rate(c, lr, hb_mu))
            lengths.append(steps)
            if prefix == "hb":
                fitted[i], power[i] = contraction_with_prefactor(norms[:, optimum], steps // 2)
    return RateCheck(kappas, dim, scale, rows["gd_theory"], rows["gd_measured"],
                     rows["hb_theory"], rows["hb_measured"], fitted, power,
                     np.array(lengths).reshape(kappas.size, 2))


# -- 2. the methods ------------------------------------------------------------------------
class SignDescent:
    """``θ ← θ − α_t·sign(g)`` with ``α_t = α·γ^{t−1}`` (γ = ``decay``; 1 keeps the
    step constant): the diagonal method at its extreme, every coordinate moves
    by exactly α_t.  With a constant step it cannot settle closer than about α
    to the minimum, so reaching a small tolerance needs a tiny α (and many
    steps) or a decaying one.  ``γ^{t−1}`` is built by repeated multiplication
    (the same bits on every CPU).  ``lr`` and ``decay`` may be arrays that
    broadcast against the parameters (one configuration per row)."""

    def __init__(self, lr, decay=1.0):
        self.lr = check.hyperparameter("lr", lr, low=0.0)
        self.decay = check.hyperparameter("decay", decay, low=0.0, high=1.0)
        self.t = 0
        self._current = self.lr                 # α_t for the next step

    def step(self, theta, grad):
        """One step, in place; ``theta`` and ``grad`` of one shape."""
        check.float_array("theta", theta)
        check.same_shape("grad", np.asarray(grad), "theta", theta)
        theta -= np.broadcast_to(self._current * np.sign(grad), theta.shape)
        self._current = self._current * self.decay
        self.t += 1


def inverse_sqrt_times(matrices, vectors, delta=1e-10) -> np.ndarray:
    """``F(M) v`` with ``F(w) = 1/√max(w, delta)`` applied to the eigenvalues of each
    symmetric ``M`` (shape ``(..., n, n)``, ``v`` of shape ``(..., n)``): ``M^{-1/2} v``
    with eigenvalues below ``delta`` raised to it.

    For n = 2 a closed form in + − × ÷ √ (the same bits on every CPU):
    ``F(M) = a I + b M`` with ``b`` the divided difference of F over the two
    eigenvalues, written without cancellation; otherwise ``eigh`` (LAPACK,
    whose last bits depend on the machine)."""
    matrices = np.asarray(matrices, dtype=float)
    vectors = np.asarray(vectors, dtype=float)
    n = vectors.shape[-1] if vectors.ndim else 0
    if vectors.ndim < 1 or matrices.shape != vectors.shape + (n,):
        raise ValueError(f"matrices must have shape (..., n, n) and vectors (..., n), got "
                         f"{matrices.shape} and {vectors.shape}")
    delta = check.positive_number("delta", delta)
    if n != 2:
        w, v = np.linalg.eigh(matrices)
        whitened = np.einsum("...ji,...j->...i", v, vectors) / np.sqrt(np.maximum(w, delta))
        return np.einsum("...ij,...j->...i", v, whitened)
    a, b, d = matrices[..., 0, 0], matrices[..., 0, 1], matrices[..., 1, 1]
    mean, half = (a + d) / 2, (a - d) / 2
    radius = np.sqrt(half * half + b * b)
    w1, w2 = mean + radius, mean - radius                      # eigenvalues, w1 >= w2
    u1, u2 = np.maximum(w1, delta), np.maximum(w2, delta)
    r1, r2 = np.sqrt(u1), np.sqrt(u2)
    # (u1 − u2)/(w1 − w2): 1 without clipping (exactly), 0 when both are clipped
    share = np.where(w1 > w2, (u1 - u2) / np.where(w1 > w2, w1 - w2, 1.0),
                     np.where(w1 >= delta, 1.0, 0.0))
    slope = -share / (r1 * r2 * (r1 + r2))                     # (F(w1) − F(w2))/(w1 − w2)
    offset = 1 / r1 - slope * w1                               # F(w1) − slope·w1
    x, y = vectors[..., 0], vectors[..., 1]
    return np.stack([offset * x + slope * (a * x + b * y),
                     offset * y + slope * (b * x + d * y)], axis=-1)


class FullMatrixAdaGrad:
    """Full-matrix AdaGrad (Duchi et al.): ``G_t = Σ_{s≤t} g_s g_sᵀ`` and
    ``θ ← θ − α·G_t^{-1/2} g_t``, for parameters of shape ``(..., n)`` (one
    ``n × n`` matrix per row; ``lr`` may be an array broadcasting against them).

    Diagonal AdaGrad keeps only diag(G); the full matrix turns with the
    problem: rotate every gradient by R and G becomes ``R G Rᵀ`` and the step
    ``R`` times the old one, so the method takes the same steps in every basis
    (in exact arithmetic).  ``G^{-1/2} g`` is ``inverse_sqrt_times``: eigenvalues
    below ``delta`` (G has rank < n for the first n − 1 steps, and rounding can
    make a zero eigenvalue slightly negative) are raised to ``delta``; the
    gradient lies in G's range, so ``delta`` barely touches the step.  Rows
    that are not finite (diverged) stay NaN, and rows whose gradient is exactly
    zero are skipped (their update is exactly zero)."""

    def __init__(self, lr, delta=1e-10):
        self.lr = check.hyperparameter("lr", lr, low=0.0)
        self.delta = check.positive_number("delta", delta)
        self.sum = None                         # G_t, shape (..., n, n)
        self.t = 0

    def step(self, theta, grad):
        """One step, in place; ``theta`` and ``grad`` of one shape ``(..., n)``."""
        check.float_array("theta", theta)
        grad = np.asarray(grad, dtype=float)
        check.same_shape("grad", grad, "theta", theta)
        if theta.ndim < 1:
            raise ValueError("theta must have a coordinate axis, got a scalar")
        total = (np.zeros(theta.shape + theta.shape[-1:]) if self.sum is None
                 else self.sum.copy())
        if total.shape[:-1] != theta.shape:
            raise ValueError(f"theta has shape {theta.shape}, the state was made for "
                             f"{total.shape[:-1]}")
        total += grad[..., :, None] * grad[..., None, :]              # G ← G + g gᵀ
        finite = np.isfinite(total).all(axis=(-2, -1))
        active = finite & np.any(grad != 0, axis=-1)
        direction = np.where(finite[..., None], np.zeros_like(theta), np.nan)
        if active.any():
            direction[active] = inverse_sqrt_times(total[active], grad[active],
                                                   self.delta)      # G^{-1/2} g
        step = np.broadcast_to(self.lr * direction, theta.shape)
        theta -= step
        self.sum = total
        self.t += 1


class Newton:
    """Newton's method with a step size, ``θ ← θ − α·H^{-1} g``, for ``P`` quadratic
    problems side by side (``hessians`` of shape ``(P, n, n)``, parameters of
    shape ``(P, ..., n)`` as in a ``ProblemStack``; or one ``(n, n)`` Hessian).
    The full-matrix limit: at α = 1 it lands on the minimum of any quadratic in
    one step, in every basis (rotate the problem and ``H^{-1}`` turns with it).
    ``H^{-1}`` is computed once (LAPACK), each step is an einsum."""

    def __init__(self, lr, hessians):
        self.lr = check.hyperparameter("lr", lr, low=0.0)
        hessians = np.array(hessians, dtype=float)
        if hessians.ndim not in (2, 3) or hessians.shape[-1] != hessians.shape[-2]:
            raise ValueError(f"hessians must have shape (n, n) or (P, n, n), got {hessians.shape}")
        self.inverse = np.linalg.inv(hessians)
        self.t = 0

    def step(self, theta, grad):
        """One step, in place; ``theta`` and ``grad`` of one shape."""
        check.float_array("theta", theta)
        grad = np.asarray(grad, dtype=float)
        check.same_shape("grad", grad, "theta", theta)
        n = self.inverse.shape[-1]
        stacked = self.inverse.ndim == 3
        if theta.shape[-1] != n or (stacked and (theta.ndim < 2
                                                 or theta.shape[0] != self.inverse.shape[0])):
            raise ValueError(f"theta must have shape {'(P, ..., n)' if stacked else '(..., n)'} "
                             f"for hessians of shape {self.inverse.shape}, got {theta.shape}")
        direction = (np.stack([np.einsum("ij,...j->...i", h, g)
                               for h, g in zip(self.inverse, grad)]) if stacked
                     else np.einsum("ij,...j->...i", self.inverse, grad))       # H^{-1} g
        theta -= np.broadcast_to(self.lr * direction, theta.shape)
        self.t += 1


def problem_hessians(problems) -> np.ndarray:
    """The Hessians of ``problems`` (a ``ProblemStack`` or a sequence of
    ``Quadratic`` or ``LeastSquares``), shape ``(P, n, n)``, scale included."""
    problems = problems.problems if isinstance(problems, ProblemStack) else tuple(problems)
    if not all(hasattr(q, "hessian") for q in problems):
        raise TypeError(f"problems must have a hessian, got {problems!r:.80}")
    return np.stack([getattr(q, "scale", 1.0) * np.asarray(q.hessian) for q in problems])


def make_method(name, **hyperparameters):
    """The method ``name`` (one of ``METHODS``) with these hyperparameters
    (arrays broadcast against the parameters)."""
    if name not in METHODS:
        raise ValueError(f"name must be one of {list(METHODS)}, got {name!r}")
    return METHODS[name](**hyperparameters)


#: The chapter's methods by name: Adam keeps its defaults (β1 = 0.9, β2 = 0.999,
#: ε = 1e-8) and only its learning rate is tuned.
METHODS = {
    "GD": lambda lr: SGD(lr=lr),
    "heavy ball": lambda lr, momentum: SGD(lr=lr, momentum=momentum),
    "Adam": lambda lr: Adam(lr=lr),
    "sign descent": lambda lr: SignDescent(lr),
    "sign descent, decaying": lambda lr, decay: SignDescent(lr, decay),
    "full-matrix AdaGrad": lambda lr: FullMatrixAdaGrad(lr),
    "Newton": lambda lr, hessians: Newton(lr, hessians),
}

#: The methods that also take the problems' Hessians (``tuned_methods`` passes
#: ``hessians=problem_hessians(problems)``).
NEEDS_HESSIANS = ("Newton",)


# -- 2. steps to the tolerance, tuned ---------------------------------------------------------
@dataclass(frozen=True)
class Reach:
    """What ``steps_to_tolerance`` returns, per row (shape ``theta0.shape[:-1]``):
    ``steps``, the first t with ``f(θ_t) − f* ≤ tol`` (inf: not within ``cap``
    steps, or diverged); ``final_loss``, ``f − f*`` when the run stopped for the
    rows that did not reach ``tol`` (inf where diverged, NaN for the rows that
    did reach it); ``diverged``; and ``steps_run``, how many steps were run
    (fewer than ``cap`` once every row had reached or diverged)."""

    steps: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    steps_run: int
    tol: float
    cap: int


def steps_to_tolerance(optimizer, problem, theta0, *, tol=TOLERANCE, cap=CAP,
                       chunk=100) -> Reach:
    """Run ``optimizer`` on ``problem`` (anything with ``gradient`` and
    ``excess_loss``, e.g. a ``ProblemStack``) from ``theta0`` until every row
    has had ``f − f* ≤ tol`` or has diverged, or for ``cap`` steps: ``run`` in
    chunks of ``chunk`` steps (the optimizer keeps its state between them),
    recording ``f − f*`` after every step.

    A row that has reached ``tol`` is done: from the next chunk on it gets a
    zero gradient (its later steps are not measured; ``FullMatrixAdaGrad``
    skips such rows, the rest of the methods just keep stepping)."""
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer must have a step(params, grads) method, "
                        f"got {type(optimizer).__name__}")
    if not (hasattr(problem, "gradient") and hasattr(problem, "excess_loss")):
        raise TypeError(f"problem must have gradient() and excess_loss(), got {problem!r:.80}")
    tol = check.positive_number("tol", tol)
    cap = check.integer("cap", cap, low=1)
    chunk = check.integer("chunk", chunk, low=1)
    theta = check.float_array("theta0", theta0)
    loss = np.asarray(problem.excess_loss(theta), dtype=float)
    reached = np.where(loss <= tol, 0.0, np.inf)
    diverged = np.zeros(loss.shape, dtype=bool)

    def gradient(theta):
        return np.where(np.isfinite(reached)[..., None], 0.0, problem.gradient(theta))

    done = 0
    while done < cap and np.isinf(reached[~diverged]).any():
        count = min(chunk, cap - done)
        result = run(optimizer, gradient, theta, count, record=problem.excess_loss)
        hit = result.history[1:] <= tol
        first = np.argmax(hit, axis=0)         # not tuning: the first step within tol
        new = hit.any(axis=0) & np.isinf(reached) & ~diverged
        reached[new] = done + 1 + first[new]
        diverged |= result.diverged & np.isinf(reached)
        theta, loss, done = result.theta, result.history[-1], done + count
    final = np.where(diverged, np.inf, np.where(np.isfinite(reached), np.nan, loss))
    return Reach(reached, final, diverged, done, tol, cap)


@dataclass(frozen=True)
class MethodResult:
    """One method tuned on every problem of an experiment.

    ``axes`` maps the tuned hyperparameters to their grids (``lr`` first; a
    second axis for heavy ball's momentum or sign descent's decay);
    ``steps[p]`` (shape ``(len(lr), …)``) is the number of steps until every
    start of problem p has had ``f − f* ≤ tol`` (inf: some start did not within
    ``cap``, or diverged) and ``final_loss[p]`` the worst start's ``f − f*``
    after ``cap`` steps where some start did not get there (NaN where all did).

    ``tuned(p)`` is ``adamref.problems.tune`` over the learning rate (for a
    two-parameter method at the tuned second value), ``tuned_second(p)`` tune
    over the second axis of each value's best step count (``None`` for one
    parameter); ``.best`` of either raises ``UnbracketedOptimum`` if it is an
    edge of its grid.  Good values: at most ``GOOD_FACTOR`` times the best steps.
    """

    name: str
    axes: dict
    steps: np.ndarray
    final_loss: np.ndarray
    tol: float
    cap: int

    @property
    def second(self):
        """The name of the second tuned hyperparameter, or None."""
        names = list(self.axes)
        return names[1] if len(names) > 1 else None

    def _profile(self, p):
        flat = self.steps[p].reshape(self.steps[p].shape[0], -1)
        return np.min(flat, axis=0)             # each second value's best steps

    def tuned_second(self, p) -> Tuned | None:
        if self.second is None:
            return None
        return tune(self.axes[self.second], self._profile(p), factor=GOOD_FACTOR)

    def tuned(self, p) -> Tuned:
        scores = self.steps[p]
        if self.second is not None:
            scores = scores[:, self.tuned_second(p).best_index]
        return tune(self.axes["lr"], scores, factor=GOOD_FACTOR)

    def tuned_floor(self, p) -> Tuned:
        """``tune`` over the learning rate of the worst start's ``f − f*`` after
        ``cap`` steps (one-parameter methods): for a method that reached the
        tolerance nowhere, such as constant-step sign descent, the lowest loss
        it gets to, and at which learning rates (within 10× of it)."""
        if self.second is not None:
            raise ValueError(f"tuned_floor is for one-parameter methods, {self.name} also "
                             f"tunes {self.second}")
        return tune(self.axes["lr"], np.where(np.isnan(self.final_loss[p]), np.inf,
                                              self.final_loss[p]))

    def best_steps(self, p) -> float:
        """The fewest steps any configuration needed on problem p (inf: none
        reached the tolerance within the cap)."""
        return float(np.min(self.steps[p]))

    def reached(self, p) -> bool:
        return bool(np.isfinite(self.best_steps(p)))

    @property
    def configurations(self) -> int:
        """The tuning budget: configurations per problem."""
        return int(np.prod([len(v) for v in self.axes.values()]))


def _worst_unreached(final_loss):
    """The largest final loss over the starts (axis 1), NaN where every start
    reached the tolerance."""
    unreached = ~np.isnan(final_loss)
    return np.where(unreached.any(axis=1),
                    np.max(np.where(unreached, final_loss, -np.inf), axis=1), np.nan)


def tuned_methods(problems, starts, grids, *, tol=TOLERANCE, cap=CAP) -> dict:
    """Every method of ``grids`` (``{name: {"lr": values, second: values}}``, names
    from ``METHODS``) on every problem at once: parameters of shape
    ``(P, S, K, n)`` for the P problems, the S ``starts`` (shape ``(P, S, n)``:
    each problem its own, e.g. rotated with it) and the K configurations of the
    grid; one ``steps_to_tolerance`` per method.  Returns ``{name: MethodResult}``."""
    stack = problems if isinstance(problems, ProblemStack) else ProblemStack(problems)
    starts = np.asarray(starts, dtype=float)
    if starts.ndim != 3 or starts.shape[0] != len(stack.problems):
        raise ValueError(f"starts must have shape (P, S, n) with P = {len(stack.problems)} "
                         f"problems, got {starts.shape}")
    out = {}
    for name, axes in grids.items():
        if name not in METHODS or not isinstance(axes, dict) or next(iter(axes), None) != "lr":
            raise ValueError(f"grids must map names of METHODS to {{'lr': values, ...}}, "
                             f"got {name!r}: {axes!r:.80}")
        shape, columns = grid(**axes)
        P, S, n = starts.shape
        theta0 = np.ascontiguousarray(np.broadcast_to(starts[:, :, None, :],
                                                      (P, S, columns["lr"].shape[0], n)))
        extra = {"hessians": problem_hessians(stack)} if name in NEEDS_HESSIANS else {}
        reach = steps_to_tolerance(make_method(name, **columns, **extra), stack, theta0,
                                   tol=tol, cap=cap)
        out[name] = MethodResult(name, {k: np.asarray(v, dtype=float) for k, v in axes.items()},
                                 reach.steps.max(axis=1).reshape(P, *shape),
                                 _worst_unreached(reach.final_loss).reshape(P, *shape), tol, cap)
    return out


# -- 2. the experiments ------------------------------------------------------------------------
@dataclass(frozen=True)
class BasisExperiment:
    """What ``angle_experiment`` and ``dimension_experiment`` return.

    ``labels[p]`` names problem p (``"φ = 10°"``, ``"rotated (seed 0)"``), whose
    curvatures are ``curvatures`` and whose S starts are ``starts[p]`` (the same
    points of the eigenbasis in every problem, so the same initial losses);
    ``methods`` maps a method name to its ``MethodResult``.

    The theory, per problem: ``initial_loss`` (the worst start's ``f − f*``),
    ``gd_bound`` (``predicted_steps`` at GD's optimal rate: an upper bound for
    GD at ``optimal_gd``'s step), ``hb_estimate`` (the same at heavy ball's
    rate: an estimate) and ``hb_theory_steps``, heavy ball *measured* at
    ``optimal_heavy_ball``'s α and μ without tuning (same starts, tolerance and
    cap)."""

    labels: tuple
    curvatures: np.ndarray
    starts: np.ndarray
    methods: dict
    initial_loss: np.ndarray
    gd_bound: np.ndarray
    hb_estimate: np.ndarray
    hb_theory_steps: np.ndarray
    tol: float
    cap: int

    def steps(self, name) -> np.ndarray:
        """The best step count of method ``name`` on every problem (inf: did not
        reach the tolerance within the cap)."""
        result = self.methods[name]
        return np.array([result.best_steps(p) for p in range(len(self.labels))])

    def ratio(self, name, rotated, axis_aligned=0) -> float:
        """``steps(rotated)/steps(axis_aligned)`` of method ``name`` (problem
        indices): how much the rotation costs it (inf if the rotated problem was
        not solved within the cap, NaN if the axis-aligned one was not)."""
        steps = self.steps(name)
        if not np.isfinite(steps[axis_aligned]):
            return float("nan")
        return float(steps[rotated] / steps[axis_aligned])


@dataclass(frozen=True)
class Summary:
    """One method on one problem, as the chapter's tables show it: ``steps``
    (inf: the tolerance was not reached within the cap); for a method that
    reached it, the best learning rate ``lr`` and the ``lr_range`` text of every
    good one, and the tuned ``second`` hyperparameter (``second_name``; None for
    one-parameter methods); for one that did not, ``floor``, the lowest
    worst-start ``f − f*`` after the cap over its learning rates (one-parameter
    methods; None otherwise)."""

    steps: float
    lr: float | None
    lr_range: str | None
    second_name: str | None
    second: float | None
    floor: float | None


def summary(experiment, problem=0) -> dict:
    """``{method: Summary}`` for problem ``problem`` of ``experiment`` (a
    ``BasisExperiment``).  Every best value must be bracketed by its grid:
    ``UnbracketedOptimum`` otherwise."""
    if not isinstance(experiment, BasisExperiment):
        raise TypeError(f"experiment must be a BasisExperiment, got {type(experiment).__name__}")
    problem = check.integer("problem", problem, low=0)
    if problem >= len(experiment.labels):
        raise ValueError(f"problem must be below {len(experiment.labels)}, got {problem}")
    out = {}
    for name, result in experiment.methods.items():
        if result.reached(problem):
            tuned, second = result.tuned(problem), result.tuned_second(problem)
            out[name] = Summary(result.best_steps(problem), tuned.best, tuned.range_text(),
                                result.second, None if second is None else second.best, None)
        else:
            floor = (result.tuned_floor(problem).best_score if result.second is None else None)
            out[name] = Summary(math.inf, None, None, result.second, None, floor)
    return out


def _experiment(labels, curvatures, problems, starts, grids, tol, cap):
    methods = tuned_methods(problems, starts, grids, tol=tol, cap=cap)
    initial = np.max(ProblemStack(problems).excess_loss(starts), axis=1)
    _, gd_r = optimal_gd(curvatures)
    hb_lr, hb_mu, hb_r = optimal_heavy_ball(curvatures)
    theory = steps_to_tolerance(SGD(lr=hb_lr, momentum=hb_mu), ProblemStack(problems),
                                np.array(starts, dtype=float), tol=tol, cap=cap)
    return BasisExperiment(tuple(labels), curvatures, starts, methods, initial,
                           predicted_steps(gd_r, initial, tol),
                           predicted_steps(hb_r, initial, tol),
                           theory.steps.max(axis=1), tol, cap)


def _log_values(low, high):
    """``log_grid(low, high, 4)`` rounded to 12 significant digits (``geomspace``'s
    last bit depends on NumPy's SIMD path)."""
    return round_significant(log_grid(low, high, 4), 12)


#: Full-matrix AdaGrad is in the default grids only up to this dimension: in
#: 2-D ``G^{-1/2}`` has a closed form in + − × ÷ √ (the same bits on every CPU).
#: Beyond, every step of every configuration needs an ``eigh``: at n = 50 that
#: is about 10 s of the chapter's budget with one BLAS thread and many times
#: more when LAPACK's threads compete for the cores with another process (the
#: test suite runs two); and at learning rates ≳ 10 its runs amplify eigh's
#: machine-dependent last bits (in the 7- and 20-dimensional tie-backs the step
#: counts differ by a few steps between OpenBLAS kernels).  Newton's method
#: stands for the full-matrix limit there.
FULL_MATRIX_MAX_DIM = 2


def default_grids(curvatures) -> dict:
    """The tuning grids of the chapter's experiments, ``{method: {"lr": values, ...}}``:
    every learning rate at 4 values per decade, over a range that brackets the
    best value (GD's and heavy ball's in units of ``1/c_max``, the others in
    the units of θ, since their steps do not scale with the gradient), and
    heavy ball's momentum and sign descent's decay at 4 values per decade of
    ``1 − value``.  Heavy ball and decaying sign descent tune two
    hyperparameters, so they get more configurations (``MethodResult.configurations``).
    Full-matrix AdaGrad only for at most ``FULL_MATRIX_MAX_DIM`` curvatures;
    Newton's step size on a grid through 1 (where it takes one step)."""
    c = check.positive_vector("curvatures", curvatures)
    c_max = float(c.max())
    grids = {
        "GD": {"lr": _log_values(0.3, 3.0) / c_max},
        "heavy ball": {"lr": _log_values(0.3, 10.0) / c_max,
                       "momentum": 1 - _log_values(0.01, 1.0)[::-1]},
        "Adam": {"lr": _log_values(3e-3, 1e2)},
        "sign descent": {"lr": _log_values(1e-5, 1e-2)},
        "sign descent, decaying": {"lr": _log_values(0.01, 10.0),
                                   "decay": 1 - _log_values(3e-3, 0.6)[::-1]},
        "full-matrix AdaGrad": {"lr": _log_values(0.3, 1e3)},
        "Newton": {"lr": _log_values(0.1, 10.0)},
    }
    if c.size > FULL_MATRIX_MAX_DIM:
        del grids["full-matrix AdaGrad"]
    return grids


def angle_experiment(angles=(0.0, 5.0, 10.0, 20.0, 30.0, 45.0), curvatures=(1.0, 100.0), *,
                     start_count=8, grids=None, tol=TOLERANCE, cap=CAP) -> BasisExperiment:
    """The 2-D bowl with ``curvatures`` (κ = 100) turned by each angle (degrees;
    0 is ``Quadratic(curvatures)`` itself), from ``circle_starts(start_count)``
    turned with it; every method of ``grids`` (default ``default_grids(curvatures)``) tuned
    for the steps until every start has ``f − f* ≤ tol``, at most ``cap``."""
    c = check.positive_vector("curvatures", curvatures)
    if c.size != 2:
        raise ValueError(f"curvatures must be 2 numbers (a 2-D bowl), got {curvatures!r}")
    if not angles:
        raise ValueError("angles must hold at least one angle, got none")
    rotations = [rotation_2d(a) for a in angles]
    problems = [Quadratic(c) if a == 0 else rotated_quadratic(c, r, name=f"φ = {a:g}°")
                for a, r in zip(angles, rotations)]
    u = circle_starts(start_count)
    starts = np.stack([rotate_points(u, r) for r in rotations])
    return _experiment([f"φ = {a:g}°" for a in angles], c, problems, starts,
                       default_grids(c) if grids is None else grids, tol, cap)


def dimension_experiment(condition_number=100.0, dim=50, *, seed=0, start_count=1,
                         grids=None, tol=TOLERANCE, cap=CAP) -> BasisExperiment:
    """The ``dim``-dimensional bowl with ``log_spaced_curvatures(κ, dim)``,
    axis-aligned (problem 0) and rotated by ``random_rotation(dim, seed)``
    (problem 1), both from the same points of the eigenbasis,
    ``gaussian_starts(start_count, dim, seed)``; tuned as ``angle_experiment``
    (default ``default_grids``).  Another ``seed`` is another rotation and
    other starts."""
    c = log_spaced_curvatures(condition_number, dim)
    seed = check.seed("seed", seed)
    rotation = random_rotation(c.size, seed)
    problems = [Quadratic(c), rotated_quadratic(c, rotation, name=f"rotated (seed {seed})")]
    u = gaussian_starts(start_count, c.size, seed)
    starts = np.stack([u, rotate_points(u, rotation)])
    return _experiment(["axis-aligned", f"rotated (seed {seed})"], c, problems, starts,
                       default_grids(c) if grids is None else grids, tol, cap)


# -- 4. tie-backs: the earlier chapters' axis-aligned problems, rotated -----------------------
#: The methods the tie-backs tune (constant-step sign descent never reaches the
#: tolerance on them either; full-matrix AdaGrad: see ``FULL_MATRIX_MAX_DIM``).
TIE_BACK_METHODS = ("GD", "heavy ball", "Adam", "sign descent, decaying", "Newton")


def rotated_tie_backs(*, seed=0, methods=TIE_BACK_METHODS, tol=TOLERANCE,
                      cap=CAP) -> dict:
    """The per-parameter chapter's badly scaled bowl (``badly_scaled_quadratic()``,
    curvatures 1e-3 … 1e3) and the sensitivity chapter's least squares
    (``default_problems()["least squares"]``, from 0 as in that chapter), each
    axis-aligned (problem 0) and rotated by ``random_rotation(n, seed)``
    (problem 1: the bowl via ``rotated_quadratic``, its start turned with it;
    the least squares via ``rotated_least_squares``, whose excess loss from 0 is
    unchanged), tuned as ``angle_experiment``.  The bowl starts from
    ``gaussian_starts(1, 7, seed)``, not from that chapter's θ0 = 1, where a sign
    step of exactly 1 (a value of the lr grid) lands on the minimum.  Returns
    ``{"badly scaled bowl": BasisExperiment, "least squares": BasisExperiment}``."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"methods must be names from {list(METHODS)}, got {methods!r}")
    bowl = badly_scaled_quadratic()
    rotation = random_rotation(bowl.dim, seed)
    start = gaussian_starts(1, bowl.dim, seed)
    least_squares = default_problems()["least squares"][0]
    rotated_ls = rotated_least_squares(least_squares, seed)
    zeros = np.zeros((1, least_squares.n_features))
    cases = {
        "badly scaled bowl": (bowl.curvatures, [bowl, rotated_quadratic(
            bowl.curvatures, rotation, name="rotated badly scaled bowl")],
            np.stack([start, rotate_points(start, rotation)])),
        # eigvalsh's last bits depend on LAPACK: rounded, as the grids are built from them
        "least squares": (round_significant(np.linalg.eigvalsh(least_squares.hessian), 12),
                          [least_squares, rotated_ls], np.stack([zeros, zeros])),
    }
    out = {}
    for name, (curvatures, problems, starts) in cases.items():
        grids = default_grids(curvatures)
        missing = [m for m in methods if m not in grids]
        if missing:
            raise ValueError(f"methods {missing} have no default grid for the {name} "
                             f"({curvatures.size} dimensions): see FULL_MATRIX_MAX_DIM")
        grids = {m: grids[m] for m in methods}
        out[name] = _experiment(["axis-aligned", f"rotated (seed {seed})"], curvatures,
                                problems, starts, grids, tol, cap)
    return out


# -- 5. the explorer: one 2-D bowl, four methods -------------------------------------------
@dataclass(frozen=True)
class BowlRuns:
    """What ``bowl_runs`` returns: the 2-D bowl's ``rotation`` and ``curvatures``,
    the ``start``, and per method the ``paths`` (shape ``(steps + 1, 2)``), the
    excess ``losses`` (shape ``(steps + 1,)``; NaN once diverged) and the
    ``steps`` to ``f − f* ≤ tol`` (inf: not within the run); ``grid`` is
    ``(x, y, f)`` for the bowl's contour lines over ``[−extent, extent]²``."""

    angle: float
    curvatures: np.ndarray
    rotation: np.ndarray
    start: np.ndarray
    paths: dict
    losses: dict
    steps: dict
    grid: tuple
    tol: float


def _first_within(losses, tol):
    reached = np.flatnonzero(losses <= tol)
    return float(reached[0]) if reached.size else math.inf


def bowl_runs(angle=20.0, condition_number=100.0, adam_lr=0.2, *, steps=300, start_index=1,
              tol=TOLERANCE, extent=1.15, points=121) -> BowlRuns:
    """GD at its optimal step (``optimal_gd``), heavy ball at Polyak's α and μ
    (``optimal_heavy_ball``), Adam at ``adam_lr`` (its defaults otherwise) and
    Newton at α = 1 on the 2-D bowl with curvatures ``(1, condition_number)``
    turned by ``angle`` degrees, from ``circle_starts()[start_index]`` turned with
    it: the theory's step sizes, which need no tuning and are the same in
    every basis.  Cached: the explorer redraws the same runs often."""
    return _bowl_runs(float(angle), float(condition_number), float(adam_lr), steps,
                      start_index, tol, extent, points)


@lru_cache(maxsize=64)
def _bowl_runs(angle, condition_number, adam_lr, steps, start_index, tol, extent, points):
    curvatures = np.array([1.0, check.positive_number("condition_number", condition_number)])
    rotation = rotation_2d(angle)
    bowl = Quadratic(curvatures) if angle == 0 else rotated_quadratic(curvatures, rotation)
    start = rotate_points(circle_starts()[check.integer("start_index", start_index, low=0)],
                          rotation)
    gd_lr, _ = optimal_gd(curvatures)
    hb_lr, hb_mu, _ = optimal_heavy_ball(curvatures)
    methods = {"GD": SGD(lr=gd_lr), "heavy ball": SGD(lr=hb_lr, momentum=hb_mu),
               "Newton": Newton(1.0, bowl.hessian),
               "Adam": Adam(lr=check.positive_number("adam_lr", adam_lr))}
    paths, losses, reached = {}, {}, {}
    for name, optimizer in methods.items():
        result = run(optimizer, bowl.gradient, start, steps, record=np.copy)
        paths[name] = result.history
        with np.errstate(invalid="ignore"):                # NaN once diverged
            losses[name] = bowl.excess_loss(result.history)
        reached[name] = _first_within(losses[name], tol)
    axis = np.linspace(-extent, extent, points)
    x, y = np.meshgrid(axis, axis)
    values = bowl.excess_loss(np.stack([x, y], axis=-1))
    return BowlRuns(angle, curvatures, rotation, start, paths, losses, reached,
                    (x, y, values), tol)
