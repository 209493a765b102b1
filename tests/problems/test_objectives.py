"""``adamref.problems.objectives``."""

import numpy as np
import pytest

from adamref.problems.objectives import Quadratic, Rosenbrock, noisy_gradient
from adamref.problems import Quadratic, grid


# -- Quadratic ----------------------------------------------------------------------------
def _rotation(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


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

