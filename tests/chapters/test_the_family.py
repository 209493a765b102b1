"""The chapter "The family" (Part V): ``adamref.lab.the_family`` and
``adamref.plots.the_family``.  The cheap experiments run at the chapter's
settings, so the claims the chapter makes of them are checked here."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import adamref
from adamref.lab import the_family as F
from adamref.plots import the_family as P
from adamref.problems import run
from adamref.problems.digits import synthetic_digits
from adamref.problems.mlp import MLP
from adamref.problems.training import batch_order, train
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


def test_stability_limit_is_where_the_frozen_recursion_stops_contracting():
    for beta1, w in [(0.9, 1.0), (0.9, 0.45), (0.9, 0.9), (0.5, 1.0), (0.8, 0.0)]:
        limit = F.stability_limit(beta1, w)

        def radius(h):
            a = np.array([[1 - (1 - w * beta1) * h, -w * beta1], [(1 - beta1) * h, beta1]])
            return np.max(np.abs(np.linalg.eigvals(a)))
        assert radius(0.999 * limit) < 1 < radius(1.001 * limit)
        # the matrix is NAdam's step with u = α/√v̂ frozen, on the state (θ, u·m)
        c, u = 4.0, 0.5 * limit / 4.0
        theta, m = 1.0, 0.3
        a = np.array([[1 - (1 - w * beta1) * u * c, -w * beta1], [(1 - beta1) * u * c, beta1]])
        expected = a @ [theta, u * m]
        m = beta1 * m + (1 - beta1) * c * theta                        # m ← β1 m + (1 − β1) g
        theta = theta - u * ((1 - w) * c * theta + w * m)              # θ ← θ − u[(1 − w)g + w m]
        np.testing.assert_allclose([theta, u * m], expected, rtol=1e-13)
    assert F.stability_limit(0.9, 1.0) == pytest.approx(38.0)        # Adam: 2(1 + β1)/(1 − β1)


def test_torch_nadam_and_its_first_momentum_stall_where_the_look_ahead_converges():
    curves = F.nadam_at(0.1)
    start = curves["Adam"][0]
    lowest = {label: np.nanmin(curve) / start for label, curve in curves.items()}
    assert lowest["NAdam"] > 1e-5 and lowest["NAdam, β1,t = β1/2 (ψ = 0)"] > 1e-5
    assert lowest["Adam"] < 1e-12 and lowest["NAdam, look-ahead only"] < 1e-12
    objective, theta0 = F.rotated_quadratic()
    one = F.curves_at({"a": ("Adam", {})}, objective, theta0, 0.1, 3000)["a"]
    np.testing.assert_array_equal(one, curves["Adam"])


def test_the_nadam_quadratic_has_a_portable_hessian():
    objective, theta0 = F.rotated_quadratic(100.0, 10, 0)
    np.testing.assert_array_equal(objective.hessian, objective.hessian.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(objective.hessian),
                               np.geomspace(1, 100, 10), rtol=1e-9)
    assert theta0.shape == (10,)


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


# -- sign descent across batch sizes, on the digits network ------------------------------------
@pytest.fixture(scope="module")
def small_sweep():
    data = synthetic_digits(n_train=24, n_val=8, n_test=8, seed=0)
    grids = {"Adam": (1e-3, 1.0), "Signum": (1e-3, 1.0)}
    optimizers = {k: F.BATCH_FAMILY[k] for k in grids}
    return data, F.network_batches((4, None), data=data, hidden=8, steps=12,
                                   optimizers=optimizers, grids=grids)


def test_network_batches_tunes_each_optimizer_on_one_network_per_learning_rate(small_sweep):
    data, sweep = small_sweep
    assert sweep.batch_sizes == (4, None) and sweep.n_samples == 24 and sweep.steps == 12
    tuned = sweep.tuned[4]["Adam"]
    np.testing.assert_array_equal(tuned.values, F.lr_grid(1e-3, 1.0, 3))
    # one row of the K-network run is the network trained alone at that rate
    network = MLP(hidden=8)
    for k in (0, 5):
        alone = train(network, data, adamref.Adam(tuned.values[k]), network.init(0), 12,
                      batch_size=4, batch_seeds=0, every=12)
        assert tuned.scores[k] == alone.train_loss[-1, 0]
    # the full batch is every image, every step
    full = train(network, data, adamref.Adam(tuned.values[3]), network.init(0), 12,
                 batch_size=24, batch_seeds=0, every=12)
    assert sweep.tuned[None]["Adam"].scores[3] == full.train_loss[-1, 0]
    np.testing.assert_array_equal(sweep.best_losses("Adam"),
                                  [sweep.tuned[b]["Adam"].best_score for b in (4, None)])


def test_losses_at_the_sweep_s_seed_are_the_sweep_s_best_scores(small_sweep):
    data, sweep = small_sweep
    best = sweep.best_lrs()                                # every best value bracketed
    optimizers = {k: F.BATCH_FAMILY[k] for k in ("Adam", "Signum")}
    same = F.losses_at(sweep, data=data, hidden=8, seed=0, optimizers=optimizers)
    assert set(same) == set(best)
    for (b, label), loss in same.items():
        assert loss == sweep.tuned[b][label].best_score
    other = F.losses_at(sweep, data=data, hidden=8, seed=1, optimizers=optimizers)
    assert other != same


def test_step_statistics_are_one_for_sign_steps_only():
    rng = np.random.default_rng(0)
    signs = np.sign(rng.standard_normal((5, 40)))
    signs[:, :7] = 0.0                                          # coordinates that never move
    assert F.step_statistics(0.3 * signs, 0.3) == pytest.approx((1.0, 1.0), rel=1e-14)
    # half the moving coordinates at a quarter of the step: mean 5/8, cosine (1 + ¼)/√(2(1 + 1/16))
    steps = 0.3 * signs
    steps[:, 7::2] *= 0.25
    moving = (signs != 0)
    quarter = moving & (np.arange(40) >= 7) & (np.arange(40) % 2 == 1)
    mean = (moving.sum() - 0.75 * quarter.sum()) / moving.sum()
    assert F.step_statistics(steps, 0.3)[0] == pytest.approx(mean, rel=1e-12)
    full, small = (moving & ~quarter).sum(axis=1), quarter.sum(axis=1)
    cosine = (full + 0.25 * small) / (np.sqrt(full + small) * np.sqrt(full + small / 16))
    assert F.step_statistics(steps, 0.3)[1] == pytest.approx(cosine.mean(), rel=1e-12)
    with pytest.raises(ValueError, match="some Δθ ≠ 0 at every step"):
        F.step_statistics(np.zeros((2, 3)), 0.1)


def test_sign_agreement_measures_adam_s_own_steps(small_sweep):
    data, sweep = small_sweep
    agreement = F.sign_agreement(sweep, data=data, hidden=8)
    assert agreement.batch_sizes == (4, None)
    assert agreement.lrs == tuple(sweep.tuned[b]["Adam"].best for b in (4, None))
    network = MLP(hidden=8)
    order = iter(batch_order(24, 4, 12, 0))

    def gradient(theta):
        rows = next(order)
        return network.loss_and_gradient(theta, data.X_train[rows], data.y_train[rows])[1]
    lr = agreement.lrs[0]
    path = run(adamref.Adam(lr), gradient, network.init(0), 12, record=np.copy).history
    expected = F.step_statistics(np.diff(path[:, 0], axis=0)[6:], lr)
    assert (agreement.step[0], agreement.cosine[0]) == expected
    assert np.all(agreement.step < 1) and np.all((0 < agreement.cosine) & (agreement.cosine < 1))


def test_batch_sizes_are_checked():
    data = synthetic_digits(n_train=24, n_val=8, n_test=8)
    with pytest.raises(ValueError, match="batch_sizes must be at most the 24 training images"):
        F.network_batches((4, 32), data=data, hidden=8, steps=2)
    with pytest.raises(ValueError, match="batch_sizes must hold at least one"):
        F.network_batches((), data=data, hidden=8, steps=2)


# -- the recorded fixtures -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["ref_torch_nadam", "ref_torch_nadam_betas_eps_decay",
                                  "ref_torch_adamax", "ref_optax_yogi", "ref_optax_adabelief",
                                  "ref_optax_lion_betas_decay"])
def test_replay_fixture_follows_the_framework(name):
    replay = F.replay_fixture(name)
    assert replay.steps == 50 and replay.function in F.RECORDED
    assert "at every one of 50 steps" in replay.agreement and "numpy" in replay.versions


def test_replay_fixture_fails_on_a_wrong_trajectory_or_a_missing_file(tmp_path):
    with np.load(F.FIXTURE_DIR / "ref_optax_yogi.npz") as fixture:
        data = {key: fixture[key] for key in fixture.files}
    data["trajectory"] = data["trajectory"].copy()
    data["trajectory"][30, 2] *= 1 + 1e-10                 # one entry, far above rounding
    np.savez(tmp_path / "tampered.npz", **data)
    with pytest.raises(AssertionError, match="tampered: θ differs from optax.yogi's at step 31"):
        F.replay_fixture("tampered", directory=tmp_path)
    with pytest.raises(FileNotFoundError, match="no fixture 'nothing'"):
        F.replay_fixture("nothing")


# -- the figures -------------------------------------------------------------------------
def test_the_figures_draw_the_lab_s_results(online, changes, labelled):
    objective, theta0 = F.rotated_quadratic()
    targets = F.steps_to_target({"Adam": ("Adam", {}), "β1 = 0.5": ("Adam", {"beta1": 0.5})},
                                objective, theta0, np.array([0.03, 0.1, 0.3, 1.0]), 300)
    axes = P.draw_steps_to_target(plt.figure(), targets)
    assert all(labelled(ax) for ax in axes)
    assert all(labelled(ax) for ax in P.draw_scale_changes(plt.figure(), changes, before=300))
    assert all(labelled(ax) for ax in P.draw_online(plt.figure(), online))
    axes = P.draw_yogi(plt.figure(), changes, online, before=300)
    assert axes.shape == (2, 2) and all(labelled(ax) for ax in axes.ravel())
    curves = {"Adam": targets.curves["Adam"]}
    axes = P.draw_nadam(plt.figure(), targets, F.nadam_momentum_schedule(100), curves, lr=0.1)
    assert all(labelled(ax) for ax in axes.ravel())
    assert axes[1, 1].get_title() == "At one learning rate, α = 0.1"
    objective, theta0 = F.axis_quadratic()
    tunings = {1.0: F.tune_on(F.ADAMAX_FAMILY, objective, theta0, np.array([1e-3, 1e-2, 1e-1]),
                              20, oracle=F.noisy_oracle(objective, 1.0))}
    axes = P.draw_comparisons(plt.figure(), tunings, name="σ")
    assert labelled(axes[0]) and axes[0].get_title() == "σ = 1.0"
    assert labelled(P.plot_spike_response(F.spike_response(after=50), spike_at=101))
    assert labelled(P.plot_momentum_schedule(F.nadam_momentum_schedule(100)))
    data = synthetic_digits(n_train=24, n_val=8, n_test=8)
    sweep = F.network_batches((4, None), data=data, hidden=8, steps=3,
                              optimizers={"Adam": ("Adam", {})}, grids={"Adam": (1e-3, 1.0)})
    ax = P.plot_batch_sweep(sweep)
    assert labelled(ax) and [t.get_text() for t in ax.get_xticklabels()] == ["4", "full (24)"]
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        P.draw_online("fig", online)


# -- the explorer --------------------------------------------------------------------------
def test_gradient_streams_and_the_steps_on_them():
    streams = F.gradient_streams()
    assert streams.shape == (F.STREAM_STEPS, len(F.STREAMS))
    switch = F.STREAM_SWITCH
    assert np.all(streams[:switch, :3] == 1.0)
    assert np.all(streams[switch:, 0] == 0.01) and np.all(streams[switch:, 1] == 100.0)
    assert streams[switch, 2] == 100.0 and np.all(np.delete(streams[:, 2], switch) == 1.0)
    # the Yogi column on the shrinking stream is scale_changes' run of the same stream
    yogi = F.stream_steps("Yogi")
    changes = F.scale_changes(before=switch, after=F.STREAM_STEPS - switch)
    np.testing.assert_array_equal(yogi[:, 0], changes["shrinks"]["Yogi"])
    np.testing.assert_allclose(F.stream_steps("Lion"), 1.0, rtol=1e-12)   # always α
    np.testing.assert_allclose(F.stream_steps("Signum"), 1.0, rtol=1e-12)
    assert F.stream_steps("Yogi") is yogi                                    # cached
    with pytest.raises(ValueError, match="label must be 'Adam' or one of"):
        F.stream_steps("Nesterov")


def test_draw_streams_and_batches(labelled):
    left, right = P.draw_streams(plt.figure(), "AdaBelief", "grows ×100")
    assert labelled(left) and labelled(right)
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["Adam", "AdaBelief"]
    with pytest.raises(ValueError, match="stream must be one of"):
        P.draw_streams(plt.figure(), "Yogi", "sideways")
    data = synthetic_digits(n_train=24, n_val=8, n_test=8)
    sweep = F.network_batches((4, None), data=data, hidden=8, steps=4,
                              optimizers={"Adam": ("Adam", {})}, grids={"Adam": (1e-3, 1.0)})
    agreement = F.SignAgreement((4, None), (0.1, 0.1), np.array([0.5, 0.2]), np.array([0.7, 0.6]))
    axes = P.draw_batches(plt.figure(), sweep, agreement)
    assert all(labelled(ax) for ax in axes)
    plt.close("all")
