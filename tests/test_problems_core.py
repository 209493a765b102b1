"""The one quadratic, the one least-squares problem, the run loop and its
divergence policy, the grid and the optimizer registry (adamref.problems)."""

import numpy as np
import pytest

import adamref
from adamref.problems import (DIVERGENCE_BOUND, LINEAGE, OPTIMIZERS, LeastSquares, Quadratic,
                              grid, make_optimizer, run, trajectory)


# -- Quadratic ----------------------------------------------------------------------------
def _rotation(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def test_the_default_bowl_computes_c_times_d_elementwise():
    bowl = Quadratic((1.0, 100.0))
    theta = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_array_equal(bowl.gradient(theta), np.array([1.0, 100.0]) * theta)
    np.testing.assert_array_equal(bowl.value(theta),
                                  0.5 * np.sum(np.array([1.0, 100.0]) * theta**2, axis=-1))
    np.testing.assert_array_equal(bowl.hessian, np.diag([1.0, 100.0]))
    assert bowl.dim == 2 and bowl.condition_number == 100.0


@pytest.mark.parametrize("make", [
    lambda: Quadratic((1.0, 30.0), minimum=(1.0, -2.0), rotation=_rotation(0.4)),
    lambda: Quadratic.from_hessian([[3.0, 1.0], [1.0, 2.0]], minimum=(0.5, 0.5), scale=2.0),
    lambda: Quadratic([0.1, 1.0, 10.0], scale=3.0),
])
def test_value_gradient_and_minimum_of_any_spd_quadratic(make):
    bowl = make()
    rng = np.random.default_rng(1)
    theta = rng.standard_normal((4, bowl.dim))
    h, eye = 1e-6, np.eye(bowl.dim)
    numeric = np.stack([(bowl.value(theta + h * e) - bowl.value(theta - h * e)) / (2 * h)
                        for e in eye], axis=-1)
    np.testing.assert_allclose(bowl.gradient(theta), numeric, rtol=1e-6, atol=1e-6)
    assert bowl.value(bowl.minimum) == 0.0
    np.testing.assert_allclose(bowl.gradient(bowl.minimum), 0.0, atol=1e-12)
    np.testing.assert_array_equal(bowl.excess_loss(theta), bowl.value(theta))
    assert bowl.value(theta[None]).shape == (1, 4)


def test_a_rotated_bowl_keeps_its_curvatures_and_condition_number():
    bowl = Quadratic((1.0, 50.0), rotation=_rotation(np.pi / 6))
    np.testing.assert_allclose(np.linalg.eigvalsh(bowl.hessian), [1.0, 50.0])
    assert bowl.condition_number == 50.0
    from_matrix = Quadratic.from_hessian(bowl.hessian)
    np.testing.assert_allclose(from_matrix.curvatures, [1.0, 50.0])
    np.testing.assert_array_equal(from_matrix.hessian, bowl.hessian)


def test_a_quadratic_cannot_be_changed_through_its_arrays():
    bowl = Quadratic((1.0, 2.0))
    with pytest.raises(ValueError):
        bowl.curvatures[0] = 5.0
    with pytest.raises(ValueError):
        bowl.minimum[0] = 5.0


@pytest.mark.parametrize("call, error, match", [
    (lambda: Quadratic((1.0, 2.0), rotation=np.ones((2, 2))), ValueError,
     "rotation must be an orthogonal 2 x 2 matrix"),
    (lambda: Quadratic.from_hessian([[1.0, 2.0], [0.0, 1.0]]), ValueError,
     "hessian must be a symmetric square matrix"),
    (lambda: Quadratic.from_hessian([[1.0, 0.0], [0.0, -1.0]]), ValueError,
     "hessian must be positive definite"),
    (lambda: Quadratic((1.0, 2.0)).value([0.0, 0.0]), TypeError, "theta must be a NumPy ndarray"),
])
def test_quadratic_rejects_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- LeastSquares -------------------------------------------------------------------------
def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape[:-1])


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


def test_every_registered_optimizer_builds_and_takes_options():
    for name in OPTIMIZERS:
        opt = make_optimizer(name, 0.1)
        theta = np.ones(3)
        opt.step(theta, np.ones(3))
        assert (theta < 1).all()
    assert LINEAGE == ("SGD", "Momentum", "RMSprop", "Adam")
    assert make_optimizer("Momentum", 0.1)._hyper["momentum"] == 0.9
    assert make_optimizer("Momentum", 0.1, momentum=0.5)._hyper["momentum"] == 0.5
    assert repr(make_optimizer("RMSprop")) == repr(adamref.RMSprop())
    assert repr(make_optimizer("Keras Adam", 0.01)) == repr(adamref.keras_adam(learning_rate=0.01))
    assert make_optimizer("AMSGrad").amsgrad
    with pytest.raises(ValueError, match=r"name must be one of \['SGD', .*\], got 'adam'"):
        make_optimizer("adam")
