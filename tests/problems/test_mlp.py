"""``adamref.problems.mlp``: the K-network MLP and the portable exp."""

from pathlib import Path

import numpy as np
import pytest

from adamref.problems.mlp import MLP, portable_exp, portable_log

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "mlp_torch.npz"


def small_problem(k=2, batch=7, hidden=5, shared=False, seed=0):
    rng = np.random.default_rng(seed)
    net = MLP(hidden)
    theta = net.init(np.arange(k) + 10)
    theta += 0.1 * rng.standard_normal(theta.shape)        # biases not all zero
    shape = (batch,) if shared else (k, batch)
    return net, theta, rng.random((*shape, 64)), rng.integers(0, 10, size=shape)


def test_portable_exp_is_within_an_ulp_of_numpy_and_handles_the_edges():
    x = np.linspace(-745.0, 709.0, 100_001)
    exact = np.exp(x)
    assert np.max(np.abs(portable_exp(x) - exact) / np.spacing(exact)) <= 2
    edges = portable_exp(np.array([np.nan, -np.inf, np.inf, 0.0, -1000.0, 1.0]))
    assert np.isnan(edges[0]) and edges[1] == 0.0 and edges[2] == np.inf
    assert edges[3] == 1.0 and edges[4] == 0.0 and edges[5] == pytest.approx(np.e, rel=1e-15)


def test_portable_log_is_within_a_few_ulps_of_numpy_and_handles_the_edges():
    x = np.concatenate([np.geomspace(1e-300, 1e300, 50_001), np.linspace(0.5, 20.0, 50_001)])
    exact = np.log(x)
    assert np.max(np.abs(portable_log(x) - exact) / np.spacing(np.abs(exact))) <= 4
    edges = portable_log(np.array([0.0, -1.0, np.inf, np.nan, 1.0]))
    assert edges[0] == -np.inf and np.isnan(edges[1]) and edges[2] == np.inf
    assert np.isnan(edges[3]) and edges[4] == 0.0


def test_layers_are_views_in_the_documented_shapes():
    net = MLP(hidden=6)
    assert net.size == 64 * 6 + 6 + 6 * 10 + 10
    theta = np.zeros((3, net.size))
    views = net.layers(theta)
    assert {k: v.shape for k, v in views.items()} == {
        "W1": (3, 64, 6), "b1": (3, 6), "W2": (3, 6, 10), "b2": (3, 10)}
    views["W2"][1, 2, 3] = 7.0
    assert theta[1].sum() == 7.0 and np.count_nonzero(theta) == 1


def test_init_is_seeded_he_initialization_with_zero_biases():
    net = MLP(hidden=200)
    theta = net.init([0, 1, 0])
    np.testing.assert_array_equal(theta[0], theta[2])
    assert not np.array_equal(theta[0], theta[1])
    views = net.layers(theta)
    assert not views["b1"].any() and not views["b2"].any()
    assert views["W1"].std() == pytest.approx(np.sqrt(2 / 64), rel=0.02)
    assert views["W2"].std() == pytest.approx(np.sqrt(2 / 200), rel=0.05)
    assert net.init(5).shape == (1, net.size)


