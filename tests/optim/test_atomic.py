"""A failing call changes nothing (issue 11).

Every error path of the public API that can be reached with an optimizer,
parameters or a model in hand is listed in ``CASES``; the one test below runs
each, checks that it raises what it should, and compares the parameters, the
gradients, the optimizer's state (``state_dict()`` with its pending loaded
state, and the live buffers) and ``t`` bit for bit before and after.
"""

from __future__ import annotations

import numpy as np
import pytest

import adamref
import adamref.optim.engine as engine_module
from adamref.optim import SGD, AdaGrad, Adam, AdaMax, AdamW, RMSprop, adam_update
from adamref.optim import AdaBelief, Lion, NAdam, SignSGD, Yogi
from adamref import keras_style
from adamref.lab import from_sgd_to_adam as lineage
from adamref.lab import noisy_gradients as noise
from adamref.problems import runs
from adamref.lab import per_parameter_steps as scaling
from adamref.optim.validation import MAX_STEP


# -- snapshots ------------------------------------------------------------------------
def _frozen(value):
    """Something comparable with ``==`` that pins an array down bit for bit."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_frozen(v) for v in value]
    return value


def snapshot(*things):
    out = []
    for thing in things:
        if isinstance(thing, adamref.Optimizer):
            out.append(("optimizer", thing.t, _frozen(thing.state_dict()),
                        _frozen(thing.state)))
        elif isinstance(thing, keras_style.Sequential):
            layer = thing.layer
            out.append(("model", _frozen(layer.kernel), _frozen(layer.bias),
                        snapshot(thing.optimizer) if thing.optimizer else None))
        elif isinstance(thing, np.random.Generator):
            out.append(("rng", repr(thing.bit_generator.state)))
        else:
            out.append(_frozen(thing))
    return out


# -- the error cases --------------------------------------------------------------------
def stepped(opt, params, steps=2, seed=0):
    """``opt`` after ``steps`` ordinary steps on ``params`` (state to protect)."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        grads = (rng.standard_normal(params.shape).astype(params.dtype)
                 if isinstance(params, np.ndarray)
                 else [rng.standard_normal(p.shape).astype(p.dtype) for p in params])
        opt.step(params, grads)
    return opt


def saved_adam(**options):
    opt = Adam(**options)
    stepped(opt, np.zeros(3))
    return opt.state_dict()


def step_case(make_opt, params, grads, error, match, steps=2):
    """A step that must fail, on an optimizer that already has state."""
    def case():
        opt = make_opt()
        if steps:
            stepped(opt, [p.copy() for p in params] if isinstance(params, list) else params.copy(),
                    steps)
        return (lambda: opt.step(params, grads)), error, match, (opt, params, grads)
    return case


def load_case(make_opt, make_state, error, match):
    """A ``load_state_dict`` that must fail, on an optimizer that has state."""
    def case():
        opt = make_opt()
        stepped(opt, np.ones(3))
        state = make_state()
        return (lambda: opt.load_state_dict(state)), error, match, (opt, state)
    return case


def pending_case(make_state, params, grads, match):
    """A state that loads, but does not match the params of the first step."""
    def case():
        opt = Adam()
        opt.load_state_dict(make_state())
        return (lambda: opt.step(params, grads)), ValueError, match, (opt, params, grads)
    return case


def with_entry(key, value, **options):
    def make():
        state = saved_adam(**options)
        state[key] = value
        return state
    return make


def without(key):
    def make():
        state = saved_adam()
        del state[key]
        return state
    return make


def adam_update_case(error, match, *, dtype=np.float64, g=1.0, t=1, v=0.0, m_dtype=None,
                     **hyper):
    def case():
        theta = np.ones(3, dtype)
        grad = np.full(3, g, dtype)
        m = np.zeros(3, m_dtype or dtype)
        v_ = np.full(3, v, dtype)
        return (lambda: adam_update(theta, grad, m, v_, t, **hyper)), error, match, \
            (theta, grad, m, v_)
    return case


