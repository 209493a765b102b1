"""Seeded datasets, their gradient oracles, and the washboard landscape."""

import numpy as np
import pytest

from adamref.problems.datasets import (LeastSquares, LogisticRegression, gradient_oracle,
                                       make_least_squares, make_logistic)
from adamref.problems.washboard import Washboard


def numeric_gradient(f, theta, h=1e-6):
    eye = np.eye(theta.shape[-1])
    return np.stack([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in eye], axis=-1)


@pytest.mark.parametrize("make", [make_least_squares, make_logistic])
def test_gradient_matches_finite_differences_on_a_batch_of_points(make):
    problem = make(50, 4, seed=3)
    theta = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(problem.gradient(theta), numeric_gradient(problem.loss, theta),
                               rtol=1e-5, atol=1e-7)
    assert problem.loss(theta).shape == (3,)


@pytest.mark.parametrize("make", [make_least_squares, make_logistic])
def test_minibatch_gradient_of_all_rows_is_the_full_gradient(make):
    problem = make(30, 3, seed=1)
    theta = np.random.default_rng(1).normal(size=(2, 3))
    rows = np.tile(np.arange(30), (2, 1))
    np.testing.assert_allclose(problem.gradient(theta, rows), problem.gradient(theta),
                               rtol=1e-12, atol=1e-12)
    single = problem.gradient(theta, np.array([[4], [7]]))
    assert single.shape == (2, 3)
    assert not np.allclose(single[0], single[1])


def test_least_squares_optimum_loss_and_excess_loss():
    problem = make_least_squares(100, 5, noise=0.3, seed=2)
    np.testing.assert_allclose(problem.gradient(problem.optimum), 0.0, atol=1e-12)
    theta = np.random.default_rng(2).normal(size=(4, 5))
    direct = 0.5 * np.mean((theta @ problem.X.T - problem.y) ** 2, axis=1)
    np.testing.assert_allclose(problem.loss(theta), direct, rtol=1e-12)
    np.testing.assert_allclose(problem.excess_loss(theta), direct - problem.best_loss, rtol=1e-9)
    assert problem.excess_loss(problem.optimum) == 0.0


def test_datasets_are_seeded_and_scaled():
    a, b, c = make_least_squares(seed=5), make_least_squares(seed=5), make_least_squares(seed=6)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    scales = make_least_squares(20000, 3, feature_scales=(0.5, 2.0), seed=0).X.std(axis=0)
    np.testing.assert_allclose(scales, [2.0, 1.0, 0.5], rtol=0.03)
    labels = make_logistic(2000, 3, label_noise=0.0, seed=0)
    assert set(np.unique(labels.y)) == {0.0, 1.0}


def test_oracle_is_seeded_and_its_noise_has_the_requested_size():
    problem = make_least_squares(40, 3, seed=0)
    theta = np.zeros((20000, 3))
    g1 = gradient_oracle(problem, noise=2.0, seed=7)(theta)
    g2 = gradient_oracle(problem, noise=2.0, seed=7)(theta)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(g1.mean(axis=0), problem.gradient(np.zeros(3)), atol=0.05)
    np.testing.assert_allclose(g1.std(axis=0), 2.0, rtol=0.03)


def test_oracle_noise_may_differ_per_row_and_minibatches_are_unbiased():
    problem = make_logistic(60, 2, seed=0)
    theta = np.zeros((3, 2))
    levels = np.array([[0.0], [1.0], [5.0]])
    g = gradient_oracle(problem, noise=levels, seed=0)(theta)
    np.testing.assert_allclose(g[0], problem.gradient(theta[0]), rtol=1e-12)
    many = np.zeros((40000, 2))
    g = gradient_oracle(problem, batch_size=5, seed=1)(many)
    np.testing.assert_allclose(g.mean(axis=0), problem.gradient(np.zeros(2)), atol=0.01)


