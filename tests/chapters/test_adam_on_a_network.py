"""The chapter *Adam on a network*: ``adamref.lab.adam_on_a_network`` and
``adamref.plots.adam_on_a_network`` (on small random data: no scikit-learn)."""

import numpy as np
import pytest

from adamref.lab import adam_on_a_network as lab
from adamref.optim import SGD, Adam
from adamref.plots.adam_on_a_network import (plot_below_eps, plot_lr_sweep,
                                             plot_step_histograms, plot_training_curves)
from adamref.problems.digits import synthetic_digits
from adamref.problems.mlp import MLP
from adamref.problems.training import train
from adamref.problems.tuning import UnbracketedOptimum


SMALL = dict(steps=24, batch_size=8, hidden=6, seeds=(0, 1), warmup_steps=4, every=8)


@pytest.fixture(scope="module")
def sweeps():
    data = synthetic_digits()
    grids = {"Momentum": lab.one_three_grid(1e-3, 30.0), "Adam + L2": lab.one_three_grid(1e-4, 30.0),
             "AdamW": lab.one_three_grid(1e-4, 30.0)}
    return {(name, schedule): lab.lr_sweep(name, schedule, grids[name], data=data, **SMALL)
            for name in lab.OPTIMIZERS for schedule in lab.SCHEDULES}


def test_one_three_grid():
    np.testing.assert_array_equal(lab.one_three_grid(1e-3, 0.3),
                                  [0.001, 0.003, 0.01, 0.03, 0.1, 0.3])
    np.testing.assert_array_equal(lab.one_three_grid(3e-4, 10.0)[[0, -1]], [3e-4, 10.0])
    with pytest.raises(ValueError, match="of the form 1e"):
        lab.one_three_grid(2e-3, 1.0)


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
    assert sweep.val_error.shape == (4, lrs.size, 2) and sweep.steps.tolist() == [0, 8, 16, 24]
    data, net = synthetic_digits(), MLP(6)
    for i in (0, 4):
        for s, seed in enumerate(sweep.seeds):
            alone = train(net, data, lab.make_optimizer("Adam + L2", float(lrs[i]), "warmup+cosine",
                                                        steps=24, warmup_steps=4),
                          net.init([seed]), 24, batch_size=8, batch_seeds=np.array([seed]), every=8)
            np.testing.assert_array_equal(alone.val_error[:, 0], sweep.val_error[:, i, s])
            np.testing.assert_array_equal(alone.train_loss[:, 0], sweep.train_loss[:, i, s])


def test_scores_tuning_and_summary(sweeps):
    sweep = sweeps[("Momentum", "constant")]
    np.testing.assert_array_equal(sweep.scores, sweep.val_error[-1].mean(axis=1))
    blown = lab.lr_sweep("Momentum", lrs=[1e-2, 1e8], data=synthetic_digits(), **SMALL)
    assert np.isnan(blown.scores[1]) and blown.diverged[1].all() and not blown.diverged[0].any()
    tuned = sweep.tuned()
    assert tuned.good[tuned.best_index] and np.isfinite(tuned.best_score)
    try:
        rows = lab.summary(sweeps)
    except UnbracketedOptimum:                   # a tiny random problem need not bracket
        return
    assert [(r["optimizer"], r["schedule"]) for r in rows] == list(sweeps)
    for row in rows:
        assert row["test_low"] <= row["test_error"] <= row["test_high"]


def test_adam_statistics_count_every_coordinate():
    data = synthetic_digits(seed=1)
    stats = lab.adam_statistics(1e-2, at=(1, 3, 10), data=data, hidden=5, batch_size=8,
                                seeds=(0, 1))
    assert stats["at"].tolist() == [1, 3, 10] and stats["layers"] == ["W1", "b1", "W2", "b2"]
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
    # the pixels that are 0 in every training image never get a gradient: their
    # weights never move and their v̂ stays 0
    dead = np.mean(np.all(data.X_train == 0, axis=0))
    assert dead > 0.1
    assert np.all(stats["below_eps"][:, 0] >= dead) and np.all(stats["zero"][:, 0] >= dead)
    with pytest.raises(ValueError, match="at must be an integer"):
        lab.adam_statistics(at=(0, 3), data=data)


def test_plots_draw_the_lab_results(sweeps, labelled):
    ax = plot_lr_sweep(sweeps)
    assert labelled(ax) and len(ax.get_lines()) == 3 * len(sweeps)
    axes = plot_training_curves(sweeps)
    assert all(labelled(a) for a in axes) and len(axes[0].get_lines()) == len(sweeps)
    stats = lab.adam_statistics(1e-2, at=(1, 5), data=synthetic_digits(), hidden=4, batch_size=8,
                                seeds=(0,))
    panels = plot_step_histograms(stats)
    assert len(panels) == 2 and panels[0].get_ylabel() and all(p.get_title() for p in panels)
    ax = plot_below_eps(stats)
    assert labelled(ax) and len(ax.get_lines()) == 8
    with pytest.raises(TypeError, match="must be an LrSweep"):
        plot_lr_sweep({"x": 1})
