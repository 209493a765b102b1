"""Every optimizer class equals its pure function (``adamref.optim.functional``),
on every engine path, in float32 and float64.

The classes update in place, block by block, with ``out=`` into scratch; the
pure functions return new arrays from whole-array expressions.  They are
written in the same operation order, so they must agree bit for bit: any
difference means the class does not compute what its readable form says.
The paths (see ``adamref.optim.engine``):

- ``small``: one contiguous block, run directly;
- ``chunked``: a contiguous array larger than ``CHUNK``, cut into chunks shared
  by threads (``CHUNK`` is shrunk to 64 so that 1000 elements make 16 chunks
  over 3 threads);
- ``strided``: a non-contiguous view (whole-array path);
- ``sweep``: array hyperparameters, K = 3 configurations (whole-array path).
"""

from __future__ import annotations

import numpy as np
import pytest

import adamref.optim.engine as engine
from adamref.optim import (SGD, AdaGrad, AdaMax, Adam, AdamW, RMSprop, adagrad_update,
                           adam_update, adam_variant_update, adamax_update, keras_adam,
                           rmsprop_update, sgd_update)
from adamref.optim import (AdaBelief, Lion, NAdam, SignSGD, Yogi, adabelief_update,
                           lion_update, nadam_update, sign_sgd_update, yogi_update)

STEPS = 5


def adam_family(make, **pure):
    """A variant of ``Adam``: the class from ``make(**hyper)``, the pure form
    ``adam_variant_update`` with the same switches (``pure``)."""
    amsgrad = pure.pop("amsgrad", False)

    def step(theta, grad, state, t, hyper):
        theta, m, v, v_max = adam_variant_update(theta, grad, state["m"], state["v"], t,
                                                 v_max=state.get("v_max"), **hyper, **pure)
        return theta, {"m": m, "v": v, **({"v_max": v_max} if amsgrad else {})}
    names = ("m", "v", "v_max") if amsgrad else ("m", "v")
    return make, step, names


def adamax(**flags):
    def step(theta, grad, state, t, hyper):
        theta, m, u = adamax_update(theta, grad, state["m"], state["u"], t, **hyper, **flags)
        return theta, {"m": m, "u": u}
    return (lambda **h: AdaMax(**h, **flags)), step, ("m", "u")


def sgd(momentum=0.0, **flags):
    def step(theta, grad, state, t, hyper):
        theta, b = sgd_update(theta, grad, state.get("momentum_buffer"), t,
                              momentum=momentum, **hyper, **flags)
        return theta, ({} if b is None else {"momentum_buffer": b})
    names = ("momentum_buffer",) if momentum else ()
    return (lambda **h: SGD(momentum=momentum, **h, **flags)), step, names


def rmsprop(centered=False, momentum=0.0, **flags):
    names = ("v",) + (("grad_avg",) if centered else ()) + (("momentum_buffer",)
                                                             if momentum else ())

    def step(theta, grad, state, t, hyper):
        theta, v, avg, b = rmsprop_update(theta, grad, state["v"], t, momentum=momentum,
                                          grad_avg=state.get("grad_avg"),
                                          momentum_buffer=state.get("momentum_buffer"),
                                          **hyper, **flags)
        out = {"v": v, "grad_avg": avg, "momentum_buffer": b}
        return theta, {k: out[k] for k in names}
    return (lambda **h: RMSprop(centered=centered, momentum=momentum, **h, **flags)), step, names


def adagrad(initial_accumulator_value=0.0, **flags):
    def step(theta, grad, state, t, hyper):
        theta, s = adagrad_update(theta, grad, state["sum"], t, **hyper, **flags)
        return theta, {"sum": s}
    make = (lambda **h: AdaGrad(initial_accumulator_value=initial_accumulator_value,
                                **h, **flags))
    return make, step, ("sum",)


def nadam(**flags):
    """NAdam: the pure form carries ∏ μ_i, which the class computes from t."""
    def step(theta, grad, state, t, hyper):
        product = state.get("mu_product", 1.0)
        theta, m, v, product = nadam_update(theta, grad, state["m"], state["v"], product, t,
                                            **hyper, **flags)
        return theta, {"m": m, "v": v, "mu_product": product}
    return (lambda **h: NAdam(**h, **flags)), step, ("m", "v")


