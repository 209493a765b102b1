"""The chapter *Adam on a network*: ``adamref.lab.adam_on_a_network`` and
``adamref.plots.adam_on_a_network`` (on small random data: no scikit-learn)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab import adam_on_a_network as lab
from adamref.lab.per_parameter_steps import step_supremum
from adamref.optim import SGD, Adam
from adamref.plots import adam_on_a_network as plots
from adamref.plots.adam_on_a_network import (draw_inside_adam, plot_below_eps,
                                             plot_step_histograms, plot_test_error_vs_lr,
                                             plot_training_curves)
from adamref.problems.digits import synthetic_digits
from adamref.problems.mlp import MLP
from adamref.problems.training import train
from adamref.problems.tuning import UnbracketedOptimum


SMALL = dict(steps=24, batch_size=8, hidden=6, seeds=(0, 1), warmup_steps=4, every=8)
GRIDS = {"Momentum": lab.one_three_grid(1e-3, 30.0), "Adam + L2": lab.one_three_grid(1e-4, 30.0),
         "AdamW": lab.one_three_grid(1e-4, 30.0)}


@pytest.fixture(scope="module")
def sweeps():
    return lab.all_sweeps(GRIDS, data=synthetic_digits(), **SMALL)


def test_one_three_grid():
    np.testing.assert_array_equal(lab.one_three_grid(1e-3, 0.3),
                                  [0.001, 0.003, 0.01, 0.03, 0.1, 0.3])
    np.testing.assert_array_equal(lab.one_three_grid(3e-4, 10.0)[[0, -1]], [3e-4, 10.0])
    with pytest.raises(ValueError, match="of the form 1e"):
        lab.one_three_grid(2e-3, 1.0)


def test_the_chapter_grids_reach_the_default_and_the_variation_is_a_subset():
    assert 1e-3 in lab.LR_GRIDS["Adam + L2"] and 1e-3 in lab.LR_GRIDS["AdamW"]
    for name, grid in lab.VARIATION_GRIDS.items():
        assert set(grid.tolist()) <= set(lab.LR_GRIDS[name].tolist())
    assert not set(lab.VARIATION_SEEDS) & set(lab.SEEDS)


def test_make_optimizer_builds_what_the_chapter_says():
    opt = lab.make_optimizer("AdamW", 0.1, "warmup+cosine", steps=100, warmup_steps=10)
    assert isinstance(opt, Adam) and opt.decoupled_weight_decay and opt.weight_decay == 1e-2
    assert opt.lr(5) == pytest.approx(0.05) and opt.lr(100) == pytest.approx(0.0, abs=1e-15)
    l2 = lab.make_optimizer("Adam + L2", 0.1)
    assert not l2.decoupled_weight_decay and l2.weight_decay == 1e-4 and l2.lr == 0.1
    sgd = lab.make_optimizer("Momentum", 0.1, weight_decay=0.5)
    assert isinstance(sgd, SGD) and sgd.hyperparameters["momentum"] == 0.9
    assert sgd.hyperparameters["weight_decay"] == 0.5
    with pytest.raises(ValueError, match="name must be one of"):
        lab.make_optimizer("Lion", 0.1)
    with pytest.raises(ValueError, match="schedule must be one of"):
        lab.make_optimizer("AdamW", 0.1, "cyclic")
    with pytest.raises(ValueError, match="warmup_steps must be < steps"):
        lab.make_optimizer("AdamW", 0.1, "warmup+cosine", steps=10, warmup_steps=10)


def test_a_sweep_is_its_single_runs_side_by_side(sweeps):
    sweep = sweeps[("Adam + L2", "warmup+cosine")]
    lrs = sweep.lrs
    assert sweep.val_error.shape == sweep.batch_loss.shape == (4, lrs.size, 2)
    assert sweep.steps.tolist() == [0, 8, 16, 24] and sweep.dead_units.shape == (lrs.size, 2)
    # the full training loss and the test error only at the end (FINAL_ONLY)
    assert np.isnan(sweep.train_loss[:-1]).all() and np.isnan(sweep.test_error[:-1]).all()
    assert not sweep.val_error.flags.writeable                 # shared by the explorer
    data, net = synthetic_digits(), MLP(6)
    for i in (0, 4):
        for s, seed in enumerate(sweep.seeds):
            alone = train(net, data, lab.make_optimizer("Adam + L2", float(lrs[i]), "warmup+cosine",
                                                        steps=24, warmup_steps=4),
                          net.init([seed]), 24, batch_size=8, batch_seeds=np.array([seed]), every=8)
            np.testing.assert_array_equal(alone.val_error[:, 0], sweep.val_error[:, i, s])
            np.testing.assert_array_equal(alone.batch_loss[:, 0], sweep.batch_loss[:, i, s])
            np.testing.assert_array_equal(alone.train_loss[-1, 0], sweep.train_loss[-1, i, s])
            np.testing.assert_array_equal(alone.test_error[-1, 0], sweep.test_error[-1, i, s])
            np.testing.assert_array_equal(lab.dead_units(net, alone.theta, data.X_val)[0],
                                          sweep.dead_units[i, s])


def test_dead_units_are_those_that_output_zero_for_every_row():
    net = MLP(hidden=3)
    theta = np.zeros((2, net.size))
    views = net.layers(theta)
    views["b1"][0] = [1.0, -1.0, -1.0]               # network 0: units 1 and 2 never fire
    views["W1"][1, 0, :] = [1.0, 1.0, -1.0]           # network 1: unit 2 never fires on x ≥ 0
    X = np.abs(np.random.default_rng(0).standard_normal((5, 64)))
    np.testing.assert_allclose(lab.dead_units(net, theta, X), [2 / 3, 1 / 3])
    theta[1, 0] = np.nan
    assert np.isnan(lab.dead_units(net, theta, X)[1])


def test_scores_tuning_summary_and_seed_by_seed(sweeps):
    sweep = sweeps[("Momentum", "constant")]
    np.testing.assert_array_equal(sweep.scores, sweep.val_error[-1].mean(axis=1))
    blown = lab.lr_sweep("Momentum", lrs=[1e-2, 1e8], data=synthetic_digits(), **SMALL)
    assert np.isnan(blown.scores[1]) and blown.diverged[1].all() and not blown.diverged[0].any()
    tuned = sweep.tuned()
    assert tuned.good[tuned.best_index] and np.isfinite(tuned.best_score)
    pairs = lab.seed_by_seed(sweeps, "AdamW")
    assert set(pairs) == set(lab.SCHEDULES)
    for schedule, p in pairs.items():
        a = sweeps[("AdamW", schedule)]
        b = sweeps[("Momentum", schedule)]
        mine = a.final_test_error(a.tuned().best_index)
        theirs = b.final_test_error(b.tuned().best_index)
        assert p == {"wins": int(np.sum(mine < theirs)), "ties": int(np.sum(mine == theirs)),
                     "seeds": 2}
    other = {("Momentum", "constant"): lab.lr_sweep("Momentum", lrs=GRIDS["Momentum"],
                                                    data=synthetic_digits(),
                                                    **{**SMALL, "seeds": (0, 3)}),
             ("AdamW", "constant"): sweeps[("AdamW", "constant")]}
    with pytest.raises(ValueError, match="must use the same seeds"):
        lab.seed_by_seed(other, "AdamW")
    try:
        rows = lab.summary(sweeps)
    except UnbracketedOptimum:                   # a tiny random problem need not bracket
        return
    assert [(r["optimizer"], r["schedule"]) for r in rows] == list(sweeps)
    for row in rows:
        assert row["test_low"] <= row["test_error"] <= row["test_high"]
        assert 0 <= row["dead_units"] <= 1 and row["decades"]


def test_variation_sweeps_take_their_settings_and_accept_overrides(monkeypatch):
    seen = {}

    def fake_all_sweeps(**options):
        seen.update(options)
        return {}

    monkeypatch.setattr(lab, "load_digits", lambda seed=0: f"split {seed}")
    monkeypatch.setattr(lab, "all_sweeps", fake_all_sweeps)
    lab.variation_sweeps(every=5)
    assert seen == {"data": f"split {lab.VARIATION_SPLIT}", "seeds": lab.VARIATION_SEEDS,
                    "grids": lab.VARIATION_GRIDS, "every": 5}


def test_decay_factor_is_the_product_of_the_decoupled_shrinks():
    assert lab.decay_factor(0.1, weight_decay=0.5, steps=10) == pytest.approx(0.95 ** 10)
    opt = lab.make_optimizer("AdamW", 0.2, "warmup+cosine", steps=20, warmup_steps=5)
    expected = np.prod([1 - opt.lr(t) * 0.01 for t in range(1, 21)])
    assert lab.decay_factor(0.2, "warmup+cosine", steps=20, warmup_steps=5) == pytest.approx(expected)
    with pytest.raises(ValueError, match="lr must be"):
        lab.decay_factor(0.0)


def test_batch_speedup_runs_both_ways_to_the_same_bits():
    speed = lab.batch_speedup(lrs=(1e-3, 1e-2), seeds=(0, 1), steps=3, data=synthetic_digits(),
                              hidden=4, batch_size=8)
    assert speed["identical"] and speed["networks"] == 4 and speed["steps"] == 3
    assert speed["batched_s"] > 0 and speed["loop_s"] > 0
    assert speed["speedup"] == pytest.approx(speed["loop_s"] / speed["batched_s"])


def test_gradient_check_agrees_and_catches_a_wrong_gradient(monkeypatch):
    data, net = synthetic_digits(), MLP(5)
    theta = net.init([3]) + 0.05
    X, y = data.X_train[:10], data.y_train[:10]
    coordinates = np.array([0, 7, net.size - 1, 64 * 5 + 2])
    result = lab.gradient_check(net, theta, X, y, coordinates)
    assert result["worst"] < 1e-6 and result["analytic"].shape == (4,)
    np.testing.assert_allclose(result["analytic"], result["numeric"], rtol=1e-5, atol=1e-9)
    real = MLP.loss_and_gradient

    def halved(self, theta, X, y, gradient=True):           # a backward pass with a bug
        loss, grad = real(self, theta, X, y, gradient=gradient)
        return loss, (None if grad is None else grad / 2)

    monkeypatch.setattr(MLP, "loss_and_gradient", halved)
    assert lab.gradient_check(net, theta, X, y, coordinates)["worst"] > 0.1
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"coordinates must lie in \[0, 385\)"):
        lab.gradient_check(net, theta, X, y, np.array([385]))
    with pytest.raises(ValueError, match="coordinates must be a non-empty 1-D array"):
        lab.gradient_check(net, theta, X, y, np.array([0.5]))


def test_adam_statistics_count_every_coordinate():
    data = synthetic_digits(seed=1)
    both = lab.adam_statistics(lrs=(1e-2, 1e-3), at=(1, 3, 10), data=data, hidden=5,
                               batch_size=8, seeds=(0, 1))
    assert list(both) == [1e-2, 1e-3]
    stats = both[1e-2]
    assert stats["at"].tolist() == [1, 3, 10] and stats["layers"] == ["W1", "b1", "W2", "b2"]
    np.testing.assert_array_equal(stats["bound"], step_supremum(np.array([1, 3, 10])))
    sizes = np.array([64 * 5, 5, 5 * 10, 10]) * 2
    inside = stats["counts"].sum(axis=-1)
    assert np.all(inside + np.round(stats["zero"] * sizes) <= sizes)
    # at step 1 every coordinate with a gradient moves by α (Adam's first step), up to
    # rounding: into one of the two bins that meet at 1
    first = stats["counts"][0]
    one = np.searchsorted(stats["bins"], 1.0)
    assert stats["bins"][one] == 1.0
    near = first[:, one - 1] + first[:, one]
    assert np.all(first.sum(axis=-1) == near)
    np.testing.assert_allclose(near / sizes + stats["zero"][0], 1.0)
    np.testing.assert_allclose(stats["median"][0], 1.0, rtol=1e-5)    # α·|g|/(|g| + ε)
    assert np.all(stats["above_one"][0] == 0)
    # the steps never exceed the theorem's bound
    assert np.all(stats["largest"] <= stats["bound"][:, None] * (1 + 1e-12))
    # the pixels that are 0 in every training image never get a gradient: their
    # weights never move and their v̂ stays 0
    dead = np.mean(np.all(data.X_train == 0, axis=0))
    assert dead > 0.1
    assert np.all(stats["below_eps"][:, 0] >= dead) and np.all(stats["zero"][:, 0] >= dead)
    assert np.all(stats["zero_v"] <= stats["below_eps"])
    assert np.all(np.isnan(stats["smallest_root"]) | (stats["smallest_root"] > 0))
    # the summaries over all coordinates weigh the layers by their sizes
    np.testing.assert_allclose(stats["all"]["zero"], stats["zero"] @ sizes / sizes.sum())
    np.testing.assert_allclose(stats["all"]["largest"], stats["largest"].max(axis=1))
    # each learning rate is its own run: one alone gives the same statistics
    alone = lab.adam_statistics(lrs=(1e-3,), at=(1, 3, 10), data=data, hidden=5, batch_size=8,
                                seeds=(0, 1))[1e-3]
    for field in lab.STAT_FIELDS:
        np.testing.assert_array_equal(alone[field], both[1e-3][field])
    with pytest.raises(ValueError, match="at must be an integer"):
        lab.adam_statistics(at=(0, 3), data=data)


def test_plots_draw_the_lab_results(sweeps, labelled):
    axes = plot_test_error_vs_lr(sweeps)
    assert len(axes) == 2 and all(a.get_title() and a.get_xlabel() for a in axes)
    assert axes[0].get_ylabel() and len(axes[0].collections) == 3          # one band each
    axes = plot_training_curves(sweeps)
    assert all(labelled(a) for a in axes) and len(axes[0].get_lines()) == len(sweeps)
    stats = lab.adam_statistics(lrs=(1e-2,), at=(1, 5), data=synthetic_digits(), hidden=4,
                                batch_size=8, seeds=(0,))[1e-2]
    panels = plot_step_histograms(stats)
    assert len(panels) == 2 and panels[0].get_ylabel() and all(p.get_title() for p in panels)
    ax = plot_below_eps(stats)
    assert labelled(ax) and len(ax.get_lines()) == 8
    axes = draw_inside_adam(plt.figure(), stats)
    assert len(axes) == 3 and axes[0].figure._suptitle.get_text()
    with pytest.raises(TypeError, match="must be an LrSweep"):
        plot_test_error_vs_lr({"x": 1})
    with pytest.raises(ValueError, match="one panel per schedule"):
        plot_test_error_vs_lr(sweeps, plt.figure().subplots(1, 3))
    plt.close("all")


def test_the_explorer_draws_one_sweep_of_the_chapter(sweeps, monkeypatch, labelled):
    monkeypatch.setattr(lab, "chapter_sweeps", lambda: sweeps)
    for curve in plots.CURVES:
        left, right = plots.draw_network_sweep(plt.figure(), "AdamW", "warmup+cosine", curve)
        assert labelled(left) and labelled(right)
        assert len(left.get_lines()) == GRIDS["AdamW"].size
    with pytest.raises(ValueError, match="curve must be one of"):
        plots.draw_network_sweep(plt.figure(), curve="loss")
    with pytest.raises(ValueError, match=r"\(optimizer, schedule\) must be one of"):
        plots.draw_network_sweep(plt.figure(), "Lion")
    plt.close("all")
