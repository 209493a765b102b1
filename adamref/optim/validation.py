"""Argument checks shared by every public function.

Each check raises a ``TypeError`` or ``ValueError`` whose message names the
parameter and the offending value, so that a wrong call fails at the call site
instead of as a NumPy traceback (or, worse, a silently wrong trajectory).
"""

from __future__ import annotations

import numbers

import numpy as np


def _first_offender(values: np.ndarray, bad: np.ndarray):
    """The first value that fails a check, for the error message."""
    return values.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]]


def hyperparameter(name: str, value, *, low: float, high: float = np.inf,
                   high_inclusive: bool = True):
    """Check ``low <= value <= high`` (or ``< high``) elementwise, and that the
    value is finite: no hyperparameter of the package means anything at ±inf
    (``lr=inf`` or ``eps=inf`` would only turn the run into NaN or freeze it).

    Scalars come back as Python floats: NumPy 2 treats Python floats as "weak",
    so float32 arrays stay float32 when combined with them.  Arrays come back as
    float64 arrays; they broadcast against the parameters (one run, many
    configurations).
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}")
    if isinstance(value, numbers.Real):
        try:
            array = np.asarray(float(value))
        except OverflowError:   # a Python int beyond float64's range, e.g. 10**400
            raise ValueError(f"{name} must be a finite number, got an integer of "
                             f"{len(str(abs(value)))} digits") from None
    elif isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind not in "fiu" or array.size == 0:
            raise TypeError(f"{name} must be a real number or a non-empty array of "
                            f"real numbers, got {value!r}")
        array = array.astype(np.float64)
    else:
        raise TypeError(f"{name} must be a real number or an array of them, "
                        f"got {type(value).__name__} {value!r}")
    upper_ok = array <= high if high_inclusive else array < high
    bad = ~((array >= low) & upper_ok)  # also catches NaN
    if bad.any():
        offender = float(_first_offender(array, bad))
        bracket = "]" if high_inclusive else ")"
        interval = f">= {low}" if high == np.inf else f"in [{low}, {high}{bracket}"
        raise ValueError(f"{name} must be {interval}, got {offender!r}")
    infinite = np.isinf(array)
    if infinite.any():
        raise ValueError(f"{name} must be finite, got {float(_first_offender(array, infinite))!r}")
    return float(array) if array.ndim == 0 else array


def flag(name: str, value) -> bool:
    """Boolean switches must really be booleans: ``amsgrad="no"`` is truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def integer(name: str, value, low: int = 0) -> int:
    """An integer (not a bool, not a float) >= ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


#: The largest step count: ``state_dict`` stores ``t`` as an int64.
MAX_STEP = int(np.iinfo(np.int64).max)


def step_count(name: str, value, low: int = 1) -> int:
    """A step counter: an integer in ``[low, MAX_STEP]`` (Algorithm 1 starts at
    t = 1; a saved state may hold t = 0, before the first step).  A 0-d integer
    array (what ``np.load`` gives back) counts as an integer."""
    if (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu"):
        value = value.item()
    value = integer(name, value, low=low)
    if value > MAX_STEP:
        raise ValueError(f"{name} must be an integer in [{low}, 2**63 - 1], got an "
                         f"integer of {len(str(value))} digits")
    return value


def step_counts(name: str, value) -> np.ndarray:
    """The steps at which a formula of t is evaluated: an integer or a non-empty
    integer array, every entry >= 1 (returned as an array)."""
    steps = np.asarray(value)
    if steps.dtype.kind not in "iu" or steps.size == 0 or np.any(steps < 1):
        raise ValueError(f"{name} must be an integer (or integer array) >= 1, got {value!r:.60}")
    return steps


#: The dtypes the optimizers compute in.  float16 is refused: ε = 1e-8 rounds
#: to 0 in it (0/0 = NaN for a coordinate whose gradient is 0) and g² overflows
#: above |g| = 256; mixed precision keeps float32 master weights instead.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_array(name: str, value) -> np.ndarray:
    """A float32 or float64 ndarray: the optimizers update such arrays in place.

    Masked arrays and ``np.matrix`` are refused: their arithmetic is not
    ndarray arithmetic (an in-place update would ignore the mask; a matrix
    stays 2-D when flattened), so the result would not be what it seems.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy ndarray of floats, "
                        f"got {type(value).__name__} {value!r:.60}")
    if isinstance(value, (np.ma.MaskedArray, np.matrix)):
        raise TypeError(f"{name} must be a plain ndarray, got a {type(value).__name__}: "
                        "pass np.asarray(...) of the values (for a masked array, "
                        "set the gradient of masked entries to 0 instead)")
    if value.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have a floating dtype (float32 or float64), "
                        f"got dtype {value.dtype}")
    return value


def same_shape(name: str, value: np.ndarray, reference_name: str,
               reference: np.ndarray) -> None:
    if value.shape != reference.shape:
        raise ValueError(f"{name} has shape {value.shape} but {reference_name} "
                         f"has shape {reference.shape}")


def broadcasts_to(name: str, value, shape: tuple, target_name: str) -> None:
    """An array hyperparameter must broadcast to the parameter's own shape:
    the update is in place, so it cannot grow the parameter."""
    if isinstance(value, np.ndarray):
        try:
            result = np.broadcast_shapes(value.shape, shape)
        except ValueError:
            result = None
        if result != shape:
            raise ValueError(f"{name} has shape {value.shape}, which does not "
                             f"broadcast to {target_name}'s shape {shape}")


def seed(name: str, value) -> int:
    """A seed for ``np.random.default_rng``: an integer >= 0."""
    return integer(name, value, low=0)


def positive_number(name: str, value) -> float:
    """A single finite real number > 0 (a scale, a ratio, a bound): arrays and
    bools are refused, so a column of values cannot slip into a scalar role."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def positive_vector(name: str, value) -> np.ndarray:
    """A non-empty 1-D array (or sequence) of finite numbers > 0, as float64."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    array = array.astype(float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array) & (array > 0)):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return array


def points(name: str, value, dim: int) -> np.ndarray:
    """Points of a ``dim``-dimensional problem: a float ndarray of shape ``(..., dim)``
    (any leading axes: starting points, configurations, draws)."""
    float_array(name, value)
    if value.ndim == 0 or value.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}), got shape {value.shape}")
    return value
