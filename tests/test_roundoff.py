"""adamref.roundoff: round-off agreement shown as a checked bound, and values at
round-off level shown as below a floor."""

import numpy as np
import pytest

from adamref.roundoff import above_floor, agreement, below, round_up, ulp_bound


def test_ulp_bound_is_ulps_times_eps_times_scale():
    assert ulp_bound(2.0, 4) == 4 * np.finfo(np.float64).eps * 2.0
    assert ulp_bound(1.0, 1, np.float32) == float(np.finfo(np.float32).eps)


def test_agreement_states_the_bound_not_the_gap():
    expected = np.array([1.35, -0.5, 0.25])
    actual = expected + np.array([2.2e-16, 0.0, -5.5e-17])     # a few ulps off
    text = agreement(actual, expected, ulps=64)
    assert text == "within 2e-14 (64 float64 ulps of 1.35)"
    # the same text for any gap under the bound: no noise digits
    assert agreement(expected, expected, ulps=64) == text


def test_agreement_fails_loudly_when_the_gap_exceeds_the_bound():
    expected = np.ones(3)
    with pytest.raises(AssertionError, match="exceeds 4 float64 ulps"):
        agreement(expected + 1e-15, expected, ulps=4)
    with pytest.raises(AssertionError):
        agreement(np.array([np.nan]), np.array([1.0]))


def test_agreement_uses_the_dtype_and_scale_it_is_given():
    expected = np.ones(2, dtype=np.float32)
    text = agreement(expected + np.float32(1e-7), expected, ulps=2)
    assert "float32" in text
    assert agreement(np.zeros(2) + 1e-17, np.zeros(2), ulps=1, scale=1.0).startswith("within 3e-16")


def test_agreement_rejects_mismatched_shapes_and_bad_arguments():
    with pytest.raises(ValueError, match="same shape"):
        agreement(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="ulps"):
        agreement(np.ones(2), np.ones(2), ulps=0)
    with pytest.raises(ValueError, match="scale"):
        agreement(np.ones(2), np.ones(2), scale=-1.0)


@pytest.mark.parametrize("value, text", [(1.918e-14, "2e-14"), (2e-14, "2e-14"),
                                         (9.5e-3, "1e-02"), (0.0, "0"), (3.0, "3e+00")])
def test_round_up_never_rounds_down(value, text):
    assert round_up(value) == text
    assert float(text) >= value


def test_above_floor():
    assert above_floor(5.9e-23, 1e-20) == "< 1e-20"
    assert above_floor(1e-20, 1e-20) == "< 1e-20"
    assert above_floor(3.5e-15, 1e-20) == "3.5e-15"
    assert above_floor(0.012345, 1e-20, ".3f") == "0.012"
    with pytest.raises(ValueError, match="floor"):
        above_floor(1.0, -1.0)



def test_below_checks_and_states_the_bound():
    assert below(2.1e-11, 1e-9) == "< 1e-09"
    with pytest.raises(AssertionError, match="exceeds the bound"):
        below(2e-9, 1e-9)
    with pytest.raises(AssertionError):
        below(float("nan"), 1e-9)


# --- arithmetic that is the same on every CPU -------------------------------

from fractions import Fraction  # noqa: E402

from adamref.problems.washboard import Washboard, sin_2pi  # noqa: E402
from adamref.optim.optimizer import power  # noqa: E402


@pytest.mark.parametrize("base", [0.9, 0.999, 0.9999, 0.5, 0.0, 1.0])
@pytest.mark.parametrize("t", [0, 1, 2, 3, 10, 1000, 123457])
def test_power_is_accurate_and_the_same_for_scalars_and_arrays(base, t):
    exact = float(Fraction(base) ** t)
    value = power(base, t)
    tolerance = max(t, 1) * np.spacing(exact)         # t ulps: squaring doubles errors
    assert abs(float(value) - exact) <= tolerance
    array = power(np.array([base, base]), t)
    assert array.tobytes() == np.array([value, value]).tobytes()   # bit for bit


def test_power_uses_only_multiplications():
    # 0.9**3 by squaring is (0.9*0.9)*0.9 rounded twice; np.power rounds once
    assert power(0.9, 3) == (0.9 * 0.9) * 0.9


def test_sin_2pi_matches_numpy_to_rounding():
    x = np.linspace(-1.0, 1.0, 20001)
    assert np.abs(sin_2pi(x) - np.sin(2 * np.pi * x)).max() < 2e-15
    assert sin_2pi(np.array([0.0, 0.25, 0.5, -0.25])).tolist() == [0.0, 1.0, 0.0, -1.0]


def test_washboard_gradient_is_the_derivative_of_its_value():
    wash = Washboard(curvature=0.5, height=1.0)
    x = np.linspace(-3.0, 3.0, 61)[:, None]
    h = 1e-6
    numeric = (wash.value(x + h) - wash.value(x - h)) / (2 * h)
    assert np.allclose(wash.gradient(x)[:, 0], numeric, atol=1e-6)


def test_round_significant():
    from adamref.roundoff import round_significant
    x = np.geomspace(1.0, 30.0, 20)
    rounded = round_significant(x, 12)
    assert np.allclose(rounded, x, rtol=1e-11) and rounded[0] == 1.0 and rounded[-1] == 30.0
    # one ulp off does not change the rounded value
    assert round_significant(np.nextafter(x, np.inf), 12).tobytes() == rounded.tobytes()
    with pytest.raises(ValueError, match="digits"):
        round_significant(x, 0)
