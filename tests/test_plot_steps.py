"""The per-parameter-steps and frameworks figures, and their explorers driven
as a reader would drive them."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.plots import frameworks as plot_frameworks
from adamref.plots import per_parameter_steps as plot_steps
from adamref.plots import widgets
from adamref.lab.per_parameter_steps import spike_step


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_per_coordinate_explorer_redraws_with_new_settings():
    lr, eps = widgets.lr_slider(0.01, 1e-4, 0.3), widgets.eps_slider(1e-8)
    steps = widgets.int_slider(100, 50, 2000, "steps", step=50)
    ex = widgets.explorer(plot_steps.draw_per_coordinate_progress, lr=lr, eps=eps, steps=steps)
    ax_sgd, ax_adam = ex.figure.axes
    assert len(ax_adam.lines) == 7 and len(ax_adam.lines[0].get_ydata()) == 101
    before = ax_adam.lines[0].get_ydata().copy()
    lr.value = 0.1
    assert ex.redraws == 2 and "1.0e-01" in ex.figure.axes[1].get_title()
    assert not np.allclose(ex.figure.axes[1].lines[0].get_ydata(), before)
    # a huge eps turns Adam into slow SGD on the flat coordinates: they stop moving
    eps.value = 1e-1
    flat = ex.figure.axes[1].lines[0].get_ydata()
    assert flat[-1] > 0.5
    steps.value = 200
    assert len(ex.figure.axes[1].lines[0].get_ydata()) == 201
    assert ex.figure.axes[0].get_xlabel() == "step $t$"


def test_epsilon_forms_explorer_shows_the_effective_eps():
    eps_hat = widgets.eps_slider(1e-7)
    t = widgets.int_slider(1, 1, 5000, "step t", step=10)
    ex = widgets.explorer(plot_frameworks.draw_epsilon_forms, eps=widgets.eps_slider(1e-8),
                          eps_hat=eps_hat, t=t)
    ratio = ex.figure.axes[1].lines[0].get_ydata()
    assert ratio.max() == pytest.approx(1e-7 / np.sqrt(1e-3) / 1e-8, rel=1e-3)  # ≈ 316 at t = 1
    t.value = 2001
    assert ex.figure.axes[1].lines[0].get_ydata().max() == pytest.approx(
        10 / np.sqrt(1 - 0.999**2001), rel=1e-3)          # ≈ 10.75: settling towards 10
    eps_hat.value = 1e-8
    assert "t = 2001" in ex.figure.axes[0].get_title()
    assert ex.figure.axes[1].lines[0].get_ydata().max() == pytest.approx(
        1 / np.sqrt(1 - 0.999**2001), rel=1e-3)


def test_plot_functions_draw_labelled_axes():
    ax = plot_steps.plot_step_statistics([0, 0.5, 1], [0.2, 0.45, 0.7], [1.0, 1.3, 1.5])
    assert ax.get_xlabel().startswith("gradient mean") and len(ax.lines) == 4
    t = np.array([1, 10, 100])
    ax = plot_steps.plot_spike_steps(t, spike_step(t))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), spike_step(t))
    ax = plot_steps.plot_step_vs_scale([1e-3, 1.0], {"a": [0.5, 1.0], "b": [0.1, 1.0]})
    assert len(ax.lines) == 2 and ax.get_xscale() == "log"
    ax = plot_frameworks.plot_step_curves({"Adam": [1.0, 0.5, 0.4]})
    assert ax.get_title() == "Step size per step"
    ax = plot_frameworks.plot_decay_paths({"AdamW": np.zeros((5, 2))}, {"AdamW": [0.9, 0.5]})
    assert len(ax.lines) == 4  # two coordinates + two rest points


@pytest.mark.parametrize("call, error, message", [
    (lambda: plot_steps.plot_step_statistics([0, 1], [0.1], [1.0, 1.0]), ValueError,
     "means, mean_steps and max_steps must be 1-D arrays of one length"),
    (lambda: plot_steps.plot_spike_steps([1, 2], [1.0]), ValueError,
     "t and measured must be 1-D arrays"),
    (lambda: plot_steps.plot_per_coordinate_progress([1.0, 2.0], np.zeros((4, 3))), ValueError,
     r"path must have shape \(T \+ 1, 2\)"),
    (lambda: plot_steps.plot_step_vs_scale([1.0, 2.0], {"a": [1.0]}), ValueError,
     r"curves\['a'\] has shape"),
    (lambda: plot_steps.plot_step_vs_scale([1.0], {}), ValueError,
     "curves must be a non-empty dict"),
    (lambda: plot_frameworks.plot_step_curves({"a": np.zeros((2, 2))}), ValueError,
     r"curves\['a'\] must be 1-D"),
    (lambda: plot_frameworks.plot_decay_paths({"a": np.zeros(3)}, {"a": [1.0]}), ValueError,
     r"paths\['a'\] must have shape"),
    (lambda: plot_steps.draw_per_coordinate_progress(plt.figure(), steps=0), ValueError,
     "steps must be an integer >= 1, got 0"),
    (lambda: plot_frameworks.draw_epsilon_forms(plt.figure(), t=1.5), TypeError,
     "t must be an integer >= 1, got 1.5"),
])
def test_rejects_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
