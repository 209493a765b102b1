"""Tuning a hyperparameter on a grid, honestly: the best value only if the grid
brackets it, and the range of *all* good values, not a run around the best.

Every chapter that tunes goes through ``tune``.  A best value at the edge of its
grid is not a result (a value beyond the edge might be better still), so
``Tuned.best`` raises ``UnbracketedOptimum`` there: a chapter cannot print an
unbracketed optimum by accident, and since the test suite re-executes every
notebook, a grid that stops bracketing fails the tests.  What a chapter can
always report is the set of good values (within ``factor`` of the best score,
or below ``floor``): its lowest and highest value, how many grid points it
holds, whether it has holes, and whether it reaches an edge of the grid (then
the range is open on that side: "≥ 3 decades").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check


class UnbracketedOptimum(ValueError):
    """The best value of a tuning grid is one of its edges."""


@dataclass(frozen=True)
class Tuned:
    """The result of ``tune``: the grid ``values`` (increasing), their
    ``scores`` (lower is better; inf or NaN: the run failed), the index of the
    best value, the score ``threshold`` that makes a value good, and ``good``,
    the mask of good values."""

    values: np.ndarray
    scores: np.ndarray
    best_index: int
    threshold: float
    good: np.ndarray

    @property
    def bracketed(self) -> bool:
        """Whether the best value lies strictly inside the grid."""
        return 0 < self.best_index < self.values.size - 1

    @property
    def best(self) -> float:
        """The best value; ``UnbracketedOptimum`` if it is an edge of the grid."""
        if not self.bracketed:
            edge = "lower" if self.best_index == 0 else "upper"
            raise UnbracketedOptimum(
                f"the best value {self.values[self.best_index]:.3g} is the {edge} edge of "
                f"the grid [{self.values[0]:.3g}, {self.values[-1]:.3g}]: widen the grid")
        return float(self.values[self.best_index])

    @property
    def best_score(self) -> float:
        """The best score (defined whether or not the best value is bracketed)."""
        return float(self.scores[self.best_index])

    @property
    def low(self) -> float:
        """The smallest good value."""
        return float(self.values[self.good][0])

    @property
    def high(self) -> float:
        """The largest good value."""
        return float(self.values[self.good][-1])

    @property
    def count(self) -> int:
        """How many grid values are good."""
        return int(self.good.sum())

    @property
    def contiguous(self) -> bool:
        """Whether the good values are one run of the grid (no bad value between)."""
        index = np.flatnonzero(self.good)
        return bool(index[-1] - index[0] + 1 == index.size)

    @property
    def open_below(self) -> bool:
        """Whether the good set reaches the grid's lowest value (smaller ones may be good)."""
        return bool(self.good[0])

    @property
    def open_above(self) -> bool:
        """Whether the good set reaches the grid's highest value (larger ones may be good)."""
        return bool(self.good[-1])

    @property
    def decades(self) -> float:
        """``log10(high / low)``: the width of the good range (a lower bound if it
        is open); for a grid of positive values (learning rates, not steps)."""
        if self.low <= 0:
            raise ValueError("decades needs positive values, the good range starts at "
                         f"{self.low!r}")
        return float(np.log10(self.high / self.low))

    def range_text(self, fmt: str = ".2g") -> str:
        """The good range as the book prints it, e.g. ``"0.0063 to ≥ 10"`` when
        the good values reach the grid's top."""
        low = ("≤ " if self.open_below else "") + format(self.low, fmt)
        high = ("≥ " if self.open_above else "") + format(self.high, fmt)
        return f"{low} to {high}"

    def decades_text(self, fmt: str = ".1f") -> str:
        """The width in decades, ``"≥ 3.2"`` when the range is open on a side."""
        return ("≥ " if self.open_below or self.open_above else "") + format(self.decades, fmt)


def tune(values, scores, *, factor: float = 10.0, floor: float = 0.0) -> Tuned:
    """Tune over a 1-D grid: ``values`` (increasing: a log grid of learning rates,
    or the steps of a run for early stopping) and their ``scores`` (lower is better; inf or NaN for a run
    that failed).

    The best value has the lowest score; scores at or below ``floor`` count as
    solved and tie, and among tied values the smallest is the best (a rule, not
    rounding noise, breaks the tie).  A value is *good* if its score is finite
    and at most ``max(factor · best score, floor)``.  ``floor`` keeps the
    criterion meaningful when the best run has reached rounding level.
    """
    values = np.asarray(values, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if values.ndim != 1 or values.shape != scores.shape or values.size < 3:
        raise ValueError(f"values and scores must be 1-D arrays of one length >= 3 (a "
                         f"grid that can bracket), got shapes {values.shape} and {scores.shape}")
    if not (np.all(np.isfinite(values)) and np.all(np.diff(values) > 0)):
        raise ValueError(f"values must be finite and increasing, got {values!r:.80}")
    factor = check.positive_number("factor", factor)
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor!r}")
    floor = check.hyperparameter("floor", floor, low=0.0)
    if isinstance(floor, np.ndarray):
        raise TypeError(f"floor must be a number, got an array of shape {floor.shape}")
    finite = np.isfinite(scores)
    if not finite.any():
        raise ValueError("scores has no finite value: every run failed")
    ranked = np.where(finite, np.maximum(scores, floor), np.inf)
    best = int(np.argmin(ranked))          # the first of equal scores: the smallest value
    threshold = max(factor * float(scores[best]), floor)
    good = finite & (scores <= threshold)
    return Tuned(values, scores, best, float(threshold), good)
