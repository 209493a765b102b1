"""``adamref.problems.runs``."""

import numpy as np
import pytest

import adamref
from adamref.problems.objectives import Quadratic
from adamref.problems.runs import trajectory
from adamref.problems.runs import grid
from adamref.problems.objectives import Quadratic
from adamref.problems import DIVERGENCE_BOUND, Quadratic, grid, run, trajectory


def test_free_running_trajectories_agree_on_the_quadratic():
    q, theta0 = Quadratic((1.0, 100.0)), np.array([-4.0, 1.5])
    adam = trajectory(adamref.Adam(lr=0.1, beta1=0.0, bias_correction=False), q.gradient,
                      theta0, 200)
    rms = trajectory(adamref.RMSprop(lr=0.1, alpha=0.999), q.gradient, theta0, 200)
    np.testing.assert_allclose(adam, rms, rtol=1e-13, atol=1e-15)


def test_grid_lays_out_the_product_as_columns():
    shape, cols = grid(a=[1, 2], b=[10.0, 20.0, 30.0])
    assert shape == (2, 3)
    assert cols["a"].shape == cols["b"].shape == (6, 1)
    np.testing.assert_array_equal(cols["a"][:, 0].reshape(shape)[:, 0], [1, 2])
    np.testing.assert_array_equal(cols["b"][:, 0].reshape(shape)[0], [10, 20, 30])


def test_trajectory_records_every_step_without_touching_theta0():
    theta0 = np.array([1.0, -1.0])
    path = trajectory(adamref.SGD(lr=0.1), Quadratic((1.0, 1.0)).gradient, theta0, 3)
    np.testing.assert_allclose(path, [[1, -1], [0.9, -0.9], [0.81, -0.81], [0.729, -0.729]])
    np.testing.assert_array_equal(theta0, [1.0, -1.0])


@pytest.mark.parametrize("steps, error", [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_trajectory_rejects_bad_steps(steps, error):
    with pytest.raises(error, match="steps must be an integer >= 0"):
        trajectory(adamref.SGD(), Quadratic().gradient, np.zeros(2), steps)


# -- run and its divergence policy --------------------------------------------------------
def test_a_diverging_row_is_frozen_at_nan_and_the_others_are_untouched():
    bowl = Quadratic((1.0, 10.0))
    lrs = np.array([[0.01], [0.5], [0.1]])                      # 0.5 > 2/10 diverges
    result = run(adamref.SGD(lr=lrs), bowl.gradient, np.ones((3, 2)), 400,
                 record=bowl.value, every=100)
    np.testing.assert_array_equal(result.diverged, [False, True, False])
    assert np.isnan(result.theta[1]).all() and np.isnan(result.history[-1, 1])
    np.testing.assert_array_equal(result.steps, [0, 100, 200, 300, 400])
    for k in (0, 2):                                            # a sweep row is its single run
        alone = run(adamref.SGD(lr=float(lrs[k, 0])), bowl.gradient, np.ones((1, 2)), 400)
        np.testing.assert_array_equal(alone.theta[0], result.theta[k])
    # with a smaller bound the same row is caught earlier, and only non-finite rows with inf
    early = trajectory(adamref.SGD(lr=lrs), bowl.gradient, np.ones((3, 2)), 600, bound=10.0)
    late = trajectory(adamref.SGD(lr=lrs), bowl.gradient, np.ones((3, 2)), 600, bound=np.inf)
    first_nan = lambda path: int(np.argmax(np.isnan(path[:, 1, 0])))   # noqa: E731
    assert 0 < first_nan(early) < first_nan(late)
    assert np.abs(early[first_nan(early) - 1, 1]).max() <= 10.0
    assert DIVERGENCE_BOUND == 1e6


def test_run_keeps_float32_and_does_not_touch_theta0():
    theta0 = np.ones((2, 3), dtype=np.float32)
    result = run(adamref.Adam(lr=0.1), np.copy, theta0, 5, record=np.copy)
    assert result.theta.dtype == result.history.dtype == np.float32
    assert (theta0 == 1).all() and result.history.shape == (6, 2, 3)
    assert run(adamref.SGD(), np.copy, theta0, 3).history is None


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(steps=-1), ValueError, "steps must be an integer >= 0, got -1"),
    (dict(every=0), ValueError, "every must be an integer >= 1, got 0"),
    (dict(bound=0.0), ValueError, "bound must be a finite number > 0, got 0.0"),
    (dict(bound="big"), TypeError, "bound must be a real number"),
    (dict(record=3), TypeError, "record must be callable or None"),
    (dict(gradient=None), TypeError, "gradient must be callable"),
    (dict(optimizer="Adam"), TypeError, "optimizer must have a step"),
    (dict(theta0=np.float64(1.0)), ValueError, "theta0 must have at least one axis"),
])
def test_run_rejects_bad_input(kwargs, error, match):
    args = dict(optimizer=adamref.SGD(), gradient=np.copy, theta0=np.ones(2), steps=2)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        run(**args)


# -- grid and registry --------------------------------------------------------------------
def test_grid_rows_follow_the_axes_in_order():
    shape, columns = grid(a=[1, 2], b=[10.0, 20.0, 30.0])
    assert shape == (2, 3) and columns["a"].shape == (6, 1)
    k = np.ravel_multi_index((1, 2), shape)
    assert (columns["a"][k, 0], columns["b"][k, 0]) == (2.0, 30.0)