def adabelief_surprise_case():
    """AdaBelief squares g − m, not g: an ordinary gradient against a huge
    momentum overflows (g − m)² though g² fits."""
    opt = AdaBelief()
    opt.load_state_dict({**stepped(AdaBelief(), np.zeros(3)).state_dict(),
                         "m": np.array([0.0, -1e300, 0.0])})
    params, grads = np.zeros(3), np.ones(3)
    return (lambda: opt.step(params, grads)), FloatingPointError, \
        r"params: overflow .* float64", (opt, params, grads)


def signum_read_only_case():
    params = np.zeros(3)
    opt = stepped(SignSGD(beta1=0.9), params.copy())
    params.flags.writeable = False
    return (lambda: opt.step(params, np.ones(3))), ValueError, "read-only", (opt, params)


def big_chunked_overflow():
    """A threaded, chunked array whose last chunk overflows."""
    n = 5 * engine_module.CHUNK + 17
    params, grads = np.ones(n, np.float32), np.ones(n, np.float32)
    grads[-3] = 1e20
    return params, grads


def fit_overflow_case():
    """fit: the first batches step normally, a later batch's gradient square overflows."""
    def case():
        keras_style.set_random_seed(0)
        model = keras_style.Sequential([keras_style.Dense(1, input_shape=[1])])
        model.compile(optimizer=adamref.keras_adam(learning_rate=0.01), loss="mse")
        x = np.ones((8, 1), np.float32)
        x[6] = 1e19                                   # in the second batch of 4
        y = np.zeros(8, np.float32)
        model.fit(x[:4], y[:4], epochs=2, batch_size=4, shuffle=False)   # state to protect
        rng = keras_style._global["rng"]
        return (lambda: model.fit(x, y, epochs=3, batch_size=4, shuffle=False)), \
            FloatingPointError, r"params\[0\]: overflow", (model, rng)
    return case


def set_weights_case():
    def case():
        model = keras_style.Sequential([keras_style.Dense(2, input_shape=[3])])
        weights = [np.full((3, 2), 7.0), np.zeros(5)]      # good kernel, bad bias
        return (lambda: model.set_weights(weights)), ValueError, r"weights \(bias\)", (model,)
    return case


def unbuilt_fit_case():
    """A bad y must not build the layer (which would draw from the generator)."""
    def case():
        model = keras_style.Sequential([keras_style.Dense(2)])
        model.compile(optimizer="adam", loss="mse")
        rng = keras_style._global["rng"]
        x, y = np.ones((4, 3)), np.ones((4, 5))
        def call():
            try:
                model.fit(x, y)
            finally:
                assert not model.layer.built
        return call, ValueError, r"y must have shape \(n, 2\)", (rng, x, y)
    return case


def state_mismatch_case(params, grads):
    """Params that differ from those the state was made for."""
    opt = stepped(Adam(), np.zeros(3))
    return (lambda: opt.step(params, grads)), ValueError, "do not match the optimizer's state", \
        (opt, params, grads)


def read_only_case():
    params = np.zeros(3)
    params.flags.writeable = False
    opt = stepped(Adam(), np.zeros(3))
    return (lambda: opt.step(params, np.ones(3))), ValueError, "read-only", (opt, params)


def alias_case(make_call, match):
    """``make_call(x, opt)`` gives ``(params, grads)`` that alias (x has 4
    values); ``opt`` already has state of their structure."""
    x = np.arange(4.0)
    params, grads = make_call(x, None)
    opt = stepped(AdamW(), [p.copy() for p in params] if isinstance(params, list)
                  else params.copy())
    params, grads = make_call(x, opt)
    return (lambda: opt.step(params, grads)), ValueError, match, (opt, x, params, grads)


