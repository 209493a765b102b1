"""The moments chapter: ``adamref.lab.moments`` and ``adamref.plots.moments``."""

import math
import numpy as np
import pytest

import adamref
from adamref.lab import moments as E
import matplotlib.pyplot as plt

from adamref.lab import moments as ema
from adamref.plots import explorers
from adamref.lab.moments import STREAM
from adamref.plots.moments import draw_moments, plot_snr_steps


def test_ema_matches_the_recursion_and_its_unrolled_sum():
    x = E.gradient_stream(0.5, 1.0, 200, seed=1, shape=(3,))
    m = E.ema(x, 0.9)
    expected = np.zeros(3)
    for t in range(5):
        expected = 0.9 * expected + 0.1 * x[t]
    np.testing.assert_allclose(m[4], expected, rtol=1e-14)
    np.testing.assert_allclose(E.ema_unrolled(x, 0.9), m, rtol=1e-12, atol=1e-14)
    corrected = E.ema(x, 0.9, bias_correction=True)
    np.testing.assert_allclose(corrected[0], x[0], rtol=1e-14)   # m̂_1 = x_1


def test_adam_moments_are_the_ema_of_g_and_g_squared():
    g = E.gradient_stream(np.array([1.0, -2.0]), 0.3, 100, seed=2, shape=(2,))
    h = E.moment_history(g, beta1=0.8, beta2=0.99)
    np.testing.assert_allclose(h["m"], E.ema_unrolled(g, 0.8), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h["v"], E.ema_unrolled(g**2, 0.99), rtol=1e-12)
    np.testing.assert_allclose(h["m_hat"], E.ema(g, 0.8, bias_correction=True), rtol=1e-12)
    np.testing.assert_allclose(h["step"], -1e-3 * h["m_hat"] / (np.sqrt(h["v_hat"]) + 1e-8),
                               rtol=1e-9)
    one = E.moment_history(g[:, 0])          # a 1-D stream comes back 1-D
    assert one["m"].shape == (100,)


