"""Objectives, the trajectory runner and the plotting helpers."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import adamref
from adamref.plots.style import plot_contours, plot_loss_curves
from adamref.problems.objectives import Quadratic, Rosenbrock, noisy_gradient
from adamref.problems.runs import trajectory


@pytest.mark.parametrize("objective", [Quadratic(), Quadratic((3.0, 0.5), (1.0, -2.0)),
                                       Rosenbrock(), Rosenbrock(a=0.5, b=10.0)])
def test_gradient_matches_finite_differences(objective):
    rng = np.random.default_rng(0)
    points = rng.uniform(-2, 2, (5, 2))
    h = 1e-6
    numeric = np.stack([(objective.value(points + h * e) - objective.value(points - h * e))
                        / (2 * h) for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(objective.gradient(points), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("objective", [Quadratic(), Rosenbrock()])
def test_minimum_is_a_stationary_point_with_zero_value(objective):
    theta = np.array(objective.minimum, dtype=float)
    assert objective.value(theta) == 0.0
    np.testing.assert_array_equal(objective.gradient(theta), 0.0)


def test_objectives_broadcast_over_leading_axes():
    grid = np.zeros((4, 3, 2))
    assert Rosenbrock().value(grid).shape == (4, 3)
    assert Quadratic().gradient(grid).shape == (4, 3, 2)


def test_condition_number():
    assert Quadratic((1.0, 100.0)).condition_number == 100.0


@pytest.mark.parametrize("bad", [(1.0, -1.0), (0.0, 1.0), (1.0, np.inf)])
def test_quadratic_rejects_bad_curvatures(bad):
    with pytest.raises(ValueError, match="curvatures must be positive and finite"):
        Quadratic(bad)


def test_objective_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"theta must have shape \(..., 2\), got shape \(3,\)"):
        Rosenbrock().value(np.zeros(3))


def test_noisy_gradient_is_seeded_and_unbiased():
    q = Quadratic()
    theta = np.array([1.0, 1.0])
    first = noisy_gradient(q, 0.5, seed=3)
    second = noisy_gradient(q, 0.5, seed=3)
    draws = np.array([first(theta) for _ in range(4000)])
    np.testing.assert_array_equal(draws[0], second(theta))
    np.testing.assert_allclose(draws.mean(0), q.gradient(theta), atol=4 * 0.5 / np.sqrt(4000))
    np.testing.assert_allclose(draws.std(0), 0.5, rtol=0.05)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        noisy_gradient(q, -1.0, seed=0)


def test_trajectory_records_every_step_without_touching_theta0():
    theta0 = np.array([1.0, -1.0])
    path = trajectory(adamref.SGD(lr=0.1), Quadratic((1.0, 1.0)).gradient, theta0, 3)
    np.testing.assert_allclose(path, [[1, -1], [0.9, -0.9], [0.81, -0.81], [0.729, -0.729]])
    np.testing.assert_array_equal(theta0, [1.0, -1.0])


@pytest.mark.parametrize("steps, error", [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_trajectory_rejects_bad_steps(steps, error):
    with pytest.raises(error, match="steps must be an integer >= 0"):
        trajectory(adamref.SGD(), Quadratic().gradient, np.zeros(2), steps)


def test_plots_draw_one_line_per_optimizer():
    q = Quadratic()
    paths = {name: trajectory(opt, q.gradient, np.array([-2.0, 1.0]), 20)
             for name, opt in [("SGD", adamref.SGD(lr=0.01)), ("Adam", adamref.Adam(lr=0.1))]}
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_contours(q, paths, left) is left
    assert plot_loss_curves(q, paths, right) is right
    np.testing.assert_array_equal(left.lines[0].get_xydata(), paths["SGD"])
    assert [line.get_label() for line in right.lines] == ["SGD", "Adam"]
    np.testing.assert_allclose(right.lines[1].get_ydata(), q.value(paths["Adam"]))
    assert left.get_xlabel() and left.get_title() and right.get_yscale() == "log"
    plt.close(fig)