overflow64 = np.array([1.0, 1e300, 1.0])
CASES = {
    # squared gradients that overflow, in every shape of call
    "adam-float64": step_case(Adam, np.zeros(3), overflow64, FloatingPointError,
                              r"params: overflow .* float64 .* 1e\+300"),
    "adam-float32": step_case(Adam, np.zeros(2, np.float32), np.array([1e20, 1], np.float32),
                              FloatingPointError, r"params: overflow .* float32"),
    "adam-float64-grad-float32-param": step_case(
        Adam, np.zeros(2, np.float32), np.array([1e20, 1.0]), FloatingPointError,
        r"params: overflow .* float32"),
    "adam-list-second-leaf": step_case(
        Adam, [np.zeros(2), np.zeros(3)], [np.ones(2), overflow64], FloatingPointError,
        r"params\[1\]: overflow"),
    "adam-dict": step_case(
        lambda: Adam(amsgrad=True), [np.zeros(3)], [overflow64], FloatingPointError,
        r"params\[0\]: overflow"),
    "adam-chunked-threads": step_case(Adam, *big_chunked_overflow(), FloatingPointError,
                                      r"params: overflow .* float32", steps=1),
    "adam-nan-and-overflow": step_case(
        Adam, np.zeros(3), np.array([np.nan, 1e300, np.inf]), FloatingPointError,
        r"largest finite \|gradient\| 1e\+300"),
    "adam-l2-effective-gradient": step_case(
        lambda: Adam(weight_decay=1.0), np.full(3, 1e160), np.ones(3), FloatingPointError,
        "overflow", steps=0),
    "adam-strided": step_case(Adam, np.zeros((3, 4))[:, ::2], np.full((3, 2), 1e300),
                              FloatingPointError, "overflow", steps=0),
    "adam-sweep": step_case(lambda: Adam(lr=np.array([[1e-3], [1e-2]])), np.zeros((2, 3)),
                            np.full((2, 3), 1e300), FloatingPointError, "overflow"),
    "amsgrad-maximize": step_case(lambda: Adam(amsgrad=True, maximize=True), np.zeros(3),
                                  overflow64, FloatingPointError, "overflow"),
    "adamw": step_case(AdamW, np.zeros(3), overflow64, FloatingPointError, "overflow"),
    "eps-hat": step_case(lambda: Adam(epsilon_hat=True), np.zeros(3), overflow64,
                         FloatingPointError, "overflow"),
    "rmsprop": step_case(lambda: RMSprop(centered=True, momentum=0.9), np.zeros(3),
                         overflow64, FloatingPointError, "overflow"),
    "adagrad-sum": step_case(lambda: AdaGrad(initial_accumulator_value=1.7e308),
                             np.zeros(3), np.array([1.0, 1e154, 1.0]), FloatingPointError,
                             "overflow", steps=0),
    "nadam-l2": step_case(lambda: NAdam(weight_decay=0.1), np.zeros(3), overflow64,
                          FloatingPointError, "overflow"),
    "nadamw-decay-first": step_case(lambda: NAdam(weight_decay=0.1, decoupled_weight_decay=True),
                                    np.ones(3), overflow64, FloatingPointError, "overflow"),
    "yogi": step_case(Yogi, np.zeros(3), overflow64, FloatingPointError, "overflow"),
    "adabelief": step_case(AdaBelief, np.zeros(3), overflow64, FloatingPointError, "overflow"),
    "adabelief-surprise": lambda: adabelief_surprise_case(),
    "lion-shape": step_case(Lion, np.zeros(3), np.ones(4), ValueError, r"grads has shape"),
    "signum-read-only": lambda: signum_read_only_case(),
    # wrong calls
    "shape": step_case(Adam, np.zeros(3), np.ones(4), ValueError, r"grads has shape \(4,\)"),
    "structure-changed": lambda: state_mismatch_case([np.zeros(3)], [np.ones(3)]),
    "dtype-changed": lambda: state_mismatch_case(np.zeros(3, np.float32),
                                                 np.ones(3, np.float32)),
    "int-grads": step_case(SGD, np.zeros(3), np.ones(3, int), TypeError, "floating dtype"),
    "float16": step_case(Adam, np.zeros(3, np.float16), np.ones(3, np.float16), TypeError,
                         "float32 or float64", steps=0),
    "masked": step_case(Adam, np.ma.zeros(3), np.ones(3), TypeError, "MaskedArray", steps=0),
    "matrix": lambda: step_case(Adam, np.asmatrix(np.zeros((2, 2))), np.ones((2, 2)), TypeError,
                        "matrix", steps=0)(),
    "read-only": lambda: read_only_case(),
    "sweep-shape": step_case(lambda: Adam(lr=np.array([[0.1], [0.2]])), np.zeros(5),
                             np.ones(5), ValueError, "does not broadcast", steps=0),
    "sgd-momentum-shape": step_case(lambda: SGD(momentum=0.9), np.zeros(3), np.ones(2),
                                    ValueError, "shape"),
    "adamax-structure": step_case(AdaMax, np.zeros(3), [np.ones(3)], ValueError,
                                  "same structure"),
    # aliasing
    "alias-step-x-x": lambda: alias_case(lambda x, opt: (x, x),
                                         "params and grads share memory"),
    "alias-same-param-twice": lambda: alias_case(
        lambda x, opt: ([x, x], [np.ones(4), np.ones(4)]), r"params\[0\] and params\[1\] share"),
    "alias-grad-view-of-param": lambda: alias_case(lambda x, opt: (x[:3], x[1:]),
                                                   "params and grads share memory"),
    "alias-grad-is-state": lambda: alias_case(
        lambda x, opt: (x, opt.m if opt else x.copy()), "grads and the optimizer's state m "
        "share memory: the step writes the optimizer's state m in place"),
    "alias-param-is-state-view": lambda: alias_case(
        lambda x, opt: (opt.v[:] if opt else x, np.ones(4)),
        "params and the optimizer's state v share"),
    "alias-many-leaves": lambda: alias_case(
        lambda x, opt: ([np.zeros(2) for _ in range(10)] + [x[::2], x[1:3]],
                        [np.ones(2)] * 12),
        r"params\[10\] and params\[11\] share"),
    # a loaded state that does not fit the params (found at the first step)
    "pending-shape": pending_case(saved_adam, np.zeros(4), np.ones(4), r"state\['m'\] has shape"),
    "pending-structure": pending_case(saved_adam, [np.zeros(3)], [np.ones(3)],
                                      "saved for a params array"),
    "pending-dtype": pending_case(saved_adam, np.zeros(3, np.float32),
                                  np.ones(3, np.float32), "dtype float64"),
    "pending-t-at-limit": pending_case(with_entry("t", np.int64(MAX_STEP)), np.zeros(3),
                                       np.ones(3), "cannot grow"),
    # load_state_dict
    "load-none": load_case(Adam, lambda: None, TypeError, "state must be a dict"),
    "load-no-optimizer": load_case(Adam, without("optimizer"), ValueError, "'optimizer'"),
    "load-no-t": load_case(Adam, without("t"), ValueError, "'t'"),
    "load-into-adamw": load_case(AdamW, saved_adam, ValueError, "saved by optimizer 'Adam'"),
    "load-into-rmsprop": load_case(RMSprop, saved_adam, ValueError, "this is RMSprop"),
    "load-into-sgd": load_case(lambda: SGD(momentum=0.9), saved_adam, ValueError, "this is SGD"),
    "load-into-adamax": load_case(AdaMax, saved_adam, ValueError, "this is AdaMax"),
    "load-into-nadam": load_case(NAdam, saved_adam, ValueError, "this is NAdam"),
    "load-into-yogi": load_case(Yogi, saved_adam, ValueError, "this is Yogi"),
    "load-into-adabelief": load_case(AdaBelief, saved_adam, ValueError, "this is AdaBelief"),
    "load-into-lion": load_case(Lion, saved_adam, ValueError, "this is Lion"),
    "load-into-signsgd": load_case(lambda: SignSGD(beta1=0.9), saved_adam, ValueError,
                                   "this is SignSGD"),
    "load-nadamw-into-nadam": load_case(
        lambda: NAdam(weight_decay=0.1), lambda: stepped(NAdam(weight_decay=0.1, decoupled_weight_decay=True),
                               np.zeros(3)).state_dict(),
        ValueError, "decoupled_weight_decay=True"),
    "load-negative-s": load_case(
        AdaBelief, lambda: {**stepped(AdaBelief(), np.zeros(3)).state_dict(),
                            "s": np.array([1.0, -1.0, 0.0])},
        ValueError, r"state\['s'\] must be >= 0"),
    "load-into-amsgrad": load_case(lambda: Adam(amsgrad=True), saved_adam, ValueError,
                                   "saved with amsgrad=False, this Adam has amsgrad=True"),
    "load-other-lr": load_case(lambda: Adam(lr=0.1), saved_adam, ValueError,
                               r"saved with lr=0.001, this Adam has lr=0.1"),
    "load-other-sweep": load_case(lambda: Adam(lr=np.array([0.1, 0.2, 0.3])), saved_adam,
                                  ValueError, "saved with lr="),
    "load-nesterov": load_case(lambda: SGD(momentum=0.9),
                               lambda: SGD(momentum=0.9, nesterov=True).state_dict(),
                               ValueError, "nesterov=True"),
    "load-t-2.5": load_case(Adam, with_entry("t", 2.5), TypeError, r"state\['t'\].*2\.5"),
    "load-t-str": load_case(Adam, with_entry("t", "5"), TypeError, r"state\['t'\].*'5'"),
    "load-t-nan": load_case(Adam, with_entry("t", float("nan")), TypeError, "nan"),
    "load-t-abc": load_case(Adam, with_entry("t", "abc"), TypeError, "abc"),
    "load-t-list": load_case(Adam, with_entry("t", [5]), TypeError, r"\[5\]"),
    "load-t-float-array": load_case(Adam, with_entry("t", np.array(5.0)), TypeError, "5"),
    "load-t-bool": load_case(Adam, with_entry("t", True), TypeError, "True"),
    "load-t-negative": load_case(Adam, with_entry("t", -1), ValueError, ">= 0"),
    "load-t-huge": load_case(Adam, with_entry("t", 10**400), ValueError, "digits"),
    "load-t-zero-with-buffers": load_case(Adam, with_entry("t", 0), ValueError, "t = 0"),
    "load-complex-m": load_case(Adam, with_entry("m", np.zeros(3, complex)), TypeError,
                                "complex128"),
    "load-text-m": load_case(Adam, with_entry("m", np.array(["a", "b", "c"])), TypeError,
                             r"state\['m'\]"),
    "load-list-m": load_case(Adam, with_entry("m", [0.0, 0.0, 0.0]), TypeError, "list"),
    "load-negative-v": load_case(Adam, with_entry("v", np.array([1.0, -1.0, 0.0])),
                                 ValueError, r"state\['v'\] must be >= 0"),
    "load-v-shape": load_case(Adam, with_entry("v", np.zeros(4)), ValueError,
                              "different shapes"),
    "load-missing-v": load_case(Adam, without("v"), ValueError, "do not match"),
    "load-extra-entry": load_case(Adam, with_entry("v_max", np.zeros(3)), ValueError,
                                  "unexpected entry 'v_max'"),
    "load-no-structure": load_case(Adam, without("structure"), ValueError, "no 'structure'"),
    "load-bad-structure": load_case(Adam, with_entry("structure", np.asarray("tree")),
                                    ValueError, "'tree'"),
    "load-no-buffers": load_case(Adam, lambda: {**Adam().state_dict(), "t": np.int64(5)},
                                 ValueError, "t = 5 but no buffers"),
    "load-optimizer-not-text": load_case(Adam, with_entry("optimizer", np.array(["Adam", "x"])),
                                         ValueError, r"state\['optimizer'\] must be a string"),
    "load-structure-not-text": load_case(Adam, with_entry("structure", np.zeros(2)), ValueError,
                                         r"state\['structure'\] must be a string"),
    "load-bad-flag": load_case(Adam, with_entry("config.amsgrad", np.asarray("no")),
                               ValueError, "amsgrad"),
    "load-missing-config": load_case(Adam, without("config.eps"), ValueError, "config"),
    "load-bad-key": load_case(Adam, lambda: {**saved_adam(), 3: np.zeros(3)}, TypeError,
                              "keys must be strings"),
    "load-bad-check-flag": lambda: ((lambda opt: (
        lambda: opt.load_state_dict(saved_adam(), check_hyperparameters="no"), TypeError,
        "check_hyperparameters", (opt,)))(stepped(Adam(), np.zeros(3)))),
    # the pure function: its inputs stay untouched
    "adam-update-overflow": adam_update_case(FloatingPointError, r"grad: overflow .* float64",
                                             g=1e200),
    "adam-update-t-huge": adam_update_case(ValueError, r"t must be .* digits", t=10**400),
    "adam-update-t-float": adam_update_case(TypeError, "t must be an integer", t=2.5),
    "adam-update-m-dtype": adam_update_case(TypeError, "m must have the dtype of theta",
                                            dtype=np.float32, m_dtype=np.float64),
    "adam-update-negative-v": adam_update_case(ValueError, "v must be >= 0", v=-1.0),
    "adam-update-float16": adam_update_case(TypeError, "float32 or float64", dtype=np.float16),
    "adam-update-lr-shape": adam_update_case(ValueError, "does not broadcast",
                                             lr=np.array([[0.1], [0.2]])),
    "adam-update-lr-inf": adam_update_case(ValueError, "lr must be finite", lr=np.inf),
    # keras_style
    "set-weights-bad-bias": set_weights_case(),
    "fit-overflow-mid-run": fit_overflow_case(),
    "fit-bad-y-unbuilt": unbuilt_fit_case(),
}


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_failing_call_changes_nothing(name):
    call, error, match, watched = CASES[name]()
    before = snapshot(*watched)
    with pytest.raises(error, match=match):
        call()
    assert snapshot(*watched) == before


