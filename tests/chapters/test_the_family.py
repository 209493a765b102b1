"""The chapter "The family" (Part V): ``adamref.lab.the_family`` and
``adamref.plots.the_family``.  The cheap experiments run at the chapter's
settings, so the claims the chapter makes of them are checked here."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import adamref
from adamref.lab import the_family as F
from adamref.plots import the_family as P
from adamref.problems import make_least_squares, make_logistic, make_optimizer, run
from adamref.problems.tuning import Tuned
from adamref.roundoff import round_significant


@pytest.fixture(scope="module")
def online():
    return F.online_counterexample()


@pytest.fixture(scope="module")
def changes():
    return F.scale_changes()


# -- the common machinery --------------------------------------------------------------
def test_lr_grid_is_rounded_and_validated():
    grid = F.lr_grid(1e-3, 1.0, 4)
    assert grid.size == 13 and grid[0] == 1e-3 and grid[-1] == 1.0
    np.testing.assert_array_equal(grid, round_significant(np.geomspace(1e-3, 1.0, 13), 12))
    with pytest.raises(ValueError, match="high must be > low"):
        F.lr_grid(1.0, 0.1)
    with pytest.raises(ValueError, match="lrs must be an increasing 1-D grid"):
        F.tune_on(F.BELIEF_FAMILY, *F.axis_quadratic(), [0.1, 0.01, 0.2], 10)


def test_tune_on_scores_are_the_tail_means_of_each_run():
    objective, theta0 = F.axis_quadratic(100.0, 10, 0)
    lrs = np.array([1e-3, 1e-2, 1e-1])
    result = F.tune_on({"Adam": ("Adam", {})}, objective, theta0, lrs, 40, tail=0.25,
                       every=5)["Adam"]
    single = run(adamref.Adam(lr=1e-2), objective.gradient, theta0, 40,
                 record=objective.excess_loss)
    np.testing.assert_allclose(result.tuned.scores[1], single.history[35::5].mean(), rtol=1e-13)
    np.testing.assert_allclose(result.losses[:, 1, 0], single.history[::5], rtol=1e-13)
    assert result.steps.tolist() == list(range(0, 41, 5))
    path = single.history                                  # the loss, not θ: recompute θ
    theta = run(adamref.Adam(lr=1e-2), objective.gradient, theta0, 40, record=np.copy).history
    moved = np.abs(np.diff(theta[30:], axis=0)).mean()
    assert result.step_per_lr[1] == pytest.approx(moved / 1e-2, rel=1e-12)
    assert path.shape == (41,)


def test_sign_methods_move_exactly_lr_per_step_in_tune_on():
    objective, theta0 = F.axis_quadratic(100.0, 10, 0)
    result = F.tune_on({"Lion": ("Lion", {"weight_decay": 0.0}), "SignSGD": ("SignSGD", {})},
                       objective, theta0, np.array([1e-3, 1e-2, 1e-1]), 20,
                       oracle=F.noisy_oracle(objective, 1.0), repeats=2)
    for tuning in result.values():
        np.testing.assert_allclose(tuning.step_per_lr, 1.0, rtol=1e-12)


def test_tune_on_gives_every_optimizer_the_same_noise():
    objective, theta0 = F.axis_quadratic(100.0, 10, 0)
    twins = {"a": ("Adam", {}), "b": ("Adam", {})}
    result = F.tune_on(twins, objective, theta0, np.array([1e-3, 1e-2, 1e-1]), 30,
                       oracle=F.noisy_oracle(objective, 1.0, spike_probability=0.1,
                                             spike_size=10.0), repeats=3)
    np.testing.assert_array_equal(result["a"].losses, result["b"].losses)
    assert not np.array_equal(result["a"].losses[-1, :, 0], result["a"].losses[-1, :, 1])


def test_entries_are_checked():
    with pytest.raises(TypeError, match=r"optimizers\['x'\] must be \(registry name, options\)"):
        F.tune_on({"x": "Adam"}, *F.axis_quadratic(), np.array([0.1, 0.2, 0.3]), 10)


# -- NAdam -------------------------------------------------------------------------------
def test_look_ahead_only_has_beta1_as_momentum_at_every_step():
    mu, mu_next, product = adamref.NAdam(momentum_decay=F.LOOK_AHEAD_ONLY).momentum_schedule(
        np.arange(1, 50))
    assert np.all(mu == 0.9) and np.all(mu_next == 0.9)
    np.testing.assert_allclose(product, 0.9 ** np.arange(1, 50), rtol=1e-14)


def test_torch_nadam_s_momentum_starts_at_half_of_beta1_and_rises_slowly():
    mu = F.nadam_momentum_schedule(20000)
    assert mu[0] == pytest.approx(0.45007347, abs=1e-8)
    assert np.all(np.diff(mu) > 0) and mu[-1] < 0.9
    assert mu[999] < 0.52 and mu[9999] > 0.8


def test_steps_to_target_counts_the_first_step_at_the_target():
    objective, theta0 = F.rotated_quadratic(100.0, 10, 0)
    lrs = np.array([0.03, 0.1, 0.3])
    result = F.steps_to_target({"Adam": ("Adam", {})}, objective, theta0, lrs, 400)
    history = run(adamref.Adam(lr=0.1), objective.gradient, theta0, 400,
                  record=objective.excess_loss).history
    expected = np.flatnonzero(history <= 1e-8 * objective.excess_loss(theta0))[0]
    assert result.tuned["Adam"].scores[1] == expected
    assert result.curves["Adam"].shape == (401,)


def test_the_look_ahead_reaches_the_target_first_on_the_chapter_s_quadratic():
    result = F.nadam_look_ahead()
    steps = {label: tuned.best_score for label, tuned in result.tuned.items()}
    assert steps["NAdam, look-ahead only"] < 0.75 * steps["Adam"]
    assert steps["NAdam"] > 5 * steps["Adam"]            # torch's schedule: μ_t ≈ β1/2
    for tuned in result.tuned.values():
        tuned.best                                        # bracketed: raises otherwise


# -- Yogi --------------------------------------------------------------------------------
def test_yogi_keeps_its_step_small_after_the_gradient_shrinks(changes):
    shrinks, grows = changes["shrinks"], changes["grows"]
    assert shrinks["Adam"][-1] > 10 * shrinks["Yogi"][-1]
    # when the gradient grows, both raise v by about (1 − β2)·g² per step
    np.testing.assert_allclose(grows["Yogi"][300:310], grows["Adam"][300:310], rtol=0.01)


def test_yogi_converges_on_reddi_s_counterexample_where_adam_does_not(online):
    big = online.lrs >= 0.1
    assert np.all(online.theta["Adam"][-1, big] == 1.0)
    assert np.all(online.theta["Yogi"][-1, big] < -0.95)
    assert np.all(online.regret["Yogi"][-1] < online.regret["Adam"][-1])


def test_projected_run_equals_the_optimizer_followed_by_clipping():
    grads = np.array([3.0, -1.0, -1.0] * 20)
    path = F.projected_run(adamref.Yogi(np.array([[0.5], [1.0]]), 0.0, 0.1), grads, 2)
    x, opt = np.zeros(1), adamref.Yogi(1.0, 0.0, 0.1)
    for g, expected in zip(grads, path[1:, 1]):
        opt.step(x, np.array([g]))
        np.clip(x, -1, 1, out=x)
        assert x[0] == expected


# -- AdaBelief, AdaMax, Lion ---------------------------------------------------------------
def test_adabelief_beats_adam_at_low_noise_with_a_smaller_learning_rate():
    result = F.belief_vs_noise()
    low, high = result[0.01], result[1.0]
    assert low["AdaBelief"].tuned.best < low["Adam"].tuned.best
    assert low["AdaBelief"].tuned.best_score < 0.5 * low["Adam"].tuned.best_score
    assert high["AdaBelief"].tuned.best_score < high["Adam"].tuned.best_score


def test_adamax_moves_at_most_alpha_at_a_spike_and_then_freezes():
    response = F.spike_response(100.0, before=100, after=1000)
    assert response["AdaMax"][100] <= 1.0 < response["Adam"][100]
    assert response["AdaMax"][1100] < 0.1 * response["Adam"][1100]


def test_adamax_is_less_hurt_by_rare_spikes():
    result = F.rare_spikes()
    quiet, spiky = result[(0.0, 0.0)], result[(1e-3, 100.0)]
    ratio_quiet = quiet["Adam"].tuned.best_score / quiet["AdaMax"].tuned.best_score
    ratio_spiky = spiky["Adam"].tuned.best_score / spiky["AdaMax"].tuned.best_score
    assert ratio_spiky > 2 * ratio_quiet
    assert spiky["AdaMax"].tuned.best > spiky["Adam"].tuned.best


def test_lion_needs_a_several_times_smaller_learning_rate():
    result = F.lion_learning_rates(batch_sizes=(4,))
    for batch_size, tunings in result.items():
        ratio = tunings["Adam"].tuned.best / tunings["Lion"].tuned.best
        assert 3 <= ratio <= 11, (batch_size, ratio)
        assert tunings["Lion"].best_step_per_lr == pytest.approx(1.0, rel=1e-12)
        assert tunings["Adam"].best_step_per_lr < 0.3


# -- sign descent across batch sizes ---------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: make_least_squares(50, 5, seed=2),
                                  lambda: make_logistic(50, 5, seed=2)])
def test_dataset_model_gives_the_problem_s_loss_and_gradient(make):
    problem = make()
    model = F.dataset_model(problem)
    theta = np.linspace(-1, 1, 5)
    loss, grad = model.loss_and_gradient(theta, np.arange(50))
    assert loss == pytest.approx(float(problem.loss(theta)), rel=1e-13)
    np.testing.assert_allclose(grad, problem.gradient(theta), rtol=1e-12, atol=1e-15)
    rows = np.array([3, 3, 7])
    np.testing.assert_array_equal(model.loss_and_gradient(theta, rows)[1],
                                  problem.gradient(theta, rows))
    assert model.initial_params().shape == (5,) and model.n_samples == 50
    with pytest.raises(TypeError, match="LeastSquares or LogisticRegression"):
        F.dataset_model(adamref.problems.Quadratic())


def test_train_loss_is_seeded_and_reports_divergence_as_inf():
    model = F.dataset_model(make_least_squares(60, 4, seed=1))
    a = F.train_loss(model, adamref.Adam(lr=0.05), 8, 50, seed=3)
    b = F.train_loss(model, adamref.Adam(lr=0.05), 8, 50, seed=3)
    assert a == b and np.isfinite(a)
    assert a != F.train_loss(model, adamref.Adam(lr=0.05), 8, 50, seed=4)
    assert F.train_loss(model, make_optimizer("SGD", 100.0), None, 50) == np.inf


def test_sign_descent_batches_tunes_every_optimizer_at_every_batch_size():
    model = F.dataset_model(make_logistic(80, 4, seed=0))
    sweep = F.sign_descent_batches(model, (4, None), lrs=np.array([1e-3, 1e-2, 1e-1, 1.0]),
                                   steps=40)
    assert set(sweep.tuned) == {4, None}
    for tunings in sweep.tuned.values():
        assert set(tunings) == set(F.SIGN_FAMILY)
        assert all(isinstance(t, Tuned) for t in tunings.values())
    assert sweep.best_losses("Adam").shape == (2,)


# -- the figures -------------------------------------------------------------------------
def test_the_figures_draw_the_lab_s_results(online, changes, labelled):
    objective, theta0 = F.rotated_quadratic()
    targets = F.steps_to_target({"Adam": ("Adam", {}), "β1 = 0.5": ("Adam", {"beta1": 0.5})},
                                objective, theta0, np.array([0.03, 0.1, 0.3, 1.0]), 300)
    axes = P.draw_steps_to_target(plt.figure(), targets)
    assert all(labelled(ax) for ax in axes)
    assert all(labelled(ax) for ax in P.draw_scale_changes(plt.figure(), changes, before=300))
    assert all(labelled(ax) for ax in P.draw_online(plt.figure(), online))
    objective, theta0 = F.axis_quadratic()
    tunings = {1.0: F.tune_on(F.ADAMAX_FAMILY, objective, theta0, np.array([1e-3, 1e-2, 1e-1]),
                              20, oracle=F.noisy_oracle(objective, 1.0))}
    axes = P.draw_comparisons(plt.figure(), tunings, name="σ")
    assert labelled(axes[0]) and axes[0].get_title() == "σ = 1.0"
    assert labelled(P.plot_spike_response(F.spike_response(after=50), spike_at=101))
    assert labelled(P.plot_momentum_schedule(F.nadam_momentum_schedule(100)))
    sweep = F.sign_descent_batches(F.dataset_model(make_logistic(40, 3, seed=0)), (4, None),
                                   lrs=np.array([1e-2, 1e-1, 1.0]), steps=10)
    ax = P.plot_batch_sweep(sweep, n_samples=40)
    assert labelled(ax) and [t.get_text() for t in ax.get_xticklabels()] == ["4", "full"]
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        P.draw_online("fig", online)
