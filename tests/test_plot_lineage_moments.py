"""Figures and explorers of the chapters From gradient descent to Adam and Moments."""

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab import moments as ema
from adamref.plots import widgets
from adamref.plots.from_sgd_to_adam import LOSS_FLOOR, draw_lineage, draw_paths
from adamref.lab.moments import STREAM
from adamref.plots.moments import draw_moments, plot_snr_steps


def test_draw_lineage_draws_the_four_paths_and_their_losses():
    fig = plt.figure()
    left, right = draw_lineage(fig)
    labels = [line.get_label() for line in right.lines]
    assert labels == ["SGD", "Momentum", "RMSprop", "Adam"]
    assert left.get_title() and left.get_xlabel() and right.get_ylabel()
    assert right.get_ylim()[0] >= LOSS_FLOOR
    plt.close(fig)


def test_draw_paths_rejects_bad_input():
    fig = plt.figure()
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        draw_paths(None, object(), {"a": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="paths must be a non-empty dict"):
        draw_paths(fig, object(), {})
    with pytest.raises(TypeError, match="title must be a string"):
        draw_paths(fig, object(), {"a": np.zeros((2, 2))}, title=3)
    plt.close(fig)


def test_lineage_explorer_redraws_with_the_new_settings():
    problem = ipywidgets.Dropdown(options=["quadratic", "rosenbrock"], value="quadratic")
    lr, beta1 = widgets.lr_slider(0.1), widgets.beta1_slider(0.9)
    noise = widgets.noise_slider(0.0)
    ex = widgets.explorer(draw_lineage, problem=problem, lr=lr, beta1=beta1, noise=noise)
    adam = lambda: ex.figure.axes[0].lines[3].get_xydata().copy()  # noqa: E731
    first = adam()
    lr.value = 0.01
    assert ex.redraws == 2 and not np.allclose(adam(), first)
    second = adam()
    noise.value = 1.0
    assert ex.redraws == 3 and not np.allclose(adam(), second)
    problem.value = "rosenbrock"
    assert "Rosenbrock" in ex.figure.axes[0].get_title()
    beta1.value = 0.0
    assert ex.values["beta1"] == 0.0 and ex.redraws == 5
    plt.close(ex.figure)


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
    b1, b2, noise = widgets.beta1_slider(0.9), widgets.beta2_slider(0.999), widgets.noise_slider(1.0)
    ex = widgets.explorer(draw_moments, beta1=b1, beta2=b2, noise=noise)
    m = lambda: ex.figure.axes[0].lines[1].get_ydata().copy()  # noqa: E731
    v = lambda: ex.figure.axes[1].lines[0].get_ydata().copy()  # noqa: E731
    m0, v0 = m(), v()
    b1.value = 0.99
    assert not np.allclose(m(), m0) and np.allclose(v(), v0)
    b2.value = 0.9
    assert not np.allclose(v(), v0)
    m1 = m()
    noise.value = 2.0
    assert ex.redraws == 4 and not np.allclose(m(), m1)
    plt.close(ex.figure)


def test_plot_snr_steps_draws_measurements_and_prediction():
    r = ema.snr_step_sizes(np.array([0.0, 0.5, 1.0]), steps=300, burn_in=100, streams=5)
    fig, ax = plt.subplots()
    plot_snr_steps({0.9: r}, ax)
    np.testing.assert_allclose(ax.lines[2].get_ydata(), r["mean_abs"])
    assert ax.get_xlabel() and ax.get_title()
    with pytest.raises(ValueError, match="results must be a non-empty dict"):
        plot_snr_steps({}, ax)
    plt.close(fig)
