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
    """Check ``low <= value <= high`` (or ``< high``) elementwise.

    Scalars come back as Python floats: NumPy 2 treats Python floats as "weak",
    so float32 arrays stay float32 when combined with them.  Arrays come back as
    float64 arrays; they broadcast against the parameters (one run, many
    configurations).
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}")
    if isinstance(value, numbers.Real):
        array = np.asarray(float(value))
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


def step_count(name: str, value) -> int:
    """A step counter is an integer >= 1 (Algorithm 1 starts at t = 1)."""
    return integer(name, value, low=1)


def float_array(name: str, value) -> np.ndarray:
    """A floating-point ndarray: the optimizers update such arrays in place."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy ndarray of floats, "
                        f"got {type(value).__name__} {value!r:.60}")
    if value.dtype.kind != "f":
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
