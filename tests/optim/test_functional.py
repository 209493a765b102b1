"""``adamref.optim.functional``."""

import numpy as np
import pytest

import adamref
from adamref.lab.per_parameter_steps import steps_along
from adamref.optim.functional import (OptaxAMSGrad, optax_adam_update, optax_amsgrad_update,
                                      paper_adamw_update)


RNG = np.random.default_rng(7)


GRADS = RNG.standard_normal((30, 4)) * np.array([1e-3, 1.0, 10.0, 1e3])


def test_optax_adam_without_eps_root_is_adam_update():
    theta, m, v = np.ones(4), np.zeros(4), np.zeros(4)
    ref = (theta, m, v)
    for t, g in enumerate(GRADS, start=1):
        theta, m, v = optax_adam_update(theta, g, m, v, t, lr=0.1)
        ref = adamref.adam_update(*ref[:1], g, *ref[1:], t, lr=0.1)
    np.testing.assert_allclose(theta, ref[0], rtol=1e-15)


def test_eps_root_floors_the_denominator_at_its_root():
    g = np.array([1e-6])
    theta, _, _ = optax_adam_update(np.zeros(1), g, np.zeros(1), np.zeros(1), 1, lr=1.0,
                                    eps=0.0, eps_root=1e-8)
    assert -theta[0] == pytest.approx(1e-6 / np.sqrt(1e-12 + 1e-8), rel=1e-12)


def test_optax_amsgrad_keeps_max_of_bias_corrected_v():
    theta, m, v, v_max = np.ones(4), np.zeros(4), np.zeros(4), np.zeros(4)
    v_hats = []
    for t, g in enumerate(GRADS, start=1):
        theta, m, v, v_max = optax_amsgrad_update(theta, g, m, v, v_max, t, lr=0.1)
        v_hats.append(v / (1 - 0.999**t))
    np.testing.assert_allclose(v_max, np.max(v_hats, axis=0), rtol=1e-15)
    # PyTorch's buffer is the max of the raw v: different, and smaller
    torch = adamref.Adam(lr=0.1, amsgrad=True)
    theta_t = np.ones(4)
    for g in GRADS:
        torch.step(theta_t, g)
    assert np.all(torch.v_max < v_max)


def test_optax_amsgrad_equals_pytorch_for_constant_gradients():
    grads = np.ones((50, 2)) * np.array([0.3, -5.0])
    ours = steps_along(OptaxAMSGrad(lr=0.01), grads)
    torch = steps_along(adamref.Adam(lr=0.01, amsgrad=True), grads)
    np.testing.assert_allclose(ours, torch, rtol=1e-9)


def test_optax_amsgrad_locks_in_after_gradients_shrink():
    grads = np.where(np.arange(500) < 10, 1.0, 0.01)[:, None]
    ours = np.abs(steps_along(OptaxAMSGrad(lr=1.0), grads))[:, 0]
    torch = np.abs(steps_along(adamref.Adam(lr=1.0, amsgrad=True), grads))[:, 0]
    assert ours[-1] == pytest.approx(0.01, rel=1e-3)   # v_max stuck at v̂_1 = 1
    assert torch[-1] > 3 * ours[-1]


def test_paper_adamw_is_pytorch_adamw_with_decay_divided_by_lr():
    lr, lam = 1e-2, 0.05
    theta, m, v = np.ones(4), np.zeros(4), np.zeros(4)
    torch_theta, torch = np.ones(4), adamref.Adam(lr=lr, weight_decay=lam / lr,
                                                  decoupled_weight_decay=True)
    for t, g in enumerate(GRADS, start=1):
        theta, m, v = paper_adamw_update(theta, g, m, v, t, lr=lr, weight_decay=lam)
        torch.step(torch_theta, g)
    np.testing.assert_allclose(theta, torch_theta, rtol=1e-12)


def test_paper_adamw_schedule_multiplier_scales_the_whole_step():
    args = (np.ones(2), np.array([1.0, -1.0]), np.zeros(2), np.zeros(2), 1)
    full, _, _ = paper_adamw_update(*args, lr=0.1, weight_decay=0.2)
    half, _, _ = paper_adamw_update(*args, lr=0.1, weight_decay=0.2, schedule_multiplier=0.5)
    np.testing.assert_allclose(1 - half, 0.5 * (1 - full), rtol=1e-12)

