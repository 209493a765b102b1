"""The bias-correction chapter: ``adamref.lab.bias_correction`` and
``adamref.plots.bias_correction``."""

import numpy as np
import pytest

import adamref
from adamref.lab import bias_correction as bias
from adamref.problems.datasets import make_logistic
from adamref.problems.runs import grid
import matplotlib.pyplot as plt

from adamref.plots.explorers import explore
from adamref.plots.bias_correction import (draw_bias_correction, plot_adam_grid,
                                           plot_second_moment_bias, plot_step_inflation)


def test_second_moment_bias_matches_one_minus_beta2_to_the_t():
    mean, sem = bias.second_moment_bias([0.9, 0.99], 200, n_streams=4000, mean=0.5, std=1.0,
                                        seed=0)
    t = np.arange(1, 201)
    theory = 1 - np.array([[0.9], [0.99]]) ** t
    assert mean.shape == sem.shape == (2, 200)
    assert np.max(np.abs(mean - theory) / sem) < 5
    # the raw v really is biased: at t = 1 it is (1 - beta2) E[g^2], far from E[g^2]
    assert mean[1, 0] < 0.02


def test_second_moment_bias_is_seeded():
    a = bias.second_moment_bias(0.999, 5, n_streams=10, seed=3)
    b = bias.second_moment_bias(0.999, 5, n_streams=10, seed=3)
    np.testing.assert_array_equal(a[0], b[0])


def test_first_step_is_lr_sign_with_correction_and_inflated_without():
    grad = np.array([-1e-2, 3.0, 400.0])
    np.testing.assert_allclose(bias.first_step(grad, lr=1e-3), -1e-3 * np.sign(grad), rtol=1e-5)
    factor = 0.1 / np.sqrt(1 - 0.999)
    np.testing.assert_allclose(bias.first_step(grad, lr=1e-3, bias_correction=False),
                               -1e-3 * factor * np.sign(grad), rtol=1e-4)  # eps: 3e-5


def test_adam_steps_are_adams_updates_on_the_given_gradients():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(6, 3))
    steps = bias.adam_steps(grads, lr=0.1, bias_correction=False)
    assert steps.shape == (6, 3)
    np.testing.assert_array_equal(steps[0], bias.first_step(grads[0], lr=0.1,
                                                            bias_correction=False))
    opt, theta = adamref.Adam(lr=0.1, bias_correction=False), np.zeros(3)
    for g, step in zip(grads, steps):
        before = theta.copy()
        opt.step(theta, g.copy())
        np.testing.assert_allclose(step, theta - before, rtol=1e-12)
    with pytest.raises(ValueError, match=r"grads must have shape \(steps, ...\).*got shape \(6,\)"):
        bias.adam_steps(grads[:, 0])


def test_step_inflation_is_the_ratio_of_adams_two_steps():
    """Run Adam with and without correction on the same gradient stream, with the
    same state (the state does not depend on the flag): the step ratio is the formula."""
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(30, 4)) + 1.0
    on = adamref.Adam(lr=1e-3, eps=0.0)
    off = adamref.Adam(lr=1e-3, eps=0.0, bias_correction=False)
    a, b = np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        a_before, b_before = a.copy(), b.copy()
        on.step(a, g.copy())
        off.step(b, g.copy())
        np.testing.assert_allclose((b - b_before) / (a - a_before),
                                   bias.step_inflation(0.9, 0.999, t), rtol=1e-9)
    assert bias.step_inflation(0.9, 0.999, 1) == pytest.approx(np.sqrt(10))
    assert bias.step_inflation(0.9, [0.99, 0.9999], np.array([[1], [2]])).shape == (2, 2)


