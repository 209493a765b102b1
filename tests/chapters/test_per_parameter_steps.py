"""Badly scaled problems and the measured size of Adam's per-coordinate steps."""

import numpy as np
import pytest

import adamref
from adamref.problems import Quadratic
from adamref.problems.runs import trajectory
from adamref.lab.per_parameter_steps import (badly_scaled_quadratic, extremal_gradients,
                                             sgd_steps_to_reach, sign_descent, spike_step,
                                             step_supremum, step_supremum_limit,
                                             step_vs_gradient_scale, steps_along,
                                             steps_to_reach, sgd_and_adam_on_the_bowl,
                                             largest_steps)
import matplotlib.pyplot as plt

from adamref.plots import frameworks as plot_frameworks
from adamref.plots import per_parameter_steps as plot_steps
from adamref.plots import style
from adamref.plots.explorers import explore
from adamref.lab.per_parameter_steps import spike_step


class TestQuadraticInAnyDimension:
    def test_value_and_gradient_match_finite_differences(self):
        bowl = Quadratic([1e-3, 1.0, 1e3], minimum=[1.0, -2.0, 0.5], scale=2.0)
        theta = np.array([0.3, 0.7, -0.1])
        h = 1e-6
        fd = [(bowl.value(theta + h * e) - bowl.value(theta - h * e)) / (2 * h)
              for e in np.eye(3)]
        np.testing.assert_allclose(bowl.gradient(theta), fd, rtol=1e-6, atol=1e-7)
        assert bowl.value(bowl.minimum) == 0.0

    def test_vectorized_over_leading_axes(self):
        bowl = badly_scaled_quadratic(dim=4)
        thetas = np.random.default_rng(0).standard_normal((5, 3, 4))
        assert bowl.value(thetas).shape == (5, 3)
        np.testing.assert_allclose(bowl.gradient(thetas)[2, 1], bowl.gradient(thetas[2, 1]))

    def test_badly_scaled_spans_the_range(self):
        bowl = badly_scaled_quadratic(1e-3, 1e3, 7)
        np.testing.assert_allclose(bowl.curvatures, 10.0 ** np.arange(-3, 4))
        assert bowl.condition_number == pytest.approx(1e6)

    @pytest.mark.parametrize("kwargs, error, message", [
        (dict(curvatures=[1.0, -1.0]), ValueError, "curvatures must be positive"),
        (dict(curvatures=[[1.0]]), ValueError, "curvatures must be a non-empty 1-D"),
        (dict(curvatures=["a"]), TypeError, "curvatures must be an array of real"),
        (dict(curvatures=[1.0, 2.0], minimum=[0.0]), ValueError, "minimum must be 2"),
        (dict(curvatures=[1.0], scale=0.0), ValueError, "scale must be a finite number > 0"),
        (dict(curvatures=[1.0], scale="x"), TypeError, "scale must be a real"),
    ])
    def test_rejects_bad_arguments(self, kwargs, error, message):
        with pytest.raises(error, match=message):
            Quadratic(**kwargs)

    def test_rejects_bad_theta_and_factory_arguments(self):
        bowl = badly_scaled_quadratic(dim=3)
        with pytest.raises(ValueError, match=r"theta must have shape \(\.\.\., 3\)"):
            bowl.gradient(np.zeros(2))
        with pytest.raises(ValueError, match="dim must be an integer >= 1, got 0"):
            badly_scaled_quadratic(dim=0)
        with pytest.raises(ValueError, match="0 < low <= high"):
            badly_scaled_quadratic(low=10.0, high=1.0)


