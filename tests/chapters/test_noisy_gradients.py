"""The noisy-gradients chapter: ``adamref.lab.noisy_gradients`` and
``adamref.plots.noisy_gradients``."""

import numpy as np
import pytest

from adamref.lab import noisy_gradients as nz
from adamref.problems.datasets import gradient_oracle, make_least_squares
from adamref.problems.registry import LINEAGE, make_optimizer
from adamref.problems.runs import grid
from adamref.problems.tuning import UnbracketedOptimum
from adamref.problems.washboard import Washboard
from adamref.plots.explorers import explore
from adamref.plots.noisy_gradients import (draw_noise, plot_basin_fractions,
                                           plot_best_vs_noise, plot_lr_sensitivity)


@pytest.mark.parametrize("name", LINEAGE)
def test_batched_run_equals_separate_runs(name):
    problem = make_least_squares(30, 3, seed=0)
    lrs = np.array([[1e-3], [1e-2], [1e-1]])
    batch = nz.run_batch(make_optimizer(name, lrs), problem.gradient, np.zeros((3, 3)), 50)
    for k in range(3):
        single = nz.run_batch(make_optimizer(name, float(lrs[k, 0])), problem.gradient,
                              np.zeros(3), 50)
        np.testing.assert_allclose(batch[k], single, rtol=1e-12, atol=1e-15)


def test_run_batch_marks_diverged_rows_and_records_history():
    problem = make_least_squares(30, 3, seed=0)
    lrs = np.array([[1e-2], [50.0]])                     # the second row diverges
    final, history = nz.run_batch(make_optimizer("SGD", lrs), problem.gradient,
                                  np.zeros((2, 3)), 200, loss=problem.loss, record_every=50)
    assert np.all(np.isfinite(final[0])) and np.all(np.isnan(final[1]))
    assert history.shape == (5, 2)
    assert history[0, 0] == pytest.approx(problem.loss(np.zeros(3)))
    median, _, _ = nz.summarize(problem.loss(final)[None, :], axis=0)
    assert np.isinf(median[1]) and np.isfinite(median[0])


def test_summarize_and_tune_rows():
    losses = np.array([[[1.0, 2.0, 3.0], [0.1, 0.2, np.nan]]])    # (1, 2 lrs, 3 seeds)
    median, low, high = nz.summarize(losses)
    np.testing.assert_allclose(median[0], [2.0, 0.2])
    assert low[0, 0] < median[0, 0] < high[0, 0] and np.isinf(high[0, 1])
    median, _, _ = nz.summarize(np.array([np.nan, np.inf, 1.0, 2.0]))
    assert np.isinf(median)                      # the middle lies among diverged runs
    (tuned,) = nz.tune_rows(np.array([[3.0, 1.0, 1.0, np.nan]]), [1e-3, 1e-2, 1e-1, 1.0])
    assert tuned.best == 1e-2 and tuned.best_score == 1.0 and tuned.best_index == 1  # tie: smaller
    assert not tuned.good[3]                                                      # NaN: diverged
    # a best learning rate at the grid's edge is not a result
    edge, inside = nz.tune_rows(np.array([[1.0, 2.0, 3.0], [2.0, 1e-25, 1e-22]]),
                                [1e-3, 1e-2, 1e-1], floor=1e-20)
    with pytest.raises(UnbracketedOptimum, match=r"the best value 0.001 is the lower edge"):
        edge.best
    assert inside.best == 1e-2                   # below the floor the smallest lr wins


def test_washboard_bias_correction_is_the_only_difference():
    wash = Washboard(curvature=0.5, height=1.0)
    # the first step of PyTorch's RMSprop is 10 lr whatever the gradient; corrected, lr
    for name, first in (("RMSprop", 10.0), (nz.CORRECTED_RMSPROP, 1.0)):
        (moved,) = nz.run_batch(nz.washboard_optimizer(name, 0.01), wash.gradient,
                                np.array([[0.3]]), 1)[0]
        assert abs(moved - 0.3) == pytest.approx(first * 0.01, rel=1e-6)
    starts = np.array([-0.2, 0.1, 2.1, 3.0])
    out = nz.washboard_fractions(wash, [1e-3, 1e-2], starts, 0.0, seed=0, steps=200)
    assert list(out) == list(nz.WASHBOARD_OPTIMIZERS)
    for frac in out.values():                    # small steps: every run stays in its basin
        np.testing.assert_array_equal(frac, [0.5, 0.5])
    with pytest.raises(ValueError, match=r"sigma must be >= 0.0, got -1.0"):
        nz.washboard_fractions(wash, [1e-3], starts, -1.0, seed=0)


