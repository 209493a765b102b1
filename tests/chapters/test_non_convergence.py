"""The non-convergence chapter: ``adamref.lab.non_convergence`` and
``adamref.plots.non_convergence``."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import adamref
from adamref.lab import non_convergence as online
from adamref.plots import non_convergence as plot_non_convergence
from adamref.plots import explorers


def test_cyclic_gradients_follow_t_mod_period():
    np.testing.assert_array_equal(online.cyclic_gradients(7, 3.0, -1.0, 3),
                                  [3, -1, -1, 3, -1, -1, 3])
    g = online.cyclic_gradients(203, 1010.0, -10.0, 101)
    assert np.flatnonzero(g == 1010.0).tolist() == [0, 101, 202]
    assert g.sum() == 3 * 1010 - 200 * 10


def test_stochastic_gradients_are_seeded_with_the_right_frequency():
    a = online.stochastic_gradients(100_000, 1010.0, -10.0, 0.01, seed=3)
    b = online.stochastic_gradients(100_000, 1010.0, -10.0, 0.01, seed=3)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {1010.0, -10.0}
    assert abs(np.mean(a == 1010.0) - 0.01) < 0.002
    assert not np.array_equal(a, online.stochastic_gradients(100_000, seed=4))


def test_reddi_beta2():
    assert online.reddi_beta2(3.0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="C must be > 2.*2.0"):
        online.reddi_beta2(2.0)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("bias_correction", [False, True])
def test_constant_schedule_is_adamref_adam_followed_by_clipping(amsgrad, bias_correction):
    grads = online.cyclic_gradients(400, 1010.0, -10.0, 101)
    opt = adamref.Adam(lr=0.05, beta1=0.9, beta2=0.99, amsgrad=amsgrad,
                       bias_correction=bias_correction)
    x, expected = np.array([0.3]), []
    for g in grads:
        opt.step(x, np.array([g]))
        np.clip(x, -1.0, 1.0, out=x)
        expected.append(x[0])
    run = online.projected_adam(grads, lr=0.05, beta1=0.9, beta2=0.99, amsgrad=amsgrad,
                                schedule="constant", bias_correction=bias_correction, theta0=0.3)
    # the runner's prefix scans add the same terms in another order: a few ulps of 1
    np.testing.assert_allclose(run.theta[1:], expected, rtol=0, atol=1e-13)
    assert run.theta[0] == 0.3 and np.all(np.abs(run.theta) <= 1)


def test_unprojected_run_with_array_hyperparameters_matches_separate_adam_runs():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal(50)
    lrs = np.array([0.01, 0.1])
    run = online.projected_adam(grads, lr=lrs, beta1=0.9, beta2=0.999, schedule="constant",
                                low=-1e9, high=1e9)
    for k, lr in enumerate(lrs):
        opt, x = adamref.Adam(lr=lr), np.array([0.0])
        for t, g in enumerate(grads):
            opt.step(x, np.array([g]))
            assert run.theta[t + 1, k] == pytest.approx(x[0], abs=1e-14)


def reference_run(grads, alpha, b1, b2, eps=1e-8, amsgrad=False):
    """Projected Adam/AMSGrad with η_t = 1/√t, one scalar step at a time."""
    x, m, v, vmax, path, steps = 0.0, 0.0, 0.0, 0.0, [0.0], []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = max(vmax, v)
        m_hat, v_hat = m / (1 - b1**t), (vmax if amsgrad else v) / (1 - b2**t)
        step = alpha / np.sqrt(t) / (np.sqrt(v_hat) + eps)
        x = min(1.0, max(-1.0, x - step * m_hat))
        path.append(x)
        steps.append(step)
    return np.array(path), np.array(steps)


def test_sqrt_schedule_matches_a_scalar_reference_loop():
    grads = online.cyclic_gradients(30, 3.0, -1.0, 3)
    run = online.projected_adam(grads, lr=0.2, beta1=0.5, beta2=0.3, eps=1e-8, amsgrad=True)
    path, steps = reference_run(grads, 0.2, 0.5, 0.3, amsgrad=True)
    np.testing.assert_allclose(run.theta, path, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.effective_step, steps, rtol=1e-12)


def test_broadcast_configurations_each_match_their_own_run():
    # the chapter's sweep: β1 (2, 1, 1) × β2 (3, 1) × [Adam, AMSGrad] (2,) -> (2, 3, 2)
    grads = online.cyclic_gradients(700, 1010.0, -10.0, 101)
    beta1s, beta2s, both = np.array([0.0, 0.9]), np.array([0.1, 0.9, 0.99]), np.array([False, True])
    run = online.projected_adam(grads, lr=0.5, beta1=beta1s[:, None, None],
                                beta2=beta2s[:, None], amsgrad=both)
    assert run.theta.shape == (701, 2, 3, 2) and run.effective_step.shape == (700, 2, 3, 2)
    for i, b1 in enumerate(beta1s):
        for j, b2 in enumerate(beta2s):
            for k, ams in enumerate(both):
                path, steps = reference_run(grads, 0.5, b1, b2, amsgrad=ams)
                np.testing.assert_allclose(run.theta[:, i, j, k], path, rtol=0, atol=1e-12)
                np.testing.assert_allclose(run.effective_step[:, i, j, k], steps, rtol=1e-12)


def test_clip_scan_is_step_by_step_clipping():
    moves = np.random.default_rng(2).standard_normal((999, 4)) * np.array([0.01, 0.1, 1.0, 5.0])
    theta0 = np.array([0.0, 0.5, -1.0, 1.0])
    expected, x = np.empty_like(moves), theta0.copy()
    for t in range(moves.shape[0]):
        x = np.minimum(np.maximum(x + moves[t], -1.0), 1.0)
        expected[t] = x
    result = online.clip_scan(theta0, moves, -1.0, 1.0)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12)
    assert np.any(result == 1.0) and np.any(result == -1.0)    # both walls were hit


def test_theorem_1_adam_goes_to_the_worst_point_amsgrad_to_the_best():
    grads = online.cyclic_gradients(3000, 3.0, -1.0, 3)
    run = online.projected_adam(grads, lr=0.1, beta1=0.0, beta2=online.reddi_beta2(3.0),
                                amsgrad=np.array([False, True]))
    assert run.theta[-1, 0] > 0.99 and run.theta[-1, 1] < -0.99
    regret = online.average_regret(run.theta, grads)
    assert regret[-1, 0] > 0.6 and regret[-1, 1] < 0.1
    # the effective step of Adam grows between large gradients, AMSGrad's never does
    assert np.all(np.diff(run.effective_step[:, 1]) <= 0)
    assert np.any(np.diff(run.effective_step[:, 0]) > 0)


def test_average_regret_of_fixed_players():
    grads = online.cyclic_gradients(300, 3.0, -1.0, 3)
    best = np.full(301, -1.0)
    worst = np.full(301, 1.0)
    np.testing.assert_allclose(online.average_regret(best, grads), 0.0, atol=1e-15)
    r = online.average_regret(worst, grads)
    assert r[-1] == pytest.approx(2 * (3 - 2) / 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: online.projected_adam([1.0, 2.0]), TypeError, "grads must be a NumPy ndarray"),
    (lambda: online.projected_adam(np.array([1, 2])), TypeError, "grads must have a floating"),
    (lambda: online.projected_adam(np.zeros(0)), ValueError, r"grads must have shape \(T, ...\)"),
    (lambda: online.projected_adam(np.ones(3), beta1=1.0), ValueError, "beta1 must be in"),
    (lambda: online.projected_adam(np.ones(3), lr=-1.0), ValueError, "lr must be >= 0"),
    (lambda: online.projected_adam(np.ones(3), schedule="cosine"), ValueError,
     "schedule must be one of .* got 'cosine'"),
    (lambda: online.projected_adam(np.ones(3), theta0=2.0), ValueError,
     r"theta0 must lie in \[-1.0, 1.0\]"),
    (lambda: online.projected_adam(np.ones(3), amsgrad="yes"), TypeError, "amsgrad must be"),
    (lambda: online.projected_adam(np.ones(3), low=1.0, high=-1.0), ValueError, "low < high"),
    (lambda: online.cyclic_gradients(0), ValueError, "steps must be an integer >= 1, got 0"),
    (lambda: online.cyclic_gradients(5, period=1), ValueError, "period must be an integer >= 2"),
    (lambda: online.cyclic_gradients(5.0), TypeError, "steps must be an integer"),
    (lambda: online.stochastic_gradients(5, prob=1.5), ValueError, r"prob must be in \[0.0, 1.0\]"),
    (lambda: online.stochastic_gradients(5, seed=None), TypeError, "seed must be an integer"),
    (lambda: online.average_regret(np.zeros(3), np.zeros(3)), ValueError, "one more row"),
    (lambda: online.average_regret(np.zeros(4), np.zeros(3), low=1.0, high=0.0), ValueError,
     "low < high, got 1.0, 0.0"),
])
def test_online_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_draw_online_plots_the_run():
    fig = plt.figure()
    run = plot_non_convergence.draw_online(fig, C=3.0, lr=0.1, steps=300)
    ax_x, ax_r = fig.axes
    np.testing.assert_array_equal(ax_x.lines[0].get_ydata(), run.theta[1:, 0])
    assert "C = 3" in ax_x.get_title() and ax_x.get_xlabel() and ax_r.get_ylabel()


def test_online_explorer_redraws_when_c_alpha_and_beta1_change():
    ex = explorers.explore("non_convergence")
    assert "C = 3" in ex.figure.axes[0].get_title()         # the chapter's figure
    first = ex.figure.axes[0].lines[0].get_ydata().copy()
    assert first[-1] == 1.0                                  # Adam at the worst point
    ex.controls["C"].value = 10.0
    assert ex.redraws == 2 and "C = 10" in ex.figure.axes[0].get_title()
    second = ex.figure.axes[0].lines[0].get_ydata().copy()
    assert not np.array_equal(first, second)
    ex.controls["lr"].value = 1.0
    assert ex.redraws == 3
    assert not np.array_equal(second, ex.figure.axes[0].lines[0].get_ydata())
    ex.controls["beta1"].value = 0.9
    assert ex.redraws == 4 and ex.figure.axes[0].lines[0].get_ydata()[-1] < 0   # momentum helps