def test_adam_grid_equals_separate_runs():
    problem = make_logistic(40, 3, seed=0)
    lrs, beta2s = [1e-2, 1e-1], [0.99, 0.9999]
    for flag in (True, False):
        grid = bias.adam_grid(problem, lrs, beta2s, (0.0, 0.9), steps=30, record=(10, 30),
                              bias_correction=flag)
        assert grid[30].shape == (2, 2, 2)
        for i, b1 in enumerate((0.0, 0.9)):
            for j, b2 in enumerate(beta2s):
                for k, lr in enumerate(lrs):
                    losses, _ = bias.adam_run(problem, lr, b1, b2, bias_correction=flag, steps=30)
                    assert grid[10][i, j, k] == pytest.approx(losses[10], rel=1e-10)
                    assert grid[30][i, j, k] == pytest.approx(losses[30], rel=1e-10)


def test_without_correction_large_lr_and_beta2_near_one_is_worse_early():
    grid = {flag: bias.adam_grid(bias.logistic_problem(), [0.1], [0.9999], steps=100,
                                 record=(100,), bias_correction=flag,
                                 batch_size=bias.BATCH_SIZE, seed=1)[100][0, 0, 0]
            for flag in (True, False)}
    assert grid[False] > 2 * grid[True]


def test_adam_run_step_ratio_starts_at_one_with_correction():
    losses, ratio = bias.adam_run(make_logistic(30, 2, seed=1), lr=0.01, steps=5)
    assert losses.shape == (6,) and ratio.shape == (5,)
    assert ratio[0] == pytest.approx(1.0, rel=1e-4)
    _, ratio_off = bias.adam_run(make_logistic(30, 2, seed=1), lr=0.01, beta2=0.9999,
                                 bias_correction=False, steps=1)
    assert ratio_off[0] == pytest.approx(10.0, rel=1e-4)


@pytest.mark.parametrize("call, error, match", [
    (lambda: bias.second_moment_bias(1.0, 5), ValueError, r"beta2 must be in \[0.0, 1.0\), got 1.0"),
    (lambda: bias.second_moment_bias(0.9, 0), ValueError, r"steps must be an integer >= 1, got 0"),
    (lambda: bias.second_moment_bias(0.9, 5, n_streams=1), ValueError,
     r"n_streams must be an integer >= 2, got 1"),
    (lambda: bias.second_moment_bias(0.9, 5, mean=0.0, std=0.0), ValueError,
     r"mean and std cannot both be 0"),
    (lambda: bias.second_moment_bias([[0.9]], 5), ValueError, r"beta2 must be a number or a 1-D"),
    (lambda: bias.step_inflation(0.9, 0.999, 0), ValueError, r"t must be an integer \(or integer array\) >= 1, got 0"),
    (lambda: bias.step_inflation(1.5, 0.999, 1), ValueError, r"beta1 must be in \[0.0, 1.0\), got 1.5"),
    (lambda: bias.first_step([1.0]), TypeError, r"grad must be a NumPy ndarray"),
    (lambda: bias.adam_grid("data", [0.1], [0.9], steps=1, record=(1,)), TypeError,
     r"problem must be a dataset problem \(adamref.problems.datasets\), got str"),
    (lambda: bias.adam_grid(make_logistic(), [-0.1], [0.9], steps=1, record=(1,)), ValueError,
     r"lrs must be >= 0.0, got -0.1"),
    (lambda: bias.adam_grid(make_logistic(), [0.1], [0.9], steps=5, record=(6,)), ValueError,
     r"record must list step counts in \[1, steps=5\], got \(6,\)"),
    (lambda: bias.adam_grid(make_logistic(), [0.1], [0.9], steps=5, record=(5,),
                            bias_correction="no"), TypeError,
     r"bias_correction must be True or False, got 'no'"),
    (lambda: bias.adam_run(make_logistic(), lr=0.0), ValueError, r"lr must be > 0, got 0.0"),
])
def test_bias_functions_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_second_moment_bias_plot_draws_measurement_and_theory(labelled):
    mean, sem = bias.second_moment_bias([0.9, 0.99], 20, n_streams=50, seed=0)
    ax = plot_second_moment_bias([0.9, 0.99], mean, sem)
    assert labelled(ax)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mean[0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 1 - 0.9 ** np.arange(1, 21))
    with pytest.raises(ValueError, match=r"ratio_mean and ratio_sem must have shape"):
        plot_second_moment_bias([0.9], mean, sem)