@pytest.mark.parametrize("call, error, match", [
    (lambda: make_least_squares(0), ValueError, r"n_samples must be an integer >= 1, got 0"),
    (lambda: make_least_squares(10, 2.5), TypeError, r"n_features must be an integer >= 1, got 2.5"),
    (lambda: make_least_squares(noise=-1.0), ValueError, r"noise must be >= 0.0, got -1.0"),
    (lambda: make_least_squares(feature_scales=(2.0, 1.0)), ValueError,
     r"feature_scales must be a pair .* got \(2.0, 1.0\)"),
    (lambda: make_least_squares(feature_scales=3), TypeError, r"feature_scales must be a pair"),
    (lambda: make_least_squares(seed=-1), ValueError, r"seed must be an integer >= 0, got -1"),
    (lambda: make_logistic(label_noise=0.7), ValueError, r"label_noise must be in \[0.0, 0.5\], got 0.7"),
    (lambda: LeastSquares(np.zeros((3, 2)), np.zeros(4)), ValueError, r"X must have shape \(\.\.\., N, d\)"),
    (lambda: LogisticRegression(np.zeros((2, 1)), np.array([0.0, 2.0])), ValueError,
     r"y must hold labels 0 and 1, got 2.0"),
    (lambda: make_least_squares(10, 3).loss(np.zeros(4)), ValueError,
     r"theta must have shape \(..., 3\), got shape \(4,\)"),
    (lambda: make_least_squares(10, 3).gradient([0.0, 0.0, 0.0]), TypeError,
     r"theta must be a NumPy ndarray"),
    (lambda: make_least_squares(10, 3).gradient(np.zeros((2, 3)), np.zeros((2, 4))), TypeError,
     r"rows must be an integer ndarray"),
    (lambda: make_least_squares(10, 3).gradient(np.zeros((2, 3)), np.zeros((3, 4), int)),
     ValueError, r"rows must have shape \(2,\) \+ \(batch_size,\), got shape \(3, 4\)"),
    (lambda: make_least_squares(10, 3).gradient(np.zeros((1, 3)), np.array([[10]])), ValueError,
     r"rows must be in \[0, 10\), got 10"),
    (lambda: gradient_oracle(object()), TypeError, r"problem must be a dataset problem .* got object"),
    (lambda: gradient_oracle(make_least_squares(10, 2), batch_size=11), ValueError,
     r"batch_size must be <= n_samples = 10, got 11"),
    (lambda: gradient_oracle(make_least_squares(10, 2), batch_size=0), ValueError,
     r"batch_size must be an integer >= 1, got 0"),
    (lambda: gradient_oracle(make_least_squares(10, 2), noise=-0.5), ValueError,
     r"noise must be >= 0.0, got -0.5"),
])
def test_bad_input_is_rejected_with_the_parameter_and_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- the washboard ---------------------------------------------------------------------

def test_washboard_gradient_and_minima():
    w = Washboard(curvature=0.5, height=1.0)
    x = np.linspace(-3, 3, 13)[:, None]
    np.testing.assert_allclose(w.gradient(x)[:, 0], numeric_gradient(w.value, x)[:, 0],
                               rtol=1e-6, atol=1e-6)
    minima, maxima = w.stationary_points(-5, 5)
    assert minima.size == maxima.size + 1 == 11
    assert np.all(np.abs(w.gradient(minima[:, None])) < 1e-6)
    assert np.all(np.abs(minima - np.rint(minima)) < 0.07)       # near the integers
    values = w.value(minima[:, None])
    assert np.argmin(values) == 5 and abs(minima[5]) < 1e-6        # global at 0
    assert np.all(np.diff(values[5:]) > 0)                         # poorer farther out


def test_basin_is_the_minimum_between_the_neighbouring_maxima():
    w = Washboard()
    minima, maxima = w.stationary_points()
    points = np.array([[0.3], [-0.3], [0.6], [-2.4], [maxima[12] - 1e-6], [maxima[12] + 1e-6]])
    basins = w.basin(points)
    np.testing.assert_allclose(basins[:4], [0.0, 0.0, minima[11], minima[8]], atol=1e-9)
    assert basins[4] < maxima[12] < basins[5]
    # gradient descent with a tiny step from each point ends at its basin's minimum
    x = points.copy()
    for _ in range(4000):
        x -= 0.01 * w.gradient(x)
    np.testing.assert_allclose(x[:, 0], basins, atol=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda: Washboard(curvature=0.0), ValueError, r"curvature must be a finite number > 0, got 0.0"),
    (lambda: Washboard(height="1"), TypeError, r"height must be a real number, got '1'"),
    (lambda: Washboard().value(np.zeros(3)), ValueError, r"theta must have shape \(..., 1\)"),
    (lambda: Washboard().basin(np.array([[11.0]])), ValueError,
     r"theta must lie in \[-10.0, 10.0\] to be assigned a basin, got 11.0"),
    (lambda: Washboard().stationary_points(2.0, 1.0), ValueError, r"high must be > low = 2.0, got 1.0"),
    (lambda: Washboard().stationary_points(resolution=1.0), ValueError, r"resolution must be in"),
])
def test_washboard_rejects_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
