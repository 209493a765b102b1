"""RAdam (``adamref.optim.radam``) against ``torch.optim.RAdam`` fixtures, its
formulas written out by hand, and the common optimizer contract; and the
chapter's pure functions (ρ_t, r_t, the variance of the adaptive factor)."""

import json
from pathlib import Path

import numpy as np
import pytest

from adamref.optim import schedules
from adamref.optim.radam import (RHO_THRESHOLD, RAdam, adaptive_variance,
                                 adaptive_variance_approx, rectification, rho, rho_inf)
from reference_oracle import problem   # tests/reference/problem.py
from test_reference_fixtures import FLOAT64_RTOL, FLOAT64_ULPS   # the replay tolerances

HERE = Path(__file__).resolve().parent
FIXTURES = sorted((HERE / "fixtures").glob("radam_*.npz"))
EXPECTED = {"radam_torch", "radam_torch_l2", "radam_torch_decoupled",
            "radam_torch_betas_eps_maximize"}




def from_torch_kwargs(kwargs):
    kwargs = dict(kwargs)
    beta1, beta2 = kwargs.pop("betas", (0.9, 0.999))
    return RAdam(beta1=beta1, beta2=beta2, **kwargs)


def test_all_fixtures_are_present():
    assert {p.stem for p in FIXTURES} == EXPECTED


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_replay_matches_torch_radam(path):
    with np.load(path) as data:
        f = {k: data[k] for k in data.files}
    assert str(f["optimizer"]) == "torch.optim.RAdam" and f["theta0"].dtype == np.float64
    opt = from_torch_kwargs(json.loads(str(f["kwargs_json"])))
    theta = f["theta0"].copy()
    for step, reference in enumerate(f["trajectory"], start=1):
        grad = problem.gradient(theta, step)
        np.testing.assert_array_equal(problem.gradient(
            f["trajectory"][step - 2] if step > 1 else f["theta0"], step), f["grads"][step - 1])
        opt.step(theta, grad)
        atol = FLOAT64_ULPS * float(np.spacing(np.max(np.abs(reference))))
        np.testing.assert_allclose(theta, reference, rtol=FLOAT64_RTOL, atol=atol,
                                   err_msg=f"{path.stem}: θ at step {step}")
    for key in ("m", "v"):
        np.testing.assert_allclose(getattr(opt, key), f[key], rtol=FLOAT64_RTOL,
                                   atol=FLOAT64_ULPS * float(np.spacing(np.max(np.abs(f[key])))))


def by_hand(theta, grads, lr, beta1, beta2, eps, weight_decay=0.0, decoupled=False):
    """torch.optim.RAdam's documented algorithm, one line per line."""
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    rho_max = 2 / (1 - beta2) - 1
    for t, g in enumerate(grads, start=1):
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho_t = rho_max - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 5:
            l_t = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
            r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_max
                          / ((rho_max - 4) * (rho_max - 2) * rho_t))
            theta = theta - lr * m_hat * r_t * l_t
        else:
            theta = theta - lr * m_hat
    return theta


@pytest.mark.parametrize("options", [
    dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8),
    dict(lr=0.05, beta1=0.8, beta2=0.95, eps=1e-3, weight_decay=0.3),
    dict(lr=0.05, beta1=0.0, beta2=0.9, eps=0.0, weight_decay=0.3, decoupled=True),
])
def test_steps_follow_the_algorithm_written_out(options):
    rng = np.random.default_rng(4)
    theta0, grads = rng.standard_normal(5), rng.standard_normal((30, 5))
    opt = RAdam(**{k if k != "decoupled" else "decoupled_weight_decay": v
                   for k, v in options.items()})
    theta = theta0.copy()
    for g in grads:
        opt.step(theta, g)
    np.testing.assert_allclose(theta, by_hand(theta0, grads, **options), rtol=1e-12, atol=1e-14)


def test_first_steps_are_momentum_steps_until_rho_passes_five():
    opt, theta = RAdam(lr=0.1, eps=0.0), np.zeros(2)
    grads = np.array([[1.0, -3.0]] * 6)
    for t, g in enumerate(grads[:5], start=1):
        opt.step(theta, g)
        np.testing.assert_allclose(theta, -0.1 * t * g, rtol=1e-14)   # m̂ = g: θ −= α·g
    opt.step(theta, grads[5])                                          # ρ_6 > 5: adaptive
    assert rho(5) <= RHO_THRESHOLD < rho(6)
    step = 0.1 * rectification(6)                                      # m̂/√v̂ = sign(g)
    np.testing.assert_allclose(theta, -0.5 * grads[0] - step * np.sign(grads[0]), rtol=1e-12)