# -- what the refusals protect, and the decisions on the debatable cases ---------------
def test_a_refused_step_can_be_retried_as_if_it_never_happened():
    # The path: g² overflows, "scale the loss down and retry".
    theta, opt = np.zeros(3), Adam(lr=0.1)
    reference, ref_opt = np.zeros(3), Adam(lr=0.1)
    with pytest.raises(FloatingPointError):
        opt.step(theta, np.array([1e300, 1.0, 1.0]))
    for g in (np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.5, -1.0])):
        opt.step(theta, g)
        ref_opt.step(reference, g)
    np.testing.assert_array_equal(theta, reference)
    assert opt.t == ref_opt.t == 2


def test_a_pending_state_survives_a_wrong_first_step():
    straight, opt = np.zeros(3), Adam(lr=0.1)
    stepped(opt, straight, steps=3)
    saved, params = opt.state_dict(), straight.copy()
    stepped(opt, straight, steps=2, seed=9)
    resumed = Adam(lr=0.1)
    resumed.load_state_dict(saved)
    with pytest.raises(ValueError, match="has shape"):
        resumed.step(np.zeros(4), np.ones(4))
    stepped(resumed, params, steps=2, seed=9)
    np.testing.assert_array_equal(params, straight)
    np.testing.assert_array_equal(resumed.v, opt.v)