def moments_pair(cls, pure, second, **flags):
    """An optimizer with buffers ``m`` and ``second`` and its pure form."""
    def step(theta, grad, state, t, hyper):
        theta, m, other = pure(theta, grad, state["m"], state[second], t, **hyper, **flags)
        return theta, {"m": m, second: other}
    return (lambda **h: cls(**h, **flags)), step, ("m", second)


def lion(**flags):
    def step(theta, grad, state, t, hyper):
        theta, m = lion_update(theta, grad, state["m"], t, **hyper, **flags)
        return theta, {"m": m}
    return (lambda **h: Lion(**h, **flags)), step, ("m",)


def sign_sgd(beta1=0.0, **flags):
    def step(theta, grad, state, t, hyper):
        theta, m = sign_sgd_update(theta, grad, state.get("m"), t, beta1=beta1, **hyper, **flags)
        return theta, ({} if m is None else {"m": m})
    return (lambda **h: SignSGD(beta1=beta1, **h, **flags)), step, ("m",) if beta1 else ()


def keras(**h):
    return keras_adam(learning_rate=h["lr"], weight_decay=0.004)


#: name: ((make, pure step, buffer names), the learning rate).
VARIANTS = {
    "Adam": (adam_family(Adam), 0.01),
    "Adam amsgrad": (adam_family(lambda **h: Adam(**h, amsgrad=True), amsgrad=True), 0.01),
    "Adam L2": (adam_family(lambda **h: Adam(**h, weight_decay=0.1), weight_decay=0.1), 0.01),
    "Adam decoupled": (adam_family(
        lambda **h: Adam(**h, weight_decay=0.1, decoupled_weight_decay=True),
        weight_decay=0.1, decoupled_weight_decay=True), 0.01),
    "Adam epsilon_hat": (adam_family(lambda **h: Adam(**h, epsilon_hat=True),
                                     epsilon_hat=True), 0.01),
    "Adam no bias correction": (adam_family(lambda **h: Adam(**h, bias_correction=False),
                                            bias_correction=False), 0.01),
    "Adam maximize": (adam_family(lambda **h: Adam(**h, maximize=True), maximize=True), 0.01),
    "AdamW": (adam_family(AdamW, weight_decay=1e-2, decoupled_weight_decay=True), 0.01),
    "keras_adam": (adam_family(keras, weight_decay=0.004,
                               decoupled_weight_decay=True, epsilon_hat=True), 0.01),
    "AdaMax": (adamax(), 0.01),
    "AdaMax L2 maximize": (adamax(weight_decay=0.1, maximize=True), 0.01),
    "SGD": (sgd(), 0.1),
    "SGD momentum": (sgd(0.9), 0.1),
    "SGD nesterov": (sgd(0.9, nesterov=True), 0.1),
    "SGD dampening": (sgd(0.9, dampening=0.3), 0.1),
    "SGD weight decay maximize": (sgd(0.5, weight_decay=0.1, maximize=True), 0.1),
    "RMSprop": (rmsprop(), 0.01),
    "RMSprop centered": (rmsprop(centered=True), 0.01),
    "RMSprop momentum": (rmsprop(momentum=0.9), 0.01),
    "RMSprop centered momentum L2": (rmsprop(True, 0.5, weight_decay=0.1), 0.01),
    "AdaGrad lr_decay": (adagrad(lr_decay=0.01), 0.1),
    "AdaGrad initial accumulator": (adagrad(0.1, lr_decay=0.01), 0.1),
    "NAdam": (nadam(), 0.01),
    "NAdam L2 maximize": (nadam(weight_decay=0.1, maximize=True), 0.01),
    "NAdamW": (nadam(weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01), 0.01),
    "Yogi": (moments_pair(Yogi, yogi_update, "v"), 0.01),
    "Yogi L2 maximize": (moments_pair(Yogi, yogi_update, "v", weight_decay=0.1, maximize=True),
                         0.01),
    "AdaBelief": (moments_pair(AdaBelief, adabelief_update, "s"), 0.01),
    "AdaBelief L2 maximize eps": (moments_pair(AdaBelief, adabelief_update, "s", eps=1e-8,
                                               eps_root=1e-10, weight_decay=0.1,
                                               maximize=True), 0.01),
    "Lion": (lion(), 0.001),
    "Lion no decay maximize": (lion(weight_decay=0.0, maximize=True), 0.001),
    "SignSGD": (sign_sgd(), 0.01),
    "SignSGD signum L2 maximize": (sign_sgd(0.9, weight_decay=0.1, maximize=True), 0.01),
}

