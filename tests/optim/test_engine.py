"""The engine's shortcuts keep every check: the checks cached between steps of
the same arrays, the β^t tables, the counting hook."""

from __future__ import annotations

import numpy as np
import pytest

from adamref.optim import (SGD, AdaGrad, AdaMax, Adam, adagrad_update, adam_variant_update,
                           adamax_update)
from adamref.optim.optimizer import POWER_BLOCK, power, power_table


def stepped(opt, params, grads, steps=2):
    for _ in range(steps):
        opt.step(params, grads)
    return opt


@pytest.mark.parametrize("change, error, match", [
    (lambda p, g: setattr(p.flags, "writeable", False), ValueError, r"params is read-only"),
    (lambda p, g: setattr(g, "shape", (2, 3)), ValueError,
     r"grads has shape \(2, 3\) but params has shape \(6,\)"),
    (lambda p, g: (setattr(p, "shape", (3, 2)), setattr(g, "shape", (3, 2))), ValueError,
     r"params do not match the optimizer's state"),
])
def test_a_change_to_the_same_arrays_is_checked_again(change, error, match):
    params, grads = np.zeros(6), np.ones(6)
    opt = stepped(Adam(), params, grads)
    change(params, grads)
    before = (params.tobytes(), opt.t)
    with pytest.raises(error, match=match):
        opt.step(params, grads)
    assert (params.tobytes(), opt.t) == before


def test_a_new_leaf_in_the_same_list_is_checked_again():
    params, grads = [np.zeros(4), np.zeros(3)], [np.ones(4), np.ones(3)]
    opt = stepped(SGD(lr=0.1), params, grads)
    grads[1] = params[1][:]                       # a view of a parameter: aliasing
    with pytest.raises(ValueError, match=r"params\[1\] and grads\[1\] share memory"):
        opt.step(params, grads)


def fresh_gradients(n, steps, dtype=np.float64):
    """What a training loop passes: a new gradient array at every step."""
    rng = np.random.default_rng(0)
    return [rng.standard_normal(n).astype(dtype) for _ in range(steps)]


@pytest.mark.parametrize("new_grad, match", [
    (lambda p, opt: p, r"params and grads share memory"),
    (lambda p, opt: p[::-1], r"params and grads share memory"),
    (lambda p, opt: opt.state["m"], r"grads and the optimizer's state m share memory"),
    (lambda p, opt: opt.state["v"][:], r"grads and the optimizer's state v share memory"),
])
def test_a_new_gradient_array_is_checked_for_aliasing_on_the_fast_path(new_grad, match):
    params, opt = np.zeros(5), Adam(lr=0.1)
    for g in fresh_gradients(5, 3):              # the fast path is warm
        opt.step(params, g)
    grad = new_grad(params, opt)
    before = (params.tobytes(), opt.state["m"].tobytes(), opt.state["v"].tobytes(), opt.t)
    with pytest.raises(ValueError, match=match):
        opt.step(params, grad)
    assert (params.tobytes(), opt.state["m"].tobytes(), opt.state["v"].tobytes(),
            opt.t) == before


@pytest.mark.parametrize("new_grad", [
    lambda n: np.ones(2 * n)[::2],                # strided: another engine path
    lambda n: np.ones(n, np.float32),             # the other float dtype
])
def test_a_new_gradient_of_another_layout_takes_the_full_path_and_the_same_step(new_grad):
    fast, full = Adam(lr=0.1), Adam(lr=0.1)
    params_fast, params_full = np.zeros(5), np.zeros(5)
    for g in fresh_gradients(5, 3):
        fast.step(params_fast, g)
        full.step(params_full, g.copy())
    fast.step(params_fast, new_grad(5))
    full.step(params_full, np.ascontiguousarray(new_grad(5), dtype=np.float64))
    np.testing.assert_array_equal(params_fast, params_full)


def test_fresh_gradients_give_the_run_of_a_reused_array_bit_for_bit():
    grads = fresh_gradients(7, 20)
    reused, fresh = np.zeros(7), np.zeros(7)
    buffer, opt_reused, opt_fresh = np.empty(7), Adam(lr=0.05), Adam(lr=0.05)
    for g in grads:
        buffer[...] = g
        opt_reused.step(reused, buffer)           # the same array, refilled
        opt_fresh.step(fresh, g)                  # a new array each step
    np.testing.assert_array_equal(reused, fresh)