@pytest.mark.parametrize("shared", [False, True])
def test_gradient_matches_central_finite_differences(shared):
    net, theta, X, y = small_problem(shared=shared)
    loss, grad = net.loss_and_gradient(theta, X, y)
    h = 1e-6
    numeric = np.empty_like(theta)
    for j in range(theta.shape[1]):
        step = np.zeros_like(theta)
        step[:, j] = h
        numeric[:, j] = (net.loss(theta + step, X, y) - net.loss(theta - step, X, y)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(loss, net.loss(theta, X, y))


@pytest.mark.parametrize("shared", [False, True])
def test_k_networks_at_once_equal_a_loop_over_single_networks(shared):
    net, theta, X, y = small_problem(k=4, batch=9, hidden=7, shared=shared, seed=3)
    loss, grad = net.loss_and_gradient(theta, X, y)
    errors = net.error_rate(theta, X, y)
    for k in range(4):
        Xk, yk = (X, y) if shared else (X[k], y[k])
        one_loss, one_grad = net.loss_and_gradient(theta[k:k + 1], Xk, yk)
        np.testing.assert_array_equal(one_loss, loss[k:k + 1])
        np.testing.assert_array_equal(one_grad, grad[k:k + 1])
        np.testing.assert_array_equal(net.error_rate(theta[k:k + 1], Xk, yk), errors[k:k + 1])


def test_loss_and_gradients_match_pytorch():
    with np.load(FIXTURE) as data:
        f = {k: data[k] for k in data.files}
    k, _, hidden = f["W1"].shape
    net = MLP(hidden)
    theta = np.zeros((k, net.size))
    views = net.layers(theta)
    for name in ("W1", "b1", "W2", "b2"):
        views[name][...] = f[name]
    loss, grad = net.loss_and_gradient(theta, f["X"], f["y"])
    np.testing.assert_allclose(loss, f["loss"], rtol=1e-12)
    for name, g in net.layers(grad).items():
        expected = f[f"grad_{name}"]
        np.testing.assert_allclose(g, expected, rtol=1e-12,
                                   atol=1e-14 * np.abs(expected).max(), err_msg=name)
    assert str(f["meta_versions"][0]).startswith("torch 2.13.0")


def test_predictions_and_error_rate():
    net = MLP(hidden=3)
    theta = np.zeros((2, net.size))
    views = net.layers(theta)
    views["b2"][0, 4] = 1.0             # network 0 always says 4
    views["b2"][1, 7] = 1.0             # network 1 always says 7
    X = np.zeros((5, 64))
    y = np.array([4, 4, 7, 1, 4])
    np.testing.assert_array_equal(net.predict(theta, X), [[4] * 5, [7] * 5])
    np.testing.assert_allclose(net.error_rate(theta, X, y), [2 / 5, 4 / 5])
    theta[1, 0] = np.nan
    assert np.isnan(net.error_rate(theta, X, y)[1]) and net.error_rate(theta, X, y)[0] == 0.4
    with np.errstate(invalid="raise"):
        loss, grad = net.loss_and_gradient(theta, X, y)
    assert np.isnan(loss[1]) and np.isfinite(loss[0]) and np.isfinite(grad[0]).all()


@pytest.mark.parametrize("call, error, match", [
    (lambda n, t, X, y: n.layers(t[:, :-1]), ValueError, r"theta must have shape \(K, 385\)"),
    (lambda n, t, X, y: n.layers(t.astype(np.int64)), TypeError, "floating dtype"),
    (lambda n, t, X, y: n.loss(t, X[..., :10], y), ValueError, "X must have shape"),
    (lambda n, t, X, y: n.loss(t, X[:1], y[:1]), ValueError, r"X must have shape"),
    (lambda n, t, X, y: n.loss(t, X, y.astype(float)), TypeError, "integer ndarray"),
    (lambda n, t, X, y: n.loss(t, X, y[:, :3]), ValueError, "y must have shape"),
    (lambda n, t, X, y: n.loss(t, X, y + 10), ValueError, r"labels in \[0, 10\)"),
    (lambda n, t, X, y: n.init([[1, 2]]), ValueError, "1-D list of seeds"),
    (lambda n, t, X, y: n.init([-1]), ValueError, "seeds must be an integer >= 0"),
    (lambda n, t, X, y: MLP(hidden=0), ValueError, "hidden must be an integer >= 1"),
    (lambda n, t, X, y: MLP(classes=1), ValueError, "classes must be >= 2"),
])
def test_bad_arguments_are_named(call, error, match):
    net, theta, X, y = small_problem()
    with pytest.raises(error, match=match):
        call(net, theta, X, y)
