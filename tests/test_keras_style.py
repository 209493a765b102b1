"""adamref.keras_style does what Keras 3 does for the seed-regression snippet:
replayed against real Keras (adamref/lab/data/keras_seed_regression.npz, recorded
by tests/reference/record_keras_seed.py) and checked rule by rule."""

from pathlib import Path

import numpy as np
import pytest

import adamref
from adamref.keras_style import DEFAULT_BATCH_SIZE, Dense, Sequential, set_random_seed
from adamref.lab.seed_regression import KERAS_REFERENCE

FIXTURE = KERAS_REFERENCE


@pytest.fixture(scope="module")
def keras_run():
    return np.load(FIXTURE)


def snippet(x, y, *, kernel0=None, optimizer=None, seed=0):
    set_random_seed(seed)
    model = Sequential([Dense(units=1, input_shape=[1])])
    if kernel0 is not None:
        model.set_weights([kernel0, np.zeros(1, np.float32)])
    model.compile(optimizer=optimizer or adamref.keras_adam(learning_rate=0.01), loss="mse")
    return model


def data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1)).astype(np.float32)
    return x, (3 * x + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)


# -- against real Keras ----------------------------------------------------------------
def test_fixture_is_the_snippet(keras_run):
    assert "keras 3." in str(keras_run["meta_versions"])
    assert keras_run["x"].shape == keras_run["y"].shape == (100, 1)
    assert keras_run["loss"].shape == (100,) and int(keras_run["iterations"]) == 400