def test_the_overflow_check_runs_on_every_step_of_the_same_arrays():
    params, grads = np.zeros(3, np.float32), np.ones(3, np.float32)
    opt = stepped(Adam(), params, grads)
    grads[1] = 1e20                               # same array, new values
    with pytest.raises(FloatingPointError, match="params: overflow"):
        opt.step(params, grads)
    assert opt.t == 2


@pytest.mark.parametrize("base", [0.9, 0.999, 0.0, 1.0, np.array([[0.99], [0.5]])])
@pytest.mark.parametrize("start", [1, 1000, 123_456])
def test_power_tables_are_power_bit_for_bit(base, start):
    table = power_table(base, start, 300)
    for k in range(300):
        assert np.asarray(power(base, start + k)).tobytes() == table[k].tobytes()


def test_beta_powers_across_a_table_boundary_equal_a_fresh_optimizer_s():
    """A run longer than one table equals one resumed past the boundary."""
    rng = np.random.default_rng(2)
    grads = rng.standard_normal((POWER_BLOCK + 5, 3))
    theta, opt = np.zeros(3), Adam(lr=0.01, beta2=np.array([0.99, 0.999, 0.9999]))
    for g in grads[:-1]:
        opt.step(theta, g)
    resumed = Adam(lr=0.01, beta2=np.array([0.99, 0.999, 0.9999]))
    resumed.load_state_dict(opt.state_dict())     # fresh tables start at the resumed t
    other = theta.copy()
    opt.step(theta, grads[-1])
    resumed.step(other, grads[-1])
    assert theta.tobytes() == other.tobytes()


def test_instrumented_scratch_sees_the_in_place_operations():
    class Logged(np.ndarray):
        calls = []

        def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
            Logged.calls.append(ufunc.__name__)
            inputs = [x.view(np.ndarray) if isinstance(x, Logged) else x for x in inputs]
            if out is not None:
                kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, Logged) else o
                                      for o in out)
            return getattr(ufunc, method)(*inputs, **kwargs)

    params, grads, opt = np.zeros(5), np.ones(5), SGD(lr=0.1)
    opt.step(params, grads)
    opt.engine.instrument(lambda buffer: buffer.view(Logged))
    opt.step(params.view(Logged), grads.view(Logged))
    assert Logged.calls == ["multiply", "subtract"]


@pytest.mark.parametrize("make, pure, names", [
    (lambda: Adam(lr=0.01, amsgrad=True),
     lambda th, g, s, t: adam_variant_update(th, g, s["m"], s["v"], t, lr=0.01,
                                             v_max=s["v_max"]), ("m", "v", "v_max")),
    (lambda: AdaGrad(lr=0.1, lr_decay=0.01),
     lambda th, g, s, t: adagrad_update(th, g, s["sum"], t, lr=0.1, lr_decay=0.01),
     ("sum",)),
    (lambda: AdaMax(), lambda th, g, s, t: adamax_update(th, g, s["m"], s["u"], t), ("m", "u")),
])
def test_step_constants_tabulated_in_blocks_equal_the_pure_function_past_a_block(make, pure,
                                                                                 names):
    """With scalar hyperparameters the step constants of POWER_BLOCK steps are
    computed at once; a run across two blocks, resumed at an arbitrary t, stays
    bit for bit on the pure function (which computes each t on its own)."""
    rng = np.random.default_rng(4)
    theta = rng.standard_normal(5)
    opt, ours = make(), theta.copy()
    state = {k: np.zeros(5) for k in names}
    for t in range(1, POWER_BLOCK + 40):
        grad = rng.standard_normal(5)
        if t == POWER_BLOCK - 3:                   # resume: a new table from this t on
            resumed = make()
            resumed.load_state_dict(opt.state_dict())
            opt = resumed
        opt.step(ours, grad)
        theta, *new = pure(theta, grad, state, t)
        state = dict(zip(names, new))
    assert ours.tobytes() == theta.tobytes()


def test_an_optimizer_pickles_and_its_copy_continues_the_same_run():
    import pickle
    rng = np.random.default_rng(5)
    params, grads = rng.standard_normal(4), rng.standard_normal((3, 4))
    opt = Adam(lr=0.01, amsgrad=True)
    opt.step(params, grads[0])
    copy_params, copy = params.copy(), pickle.loads(pickle.dumps(opt))
    for g in grads[1:]:
        opt.step(params, g)
        copy.step(copy_params, g)
    assert params.tobytes() == copy_params.tobytes() and copy.t == opt.t == 3
