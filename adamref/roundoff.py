"""Presenting results that sit at round-off level, so that they read the same
on every machine.

Two computations of the same quantity in a different order (a recursion and its
unrolled sum, Adam with β1 = 0 and RMSprop) agree only to round-off, and the
digits of their gap depend on the CPU's BLAS kernel and NumPy's SIMD path.  A
notebook that prints those digits fails its own test on another machine.  So
the gap is *checked* against a stated bound and the bound is printed
(:func:`agreement`, :func:`below`), and values that a run drives down to
round-off level are printed as "below the floor" (:func:`above_floor`).
"""

from __future__ import annotations

import numpy as np

from adamref.optim.validation import hyperparameter, integer


def round_significant(x, digits: int) -> np.ndarray:
    """``x > 0`` rounded to ``digits`` significant decimal digits.

    For data built with a transcendental function (``np.geomspace`` goes through
    ``np.power``, whose last bit depends on NumPy's SIMD path): rounded, they are
    the same on every CPU, unless a value sits within an ulp of a rounding
    boundary.
    """
    integer("digits", digits, low=1)
    x = np.asarray(x, dtype=np.float64)
    exponent = np.floor(np.log10(x))
    return np.round(x / 10.0**exponent, digits - 1) * 10.0**exponent


def ulp_bound(scale: float, ulps: int, dtype=np.float64) -> float:
    """``ulps`` units in the last place of ``scale``: ulps · eps(dtype) · scale."""
    integer("ulps", ulps, low=1)
    scale = hyperparameter("scale", scale, low=0.0)
    return ulps * float(np.finfo(dtype).eps) * scale


def agreement(actual, expected, *, ulps: int = 64, scale: float | None = None) -> str:
    """Check that two computations agree to round-off; describe the bound, not the gap.

    The bound is ``ulps`` float ulps of ``scale`` (default: the largest
    magnitude in ``expected``), in the dtype of ``expected``.  Raises
    ``AssertionError`` naming the gap when it is exceeded, so a notebook cell
    that claims agreement fails loudly when the claim stops being true.
    Returns e.g. ``"within 2e-14 (64 float64 ulps of 1.35)"``: the bound
    rounded *up* to one significant digit, which does not depend on the last
    bits of either computation.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise ValueError(f"actual and expected must have the same shape, "
                         f"got {actual.shape} and {expected.shape}")
    dtype = expected.dtype if expected.dtype.kind == "f" else np.dtype(np.float64)
    if scale is None:
        scale = float(np.max(np.abs(expected)))
    bound = ulp_bound(scale, ulps, dtype)
    gap = float(np.max(np.abs(actual - expected)))
    if not gap <= bound:  # also catches NaN
        raise AssertionError(f"the gap {gap:.3g} exceeds {ulps} {dtype.name} ulps of "
                             f"{scale:.3g} ({bound:.3g})")
    return f"within {round_up(bound)} ({ulps} {dtype.name} ulps of {scale:.3g})"


def below(value: float, bound: float) -> str:
    """Check ``value <= bound`` and say ``"< 1e-09"``: for a gap that rounding
    makes nonzero and a long run amplifies, whose digits are not stable."""
    bound = hyperparameter("bound", bound, low=0.0)
    if not value <= bound:  # also catches NaN
        raise AssertionError(f"the value {value:.3g} exceeds the bound {bound:g}")
    return f"< {round_up(bound)}"


def round_up(value: float) -> str:
    """``value`` rounded up to one significant digit, as ``"2e-14"``."""
    value = hyperparameter("value", value, low=0.0)
    if value == 0.0:
        return "0"
    exponent = int(np.floor(np.log10(value)))
    digit = int(np.ceil(value / 10.0**exponent - 1e-9))
    if digit == 10:
        digit, exponent = 1, exponent + 1
    return f"{digit}e{exponent:+03d}"


def above_floor(value: float, floor: float, fmt: str = ".2g") -> str:
    """Format a value that a run may have driven to round-off level.

    Values at or below ``floor`` print as ``"< 1e-20"``: their digits are the
    last bits of a long computation.  Choose the floor well away from the
    values that are printed, so that no value sits near it.
    """
    floor = hyperparameter("floor", floor, low=0.0)
    return f"< {floor:.0e}" if value <= floor else f"{value:{fmt}}"

