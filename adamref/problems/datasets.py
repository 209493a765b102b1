"""Seeded synthetic datasets with exact and stochastic gradient oracles.

Every loss and gradient takes ``theta`` of shape ``(..., n_features)``: a
leading axis of K configurations (learning rates, noise levels, seeds) is
evaluated in one call, so one optimizer ``step`` on parameters of shape
``(K, n_features)`` advances a whole hyperparameter grid.  NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.roundoff import round_significant


def _scale_range(feature_scales) -> tuple[float, float]:
    try:
        low, high = (float(s) for s in feature_scales)
    except (TypeError, ValueError):
        raise TypeError("feature_scales must be a pair (smallest, largest) of positive "
                        f"numbers, got {feature_scales!r}") from None
    if not (0 < low <= high < np.inf):
        raise ValueError("feature_scales must be a pair (smallest, largest) with "
                         f"0 < smallest <= largest, got {feature_scales!r}")
    return low, high


def _features(rng, n_samples, n_features, feature_scales):
    low, high = _scale_range(feature_scales)
    # rounded: geomspace's np.power differs in the last bit between SIMD paths
    scales = round_significant(np.geomspace(high, low, n_features), 12)
    return rng.standard_normal((n_samples, n_features)) * scales


class _LinearModelData:
    """Shared shape checks and the minibatch machinery of the two problems."""

    X: np.ndarray
    y: np.ndarray

    def _check_data(self):
        check.float_array("X", self.X)
        check.float_array("y", self.y)
        if self.X.ndim < 2 or self.y.shape != self.X.shape[:-1]:
            raise ValueError(f"X must have shape (..., N, d) and y shape (..., N), got X "
                             f"{self.X.shape} and y {self.y.shape}")

    @property
    def n_samples(self) -> int:
        return self.X.shape[-2]

    @property
    def n_features(self) -> int:
        return self.X.shape[-1]

    def _rows(self, rows, theta) -> np.ndarray:
        if self.X.ndim != 2:
            raise ValueError(f"rows (minibatches) need one data set X of shape (N, d), "
                             f"got X of shape {self.X.shape}")
        if not isinstance(rows, np.ndarray) or rows.dtype.kind not in "iu":
            raise TypeError(f"rows must be an integer ndarray of sample indices, got {rows!r:.60}")
        if rows.ndim != theta.ndim or rows.shape[:-1] != theta.shape[:-1]:
            raise ValueError(f"rows must have shape {theta.shape[:-1]} + (batch_size,), "
                             f"got shape {rows.shape}")
        if rows.size and (rows.min() < 0 or rows.max() >= self.n_samples):
            bad = rows[(rows < 0) | (rows >= self.n_samples)].flat[0]
            raise ValueError(f"rows must be in [0, {self.n_samples}), got {int(bad)}")
        return rows

    def _scores(self, theta):
        """``x_iᵀθ`` for every sample, shape ``(..., N)``."""
        return np.einsum("...nd,...d->...n", self.X, theta)

    def _residual_gradient(self, theta, rows, residual_fn):
        """``mean_i residual_i · x_i`` over all samples or over ``rows`` per configuration."""
        if rows is None:
            r = residual_fn(self._scores(theta), self.y)                # (..., N)
            return np.einsum("...nd,...n->...d", self.X, r) / self.n_samples
        rows = self._rows(rows, theta)
        Xb = self.X[rows]                                       # (..., B, d)
        z = np.einsum("...bd,...d->...b", Xb, theta)
        r = residual_fn(z, self.y[rows])                        # (..., B)
        return np.einsum("...b,...bd->...d", r, Xb) / rows.shape[-1]


@dataclass(frozen=True, eq=False)
class LeastSquares(_LinearModelData):
    """``f(θ) = (1/2N) Σ_i (x_iᵀθ − y_i)²`` for data ``X`` (N, d) and ``y`` (N,).

    The one least-squares problem of the package; its vocabulary is that of
    every dataset problem: ``loss``, ``gradient(theta, rows=None)``,
    ``optimum`` (θ*), ``best_loss`` (f(θ*)), ``excess_loss`` (f(θ) − f(θ*)),
    plus ``hessian`` (``H = XᵀX/N``) and ``condition_number``.  ``theta`` has
    shape ``(..., d)``: leading axes are configurations (or starting points).

    ``X`` may also carry leading axes, shape ``(..., N, d)`` with ``y`` of shape
    ``(..., N)``: a stack of independent data sets ("draws") of one size, which
    broadcast against ``theta``'s leading axes (``X`` of shape
    ``(draws, 1, N, d)`` and ``theta`` of shape ``(draws, K, d)``: K
    configurations on every draw).

    Arithmetic that is the same on every CPU (see CONTRIBUTING, "Portable
    outputs"): all products use einsum's own loops, not BLAS, so a row's result
    does not depend on how many rows there are either.

    - ``loss`` is computed from the residuals ``Xθ − y``: exact to rounding
      near the optimum (it prints as below a floor there).
    - The exact ``gradient`` is ``Hθ − Xᵀy/N`` with ``H`` and ``Xᵀy/N``
      computed once when ``N > d`` (a d×d product per call instead of a pass
      over the data), and ``Xᵀ(Xθ − y)/N`` otherwise (cheaper when there are
      fewer samples than features).  Both are exact in exact arithmetic; which
      one a problem uses depends only on its shape.
    - ``excess_loss`` is ``½ (θ − θ*)ᵀ H (θ − θ*)``, without the cancellation of
      subtracting two nearly equal losses.
    """

    X: np.ndarray
    y: np.ndarray
    name: str = "least squares"

    def __post_init__(self):
        self._check_data()
        X, y, n = self.X, self.y, self.n_samples
        object.__setattr__(self, "hessian", np.einsum("...nj,...nk->...jk", X, X) / n)
        object.__setattr__(self, "_xty", np.einsum("...nj,...n->...j", X, y) / n)

    def loss(self, theta):
        r = self._scores(check.points("theta", theta, self.n_features)) - self.y
        return 0.5 * np.mean(r**2, axis=-1)

    def excess_loss(self, theta):
        """``f(θ) − f(θ*) = ½ (θ − θ*)ᵀ H (θ − θ*)``, computed without cancellation."""
        d = check.points("theta", theta, self.n_features) - self.optimum
        return 0.5 * np.sum(np.einsum("...j,...jk->...k", d, self.hessian) * d, axis=-1)

    def gradient(self, theta, rows=None):
        """Exact gradient, or the minibatch gradient over ``rows`` (shape
        ``theta.shape[:-1] + (B,)``: one batch of sample indices per configuration)."""
        theta = check.points("theta", theta, self.n_features)
        if rows is None and self.n_samples > self.n_features:
            return np.einsum("...j,...jk->...k", theta, self.hessian) - self._xty
        return self._residual_gradient(theta, rows, lambda z, y: z - y)

    @property
    def optimum(self) -> np.ndarray:
        """The least-squares solution of least norm, computed once:
        ``np.linalg.lstsq`` for one data set, ``pinv(X)·y`` for a stack of them
        (``lstsq`` takes no stacks).  Gradient descent from 0 converges to it."""
        cached = self.__dict__.get("_optimum")
        if cached is None:
            if self.X.ndim == 2:
                cached = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
            else:
                cached = np.einsum("...dn,...n->...d", np.linalg.pinv(self.X), self.y)
            object.__setattr__(self, "_optimum", cached)
        return cached

    @property
    def best_loss(self):
        """``f(θ*)`` (a float; per data set for a stack)."""
        value = self.loss(self.optimum)
        return float(value) if value.ndim == 0 else value

    @property
    def condition_number(self):
        """``c_max/c_min``, the extreme eigenvalues of ``H`` (per data set for a stack)."""
        eig = np.linalg.eigvalsh(self.hessian)
        ratio = eig[..., -1] / eig[..., 0]
        return float(ratio) if ratio.ndim == 0 else ratio


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic function


@dataclass(frozen=True, eq=False)
class LogisticRegression(_LinearModelData):
    """``f(θ) = (1/N) Σ_i [log(1 + e^{z_i}) − y_i z_i]``, ``z_i = x_iᵀθ``, labels in {0, 1}."""

    X: np.ndarray
    y: np.ndarray
    name: str = "logistic regression"

    def __post_init__(self):
        self._check_data()
        if not np.isin(self.y, (0.0, 1.0)).all():
            bad = float(self.y[~np.isin(self.y, (0.0, 1.0))][0])
            raise ValueError(f"y must hold labels 0 and 1, got {bad!r}")

    def loss(self, theta):
        theta = check.points("theta", theta, self.n_features)
        z = np.einsum("...d,nd->...n", theta, self.X)
        return np.mean(np.logaddexp(0.0, z) - self.y * z, axis=-1)

    def gradient(self, theta, rows=None):
        """Exact gradient, or the minibatch gradient over ``rows`` (see ``LeastSquares``)."""
        theta = check.points("theta", theta, self.n_features)
        return self._residual_gradient(theta, rows, lambda z, y: _sigmoid(z) - y)


def make_least_squares(n_samples=200, n_features=10, *, noise=0.5,
                       feature_scales=(0.5, 2.0), seed=0) -> LeastSquares:
    """Linear data ``y = X w* + noise·N(0, 1)``, ``w* ~ N(0, I)``, with feature
    ``j`` scaled by a factor geometrically spaced from ``feature_scales[1]``
    down to ``feature_scales[0]`` (so the Hessian is not isotropic)."""
    n_samples = check.integer("n_samples", n_samples, 1)
    n_features = check.integer("n_features", n_features, 1)
    noise = check.hyperparameter("noise", noise, low=0.0)
    if not isinstance(noise, float):
        raise TypeError(f"noise must be a real number, got {noise!r}")
    rng = np.random.default_rng(check.seed("seed", seed))
    X = _features(rng, n_samples, n_features, feature_scales)
    w_true = rng.standard_normal(n_features)
    y = np.einsum("nd,d->n", X, w_true) + noise * rng.standard_normal(n_samples)
    return LeastSquares(X, y)


def make_logistic(n_samples=200, n_features=10, *, label_noise=0.1,
                  feature_scales=(0.5, 2.0), seed=0) -> LogisticRegression:
    """Labels ``y = 1[x_iᵀw* > 0]`` with a fraction ``label_noise`` flipped
    (so the data are not separable and the loss has a finite minimizer)."""
    n_samples = check.integer("n_samples", n_samples, 1)
    n_features = check.integer("n_features", n_features, 1)
    label_noise = check.hyperparameter("label_noise", label_noise, low=0.0, high=0.5)
    if not isinstance(label_noise, float):
        raise TypeError(f"label_noise must be a real number, got {label_noise!r}")
    rng = np.random.default_rng(check.seed("seed", seed))
    X = _features(rng, n_samples, n_features, feature_scales)
    w_true = rng.standard_normal(n_features)
    y = (np.einsum("nd,d->n", X, w_true) > 0).astype(float)
    flip = rng.random(n_samples) < label_noise
    y[flip] = 1.0 - y[flip]
    return LogisticRegression(X, y)


def gradient_oracle(problem, *, batch_size=None, noise=0.0, seed=0):
    """A stochastic gradient ``oracle(theta)`` for ``problem``.

    - ``batch_size=None``: the exact gradient; an integer ``B``: each
      configuration (each row of ``theta``'s leading axes) draws its own ``B``
      sample indices, uniformly with replacement, at every call.
    - ``noise``: add ``noise·N(0, 1)`` to every coordinate; a scalar or an array
      broadcasting against ``theta`` (e.g. shape ``(K, 1)``: one level per row).

    All randomness comes from one ``np.random.default_rng(seed)`` created here,
    so a run is reproducible and each row of a batch sees its own stream.
    """
    if not (hasattr(problem, "gradient") and hasattr(problem, "n_samples")):
        raise TypeError("problem must be a dataset problem such as LeastSquares or "
                        f"LogisticRegression, got {type(problem).__name__}")
    if batch_size is not None:
        batch_size = check.integer("batch_size", batch_size, 1)
        if batch_size > problem.n_samples:
            raise ValueError(f"batch_size must be <= n_samples = {problem.n_samples}, "
                             f"got {batch_size}")
    noise = check.hyperparameter("noise", noise, low=0.0)
    rng = np.random.default_rng(check.seed("seed", seed))

    def oracle(theta):
        if batch_size is None:
            grad = problem.gradient(theta)
        else:
            rows = rng.integers(0, problem.n_samples, size=(*theta.shape[:-1], batch_size))
            grad = problem.gradient(theta, rows)
        if np.any(noise != 0):
            grad = grad + noise * rng.standard_normal(grad.shape)
        return grad
    return oracle
