"""Resuming from a saved state, broadcast sweeps, NaN/Inf behaviour."""

import numpy as np
import pytest

from adamref.optim import (SGD, AdaBelief, AdaGrad, Adafactor, Adam, AdaMax, AdamW, Lion,
                           NAdam, RAdam, RMSprop, SignSGD, Yogi)

OPTIMIZERS = [
    lambda: Adam(lr=0.01),
    lambda: Adam(lr=0.01, amsgrad=True, weight_decay=0.1),
    lambda: AdamW(lr=0.01, amsgrad=True),
    lambda: Adam(lr=0.01, epsilon_hat=True, bias_correction=False, maximize=True),
    lambda: AdaMax(),
    lambda: SGD(lr=0.01, momentum=0.9, nesterov=True),
    lambda: RMSprop(lr=0.01, momentum=0.5, centered=True),
    lambda: AdaGrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    lambda: Adafactor(lr=0.05, weight_decay=0.01, maximize=True),
    lambda: NAdam(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    lambda: Yogi(initial_accumulator_value=0.1),
    lambda: AdaBelief(lr=0.01, maximize=True),
    lambda: Lion(lr=0.001),
    lambda: SignSGD(lr=0.01, beta1=0.9),
    lambda: RAdam(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
]


def gradients(params, step):
    """A deterministic gradient oracle: quadratic bowl plus step-seeded noise."""
    rng = np.random.default_rng(step)
    return {k: 2.0 * p + rng.standard_normal(p.shape) for k, p in params.items()}


def fresh_params():
    return {"w": np.linspace(-1.0, 1.0, 12).reshape(3, 4), "b": np.array([0.5, -0.5])}


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_resume_from_saved_state_is_bit_identical(make, tmp_path):
    straight, opt = fresh_params(), make()
    for t in range(20):
        opt.step(straight, gradients(straight, t))

    first, opt1 = fresh_params(), make()
    for t in range(10):
        opt1.step(first, gradients(first, t))
    np.savez(tmp_path / "state.npz", **opt1.state_dict())
    np.savez(tmp_path / "params.npz", **first)

    resumed = dict(np.load(tmp_path / "params.npz"))
    opt2 = make()
    opt2.load_state_dict(np.load(tmp_path / "state.npz"))
    assert opt2.t == 10
    for t in range(10, 20):
        opt2.step(resumed, gradients(resumed, t))
    for key in straight:
        np.testing.assert_array_equal(resumed[key], straight[key])
    for name, leaves in opt.state.items():
        for key in leaves:
            np.testing.assert_array_equal(opt2.state[name][key], leaves[key])


def test_state_dict_is_a_copy():
    theta, opt = np.zeros(3), Adam()
    opt.step(theta, np.ones(3))
    saved = opt.state_dict()
    opt.step(theta, np.ones(3))
    assert saved["t"] == 1 and not np.array_equal(saved["m"], opt.m)


def test_load_state_rejects_mismatched_shapes():
    opt = Adam()
    opt.step(np.zeros(3), np.ones(3))
    other = Adam()
    other.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match=r"state\['m'\] has shape \(3,\)"):
        other.step(np.zeros(4), np.ones(4))


def test_load_state_requires_t():
    state = Adam().state_dict()
    del state["t"]
    with pytest.raises(ValueError, match="'t'"):
        Adam().load_state_dict(state)


def test_params_must_keep_their_structure():
    opt = Adam()
    opt.step([np.zeros(2), np.zeros(3)], [np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="do not match the optimizer's state"):
        opt.step([np.zeros(2), np.zeros(4)], [np.ones(2), np.ones(4)])


@pytest.mark.parametrize("make_sweep, make_one", [
    (lambda lr, b2: Adam(lr=lr, beta2=b2, amsgrad=True, weight_decay=0.01),
     lambda lr, b2: Adam(lr=lr, beta2=b2, amsgrad=True, weight_decay=0.01)),
    (lambda lr, b2: Adam(lr=lr, beta2=b2, epsilon_hat=True, weight_decay=0.01,
                         decoupled_weight_decay=True),
     lambda lr, b2: Adam(lr=lr, beta2=b2, epsilon_hat=True, weight_decay=0.01,
                         decoupled_weight_decay=True)),
    (lambda lr, b2: RMSprop(lr=lr, alpha=b2), lambda lr, b2: RMSprop(lr=lr, alpha=b2)),
    (lambda lr, b2: AdaMax(lr=lr, beta2=b2), lambda lr, b2: AdaMax(lr=lr, beta2=b2)),
    # NAdam's product of μ_t per configuration: β1 and ψ arrays against their scalars
    (lambda lr, b2: NAdam(lr=lr, beta1=b2 - 0.05, momentum_decay=lr),
     lambda lr, b2: NAdam(lr=lr, beta1=b2 - 0.05, momentum_decay=lr)),
    (lambda lr, b2: Yogi(lr=lr, beta2=b2), lambda lr, b2: Yogi(lr=lr, beta2=b2)),
    (lambda lr, b2: AdaBelief(lr=lr, beta2=b2), lambda lr, b2: AdaBelief(lr=lr, beta2=b2)),
    (lambda lr, b2: Lion(lr=lr, beta2=b2), lambda lr, b2: Lion(lr=lr, beta2=b2)),
    (lambda lr, b2: SignSGD(lr=lr, beta1=b2), lambda lr, b2: SignSGD(lr=lr, beta1=b2)),
    (lambda lr, b2: RAdam(lr=lr, beta2=b2), lambda lr, b2: RAdam(lr=lr, beta2=b2)),
])
def test_broadcast_sweep_equals_loop_over_configurations(make_sweep, make_one):
    lrs = np.array([1e-3, 1e-2, 1e-1])
    beta2s = np.array([0.9, 0.99, 0.999, 0.9999])
    lr_grid, b2_grid = [a.reshape(-1, 1) for a in np.meshgrid(lrs, beta2s, indexing="ij")]
    k, n = lr_grid.shape[0], 5
    rng = np.random.default_rng(11)
    theta0 = rng.standard_normal(n)
    target = rng.standard_normal(n)

    sweep = np.tile(theta0, (k, 1))
    opt = make_sweep(lr_grid, b2_grid)
    for _ in range(30):
        opt.step(sweep, 2 * (sweep - target))

    for i in range(k):
        theta, one = theta0.copy(), make_one(float(lr_grid[i, 0]), float(b2_grid[i, 0]))
        for _ in range(30):
            one.step(theta, 2 * (theta - target))
        np.testing.assert_array_equal(sweep[i], theta)


def test_hyperparameter_must_broadcast_to_parameter():
    opt = Adam(lr=np.array([[0.1], [0.2]]))
    with pytest.raises(ValueError, match=r"lr has shape \(2, 1\), which does not broadcast"):
        opt.step(np.zeros(5), np.ones(5))


class TestNonFinite:
    """NaN/Inf gradients propagate: the optimizer does not hide a diverging run."""

    def test_nan_gradient_poisons_only_its_coordinate(self):
        theta, opt = np.zeros(3), Adam(lr=0.1)
        opt.step(theta, np.array([1.0, np.nan, 1.0]))
        assert np.isnan(theta[1]) and np.isnan(opt.m[1]) and np.isnan(opt.v[1])
        assert np.isfinite(theta[[0, 2]]).all()

    def test_inf_gradient_gives_nan_parameter(self):
        # m = v = inf, and m̂/√v̂ = inf/inf is NaN: as in PyTorch.
        theta, opt = np.zeros(2), Adam(lr=0.1)
        opt.step(theta, np.array([np.inf, 1.0]))
        assert np.isnan(theta[0]) and np.isinf(opt.v[0]) and np.isfinite(theta[1])

    def test_float32_overflowing_square_raises(self):
        theta, opt = np.zeros(2, np.float32), Adam()
        with pytest.raises(FloatingPointError, match=r"params: overflow .* float32 .* 1e\+20"):
            opt.step(theta, np.array([1e20, 1.0], np.float32))


@pytest.mark.parametrize("make, expected", [
    (lambda: RMSprop(lr=0.02, alpha=0.9), {"lr": 0.02, "alpha": 0.9, "eps": 1e-8}),
    (lambda: SGD(lr=0.5, momentum=0.8), {"lr": 0.5, "momentum": 0.8, "dampening": 0.0}),
    (lambda: Adam(lr=np.array([[0.1], [0.2]])), {"beta1": 0.9}),
])
def test_hyperparameters_are_inspectable(make, expected):
    opt = make()
    for name, value in expected.items():
        assert opt.hyperparameters[name] == value
    opt.hyperparameters["lr"] = -1.0          # a copy: the optimizer is unaffected
    assert np.all(opt.hyperparameters["lr"] != -1.0)
