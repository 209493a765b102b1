"""``adamref.problems.tuning``: the best value only when bracketed, and the
range of all good values."""

import numpy as np
import pytest

from adamref.problems import UnbracketedOptimum, tune

GRID = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0])


def test_an_interior_best_is_reported_with_its_score():
    tuned = tune(GRID, [5.0, 2.0, 1.0, 3.0, 50.0])
    assert tuned.bracketed and tuned.best == 1e-1 and tuned.best_score == 1.0
    assert (tuned.low, tuned.high, tuned.count) == (1e-3, 1.0, 4)   # within 10x of 1.0


@pytest.mark.parametrize("scores, edge", [([1.0, 2.0, 3.0, 4.0, 5.0], "lower"),
                                          ([5.0, 4.0, 3.0, 2.0, 1.0], "upper")])
def test_a_best_value_at_an_edge_of_the_grid_is_not_a_result(scores, edge):
    tuned = tune(GRID, scores)
    assert not tuned.bracketed
    with pytest.raises(UnbracketedOptimum, match=rf"is the {edge} edge of the grid "
                                                 r"\[0.001, 10\]: widen the grid"):
        tuned.best
    assert tuned.best_score == 1.0                 # the score itself is still known


def test_the_good_range_is_every_good_value_not_a_run_around_the_best():
    # The referee's case: one bad point inside the good range must not cut it.
    values = np.geomspace(1e-3, 10.0, 9)
    scores = np.array([1e-3, 2e-7, 1e-7, 5e-7, 9e-6, 6e-7, 1e-7, 3e-7, 2e-7])
    tuned = tune(values, scores, factor=10.0)
    assert tuned.best == values[2]
    assert not tuned.contiguous and tuned.count == 7
    assert (tuned.low, tuned.high) == (values[1], values[-1])
    assert tuned.open_above and not tuned.open_below
    assert tuned.range_text() == "0.0032 to ≥ 10"
    assert tuned.decades_text() == "≥ 3.5"


def test_scores_below_the_floor_tie_and_the_smallest_solving_value_is_best():
    tuned = tune(GRID, [1.0, 3e-25, 1e-30, 2e-22, 4.0], floor=1e-20)
    assert tuned.best == 1e-2                      # not the argmin over rounding noise
    assert tuned.threshold == 1e-20 and tuned.count == 3


def test_early_stopping_over_steps_is_tuning_too():
    validation_loss = np.array([5.0, 3.0, 2.0, 1.5, 1.4])     # still falling at the end
    tuned = tune(np.arange(5), validation_loss, factor=1.0)
    assert not tuned.bracketed                     # stopped at the last step: train longer
    with pytest.raises(ValueError, match="decades needs positive values"):
        tune(np.arange(5), [3.0, 1.0, 2.0, 2.5, 3.0]).decades


def test_failed_runs_are_never_good():
    tuned = tune(GRID, [np.inf, 1.0, np.nan, 2.0, np.inf])
    assert tuned.best == 1e-2 and list(tuned.good) == [False, True, False, True, False]


@pytest.mark.parametrize("values, scores, kwargs, error, message", [
    (GRID[:2], [1.0, 2.0], {}, ValueError, r"one length >= 3"),
    (GRID, [1.0, 2.0], {}, ValueError, r"got shapes \(5,\) and \(2,\)"),
    (GRID[::-1], np.ones(5), {}, ValueError, "increasing"),
    (np.array([1.0, np.nan, 3.0]), np.ones(3), {}, ValueError, "finite"),
    (GRID, np.full(5, np.inf), {}, ValueError, "every run failed"),
    (GRID, np.ones(5), {"factor": 0.5}, ValueError, "factor must be >= 1, got 0.5"),
    (GRID, np.ones(5), {"factor": "2"}, TypeError, "factor must be a real number"),
    (GRID, np.ones(5), {"floor": -1.0}, ValueError, r"floor must be >= 0.0, got -1.0"),
    (GRID, np.ones(5), {"floor": [1.0]}, TypeError, "floor must be a number"),
])
def test_rejects_bad_arguments(values, scores, kwargs, error, message):
    with pytest.raises(error, match=message):
        tune(values, scores, **kwargs)