def test_ema_scan_is_the_ema_without_a_loop_over_steps():
    x = E.gradient_stream(0.5, 1.0, 700, seed=4, shape=(3,))
    for beta in (0.0, 0.5, 0.9, 0.999):
        np.testing.assert_allclose(E.ema_scan(x, beta), E.ema(x, beta), rtol=1e-12, atol=1e-15)
    betas = np.array([0.0, 0.9, 0.999])                     # one β per stream
    np.testing.assert_allclose(E.ema_scan(x, betas),
                               np.stack([E.ema(x[:, k], b) for k, b in enumerate(betas)], 1),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(E.ema_scan(x[:1], 0.9), (1 - 0.9) * x[:1])   # one step
    with pytest.raises(ValueError, match="beta must be in"):
        E.ema_scan(x, 1.0)


def test_adam_moments_are_what_adam_records_step_by_step():
    g = E.gradient_stream(np.array([1.0, -2.0]), 0.3, 600, seed=2, shape=(2,))
    by_step = E.moment_history(g, lr=0.5, beta1=0.8, beta2=0.99)
    at_once = E.adam_moments(g, lr=0.5, beta1=0.8, beta2=0.99)
    assert set(at_once) == set(by_step)
    for name in ("m", "v", "m_hat", "v_hat"):
        np.testing.assert_allclose(at_once[name], by_step[name], rtol=1e-12, err_msg=name)
    # moment_history's step is a difference of iterates near 300: a few ulps of 300
    np.testing.assert_allclose(at_once["step"], by_step["step"], rtol=1e-9, atol=1e-12)
    _, _, _, h = E.moments_on_stream(0.9, 0.999, 1.0, 0)
    assert h["step"].shape == (STREAM["steps"],)
    with pytest.raises(ValueError, match="beta2 must be in"):
        E.adam_moments(g, beta2=1.0)


def test_weights_window_noise_and_lag():
    w = E.ema_weights(0.9, 500)
    assert w[0] == pytest.approx(0.1) and w.sum() == pytest.approx(1.0, abs=1e-12)
    assert E.effective_window(0.999) == pytest.approx(1000.0)
    assert E.weight_in_window(0.9) == pytest.approx(1 - 0.9**10)
    assert E.weight_in_window(0.9999) == pytest.approx(1 - math.exp(-1), abs=1e-4)
    assert E.ema_noise_std(0.9, 2.0) == pytest.approx(2.0 * math.sqrt(0.1 / 1.9))
    assert E.ema_lag(0.9) == 22 and 0.9**22 <= 0.1 < 0.9**21
    assert E.ema_lag(0.0) == 1
    np.testing.assert_array_equal(E.ema_lag(np.array([0.5, 0.99])), [4, 230])


def test_tracking_stats_measure_the_predicted_lag_and_noise():
    steps, shift = 600, 300
    mean = E.shifted_mean(steps, 0.0, 1.0, shift)
    g = E.gradient_stream(mean[:, None], 1.0, steps, seed=3, shape=(400,))
    stats = E.tracking_stats(E.ema(g, 0.9), mean, shift)
    assert abs(stats["lag"] - E.ema_lag(0.9)) <= 2
    assert stats["noise"] == pytest.approx(E.ema_noise_std(0.9, 1.0), rel=0.1)
    raw = E.tracking_stats(g, mean, shift)          # no averaging: no lag, full noise
    assert raw["lag"] == 1 and raw["noise"] == pytest.approx(1.0, rel=0.1)


def test_gradient_stream_is_seeded_and_has_the_requested_moments():
    a = E.gradient_stream(2.0, 0.5, 4000, seed=7, shape=(2,))
    np.testing.assert_array_equal(a, E.gradient_stream(2.0, 0.5, 4000, seed=7, shape=(2,)))
    np.testing.assert_allclose(a.mean(0), 2.0, atol=4 * 0.5 / np.sqrt(4000))
    np.testing.assert_allclose(a.std(0), 0.5, rtol=0.05)
    s = E.snr_stream(np.array([0.0, 0.6]), 20000, seed=0)
    np.testing.assert_allclose(s.mean(axis=(0, 2)), [0.0, 0.6], atol=0.02)
    np.testing.assert_allclose((s**2).mean(axis=(0, 2)), [1.0, 1.0], atol=0.03)


def test_step_tracks_the_snr_where_the_signal_dominates_and_not_below():
    r = E.snr_step_sizes(np.array([0.0, 0.1, 0.5, 0.9]), steps=1500, burn_in=500,
                         streams=40, seed=0)
    np.testing.assert_allclose(r["mean_signed"], r["snr"], atol=0.02)
    np.testing.assert_allclose(r["mean_abs"][2:], r["snr"][2:], atol=0.02)
    assert r["mean_abs"][0] > 0.15 and r["mean_abs"][1] > 0.15     # the noise floor
    np.testing.assert_allclose(r["mean_abs"], r["predicted_abs"], atol=0.02)


def test_erf_and_prediction():
    x = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(E.erf(x), [math.erf(v) for v in x], atol=2e-7)
    floor = math.sqrt(0.1 / 1.9) * math.sqrt(2 / math.pi)
    assert E.predicted_mean_abs_step(0.0, 0.9) == pytest.approx(floor, rel=1e-6)
    assert E.predicted_mean_abs_step(1.0, 0.9) == pytest.approx(1.0)
    assert E.predicted_mean_abs_step(0.8, 0.9) == pytest.approx(0.8, abs=1e-6)


@pytest.mark.parametrize("call, error, message", [
    (lambda: E.ema([1.0, 2.0], 0.9), TypeError, "x must be a NumPy ndarray"),
    (lambda: E.ema(np.arange(3), 0.9), TypeError, "x must have a floating dtype"),
    (lambda: E.ema(np.zeros(0), 0.9), ValueError, r"x must have at least one time step"),
    (lambda: E.ema(np.array([1.0, np.nan]), 0.9), ValueError, "x must be finite"),
    (lambda: E.ema(np.zeros(3), 1.0), ValueError, r"beta must be in \[0.0, 1.0\), got 1.0"),
    (lambda: E.ema_unrolled(np.zeros(3), -0.1), ValueError, "beta must be in"),
    (lambda: E.ema_weights(0.9, 0), ValueError, "steps must be an integer >= 1, got 0"),
    (lambda: E.ema_weights(0.9, 2.5), TypeError, "steps must be an integer"),
    (lambda: E.effective_window("0.9"), TypeError, "beta must be a real number"),
    (lambda: E.ema_noise_std(0.9, -1.0), ValueError, "noise must be >= 0"),
    (lambda: E.ema_lag(0.9, fraction=1.0), ValueError, r"fraction must be in"),
    (lambda: E.shifted_mean(10, 0.0, 1.0, 11), ValueError, "shift_at must be <= steps = 10"),
    (lambda: E.shifted_mean(10, "a", 1.0, 5), TypeError, "before must be a real number"),
    (lambda: E.gradient_stream(0.0, -1.0, 5, seed=0), ValueError, "noise must be >= 0"),
    (lambda: E.gradient_stream(0.0, 1.0, 5, seed=0.5), TypeError, "seed must be an integer"),
    (lambda: E.gradient_stream(np.zeros(3), 1.0, 5, seed=0), ValueError,
     r"mean has shape \(3,\), which does not broadcast to the stream's shape \(5,\)"),
    (lambda: E.gradient_stream(0.0, 1.0, 5, seed=0, shape=3), TypeError, "shape must be a tuple"),
    (lambda: E.moment_history(np.zeros((4, 2)), beta1=1.5), ValueError, "beta1 must be in"),
    (lambda: E.tracking_stats(np.zeros((10, 1)), np.zeros(10), 5), ValueError,
     r"estimates must have shape \(steps, streams >= 2\)"),
    (lambda: E.tracking_stats(np.zeros((10, 3)), np.zeros(10), 5, window=2), ValueError,
     "truth must jump at shift_at = 5"),
    (lambda: E.tracking_stats(np.zeros((10, 3)), np.zeros(9), 5), ValueError,
     r"truth must have shape \(10,\)"),
    (lambda: E.tracking_stats(np.zeros((10, 3)), np.zeros(10), 5, window=6), ValueError,
     r"shift_at must be in \[window, steps\)"),
    (lambda: E.snr_stream(1.5, 10, seed=0), ValueError, r"snr must be in \[0, 1\]"),
    (lambda: E.snr_stream(np.zeros((2, 2)), 10, seed=0), ValueError, "snr must be a scalar or"),
    (lambda: E.snr_step_sizes(0.5, steps=10, burn_in=10), ValueError,
     "burn_in must be < steps = 10, got 10"),
    (lambda: E.snr_stream(0.5, 10, seed=0, streams=0), ValueError, "streams must be an integer >= 1"),
    (lambda: E.predicted_mean_abs_step(-0.1, 0.9), ValueError, r"snr must be in \[0, 1\]"),
    (lambda: E.erf("x"), TypeError, "x must be a real number"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_module_uses_the_package_optimizer():
    assert E.Adam is adamref.Adam


def test_draw_moments_shows_adams_own_moments():
    fig = plt.figure()
    axes = draw_moments(fig, beta1=0.9, beta2=0.99, noise=0.5, seed=1)
    m_line = axes[0].lines[1]
    grads, mean, second, h = (
        __import__("adamref.lab.moments", fromlist=["x"]).moments_on_stream(0.9, 0.99, 0.5, 1))
    np.testing.assert_allclose(m_line.get_ydata(), ema.ema(grads, 0.9, bias_correction=True),
                               rtol=1e-10)
    assert len(grads) == STREAM["steps"]
    assert all(ax.get_title() and ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        draw_moments("fig")
    plt.close(fig)


def test_moments_explorer_redraws_on_every_slider():
    ex = explorers.explore("moments")
    m = lambda: ex.figure.axes[0].lines[1].get_ydata().copy()  # noqa: E731
    v = lambda: ex.figure.axes[1].lines[0].get_ydata().copy()  # noqa: E731
    m0, v0 = m(), v()
    ex.controls["beta1"].value = 0.99
    assert not np.allclose(m(), m0) and np.allclose(v(), v0)
    ex.controls["beta2"].value = 0.9
    assert not np.allclose(v(), v0)
    m1 = m()
    ex.controls["noise"].value = 2.0
    assert ex.redraws == 4 and not np.allclose(m(), m1)


def test_plot_snr_steps_draws_measurements_and_prediction():
    r = ema.snr_step_sizes(np.array([0.0, 0.5, 1.0]), steps=300, burn_in=100, streams=5)
    fig, ax = plt.subplots()
    plot_snr_steps({0.9: r}, ax)
    np.testing.assert_allclose(ax.lines[2].get_ydata(), r["mean_abs"])
    assert ax.get_xlabel() and ax.get_title()
    with pytest.raises(ValueError, match="results must be a non-empty dict"):
        plot_snr_steps({}, ax)
    plt.close(fig)



def test_agrees_from_reads_the_tolerance_off_the_grid():
    r = np.array([0.0, 0.2, 0.4, 0.6])
    assert ema.agrees_from(r, np.array([0.2, 0.25, 0.405, 0.6]), r, 0.01) == 0.4
    assert ema.agrees_from(r, r, r, 0.0) == 0.0
    assert ema.agrees_from(r, r + np.array([0, 0, 0, 0.1]), r, 0.01) is None
    with pytest.raises(ValueError, match="snr must be increasing"):
        ema.agrees_from(r[::-1], r, r, 0.01)
    with pytest.raises(ValueError, match="one length"):
        ema.agrees_from(r, r[:2], r, 0.01)
