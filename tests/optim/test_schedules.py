"""Learning-rate schedules (adamref.optim.schedules) and optimizers driven by them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adamref.optim import SGD, AdaGrad, Adam, AdamW, adam_variant_update, schedules


@pytest.mark.parametrize("schedule, expected", [
    (schedules.constant(0.1), [0.1, 0.1, 0.1, 0.1]),
    (schedules.inverse_sqrt(0.1), [0.1, 0.1 / math.sqrt(2), 0.1 / math.sqrt(4), 0.1 / 3.0]),
    (schedules.linear_warmup(0.1, warmup_steps=4), [0.025, 0.05, 0.1, 0.1]),
    # cos(π·t/T) at t/T = 1/4, 1/2, 1 (then constant): (1 + cos)/2 = 0.854, 0.5, 0, 0
    (schedules.cosine_decay(0.1, decay_steps=8, final_lr=0.02),
     [0.02 + 0.08 * (1 + math.cos(math.pi / 4)) / 2, 0.06, 0.02, 0.02]),
    (schedules.warmup_cosine(0.1, warmup_steps=2, decay_steps=4),
     [0.05, 0.1, 0.05, 0.0]),
])
def test_schedule_values(schedule, expected):
    ts = {"constant": [1, 2, 4, 9], "inverse_sqrt": [1, 2, 4, 9],
          "linear_warmup": [1, 2, 4, 100], "cosine_decay": [2, 4, 8, 50],
          "warmup_cosine": [1, 2, 4, 6]}[schedule.name]
    np.testing.assert_allclose([schedule(t) for t in ts], expected, rtol=1e-15, atol=1e-18)


def test_every_named_schedule_is_in_the_registry_and_prints_as_its_call():
    assert sorted(schedules.SCHEDULES) == ["constant", "cosine_decay", "inverse_sqrt",
                                           "linear_warmup", "warmup_cosine"]
    made = schedules.SCHEDULES["warmup_cosine"](0.1, 5, 100, final_lr=0.001)
    assert repr(made) == "warmup_cosine(lr=0.1, warmup_steps=5, decay_steps=100, final_lr=0.001)"
    assert repr(schedules.inverse_sqrt(np.array([0.1, 0.3]))) == "inverse_sqrt(lr=[0.1, 0.3])"
    assert made == schedules.warmup_cosine(0.1, 5, 100, final_lr=0.001)
    assert made != schedules.warmup_cosine(0.1, 5, 100)


@pytest.mark.parametrize("make, error, match", [
    (lambda: schedules.inverse_sqrt(-0.1), ValueError, r"lr must be >= 0.0, got -0.1"),
    (lambda: schedules.constant(np.inf), ValueError, r"lr must be finite, got inf"),
    (lambda: schedules.constant("0.1"), TypeError, r"lr must be a real number"),
    (lambda: schedules.linear_warmup(0.1, 0), ValueError,
     r"warmup_steps must be an integer >= 1, got 0"),
    (lambda: schedules.linear_warmup(0.1, 2.5), TypeError,
     r"warmup_steps must be an integer >= 1, got 2.5"),
    (lambda: schedules.cosine_decay(0.1, 10, final_lr=-1), ValueError,
     r"final_lr must be >= 0.0, got -1"),
    (lambda: schedules.cosine_decay(0.1, 10, final_lr=np.ones(2)), TypeError,
     r"final_lr must be a number"),
    (lambda: schedules.warmup_cosine(0.1, 3, True), TypeError, r"decay_steps must be an integer"),
    (lambda: schedules.inverse_sqrt(0.1)(0), ValueError, r"t must be an integer >= 1, got 0"),
    (lambda: Adam(lr=lambda t: 0.1), TypeError, r"lr must be a real number or an array"),
])
def test_schedules_are_validated_with_the_parameter_and_value(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_adam_with_inverse_sqrt_equals_a_hand_computed_run():
    rng = np.random.default_rng(0)
    theta, grads = rng.standard_normal(6), rng.standard_normal((20, 6))
    opt, ours = Adam(lr=schedules.inverse_sqrt(0.1), amsgrad=True), theta.copy()
    m, v, v_max = np.zeros(6), np.zeros(6), np.zeros(6)
    for t, grad in enumerate(grads, start=1):
        opt.step(ours, grad)
        theta, m, v, v_max = adam_variant_update(theta, grad, m, v, t, lr=0.1 / math.sqrt(t),
                                                 v_max=v_max)
    assert ours.tobytes() == theta.tobytes()


def test_adamw_decays_with_the_scheduled_rate():
    theta, opt = np.ones(2), AdamW(lr=schedules.linear_warmup(0.1, 10), weight_decay=0.5)
    opt.step(theta, np.zeros(2))              # g = 0: only the decay moves θ, by 1 − α_1·λ
    assert theta.tolist() == [1 - 0.01 * 0.5] * 2


def test_adagrad_combines_its_lr_decay_with_a_schedule():
    theta, opt = np.zeros(1), AdaGrad(lr=schedules.inverse_sqrt(1.0), lr_decay=0.5, eps=0.0)
    opt.step(theta, np.ones(1))               # t = 1: lr_1 = 1, s = 1: θ = −1
    opt.step(theta, np.ones(1))               # t = 2: lr_2 = (1/√2)/(1 + 0.5), s = 2
    assert theta[0] == -1 - (1 / math.sqrt(2)) / 1.5 * (1 / math.sqrt(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_sweep_of_base_rates_with_one_schedule_equals_its_single_runs(dtype):
    rates = np.array([0.01, 0.1, 0.3])
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((15, 4)).astype(dtype)
    swept = np.zeros((3, 4), dtype)
    opt = Adam(lr=schedules.inverse_sqrt(rates[:, None]))
    singles = [(np.zeros(4, dtype), Adam(lr=schedules.inverse_sqrt(r))) for r in rates]
    for g in grads:
        opt.step(swept, np.broadcast_to(g, (3, 4)).copy())
        for theta, single in singles:
            single.step(theta, g)
    assert swept.tobytes() == np.stack([theta for theta, _ in singles]).tobytes()


def test_a_schedule_must_broadcast_to_the_params():
    opt = SGD(lr=schedules.constant(np.array([0.1, 0.2, 0.3])))
    with pytest.raises(ValueError, match=r"lr has shape \(3,\), which does not broadcast"):
        opt.step(np.zeros(2), np.ones(2))


def test_a_scheduled_state_round_trips_and_a_different_schedule_is_refused(tmp_path):
    theta = np.ones(3)
    opt = Adam(lr=schedules.warmup_cosine(0.1, 2, 10))
    for _ in range(3):
        opt.step(theta, np.full(3, 0.5))
    np.savez(tmp_path / "state.npz", **opt.state_dict())
    saved = dict(np.load(tmp_path / "state.npz"))
    assert str(saved["config.lr"]) == "warmup_cosine" and float(saved["config.lr.lr"]) == 0.1
    resumed, theta2 = Adam(lr=schedules.warmup_cosine(0.1, 2, 10)), theta.copy()
    resumed.load_state_dict(saved)
    opt.step(theta, np.full(3, 0.5))
    resumed.step(theta2, np.full(3, 0.5))
    assert theta.tobytes() == theta2.tobytes() and resumed.t == 4
    with pytest.raises(ValueError, match=r"saved with lr.warmup_steps=2, this Adam has "
                                         r"lr.warmup_steps=3"):
        Adam(lr=schedules.warmup_cosine(0.1, 3, 10)).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"saved with lr='inverse_sqrt', this Adam has "
                                         r"lr='constant'"):
        Adam(lr=schedules.constant(0.1)).load_state_dict(
            Adam(lr=schedules.inverse_sqrt(0.1)).state_dict())
    with pytest.raises(ValueError, match=r"the state's config has entries"):
        Adam(lr=0.1).load_state_dict(saved)
    other = Adam(lr=schedules.warmup_cosine(0.2, 2, 10))
    other.load_state_dict(saved, check_hyperparameters=False)    # on request: keeps its own
    assert other.hyperparameters["lr"] == schedules.warmup_cosine(0.2, 2, 10)