@pytest.mark.parametrize("make", [Adam, lambda: Adam(amsgrad=True), AdaMax,
                                  lambda: SGD(momentum=0.9), RMSprop, AdaGrad, NAdam, Yogi,
                                  AdaBelief, Lion, lambda: SignSGD(beta1=0.9)])
def test_the_state_of_a_fresh_optimizer_loads_back(make, tmp_path):
    np.savez(tmp_path / "fresh.npz", **make().state_dict())
    opt, reference = make(), make()
    opt.load_state_dict(np.load(tmp_path / "fresh.npz"))
    a, b = np.ones(3), np.ones(3)
    stepped(opt, a)
    stepped(reference, b)
    np.testing.assert_array_equal(a, b)


def test_a_state_dict_says_what_it_is():
    state = Adam(lr=0.01, amsgrad=True).state_dict()
    assert state["optimizer"] == "Adam" and state["t"] == 0
    assert state["config.lr"] == 0.01 and state["config.amsgrad"]
    assert "structure" not in state
    assert SGD(momentum=0.5, nesterov=True).state_dict()["config.nesterov"]


def test_hyperparameters_may_differ_on_request_and_the_optimizer_keeps_its_own():
    opt = Adam(lr=0.1)
    opt.load_state_dict(saved_adam(lr=0.01), check_hyperparameters=False)
    assert opt.lr == 0.1 and opt.state_dict()["config.lr"] == 0.1
    with pytest.raises(ValueError, match="amsgrad"):   # flags must still match
        Adam(amsgrad=True).load_state_dict(saved_adam(), check_hyperparameters=False)


