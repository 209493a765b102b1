"""``adamref.optim.adafactor.Adafactor``: replayed against trajectories recorded
from ``torch.optim.Adafactor`` (``tests/reference/record_adafactor.py``), its
first step and factored estimate by hand, update clipping, the options torch
lacks, state round trips and checks."""

import json
from pathlib import Path

import numpy as np
import pytest

from adamref.optim.adafactor import Adafactor, factored, rms
from adamref.optim.engine import CHUNK
from adamref.optim.schedules import inverse_sqrt
from reference_oracle import problem   # tests/reference/problem.py

HERE = Path(__file__).resolve().parent
FIXTURES = sorted((HERE / "fixtures").glob("adafactor_torch_*.npz"))
EXPECTED = {"adafactor_torch_defaults", "adafactor_torch_options", "adafactor_torch_maximize"}
RTOL, ULPS = 1e-12, 8          # as the Adam replay (test_reference_fixtures.py)


def adamref_adafactor(kwargs: dict) -> Adafactor:
    """torch's keywords in adamref's names (``eps`` is the pair ``(eps1, eps2)``)."""
    kwargs = dict(kwargs)
    eps1, eps2 = kwargs.pop("eps", (None, 1e-3))
    return Adafactor(eps1=eps1, eps2=eps2, **kwargs)


@pytest.fixture(params=FIXTURES, ids=lambda p: p.stem)
def fixture(request):
    with np.load(request.param, allow_pickle=False) as data:
        return {key: data[key] for key in data.files} | {"name": request.param.stem}


def test_all_fixtures_are_present():
    assert {p.stem for p in FIXTURES} == EXPECTED


def test_oracle_reproduces_the_recorded_gradients(fixture):
    for i in range(2):
        before = np.concatenate([fixture[f"theta0_{i}"][None], fixture[f"trajectory_{i}"][:-1]])
        for step, (theta, recorded) in enumerate(zip(before, fixture[f"grads_{i}"]), start=1):
            np.testing.assert_array_equal(
                problem.gradient(theta.reshape(-1), step).reshape(theta.shape), recorded)


def test_replay_matches_torch(fixture):
    opt = adamref_adafactor(json.loads(str(fixture["kwargs_json"])))
    params = [fixture[f"theta0_{i}"].copy() for i in range(2)]
    steps = len(fixture["trajectory_0"])
    for step in range(1, steps + 1):
        grads = [problem.gradient(p.reshape(-1), step).reshape(p.shape) for p in params]
        opt.step(params, grads)
        for i, p in enumerate(params):
            reference = fixture[f"trajectory_{i}"][step - 1]
            atol = ULPS * float(np.spacing(np.max(np.abs(reference))))
            np.testing.assert_allclose(p, reference, rtol=RTOL, atol=atol,
                                       err_msg=f"{fixture['name']}: θ[{i}] at step {step}")
    assert factored(params[0]) and not factored(params[1])
    for name in ("row_var", "col_var", "variance"):
        for i, mine in enumerate(getattr(opt, name)):
            key = f"{name}_{i}"
            if key not in fixture:
                assert mine.shape == (0,), f"{key} is torch's None: adamref keeps it empty"
                continue
            reference = fixture[key]
            assert mine.shape == reference.shape
            atol = ULPS * float(np.spacing(np.max(np.abs(reference))))
            np.testing.assert_allclose(mine, reference, rtol=RTOL, atol=atol, err_msg=key)
    assert float(fixture["foreach_max_abs_diff"]) < 1e-12