class TestStepSizes:
    def test_steps_along_reproduces_a_trajectory(self):
        grads = np.random.default_rng(1).standard_normal((20, 3))
        steps = steps_along(adamref.Adam(lr=0.1), grads)
        theta, opt = np.zeros(3), adamref.Adam(lr=0.1)
        for g in grads:
            opt.step(theta, g)
        np.testing.assert_allclose(steps.sum(axis=0), theta, rtol=1e-12)
        np.testing.assert_allclose(np.abs(steps[0]), 0.1, rtol=1e-6)  # first step is α·sign(g)

    def test_spike_formula_matches_adam_and_tends_to_the_bound(self):
        t = np.array([1, 2, 10, 100, 1000])
        grads = np.zeros((1000, t.size))
        grads[t - 1, np.arange(t.size)] = 1.0
        measured = np.abs(steps_along(adamref.Adam(lr=1.0), grads)[t - 1, np.arange(t.size)])
        np.testing.assert_allclose(measured, spike_step(t), rtol=1e-6)
        assert spike_step(1) == pytest.approx(1.0)
        assert spike_step(10**6) == pytest.approx(0.1 / np.sqrt(0.001), rel=1e-9)
        # not monotone: it dips to ≈0.48 at t = 12 and passes 1 only at t = 106
        s = spike_step(np.arange(1, 5000))
        assert np.argmin(s) + 1 == 12 and np.argmax(s[1:] > 1) + 2 == 106
        assert np.all(np.diff(s[11:]) > 0)

    def test_spike_rejects_bad_t_and_betas(self):
        with pytest.raises(ValueError, match="t must be an integer"):
            spike_step(0)
        with pytest.raises(ValueError, match="t must be an integer"):
            spike_step(1.5)
        with pytest.raises(ValueError, match=r"beta2 must be in \[0.0, 1.0\), got 1.0"):
            spike_step(3, beta2=1.0)

    def test_step_vs_scale_is_s_over_s_plus_eps_for_constant_gradients(self):
        scales = np.geomspace(1e-12, 1, 13)
        eps = np.array([1e-10, 1e-8, 1e-4])
        ratio = step_vs_gradient_scale(scales, eps, t=5)
        assert ratio.shape == (3, 13)
        np.testing.assert_allclose(ratio, scales / (scales + eps[:, None]), rtol=1e-9)

    def test_epsilon_hat_form_has_effective_eps_eps_hat_over_root(self):
        scales = np.geomspace(1e-12, 1, 7)
        for t in (1, 50):
            keras = step_vs_gradient_scale(scales, 1e-7, t, epsilon_hat=True)[0]
            eff = 1e-7 / np.sqrt(1 - 0.999**t)
            np.testing.assert_allclose(keras, scales / (scales + eff), rtol=1e-9)

    def test_step_vs_scale_rejects_bad_arguments(self):
        with pytest.raises(ValueError, match="scales must be positive"):
            step_vs_gradient_scale([0.0, 1.0], 1e-8, 3)
        with pytest.raises(ValueError, match="eps must be >= 0.0, got -1.0"):
            step_vs_gradient_scale([1.0], -1.0, 3)
        with pytest.raises(ValueError, match="t must be an integer >= 1, got 0"):
            step_vs_gradient_scale([1.0], 1e-8, 0)
        with pytest.raises(TypeError, match="epsilon_hat must be True or False"):
            step_vs_gradient_scale([1.0], 1e-8, 1, epsilon_hat="yes")

    def test_steps_along_rejects_bad_arguments(self):
        with pytest.raises(TypeError, match="grads must be a NumPy ndarray"):
            steps_along(adamref.Adam(), [[1.0]])
        with pytest.raises(ValueError, match=r"grads must have shape \(T, \.\.\.\)"):
            steps_along(adamref.Adam(), np.zeros((0, 2)))
        with pytest.raises(TypeError, match="optimizer must have a step"):
            steps_along(object(), np.zeros((2, 2)))