@pytest.mark.parametrize("make, match", [
    (lambda: Adam(lr=np.inf), "lr must be finite, got inf"),
    (lambda: Adam(lr=[0.1, np.inf]), "lr must be finite, got inf"),
    (lambda: Adam(eps=np.inf), "eps must be finite"),
    (lambda: Adam(weight_decay=np.inf), "weight_decay must be finite"),
    (lambda: AdamW(weight_decay=np.inf), "weight_decay must be finite"),
    (lambda: AdaGrad(lr_decay=np.inf), "lr_decay must be finite"),
    (lambda: AdaGrad(initial_accumulator_value=np.inf), "initial_accumulator_value must be finite"),
    (lambda: RMSprop(eps=np.inf), "eps must be finite"),
    (lambda: SGD(lr=np.inf), "lr must be finite"),
    (lambda: AdaMax(lr=np.inf), "lr must be finite"),
    (lambda: NAdam(momentum_decay=np.inf), "momentum_decay must be finite"),
    (lambda: Yogi(initial_accumulator_value=np.inf), "initial_accumulator_value must be finite"),
    (lambda: AdaBelief(eps_root=np.inf), "eps_root must be finite"),
    (lambda: Lion(lr=np.inf), "lr must be finite"),
    (lambda: SignSGD(weight_decay=np.inf), "weight_decay must be finite"),
    (lambda: Adam(lr=10**400), "lr must be a finite number, got an integer of 401 digits"),
    (lambda: adamref.keras_adam(learning_rate=-1), "learning_rate must be >= 0.0, got -1.0"),
    (lambda: adamref.keras_adam(epsilon=np.nan), "epsilon must be >= 0.0, got nan"),
    (lambda: adamref.keras_adam(beta_1=1.0), r"beta_1 must be in \[0.0, 1.0\)"),
    (lambda: adamref.keras_adam(beta_2=-1), r"beta_2 must be in \[0.0, 1.0\)"),
    (lambda: adamref.keras_adam(weight_decay=np.inf), "weight_decay must be finite"),
])
def test_non_finite_and_out_of_range_hyperparameters_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_adam_update_keeps_float32_with_array_hyperparameters():
    theta, grad = np.ones((2, 3), np.float32), np.full((2, 3), 0.5, np.float32)
    zeros = np.zeros((2, 3), np.float32)
    lr = np.array([[1e-2], [1e-3]])
    beta2 = np.array([[0.9], [0.99]])
    new_theta, m, v = adam_update(theta, grad, zeros, zeros, 1, lr=lr, beta2=beta2)
    assert new_theta.dtype == m.dtype == v.dtype == np.float32
    ours = theta.copy()
    Adam(lr=lr, beta2=beta2).step(ours, grad)
    np.testing.assert_allclose(new_theta, ours, rtol=1e-6)