def test_replays_real_keras_to_float32_precision(keras_run):
    """Measured on the recording machine: the first epoch bit-identical; the
    final kernel 8 float32 ulps (8.1e-7 relative) from Keras', the bias 2.0e-8
    apart, per-epoch kernels within 1.9e-6, losses within 5.8e-6 relative.
    The rest is the order of float32 roundings (Keras: m·α_t/(√v + ε̂) and
    m·β1 + (1 − β1)·g; torch's summation order in the matmul).  With α_t computed
    in float64 instead of float32 (adamref before d5cff55) the gap was 40 ulps."""
    model = snippet(keras_run["x"], keras_run["y"], kernel0=keras_run["kernel0"])
    history = model.fit(keras_run["x"], keras_run["y"], epochs=100, shuffle=False)
    kernel, bias = model.get_weights()
    assert model.optimizer.t == int(keras_run["iterations"]) == 400
    ulp = np.spacing(np.float32(2.5))
    np.testing.assert_allclose(history.trace["kernel"][4], keras_run["kernel_per_epoch"][0],
                               rtol=0, atol=2 * ulp)
    np.testing.assert_allclose(kernel, keras_run["kernel"], rtol=0, atol=16 * ulp)
    np.testing.assert_allclose(bias, keras_run["bias"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(history.history["loss"], keras_run["loss"], rtol=2e-5)
    per_epoch = history.trace["kernel"][4::4]
    np.testing.assert_allclose(per_epoch, keras_run["kernel_per_epoch"], rtol=0, atol=5e-6)
    np.testing.assert_allclose(history.trace["bias"][4::4], keras_run["bias_per_epoch"],
                               rtol=0, atol=1e-7)


# -- Keras 3 semantics, one by one ---------------------------------------------------------
def test_default_batch_size_32_keeps_the_last_partial_batch_and_t_never_resets():
    x, y = data()
    model = snippet(x, y)
    history = model.fit(x, y, epochs=100)
    assert DEFAULT_BATCH_SIZE == 32
    assert list(history.trace["batch_size"][:5]) == [32, 32, 32, 4, 32]
    assert len(history.trace["batch_loss"]) == 400 and model.optimizer.t == 400
    model.fit(x, y, epochs=2, batch_size=50)
    assert model.optimizer.t == 404


def test_shuffle_draws_a_fresh_seedable_permutation_every_epoch():
    x, y = data()
    model = snippet(x, y)
    orders = model.fit(x, y, epochs=3, seed=5).trace["order"]
    assert all(sorted(o) == list(range(100)) for o in orders)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    expected = np.random.default_rng(5)
    for order in orders:
        np.testing.assert_array_equal(order, expected.permutation(100))
    unshuffled = model.fit(x, y, epochs=2, shuffle=False).trace["order"]
    np.testing.assert_array_equal(unshuffled, np.tile(np.arange(100), (2, 1)))


def test_set_random_seed_makes_initial_weights_and_shuffles_reproducible():
    x, y = data()
    runs = []
    for _ in range(2):
        model = snippet(x, y, seed=11)
        runs.append((model.get_weights()[0], model.fit(x, y, epochs=2).history["loss"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    other = snippet(x, y, seed=12).get_weights()[0]
    assert not np.array_equal(other, runs[0][0])


def test_glorot_uniform_kernel_zero_bias_float32():
    limit = np.sqrt(6 / (5 + 3))
    kernels = []
    for seed in range(40):
        set_random_seed(seed)
        layer = Dense(units=3, input_shape=[5])
        assert layer.kernel.shape == (5, 3) and layer.kernel.dtype == np.float32
        assert layer.bias.dtype == np.float32 and not layer.bias.any()
        kernels.append(layer.kernel)
    kernels = np.concatenate(kernels).ravel()
    assert np.abs(kernels).max() <= limit and np.abs(kernels).max() > 0.95 * limit
    assert abs(kernels.mean()) < 0.05 and kernels.std() == pytest.approx(limit / np.sqrt(3), rel=0.1)


def test_float32_throughout():
    x, y = data()
    model = snippet(x.astype(np.float64), y.astype(np.float64))
    history = model.fit(x.astype(np.float64), y.astype(np.float64), epochs=1)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.optimizer.m[0].dtype == np.float32
    assert model.predict(x).dtype == np.float32 and history.trace["batch_loss"].dtype == np.float32


def test_mse_is_the_batch_mean_and_its_gradient_is_exact():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 2)).astype(np.float32)
    y = rng.standard_normal((7, 3)).astype(np.float32)
    set_random_seed(0)
    model = Sequential([Dense(units=3, input_shape=[2])])
    kernel, bias = model.get_weights()
    loss, (g_kernel, g_bias) = model._loss_and_gradients(x, y)
    x64, y64, k64, b64 = (a.astype(np.float64) for a in (x, y, kernel, bias))
    error = x64 @ k64 + b64 - y64
    assert loss == pytest.approx(np.mean(error**2), rel=1e-6)
    np.testing.assert_allclose(g_kernel, x64.T @ error * 2 / error.size, rtol=1e-5)
    np.testing.assert_allclose(g_bias, error.sum(axis=0) * 2 / error.size, rtol=1e-5)
    assert model.evaluate(x, y) == pytest.approx(float(loss))


def test_history_loss_is_the_weighted_mean_of_batch_losses_before_each_update():
    x, y = data()
    model = snippet(x, y)
    k0, b0 = model.get_weights()
    history = model.fit(x, y, epochs=3, seed=1)
    t = history.trace
    first = t["order"][0][:32]
    assert t["batch_loss"][0] == pytest.approx(np.mean((x[first] * k0 + b0 - y[first]) ** 2),
                                               rel=1e-6)
    weighted = (t["batch_loss"] * t["batch_size"]).reshape(3, 4).sum(axis=1) / 100
    np.testing.assert_allclose(history.history["loss"], weighted, rtol=1e-6)
    end_of_epoch_1 = np.mean((x * t["kernel"][4] + t["bias"][4] - y) ** 2)
    assert history.history["loss"][0] > 1.01 * end_of_epoch_1  # the loss falls within the epoch
    assert history.epoch == [0, 1, 2]


def test_adam_string_is_keras_default_adam():
    model = Sequential([Dense(units=1, input_shape=[1])])
    model.compile(optimizer="adam", loss="mean_squared_error")
    opt = model.optimizer
    assert (opt.lr, opt.beta1, opt.beta2, opt.eps) == (1e-3, 0.9, 0.999, 1e-7)
    assert opt.epsilon_hat and model.loss == "mean_squared_error"


def test_predict_and_weights_round_trip():
    model = Sequential([Dense(units=1, input_shape=[1])])
    model.set_weights([np.array([[2.0]]), np.array([0.5])])
    np.testing.assert_array_equal(model.predict(np.array([[1.0], [-1.0]])), [[2.5], [-1.5]])
    kernel, _ = model.get_weights()
    kernel[0, 0] = 9.0   # a copy: the model is untouched
    assert model.get_weights()[0][0, 0] == 2.0


def test_lazy_build_from_the_data():
    x, y = data(10)
    model = Sequential([Dense(units=1)])
    with pytest.raises(ValueError, match="no weights yet"):
        model.get_weights()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1)
    assert model.get_weights()[0].shape == (1, 1)


def test_verbose_prints_one_line_per_epoch(capsys):
    x, y = data(10)
    snippet(x, y).fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - loss: ")


# -- bad input ---------------------------------------------------------------------------------
@pytest.fixture
def compiled():
    x, y = data(10)
    return snippet(x, y), x, y


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(y=np.zeros((9, 1))), ValueError, r"len\(x\) = 10 and len\(y\) = 9"),
    (dict(x=np.zeros(10)), ValueError, r"x must have rank 2, got shape \(10,\)"),
    (dict(x=np.zeros((10, 1, 1))), ValueError, r"x must have rank 2, got shape \(10, 1, 1\)"),
    (dict(y=np.zeros((10, 1, 1))), ValueError, r"y must have rank 1 or 2, got shape"),
    (dict(y=np.zeros((10, 2))), ValueError, r"y must have shape \(n, 1\).*\(10, 2\)"),
    (dict(x=np.zeros((10, 2))), ValueError, r"x must have 1 feature column"),
    (dict(x="abc"), TypeError, "x must be an array of numbers"),
    (dict(x=np.full((10, 1), np.nan)), ValueError, "x must be finite"),
    (dict(epochs=0), ValueError, "epochs must be an integer >= 1, got 0"),
    (dict(epochs=2.5), TypeError, "epochs must be an integer >= 1, got 2.5"),
    (dict(batch_size=0), ValueError, "batch_size must be an integer >= 1, got 0"),
    (dict(shuffle="batch"), TypeError, "shuffle must be True or False, got 'batch'"),
    (dict(verbose=3), ValueError, "verbose must be 0, 1, 2 or 'auto', got 3"),
    (dict(seed=-1), ValueError, "seed must be an integer >= 0, got -1"),
])
def test_fit_rejects_bad_input(compiled, kwargs, error, match):
    model, x, y = compiled
    args = dict(x=x, y=y) | kwargs
    with pytest.raises(error, match=match):
        model.fit(**args)


