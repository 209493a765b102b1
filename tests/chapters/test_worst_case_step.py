"""The chapter *The worst case of Adam's step*: ``adamref.lab.worst_case_step``
and ``adamref.plots.worst_case_step``."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab import worst_case_step as lab
from adamref.lab.per_parameter_steps import step_supremum_limit
from adamref.plots.worst_case_step import (draw_spike, plot_heavy_tail, plot_outlier_kick,
                                           plot_spike, plot_supremum)


def test_adam_attains_the_supremum_and_random_sequences_stay_below():
    attained = lab.attained_supremum(500)
    np.testing.assert_allclose(attained["measured"], attained["supremum"], rtol=1e-12)
    assert attained["limit"] == pytest.approx(step_supremum_limit(), rel=1e-15)
    random = lab.random_sequences_steps(200, 500, seed=3)
    for kind in ("gaussian", "sparse", "geometric"):
        assert np.all(random[kind] <= random["supremum"] * (1 + 1e-12)), kind
    assert random["geometric"][-1] > 0.8 * random["supremum"][-1]     # close to the worst case
    unbounded = lab.attained_supremum(300, beta1=0.99, beta2=0.95)     # β1² ≥ β2: no bound
    np.testing.assert_allclose(unbounded["measured"], unbounded["supremum"], rtol=1e-12)
    assert unbounded["limit"] == np.inf and unbounded["measured"][-1] > 20


def test_kick_limit_sums_the_geometric_series():
    late = lab.kick_limit(0.9, 0.999)
    assert late == pytest.approx(0.1 / np.sqrt(0.001) / (1 - 0.9 / np.sqrt(0.999)), rel=1e-14)
    # the finite window and the bias corrections: the terms written out
    k = np.arange(40)
    terms = (0.1 * (0.9 / np.sqrt(0.99)) ** k / np.sqrt(0.01)
             * np.sqrt(1 - 0.99 ** (100 + k)) / (1 - 0.9 ** (100 + k)))
    assert lab.kick_limit(0.9, 0.99, at=100, window=40) == pytest.approx(terms.sum(), rel=1e-12)
    assert lab.kick_limit(0.9, 0.99, window=10**4) == pytest.approx(lab.kick_limit(0.9, 0.99),
                                                                    rel=1e-12)
    assert lab.kick_limit(0.99, 0.95) == np.inf                # β1² ≥ β2: no bound
    with pytest.raises(ValueError, match="window=None"):
        lab.kick_limit(0.9, 0.999, at=10)


def test_outlier_response():
    sizes = np.array([1.0, 100.0, 1e4])
    r = lab.outlier_response(sizes, beta2s=(0.999, 0.9), at=500, later=(50, 200), draws=10)
    np.testing.assert_allclose(r.kick["SGD"], sizes, rtol=1e-10)          # α·G, exactly
    assert np.all(r.kick["clipped SGD"] <= r.limit["clipped SGD"] * (1 + 1e-9))
    assert r.kick["clipped SGD"][-1] == pytest.approx(np.sqrt(10), rel=1e-3)
    for beta2 in (0.999, 0.9):
        name = f"Adam (β2 = {beta2:g})"
        assert r.limit[name] == lab.kick_limit(0.9, beta2, 500, 50)
        assert r.kick[name][-1] == pytest.approx(r.limit[name], rel=1e-3)   # G → ∞
        assert r.shrink[name].shape == (3, 2) and np.all(r.shrink[name] <= 1.0 + 1e-2)
    # the memory: a large outlier shrinks later steps, as the formula says
    np.testing.assert_allclose(r.shrink["Adam (β2 = 0.999)"][1:],
                               lab.shrink_theory(sizes[1:], r.later, 0.999, at=500), rtol=0.1)
    assert r.shrink["Adam (β2 = 0.9)"][1, 1] > 0.99              # β2 = 0.9 forgot it by then
    with pytest.raises(ValueError, match="later must be increasing"):
        lab.outlier_response(sizes, later=(10,))


def test_student_t_noise_is_seeded():
    a = lab.student_t_noise(1.5, 100, 3, seed=2)
    np.testing.assert_array_equal(a, lab.student_t_noise(1.5, 100, 3, seed=2))
    assert a.shape == (100, 3) and not np.array_equal(a, lab.student_t_noise(1.5, 100, 3, 3))
    with pytest.raises(ValueError, match="nu must be a finite number > 0"):
        lab.student_t_noise(0.0, 10, 2, 0)


@pytest.fixture(scope="module")
def heavy():
    return lab.heavy_tail_sweep(1.5, lrs=lab.one_three_grid(1e-3, 10.0), seeds=(0, 1, 2),
                                steps=400)


def test_heavy_tail_sweep(heavy):
    assert set(heavy.loss) == set(lab.METHODS)
    assert heavy.loss["SGD"].shape == (401, heavy.lrs.size, 3)
    start = heavy.loss["Adam"][0]
    np.testing.assert_allclose(start, 0.5 * 9 * np.sum(lab.CURVATURES))   # θ = 3 everywhere
    assert np.isinf(heavy.scores("SGD")[-1])             # α = 10 diverges
    for method in lab.METHODS:
        assert heavy.tuned(method).bracketed, method
    # clipping tames the heavy tail: tuned clipped SGD beats tuned SGD
    assert heavy.tuned("clipped SGD").best_score < heavy.tuned("SGD").best_score


def test_methods_of_the_sweep():
    result = lab.heavy_tail_sweep(1.5, lrs=np.array([0.01, 0.1]), seeds=(0,), steps=20,
                                  methods=("clipped SGD (per coordinate)", "Adam (β2 = 0.9)"))
    assert set(result.loss) == {"clipped SGD (per coordinate)", "Adam (β2 = 0.9)"}
    with pytest.raises(ValueError, match="methods must be names of MAKERS"):
        lab.heavy_tail_sweep(1.5, methods=("Lion",))


def test_per_coordinate_clipping_clamps_each_coordinate():
    big = lab.heavy_tail_sweep(1.5, lrs=np.array([0.1]), seeds=(0,), steps=1, clip=0.5,
                               curvatures=(1.0, 1.0), start=0.0,
                               methods=("clipped SGD (per coordinate)",))
    noise = lab.student_t_noise(1.5, 1, 2, 0)[0]
    theta = 0.1 * np.clip(noise, -0.5 / np.sqrt(2), 0.5 / np.sqrt(2))
    assert big.loss["clipped SGD (per coordinate)"][1, 0, 0] == pytest.approx(
        0.5 * np.sum(theta**2), rel=1e-12)


def test_clipped_sgd_clips_each_row_by_its_own_norm():
    big = lab.heavy_tail_sweep(1.5, lrs=np.array([0.1, 0.2]), seeds=(0,), steps=1, clip=0.5,
                               curvatures=(1.0, 1.0), start=0.0)
    # from θ = 0 the first step is −α·clip(noise): |Δθ| = α·min(‖noise‖, 0.5)
    noise = lab.student_t_noise(1.5, 1, 2, 0)[0]
    moved = np.sqrt(2 * big.loss["clipped SGD"][1, :, 0])       # ‖θ_1‖ (curvatures 1)
    expected = np.array([0.1, 0.2]) * min(np.linalg.norm(noise), 0.5 / (1 + 2e-6))
    np.testing.assert_allclose(moved, expected, rtol=1e-5)


def test_loss_spike_after_the_jump_and_not_without():
    spike = lab.loss_spike(settings=((0.999, 10.0), (0.999, 1.0)))
    assert spike.loss.shape == (6001, 2, 5) and spike.step.shape == (6000, 2, 5)
    peaks = spike.peaks()
    assert np.all(peaks["ratio"][0] > 2)                         # the jump: a spike
    assert np.all(peaks["ratio"][1] < 1.5)                       # the control: none
    assert np.all(peaks["largest_step"] <= step_supremum_limit() + 1e-9)   # the theorem holds
    assert np.all(peaks["largest_step"][0] > 2)


def test_spike_traces_come_from_the_grid():
    grid = lab.spike_grid()
    assert grid is lab.spike_grid()                              # computed once
    traces = lab.spike_traces(0.999, 10.0, points=500)
    assert traces["t"].size <= 500 and traces["loss_jump"].shape == traces["t"].shape
    i = grid.settings.index((0.999, 10.0))
    per_bin = int(traces["t"][0])
    assert traces["step_jump"][0] == grid.step[:per_bin, i, 0].max()
    np.testing.assert_array_equal(traces["loss_control"],
                                  grid.loss[traces["t"], grid.settings.index((0.999, 1.0)), 0])
    assert traces["bound"] == step_supremum_limit(0.9, 0.999)
    assert np.all(grid.step <= np.array([step_supremum_limit(0.9, b) for b, _ in grid.settings])
                  [None, :, None] + 1e-9)                        # the theorem, every setting
    with pytest.raises(ValueError, match="beta2 and jump must be among"):
        lab.spike_traces(0.5, 10.0)


def test_plots_draw_the_lab_results(heavy, labelled):
    ax = plot_supremum(lab.attained_supremum(200), lab.random_sequences_steps(50, 50))
    assert labelled(ax) and len(ax.get_lines()) == 6
    ax = plot_heavy_tail(heavy)
    assert labelled(ax) and len(ax.get_lines()) == 9
    ax = plot_heavy_tail(heavy, methods=("SGD", "Adam"))
    assert len(ax.get_lines()) == 6
    response = lab.outlier_response(np.array([1.0, 10.0]), beta2s=(0.9,), at=100, later=(50,),
                                    draws=2)
    ax = plot_outlier_kick(response)
    assert labelled(ax) and len(ax.get_lines()) == 3 + 2            # SGD has no limit line
    spike = lab.loss_spike(quiet_steps=100, after_steps=100, seeds=(0,))
    ax = plot_spike(spike)
    assert labelled(ax) and len(ax.get_lines()) == 4
    with pytest.raises(TypeError, match="Spike"):
        plot_spike(heavy)
    fig = plt.figure()
    axes = draw_spike(fig, 0.99, 100.0)
    assert all(labelled(ax) for ax in axes) and len(axes[1].get_lines()) == 4
