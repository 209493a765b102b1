"""The chapter *Schedules and warmup*: ``adamref.lab.schedules_and_warmup`` and
``adamref.plots.schedules_and_warmup`` (the digits replaced by small random data)."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab import schedules_and_warmup as lab
from adamref.optim.radam import rho
from adamref.plots.schedules_and_warmup import (draw_schedules_and_warmup, plot_schedules,
                                                plot_variance, plot_warmup_factors,
                                                plot_warmup_sweep)
from adamref.problems.digits import synthetic_digits


def test_schedule_table_against_the_closed_forms():
    t = np.array([1, 15, 30, 31, 165, 300, 400])
    table = lab.schedule_table(t, 0.1, warmup_steps=30, total_steps=300)
    np.testing.assert_allclose(table["constant"], 0.1)
    np.testing.assert_allclose(table["inverse_sqrt"], 0.1 / np.sqrt(t), rtol=1e-15)
    np.testing.assert_allclose(table["linear_warmup"], 0.1 * np.minimum(t / 30, 1), rtol=1e-15)
    cosine = [0.05 * (1 + math.cos(math.pi * min(s, 300) / 300)) for s in t]
    np.testing.assert_allclose(table["cosine_decay"], cosine, rtol=1e-14, atol=1e-17)
    assert table["warmup_cosine"][1] == pytest.approx(0.05)            # half-way up
    assert table["warmup_cosine"][4] == pytest.approx(0.05)            # half-way down
    assert table["warmup_cosine"][-1] == 0.0
    with pytest.raises(ValueError, match="warmup_steps must be < total_steps"):
        lab.schedule_table(t, warmup_steps=300, total_steps=300)
    with pytest.raises(ValueError, match=r"t must be an integer \(or integer array\) >= 1"):
        lab.schedule_table(np.array([0, 1]))


def test_rho_table_switches_at_rho_five():
    table = lab.rho_table(np.arange(1, 9), 0.999)
    assert table["adaptive"].tolist() == [False] * 5 + [True] * 3
    assert np.isnan(table["rectification"][:4]).all() and (table["rectification"][5:] > 0).all()


def test_first_adaptive_step_is_where_rho_passes_five():
    for beta2 in (0.9, 0.99, 0.999, 0.9999):
        t = lab.first_adaptive_step(beta2)
        assert rho(t, beta2) > 5 >= rho(t - 1, beta2), beta2
    assert lab.first_adaptive_step(0.6) == 0                    # ρ_∞ = 4: never adaptive


def test_monte_carlo_variance_is_seeded_and_meets_the_formula():
    comparison = lab.variance_comparison(t=(5, 30, 300), draws=20_000, seed=1)
    again = lab.variance_comparison(t=(5, 30, 300), draws=20_000, seed=1)
    np.testing.assert_array_equal(comparison["monte_carlo"], again["monte_carlo"])
    # the EMA is a simple moving average of ρ_t values only approximately: 10 %
    np.testing.assert_allclose(comparison["monte_carlo"], comparison["formula"], rtol=0.1)
    assert np.all(np.diff(comparison["monte_carlo"]) < 0)               # Theorem 1: decreasing
    # σ scales the variance by 1/σ²
    scaled = lab.adaptive_variance_mc(np.array([30]), sigma=2.0, draws=20_000, seed=1)
    assert scaled[0] == pytest.approx(comparison["monte_carlo"][1] / 4, rel=1e-12)


def test_untuned_warmup_and_the_factors():
    assert lab.untuned_warmup_steps(0.999) == 2000 and lab.untuned_warmup_steps(0.99) == 200
    factors = lab.warmup_factors(3000, 0.999)
    assert factors["linear"][1999] == pytest.approx(1.0) and factors["linear"][999] == pytest.approx(0.5)
    np.testing.assert_allclose(factors["exponential"], 1 - np.exp(-0.001 * factors["t"]), rtol=1e-13)
    assert np.isnan(factors["radam"][:5]).all() and np.all(np.diff(factors["radam"][5:]) > 0)
    few = lab.warmup_factors(3000, 0.999, points=100)
    assert few["t"][0] == 1 and few["t"][-1] == 3000 and few["t"].size <= 100
    np.testing.assert_array_equal(few["linear"], factors["linear"][few["t"] - 1])


def test_explorer_curves():
    curves = lab.explorer_curves(0.99, 0.2, 500, points=50)
    assert curves["warmup_steps"] == 100 and curves["t"].size <= 50
    assert set(curves["schedules"]) == {"constant", "inverse_sqrt", "linear_warmup",
                                        "cosine_decay", "warmup_cosine"}
    assert curves["schedules"]["warmup_cosine"][-1] == 0.0
    assert curves["factors"]["t"][-1] == 3 * lab.untuned_warmup_steps(0.99)
    assert lab.explorer_curves(0.99, 0.0, 500)["warmup_steps"] == 1    # at least one step
    with pytest.raises(ValueError, match="warmup_fraction"):
        lab.explorer_curves(0.99, 1.0, 500)


@pytest.fixture(scope="module")
def sweep():
    return lab.warmup_sweep(lrs=np.array([1e-3, 1e-2, 1e-1]), beta2=0.9, steps=30, seeds=(0, 1),
                            batch_size=8, hidden=5, every=20, data=synthetic_digits())


def test_warmup_sweep_and_its_effect(sweep):
    assert sweep.warmup_steps == 20 and sweep.steps.tolist() == [0, 20, 30]
    assert set(sweep.val_error) == set(lab.METHODS) == set(sweep.train_loss)
    assert sweep.val_error["RAdam"].shape == sweep.train_loss["RAdam"].shape == (3, 3, 2)
    assert sweep.checkpoint() == 2 and sweep.checkpoint(20) == 1
    with pytest.raises(ValueError, match="step must be a checkpoint"):
        sweep.checkpoint(10)
    # the same starts: every method's networks begin with the same errors
    np.testing.assert_array_equal(sweep.val_error["Adam"][0], sweep.val_error["RAdam"][0])
    effect = lab.warmup_effect(sweep)
    final = sweep.val_error
    np.testing.assert_allclose(effect["gain"], final["Adam"][-1].mean(1)
                               - final["Adam + untuned warmup"][-1].mean(1))
    assert np.all(effect["better"] + effect["worse"] <= 2)
    assert set(effect["helps_at"]) <= set(sweep.lrs)
    assert sweep.tuned("Adam").values.size == 3
    halfway = lab.warmup_effect(sweep, step=20)
    np.testing.assert_allclose(halfway["gain"], final["Adam"][1].mean(1)
                               - final["Adam + untuned warmup"][1].mean(1))
    np.testing.assert_array_equal(sweep.tuned("RAdam", step=20).scores,
                                  final["RAdam"][1].mean(1))
    with pytest.raises(ValueError, match="method and baseline must be among"):
        lab.warmup_effect(sweep, "SGD")


def test_plots_draw_the_lab_results(sweep, labelled):
    t = np.arange(1, 301)
    ax = plot_schedules(t, lab.schedule_table(t))
    assert labelled(ax) and len(ax.get_lines()) == 5
    ax = plot_variance(lab.variance_comparison(t=(3, 10, 100), draws=2000))
    assert labelled(ax) and len(ax.get_lines()) == 3
    ax = plot_warmup_factors(lab.warmup_factors(500, 0.99))
    assert labelled(ax) and len(ax.get_lines()) == 3
    ax = plot_warmup_sweep(sweep)
    assert labelled(ax) and len(ax.containers) == 3
    assert plot_warmup_sweep(sweep, step=20).get_ylabel() == "validation error at step 20"
    with pytest.raises(TypeError, match="WarmupSweep"):
        plot_warmup_sweep({})


def test_the_explorer_draws_both_panels(labelled, lines_of):
    fig = plt.figure()
    axes = draw_schedules_and_warmup(fig, beta2=0.99, warmup_fraction=0.1, total_steps=300)
    assert all(labelled(ax) for ax in axes) and len(fig.axes) == 2
    again = plt.figure()
    draw_schedules_and_warmup(again, beta2=0.99, warmup_fraction=0.1, total_steps=300)
    for a, b in zip(lines_of(fig), lines_of(again)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="Figure"):
        draw_schedules_and_warmup(axes[0])


def test_lost_steps_of_the_untuned_warmups():
    lost = lab.lost_steps(0.99)
    assert lost["linear"] == pytest.approx((200 - 1) / 2, rel=1e-12)      # Σ_{t<w} (1 − t/w)
    assert lost["exponential"] == pytest.approx(1 / math.expm1(0.01), rel=1e-9)   # Σ e^{−at}
    assert 1.0 < lost["radam"] / lost["linear"] < 1.1