def test_gradient_noise_rms_measures_the_additive_noise():
    problem = make_least_squares(50, 4, seed=0)
    measured = nz.gradient_noise_rms(gradient_oracle(problem, noise=0.7, seed=0),
                                     problem.optimum, draws=20000)
    assert measured == pytest.approx(0.7, rel=0.02)
    assert nz.gradient_noise_rms(problem.gradient, problem.optimum, draws=3) == 0.0


def test_adam_noise_floor_grows_more_slowly_than_sgds():
    """The chapter's claim, small: at a fixed lr, started at the optimum, SGD's
    mean excess loss grows ~sigma^2 and Adam's ~sigma."""
    problem = nz.least_squares_problem()
    sigmas = np.array([[1.0], [10.0]])
    start = np.tile(problem.optimum, (2, 1))
    floors = {}
    for name in ("SGD", "Adam"):
        _, history = nz.run_batch(make_optimizer(name, 1e-2),
                                  gradient_oracle(problem, noise=sigmas, seed=0), start, 1500,
                                  loss=problem.excess_loss, record_every=10)
        floors[name] = history[50:].mean(axis=0)
    assert 50 < floors["SGD"][1] / floors["SGD"][0] < 200
    assert 4 < floors["Adam"][1] / floors["Adam"][0] < 25


def test_final_excess_losses_is_one_batch_per_optimizer_over_the_grid():
    lrs = np.array([1e-2, 0.1, 1.0])
    losses = nz.final_excess_losses(lrs, sigmas=(0.0, 1.0), seeds=2, steps=100)
    assert list(losses) == list(LINEAGE)
    assert all(v.shape == (2, 3, 2) for v in losses.values())
    problem = nz.least_squares_problem()
    # without noise every seed is the same deterministic run, equal to a run of its own
    for name in ("SGD", "Adam"):
        alone = nz.run_batch(make_optimizer(name, 0.1), problem.gradient,
                             np.zeros(problem.n_features), 100)
        np.testing.assert_allclose(losses[name][0, 1], problem.excess_loss(alone), rtol=1e-12)
    assert np.all(np.isnan(losses["SGD"][:, 2]))          # α = 1 > 2/c_max: diverged
    assert np.all(losses["SGD"][1, 1] > 10 * losses["SGD"][0, 1])   # noise leaves a floor
    minibatch = nz.final_excess_losses(lrs[:2], batch_size=4, seeds=3, steps=30, seed=20)
    assert minibatch["Adam"].shape == (1, 2, 3) and len(np.unique(minibatch["Adam"][0, 0])) == 3


def test_tuned_summary_reads_every_row_at_its_best_rate():
    # (rows 2, lrs 3, seeds 3): row 0 is best at the middle rate, row 1 at the last
    losses = np.array([[[3.0, 4.0, 5.0], [1.0, 2.0, 9.0], [6.0, 7.0, 8.0]],
                       [[5.0, 5.0, 5.0], [1e-22, 1e-22, 1e-22], [1e-25, 1e-25, 1e-25]]])
    out = nz.tuned_summary(losses, [1e-3, 1e-2, 1e-1], floor=1e-20)
    np.testing.assert_allclose(out["lr"], [1e-2, 1e-2])   # row 1: ties below the floor
    np.testing.assert_allclose(out["median"], [2.0, 1e-22])
    assert out["low"][0] < 2.0 < out["high"][0]
    with pytest.raises(UnbracketedOptimum, match="upper edge"):
        nz.tuned_summary(losses[1:], [1e-3, 1e-2, 1e-1])
    with pytest.raises(ValueError, match=r"losses must have shape \(rows, len\(lrs\), seeds\)"):
        nz.tuned_summary(losses[0], [1e-3, 1e-2, 1e-1])