def test_adam_update_computes_a_float64_gradient_in_theta_dtype():
    theta = np.ones(2, np.float32)
    zeros = np.zeros(2, np.float32)
    outputs = adam_update(theta, np.array([0.5, -0.5]), zeros, zeros, 1)
    assert [a.dtype for a in outputs] == [np.float32] * 3


def test_squares_that_fit_one_by_one_but_not_summed_take_the_exact_check():
    # Σg² overflows (the cheap bound), every g² fits: the step must go through.
    theta, opt = np.zeros(10), Adam()
    opt.step(theta, np.full(10, 1e154))
    assert np.isfinite(opt.v).all() and np.isfinite(theta).all()


def test_nan_with_finite_gradients_still_propagates_on_the_exact_path():
    theta, opt = np.zeros(3), RMSprop()
    opt.step(theta, np.array([np.nan, 1.0, -np.inf]))
    assert np.isnan(theta[0]) and np.isfinite(theta[1]) and np.isnan(opt.v[0])


def test_sgd_does_not_square_so_its_overflow_is_an_inf_that_propagates():
    # Decision: only a squared gradient's overflow raises; any other gives ±inf.
    theta, opt = np.zeros(2), SGD(lr=1.0, momentum=0.9)
    opt.step(theta, np.array([1e308, 1.0]))
    opt.step(theta, np.array([1e308, 1.0]))
    assert np.isneginf(theta[0]) and np.isfinite(theta[1])


