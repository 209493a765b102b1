"""Test problems: objectives with exact gradients, vectorized over leading axes.

Every objective takes ``theta`` of shape ``(..., 2)`` (any leading batch axes,
so one call evaluates many starting points or configurations) and returns the
value of shape ``(...)`` or the gradient of shape ``(..., 2)``.  Nothing here
imports matplotlib or the optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from adamref.optim import validation as check


def _points(theta, dim: int = 2) -> np.ndarray:
    theta = np.asarray(theta, dtype=float) if not isinstance(theta, np.ndarray) else theta
    check.float_array("theta", theta)
    if theta.ndim == 0 or theta.shape[-1] != dim:
        raise ValueError(f"theta must have shape (..., {dim}), got shape {theta.shape}")
    return theta


@dataclass(frozen=True)
class Quadratic:
    """``f(θ) = ½ Σ_i c_i θ_i²``: an axis-aligned bowl with curvatures ``c``.

    The condition number ``max(c)/min(c)`` is what makes plain gradient descent
    slow: a step size stable along the steep axis crawls along the flat one.
    """

    curvatures: tuple = (1.0, 50.0)
    minimum: tuple = field(default=(0.0, 0.0))
    name: str = "ill-conditioned quadratic"

    def __post_init__(self):
        c = np.asarray(self.curvatures, dtype=float)
        if c.ndim != 1 or c.size != 2 or not (c > 0).all():
            raise ValueError(f"curvatures must be two positive numbers, got {self.curvatures!r}")

    @property
    def condition_number(self) -> float:
        return max(self.curvatures) / min(self.curvatures)

    def value(self, theta):
        d = _points(theta) - np.asarray(self.minimum)
        return 0.5 * np.sum(np.asarray(self.curvatures) * d**2, axis=-1)

    def gradient(self, theta):
        return np.asarray(self.curvatures) * (_points(theta) - np.asarray(self.minimum))


@dataclass(frozen=True)
class Rosenbrock:
    """``f(x, y) = (a − x)² + b (y − x²)²``: a curved, narrow valley, minimum (a, a²)."""

    a: float = 1.0
    b: float = 100.0
    name: str = "Rosenbrock"

    @property
    def minimum(self) -> tuple:
        return (self.a, self.a**2)

    def value(self, theta):
        theta = _points(theta)
        x, y = theta[..., 0], theta[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def gradient(self, theta):
        theta = _points(theta)
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