def test_noise_floors_of_sgd_and_of_adam_with_a_huge_epsilon():
    """SGD's floor is about α σ² d / 4; Adam with ε ≫ √v̂ is SGD with rate α/ε."""
    sigmas = np.array([1.0, 3.0])
    sgd = nz.noise_floors(sigmas, lr=1e-2, seeds=4, names=("SGD",), seed=3)["SGD"]
    np.testing.assert_allclose(sgd, 1e-2 * sigmas**2 * 10 / 4, rtol=0.15)
    adam = nz.noise_floors(sigmas, lr=10.0, seeds=4, names=("Adam",), eps=1000.0, seed=3)
    np.testing.assert_allclose(adam["Adam"], sgd, rtol=0.15)
    assert nz.log_slope(sigmas, sgd) == pytest.approx(2.0, abs=0.15)


def test_log_slope_of_a_power_law():
    x = np.array([0.3, 1.0, 3.0, 10.0])
    assert nz.log_slope(x, 5 * x**1.5) == pytest.approx(1.5, rel=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda: make_optimizer("Adagrad", 0.1), ValueError,
     r"name must be one of \['SGD', 'Momentum', .*\], got 'Adagrad'"),
    (lambda: make_optimizer("SGD", -1.0), ValueError, r"lr must be >= 0.0, got -1.0"),
    (lambda: grid(), ValueError, r"at least one hyperparameter axis"),
    (lambda: grid(lr=[]), ValueError, r"grid\['lr'\] must be a non-empty 1-D array"),
    (lambda: grid(lr=[["a"]]), ValueError, r"grid\['lr'\] must be a non-empty 1-D"),
    (lambda: nz.run_batch(make_optimizer("SGD", 0.1), lambda t: t, np.zeros(2), -1),
     ValueError, r"steps must be an integer >= 1, got -1"),
    (lambda: nz.run_batch(make_optimizer("SGD", 0.1), lambda t: t, np.zeros(2), 2,
                          record_every=1), ValueError, r"record_every=1 needs a loss function"),
    (lambda: nz.run_batch(make_optimizer("SGD", 0.1), lambda t: t, ["a"], 2), ValueError,
     r"could not convert"),
    (lambda: nz.summarize([]), ValueError, r"losses must not be empty"),
    (lambda: nz.tune_rows(np.zeros((2, 3)), [1.0, 2.0]), ValueError,
     r"medians must have shape \(rows, len\(lrs\) = 2\), got shape \(2, 3\)"),
    (lambda: nz.gradient_noise_rms(lambda t: t, np.zeros((2, 2))), ValueError,
     r"theta must be a 1-D parameter vector, got shape \(2, 2\)"),
    (lambda: nz.gradient_noise_rms(lambda t: t, np.zeros(2), draws=1), ValueError,
     r"draws must be an integer >= 2, got 1"),
    (lambda: nz.noise_floors([1.0], lr=0.1, steps=100, tail=55), ValueError,
     r"tail must be a multiple of record_every = 10 and at most steps = 100, got 55"),
    (lambda: nz.final_excess_losses([0.1], seeds=0), ValueError,
     r"seeds must be an integer >= 1, got 0"),
    (lambda: nz.log_slope([1.0, 2.0], [1.0, -1.0]), ValueError, r"x and y must be positive"),
    (lambda: nz.log_slope([1.0], [1.0]), ValueError, r"x and y must be 1-D of one length >= 2"),
])
def test_noise_functions_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_noise_explorer_redraws_for_noise_and_lr(labelled, lines_of):
    ex = explore("noisy_gradients")
    assert ex.values == {"noise": 1.0, "lr": 1e-2}          # the chapter's figure
    curve_ax, final_ax = ex.figure.axes
    assert labelled(curve_ax) and final_ax.get_title()
    assert len(curve_ax.lines) == 4
    before = lines_of(ex.figure)
    ex.controls["noise"].value = 10.0
    assert ex.redraws == 2
    after = lines_of(ex.figure)
    # more noise: a higher final excess loss for every optimizer (median over seeds)
    for b, a in zip(before[:4], after[:4]):
        assert a[-1] > b[-1]
    ex.controls["lr"].value = 1e-3
    assert "1.0e-03" in ex.figure.axes[0].get_title()


def test_noise_summary_plots(labelled):
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

