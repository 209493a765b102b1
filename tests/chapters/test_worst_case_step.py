"""The chapter *The worst case of Adam's step*: ``adamref.lab.worst_case_step``
and ``adamref.plots.worst_case_step``."""

import numpy as np
import pytest

from adamref.lab import worst_case_step as lab
from adamref.lab.per_parameter_steps import step_supremum_limit
from adamref.plots.worst_case_step import plot_heavy_tail, plot_spike, plot_supremum


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


def test_plots_draw_the_lab_results(heavy, labelled):
    ax = plot_supremum(lab.attained_supremum(200), lab.random_sequences_steps(50, 50))
    assert labelled(ax) and len(ax.get_lines()) == 6
    ax = plot_heavy_tail(heavy)
    assert labelled(ax) and len(ax.get_lines()) == 9
    spike = lab.loss_spike(quiet_steps=100, after_steps=100, seeds=(0,))
    ax = plot_spike(spike)
    assert labelled(ax) and len(ax.get_lines()) == 4
    with pytest.raises(TypeError, match="Spike"):
        plot_spike(heavy)
