"""What is particular to Part V's optimizers (``adamref.optim.family`` and
``adamref.optim.sign``): NAdam's momentum schedule and its product, Yogi's
additive v, AdaBelief's surprise, Lion's and sign descent's constant step.
The interface they share with every optimizer (state, validation, atomic
failure, the pure forms) is tested with the others in this folder; the
trajectories against PyTorch and Optax in ``test_reference_fixtures.py``."""

import numpy as np
import pytest

from adamref.optim import (Adam, AdaBelief, Lion, NAdam, SignSGD, Yogi, nadam_update,
                           yogi_update)
from adamref.optim.functional import nadam_decay_base, nadam_momentum
from adamref.optim.optimizer import POWER_BLOCK


def torch_mu(t, beta1=0.9, psi=4e-3):
    """``torch.optim.NAdam``'s μ_t, as torch writes it."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))


def test_nadam_momentum_schedule_is_torch_s_to_rounding():
    steps = np.arange(1, 2001)
    ours = nadam_momentum(0.9, nadam_decay_base(4e-3), steps)
    np.testing.assert_allclose(ours, torch_mu(steps), rtol=1e-13, atol=0)
    assert ours[0] == pytest.approx(0.9 * (1 - 0.5 * 0.96 ** 0.004), rel=1e-15)
    # the scalar form, step by step, gives the table's bits
    assert [nadam_momentum(0.9, nadam_decay_base(4e-3), int(t)) for t in steps[:300]] \
        == ours[:300].tolist()


def test_nadam_product_is_sequential_and_vanishes_exactly():
    opt = NAdam()
    mu, mu_next, product = opt.momentum_schedule(np.arange(1, 801))
    expected, running = [], 1.0
    for t in range(1, 801):
        running *= torch_mu(t)
        expected.append(running)
    expected = np.array(expected)
    live = expected >= 2.0**-54
    np.testing.assert_allclose(product[live], expected[live], rtol=1e-12)
    assert np.all(product[~live] == 0) and (~live).sum() > 100   # vanished, and stays 0
    np.testing.assert_array_equal(mu_next[:-1], mu[1:])
    # 1 − p is 1 either way once p < 2^-54: the constants do not see the zero
    assert np.all(1 - expected[~live] == 1.0)


def test_nadam_constants_do_not_depend_on_how_the_product_was_reached():
    # a fresh optimizer at t = 5000 (recomputed from t = 1) and one that got
    # there block by block give the same constants
    stepped_through, fresh = NAdam(), NAdam()
    for first in range(1, 5001, 700):
        stepped_through.momentum_schedule(np.arange(first, first + 700))
    assert fresh.momentum_schedule(5000) == stepped_through.momentum_schedule(5000)
    assert NAdam(beta1=0.0).momentum_schedule(10**6)[2] == 0.0


def test_nadam_across_constant_blocks_and_a_resume_equals_its_pure_form():
    rng = np.random.default_rng(4)
    theta = rng.standard_normal(5)
    opt, ours = NAdam(lr=0.01, momentum_decay=0.05), theta.copy()
    m, v, product = np.zeros(5), np.zeros(5), 1.0
    for t in range(1, POWER_BLOCK + 40):
        grad = rng.standard_normal(5)
        if t == POWER_BLOCK - 3:                   # resume: the product is recomputed
            resumed = NAdam(lr=0.01, momentum_decay=0.05)
            resumed.load_state_dict(opt.state_dict())
            opt = resumed
        opt.step(ours, grad)
        theta, m, v, product = nadam_update(theta, grad, m, v, product, t, lr=0.01,
                                            momentum_decay=0.05)
    assert ours.tobytes() == theta.tobytes()


def test_nadam_without_momentum_decay_uses_half_of_beta1():
    # ψ = 0: μ_t = β1/2 at every step, ∏ μ_i = (β1/2)^t
    mu, mu_next, product = NAdam(momentum_decay=0.0).momentum_schedule(np.arange(1, 6))
    np.testing.assert_array_equal(mu, 0.45)
    np.testing.assert_allclose(product, 0.45 ** np.arange(1, 6), rtol=1e-15)


def test_nadam_first_step_is_lr_times_sign_like_adam():
    # m̂ and v̂ of one gradient: (1 − μ1)/(1 − μ1)·g + μ2/(1 − μ1μ2)·(1 − β1)·g over |g|
    theta = np.zeros(3)
    NAdam(lr=0.1, eps=0.0).step(theta, np.array([2.0, -3.0, 0.5]))
    mu1, mu2 = torch_mu(1), torch_mu(2)
    size = 0.1 * (1 + mu2 * 0.1 / (1 - mu1 * mu2))
    np.testing.assert_allclose(theta, -size * np.array([1.0, -1.0, 1.0]), rtol=1e-14)


def test_yogi_moves_v_additively_where_adam_moves_it_geometrically():
    # after large gradients, small ones: Adam's v shrinks by the factor β2 per
    # step, Yogi's by (1 − β2)·g² only
    yogi, adam = Yogi(lr=0.0, beta2=0.9), Adam(lr=0.0, beta2=0.9)
    theta_y, theta_a = np.zeros(1), np.zeros(1)
    for _ in range(30):
        yogi.step(theta_y, np.ones(1))
        adam.step(theta_a, np.ones(1))
    v_yogi, v_adam = yogi.v.copy(), adam.v.copy()
    yogi.step(theta_y, np.full(1, 0.1))
    adam.step(theta_a, np.full(1, 0.1))
    assert v_yogi - yogi.v == pytest.approx(0.1 * 0.01, rel=1e-12)          # (1 − β2)·g²
    assert v_adam - adam.v == pytest.approx(0.1 * (v_adam - 0.01), rel=1e-12)   # (1 − β2)(v − g²)


def test_yogi_v_stays_positive_and_shrinks_at_most_by_beta2():
    # v > g²: v − (1 − β2)g² lies in (β2·v, v] (v where g² is below its rounding);
    # v < g²: v grows by (1 − β2)g²
    rng = np.random.default_rng(0)
    m, v = np.full(100, 1e-6), np.full(100, 1e-6)
    theta, shrunk = np.zeros(100), 0
    for t in range(1, 50):
        grad = rng.standard_normal(100) * 10.0 ** rng.uniform(-3, 3, 100)
        before = v
        theta, m, v = yogi_update(theta, grad, m, v, t, beta2=0.5)
        shrinks = before > grad**2
        shrunk += shrinks.sum()
        assert np.all(v > 0)
        assert np.all((v[shrinks] <= before[shrinks]) & (v[shrinks] > 0.5 * before[shrinks]))
        np.testing.assert_allclose(v[~shrinks], before[~shrinks] + 0.5 * grad[~shrinks]**2,
                                   rtol=1e-15)
    assert 200 < 4900 - shrunk < 4700    # both cases occur


def test_adabelief_takes_large_steps_when_the_gradient_is_predictable():
    # a constant gradient: g − m → 0, s → eps_root, the step grows past α
    theta, opt = np.zeros(1), AdaBelief(lr=1e-3)
    steps = []
    for _ in range(3000):
        before = theta.copy()
        opt.step(theta, np.ones(1))
        steps.append(float(before[0] - theta[0]))
    assert steps[0] == pytest.approx(1e-3 / 0.9, rel=1e-12)   # ŝ₁ = (0.9g)²
    assert steps[-1] > 5 * 1e-3                                 # Adam's stays ≤ α here
    adam_theta, adam = np.zeros(1), Adam(lr=1e-3)
    for _ in range(3000):
        adam.step(adam_theta, np.ones(1))
    assert abs(adam_theta[0]) < 3.0 < abs(theta[0])


@pytest.mark.parametrize("make", [lambda: Lion(lr=0.01, weight_decay=0.0),
                                  lambda: SignSGD(lr=0.01),
                                  lambda: SignSGD(lr=0.01, beta1=0.9)])
def test_sign_methods_move_each_coordinate_by_lr_whatever_the_scale(make):
    rng = np.random.default_rng(2)
    scales = np.array([1e-8, 1.0, 1e8])
    theta, opt = np.zeros(3), make()
    for _ in range(20):
        before = theta.copy()
        opt.step(theta, (1 + 0.1 * rng.standard_normal(3)) * scales)
        np.testing.assert_allclose(np.abs(theta - before), 0.01, rtol=1e-12)


def test_lion_s_step_uses_beta1_and_its_memory_beta2():
    # one large gradient, then zeros: the step's sign follows β1·m, m decays with β2
    theta, opt = np.zeros(1), Lion(lr=1.0, weight_decay=0.0)
    opt.step(theta, np.ones(1))
    assert theta[0] == -1.0 and opt.m[0] == pytest.approx(0.01)
    opt.step(theta, -np.full(1, 0.05))       # (1 − β1)(−0.05) + β1·0.01 > 0: still down
    assert theta[0] == -2.0
    opt.step(theta, -np.full(1, 0.2))        # the gradient wins: up
    assert theta[0] == -1.0