class TestStepSupremum:
    def test_extremal_sequence_attains_the_supremum_at_every_step(self):
        g = extremal_gradients(300)
        steps = np.abs(steps_along(adamref.Adam(lr=1.0, eps=0.0), g))
        np.testing.assert_allclose(steps, step_supremum(np.arange(1, 301)), rtol=1e-12)

    def test_no_sequence_exceeds_it(self):
        rng = np.random.default_rng(3)
        grads = rng.standard_normal((200, 500)) * rng.lognormal(0, 3, (200, 500))
        steps = np.abs(steps_along(adamref.Adam(lr=1.0, eps=0.0), grads))
        bound = step_supremum(np.arange(1, 201))[:, None]
        assert np.all(steps <= bound * (1 + 1e-12))
        assert steps.max() < 0.9 * bound.max()      # random sequences are far from it

    def test_spike_is_the_one_term_case_and_limit_is_727_at_defaults(self):
        assert step_supremum(1) == pytest.approx(1.0)
        assert step_supremum_limit() == pytest.approx(7.2703, abs=1e-4)
        t = np.arange(1, 30001)
        s = step_supremum(t)
        assert s.max() < step_supremum_limit() and s[-1] == pytest.approx(step_supremum_limit(), rel=1e-5)
        assert np.all(s >= spike_step(t) * (1 - 1e-12))

    def test_unbounded_when_beta1_squared_reaches_beta2(self):
        assert step_supremum_limit(0.9, 0.81) == np.inf
        s = step_supremum(np.array([10, 100, 1000]), 0.99, 0.95)
        assert s[0] < s[1] < s[2] and s[2] > 1e6
        g = extremal_gradients(100, 0.99, 0.95)
        measured = np.abs(steps_along(adamref.Adam(lr=1.0, beta1=0.99, beta2=0.95, eps=0.0), g))[-1]
        assert measured == pytest.approx(s[1], rel=1e-12)

    def test_rejects_bad_arguments(self):
        with pytest.raises(ValueError, match="t must be an integer"):
            step_supremum(0)
        with pytest.raises(ValueError, match="beta2"):
            step_supremum(3, 0.9, 1.0)
        with pytest.raises(ValueError, match="steps=5000 is too many"):
            extremal_gradients(5000, 0.5, 0.999)
        with pytest.raises(ValueError, match="steps must be an integer"):
            extremal_gradients(0)


class TestBadlyScaledProgress:
    def test_adam_moves_every_coordinate_alike_and_sgd_does_not(self):
        bowl = badly_scaled_quadratic()
        path = trajectory(adamref.Adam(lr=0.01), bowl.gradient, np.ones(7), 300)
        d = np.abs(path)
        assert np.all(d[200].max() / d[200].min() < 1.01)
        sgd = trajectory(adamref.SGD(lr=1.8e-3), bowl.gradient, np.ones(7), 300)
        assert np.abs(sgd[-1, 0]) > 0.99 and np.abs(sgd[-1, -1]) < 1e-10

    def test_loss_scale_is_eps_scale(self):
        bowl, scaled = badly_scaled_quadratic(), Quadratic(np.geomspace(1e-3, 1e3, 7),
                                                                    scale=1e-4)
        a = trajectory(adamref.Adam(lr=0.01, eps=1e-8), bowl.gradient, np.ones(7), 50)
        b = trajectory(adamref.Adam(lr=0.01, eps=1e-12), scaled.gradient, np.ones(7), 50)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)

    def test_steps_to_reach(self):
        d = np.array([[1.0, 1.0], [0.5, 1.0], [1e-4, 0.9]])
        np.testing.assert_array_equal(steps_to_reach(d, 1e-3), [2.0, np.inf])
        with pytest.raises(ValueError, match="tol must be in"):
            steps_to_reach(d, 2.0)
        with pytest.raises(ValueError, match="distances must have shape"):
            steps_to_reach(np.ones(1), 0.1)

    def test_sgd_steps_to_reach_matches_a_run(self):
        c = np.array([0.5, 1.0, 2.0, 3.0])
        n = sgd_steps_to_reach(c, 0.5, 1e-3)
        assert n[2] == 1.0 and np.isinf(sgd_steps_to_reach([4.0, 5.0], 0.5, 0.1)).all()
        path = trajectory(adamref.SGD(lr=0.5), lambda th: c * th, np.ones(4), 40)
        np.testing.assert_array_equal(steps_to_reach(np.abs(path), 1e-3), n)
        with pytest.raises(ValueError, match="0 < tol < 1"):
            sgd_steps_to_reach(c, 0.5, 0.0)

    def test_zero_betas_zero_eps_is_sign_descent(self):
        bowl = badly_scaled_quadratic()
        adam = trajectory(adamref.Adam(lr=0.03, beta1=0.0, beta2=0.0, eps=0.0), bowl.gradient,
                          np.ones(7), 100)
        sign = sign_descent(bowl.gradient, np.ones(7), 0.03, 100)
        np.testing.assert_allclose(adam, sign, rtol=0, atol=1e-13)
        with pytest.raises(TypeError, match="gradient must be a callable"):
            sign_descent(1.0, np.ones(2), 0.1, 3)
        with pytest.raises(ValueError, match="steps must be an integer >= 0"):
            sign_descent(bowl.gradient, np.ones(7), 0.1, -1)


