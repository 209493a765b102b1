"""The seed-regression chapter: ``adamref.lab.seed_regression`` and
``adamref.plots.seed_regression``."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab import seed_regression as sr
from adamref.plots.explorers import explore
from adamref.plots.seed_regression import (draw_seed_regression, plot_kernel_path,
                                           plot_step_ratio, plot_training_loss)


def test_make_data_is_seeded_float32_and_follows_the_model():
    x, y = sr.make_data(n=2000, noise=0.1, seed=4)
    x2, y2 = sr.make_data(n=2000, noise=0.1, seed=4)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert x.shape == y.shape == (2000, 1) and x.dtype == y.dtype == np.float32
    residual = (y - 3 * x).astype(float)
    assert residual.std() == pytest.approx(0.1, rel=0.1) and abs(residual.mean()) < 0.01
    _, y0 = sr.make_data(n=5, noise=0.0, seed=4)
    np.testing.assert_allclose(y0, 3 * sr.make_data(n=5, noise=0.0, seed=4)[0])


def test_least_squares_matches_polyfit():
    x, y = sr.make_data(seed=1)
    w, b = sr.least_squares(x, y)
    np.testing.assert_allclose([w, b], np.polyfit(x[:, 0].astype(float), y[:, 0].astype(float), 1))
    assert abs(w - 3) < 0.05


def test_mse_is_vectorized_over_weights():
    x, y = sr.make_data(n=10, seed=2)
    kernels, biases = np.array([1.0, 3.0]), np.array([0.0, 0.1])
    expected = [np.mean((x * k + b - y) ** 2) for k, b in zip(kernels, biases)]
    np.testing.assert_allclose(sr.mse(kernels, biases, x, y), expected, rtol=1e-6)


def test_end_of_epoch_loss_and_distance_travelled():
    model, history, x, y = sr.train(epochs=3)
    ends = sr.end_of_epoch_loss(history, x, y)
    k, b = model.get_weights()
    assert ends.shape == (3,) and ends[-1] == pytest.approx(np.mean((x * k + b - y) ** 2), rel=1e-5)
    path, net = sr.distance_travelled(history)
    w = history.trace["kernel"][:, 0, 0]
    assert net == pytest.approx(abs(w[-1] - w[0])) and path >= net
    assert path <= 12 * 0.01 * 1.01   # 12 Adam steps of at most about α each


def test_train_offers_adam_and_sgd():
    _, adam, _, _ = sr.train(epochs=1)
    model, sgd, _, _ = sr.train(epochs=1, optimizer="SGD", batch_size=100)
    assert len(sgd.trace["batch_loss"]) == 1 and type(model.optimizer).__name__ == "SGD"
    assert not np.array_equal(adam.trace["kernel"][-1], sgd.trace["kernel"][-1])


@pytest.mark.parametrize("call, error, match", [
    (lambda: sr.make_data(n=0), ValueError, "n must be an integer >= 1, got 0"),
    (lambda: sr.make_data(noise=-1.0), ValueError, "noise must be >= 0.0, got -1.0"),
    (lambda: sr.make_data(seed=1.5), TypeError, "seed must be an integer >= 0, got 1.5"),
    (lambda: sr.least_squares(np.zeros(3), np.zeros(4)), ValueError, "same length"),
    (lambda: sr.least_squares(np.zeros((3, 2)), np.zeros(3)), ValueError, r"x must have shape"),
    (lambda: sr.end_of_epoch_loss([1.0], np.zeros(3), np.zeros(3)), TypeError, "history must be"),
    (lambda: sr.train(optimizer="rmsprop"), ValueError, "name must be one of .*'rmsprop'"),
    (lambda: sr.train(lr=0), ValueError, "lr must be a finite number > 0, got 0"),
    (lambda: plot_training_loss([]), ValueError, "loss must be a non-empty 1-D sequence"),
    (lambda: draw_seed_regression(plt.figure(), batch_size=0), ValueError,
     "batch_size must be an integer >= 1, got 0"),
])
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
    plt.close("all")


def test_plot_training_loss_is_the_snippets_figure():
    ax = plot_training_loss([3.0, 2.0, 1.0])
    assert ax.get_title() == "Training loss over time"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Epoch", "Loss")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [3.0, 2.0, 1.0])
    plt.close("all")


def test_kernel_path_and_step_ratio():
    _, history, x, y = sr.train(epochs=2)
    w_ls, _ = sr.least_squares(x, y)
    ax = plot_kernel_path(history, w_ls)
    assert len(ax.lines[0].get_ydata()) == 9 and ax.get_ylabel() == "weight $w$"
    ratio = plot_step_ratio(history, 0.01).lines[0].get_ydata()
    assert len(ratio) == 8 and ratio[0] == pytest.approx(1.0, abs=1e-4)  # first step = α
    plt.close("all")


def test_explorer_redraws_with_the_controls():
    ex = explore("seed_regression")
    w = lambda: ex.figure.axes[1].lines[0].get_ydata().copy()  # noqa: E731
    first = w()
    assert ex.redraws == 1 and len(first) == 100 * 4 + 1       # the snippet: 400 steps
    assert ex.figure.axes[1].get_title() == f"Weight: {first[-1]:.3f} after 400 steps"
    ex.controls["epochs"].value = 10
    assert ex.redraws == 2 and len(w()) == 10 * 4 + 1
    ex.controls["batch_size"].value = 100
    assert len(ex.figure.axes[0].lines[0].get_ydata()) == 10 and len(w()) == 10 + 1
    ex.controls["lr"].value = 0.1
    assert abs(w()[-1] - w()[0]) > abs(first[10] - first[0])
    assert "α = 0.1" in ex.figure.axes[0].get_title()
    before = ex.figure.axes[0].lines[0].get_ydata().copy()
    ex.controls["noise"].value = 1.0
    assert ex.redraws == 5
    assert not np.array_equal(ex.figure.axes[0].lines[0].get_ydata(), before)
    ex.controls["batch_size"].value = 64
    ex.controls["epochs"].value = 1000           # 2000 steps, drawn at every second one
    assert len(w()) == 1001 and ex.figure.axes[1].get_title().endswith("after 2000 steps")
    plt.close("all")


def test_keras_draws_are_the_draws_of_set_random_seed():
    _, history, _, _ = sr.train(epochs=3, model_seed=5)
    kernel0, orders = sr.keras_draws(5, 100, 3)
    assert kernel0 == history.trace["kernel"][0, 0, 0]
    np.testing.assert_array_equal(orders, history.trace["order"])


@pytest.mark.parametrize("settings", [dict(), dict(lr=0.1, batch_size=8, epochs=20),
                                      dict(batch_size=100, noise=0.5, model_seed=3)])
def test_fit_by_hand_is_fit_up_to_float32_rounding(settings):
    _, fit, x, y = sr.train(**{"batch_size": 32, **settings})
    by_hand, x2, y2 = sr.fit_by_hand(**settings)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(by_hand.trace["order"], fit.trace["order"])
    np.testing.assert_array_equal(by_hand.trace["batch_size"], fit.trace["batch_size"])
    # float32 (fit) and float64 (by hand) part by rounding only: 1e-5 after hundreds of steps
    np.testing.assert_allclose(by_hand.trace["kernel"], fit.trace["kernel"], atol=3e-5)
    np.testing.assert_allclose(by_hand.trace["bias"], fit.trace["bias"], atol=3e-5)
    np.testing.assert_allclose(by_hand.trace["batch_loss"], fit.trace["batch_loss"],
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(by_hand.history["loss"], fit.history["loss"], rtol=1e-4, atol=1e-5)
    assert by_hand.epoch == fit.epoch


def test_fit_by_hand_names_bad_input():
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -1"):
        sr.fit_by_hand(lr=-1)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        sr.fit_by_hand(batch_size=0)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        sr.fit_by_hand(epochs=0)


def test_kernel_per_epoch_and_seed_sweep():
    _, history, _, _ = sr.train(epochs=3)
    w = sr.kernel_per_epoch(history)
    np.testing.assert_array_equal(w, history.trace["kernel"][[0, 4, 8, 12], 0, 0])
    w0, w_end = sr.sweep_model_seeds([0, 1, 2], epochs=2)
    assert w0.shape == w_end.shape == (3,) and len(set(w0)) == 3
    _, h1, _, _ = sr.train(epochs=2, model_seed=1)
    assert (w0[1], w_end[1]) == sr.first_and_last_kernel(h1)
    with pytest.raises(ValueError, match="seeds must not be empty"):
        sr.sweep_model_seeds([])
    with pytest.raises(TypeError, match="must not contain model_seed"):
        sr.sweep_model_seeds([1], model_seed=2)


def test_variant_and_sweep_figures():
    from adamref.plots.seed_regression import plot_final_vs_initial, plot_weight_per_epoch
    _, history, x, y = sr.train(epochs=4)
    w_ls, _ = sr.least_squares(x, y)
    ax = plot_weight_per_epoch({"Adam": history}, w_ls)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), sr.kernel_per_epoch(history)[1:])
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3, 4])
    assert ax.get_xscale() == "log" and ax.lines[1].get_ydata()[0] == w_ls
    ax = plot_final_vs_initial([0.1, 0.2], [2.0, 2.5], w_ls)
    assert ax.get_ylabel() == "weight after 100 epochs"
    with pytest.raises(ValueError, match="runs must map at least one label"):
        plot_weight_per_epoch({}, w_ls)
    with pytest.raises(ValueError, match="w0 and w_final must be 1-D of one length"):
        plot_final_vs_initial([0.1], [1.0, 2.0], w_ls)
    plt.close("all")

