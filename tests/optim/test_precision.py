"""``adamref.optim.precision``: bf16 rounding against hand-computed cases and an
independent rounding, its properties over every bf16 number, and Adam with
every number in fp32, bf16 or fp16."""

import numpy as np
import pytest

from adamref.optim.functional import adam_variant_update
from adamref.optim.precision import (BF16_EPS, BF16_LARGEST, BF16_SMALLEST_NORMAL,
                                     BF16_SMALLEST_SUBNORMAL, PRECISIONS, LowPrecisionAdam,
                                     adam_update_in, is_bfloat16, moments_in,
                                     positive_values, round_to_bfloat16, to_precision)


def bits(pattern: int) -> np.float32:
    return np.array([pattern], dtype=np.uint32).view(np.float32)[0]


def bf16(x) -> np.ndarray:
    return round_to_bfloat16(np.asarray(x, dtype=np.float32))


# (input, bf16 result), each exact in float32; the reason in the comment.
EXACT_CASES = [
    (1.0, 1.0),
    (1 + 2.0**-8, 1.0),                       # a tie: 1 (even) against 1 + 2^-7
    (1 + 3 * 2.0**-8, 1 + 2.0**-6),           # a tie: 1 + 2^-6 is the even one
    (1 + 2.0**-8 + 2.0**-20, 1 + 2.0**-7),    # just above the tie: up
    (1 + 2.0**-8 - 2.0**-20, 1.0),            # just below the tie: down
    (-(1 + 3 * 2.0**-8), -(1 + 2.0**-6)),     # the sign does not matter
    (2 - 2.0**-8, 2.0),                       # a tie with carry into the exponent
    (255.5, 256.0),                           # the same at 2^8
    (3.0, 3.0),
    (BF16_LARGEST, BF16_LARGEST),             # largest finite stays
    ((2 - 2.0**-8) * 2.0**127, np.inf),       # the tie above it: overflow
    (float(np.finfo(np.float32).max), np.inf),
    (BF16_SMALLEST_SUBNORMAL, BF16_SMALLEST_SUBNORMAL),
    (2.0**-134, 0.0),                         # half the smallest subnormal: tie to 0
    (2.0**-134 + 2.0**-149, BF16_SMALLEST_SUBNORMAL),
    (3 * 2.0**-134, 2.0**-132),               # a subnormal tie, to even
    ((2 - 2.0**-8) * 2.0**-127, BF16_SMALLEST_NORMAL),   # largest subnormal's tie: carry
    (2.0**-149, 0.0),                         # float32's smallest subnormal
]


@pytest.mark.parametrize("value, expected", EXACT_CASES, ids=[repr(c[0]) for c in EXACT_CASES])
def test_hand_computed_cases(value, expected):
    assert np.float32(value) == value           # every input is a float32 number
    result = bf16(value)
    assert result.dtype == np.float32 and float(result) == expected


def test_signed_zero_infinities_and_nan():
    out = bf16([0.0, -0.0, np.inf, -np.inf, np.nan])
    assert out[0] == 0 and not np.signbit(out[0]) and np.signbit(out[1]) and out[1] == 0
    assert out[2] == np.inf and out[3] == -np.inf and np.isnan(out[4])
    # A NaN whose payload is only in the low 16 bits must not become inf.
    payloads = np.array([bits(0x7F800001), bits(0xFF80FFFF), bits(0x7FC00000)])
    assert np.all(np.isnan(round_to_bfloat16(payloads)))
    assert np.signbit(round_to_bfloat16(payloads)[1])


def test_only_float32_input():
    with pytest.raises(TypeError, match="x must be float32 .* got dtype float64"):
        round_to_bfloat16(np.array([1.0]))


def independent_bf16(x64: np.ndarray) -> np.ndarray:
    """Round float64 values (normal in bf16) to 8 significant bits by frexp and
    NumPy's round-half-to-even: no float32 bits involved."""
    fraction, exponent = np.frexp(x64)              # x = fraction·2^exponent, |fraction| in [0.5, 1)
    return np.ldexp(np.round(fraction * 256) / 256, exponent)


