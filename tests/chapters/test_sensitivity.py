"""The sensitivity chapter: ``adamref.lab.sensitivity`` and ``adamref.plots.sensitivity``."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.optim import SGD, Adam
from adamref.plots import explorers
from adamref.plots.sensitivity import draw_sensitivity, plot_lr_slices, plot_sweep_heatmap
from adamref.problems.objectives import Quadratic, Rosenbrock
from adamref.lab import sensitivity as S
from adamref.lab.sensitivity import (SweepResult, adam_step_bound, conditioned_least_squares,
                                     default_problems, grid_configurations, log_grid,
                                     random_rotation, rotated_least_squares, sweep, sweep_loop)
from adamref.problems import tune


ROSEN = (Rosenbrock(), np.array([-1.2, 1.0]))


def test_log_grid_has_both_ends_and_the_requested_density():
    grid = log_grid(1e-4, 1.0, per_decade=5)
    assert grid.size == 21 and grid[0] == pytest.approx(1e-4) and grid[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.2)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(low=0.0, high=1.0), ValueError, r"low must be a finite number > 0, got 0.0"),
    (dict(low=1.0, high=0.1), ValueError, r"high must be > low, got low=1.0, high=0.1"),
    (dict(low=1e-3, high=1.0, per_decade=0), ValueError, r"per_decade must be an integer >= 1"),
    (dict(low="a", high=1.0), TypeError, r"low must be a real number, got 'a'"),
])
def test_log_grid_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        log_grid(**kwargs)


def test_least_squares_gap_and_gradient_are_exact():
    ls = conditioned_least_squares(50, 4, scale_ratio=5.0, seed=1)
    assert ls.excess_loss(ls.optimum) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(ls.gradient(ls.optimum), 0.0, atol=1e-12)
    theta = np.random.default_rng(2).standard_normal((3, 4))
    # the gap equals the raw loss difference, and the gradient is its derivative
    raw = lambda t: 0.5 * np.sum((ls.X @ t - ls.y) ** 2) / ls.n_samples  # noqa: E731
    for row in theta:
        assert ls.excess_loss(row) == pytest.approx(raw(row) - raw(ls.optimum), rel=1e-9)
        h, e = 1e-6, np.eye(4)
        numeric = [(raw(row + h * e[i]) - raw(row - h * e[i])) / (2 * h) for i in range(4)]
        np.testing.assert_allclose(ls.gradient(row), numeric, rtol=1e-6, atol=1e-8)
    assert ls.excess_loss(theta).shape == (3,) and ls.gradient(theta).shape == (3, 4)
    # feature scales from 1 to 5: the condition number is about 5² = 25
    assert 5 < ls.condition_number < 125


def test_least_squares_validates():
    with pytest.raises(ValueError, match=r"n_features must be an integer >= 1, got 0"):
        conditioned_least_squares(n_features=0)
    with pytest.raises(ValueError, match=r"scale_ratio must be a finite number > 0, got -1"):
        conditioned_least_squares(scale_ratio=-1)
    with pytest.raises(TypeError, match=r"seed must be an integer >= 0, got 1.5"):
        conditioned_least_squares(seed=1.5)
    with pytest.raises(ValueError, match=r"theta must have shape \(\.\.\., 10\), got shape \(3,\)"):
        conditioned_least_squares().excess_loss(np.zeros(3))


def test_broadcast_sweep_equals_the_loop_bit_for_bit():
    for objective, theta0 in default_problems().values():
        result = sweep(Adam, objective, theta0, 60, lr=log_grid(1e-3, 1.0, 2),
                       beta2=[0.9, 0.999])
        assert result.loss.shape == (7, 2) and result.configurations == 14
        configs = grid_configurations(result, np.arange(14))
        losses, seconds = sweep_loop(Adam, objective, theta0, 60, configs)
        np.testing.assert_array_equal(losses, result.loss.reshape(-1))
        assert seconds > 0 and result.seconds > 0


def test_sweep_marks_diverged_runs_and_keeps_the_others():
    bowl = Quadratic(curvatures=(1.0, 10.0))
    result = sweep(SGD, bowl, [1.0, 1.0], 200, lr=[0.01, 0.1, 0.5])   # 0.5 > 2/10: diverges
    assert np.isinf(result.loss[2]) and np.isfinite(result.loss[:2]).all()
    assert result.loss[1] < result.loss[0]
    assert tune(result.axes["lr"], result.loss).best == 0.1


def test_sweep_result_slices():
    result = sweep(Adam, *ROSEN, 50, lr=[0.01, 0.1], beta1=[0.0, 0.9])
    np.testing.assert_array_equal(result.at(beta1=0.9), result.loss[:, 1])
    np.testing.assert_array_equal(result.at(lr=0.1, beta1=0.0), result.loss[1, 0])
    with pytest.raises(ValueError, match=r"values must name swept axes \['lr', 'beta1'\], got \['beta2'\]"):
        result.at(beta2=0.9)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(steps=0), ValueError, r"steps must be an integer >= 1, got 0"),
    (dict(steps=2.5), TypeError, r"steps must be an integer >= 1, got 2.5"),
    (dict(divergence=-1.0), ValueError, r"divergence must be a finite number > 0, got -1.0"),
    (dict(theta0=np.zeros((2, 2))), ValueError, r"theta0 must be a 1-D starting point, got shape \(2, 2\)"),
    (dict(lr=[[0.1]]), ValueError, r"grid\['lr'\] must be a non-empty 1-D array of numbers"),
    (dict(make_optimizer=3), TypeError, r"make_optimizer must be callable, got 3"),
    (dict(problem="rosenbrock"), TypeError, r"problem must have excess_loss\(\) and gradient\(\)"),
])
def test_sweep_rejects_bad_input(kwargs, error, match):
    args = dict(make_optimizer=Adam, problem=ROSEN[0], theta0=ROSEN[1], steps=10, lr=[0.1])
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sweep(**args)


def test_sweep_needs_a_grid_and_loop_needs_configurations():
    with pytest.raises(ValueError, match="grid must name at least one hyperparameter axis"):
        sweep(Adam, *ROSEN, 10)
    with pytest.raises(ValueError, match="configurations must be a non-empty list of dicts"):
        sweep_loop(Adam, *ROSEN, 10, [])
    with pytest.raises(TypeError, match=r"configurations\[0\] must be a dict, got 0.1"):
        sweep_loop(Adam, *ROSEN, 10, [0.1])
    result = sweep(Adam, *ROSEN, 5, lr=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"indices must be in \[0, 2\)"):
        grid_configurations(result, np.array([2]))


def test_adam_step_bound_is_attained_and_never_exceeded():
    # the first step is ±lr whatever the gradient; with beta1 = 0, tiny gradients
    # then a spike attain the bound sqrt((1 − β2^t)/(1 − β2)) at step t
    assert adam_step_bound(0.9, 0.999, 1) == pytest.approx(1.0)
    assert adam_step_bound(0.0, 0.99, 50) == pytest.approx(np.sqrt((1 - 0.99**50) / 0.01))
    opt, theta = Adam(lr=1.0, beta1=0.0, beta2=0.99, eps=0.0), np.zeros(1)
    for t in range(50):
        before = theta.copy()
        opt.step(theta, np.array([1e-30 if t < 49 else 1.0]))
    assert abs(theta - before)[0] == pytest.approx(adam_step_bound(0.0, 0.99, 50), rel=1e-9)
    assert 1.0 < adam_step_bound(0.9, 0.999, 500) < 100.0
    # a constant gradient after silence is the worst case the bound describes; an
    # Adam run with eps = 0 on random gradients never moves more than lr * bound
    rng = np.random.default_rng(0)
    opt = Adam(lr=1.0, beta1=0.9, beta2=0.999, eps=0.0)
    theta = np.zeros((64, 3))
    for t in range(200):
        scale = np.where(rng.random((64, 1)) < 0.1, 1e3, 1e-3)   # rare large gradients
        before = theta.copy()
        opt.step(theta, scale * rng.standard_normal((64, 3)))
        assert np.abs(theta - before).max() <= adam_step_bound(0.9, 0.999, t + 1) * (1 + 1e-12)
    # beta1² >= beta2: a bound for every finite run, growing without limit
    assert adam_step_bound(0.99, 0.9, 100) < adam_step_bound(0.99, 0.9, 1000) / 1e3
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1, got 0"):
        adam_step_bound(0.9, 0.999, 0)


def test_off_diagonal_share():
    assert S.off_diagonal_share(np.diag([1.0, 5.0])) == 0.0
    assert S.off_diagonal_share([[1.0, -1.0], [-1.0, 1.0]]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"square matrix, got shape \(2, 3\)"):
        S.off_diagonal_share(np.ones((2, 3)))
    with pytest.raises(ValueError, match="nonzero entry"):
        S.off_diagonal_share(np.zeros((2, 2)))


def test_rotated_least_squares_keeps_the_spectrum_and_moves_the_eigenvectors():
    ls = conditioned_least_squares(60, 5, scale_ratio=10.0, seed=3)
    rot = rotated_least_squares(ls, seed=1)
    R = random_rotation(5, seed=1)
    np.testing.assert_allclose(R @ R.T, np.eye(5), atol=1e-11)
    np.testing.assert_allclose(np.linalg.eigvalsh(rot.hessian), np.linalg.eigvalsh(ls.hessian),
                               rtol=1e-9)
    np.testing.assert_allclose(rot.optimum, R @ ls.optimum, atol=1e-9)
    assert rot.excess_loss(np.zeros(5)) == pytest.approx(ls.excess_loss(np.zeros(5)), rel=1e-9)
    # axis-aligned: the Hessian is nearly diagonal; rotated: it is not
    off = lambda h: np.abs(h - np.diag(np.diag(h))).sum() / np.abs(h).sum()   # noqa: E731
    assert off(rot.hessian) > 2 * off(ls.hessian)
    # SGD is rotation-equivariant: the same final loss on both problems
    a = sweep(SGD, ls, np.zeros(5), 100, lr=[1e-3, 1e-2]).loss
    b = sweep(SGD, rot, np.zeros(5), 100, lr=[1e-3, 1e-2]).loss
    np.testing.assert_allclose(a, b, rtol=1e-7)
    with pytest.raises(TypeError, match="problem must be a LeastSquares with one data set"):
        rotated_least_squares(Rosenbrock())
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got 0"):
        random_rotation(0)


def test_heatmap_marks_best_and_defaults_and_diverged_cells():
    result = SweepResult({"lr": np.array([1e-3, 1e-2, 1e-1]), "beta2": np.array([0.9, 0.999])},
                         np.array([[1.0, 0.5], [1e-3, 1e-6], [np.inf, 1e-2]]), steps=10, seconds=0.0)
    ax = plot_sweep_heatmap(result, mark={"lr": 1e-3, "beta2": 0.999})
    mesh = ax.collections[0].get_array()
    assert mesh.mask.sum() == 1                              # the diverged cell
    star, circle = ax.lines
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (1, 1)
    assert (circle.get_xdata()[0], circle.get_ydata()[0]) == (0, 1)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match=r"mark must be a dict with keys \['lr', 'beta2'\]"):
        plot_sweep_heatmap(result, mark={"lr": 1e-3})
    with pytest.raises(TypeError, match="result must be a SweepResult, got dict"):
        plot_sweep_heatmap({})
    plt.close("all")


def test_lr_slices_mark_every_good_value_holes_included():
    values = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0])
    adam = tune(values, [1.0, 0.01, 0.5, 0.05, 0.2], factor=10.0)   # good: 1e-2 and 1, a hole
    sgd = tune(values, [0.5, 0.01, np.inf, np.inf, np.inf])
    ax = plot_lr_slices({"Adam": adam, "Momentum": sgd})
    rugs = [line for line in ax.lines if line.get_label().startswith("_good")]
    assert len(rugs) == 2
    np.testing.assert_array_equal(rugs[0].get_xdata(), [1e-2, 1.0])   # the hole at 0.1 shows
    np.testing.assert_array_equal(rugs[1].get_xdata(), [1e-2])
    with pytest.raises(ValueError, match="tuned must be a non-empty dict"):
        plot_lr_slices({})
    with pytest.raises(TypeError, match=r"tuned\['Adam'\] must be a Tuned"):
        plot_lr_slices({"Adam": [1.0, 2.0]})
    plt.close("all")


def test_sensitivity_explorer_redraws_with_the_sliders():
    ex = explorers.explore("sensitivity")
    heatmap = ex.figure.axes[0]
    before = heatmap.collections[0].get_array().copy()
    assert "least squares" in heatmap.get_title() and ex.redraws == 1
    assert "500 steps" in ex.figure.axes[1].get_title()     # the chapter's figure
    ex.controls["beta1"].value = 0.0
    after = ex.figure.axes[0].collections[0].get_array()
    assert ex.redraws == 2 and "0" in ex.figure.axes[0].get_title()
    assert not np.ma.allequal(before, after)
    ex.controls["steps"].value = 100
    assert ex.redraws == 3 and "100 steps" in ex.figure.axes[1].get_title()
    ex.controls["problem"].value = "Rosenbrock"
    assert ex.redraws == 4 and "Rosenbrock" in ex.figure.axes[0].get_title()


def test_explorer_sweeps_are_kept_and_rerun_only_what_a_control_changes():
    adam, slices = S.explorer_sweeps("Rosenbrock", 50, beta1=0.9, eps=1e-8, momentum=0.5)
    again, _ = S.explorer_sweeps("Rosenbrock", 50, beta1=0.9, eps=1e-8, momentum=0.9)
    assert again is adam                        # only SGD's momentum changed
    assert not adam.loss.flags.writeable        # a kept result cannot be changed
    fresh = sweep(lambda **h: Adam(beta1=0.9, eps=1e-8, **h), *ROSEN, 50,
                  lr=S.EXPLORER_LRS, beta2=S.EXPLORER_BETAS2)
    np.testing.assert_array_equal(adam.loss, fresh.loss)
    assert set(slices) == {"Adam (β2 = 0.999)", "Momentum (μ = 0.5)"}
    with pytest.raises(ValueError, match="beta1 must be in"):
        S.explorer_sweeps("Rosenbrock", 50, beta1=1.0)
    with pytest.raises(TypeError, match="must be numbers"):
        S.explorer_sweeps("Rosenbrock", 50, eps=[1e-8, 1e-4])


def test_draw_sensitivity_rejects_an_unknown_problem():
    with pytest.raises(ValueError, match=r"problem must be one of \['Rosenbrock', 'least squares'\], got 'sphere'"):
        draw_sensitivity(plt.figure(), problem="sphere")
    plt.close("all")

