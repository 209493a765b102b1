"""The low-precision chapter: ``adamref.lab.low_precision`` and
``adamref.plots.low_precision`` (and its 7B arithmetic in
``adamref.lab.memory_and_compute``)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab.low_precision import (ELEMENTWISE, LR_GRIDS, OPTIONS, Problem, adam_step_in,
                                       comparison_problems, compare_memory_options,
                                       ema_stall, final_losses, first_positive,
                                       format_thresholds, loss_scaling_as_eps, lr_grid,
                                       make_option, multi_output_least_squares,
                                       second_moment_spread, state_bytes_per_parameter,
                                       step_runs, steps_by_precision)
from adamref.lab.memory_and_compute import (LOW_MEMORY_OPTIONS, bytes_per_parameter,
                                            training_gigabytes)
from adamref.optim import Adafactor, Adam, Adam8bit, Optimizer
from adamref.optim.precision import positive_values, round_to_bfloat16
from adamref.plots.low_precision import (plot_good_learning_rates,
                                         plot_loss_against_state_bytes,
                                         plot_steps_by_precision)


# -- the formats' thresholds -----------------------------------------------------------------
@pytest.fixture(scope="module")
def thresholds():
    return format_thresholds()


def test_fp16_thresholds(thresholds):
    fp16 = thresholds["fp16"]
    assert fp16["eps"] == 0.0                                   # ε = 1e-8 is 0 in fp16
    assert fp16["smallest_subnormal"] == 2.0**-24
    # g² ≠ 0 needs g² above half the smallest subnormal, 2^-25: g > 2^-12.5 = 1.7263e-4;
    # the first fp16 number above it is 1.7273e-4 (its neighbour below squares to 0).
    assert fp16["square_underflow"] == 0.00017273426055908203
    assert fp16["square_underflow"] > 2**-12.5 > float(np.nextafter(np.float16(
        fp16["square_underflow"]), np.float16(0)))
    assert fp16["first_v_underflow"] == 0.005458831787109375    # (1 − β2)·g² ≥ 2^-25
    assert fp16["square_overflow"] == 256.0                      # 256² > 65504


def test_bisection_agrees_with_every_16_bit_number(thresholds):
    for p in ("fp16", "bf16"):
        values = positive_values(p)
        with np.errstate(over="ignore"):
            squares = values * values if p == "fp16" else round_to_bfloat16(values * values)
        assert thresholds[p]["square_underflow"] == float(values[np.argmax(squares > 0)])  # not tuning: first nonzero
    assert thresholds["bf16"]["square_overflow"] == thresholds["fp32"]["square_overflow"] == 2.0**64
    assert thresholds["bf16"]["eps"] == float(round_to_bfloat16(np.float32(1e-8)))
    assert thresholds["fp32"]["eps"] == float(np.float32(1e-8))
    assert np.isnan(first_positive("fp16", lambda g: False))
    assert first_positive("fp16", lambda g: True) == 2.0**-24


# -- steps in each precision -----------------------------------------------------------------
SCALES = np.array([1e-8, 1e-3, 0.1])


def test_steps_by_precision_at_three_scales():
    steps = steps_by_precision(SCALES, 10, loss_scale=2.0**12)
    assert list(steps) == list(step_runs(2.0**12)) == ["fp32", "bf16", "fp16",
                                                        "fp16, loss × 4096"]
    np.testing.assert_allclose(steps["fp32"], SCALES / (SCALES + 1e-8), rtol=1e-5)  # s/(s + ε)
    fp16 = steps["fp16"]
    assert np.isnan(fp16[0])              # m and v underflow: 0/0
    assert fp16[1] == np.inf              # v underflows, m does not, ε = 0: m/0
    assert fp16[2] == pytest.approx(1, abs=0.01)
    scaled = steps["fp16, loss × 4096"]   # the window slides down by 4096
    assert np.isinf(scaled[0]) and scaled[1] == pytest.approx(1, abs=0.01)
    assert np.isnan(scaled[2])            # 409.6² overflows fp16


def test_bf16_steps_grow_where_its_moving_averages_stall():
    # v += 0.001·(g² − v) stops at g²/4 in bf16 (the increment is below half an ulp),
    # m += 0.1·(g − m) at 0.984·g: the step tends to 0.984/√(1/4) ≈ 2α.
    assert ema_stall("bf16", 0.001) == (0.25, 256)
    assert ema_stall("bf16", 0.1) == (0.984375, 37)
    assert ema_stall("fp16", 0.001) == (0.755859375, 1228)
    assert 0.9999 < ema_stall("fp32", 0.001)[0] < 1
    # At t = 1000 both have stalled: the step is m·√(1 − β2^t)/√v, not m̂/√v̂ ≈ 1.
    t = 1000
    predicted = 0.984375 * np.sqrt(1 - 0.999**t) / np.sqrt(0.25)
    assert adam_step_in("bf16", [1.0], t)[0] == pytest.approx(predicted, rel=0.01)
    assert predicted > 1.5


def test_loss_scaling_is_eps_divided_by_the_scale():
    scales = np.geomspace(1e-12, 1, 25)
    scaled, divided = loss_scaling_as_eps(scales, 2.0**16)
    np.testing.assert_array_equal(scaled, divided)             # bit for bit: a power of two
    scaled, divided = loss_scaling_as_eps(scales, 1000.0)
    np.testing.assert_allclose(scaled, divided, rtol=1e-13)
    np.testing.assert_allclose(scaled, scales / (scales + 1e-8 / 1000), rtol=1e-12)


# -- memory against quality --------------------------------------------------------------------
@pytest.fixture(scope="module")
def problems():
    return comparison_problems(steps_bowl=150, steps_least_squares=100)


def test_state_bytes_per_parameter(problems):
    bowl, least_squares = problems["bowl"].theta0.shape, problems["least squares"].theta0.shape
    assert least_squares == (8, 32)
    expected = {"Adam (fp32 state)": (8, 8), "Adam (bf16 state)": (4, 4),
                "Adam (8-bit state)": ((14 + 8) / 7, 2 + 8 / 256), "Adafactor": (4, 40 * 4 / 256),
                "SGD + momentum": (4, 4)}
    for name, (on_bowl, on_matrix) in expected.items():
        optimizer = make_option(name, 0.1)
        assert state_bytes_per_parameter(optimizer, bowl) == on_bowl
        assert state_bytes_per_parameter(optimizer, least_squares) == on_matrix
        if isinstance(optimizer, Optimizer):        # the layout is what a step allocates
            theta = np.ones(least_squares, np.float32)
            optimizer.step(theta, np.ones_like(theta))
            held = sum(b.nbytes for b in optimizer.state.values())
            assert held == on_matrix * theta.size


def test_a_sweep_runs_each_learning_rate_as_alone(problems):
    bowl = problems["bowl"]
    for name in ELEMENTWISE:
        lrs = lr_grid(name)[4:7]
        swept = final_losses(name, lrs, bowl)
        alone = [final_losses(name, [lr, 2 * lr, 3 * lr], bowl)[0] for lr in lrs]
        np.testing.assert_array_equal(swept, alone)
    assert final_losses("SGD + momentum", [0.1], bowl)[0] == np.inf      # 0.1·1e3 ≫ 2(1 + μ)


def test_compare_memory_options_tunes_each_option(problems):
    results = compare_memory_options(problems["bowl"], names=["Adam (fp32 state)",
                                                              "Adam (8-bit state)"])
    adam, adam8 = results["Adam (fp32 state)"], results["Adam (8-bit state)"]
    assert adam.state_bytes == 8 and adam8.state_bytes == 22 / 7
    np.testing.assert_array_equal(adam.tuned.values, lr_grid("Adam (fp32 state)"))
    assert adam.tuned.bracketed and adam.tuned.best_score <= 1e-8 * 555.6   # solved
    # 8-bit state: 3 of the bowl's 7 v entries are stored as 0 (12 decades in one block)
    assert adam8.tuned.count < adam.tuned.count


def test_second_moment_spread_explains_the_8_bit_failures(problems):
    spread = second_moment_spread(problems["bowl"], 0.01, 50)
    assert spread["decades"] == pytest.approx(12, abs=1e-4)       # curvatures 1e-3 … 1e3, squared
    assert spread["map_decades"] == pytest.approx(6.488, abs=1e-3)
    assert spread["zero_fraction"] == 3 / 7
    alone = second_moment_spread(problems["bowl"], 0.01, 50, block_size=1)
    assert alone["zero_fraction"] == 0                              # a scale per entry


def test_learning_rate_grids_and_problems():
    grid = lr_grid("Adafactor")
    assert grid[0] == 1e-3 and grid[-1] == 3.16 and grid.size == 15
    assert set(LR_GRIDS) == set(OPTIONS)
    ls = multi_output_least_squares()
    assert ls.X.shape == (8, 256, 32) and ls.y.shape == (8, 256)
    assert float(np.max(ls.excess_loss(ls.optimum))) < 1e-20


@pytest.mark.parametrize("call, error, match", [
    (lambda: make_option("Lion", 0.1), ValueError, r"name must be one of \['Adam \(fp32 state\)'"),
    (lambda: make_option("Adafactor", np.ones((2, 1))), TypeError, "lr must be a real number"),
    (lambda: lr_grid("Lion"), ValueError, "name must be one of"),
    (lambda: ema_stall("fp8", 0.1), ValueError, "precision must be one of"),
    (lambda: adam_step_in("fp16", [0.0], 3), ValueError, "scales must be positive and finite"),
    (lambda: step_runs(0), ValueError, "loss_scale must be a finite number > 0, got 0"),
    (lambda: format_thresholds(beta2=1.0), ValueError, r"beta2 must be in \[0.0, 1.0\), got 1.0"),
])
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- the 7B arithmetic (adamref.lab.memory_and_compute) -----------------------------------------
def test_bytes_per_parameter_of_the_memory_saving_options():
    assert LOW_MEMORY_OPTIONS == ("Adam (bf16 state)", "Adam (8-bit state)", "Adafactor")
    state = {name: sum(bytes_per_parameter(name).values()) - 8 for name in LOW_MEMORY_OPTIONS}
    assert state == {"Adam (bf16 state)": 4, "Adam (8-bit state)": 2 + 8 / 2048,
                     "Adafactor": 4 * (4096 + 4096) / 4096**2}
    assert sum(bytes_per_parameter("Adam (8-bit state)", block_size=256).values()) == 8 + 2 + 8 / 256
    assert sum(bytes_per_parameter("Adafactor", shape=(10,)).values()) == 8 + 4   # a vector
    assert training_gigabytes("Adam (8-bit state)", 7e9) == pytest.approx(70.03, abs=0.01)
    assert training_gigabytes("Adafactor", 7e9, "mixed") == pytest.approx(56.01, abs=0.01)
    with pytest.raises(ValueError, match="shape must be a non-empty tuple of integers >= 1"):
        bytes_per_parameter("Adafactor", shape=(0, 3))
    with pytest.raises(ValueError, match=r"name must be one of \['SGD'.*'Adafactor'\], got 'Lion'"):
        bytes_per_parameter("Lion")


def test_optimizer_state_bytes_is_the_allocated_state():
    for opt, shape, dtype in ((Adam(amsgrad=True), (3, 5), np.float64),
                              (Adafactor(), (3, 5), np.float64), (Adafactor(), (4,), np.float32),
                              (Adam8bit(block_size=4), (3, 5), np.float32)):
        theta = np.ones(shape, dtype)
        opt.step(theta, np.ones(shape, dtype))
        held = sum(b.nbytes for b in opt.state.values())
        assert opt.state_bytes(shape, dtype) == held
    with pytest.raises(TypeError, match="shape must be a tuple of integers >= 0"):
        Adam().state_bytes([3])
    with pytest.raises(TypeError, match="dtype must have a floating dtype"):
        Adam().state_bytes((3,), np.int64)


# -- plots -------------------------------------------------------------------------------------------
def test_plots_draw_what_the_lab_computed(labelled, problems):
    steps = steps_by_precision(SCALES, 5)
    ax = plot_steps_by_precision(SCALES, steps, thresholds={"fp16: g² = 0": 1.7e-4})
    assert labelled(ax) and len(ax.get_legend().get_texts()) == 4
    markers = [line for line in ax.lines if line.get_marker() in ("x", "o")]
    assert markers                                    # fp16's inf and NaN are shown
    results = compare_memory_options(Problem("tiny bowl", problems["bowl"].gradient,
                                             problems["bowl"].loss, problems["bowl"].theta0, 20),
                                     names=["Adam (fp32 state)", "SGD + momentum"])
    ax = plot_loss_against_state_bytes(results, floor=1e-6)
    assert labelled(ax) and [round(p[0]) for p in (line.get_xdata() for line in ax.lines[:2])] \
        == [8, 4]
    ax = plot_good_learning_rates(results)
    assert ax.get_title() and ax.get_xlabel() and len(ax.get_yticks()) == 2
    with pytest.raises(ValueError, match="must have a last axis of length 3"):
        plot_steps_by_precision(SCALES, {"fp32": [1.0, 2.0]})
    with pytest.raises(TypeError, match="results must be a non-empty dict"):
        plot_loss_against_state_bytes([1])
    plt.close("all")