def test_fit_before_compile():
    x, y = data(10)
    with pytest.raises(ValueError, match=r"call model.compile\(optimizer=..., loss='mse'\) first"):
        Sequential([Dense(units=1, input_shape=[1])]).fit(x, y)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(optimizer="adam", loss="mae"), ValueError, r"loss must be one of .*'mse'.*got 'mae'"),
    (dict(optimizer="adam", loss=None), ValueError, "loss must be one of .*got None"),
    (dict(optimizer="sgdw", loss="mse"), ValueError, r"optimizer must be one of \['adam'\].*'sgdw'"),
    (dict(optimizer=0.01, loss="mse"), TypeError, "optimizer must be an adamref optimizer.*float"),
])
def test_compile_rejects_unknown_names(kwargs, error, match):
    with pytest.raises(error, match=match):
        Sequential([Dense(units=1, input_shape=[1])]).compile(**kwargs)


@pytest.mark.parametrize("call, error, match", [
    (lambda: Dense(units=0), ValueError, "units must be an integer >= 1, got 0"),
    (lambda: Dense(units=True), TypeError, "units must be an integer >= 1, got True"),
    (lambda: Dense(units=1, input_shape=1), ValueError, "input_shape must be a list or tuple"),
    (lambda: Dense(units=1, input_shape=[0]), ValueError, r"input_shape\[0\] must be an integer >= 1"),
    (lambda: Sequential([]), ValueError, "exactly one Dense layer"),
    (lambda: Sequential([Dense(1), Dense(1)]), ValueError, "exactly one Dense layer"),
    (lambda: set_random_seed("x"), TypeError, "seed must be an integer >= 0, got 'x'"),
])
def test_constructors_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_set_weights_rejects_bad_shapes():
    model = Sequential([Dense(units=1, input_shape=[1])])
    with pytest.raises(ValueError, match=r"weights must be a list \[kernel, bias\]"):
        model.set_weights([np.zeros((1, 1))])
    with pytest.raises(ValueError, match=r"weights \(kernel\) must have shape \(1, 1\), got shape \(2, 1\)"):
        model.set_weights([np.zeros((2, 1)), np.zeros(1)])
    with pytest.raises(ValueError, match=r"weights \(bias\) must have rank 1"):
        model.set_weights([np.zeros((1, 1)), np.zeros((1, 1))])
