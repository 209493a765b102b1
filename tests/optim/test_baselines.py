"""SGD, RMSprop, AdaGrad, AdaMax and sign descent against their textbook formulas (PyTorch's
definitions, written out here independently of the code under test)."""

import numpy as np
import pytest

from adamref.optim import SGD, AdaGrad, AdaBelief, AdaMax, Lion, NAdam, RMSprop, SignSGD, Yogi

RNG = np.random.default_rng(1964)
GRADS = RNG.standard_normal((15, 4))
THETA0 = np.array([1.0, -1.0, 0.5, 2.0])


def run(opt):
    theta = THETA0.copy()
    for g in GRADS:
        opt.step(theta, g)
    return theta


def test_plain_sgd():
    np.testing.assert_allclose(run(SGD(lr=0.1)), THETA0 - 0.1 * GRADS.sum(0), rtol=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_sgd(nesterov):
    theta, buf = THETA0.copy(), None
    for g in GRADS:
        buf = g.copy() if buf is None else 0.9 * buf + g
        theta = theta - 0.1 * (g + 0.9 * buf if nesterov else buf)
    np.testing.assert_allclose(run(SGD(lr=0.1, momentum=0.9, nesterov=nesterov)), theta,
                               rtol=1e-13)


def test_sgd_dampening_and_weight_decay():
    theta, buf = THETA0.copy(), None
    for g in GRADS:
        g = g + 0.01 * theta
        buf = g.copy() if buf is None else 0.5 * buf + 0.7 * g
        theta = theta - 0.1 * buf
    np.testing.assert_allclose(
        run(SGD(lr=0.1, momentum=0.5, dampening=0.3, weight_decay=0.01)), theta, rtol=1e-13)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.8])
def test_rmsprop(centered, momentum):
    theta, v, avg, buf = THETA0.copy(), np.zeros(4), np.zeros(4), np.zeros(4)
    for g in GRADS:
        v = 0.99 * v + 0.01 * g**2
        avg = 0.99 * avg + 0.01 * g
        denom = np.sqrt(v - avg**2 if centered else v) + 1e-8
        if momentum:
            buf = momentum * buf + g / denom
            theta = theta - 0.01 * buf
        else:
            theta = theta - 0.01 * g / denom
    ours = run(RMSprop(lr=0.01, centered=centered, momentum=momentum))
    np.testing.assert_allclose(ours, theta, rtol=1e-13)


def test_adagrad():
    theta, total = THETA0.copy(), np.full(4, 0.1)
    for t, g in enumerate(GRADS, start=1):
        total = total + g**2
        theta = theta - 0.1 / (1 + (t - 1) * 0.05) * g / (np.sqrt(total) + 1e-10)
    ours = run(AdaGrad(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1))
    np.testing.assert_allclose(ours, theta, rtol=1e-13)


def test_adamax():
    theta, m, u = THETA0.copy(), np.zeros(4), np.zeros(4)
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        u = np.maximum(0.999 * u, np.abs(g) + 1e-8)
        theta = theta - 0.002 / (1 - 0.9**t) * m / u
    np.testing.assert_allclose(run(AdaMax()), theta, rtol=1e-13)


def test_adamax_first_step_is_lr_times_sign():
    # m̂ = g, u = |g|: the first step is α·sign(g), as for Adam.
    theta = THETA0.copy()
    AdaMax(lr=0.01, eps=0.0).step(theta, GRADS[0])
    np.testing.assert_allclose(theta, THETA0 - 0.01 * np.sign(GRADS[0]), rtol=1e-14)


@pytest.mark.parametrize("make", [lambda **k: SGD(lr=0.1, momentum=0.9, **k),
                                  lambda **k: RMSprop(**k), lambda **k: AdaGrad(**k),
                                  lambda **k: AdaMax(**k), lambda **k: NAdam(**k),
                                  lambda **k: Yogi(**k), lambda **k: AdaBelief(**k),
                                  lambda **k: Lion(lr=0.01, **k),
                                  lambda **k: SignSGD(beta1=0.5, **k)])
def test_maximize_is_descent_on_negated_gradient(make):
    up, down = THETA0.copy(), THETA0.copy()
    opt_up, opt_down = make(maximize=True), make()
    for g in GRADS:
        opt_up.step(up, g)
        opt_down.step(down, -g)
    np.testing.assert_array_equal(up, down)


def test_sign_descent_moves_every_coordinate_by_lr():
    theta = THETA0.copy()
    for g in GRADS:
        theta = theta - 0.01 * np.sign(g)
    np.testing.assert_allclose(run(SignSGD(lr=0.01)), theta, rtol=1e-14)


def test_signum():
    theta, m = THETA0.copy(), np.zeros(4)
    for g in GRADS:
        m = 0.9 * m + 0.1 * (g + 0.01 * theta)
        theta = theta - 0.01 * np.sign(m)
    np.testing.assert_allclose(run(SignSGD(lr=0.01, beta1=0.9, weight_decay=0.01)), theta,
                               rtol=1e-14)


def test_lion_steps_are_lr_times_a_sign_plus_the_decay():
    theta, opt = THETA0.copy(), Lion(lr=0.01, weight_decay=0.1)
    for g in GRADS:
        before = theta.copy()
        opt.step(theta, g)
        np.testing.assert_allclose(np.abs(before - theta - 0.01 * 0.1 * before), 0.01,
                                   rtol=1e-12)
