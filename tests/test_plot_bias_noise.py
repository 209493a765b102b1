"""Figures and explorers of the bias-correction and noisy-gradients chapters."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab import bias_correction as bias
from adamref.plots import widgets
from adamref.plots.bias_correction import (draw_bias_correction, plot_adam_grid,
                                           plot_second_moment_bias, plot_step_inflation)
from adamref.plots.noisy_gradients import (draw_noise, plot_basin_fractions,
                                           plot_best_vs_noise, plot_lr_sensitivity)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def labelled(ax):
    return bool(ax.get_title() and ax.get_xlabel() and ax.get_ylabel())


def test_second_moment_bias_plot_draws_measurement_and_theory():
    mean, sem = bias.second_moment_bias([0.9, 0.99], 20, n_streams=50, seed=0)
    ax = plot_second_moment_bias([0.9, 0.99], mean, sem)
    assert labelled(ax)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mean[0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 1 - 0.9 ** np.arange(1, 21))
    with pytest.raises(ValueError, match=r"ratio_mean and ratio_sem must have shape"):
        plot_second_moment_bias([0.9], mean, sem)


def test_step_inflation_plot_draws_the_formula():
    ax = plot_step_inflation(0.9, [0.999], 50)
    assert labelled(ax)
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               bias.step_inflation(0.9, 0.999, np.arange(1, 51)))


def test_adam_grid_plot_has_one_panel_per_record_and_beta2():
    lrs, beta2s, beta1s = [1e-3, 1e-2], [0.99, 0.999, 0.9999], (0.0, 0.9)
    results = {flag: bias.adam_grid(bias.logistic_problem(), lrs, beta2s, beta1s, steps=20,
                                    record=(10, 20), bias_correction=flag)
               for flag in (True, False)}
    fig = plt.figure()
    axes = plot_adam_grid(fig, lrs, beta2s, beta1s, results)
    assert axes.shape == (2, 3)
    assert all(ax.get_title() for ax in axes.flat)
    assert axes[1, 0].get_xlabel() and axes[0, 0].get_ylabel()
    assert len(axes[0, 0].lines) == 4                  # 2 flags x 2 beta1
    np.testing.assert_allclose(axes[1, 2].lines[3].get_ydata(), results[False][20][1, 2])
    with pytest.raises(ValueError, match=r"results must map True and False"):
        plot_adam_grid(plt.figure(), lrs, beta2s, beta1s, {True: results[True]})
    with pytest.raises(ValueError, match=r"results\[True\]\[10\] must have shape \(2, 3, 3\)"):
        plot_adam_grid(plt.figure(), lrs + [1.0], beta2s, beta1s, results)
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1, got 0"):
        plot_step_inflation(0.9, [0.999], 0)


def lines_of(fig):
    return [line.get_ydata().copy() for ax in fig.axes for line in ax.lines]


def test_bias_explorer_redraws_for_beta2_lr_and_the_flag():
    beta2, lr = widgets.beta2_slider(0.999), widgets.lr_slider(1e-2)
    flag = widgets.toggle(True, "bias correction")
    ex = widgets.explorer(draw_bias_correction, beta2=beta2, lr=lr, bias_correction=flag)
    assert ex.redraws == 1 and len(ex.figure.axes) == 2
    first = lines_of(ex.figure)
    beta2.value = 0.9999
    assert ex.redraws == 2 and ex.values["beta2"] == 0.9999
    second = lines_of(ex.figure)
    assert not np.allclose(first[0], second[0])
    lr.value = 1e-1
    assert "1.0e-01" in ex.figure.axes[0].get_title()
    flag.value = False
    solid = [line for line in ex.figure.axes[1].lines if line.get_alpha() == 1.0]
    assert len(solid) == 1 and solid[0].get_label() == "without correction"
    # without correction and beta2 = 0.9999 the first step is 10 alpha
    assert solid[0].get_ydata()[0] == pytest.approx(10.0, rel=1e-3)


def test_noise_explorer_redraws_for_noise_and_lr():
    noise, lr = widgets.noise_slider(1.0, high=10.0), widgets.lr_slider(1e-2)
    ex = widgets.explorer(draw_noise, noise=noise, lr=lr)
    curve_ax, final_ax = ex.figure.axes
    assert labelled(curve_ax) and final_ax.get_title()
    assert len(curve_ax.lines) == 4
    before = lines_of(ex.figure)
    noise.value = 5.0
    assert ex.redraws == 2
    after = lines_of(ex.figure)
    # more noise: a higher final excess loss for every optimizer (median over seeds)
    for b, a in zip(before[:4], after[:4]):
        assert a[-1] > b[-1]
    lr.value = 1e-3
    assert "1.0e-03" in ex.figure.axes[0].get_title()


def test_noise_summary_plots():
    lrs = np.array([1e-3, 1e-2, 1e-1])
    triple = (np.array([1.0, 0.1, np.inf]), np.array([0.5, 0.05, np.inf]),
              np.array([2.0, 0.2, np.inf]))
    ax = plot_lr_sensitivity(lrs, {"SGD": triple, "Adam": triple})
    assert labelled(ax) and len(ax.lines[0].get_xdata()) == 2      # the diverged point is left out
    ax = plot_best_vs_noise([1.0, 3.0], {"Adam": (np.array([1.0, 2.0]),) * 3})
    assert labelled(ax)
    ax = plot_basin_fractions(lrs, {"Adam": np.array([0.1, 0.5, 0.2])}, baseline=0.1)
    assert labelled(ax) and ax.get_ylim()[1] > 1
    with pytest.raises(ValueError, match=r"fractions\['Adam'\] must have a last axis of length 3"):
        plot_basin_fractions(lrs, {"Adam": np.array([0.1, 0.5])})
    with pytest.raises(ValueError, match=r"summaries must be a non-empty dict"):
        plot_lr_sensitivity(lrs, {})