def test_agrees_with_an_independent_rounding():
    rng = np.random.default_rng(0)
    patterns = rng.integers(0x00800000, 0x7F7F0000, size=200_000, dtype=np.uint32)
    patterns |= rng.integers(0, 2, size=patterns.size, dtype=np.uint32) << np.uint32(31)
    x = patterns.view(np.float32)
    np.testing.assert_array_equal(round_to_bfloat16(x).astype(np.float64),
                                  independent_bf16(x.astype(np.float64)))


def every_bf16():
    positive = positive_values("bf16")
    return np.concatenate([-positive[::-1], [np.float32(0)], positive])


def test_properties_over_every_bf16_number_and_random_floats():
    exact = every_bf16()
    assert exact.size == 2 * 32639 + 1 and is_bfloat16(exact)
    np.testing.assert_array_equal(round_to_bfloat16(exact), exact)          # fixed points
    rng = np.random.default_rng(1)
    x = rng.integers(0, 0xFF800000, size=300_000, dtype=np.uint32).view(np.float32)
    x = np.sort(x[np.isfinite(x)])
    r = round_to_bfloat16(x)
    np.testing.assert_array_equal(round_to_bfloat16(r), r)                   # idempotent
    assert np.all(r[1:] >= r[:-1])                                          # monotone
    assert np.isinf(r).sum() > 0                                            # overflow seen
    normal = (np.abs(r) >= BF16_SMALLEST_NORMAL) & np.isfinite(r)
    error = np.abs(r[normal].astype(np.float64) - x[normal])
    assert np.all(error <= 2.0**-8 * np.abs(x[normal].astype(np.float64)))  # relative ≤ 2^-8
    subnormal = np.abs(x) < BF16_SMALLEST_NORMAL                             # absolute there
    assert np.all(np.abs(r[subnormal].astype(np.float64) - x[subnormal])
                  <= BF16_SMALLEST_SUBNORMAL / 2)


def test_positive_values_and_landmarks():
    fp16 = positive_values("fp16")
    assert fp16.dtype == np.float16 and fp16.size == 31743 and np.all(np.diff(fp16) > 0)
    assert fp16[0] == 2.0**-24 and fp16[-1] == 65504
    bf = positive_values("bf16")
    assert bf[0] == BF16_SMALLEST_SUBNORMAL and bf[-1] == BF16_LARGEST
    assert bf[np.searchsorted(bf, 1.0) + 1] - 1 == BF16_EPS
    with pytest.raises(ValueError, match="16-bit format"):
        positive_values("fp32")


def test_epsilon_and_betas_in_each_format():
    assert to_precision(1e-8, "fp16") == 0                   # below half of 2^-24: gone
    assert to_precision(1e-8, "bf16") == np.float32(1.0011718e-08)
    assert to_precision(0.999, "bf16") == 1.0                # 8 bits cannot hold β2
    assert to_precision(0.999, "fp16") == np.float16(0.999) != 1
    assert to_precision(1e6, "fp16") == np.inf
    assert to_precision(1e6, "bf16") == 999424.0
    with pytest.raises(ValueError, match=r"precision must be one of \['fp32', 'bf16', 'fp16'\]"):
        to_precision(1.0, "fp8")


def random_state(rng, shape, precision):
    theta = to_precision(rng.standard_normal(shape), precision)
    m = to_precision(0.1 * rng.standard_normal(shape), precision)
    v = to_precision(0.01 * rng.random(shape), precision)
    return theta, m, v


def test_fp32_is_adam_on_float32_bit_for_bit():
    rng = np.random.default_rng(2)
    theta, m, v = random_state(rng, 50, "fp32")
    ref = (theta, m, v)
    for t in range(1, 30):
        g = rng.standard_normal(50).astype(np.float32)
        theta, m, v = adam_update_in("fp32", theta, g, m, v, t, lr=0.01, eps=1e-6)
        ref = adam_variant_update(*ref[:1], g, *ref[1:], t, lr=0.01, eps=1e-6)[:3]
        for mine, theirs in zip((theta, m, v), ref):
            assert mine.dtype == np.float32
            np.testing.assert_array_equal(mine, theirs)


