"""Bad input fails at the call with an error that names the parameter and value."""

import numpy as np
import pytest

import adamref
from adamref.optim import SGD, AdaGrad, Adam, AdaMax, AdamW, RMSprop, adam_update
from adamref.optim import AdaBelief, Lion, NAdam, SignSGD, Yogi, lion_update, nadam_update
from adamref.optim import validation as check


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -0.1}, r"lr must be >= 0.0, got -0.1"),
    ({"lr": float("nan")}, r"lr must be >= 0.0, got nan"),
    ({"beta1": 1.0}, r"beta1 must be in \[0.0, 1.0\), got 1.0"),
    ({"beta1": -0.5}, r"beta1 must be in \[0.0, 1.0\), got -0.5"),
    ({"beta2": 1.5}, r"beta2 must be in \[0.0, 1.0\), got 1.5"),
    ({"eps": -1e-8}, r"eps must be >= 0.0, got -1e-08"),
    ({"weight_decay": -0.01}, r"weight_decay must be >= 0.0, got -0.01"),
    ({"lr": np.array([0.1, -2.0])}, r"lr must be >= 0.0, got -2.0"),
])
def test_bad_hyperparameters_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Adam(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": "0.1"}, r"lr must be a real number .* got str '0.1'"),
    ({"lr": None}, r"lr must be a real number .* got NoneType None"),
    ({"beta1": True}, r"beta1 must be a real number .* got True"),
    ({"amsgrad": "no"}, r"amsgrad must be True or False, got 'no'"),
    ({"epsilon_hat": 1}, r"epsilon_hat must be True or False, got 1"),
    ({"lr": np.array(["a"])}, r"lr must be a real number or a non-empty array"),
])
def test_wrong_types_raise_type_error(kwargs, message):
    with pytest.raises(TypeError, match=message):
        Adam(**kwargs)


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(lr=-1), r"lr must be >= 0.0, got -1.0"),
    (lambda: SGD(momentum=1.0), r"momentum must be in \[0.0, 1.0\), got 1.0"),
    (lambda: SGD(momentum=0.0, nesterov=True), r"nesterov=True needs momentum > 0"),
    (lambda: RMSprop(alpha=1.2), r"alpha must be in \[0.0, 1.0\), got 1.2"),
    (lambda: AdaGrad(lr_decay=-1), r"lr_decay must be >= 0.0, got -1.0"),
    (lambda: AdaGrad(initial_accumulator_value=-1), r"initial_accumulator_value must be >= 0"),
    (lambda: AdaMax(beta2=1.0), r"beta2 must be in \[0.0, 1.0\), got 1.0"),
    (lambda: AdamW(weight_decay=-1), r"weight_decay must be >= 0.0, got -1.0"),
    (lambda: adamref.keras_adam(learning_rate=-3), r"learning_rate must be >= 0.0, got -3.0"),
    (lambda: NAdam(momentum_decay=-1), r"momentum_decay must be >= 0.0, got -1.0"),
    (lambda: NAdam(beta1=1.0), r"beta1 must be in \[0.0, 1.0\), got 1.0"),
    (lambda: Yogi(eps=-1e-3), r"eps must be >= 0.0, got -0.001"),
    (lambda: Yogi(initial_accumulator_value=-1), r"initial_accumulator_value must be >= 0"),
    (lambda: AdaBelief(eps_root=-1e-16), r"eps_root must be >= 0.0, got -1e-16"),
    (lambda: Lion(beta2=1.0), r"beta2 must be in \[0.0, 1.0\), got 1.0"),
    (lambda: Lion(weight_decay=-0.1), r"weight_decay must be >= 0.0, got -0.1"),
    (lambda: SignSGD(beta1=-0.5), r"beta1 must be in \[0.0, 1.0\), got -0.5"),
    (lambda: SignSGD(lr=np.array([0.1, -1.0])), r"lr must be >= 0.0, got -1.0"),
])
def test_every_optimizer_validates(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("params, grads, error, message", [
    (np.zeros(3), np.zeros(4), ValueError, r"grads has shape \(4,\) but params has shape \(3,\)"),
    (np.zeros(3, int), np.zeros(3), TypeError, r"params must have a floating dtype .* int64"),
    (np.zeros(3), np.zeros(3, int), TypeError, r"grads must have a floating dtype .* int64"),
    ([1.0, 2.0], [1.0, 2.0], TypeError, r"params\[0\] must be a NumPy ndarray of floats, got float"),
    (3.0, 1.0, TypeError, r"params must be a NumPy ndarray, or a list or dict of ndarrays, got float"),
    ([np.zeros(2)], np.zeros(2), ValueError, r"grads must have the same structure as params"),
    ([np.zeros(2)], [np.zeros(2), np.zeros(2)], ValueError, r"params is a list of 1 ndarrays, grads is a list of 2"),
    ({"w": np.zeros(2)}, {"b": np.zeros(2)}, ValueError, r"params is a dict with keys \['w'\]"),
    ({"w": np.zeros(2)}, {"w": np.zeros(3)}, ValueError, r"grads\['w'\] has shape \(3,\) but params\['w'\]"),
    ([], [], ValueError, r"params must not be empty"),
])
def test_bad_params_or_grads(params, grads, error, message):
    with pytest.raises(error, match=message):
        Adam().step(params, grads)


def test_read_only_params_are_rejected():
    theta = np.zeros(3)
    theta.flags.writeable = False
    with pytest.raises(ValueError, match=r"params is read-only"):
        Adam().step(theta, np.ones(3))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"t": 0}, ValueError, r"t must be an integer >= 1, got 0"),
    ({"t": 1.5}, TypeError, r"t must be an integer >= 1, got 1.5"),
    ({"lr": -1.0}, ValueError, r"lr must be >= 0.0, got -1.0"),
    ({"beta2": 1.0}, ValueError, r"beta2 must be in \[0.0, 1.0\), got 1.0"),
    ({"m": np.zeros(4)}, ValueError, r"m has shape \(4,\) but theta has shape \(3,\)"),
    ({"grad": [1.0, 2.0, 3.0]}, TypeError, r"grad must be a NumPy ndarray of floats, got list"),
])
def test_adam_update_validates(kwargs, error, message):
    args = dict(theta=np.zeros(3), grad=np.ones(3), m=np.zeros(3), v=np.zeros(3), t=1)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        adam_update(**args)


