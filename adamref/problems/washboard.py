"""Multimodal test functions and basin assignment (NumPy only).

``Washboard`` is a 1-D bowl with ripples: many local minima, one global one.
Its basins of attraction (for gradient flow) are the intervals between
consecutive local maxima, so the minimum a run ended in is found exactly by
locating the final point between the maxima.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check


def _sin_2pi_coefficients(terms: int = 12) -> tuple[float, ...]:
    """Taylor coefficients of sin(2πs) in s: c_k = (−1)^k (2π)^(2k+1) / (2k+1)!,
    by the recursion c_k = −c_(k−1)·(2π)² / ((2k)(2k+1)) in IEEE arithmetic."""
    two_pi = 2 * np.pi
    coefficients = [two_pi]
    for k in range(1, terms):
        coefficients.append(-coefficients[-1] * two_pi * two_pi / ((2 * k) * (2 * k + 1)))
    return tuple(coefficients)


_SIN_2PI = _sin_2pi_coefficients()


def sin_2pi(x):
    """sin(2πx) from + − × and exact operations only: the same bits on every CPU.

    ``np.sin``'s SIMD code paths differ in the last bit between machines, and a
    long run on the washboard amplifies that into different basins.  Reduce to
    ``|s| ≤ 1/4`` exactly (sin(2πx) has period 1 and sin(2π(±½ − r)) = sin(2πr)),
    then sum the Taylor series to degree 23 (truncation below 1e-17).
    """
    x = np.asarray(x, dtype=np.float64)
    r = x - np.round(x)                                         # exact, |r| ≤ 1/2
    s = np.where(np.abs(r) > 0.25, np.copysign(0.5, r) - r, r)  # exact, |s| ≤ 1/4
    s2 = s * s
    series = np.full_like(s, _SIN_2PI[-1])
    for c in reversed(_SIN_2PI[:-1]):                           # Horner in s²
        series = series * s2 + c
    return series * s


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
            check.positive_number(name, getattr(self, name))

    def value(self, theta):
        x = check.points("theta", theta, 1)[..., 0]
        return 0.5 * self.curvature * x**2 + self.height * (1 - sin_2pi(x + 0.25))  # cos

    def gradient(self, theta):
        x = check.points("theta", theta, 1)
        return self.curvature * x + 2 * np.pi * self.height * sin_2pi(x)

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
        x = check.points("theta", theta, 1)[..., 0]
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