def test_per_coordinate_explorer_redraws_with_new_settings():
    ex = explore("per_parameter_steps")
    assert ex.values == dict(lr=0.01, eps=1e-8, beta1=0.9, beta2=0.999, steps=400)  # the chapter's figure
    ax_sgd, ax_adam = ex.figure.axes
    assert len(ax_adam.lines) == 7 and len(ax_adam.lines[0].get_ydata()) == 401
    before = ax_adam.lines[0].get_ydata().copy()
    ex.controls["lr"].value = 0.1
    assert ex.redraws == 2 and "1.0e-01" in ex.figure.axes[1].get_title()
    assert not np.allclose(ex.figure.axes[1].lines[0].get_ydata(), before)
    # a huge eps turns Adam into slow SGD on the flat coordinates: they stop moving
    ex.controls["eps"].value = 1e-1
    flat = ex.figure.axes[1].lines[0].get_ydata()
    assert flat[-1] > 0.5
    # 2000 steps are drawn at every other step, the last one included
    ex.controls["steps"].value = 2000
    t = ex.figure.axes[1].lines[0].get_xdata()
    assert len(t) <= style.MAX_POINTS + 1 and t[0] == 0 and t[-1] == 2000
    assert ex.figure.axes[0].get_xlabel() == "step $t$"


def test_largest_steps_checks_adam_against_the_theorem():
    out = largest_steps(1000)
    assert out["measured"].shape == out["supremum"].shape == (1000,)
    assert out["agreement"].startswith("within ")
    np.testing.assert_allclose(out["measured"], step_supremum(np.arange(1, 1001)), rtol=1e-9)
    # the heuristic (1 − β1)/√(1 − β2) ≈ 3.16 is exceeded: the theorem's bound is larger
    assert out["measured"][-1] > 5 > (1 - 0.9) / np.sqrt(1 - 0.999)


def test_the_sgd_run_is_shared_and_read_only():
    first = sgd_and_adam_on_the_bowl(lr=0.01, steps=50)
    second = sgd_and_adam_on_the_bowl(lr=0.1, steps=50)
    assert first[2]["SGD"] is second[2]["SGD"] and not first[2]["SGD"].flags.writeable
    assert not np.allclose(first[2]["Adam"], second[2]["Adam"])
    bowl = badly_scaled_quadratic()
    direct = trajectory(adamref.SGD(lr=first[1]), bowl.gradient, np.ones(7), 50)
    np.testing.assert_array_equal(first[2]["SGD"], direct)


def test_plot_functions_draw_labelled_axes():
    ax = plot_steps.plot_step_statistics([0, 0.5, 1], [0.2, 0.45, 0.7], [1.0, 1.3, 1.5])
    assert ax.get_xlabel().startswith("gradient mean") and len(ax.lines) == 4
    t = np.array([1, 10, 100])
    ax = plot_steps.plot_spike_steps(t, spike_step(t))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), spike_step(t))
    t = np.arange(1, 101)
    ax = plot_steps.plot_step_supremum(t, step_supremum(t), step_supremum(t), spike_step(t),
                                       limit=7.27, heuristic=3.16)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), step_supremum(t))
    assert ax.get_title() == "The largest possible step" and ax.get_xlabel() == "step $t$"
    with pytest.raises(ValueError, match="one length"):
        plot_steps.plot_step_supremum(t, t[:3], t, t, limit=1.0, heuristic=1.0)
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