def test_bf16_is_correctly_rounded_operation_by_operation():
    """Against the same step computed in float64 and rounded after each
    operation by ``independent_bf16`` (values kept in bf16's normal range)."""
    rng = np.random.default_rng(3)
    theta, m, v = random_state(rng, 200, "bf16")
    v = bf16(v + np.float32(1e-3))
    lr, b1, b2, eps, t = 0.01, 0.9, 0.999, 1e-3, 7
    g = rng.standard_normal(200)
    new_theta, new_m, new_v = adam_update_in("bf16", theta, g, m, v, t, lr, b1, b2, eps)
    assert all(is_bfloat16(a) for a in (new_theta, new_m, new_v))
    r = independent_bf16
    c = {k: r(np.float64(val)) for k, val in dict(
        one_minus_beta1=1 - b1, one_minus_beta2=1 - b2, step_size=lr / (1 - b1**t),
        sqrt_c2=np.sqrt(1 - b2**t), eps=eps).items()}
    g16 = r(g.astype(np.float32).astype(np.float64))
    m64, v64, th64 = (a.astype(np.float64) for a in (m, v, theta))
    m64 = r(m64 + r(c["one_minus_beta1"] * r(g16 - m64)))
    v64 = r(v64 + r(c["one_minus_beta2"] * r(r(g16 * g16) - v64)))
    denom = r(r(r(np.sqrt(v64)) / c["sqrt_c2"]) + c["eps"])
    th64 = r(th64 - r(c["step_size"] * r(m64 / denom)))
    for mine, reference in ((new_m, m64), (new_v, v64), (new_theta, th64)):
        np.testing.assert_array_equal(mine.astype(np.float64), reference)


def test_fp16_computes_in_float16_and_master_weights_in_float32():
    rng = np.random.default_rng(4)
    theta, m, v = random_state(rng, 20, "fp16")
    out = adam_update_in("fp16", theta, rng.standard_normal(20), m, v, 3)
    assert all(a.dtype == np.float16 for a in out)
    master = theta.astype(np.float32)
    new_master, m2, v2 = adam_update_in("fp16", master, rng.standard_normal(20), m, v, 3,
                                        master_weights=True)
    assert new_master.dtype == np.float32 and m2.dtype == np.float16


def test_fp16_divides_by_zero_where_fp32_does_not():
    # ε = 1e-8 is 0 in fp16, and (1 − β2)·g² underflows for small g: v = 0, m ≠ 0.
    zero = to_precision(np.zeros(3), "fp16")
    g = np.array([1e-7, 1e-3, 1.0])
    theta, m, v = adam_update_in("fp16", zero, g, zero, zero, 1)
    assert v[0] == v[1] == 0 and m[0] == 0 and m[1] != 0
    assert np.isnan(theta[0]) and theta[1] == -np.inf and theta[2] == pytest.approx(-1e-3, rel=1e-3)
    z32 = np.zeros(3, np.float32)
    theta32, _, _ = adam_update_in("fp32", z32, g, z32, z32, 1)
    assert np.all(np.isfinite(theta32))


def test_moments_in_repeats_the_moment_updates_of_adam_update_in():
    rng = np.random.default_rng(7)
    for precision in PRECISIONS:
        zero = to_precision(np.zeros(6), precision)
        grad = np.array([1e-9, 1e-5, 1e-3, 0.7, 3.0, 300.0])     # fp16: underflow and overflow
        m, v = to_precision(0.1 * rng.random(6), precision), zero
        before = (m.copy(), v.copy())
        ref_m, ref_v = m, v
        with np.errstate(all="ignore"):
            for t in range(1, 40):
                _, ref_m, ref_v = adam_update_in(precision, zero, grad, ref_m, ref_v, t,
                                                 beta1=0.8, beta2=0.99)
        new_m, new_v = moments_in(precision, grad, m, v, 0.8, 0.99, repeat=39)
        np.testing.assert_array_equal(new_m, ref_m)
        np.testing.assert_array_equal(new_v, ref_v)
        np.testing.assert_array_equal(m, before[0])                # the inputs are unchanged
        np.testing.assert_array_equal(v, before[1])
        same = moments_in(precision, grad, m, v, repeat=0)
        np.testing.assert_array_equal(same[0], m)
    z = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="repeat must be an integer >= 0"):
        moments_in("fp32", z, z, z, repeat=-1)
    with pytest.raises(TypeError, match="beta2 must be a number here"):
        moments_in("fp32", z, z, z, beta2=np.full(3, 0.9))
    with pytest.raises(ValueError, match="v must be >= 0"):
        moments_in("fp32", z, z, z - 1)


