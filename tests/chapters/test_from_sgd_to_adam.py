"""The chapter "From gradient descent to Adam": ``adamref.lab.from_sgd_to_adam`` and
``adamref.plots.from_sgd_to_adam``."""

import numpy as np
import pytest

import adamref
from adamref.lab import from_sgd_to_adam as L
from adamref.problems.objectives import Quadratic, Rosenbrock
from adamref.problems.runs import trajectory
import matplotlib.pyplot as plt

from adamref.plots.explorers import explore
from adamref.plots.from_sgd_to_adam import LOSS_FLOOR, draw_lineage, draw_paths


@pytest.mark.parametrize("beta2", [0.99, 0.999])
def test_adam_without_beta1_and_bias_correction_is_rmsprop(beta2):
    theta0 = np.array([-1.5, 2.0])
    f = Rosenbrock()
    adam = adamref.Adam(lr=0.01, beta1=0.0, beta2=beta2, bias_correction=False)
    rms = adamref.RMSprop(lr=0.01, alpha=beta2)
    step_a, step_b = L.lockstep_steps(adam, rms, f.gradient, theta0, 300)
    np.testing.assert_allclose(step_a, step_b, rtol=1e-12, atol=1e-15)
    corrected = adamref.Adam(lr=0.01, beta1=0.0, beta2=beta2)
    step_c, step_r = L.lockstep_steps(corrected, adamref.RMSprop(lr=0.01, alpha=beta2),
                                      f.gradient, theta0, 300)
    assert np.abs(step_c[0]).max() == pytest.approx(0.01)              # α·sign(g)
    assert np.abs(step_r[0]).max() == pytest.approx(0.01 / np.sqrt(1 - beta2))


def test_lockstep_rejects_bad_arguments():
    with pytest.raises(TypeError, match="optimizer_b must be an adamref optimizer"):
        L.lockstep_steps(adamref.SGD(), "sgd", Quadratic().gradient, np.zeros(2), 3)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        L.lockstep_steps(adamref.SGD(), adamref.SGD(), Quadratic().gradient, np.zeros(2), 0)


def test_heavy_ball_is_ema_momentum_with_a_rescaled_learning_rate():
    q, theta0 = Quadratic((1.0, 30.0)), np.array([2.0, 1.0])
    ema = L.ema_momentum_trajectory(q.gradient, theta0, 100, lr=0.05, beta1=0.9)
    heavy = trajectory(adamref.SGD(lr=0.05 * (1 - 0.9), momentum=0.9), q.gradient, theta0, 100)
    np.testing.assert_allclose(heavy, ema, rtol=1e-10, atol=1e-13)
    damped = trajectory(adamref.SGD(lr=0.05, momentum=0.9, dampening=0.9), q.gradient,
                        theta0, 100)
    assert np.abs(damped[1] - ema[1]).max() > 0.01        # PyTorch's first step b₁ = g₁
    assert not np.allclose(damped, ema)


def test_tune_lr_picks_the_best_of_the_grid_and_flags_divergence():
    grid = np.array([1e-3, 1e-2, 0.019, 0.03])
    res = L.tune_lr("quadratic", grid, steps=50)
    best, scores = res["SGD"].best, res["SGD"].scores
    assert scores[3] == np.inf                          # lr > 2/c_max diverges
    assert best == pytest.approx(0.019) and scores[2] == scores[np.isfinite(scores)].min()
    # the score at the best lr is the tail mean of that single run
    path = trajectory(adamref.SGD(lr=best), Quadratic((1.0, 100.0)).gradient,
                      np.array([-4.0, 1.5]), 50)
    tail = Quadratic((1.0, 100.0)).value(path[38:]).mean()
    assert scores[2] == pytest.approx(tail, rel=1e-12)


def test_tune_lr_repeats_average_independent_noise():
    grid = np.array([0.01, 0.03, 0.1])
    one = L.tune_lr("quadratic", grid, noise=2.0, seed=0, repeats=1, steps=40)["Adam"].scores
    many = L.tune_lr("quadratic", grid, noise=2.0, seed=0, repeats=8, steps=40)["Adam"].scores
    assert one.shape == many.shape == (3,) and not np.allclose(one, many)


