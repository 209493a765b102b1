"""Property-based tests: no NaN or Inf appears unless the input had one, over
random shapes, dtypes and magnitudes from 1e-30 to 1e30."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adamref.optim import (SGD, AdaBelief, AdaGrad, Adafactor, Adam, AdaMax, AdamW, Lion,
                           NAdam, RAdam, RMSprop, SignSGD, Yogi, adam_update)

OPTIMIZERS = {
    "adam": lambda: Adam(lr=1e-2),
    "adam-amsgrad-l2": lambda: Adam(lr=1e-2, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda: AdamW(lr=1e-2),
    "keras-form": lambda: Adam(lr=1e-2, eps=1e-7, epsilon_hat=True),
    "no-bias-correction": lambda: Adam(lr=1e-2, bias_correction=False),
    "adamax": lambda: AdaMax(),
    "rmsprop": lambda: RMSprop(),
    "adagrad": lambda: AdaGrad(),
    "sgd-momentum": lambda: SGD(lr=1e-3, momentum=0.9),
    "adafactor": lambda: Adafactor(weight_decay=1e-3),
    "nadam": lambda: NAdam(),
    "nadamw": lambda: NAdam(weight_decay=1e-2, decoupled_weight_decay=True),
    "yogi": lambda: Yogi(),
    "adabelief": lambda: AdaBelief(),
    "lion": lambda: Lion(),
    "signum": lambda: SignSGD(beta1=0.9),
    "radam": lambda: RAdam(lr=1e-2),
}


@st.composite
def problems(draw, dtype):
    """Parameters and 1-6 gradients with magnitudes 10^[-30, 30] and random signs
    (zeros included: sparse gradients)."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=5))
    steps = draw(st.integers(1, 6))

    def magnitudes(shape):
        exponent = draw(hnp.arrays(np.float64, shape, elements=st.floats(-30, 30)))
        sign = draw(hnp.arrays(np.int8, shape, elements=st.sampled_from([-1, 0, 1])))
        return np.asarray(sign * 10.0**exponent, dtype=dtype)

    return magnitudes(shape), [magnitudes(shape) for _ in range(steps)]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_finite_inputs_give_finite_outputs(name, dtype, data):
    theta, grads = data.draw(problems(dtype))
    largest_input = max(np.abs(a).max() for a in [theta, *grads])
    opt = OPTIMIZERS[name]()
    try:
        for g in grads:
            opt.step(theta, g)
    except FloatingPointError:
        # Only where a sum of at most 6 squares cannot be represented: float32
        # with some |g| (or |θ|, through λ·θ) above √(3.4e38/6) ≈ 7.5e18.  It is
        # raised instead of storing an infinite v.
        assert dtype == np.float32 and largest_input > 1e18
        return
    assert theta.dtype == dtype
    assert np.isfinite(theta).all()
    for buffer in opt.state.values():
        assert np.isfinite(buffer).all()


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_float32_never_raises_below_the_square_root_of_its_range(data):
    theta, grads = data.draw(problems(np.float32))
    limit = np.float32(1e19)
    grads = [np.asarray(np.clip(g, -limit, limit)) for g in grads]
    opt = Adam(lr=1e-2)
    for g in grads:
        opt.step(theta, g)
    assert np.isfinite(theta).all() and np.isfinite(opt.v).all()


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_adam_update_finite_in_float64(data):
    theta, grads = data.draw(problems(np.float64))
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        theta, m, v = adam_update(theta, g, m, v, t)
    assert np.isfinite(theta).all() and np.isfinite(m).all() and np.isfinite(v).all()


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_step_never_exceeds_the_sparse_bound(data):
    # |Δθ| ≤ α·(1 − β1)/√(1 − β2)·(bias-correction factor ≤ 1.0) for any gradients.
    theta, grads = data.draw(problems(np.float64))
    theta = np.asarray(theta.clip(-1e20, 1e20))
    opt = Adam(lr=1e-3)
    for g in grads:
        before = theta.copy()
        opt.step(theta, g)
        assert (np.abs(theta - before) <= 1e-3 * 0.1 / np.sqrt(0.001) * (1 + 1e-9)
                + 1e-15 * np.abs(before)).all()
