"""Test problems: objectives with exact gradients, vectorized over leading axes.

Every objective takes ``theta`` of shape ``(..., dim)`` (any leading batch axes,
so one call evaluates many starting points or configurations) and returns the
value of shape ``(...)`` or the gradient of shape ``(..., dim)``; ``minimum``
is where the value is 0, and ``excess_loss`` (``f(θ) − f(θ*)``, the name the
dataset problems use too) is the value itself.  Nothing here
imports matplotlib or the optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check


class Quadratic:
    """``f(θ) = (scale/2)·(θ − θ*)ᵀ H (θ − θ*)`` for a symmetric positive-definite ``H``.

    ``Quadratic(curvatures)`` is the axis-aligned bowl ``H = diag(c)``;
    ``rotation=R`` (an orthogonal matrix) turns it into ``H = R diag(c) Rᵀ``, and
    ``Quadratic.from_hessian(H)`` takes any symmetric positive-definite matrix.
    The condition number ``max(c)/min(c)`` is what makes plain gradient descent
    slow: a step size stable along the steep axis crawls along the flat one.
    ``scale`` multiplies the whole loss (and so every gradient).

    ``value`` and ``gradient`` take ``theta`` of shape ``(..., dim)``.  For a
    diagonal Hessian they compute ``c * (θ − θ*)`` elementwise, not a matrix
    product: the same bits on every CPU and in every batch shape.
    """

    def __init__(self, curvatures=(1.0, 50.0), minimum=None, *, rotation=None, scale=1.0,
                 name="ill-conditioned quadratic"):
        c = check.positive_vector("curvatures", curvatures)
        dim = c.size
        minimum = np.zeros(dim) if minimum is None else np.array(minimum, dtype=float)
        if minimum.shape != (dim,) or not np.all(np.isfinite(minimum)):
            raise ValueError(f"minimum must be {dim} finite numbers (one per curvature), "
                             f"got {minimum!r}")
        if rotation is not None:
            rotation = np.array(rotation, dtype=float)
            if rotation.shape != (dim, dim) or not np.allclose(rotation @ rotation.T,
                                                               np.eye(dim), atol=1e-12):
                raise ValueError(f"rotation must be an orthogonal {dim} x {dim} matrix, "
                                 f"got {rotation!r}")
        self._hessian = None if rotation is None else (rotation * c) @ rotation.T
        self._curvatures, self._minimum = c, minimum
        for array in (c, minimum) + (() if rotation is None else (self._hessian,)):
            array.flags.writeable = False      # a problem is a value: nothing mutates it
        self.scale = check.positive_number("scale", scale)
        self.name = name

    @classmethod
    def from_hessian(cls, hessian, minimum=None, *, scale=1.0, name="quadratic"):
        """The quadratic with Hessian ``hessian`` (symmetric positive definite)."""
        h = np.array(hessian, dtype=float)
        if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.allclose(h, h.T):
            raise ValueError(f"hessian must be a symmetric square matrix, got {hessian!r}")
        curvatures, rotation = np.linalg.eigh(h)
        if not curvatures.min() > 0:
            raise ValueError(f"hessian must be positive definite, got smallest eigenvalue "
                             f"{curvatures.min()!r}")
        out = cls(curvatures, minimum, rotation=rotation, scale=scale, name=name)
        out._hessian = h                       # the caller's matrix itself, not R diag(c) Rᵀ
        out._hessian.flags.writeable = False
        return out

    @property
    def curvatures(self) -> np.ndarray:
        """The eigenvalues of ``H`` (the curvatures along its axes)."""
        return self._curvatures

    @property
    def minimum(self) -> np.ndarray:
        return self._minimum

    @property
    def dim(self) -> int:
        return self._curvatures.size

    @property
    def hessian(self) -> np.ndarray:
        """``H`` (without ``scale``)."""
        return np.diag(self._curvatures) if self._hessian is None else self._hessian

    @property
    def condition_number(self) -> float:
        return float(self._curvatures.max() / self._curvatures.min())

    def value(self, theta):
        d = check.points("theta", theta, self.dim) - self._minimum
        if self._hessian is None:
            return self.scale * 0.5 * np.sum(self._curvatures * d**2, axis=-1)
        return self.scale * 0.5 * np.sum(np.einsum("...j,jk->...k", d, self._hessian) * d,
                                         axis=-1)

    def gradient(self, theta):
        d = check.points("theta", theta, self.dim) - self._minimum
        if self._hessian is None:
            return self.scale * self._curvatures * d
        return self.scale * np.einsum("...j,jk->...k", d, self._hessian)

    def excess_loss(self, theta):
        """``f(θ) − f(θ*)``: ``value`` itself (f(θ*) = 0)."""
        return self.value(theta)

    def __repr__(self):
        kind = "" if self._hessian is None else ", rotated"
        return (f"Quadratic(curvatures={self._curvatures.tolist()!r}, "
                f"minimum={self._minimum.tolist()!r}{kind}, scale={self.scale!r})")


@dataclass(frozen=True)
class Rosenbrock:
    """``f(x, y) = (a − x)² + b (y − x²)²``: a curved, narrow valley, minimum (a, a²)."""

    a: float = 1.0
    b: float = 100.0
    name: str = "Rosenbrock"

    @property
    def minimum(self) -> np.ndarray:
        return np.array([self.a, self.a**2])

    def value(self, theta):
        theta = check.points("theta", theta, 2)
        x, y = theta[..., 0], theta[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def excess_loss(self, theta):
        """``f(θ) − f(θ*)``: ``value`` itself (f(a, a²) = 0)."""
        return self.value(theta)

    def gradient(self, theta):
        theta = check.points("theta", theta, 2)
        x, y = theta[..., 0], theta[..., 1]
        dx = -2 * (self.a - x) - 4 * self.b * x * (y - x**2)
        dy = 2 * self.b * (y - x**2)
        return np.stack([dx, dy], axis=-1)


def noisy_gradient(objective, noise: float, seed: int):
    """A stochastic gradient oracle: the exact gradient plus N(0, noise²) per
    coordinate, from a generator seeded once (so a run is reproducible)."""
    noise = check.hyperparameter("noise", noise, low=0.0)
    rng = np.random.default_rng(seed)

    def gradient(theta):
        exact = objective.gradient(theta)
        return exact + noise * rng.standard_normal(exact.shape)
    return gradient