def test_lineage_paths_shape_and_common_noise():
    lrs = {"SGD": 0.01, "Momentum": 0.001, "RMSprop": 0.01, "Adam": 0.1}
    paths = L.lineage_paths("quadratic", lrs, noise=1.0, seed=4, steps=20)
    assert list(paths) == list(L.LINEAGE)
    assert all(p.shape == (21, 2) for p in paths.values())
    again = L.lineage_paths("quadratic", lrs, noise=1.0, seed=4, steps=20)
    np.testing.assert_array_equal(paths["Adam"], again["Adam"])


def test_tune_lr_scores_diverged_learning_rates_inf():
    best = L.tune_lr("quadratic", np.array([1e-3, 1e-2, 0.5]), steps=60)
    for label in ("SGD", "Momentum"):            # 0.5 > 2/100: these two diverge
        assert np.isinf(best[label].scores[2]) and np.isfinite(best[label].scores[:2]).all()


def test_tune_lr_refuses_an_edge_and_ties_solved_runs_at_the_smallest_rate():
    from adamref.problems import UnbracketedOptimum
    edge = L.tune_lr("quadratic", np.array([1e-4, 2e-4, 4e-4]), steps=30)["SGD"]
    with pytest.raises(UnbracketedOptimum):
        edge.best                                 # the largest rate is best: widen
    grid = np.geomspace(1e-3, 100, 11)
    rms = L.tune_lr("quadratic", grid, floor=1e-20)["RMSprop"]
    solved = np.flatnonzero(rms.scores <= 1e-20)
    assert solved.size >= 2 and rms.best_index == solved[0]


def test_step_measurements():
    straight = np.stack([np.linspace(0, 1, 11), np.linspace(0, 2, 11)], axis=1)
    assert L.path_efficiency(straight, 10) == pytest.approx(1.0)
    assert L.coordinate_step_ratio(straight, 10) == pytest.approx(2.0)
    zigzag = np.array([[0, 0], [1, 1], [2, 0], [3, 1], [4, 0]], dtype=float)
    assert L.path_efficiency(zigzag, 4) == pytest.approx(4 / (4 * np.sqrt(2)))