def test_low_precision_adam_keeps_the_state_of_the_pure_steps():
    rng = np.random.default_rng(5)
    grads = rng.standard_normal((5, 4))
    opt = LowPrecisionAdam("bf16", lr=0.1, master_weights=True)
    theta = np.ones(4, np.float32)
    ref = (theta.copy(), to_precision(np.zeros(4), "bf16"), to_precision(np.zeros(4), "bf16"))
    for t, g in enumerate(grads, start=1):
        opt.step(theta, g)
        ref = adam_update_in("bf16", ref[0], g, ref[1], ref[2], t, lr=0.1, master_weights=True)
    np.testing.assert_array_equal(theta, ref[0])
    np.testing.assert_array_equal(opt.v, ref[2])
    assert opt.t == 5 and opt.state_bytes() == 2 * 4 * 2
    frozen = np.ones(4, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step(frozen, grads[0])
    assert opt.t == 5


@pytest.mark.parametrize("call, error, match", [
    (lambda z: adam_update_in("fp64", z, z, z, z, 1), ValueError, "precision must be one of"),
    (lambda z: adam_update_in("fp16", z, z, z, z, 1), TypeError,
     "theta must have dtype float16, got dtype float32"),
    (lambda z: adam_update_in("bf16", z, z, z + np.float32(0.1), z, 1), ValueError,
     r"m holds float32 values that are not bf16 numbers: pass round_to_bfloat16\(m\)"),
    (lambda z: adam_update_in("fp32", z, z, z, z - 1, 1), ValueError, "v must be >= 0"),
    (lambda z: adam_update_in("fp32", z, z, z, z, 0), ValueError, "t must be an integer >= 1"),
    (lambda z: adam_update_in("fp32", z, z, z, z, 1, eps=np.ones(3)), TypeError,
     "eps must be a number here"),
    (lambda z: adam_update_in("fp32", z, z, z, z, 1, lr=np.ones((2, 1))), ValueError,
     r"lr has shape \(2, 1\), which does not broadcast to theta's shape \(3,\)"),
    (lambda z: adam_update_in("fp32", z, z[:2], z, z, 1), ValueError, "grad has shape"),
    (lambda z: adam_update_in("fp32", z, z, z, z, 1, master_weights=1), TypeError,
     "master_weights must be True or False"),
    (lambda z: LowPrecisionAdam("fp32", lr=-1), ValueError, "lr must be >= 0.0, got -1"),
])
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call(np.zeros(3, np.float32))


def test_an_lr_sweep_runs_each_row_as_alone():
    rng = np.random.default_rng(6)
    grads = rng.standard_normal((20, 5))
    lrs = np.array([[1e-3], [0.03], [1.0]])
    sweep = LowPrecisionAdam("bf16", lr=lrs, master_weights=True)
    rows = np.ones((3, 5), np.float32)
    for g in grads:
        sweep.step(rows, np.broadcast_to(g, (3, 5)))
    for k, lr in enumerate(lrs[:, 0]):
        alone, theta = LowPrecisionAdam("bf16", lr=lr, master_weights=True), np.ones(5, np.float32)
        for g in grads:
            alone.step(theta, g)
        np.testing.assert_array_equal(rows[k], theta)


def test_precisions():
    assert PRECISIONS == ("fp32", "bf16", "fp16")
