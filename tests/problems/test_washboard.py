"""``adamref.problems.washboard``."""

import numpy as np
import pytest

from adamref.problems.washboard import Washboard


def numeric_gradient(f, theta, h=1e-6):
    eye = np.eye(theta.shape[-1])
    return np.stack([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in eye], axis=-1)


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

