"""Multimodal test functions and basin assignment (NumPy only).

``Washboard`` is a 1-D bowl with ripples: many local minima, one global one.
Its basins of attraction (for gradient flow) are the intervals between
consecutive local maxima, so the minimum a run ended in is found exactly by
locating the final point between the maxima.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as check


@dataclass(frozen=True)
class Washboard:
    """``f(θ) = ½·curvature·θ² + height·(1 − cos(2πθ))`` for ``θ`` of shape ``(..., 1)``.

    The global minimum is ``θ = 0`` (f = 0); the local minima sit near the
    integers ``k`` with ``f ≈ ½·curvature·k²``: the farther from 0, the poorer.
    """

    curvature: float = 0.5
    height: float = 1.0
    name: str = "washboard"

    def __post_init__(self):
        for name in ("curvature", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")

    @staticmethod
    def _theta(theta) -> np.ndarray:
        check.float_array("theta", theta)
        if theta.ndim == 0 or theta.shape[-1] != 1:
            raise ValueError(f"theta must have shape (..., 1), got shape {theta.shape}")
        return theta

    def value(self, theta):
        x = self._theta(theta)[..., 0]
        return 0.5 * self.curvature * x**2 + self.height * (1 - np.cos(2 * np.pi * x))

    def gradient(self, theta):
        x = self._theta(theta)
        return self.curvature * x + 2 * np.pi * self.height * np.sin(2 * np.pi * x)

    def stationary_points(self, low=-10.0, high=10.0, resolution=1e-4):
        """``(minima, maxima)`` in ``[low, high]``: sign changes of f′ on a fine
        grid, refined by linear interpolation (accurate to ~resolution²)."""
        low = float(check.hyperparameter("low", low, low=-np.inf))
        high = float(check.hyperparameter("high", high, low=-np.inf))
        if not high > low:
            raise ValueError(f"high must be > low = {low}, got {high}")
        resolution = check.hyperparameter("resolution", resolution, low=1e-9, high=0.1)
        x = np.arange(low, high + resolution, resolution)
        d = self.gradient(x[:, None])[:, 0]
        i = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
        i = i[d[i] != 0] if i.size else i
        root = x[i] - d[i] * (x[i + 1] - x[i]) / (d[i + 1] - d[i])
        rising = d[i + 1] > d[i]          # f′ from − to +: a minimum
        return root[rising], root[~rising]

    def basin(self, theta, low=-10.0, high=10.0):
        """For each point, the location of the local minimum whose basin (the
        interval between the neighbouring maxima) contains it; shape ``theta.shape[:-1]``."""
        x = self._theta(theta)[..., 0]
        minima, maxima = self.stationary_points(low, high)
        if np.any((x < low) | (x > high)):
            bad = x[(x < low) | (x > high)].flat[0]
            raise ValueError(f"theta must lie in [{low}, {high}] to be assigned a basin, "
                             f"got {float(bad)}")
        # Minima and maxima alternate: the basin between maxima j−1 and j holds the
        # first minimum to the right of maximum j−1 (NaN if that lies outside [low, high]).
        left_edges = np.concatenate([[-np.inf], maxima])
        right_edges = np.concatenate([maxima, [np.inf]])
        first = np.searchsorted(minima, left_edges)
        padded = np.append(minima, np.nan)
        centres = padded[first]
        centres[~(centres < right_edges)] = np.nan
        return centres[np.searchsorted(maxima, x)]