def test_eps_hat_in_float32_with_a_step_count_past_float32_integers():
    opt = Adam(epsilon_hat=True)
    opt.load_state_dict({**Adam(epsilon_hat=True).state_dict(), "t": np.int64(2**62),
                         "structure": np.asarray("array"),
                         "m": np.zeros(3, np.float32), "v": np.zeros(3, np.float32)})
    theta = np.ones(3, np.float32)
    with np.errstate(all="raise"):
        opt.step(theta, np.ones(3, np.float32))
    assert theta.dtype == np.float32 and np.isfinite(theta).all()


@pytest.mark.parametrize("params, grads", [
    ([np.zeros(3), np.zeros(3)], lambda g: [g, g]),               # one gradient for two
    (lambda x: [x[::2], x[1::2]], lambda g: [g[:2], g[:2]]),       # interleaved, disjoint
    ([np.zeros(2) for _ in range(12)], lambda g: [g[:2]] * 12),   # the sorted-bounds path
])
def test_gradients_may_share_memory_and_interleaved_views_are_disjoint(params, grads):
    params = params(np.zeros(4)) if callable(params) else params
    g = np.ones(3)
    Adam(lr=0.1).step(params, grads(g))
    assert all(np.all(p[: min(2, p.size)] < 0) for p in params)
    np.testing.assert_array_equal(g, 1.0)


def test_fit_that_fails_leaves_the_generator_where_it_was():
    keras_style.set_random_seed(3)
    model = keras_style.Sequential([keras_style.Dense(1, input_shape=[1])])
    model.compile(optimizer=adamref.keras_adam(learning_rate=0.01), loss="mse")
    x = np.ones((8, 1), np.float32)
    x[6] = 1e19
    with pytest.raises(FloatingPointError):
        model.fit(x, np.zeros(8), epochs=2, batch_size=4, shuffle=True, seed=None)
    after = keras_style._global["rng"].random()
    keras_style.set_random_seed(3)
    keras_style.Sequential([keras_style.Dense(1, input_shape=[1])])
    assert keras_style._global["rng"].random() == after


def _overflowing_at_step(k, n=3):
    """A gradient oracle that gives ordinary gradients, then one whose square
    overflows at its k-th call."""
    calls = []

    def gradient(theta, *args):
        calls.append(1)
        g = np.ones_like(theta)
        if len(calls) == k:
            g.flat[0] = 1e300
        return g
    return gradient


@pytest.mark.parametrize("shape, run", [
    ((3,), lambda opt, g: runs.trajectory(opt, g, np.zeros(3), 5)),
    ((2, 3), lambda opt, g: noise.run_batch(opt, g, np.zeros((2, 3)), 5)),
    ((3,), lambda opt, g: scaling.steps_along(opt, np.stack([g(np.zeros(3)) for _ in range(5)]))),
    ((3,), lambda opt, g: lineage.lockstep_steps(opt, Adam(), g, np.zeros(3), 5)),
    ((3,), lambda opt, g: lineage.lockstep_steps(Adam(), opt, g, np.zeros(3), 5)),
], ids=["trajectory", "run_batch", "steps_along", "lockstep-a", "lockstep-b"])
def test_functions_that_take_many_steps_give_the_optimizer_back_unchanged(shape, run):
    opt = stepped(Adam(), np.zeros(shape))
    before = snapshot(opt)
    with pytest.raises(FloatingPointError):
        run(opt, _overflowing_at_step(3))
    assert snapshot(opt) == before


def test_optax_amsgrad_variant_changes_nothing_when_it_fails():
    from adamref.optim.functional import OptaxAMSGrad
    opt, theta = OptaxAMSGrad(), np.zeros(3)
    opt.step(theta, np.ones(3))
    before = (opt.t, opt.m.copy(), opt.v.copy(), opt.v_max.copy(), theta.copy())
    with pytest.raises(ValueError):
        opt.step(theta, np.ones(4))
    assert opt.t == before[0]
    for now, then in zip((opt.m, opt.v, opt.v_max, theta), before[1:]):
        np.testing.assert_array_equal(now, then)


def test_a_pending_loaded_state_stays_pending_when_a_many_step_run_fails():
    opt = Adam()
    opt.load_state_dict(saved_adam())
    before = snapshot(opt)
    with pytest.raises(FloatingPointError):
        runs.trajectory(opt, _overflowing_at_step(3), np.zeros(3), 5)
    assert snapshot(opt) == before and opt.state == {}
