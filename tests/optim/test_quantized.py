"""``adamref.optim.quantized``: bitsandbytes' dynamic maps, block-wise
quantization (error bounds per block, exact zeros, monotone codes) and
``Adam8bit`` (Adam's step on the dequantized state, then quantized again)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adamref.optim import Adam
from adamref.optim.functional import adam_variant_update
from adamref.optim.quantized import (SIGNED_MAP, UNSIGNED_MAP, Adam8bit, block_count,
                                     dequantize_blockwise, dynamic_map, quantize_blockwise,
                                     zero_code)


def test_the_dynamic_maps_by_hand():
    for table, signed in ((SIGNED_MAP, True), (UNSIGNED_MAP, False)):
        assert table.shape == (256,) and table.dtype == np.float32
        assert np.all(np.diff(table) > 0) and table[-1] == 1.0 and 0.0 in table
        np.testing.assert_array_equal(table, dynamic_map(signed))
    # Signed: 2^i values per sign in decade 10^(i−6), i = 0…6 (127 each) + 0 + 1.
    positive = SIGNED_MAP[SIGNED_MAP > 0]
    assert positive.size == 128 and (SIGNED_MAP < 0).sum() == 127
    for i in range(7):
        in_decade = (positive > 10.0**(i - 7)) & (positive < 10.0**(i - 6))
        assert in_decade.sum() == 2**i
    assert SIGNED_MAP[0] == np.float32(-(0.9859375 + 1) / 2)     # no −1: −0.99296875
    # the midpoint of [0.1, 1] times 1e-6, in float32 as bitsandbytes computes it
    assert positive[0] == np.float32(1e-6) * ((np.float32(0.1) + np.float32(1)) / np.float32(2))
    # Unsigned: twice the values per decade, the smallest 1e-6·(0.1 + 0.55)/2.
    assert UNSIGNED_MAP[0] == 0 and UNSIGNED_MAP[1] == pytest.approx(3.25e-7, rel=1e-6)
    assert zero_code(SIGNED_MAP) == 127 and zero_code(UNSIGNED_MAP) == 0


def half_gaps(table, scaled):
    """Half the gap between the two map values around each scaled value (the
    farthest a nearest value can be), and beyond the map's ends the distance to
    the end value."""
    i = np.clip(np.searchsorted(table, scaled), 1, 255)
    low, high = table[i - 1].astype(float), table[i].astype(float)
    inside = (scaled >= table[0]) & (scaled <= table[-1])
    return np.where(inside, (high - low) / 2, np.abs(scaled - np.clip(scaled, table[0], 1)))


@pytest.mark.parametrize("table", [SIGNED_MAP, UNSIGNED_MAP], ids=["signed", "unsigned"])
def test_round_trip_error_per_block(table):
    rng = np.random.default_rng(0)
    block = 64
    # 10 blocks, each of its own scale, values spread over 8 decades, a short last block.
    scales = np.repeat(10.0 ** rng.uniform(-6, 6, 10), block)[:600]
    x = scales * np.exp(rng.uniform(-18, 0, 600)) * (rng.choice([-1, 1], 600)
                                                     if table[0] < 0 else 1)
    x[::37] = 0.0
    codes, absmax = quantize_blockwise(x, table, block)
    assert codes.dtype == np.uint8 and codes.shape == x.shape
    assert absmax.dtype == np.float32 and absmax.shape == (block_count(600, block),) == (10,)
    back = dequantize_blockwise(codes, absmax, table, block)
    assert back.dtype == np.float32 and back.shape == x.shape
    x32 = x.astype(np.float32).astype(float)
    per_entry = np.repeat(absmax.astype(float), block)[:600]
    bound = per_entry * half_gaps(table, x32 / per_entry) + 4 * np.spacing(np.float32(per_entry))
    assert np.all(np.abs(back - x32) <= bound)
    assert np.all(back[::37] == 0)                            # zeros are exact
    np.testing.assert_array_equal(absmax, [np.max(np.abs(x32[k:k + block]))
                                           for k in range(0, 600, block)])
    # A block's largest entry: exact if positive (1 is in the map), 0.993·absmax if negative.
    largest = np.argmax(np.abs(x32[:block]))  # not tuning: the block's largest entry
    expected = absmax[0] if x32[largest] > 0 else np.float32(SIGNED_MAP[0]) * absmax[0]
    assert back[largest] == expected


def test_codes_are_monotone_in_a_block_and_zero_blocks_stay_zero():
    rng = np.random.default_rng(1)
    x = np.sort(rng.standard_normal(2048) * 10.0 ** rng.uniform(-7, 0, 2048))
    codes, absmax = quantize_blockwise(x, SIGNED_MAP, 2048)
    assert absmax.size == 1 and np.all(np.diff(codes.astype(int)) >= 0)
    codes, absmax = quantize_blockwise(np.zeros((3, 5)), UNSIGNED_MAP, 4)
    assert np.all(absmax == 0) and np.all(codes == zero_code(UNSIGNED_MAP))
    np.testing.assert_array_equal(dequantize_blockwise(codes, absmax, UNSIGNED_MAP, 4),
                                  np.zeros((3, 5)))


def test_values_below_the_map_vanish_relative_to_their_block():
    # 1e-8 of the block's absmax is below the map's smallest value (5.5e-7): it becomes 0,
    # while in a block of its own it is kept.
    together = dequantize_blockwise(*quantize_blockwise(np.array([1.0, 1e-8]), SIGNED_MAP, 2),
                                    SIGNED_MAP, 2)
    apart = dequantize_blockwise(*quantize_blockwise(np.array([1.0, 1e-8]), SIGNED_MAP, 1),
                                 SIGNED_MAP, 1)
    assert together[1] == 0 and apart[1] == np.float32(1e-8)


def test_a_nan_spoils_only_its_block():
    x = np.array([1.0, np.nan, 2.0, 3.0])
    back = dequantize_blockwise(*quantize_blockwise(x, SIGNED_MAP, 2), SIGNED_MAP, 2)
    assert np.all(np.isnan(back[:2])) and np.all(np.isfinite(back[2:]))


@pytest.mark.parametrize("call, error, match", [
    (lambda: quantize_blockwise(np.array([-1.0]), UNSIGNED_MAP), ValueError,
     "negative values but code is an unsigned map"),
    (lambda: quantize_blockwise(np.array([1]), SIGNED_MAP), TypeError, "x must be a float array"),
    (lambda: quantize_blockwise(np.ones(3), SIGNED_MAP[::-1]), ValueError,
     "code must be 256 increasing float32 values"),
    (lambda: quantize_blockwise(np.ones(3), SIGNED_MAP, 0), ValueError,
     "block_size must be an integer >= 1, got 0"),
    (lambda: dequantize_blockwise(np.zeros(5, np.uint8), np.zeros(2, np.float32), SIGNED_MAP, 2),
     ValueError, r"absmax must be float32 of shape \(3,\) for 5 codes in blocks of 2"),
    (lambda: dequantize_blockwise(np.zeros(5), np.zeros(3, np.float32), SIGNED_MAP, 2),
     TypeError, "codes must be uint8"),
    (lambda: Adam8bit(lr=np.ones((2, 1))), TypeError, "lr must be a number for Adam8bit"),
    (lambda: Adam8bit(block_size=2.0), TypeError, "block_size must be an integer >= 1"),
])
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_one_step_is_adams_step_on_the_dequantized_state():
    rng = np.random.default_rng(2)
    theta = rng.standard_normal(300).astype(np.float32)
    opt = Adam8bit(lr=0.01, block_size=128)
    for _ in range(3):
        opt.step(theta, rng.standard_normal(300).astype(np.float32))
    m, v = opt.m, opt.v                                 # dequantized float32
    before, g = theta.copy(), rng.standard_normal(300).astype(np.float32)
    opt.step(theta, g)
    expected, m_new, v_new, _ = adam_variant_update(before, g, m, v, 4, lr=0.01)
    np.testing.assert_array_equal(theta, expected)
    for name, value, table in (("m", m_new, SIGNED_MAP), ("v", v_new, UNSIGNED_MAP)):
        codes, absmax = quantize_blockwise(value, table, 128)
        np.testing.assert_array_equal(opt.state[f"{name}_codes"], codes)
        np.testing.assert_array_equal(opt.state[f"{name}_absmax"], absmax)


def test_state_bytes_and_layout():
    params = {"w": np.zeros((64, 64), np.float32), "b": np.zeros(10, np.float32)}
    opt = Adam8bit(block_size=2048)
    opt.step(params, {"w": np.ones((64, 64), np.float32), "b": np.ones(10, np.float32)})
    state = opt.state
    assert state["m_codes"]["w"].shape == (64, 64) and state["m_codes"]["w"].dtype == np.uint8
    assert state["v_absmax"]["w"].shape == (2,) and state["v_absmax"]["b"].shape == (1,)
    nbytes = sum(a.nbytes for leaves in state.values() for a in leaves.values())
    assert nbytes == 2 * (4096 + 10) + 2 * 4 * (2 + 1)        # 2 + 8/2048 bytes per parameter
    assert params["w"].dtype == np.float32
    with pytest.raises(NotImplementedError, match="not kept"):
        opt.effective_step()


def test_state_dict_round_trip_and_loaded_kinds():
    rng = np.random.default_rng(3)
    theta = rng.standard_normal(50).astype(np.float32)
    opt = Adam8bit(lr=0.1, block_size=16)
    grads = rng.standard_normal((6, 50)).astype(np.float32)
    for g in grads[:3]:
        opt.step(theta, g)
    saved, copy = opt.state_dict(), theta.copy()
    resumed = Adam8bit(lr=0.1, block_size=16)
    resumed.load_state_dict(saved)
    for g in grads[3:]:
        opt.step(theta, g)
        resumed.step(copy, g)
    np.testing.assert_array_equal(theta, copy)
    bad = dict(saved, m_codes=saved["m_codes"].astype(np.float32))
    with pytest.raises(TypeError, match=r"state\['m_codes'\] must be a uint8 ndarray"):
        Adam8bit(lr=0.1, block_size=16).load_state_dict(bad)
    bad = dict(saved, v_absmax=-saved["v_absmax"] - 1)
    with pytest.raises(ValueError, match=r"state\['v_absmax'\] must be >= 0"):
        Adam8bit(lr=0.1, block_size=16).load_state_dict(bad)
    with pytest.raises(ValueError, match="block_size=16, this Adam8bit has block_size=8"):
        Adam8bit(lr=0.1, block_size=8).load_state_dict(saved)
    wrong = Adam8bit(lr=0.1, block_size=16)
    wrong.load_state_dict(saved)
    with pytest.raises(ValueError, match=r"state\['m_codes'\] has shape \(50,\) but its "
                                         r"parameter \(shape \(70,\)\) needs \(70,\)"):
        wrong.step(np.zeros(70, np.float32), np.zeros(70, np.float32))
    with pytest.raises(TypeError, match="Adam8bit updates float32 parameters"):
        Adam8bit().step(np.zeros(3), np.zeros(3))


def test_tracks_adam_on_a_smooth_problem():
    # All coordinates of one scale: 8-bit state follows fp32 Adam closely.
    rng = np.random.default_rng(4)
    target = rng.uniform(1, 2, 256).astype(np.float32)
    a, b = np.zeros(256, np.float32), np.zeros(256, np.float32)
    adam, adam8 = Adam(lr=0.05), Adam8bit(lr=0.05, block_size=64)
    for _ in range(200):
        adam.step(a, a - target)
        adam8.step(b, b - target)
    assert np.max(np.abs(a - target)) < 0.05 and np.max(np.abs(b - a)) < 0.02


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_finite_inputs_give_finite_outputs(data):
    """As ``test_properties.py`` for the other optimizers: magnitudes 1e-30 to
    1e30 with zeros, float32; a square that overflows float32 is refused."""
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=5))

    def magnitudes():
        exponent = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-30, 30)))
        sign = data.draw(hnp.arrays(np.int8, shape, elements=st.sampled_from([-1, 0, 1])))
        return np.asarray(sign * 10.0**exponent, dtype=np.float32)

    theta, grads = magnitudes(), [magnitudes() for _ in range(data.draw(st.integers(1, 6)))]
    opt = Adam8bit(lr=1e-2, block_size=data.draw(st.sampled_from([1, 4, 2048])))
    try:
        for g in grads:
            opt.step(theta, g)
    except FloatingPointError:
        assert max(np.abs(g).max() for g in grads) > 1e18
        return
    assert np.isfinite(theta).all() and np.isfinite(opt.m).all() and np.isfinite(opt.v).all()
