"""The computations behind the bias-correction and noisy-gradients chapters."""

import numpy as np
import pytest

import adamref
from adamref.lab import bias_correction as bias
from adamref.lab import noisy_gradients as nz
from adamref.problems.datasets import gradient_oracle, make_least_squares, make_logistic
from adamref.problems.registry import LINEAGE, make_optimizer
from adamref.problems.runs import grid

# -- bias correction -------------------------------------------------------------------

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
    (lambda: bias.step_inflation(0.9, 0.999, 0), ValueError, r"t must hold integers >= 1, got 0"),
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


# -- noisy gradients -------------------------------------------------------------------

def test_grid_lays_out_the_product_as_columns():
    shape, cols = grid(a=[1, 2], b=[10.0, 20.0, 30.0])
    assert shape == (2, 3)
    assert cols["a"].shape == cols["b"].shape == (6, 1)
    np.testing.assert_array_equal(cols["a"][:, 0].reshape(shape)[:, 0], [1, 2])
    np.testing.assert_array_equal(cols["b"][:, 0].reshape(shape)[0], [10, 20, 30])


@pytest.mark.parametrize("name", LINEAGE)
def test_batched_run_equals_separate_runs(name):
    problem = make_least_squares(30, 3, seed=0)
    lrs = np.array([[1e-3], [1e-2], [1e-1]])
    batch = nz.run_batch(make_optimizer(name, lrs), problem.gradient, np.zeros((3, 3)), 50)
    for k in range(3):
        single = nz.run_batch(make_optimizer(name, float(lrs[k, 0])), problem.gradient,
                              np.zeros(3), 50)
        np.testing.assert_allclose(batch[k], single, rtol=1e-12, atol=1e-15)


def test_make_optimizer_builds_the_documented_optimizers():
    assert isinstance(make_optimizer("SGD", 0.1), adamref.SGD)
    assert make_optimizer("Momentum", 0.1)._hyper["momentum"] == 0.9
    assert isinstance(make_optimizer("RMSprop", 0.1), adamref.RMSprop)
    assert repr(make_optimizer("Adam", 0.1)) == repr(adamref.Adam(lr=0.1))


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


def test_summarize_and_best_per_row():
    losses = np.array([[[1.0, 2.0, 3.0], [0.1, 0.2, np.nan]]])    # (1, 2 lrs, 3 seeds)
    median, low, high = nz.summarize(losses)
    np.testing.assert_allclose(median[0], [2.0, 0.2])
    assert low[0, 0] < median[0, 0] < high[0, 0] and np.isinf(high[0, 1])
    median, _, _ = nz.summarize(np.array([np.nan, np.inf, 1.0, 2.0]))
    assert np.isinf(median)                      # the middle lies among diverged runs
    best, lr, index = nz.best_per_row(np.array([[3.0, 1.0, 1.0, np.nan]]), [1e-3, 1e-2, 1e-1, 1.0])
    assert best[0] == 1.0 and lr[0] == 1e-2 and index[0] == 1


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
    (lambda: nz.best_per_row(np.zeros((2, 3)), [1.0, 2.0]), ValueError,
     r"values must have a last axis of length len\(lrs\) = 2, got shape \(2, 3\)"),
    (lambda: nz.gradient_noise_rms(lambda t: t, np.zeros((2, 2))), ValueError,
     r"theta must be a 1-D parameter vector, got shape \(2, 2\)"),
    (lambda: nz.gradient_noise_rms(lambda t: t, np.zeros(2), draws=1), ValueError,
     r"draws must be an integer >= 2, got 1"),
])
def test_noise_functions_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
