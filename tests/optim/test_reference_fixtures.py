"""adamref against trajectories recorded from torch.optim (Adam, AdamW, NAdam,
Adamax), Keras 3 (Adam) and Optax (yogi, adabelief, lion).

The fixtures ``tests/optim/fixtures/ref_*.npz`` were recorded by hand with
``tests/reference/record_reference.py`` and ``record_optax.py`` (see their
docstrings; torch, keras and jax are never needed here); other ``.npz`` files
in that folder belong to other tests.  Each replay starts from the fixture's ``theta0``, asks the
shared oracle ``tests/reference/problem.py`` for the gradient at adamref's own
current parameters, steps adamref, and compares every step with the framework.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import adamref
from reference_oracle import problem   # tests/reference/problem.py

HERE = Path(__file__).resolve().parent
FIXTURE_DIR = HERE / "fixtures"
FIXTURES = sorted(FIXTURE_DIR.glob("ref_*.npz"))

# The cases record_reference.py writes; a missing one fails, an extra one is replayed too.
EXPECTED = {
    "ref_torch_adam", "ref_torch_adam_amsgrad", "ref_torch_adam_l2", "ref_torch_adamw",
    "ref_torch_adam_maximize", "ref_torch_adamw_amsgrad_maximize",
    "ref_torch_adam_betas_eps",
    "ref_keras_adam", "ref_keras_adam_amsgrad", "ref_keras_adam_weight_decay",
    "ref_torch_nadam", "ref_torch_nadam_l2", "ref_torch_nadamw", "ref_torch_nadam_betas_eps_decay",
    "ref_torch_adamax", "ref_torch_adamax_l2_maximize",
    "ref_optax_yogi", "ref_optax_yogi_betas_eps", "ref_optax_adabelief",
    "ref_optax_adabelief_eps", "ref_optax_lion", "ref_optax_lion_betas_decay",
}

#: What a fixture holds besides the optimizer's state (its buffers, under
#: adamref's names): the case, the run, and the recorder's diagnostics.
RECORD = {"framework", "optimizer", "optimizer_class", "kwargs_json", "meta_versions",
          "theta0", "trajectory", "grads", "name"}
DIAGNOSTICS = {"foreach_max_abs_diff", "jit_max_abs_diff", "float32_scalars_max_abs_diff"}


def state_keys(fixture):
    """The buffers a fixture stores: everything but the record and the diagnostics."""
    return set(fixture) - RECORD - DIAGNOSTICS


EPS32 = float(np.finfo(np.float32).eps)

# PyTorch and Optax, float64: the same algorithm evaluated with different but
# equally accurate roundings (torch: m.lerp_(g, 1−β1), v·β2 + (1−β2)·g²,
# θ.addcdiv_(m, denom, value=−step); adamref: m + (1−β1)(g − m),
# v + (1−β2)(g² − v), θ − step·(m/denom); NAdam's 0.96^(tψ) by pow in torch, by
# repeated squaring here; Optax and adamref's Optax variants share the order of
# operations, but XLA's division and scaling round differently in the last bit)
# must agree to 1e-12 relative on every step, or, for an entry that passes
# close to zero, where relative error means nothing, to 64 float64 ulps of the
# array's largest entry (≈ 1.4e-14 for |θ| ~ 1; the 64 ulps of
# ``roundoff.agreement``), far below any semantic slip (ε = 1e-8 → 1e-12 alone
# moves θ by ~8e-7 relative here).  Measured with numpy 2.4.6: the largest gap
# of θ over all float64 cases is 20 ulps of max|θ| (Optax AdaBelief, an entry
# of 4e-4 there: 4e-12 relative), else ≤ 17 ulps and ≤ 7.9e-13 relative; of the
# state, ≤ 4.8e-13 relative; Lion is bit for bit Optax's.
FLOAT64_RTOL = 1e-12
FLOAT64_ULPS = 64


def keras_atol(reference, step):
    """Keras, float32, θ after ``step`` updates: 2 ulps + 1 ulp per 6 steps of
    the largest |θ| (no rtol: coordinates cross zero).

    Both sides round θ, m, v to float32 at every step, in different orders, so
    two correct float32 Adams drift apart by a walk of half-ulp roundings fed
    back through the gradient.  Measured with Keras' own α_t (see below): equal
    on steps 1-2, ≤ 4.5 ulps of max|θ| at step 50, at most 0.55 of this bound.

    That needs α_t = lr·√(1−β2^t)/(1−β1^t) computed as Keras computes it: in
    the variable's dtype, from β cast to it.  float32(0.999) = 0.99900001287
    makes 1 − β2^t 1.3e-5 too small relative (and float32 cancels digits in
    1 − β2^t), so Keras' α_t is ~6e-6 too large: ~1 ulp of θ per step of
    systematic drift (49 ulps at step 50) from an α_t computed in float64.
    """
    scale = np.float32(np.max(np.abs(reference)))
    return (2 + step / 6) * float(np.spacing(scale))


def keras_state_rtol(step, betas):
    """Keras, float32, m, v, v_max after ``step`` updates, relative to each
    array's largest entry.  Keras' torch backend updates v ← v·β2 + g²·(1−β2)
    with β2 and 1−β2 each rounded to float32, and their sum is 1 + 1.3e-8 (for
    β1: 1 − 2.2e-8), so its v drifts by up to ~step·1.3e-8 relative from an EMA
    whose weights sum to 1, such as adamref's v + (1−β2)(g² − v) (which is also
    Keras' generic ``Adam.update_step``); plus 8 float32 ulps of rounding.
    Measured with Keras' α_t: ≤ 1.03e-6 (v) and ≤ 2.6e-7 (m) at step 50; this
    gives 2.1e-6.
    """
    defect = max(abs(float(np.float32(b)) + float(np.float32(1 - b)) - 1) for b in betas)
    return 8 * EPS32 + step * defect


# torch's classes and their adamref counterparts, with the keyword arguments
# each takes besides lr and betas.  torch's defaults are adamref's: lr 1e-3
# (NAdam, Adamax: 2e-3), betas (0.9, 0.999), eps 1e-8, weight_decay 0 (AdamW:
# 1e-2), momentum_decay 4e-3.
TORCH_COUNTERPARTS = {
    "torch.optim.Adam": (adamref.Adam, {"eps", "weight_decay", "amsgrad", "maximize"}),
    "torch.optim.AdamW": (adamref.AdamW, {"eps", "weight_decay", "amsgrad", "maximize"}),
    "torch.optim.NAdam": (adamref.NAdam, {"eps", "weight_decay", "momentum_decay",
                                          "decoupled_weight_decay", "maximize"}),
    "torch.optim.Adamax": (adamref.AdaMax, {"eps", "weight_decay", "maximize"}),
}
# Optax's functions: their counterparts, and Optax's names for adamref's
# keywords.  The defaults agree (b1, b2, eps, eps_root, weight_decay; Yogi's
# initial_accumulator_value 1e-6); Optax has no default learning rate.
OPTAX_COUNTERPARTS = {"optax.yogi": adamref.Yogi, "optax.adabelief": adamref.AdaBelief,
                      "optax.lion": adamref.Lion}
OPTAX_NAMES = {"learning_rate": "lr", "b1": "beta1", "b2": "beta2", "eps": "eps",
               "eps_root": "eps_root", "weight_decay": "weight_decay"}


def adamref_optimizer(fixture):
    """The adamref optimizer that should compute what the recorded one did."""
    framework = str(fixture["framework"])
    name = str(fixture["optimizer"])
    kwargs = json.loads(str(fixture["kwargs_json"]))
    if framework == "keras" and name == "keras.optimizers.Adam":
        return adamref.keras_adam(**kwargs)
    if framework == "torch" and name in TORCH_COUNTERPARTS:
        cls, known = TORCH_COUNTERPARTS[name]
        assert set(kwargs) <= known | {"lr", "betas"}, f"unhandled torch kwargs {kwargs}"
        beta1, beta2 = kwargs.pop("betas", (0.9, 0.999))
        return cls(beta1=beta1, beta2=beta2, **kwargs)
    if framework == "optax" and name in OPTAX_COUNTERPARTS:
        assert set(kwargs) <= set(OPTAX_NAMES), f"unhandled optax kwargs {kwargs}"
        return OPTAX_COUNTERPARTS[name](**{OPTAX_NAMES[k]: v for k, v in kwargs.items()})
    raise AssertionError(f"no adamref counterpart for {framework} {name}")


@pytest.fixture(params=FIXTURES or [None], ids=lambda p: p.stem if p else "no-fixtures")
def fixture(request):
    path = request.param
    assert path is not None, f"no reference fixtures ref_*.npz in {FIXTURE_DIR}"
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files} | {"name": path.stem}


def test_all_expected_fixtures_are_present():
    names = {path.stem for path in FIXTURES}
    assert names >= EXPECTED, f"missing fixtures in {FIXTURE_DIR}: {sorted(EXPECTED - names)}"


def test_fixture_is_well_formed(fixture):
    trajectory, grads, theta0 = fixture["trajectory"], fixture["grads"], fixture["theta0"]
    assert theta0.shape == (problem.N,)
    assert trajectory.ndim == 2 and trajectory.shape[1] == problem.N
    assert trajectory.shape[0] >= 10 and grads.shape == trajectory.shape
    expected_dtype = np.float32 if str(fixture["framework"]) == "keras" else np.float64
    assert theta0.dtype == trajectory.dtype == grads.dtype == expected_dtype
    np.testing.assert_array_equal(theta0, problem.THETA0.astype(expected_dtype))
    assert fixture["meta_versions"].dtype.kind == "U" and fixture["meta_versions"].size >= 2
    assert "m" in fixture
    for key in state_keys(fixture):
        assert fixture[key].shape == theta0.shape and fixture[key].dtype == expected_dtype
    amsgrad = json.loads(str(fixture["kwargs_json"])).get("amsgrad", False)
    assert ("v_max" in fixture) == amsgrad
    for key in DIAGNOSTICS & set(fixture):
        assert fixture[key].shape == () and 0 <= fixture[key] < 1e-9


def test_oracle_reproduces_the_recorded_gradients(fixture):
    """At the framework's own parameters the oracle gives, bit for bit, the
    gradients the framework was handed (guards against a change in NumPy's
    random stream or arithmetic), so the replay's gradients differ from the
    recorded ones only through the parameters."""
    before = np.vstack([fixture["theta0"][None], fixture["trajectory"][:-1]])
    for step, (theta, recorded) in enumerate(zip(before, fixture["grads"]), start=1):
        np.testing.assert_array_equal(problem.gradient(theta, step), recorded,
                                      err_msg=f"{fixture['name']}: step {step}")


def test_replay_matches_the_framework(fixture):
    opt = adamref_optimizer(fixture)
    theta = fixture["theta0"].copy()
    keras = str(fixture["framework"]) == "keras"
    steps = len(fixture["trajectory"])
    for step, reference in enumerate(fixture["trajectory"], start=1):
        opt.step(theta, problem.gradient(theta, step))
        assert theta.dtype == reference.dtype
        assert_close(theta, reference, keras, step, f"{fixture['name']}: θ at step {step}")
    assert opt.t == steps
    assert set(opt.state) == state_keys(fixture), f"{fixture['name']}: buffers differ"
    for key, mine in opt.state.items():
        betas = (opt.hyperparameters["beta1"], opt.hyperparameters["beta2"])
        assert_state_close(mine, fixture[key], keras, steps, betas,
                           f"{fixture['name']}: {key} after step {steps}")


def assert_close(actual, reference, keras, step, message):
    """θ after ``step`` updates against the framework's."""
    if keras:
        np.testing.assert_allclose(actual, reference, rtol=0,
                                   atol=keras_atol(reference, step), err_msg=message)
    else:
        atol = FLOAT64_ULPS * float(np.spacing(np.max(np.abs(reference))))
        np.testing.assert_allclose(actual, reference, rtol=FLOAT64_RTOL, atol=atol,
                                   err_msg=message)


def assert_state_close(actual, reference, keras, step, betas, message):
    """m, v or v_max after ``step`` updates against the framework's."""
    if keras:
        rtol = keras_state_rtol(step, betas)
        atol = rtol * float(np.max(np.abs(reference)))
    else:
        rtol = FLOAT64_RTOL
        atol = FLOAT64_ULPS * float(np.spacing(np.max(np.abs(reference))))
    np.testing.assert_allclose(actual, reference, rtol=rtol, atol=atol, err_msg=message)