@pytest.mark.parametrize("call, error, message", [
    (lambda: L.lineage_problem("bowl"), ValueError, "name must be one of"),
    (lambda: L.lineage_optimizers({"SGD": 0.1}), ValueError, "lrs must be a dict with the keys"),
    (lambda: L.lineage_optimizers(dict.fromkeys(L.LINEAGE, -1.0)), ValueError,
     r"lrs\['SGD'\] must be >= 0.0, got -1.0"),
    (lambda: L.tune_lr("quadratic", [0.1, 0.2]), ValueError,
     "lr_grid must be a 1-D array of at least 3"),
    (lambda: L.tune_lr("quadratic", [0.1, 0.2, 0.3], tail=0.0), ValueError, "tail must be in"),
    (lambda: L.tune_lr("quadratic", [0.1, 0.2, 0.3], repeats=0), ValueError,
     "repeats must be an integer >= 1, got 0"),
    (lambda: L.lineage_paths("quadratic", dict.fromkeys(L.LINEAGE, 0.1), noise=-1.0),
     ValueError, "noise must be >= 0"),
    (lambda: L.lineage_paths("quadratic", dict.fromkeys(L.LINEAGE, 0.1), noise=1.0, seed=0.5),
     TypeError, "seed must be an integer"),
    (lambda: L.ema_momentum_trajectory(3.0, np.zeros(2), 5, lr=0.1, beta1=0.5), TypeError,
     "gradient must be callable"),
    (lambda: L.path_efficiency(np.zeros((5, 3)), 2), ValueError, r"path must have shape"),
    (lambda: L.path_efficiency(np.zeros((5, 2)), 5), ValueError, r"steps must be in \[1, 4\], got 5"),
    (lambda: L.coordinate_step_ratio(np.zeros((5, 2)), 1.5), TypeError, "steps must be an integer"),
    (lambda: L.ema_momentum_trajectory(Quadratic().gradient, np.zeros(2), 5, lr=0.1, beta1=1.0),
     ValueError, "beta1 must be in"),
    (lambda: L.ema_momentum_trajectory(Quadratic().gradient, np.zeros(2), -1, lr=0.1, beta1=0.5),
     ValueError, "steps must be an integer >= 0, got -1"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


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


def test_explorer_paths_are_the_lineage_paths_of_the_same_settings():
    for problem, noise in (("quadratic", 0.0), ("quadratic", 1.0)):
        for lr, sgd_lr, beta1 in ((0.1, 0.01, 0.9), (0.5, 1e-3, 0.0), (2e-3, 0.1, 0.99)):
            fast = L.explorer_paths(problem, lr=lr, sgd_lr=sgd_lr, beta1=beta1, beta2=0.99,
                                      noise=noise, seed=3)
            alone = L.lineage_paths(problem, L.explorer_lrs(lr, sgd_lr, beta1), beta1=beta1,
                                      beta2=0.99, noise=noise, seed=3)
            for label in L.LINEAGE:      # the same noise draws, the same rounding
                np.testing.assert_array_equal(fast[label], alone[label])
    # a value no slider offers runs alone, with the same result
    off_grid = L.explorer_paths("quadratic", lr=0.3, sgd_lr=0.01, beta1=0.9)
    np.testing.assert_array_equal(off_grid["Adam"], L.lineage_paths(
        "quadratic", L.explorer_lrs(0.3, 0.01, 0.9))["Adam"])
    assert L.explorer_lrs(0.1, 0.01, 0.9)["Momentum"] == pytest.approx(1e-3)
    with pytest.raises(ValueError, match=r"name must be one of \['quadratic', 'rosenbrock'\]"):
        L.explorer_paths("bowl", lr=0.1, sgd_lr=0.01, beta1=0.9)
    with pytest.raises(ValueError, match=r"noise must be >= 0.0, got -1.0"):
        L.explorer_paths("quadratic", lr=0.1, sgd_lr=0.01, beta1=0.9, noise=-1.0)


def test_contour_grid_is_the_objective_on_a_cached_read_only_grid():
    setup = L.lineage_problem("quadratic")
    x, y, values = L.contour_grid(setup.objective, ((-1.0, 1.0), (0.0, 2.0)), 5)
    assert x.shape == y.shape == values.shape == (5, 5)
    assert values[2, 2] == setup.objective.value(np.array([0.0, 1.0]))
    assert L.contour_grid(setup.objective, ((-1.0, 1.0), (0.0, 2.0)), 5)[2] is values
    with pytest.raises(ValueError, match="read-only"):
        values[0, 0] = 0.0


def test_lineage_explorer_redraws_with_the_new_settings():
    ex = explore("from_sgd_to_adam")
    adam = lambda: ex.figure.axes[0].lines[3].get_xydata().copy()  # noqa: E731
    first = adam()
    ex.controls["lr"].value = 0.01
    assert ex.redraws == 2 and not np.allclose(adam(), first)
    second = adam()
    ex.controls["noise"].value = 1.0
    assert ex.redraws == 3 and not np.allclose(adam(), second)
    ex.controls["problem"].value = "rosenbrock"
    assert "Rosenbrock" in ex.figure.axes[0].get_title()
    ex.controls["beta1"].value = 0.0
    assert ex.values["beta1"] == 0.0 and ex.redraws == 5
    labels = [line.get_label() for line in ex.figure.axes[1].lines]
    assert labels == ["SGD", "Momentum", "RMSprop", "Adam"]


def test_draw_paths_notes_a_path_that_leaves_the_frame_and_caps_the_loss_axis():
    import matplotlib.pyplot as plt
    from adamref.plots.from_sgd_to_adam import draw_paths
    q = Quadratic((1.0, 100.0))
    inside = np.array([[-4.0, 1.5], [-2.0, 0.5], [-1.0, 0.1]])
    outside = np.array([[-4.0, 1.5], [-40.0, 30.0], [-1.0, 0.1]])
    fig = plt.figure()
    left, right = draw_paths(fig, q, {"A": inside, "B": outside},
                             bounds=((-5.0, 1.5), (-2.0, 2.0)))
    notes = [t.get_text() for t in left.texts]
    assert any("B leaves the frame" in n and "40" in n for n in notes)
    assert not any("A leaves" in n for n in notes)
    assert right.get_ylim()[1] <= 10 * q.excess_loss(inside[0]) * (1 + 1e-12)
    plt.close(fig)