#: Buffers that start at a value other than 0.
INITIAL = {"AdaGrad initial accumulator": {"sum": 0.1}, "Yogi": {"m": 1e-6, "v": 1e-6},
           "Yogi L2 maximize": {"m": 1e-6, "v": 1e-6}}

#: Adam's pure form takes eps for keras_adam; the others take only lr.
PURE_HYPER = {"keras_adam": lambda lr: {"lr": lr, "eps": 1e-7}}


def arrays(path, dtype, rng):
    """Parameters and a gradient sequence for one engine path; the learning
    rate as a number, or as a (3, 1) array for the sweep."""
    if path == "small":
        shape = (3, 5)
    elif path == "chunked":
        shape = (1000,)
    else:
        shape = (3, 40)
    theta = rng.standard_normal(shape).astype(dtype)
    grads = rng.standard_normal((STEPS, *shape)).astype(dtype)
    if path == "strided":
        base = np.zeros((3, 80), dtype)
        base[:, ::2] = theta
        theta = base[:, ::2]                       # not contiguous: whole-array path
    return theta, grads


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK", 64)
    monkeypatch.setattr(engine, "THREADS", 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", ["small", "chunked", "strided", "sweep"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_class_equals_its_pure_function_bit_for_bit(name, path, dtype, small_chunks):
    (make, pure_step, names), lr = VARIANTS[name]
    rng = np.random.default_rng(7)
    theta, grads = arrays(path, dtype, rng)
    if path == "sweep":
        lr = np.array([[lr], [lr / 3], [lr * 2]])  # three configurations, one per row
    opt = make(lr=lr)
    pure_theta = theta.copy()
    state = {k: np.full_like(theta, INITIAL.get(name, {}).get(k, 0.0)) for k in names}
    for t, grad in enumerate(grads, start=1):
        opt.step(theta, grad)
        hyper = PURE_HYPER.get(name, lambda lr: {"lr": lr})(lr)
        pure_theta, state = pure_step(pure_theta, grad, state, t, hyper)
    assert theta.dtype == pure_theta.dtype == dtype
    assert np.asarray(theta).tobytes() == pure_theta.tobytes(), name
    for key in names:
        ours = opt.state[key]
        assert ours.tobytes() == np.ascontiguousarray(state[key]).tobytes(), key
    assert set(opt.state) == set(names)


def test_a_real_chunk_size_split_over_threads_equals_the_pure_function():
    """The shrunk CHUNK above exercises the logic; this one the real size."""
    n = 2 * engine.CHUNK + 123
    rng = np.random.default_rng(3)
    theta, grads = rng.standard_normal(n), rng.standard_normal((3, n))
    opt, pure, m, v = Adam(lr=0.01, amsgrad=True), theta.copy(), np.zeros(n), np.zeros(n)
    v_max = np.zeros(n)
    for t, grad in enumerate(grads, start=1):
        opt.step(theta, grad)
        pure, m, v, v_max = adam_variant_update(pure, grad, m, v, t, lr=0.01, v_max=v_max)
    assert theta.tobytes() == pure.tobytes() and opt.v_max.tobytes() == v_max.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_paper_s_adam_update_agrees_with_adam_to_rounding(dtype):
    """``adam_update`` is Algorithm 1 as printed: ``β1·m + (1 − β1)·g`` where
    ``Adam`` computes ``m + (1 − β1)(g − m)``, and ``m̂ = m/(1 − β1^t)`` before
    the division where ``Adam`` scales the quotient.  Equal in exact arithmetic;
    each of the ~12 operations of a step rounds by at most half an ulp, so each
    step's displacement ``α·m̂/(√v̂ + ε)`` (|·| ≤ α·(1 − β1)/√(1 − β2) ≈ 3.2α
    here) agrees to a few dozen ulps of its size: the bound below is 64 ulps of
    α per step, summed over the steps."""
    rng = np.random.default_rng(11)
    theta = rng.standard_normal(50).astype(dtype)
    grads = rng.standard_normal((STEPS, 50)).astype(dtype)
    opt, ours = Adam(lr=0.01), theta.copy()
    paper, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    for t, grad in enumerate(grads, start=1):
        opt.step(ours, grad)
        paper, m, v = adam_update(paper, grad, m, v, t, lr=0.01)
    bound = STEPS * 64 * np.finfo(dtype).eps * 0.01
    gap = np.max(np.abs(ours.astype(float) - paper.astype(float)))
    assert gap <= bound
    assert np.max(np.abs(ours - theta)) > 1000 * bound    # the steps are far above the bound