def test_step_inflation_plot_draws_the_formula(labelled):
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


def test_inflation_landmarks_match_the_formula():
    marks = bias.inflation_landmarks(0.9, 0.999, 5000)
    inflation = bias.step_inflation(0.9, 0.999, np.arange(1, 5001))
    assert marks["first"] == pytest.approx(np.sqrt(10))
    assert marks["peak"] == inflation.max() and inflation[marks["peak_step"] - 1] == marks["peak"]
    below = marks["below_from"]
    assert inflation[below - 1] < 1.1 <= inflation[below - 2]
    assert np.all(inflation[below - 1:] < 1.1)          # and it stays below
    assert bias.inflation_landmarks(0.9, 0.9999, 100)["below_from"] is None
    with pytest.raises(ValueError, match=r"threshold must be a finite number > 0, got 0.0"):
        bias.inflation_landmarks(0.9, 0.999, 10, threshold=0.0)


def test_correction_runs_are_adam_runs_with_the_same_batches():
    problem = bias.logistic_problem()
    for beta2, lr in ((0.9999, 1e-2), (0.99, 1.0)):      # in the sweep
        runs = bias.correction_runs(beta2, lr, steps=40)
        for flag in (True, False):
            losses, ratio = bias.adam_run(problem, lr, 0.9, beta2, bias_correction=flag,
                                          steps=40, batch_size=bias.BATCH_SIZE, seed=1)
            np.testing.assert_allclose(runs[flag][0], losses, rtol=1e-12)
            np.testing.assert_allclose(runs[flag][1], ratio, rtol=1e-10)
    off_grid = bias.correction_runs(0.97, 3e-3, steps=40)  # a value outside the sweep
    losses, _ = bias.adam_run(problem, 3e-3, 0.9, 0.97, steps=40, batch_size=bias.BATCH_SIZE,
                              seed=1)
    np.testing.assert_allclose(off_grid[True][0], losses, rtol=1e-12)


def test_correction_sweep_is_cached_read_only_and_checks_its_input():
    paths = bias.correction_sweep((0.99, 0.999), (1e-2,), steps=5)
    assert paths[True].shape == (2, 1, 6, 20)
    assert bias.correction_sweep((0.99, 0.999), (1e-2,), steps=5) is paths
    with pytest.raises(ValueError, match="read-only"):
        paths[True][0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError, match=r"lrs must be > 0"):
        bias.correction_sweep((0.99,), (0.0,))
    with pytest.raises(ValueError, match=r"beta2s must be in \[0.0, 1.0\), got 1.0"):
        bias.correction_sweep((1.0,), (1e-2,))


def test_bias_explorer_redraws_for_beta2_lr_and_the_flag(lines_of):
    ex = explore("bias_correction")
    assert ex.redraws == 1 and len(ex.figure.axes) == 2
    first = lines_of(ex.figure)
    ex.controls["beta2"].value = 0.999
    assert ex.redraws == 2 and ex.values["beta2"] == 0.999
    assert not np.allclose(first[0], lines_of(ex.figure)[0])
    ex.controls["lr"].value = 1e-1
    assert "1.0e-01" in ex.figure.axes[0].get_title()
    ex.controls["beta2"].value = 0.9999
    ex.controls["bias_correction"].value = False
    solid = [line for line in ex.figure.axes[1].lines if line.get_alpha() == 1.0]
    assert len(solid) == 1 and solid[0].get_label() == "without correction"
    # without correction and beta2 = 0.9999 the first step is 10 alpha
    assert solid[0].get_ydata()[0] == pytest.approx(10.0, rel=1e-3)
