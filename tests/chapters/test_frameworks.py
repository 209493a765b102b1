"""The frameworks chapter: ``adamref.lab.frameworks`` and ``adamref.plots.frameworks``."""

import numpy as np
import pytest

import adamref
from adamref.lab.frameworks import (amsgrad_effective_steps, decoupled_fixed_point,
                                    l2_fixed_point, largest_growth)
from adamref.optim.functional import (OptaxAMSGrad, optax_adam_update, optax_amsgrad_update,
                                      paper_adamw_update)
from adamref.plots import frameworks as plot_frameworks
from adamref.plots.explorers import explore


def test_fixed_points():
    np.testing.assert_allclose(l2_fixed_point(1.0, np.array([1.0, -2.0]), 0.1),
                               [1 / 1.1, -2 / 1.1])
    fp = decoupled_fixed_point(1.0, np.array([1.0, 1.0, -1.0]), np.array([0.1, 10.0, 10.0]), 0.1)
    d = fp - np.array([1.0, 1.0, -1.0])
    residual = d / (np.sqrt(d**2 + np.array([0.1, 10.0, 10.0]) ** 2) + 1e-8) + 0.1 * fp
    np.testing.assert_allclose(residual, 0.0, atol=1e-12)
    assert fp[1] == pytest.approx(0.5, abs=1e-2) and fp[2] == pytest.approx(-fp[1])
    assert decoupled_fixed_point(2.0, 0.0, 1.0, 0.1) == 0.0


def test_decoupled_fixed_point_matches_a_noisy_run():
    rng = np.random.default_rng(3)
    sigma = np.array([0.1, 10.0])
    opt = adamref.AdamW(lr=0.02, weight_decay=0.1)
    theta, total = np.zeros((16, 2)), np.zeros((16, 2))
    for t in range(3000):
        opt.step(theta, theta - 1.0 + sigma * rng.standard_normal((16, 2)))
        if t >= 1500:
            total += theta
    np.testing.assert_allclose(total.mean(axis=0) / 1500,
                               decoupled_fixed_point(1.0, 1.0, sigma, 0.1), atol=0.03)


def test_only_optax_amsgrad_has_a_nonincreasing_effective_step():
    drop = np.where(np.arange(500) < 10, 1.0, 0.01)
    eff = amsgrad_effective_steps(drop)
    assert largest_growth(eff["Optax"]) == 1.0
    # PyTorch's v_max is frozen at v_10 while 1 − β2^t keeps growing
    expected = np.sqrt((1 - 0.999**500) / (1 - 0.999**10))
    assert largest_growth(eff["PyTorch"]) == pytest.approx(expected, rel=1e-6)
    # they read the optimizers' own state: the steps taken match α̃·m̂
    opt = adamref.Adam(lr=1.0, amsgrad=True)
    theta = np.zeros(1)
    for g in drop[:20]:
        opt.step(theta, np.array([g]))
    assert eff["PyTorch"][19] == pytest.approx(opt.effective_step()[0])
    with pytest.raises(ValueError, match="effective must have shape"):
        largest_growth(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="grads must have shape"):
        amsgrad_effective_steps(np.zeros(0))


@pytest.mark.parametrize("call, error, message", [
    (lambda: optax_adam_update(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1,
                               eps_root=-1.0), ValueError, "eps_root must be >= 0.0, got -1.0"),
    (lambda: optax_amsgrad_update(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2),
                                  np.zeros(3), 1), ValueError, "v_max has shape"),
    (lambda: optax_amsgrad_update(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2),
                                  np.zeros(2), 0), ValueError, "t must be an integer >= 1"),
    (lambda: paper_adamw_update(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1,
                                schedule_multiplier=-0.5), ValueError,
     "schedule_multiplier must be >= 0.0, got -0.5"),
    (lambda: paper_adamw_update([1.0], np.ones(1), np.zeros(1), np.zeros(1), 1),
     TypeError, "theta must be a NumPy ndarray"),
    (lambda: l2_fixed_point(0.0, 1.0, 0.1), ValueError, "curvature must be > 0"),
    (lambda: decoupled_fixed_point(1.0, 1.0, -1.0, 0.1), ValueError, "noise must be >= 0.0"),
    (lambda: decoupled_fixed_point(1.0, np.nan, 1.0, 0.1), ValueError, "minimum must be finite"),
    (lambda: OptaxAMSGrad(beta1=1.0), ValueError, r"beta1 must be in \[0.0, 1.0\)"),
    (lambda: OptaxAMSGrad().step([1.0], np.ones(1)), TypeError, "params must be a NumPy"),
])
def test_rejects_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_epsilon_forms_explorer_shows_the_effective_eps():
    ex = explore("frameworks")
    assert ex.values == {"eps": 1e-8, "eps_hat": 1e-7, "t": 1}       # the chapter's figure
    ratio = ex.figure.axes[1].lines[0].get_ydata()
    assert ratio.max() == pytest.approx(1e-7 / np.sqrt(1e-3) / 1e-8, rel=1e-3)  # ≈ 316 at t = 1
    ex.controls["t"].value = 2000
    assert ex.figure.axes[1].lines[0].get_ydata().max() == pytest.approx(
        10 / np.sqrt(1 - 0.999**2000), rel=1e-3)          # ≈ 10.75: settling towards 10
    ex.controls["eps_hat"].value = 1e-8
    assert "t = 2000" in ex.figure.axes[0].get_title()
    assert ex.figure.axes[1].lines[0].get_ydata().max() == pytest.approx(
        1 / np.sqrt(1 - 0.999**2000), rel=1e-3)