def test_rho_and_the_rectification():
    assert rho_inf(0.999) == pytest.approx(1999.0, rel=1e-15)
    t = np.array([1, 2, 6, 100, 10**6])
    values = rho(t, 0.999)
    assert values[0] == pytest.approx(1.0, abs=1e-9) and values[-1] == pytest.approx(1999.0)
    assert np.all(np.diff(values) > 0)
    r = rectification(t, 0.999)
    assert np.isnan(r[:2]).all() and 0 < r[2] < r[3] < r[4] == pytest.approx(1.0)
    assert np.isnan(rectification(np.array([5]), 0.5)).all()        # ρ_∞ = 3: never


def test_adaptive_variance_is_the_scaled_inverse_chi_variance():
    rng = np.random.default_rng(0)
    for degrees in (6.0, 20.0):
        psi = np.sqrt(degrees / rng.chisquare(degrees, size=400_000)) / 2.0   # σ = 2
        assert adaptive_variance(degrees, sigma=2.0) == pytest.approx(psi.var(), rel=0.03)
    assert adaptive_variance(np.array([1.5, 2.0]))[0] == np.inf
    big = np.array([200.0, 2000.0])
    np.testing.assert_allclose(adaptive_variance_approx(big), adaptive_variance(big), rtol=0.02)
    assert adaptive_variance_approx(4.0) == np.inf
    with pytest.raises(ValueError, match="rho must be finite and > 0"):
        adaptive_variance(np.array([0.0, 3.0]))


def test_a_sweep_over_lr_and_beta2_equals_the_loop_bit_for_bit():
    # β2 = 0.5 never rectifies (ρ_∞ = 3), 0.9 from t = 7, 0.999 from t = 6
    lrs, beta2s = np.array([1e-2, 1e-1]), np.array([0.5, 0.9, 0.999])
    lr, beta2 = (a.reshape(-1, 1) for a in np.meshgrid(lrs, beta2s, indexing="ij"))
    rng = np.random.default_rng(2)
    theta0, target = rng.standard_normal(4), rng.standard_normal(4)
    sweep, opt = np.tile(theta0, (6, 1)), RAdam(lr=lr, beta2=beta2, weight_decay=0.01)
    for _ in range(25):
        opt.step(sweep, 2 * (sweep - target))
    for k in range(6):
        theta, one = theta0.copy(), RAdam(lr=float(lr[k, 0]), beta2=float(beta2[k, 0]),
                                         weight_decay=0.01)
        for _ in range(25):
            one.step(theta, 2 * (theta - target))
        np.testing.assert_array_equal(sweep[k], theta)


def test_a_saved_state_remembers_the_schedule_and_the_decay():
    # resuming bit for bit is tests/optim/test_state.py's, for every optimizer
    opt = RAdam(lr=schedules.warmup_cosine(0.05, 3, 20), weight_decay=0.1,
                decoupled_weight_decay=True)
    opt.step(np.ones(3), np.ones(3))
    state = opt.state_dict()
    assert str(state["config.lr"]) == "warmup_cosine" and bool(state["config.decoupled_weight_decay"])
    assert "config.amsgrad" not in state and repr(opt).startswith("RAdam(lr=warmup_cosine(")
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        RAdam(lr=schedules.warmup_cosine(0.05, 3, 20), weight_decay=0.1).load_state_dict(state)
    np.testing.assert_allclose(opt.effective_step(), 0.05 / 3 / 0.1)    # α_1/(1 − β1): momentum


def test_float32_stays_float32_and_matches_float64_loosely():
    rng = np.random.default_rng(5)
    grads = rng.standard_normal((12, 3))
    theta32, theta64 = np.ones(3, np.float32), np.ones(3)
    opt32, opt64 = RAdam(lr=0.01), RAdam(lr=0.01)
    for g in grads:
        opt32.step(theta32, g.astype(np.float32))
        opt64.step(theta64, g)
    assert theta32.dtype == opt32.v.dtype == np.float32
    np.testing.assert_allclose(theta32, theta64, rtol=1e-5)


@pytest.mark.parametrize("make, error, match", [
    (lambda: RAdam(lr=-1.0), ValueError, r"lr must be >= 0.0, got -1.0"),
    (lambda: RAdam(beta2=1.0), ValueError, r"beta2 must be in \[0.0, 1.0\), got 1.0"),
    (lambda: RAdam(eps=np.nan), ValueError, "eps must be >= 0.0"),
    (lambda: RAdam(weight_decay=-0.1), ValueError, "weight_decay must be >= 0.0"),
    (lambda: RAdam(maximize=1), TypeError, "maximize must be True or False"),
])
def test_bad_hyperparameters_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_failing_step_changes_nothing():
    opt, theta = RAdam(lr=0.1), np.ones(3)
    opt.step(theta, np.ones(3))
    before, state = theta.copy(), opt.state_dict()
    with pytest.raises(FloatingPointError, match="nothing was updated"):
        opt.step(theta, np.array([1.0, 1e200, 1.0]))
    np.testing.assert_array_equal(theta, before)
    after = opt.state_dict()
    assert opt.t == 1 and all(np.array_equal(after[k], state[k]) for k in state)
    with pytest.raises(ValueError, match="share memory"):
        opt.step(theta, theta)