def test_first_step_by_hand():
    # t = 1: 1 − β̂2 = 1, so V = g² and U = sign(g); RMS(U) = 1 is not clipped
    # (d = 1); α_1 = max(ε2, RMS(θ0))·min(lr, 1).
    theta = np.array([3.0, -4.0, 0.0, 1.0])          # RMS = √(26/4)
    grad = np.array([2.0, -0.5, 1e-3, -7.0])
    Adafactor(lr=0.02).step(theta, grad)
    expected = np.array([3.0, -4.0, 0.0, 1.0]) - np.sqrt(26 / 4) * 0.02 * np.sign(grad)
    np.testing.assert_allclose(theta, expected, rtol=1e-15)
    # A parameter of RMS below ε2 moves by ε2·ρ.
    tiny = np.full(3, 1e-6)
    Adafactor(lr=0.5).step(tiny, np.array([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(tiny, 1e-6 - 1e-3 * 0.5 * np.array([1, -1, 1]), rtol=1e-12)


def test_options_that_torch_lacks():
    grad = np.array([2.0, -0.5, 1.0])
    for relative_step, scale_parameter, size in [(False, False, 0.3), (False, True, 0.3 * 5),
                                                 (True, False, min(0.3, 1.0))]:
        theta = np.full(3, 5.0)
        opt = Adafactor(lr=0.3, relative_step=relative_step, scale_parameter=scale_parameter)
        opt.step(theta, grad)
        np.testing.assert_allclose(theta, 5.0 - size * np.sign(grad), rtol=1e-15)
    # Later steps: ρ_t = min(lr, 1/√t) only with the relative step.
    relative, fixed = Adafactor(lr=0.3, scale_parameter=False), \
        Adafactor(lr=0.3, relative_step=False, scale_parameter=False)
    a, b = np.zeros(1), np.zeros(1)
    for _ in range(16):
        before = a.copy(), b.copy()
        relative.step(a, np.ones(1))
        fixed.step(b, np.ones(1))
    assert abs(a - before[0])[0] == pytest.approx(0.25) and abs(b - before[1])[0] == pytest.approx(0.3)


def test_the_factored_estimate_is_exact_for_a_rank_one_square():
    # g_ij = a_i b_j: R = a²·mean(b²), C = b²·mean(a²), mean(R) = mean(a²)·mean(b²),
    # so R·C/mean(R) = g²: the matrix takes the unfactored (vector) step.
    a, b = np.array([1.0, -3.0, 0.5]), np.array([2.0, 0.25, -1.0, 4.0])
    g = np.outer(a, b)
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((3, 4))
    matrix, vector = theta.copy(), theta.reshape(-1).copy()
    m_opt, v_opt = Adafactor(), Adafactor()
    for _ in range(5):
        m_opt.step(matrix, g)
        v_opt.step(vector, g.reshape(-1))
    np.testing.assert_allclose(matrix.reshape(-1), vector, rtol=1e-14)
    assert m_opt.row_var.shape == (3, 1) and m_opt.col_var.shape == (1, 4)
    assert m_opt.variance.shape == (0,) and v_opt.variance.shape == (12,)
    # A gradient of higher rank is only approximated: the steps differ.
    g[0, 0] *= -5
    m_opt.step(matrix, g)
    v_opt.step(vector, g.reshape(-1))
    assert np.max(np.abs(matrix.reshape(-1) - vector)) > 1e-3


def test_update_clipping_caps_the_rms_of_the_step():
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(50)
    # 19 small gradients, then large ones: √V̂ lags behind (1 − β̂2_20 = 20^-0.8 ≈ 0.09),
    # so RMS(U) ≈ 3 > d at step 20.
    grads = [rng.standard_normal(50) for _ in range(19)] + [100 * rng.standard_normal(50)
                                                            for _ in range(10)]
    for d in (1.0, 1.5):
        opt = Adafactor(lr=1.0, d=d, scale_parameter=False, relative_step=False)
        steps = []
        for g in grads:
            before = theta.copy()
            opt.step(theta, g)
            steps.append(rms(theta - before))
        assert max(steps) <= d * (1 + 1e-12)
        assert steps[19] == pytest.approx(d)                      # clipped at step 20
    unclipped = Adafactor(lr=1.0, d=100.0, scale_parameter=False, relative_step=False)
    for g in grads[:20]:
        before = theta.copy()
        unclipped.step(theta, g)
    assert rms(theta - before) > 2.5


def test_whole_leaves_are_never_chunked():
    # α uses the RMS of the whole leaf: a chunked leaf would scale each chunk by its own.
    theta = np.ones(3 * CHUNK, dtype=np.float32)
    theta[:CHUNK] = 100.0
    expected_rms = np.sqrt((100.0**2 + 2) / 3)
    grad = np.ones_like(theta)
    Adafactor(lr=0.01).step(theta, grad)
    np.testing.assert_allclose(theta[CHUNK:], 1 - 0.01 * expected_rms, rtol=1e-6)
    assert theta.dtype == np.float32


def test_float32_stays_float32_with_its_own_machine_epsilon():
    theta = np.zeros((2, 3), dtype=np.float32)
    opt = Adafactor()
    opt.step(theta, np.zeros((2, 3), dtype=np.float32))    # g = 0: U = 0/√ε1², no NaN
    assert theta.dtype == opt.row_var.dtype == np.float32 and np.all(theta == 0)
    assert opt.state_dict()["config.eps1"] == "machine epsilon"
    assert Adafactor(eps1=1e-30).state_dict()["config.eps1"] == 1e-30


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(2)
    params = {"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    grads = [{"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)} for _ in range(6)]
    opt = Adafactor(lr=0.05, weight_decay=0.01)
    for g in grads[:3]:
        opt.step(params, g)
    saved, copy = opt.state_dict(), {k: v.copy() for k, v in params.items()}
    assert saved["row_var['w']"].shape == (4, 1) and saved["variance['b']"].shape == (3,)
    resumed = Adafactor(lr=0.05, weight_decay=0.01)
    resumed.load_state_dict(saved)
    for g in grads[3:]:
        opt.step(params, g)
        resumed.step(copy, g)
    for key in params:
        np.testing.assert_array_equal(params[key], copy[key])
    other = Adafactor(lr=0.05, weight_decay=0.01)
    other.load_state_dict(saved)
    with pytest.raises(ValueError, match=r"row_var\['w'\]\"\] has shape \(4, 1\) but its parameter \(shape \(5, 3\)\) needs \(5, 1\)"):
        other.step({"w": np.zeros((5, 3)), "b": np.zeros(3)},
                   {"w": np.zeros((5, 3)), "b": np.zeros(3)})
    with pytest.raises(ValueError, match="saved with eps1='machine epsilon', this Adafactor has "
                                         "eps1=1e-30"):
        Adafactor(lr=0.05, weight_decay=0.01, eps1=1e-30).load_state_dict(saved)


def test_installed_state_refuses_other_params():
    opt = Adafactor()
    opt.step(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"do not match the optimizer's state.*row_var of "
                                         r"shapes \[\(2, 1\)\]"):
        opt.step(np.zeros((2, 4)), np.ones((2, 4)))


def test_a_failing_call_changes_nothing():
    theta = np.ones((2, 2))
    opt = Adafactor()
    opt.step(theta, np.ones((2, 2)))
    before, state = theta.copy(), opt.state_dict()
    with pytest.raises(FloatingPointError, match="nothing was updated"):
        opt.step(theta, np.full((2, 2), 1e200))
    np.testing.assert_array_equal(theta, before)
    after = opt.state_dict()
    assert all(np.array_equal(after[k], state[k]) for k in state)


@pytest.mark.parametrize("shape", [(2, 1), (1, 2)])
def test_a_row_or_column_sum_that_overflows_is_refused(shape):
    """Every g² fits float32 (|g| < 1.8e19), but a sum of two does not: the
    step is refused and nothing changes (found by hypothesis in test_properties)."""
    theta = -np.ones(shape, np.float32)
    opt = Adafactor(weight_decay=1e-3)
    opt.step(theta, -np.ones(shape, np.float32))
    before, state = theta.copy(), opt.state_dict()
    with pytest.raises(FloatingPointError, match="its row and column sums"):
        opt.step(theta, np.full(shape, -1.34e19, np.float32))
    np.testing.assert_array_equal(theta, before)
    after = opt.state_dict()
    assert all(np.array_equal(after[k], state[k]) for k in state)


def test_a_large_gradient_whose_sums_fit_is_taken():
    """The bound is not a ban: |g| = 1e19 in float32 (g² = 1e38, a sum of two
    2e38 < 3.4e38) is a finite step."""
    theta = -np.ones((2, 1), np.float32)
    Adafactor().step(theta, np.full((2, 1), -1e19, np.float32))
    assert np.isfinite(theta).all()


def test_a_schedule_sets_lr():
    theta = np.full(3, 2.0)
    Adafactor(lr=inverse_sqrt(0.5), scale_parameter=False).step(theta, np.ones(3))
    np.testing.assert_allclose(theta, 1.5)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"d": 0.5}, ValueError, r"d must be >= 1.0, got 0.5"),
    ({"beta2_decay": 0.1}, ValueError, r"beta2_decay must be in \[-inf, 0.0\], got 0.1"),
    ({"eps1": -1.0}, ValueError, r"eps1 must be >= 0.0, got -1.0"),
    ({"lr": np.array([0.1, 0.2])}, TypeError, r"lr must be a number for Adafactor"),
    ({"relative_step": 1}, TypeError, r"relative_step must be True or False, got 1"),
    ({"weight_decay": np.inf}, ValueError, r"weight_decay must be finite, got inf"),
])
def test_bad_hyperparameters_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        Adafactor(**kwargs)