@pytest.mark.parametrize("call, error, message", [
    (lambda: nadam_update(np.zeros(3), np.ones(3), np.zeros(3), np.zeros(3), 1.5, 1),
     ValueError, r"mu_product must be in \[0.0, 1.0\], got 1.5"),
    (lambda: nadam_update(np.zeros(3), np.ones(3), np.zeros(3), np.zeros(3), 1.0, 1,
                          momentum_decay=np.array([1e-3, 1e-3])),
     ValueError, r"momentum_decay has shape \(2,\), which does not broadcast"),
    (lambda: lion_update(np.zeros(3), np.ones(3), np.zeros(3), 0), ValueError,
     r"t must be an integer >= 1, got 0"),
    (lambda: lion_update(np.zeros(3), np.ones(3), np.zeros(3), 1, beta1=1.0), ValueError,
     r"beta1 must be in \[0.0, 1.0\), got 1.0"),
    (lambda: adamref.optim.sign_sgd_update(np.zeros(3), np.ones(3), None, 1, beta1=0.9),
     ValueError, r"beta1=0.9 needs a momentum m, got m=None"),
    (lambda: adamref.optim.adabelief_update(np.zeros(3), np.ones(3), np.zeros(3),
                                            -np.ones(3), 1),
     ValueError, r"s must be >= 0"),
])
def test_the_family_s_pure_functions_validate(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("value", [0, np.array([1, 0]), np.array([], dtype=int), 1.0,
                                   np.array([1.5])])
def test_step_counts_are_integers_from_one(value):
    with pytest.raises(ValueError, match=r"t must be an integer \(or integer array\) >= 1"):
        check.step_counts("t", value)


def test_step_counts_returns_the_array():
    np.testing.assert_array_equal(check.step_counts("t", [1, 5]), [1, 5])
    assert check.step_counts("t", 3).shape == ()
