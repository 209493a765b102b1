"""``adamref.problems.datasets``."""

import numpy as np
import pytest

from adamref.problems.datasets import (LeastSquares, LogisticRegression, gradient_oracle,
                                       make_least_squares, make_logistic)
from adamref.problems import LeastSquares


def numeric_gradient(f, theta, h=1e-6):
    eye = np.eye(theta.shape[-1])
    return np.stack([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in eye], axis=-1)


# -- LeastSquares -------------------------------------------------------------------------
def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape[:-1])


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


@pytest.mark.parametrize("n, d", [(50, 4), (6, 20)])   # the Hessian form and the residual form
def test_loss_gradient_optimum_and_excess_loss_agree(n, d):
    problem = LeastSquares(*_data((n, d)))
    theta = np.random.default_rng(3).standard_normal((3, d))
    X, y = problem.X, problem.y
    r = theta @ X.T - y
    np.testing.assert_allclose(problem.loss(theta), 0.5 * np.mean(r**2, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(problem.gradient(theta), r @ X / n, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(problem.gradient(problem.optimum), 0.0, atol=1e-10)
    np.testing.assert_allclose(problem.excess_loss(theta), problem.loss(theta) - problem.best_loss,
                               rtol=1e-9)
    np.testing.assert_allclose(problem.hessian, X.T @ X / n, rtol=1e-12)


def test_a_stack_of_draws_is_each_draw_on_its_own():
    X, y = _data((3, 8, 5), seed=4)
    stack = LeastSquares(X, y)
    theta = np.random.default_rng(5).standard_normal((3, 5))
    for s in range(3):
        one = LeastSquares(X[s], y[s])
        np.testing.assert_allclose(stack.loss(theta)[s], one.loss(theta[s]), rtol=1e-12)
        np.testing.assert_allclose(stack.gradient(theta)[s], one.gradient(theta[s]), rtol=1e-10)
        np.testing.assert_allclose(stack.optimum[s], one.optimum, rtol=1e-8)
        np.testing.assert_allclose(stack.condition_number[s], one.condition_number, rtol=1e-8)
    # configurations on every draw: X (draws, 1, n, d) against theta (draws, K, d)
    wide = LeastSquares(X[:, None], y[:, None])
    thetas = np.random.default_rng(6).standard_normal((3, 4, 5))
    np.testing.assert_allclose(wide.loss(thetas)[:, 2], stack.loss(thetas[:, 2]), rtol=1e-12)
    with pytest.raises(ValueError, match="rows .* need one data set X of shape"):
        stack.gradient(theta, np.zeros((3, 2), dtype=int))

