"""The low-precision chapter: ``adamref.lab.low_precision`` and
``adamref.plots.low_precision`` (and its 7B arithmetic in
``adamref.lab.memory_and_compute``)."""

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab.low_precision import (BOWL_CURVATURES, BOWL_GRIDS, DIGITS_GRIDS, ELEMENTWISE,
                                       MAP_DECADES, OPTIONS, STEP_SCALES, PerLeaf, Problem,
                                       adam_step_in, bowl_problem, compare_memory_options,
                                       decimal_grid, digits_problem, ema_stall, final_losses,
                                       final_runs, first_layer_pixels, first_positive,
                                       format_thresholds, largest_steps, loss_scaling_as_eps,
                                       make_option, moments_after, noisy_moments,
                                       pixel_activity, second_moment_spread,
                                       significant_bits, stall_interval,
                                       state_bytes_per_parameter, step_runs, step_sizes,
                                       steps_by_precision, training_memory_rows,
                                       zeroed_v_step_ratio)
from adamref.lab.memory_and_compute import (LOW_MEMORY_OPTIONS, bytes_per_parameter,
                                            training_gigabytes)
from adamref.optim import Adafactor, Adam, Adam8bit, Optimizer
from adamref.optim.precision import adam_update_in, positive_values, round_to_bfloat16, to_precision
from adamref.plots.low_precision import (draw_memory_comparison, draw_steps_by_precision,
                                         plot_good_learning_rates,
                                         plot_loss_against_state_bytes,
                                         plot_steps_by_precision)
from adamref.problems.digits import synthetic_digits
from adamref.problems.mlp import MLP


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


def test_adam_step_in_is_t_calls_of_adam_update_in():
    scales = np.array([1e-7, 1e-3, 0.5, 300.0])
    for precision in ("fp32", "bf16", "fp16"):
        zero = to_precision(np.zeros(scales.size), precision)
        grad = scales.astype(np.float32)
        m = v = zero
        with np.errstate(all="ignore"):
            for step in range(1, 8):
                theta, m, v = adam_update_in(precision, zero, grad, m, v, step, lr=1.0,
                                             beta2=0.99, eps=1e-6)
        expected = np.abs(theta.astype(np.float64))
        np.testing.assert_array_equal(adam_step_in(precision, scales, 7, beta2=0.99, eps=1e-6),
                                      expected)
        np.testing.assert_array_equal(adam_step_in(precision, scales, 7, beta2=0.99, eps=1e-6),
                                      expected)                       # from the cache: the same
    assert moments_after("bf16", 1.0, 1000) == (0.984375, 0.25)      # the stalls of ema_stall


def test_stall_intervals_and_noisy_moments():
    assert [significant_bits(p) for p in ("fp32", "bf16", "fp16")] == [24, 8, 11]
    for precision in ("fp32", "bf16", "fp16"):
        low, high = stall_interval(precision, 0.001)
        assert low <= ema_stall(precision, 0.001)[0] <= high       # v: inside the heuristic
        low, high = stall_interval(precision, 0.1)
        value = ema_stall(precision, 0.1)[0]                       # m: up to one spacing above
        assert low <= value <= high + 2.0 ** (1 - significant_bits(precision))
    quiet = noisy_moments(0.0, steps=300, streams=3)
    for precision, (m, v) in quiet.items():                        # no noise: the constant run
        assert (m, v) == moments_after(precision, 1.0, 300)
    noisy = noisy_moments(0.3, steps=300, streams=50, seed=1)
    assert noisy["fp32"][1] == pytest.approx((1 - 0.999**300) * 1.09, rel=0.05)
    assert quiet["bf16"][1] / quiet["fp32"][1] < noisy["bf16"][1] / noisy["fp32"][1] < 1


# -- memory against quality --------------------------------------------------------------------
@pytest.fixture(scope="module")
def bowl():
    return bowl_problem(steps=500)


@pytest.fixture(scope="module")
def tiny_digits():
    return digits_problem(steps=12, hidden=6, batch_size=8,
                          data=synthetic_digits(n_train=64, n_val=16, n_test=16))


def test_decimal_grids_are_rounded_decades():
    np.testing.assert_array_equal(decimal_grid(-3, 0, 2), [1e-3, 3.16e-3, 1e-2, 3.16e-2, 0.1,
                                                           0.316, 1.0])
    assert STEP_SCALES[0] == 1e-9 and STEP_SCALES[-1] == 1e3 and STEP_SCALES.size == 97
    assert BOWL_CURVATURES == (1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0)
    assert set(BOWL_GRIDS) == set(DIGITS_GRIDS) == set(OPTIONS)
    with pytest.raises(ValueError, match="must hold at least 3 values"):
        decimal_grid(0, 0.5, 2)


def test_state_bytes_per_parameter(bowl, tiny_digits):
    assert bowl.shapes == ((7,),) and tiny_digits.shapes == ((64, 6), (6,), (6, 10), (10,))
    size = 64 * 6 + 6 + 6 * 10 + 10
    expected = {"Adam (fp32 state)": (8, 8), "Adam (bf16 state)": (4, 4),
                "Adam (8-bit state)": ((14 + 8) / 7, 2 + 4 * 8 / size),
                "Adafactor": (4, 4 * ((64 + 6) + 6 + (6 + 10) + 10) / size),
                "SGD + momentum": (4, 4)}
    for name, (on_bowl, on_network) in expected.items():
        optimizer = make_option(name, 0.1)
        assert state_bytes_per_parameter(optimizer, bowl.shapes) == on_bowl
        assert state_bytes_per_parameter(optimizer, tiny_digits.shapes) == pytest.approx(on_network)
        if isinstance(optimizer, Optimizer):        # the layout is what a step allocates
            theta = tiny_digits.theta0.copy()
            PerLeaf(optimizer, tiny_digits.leaves).step(theta, np.ones_like(theta))
            held = sum(b.nbytes for leaves in optimizer.state.values() for b in leaves)
            assert held == pytest.approx(on_network * size)


def test_per_leaf_steps_the_layers_in_place(tiny_digits):
    theta = tiny_digits.theta0.copy()
    grad = tiny_digits.gradient_factory()(theta)
    factored = Adafactor(lr=0.1)
    PerLeaf(factored, tiny_digits.leaves).step(theta, grad)
    assert [v.shape for v in factored.row_var] == [(64, 1), (0,), (6, 1), (0,)]
    assert not np.array_equal(theta, tiny_digits.theta0)        # the views wrote into θ
    alone = [leaf.copy() for leaf in tiny_digits.leaves(tiny_digits.theta0.copy())]
    Adafactor(lr=0.1).step(alone, [g.copy() for g in tiny_digits.leaves(grad)])
    for mine, theirs in zip(tiny_digits.leaves(theta), alone):
        np.testing.assert_array_equal(mine, theirs)


def test_a_sweep_runs_each_learning_rate_as_alone(bowl, tiny_digits):
    for problem in (bowl, tiny_digits):
        for name in ELEMENTWISE:
            lrs = problem.grids[name][2:5]
            swept, thetas = final_runs(name, lrs, problem)
            assert thetas.shape == (3, problem.theta0.shape[-1])
            alone = [final_losses(name, [lr, 2 * lr, 3 * lr], problem)[0] for lr in lrs]
            np.testing.assert_array_equal(swept, alone)
    assert final_losses("SGD + momentum", [0.1], bowl)[0] == np.inf      # 0.1·1e3 ≫ 2(1 + μ)
    losses = final_losses("Adam (8-bit state)", [1e-3, 1e-2], tiny_digits)
    assert losses.shape == (2,) and np.all(np.isfinite(losses))


def test_compare_memory_options_tunes_each_option(bowl):
    results = compare_memory_options(bowl, names=["Adam (fp32 state)", "Adam (8-bit state)"])
    adam, adam8 = results["Adam (fp32 state)"], results["Adam (8-bit state)"]
    assert adam.state_bytes == 8 and adam8.state_bytes == 22 / 7
    np.testing.assert_array_equal(adam.tuned.values, BOWL_GRIDS["Adam (fp32 state)"])
    assert adam.tuned.bracketed and adam.tuned.best_score <= bowl.solved == 1e-8 * 555.5555
    assert adam.theta.shape == (7,) and float(bowl.loss(adam.theta)[0]) == adam.tuned.best_score
    assert adam8.tuned.best_score > bowl.solved                   # 3 of 7 v entries stored as 0
    with pytest.raises(ValueError, match="names must be among"):
        compare_memory_options(bowl, names=["Lion"])


def test_second_moment_spread_explains_the_8_bit_failures(bowl, tiny_digits):
    spread = second_moment_spread(bowl, 0.01, 50)["θ"]
    assert spread["decades"] == pytest.approx(12, abs=1e-4)       # curvatures 1e-3 … 1e3, squared
    assert MAP_DECADES == pytest.approx(6.488, abs=1e-3)
    assert spread["zeroed"] == 3 / 7 and spread["entries"] == spread["nonzero"] == 7
    assert second_moment_spread(bowl, 0.01, 50, block_size=1)["θ"]["zeroed"] == 0
    narrow = bowl_problem(decimal_grid(-1.5, 1.5, 2))            # v spans 6 decades: kept
    assert second_moment_spread(narrow, 0.01, 50)["θ"]["zeroed"] == 0
    layers = second_moment_spread(tiny_digits, 0.01, 12)
    assert set(layers) == {"W1", "b1", "W2", "b2", "v"}
    assert layers["W1"]["entries"] == 384 and layers["v"]["W1"].shape == (64, 6)


def test_a_zeroed_v_lengthens_the_steps(bowl):
    early = zeroed_v_step_ratio(bowl, 1e-3, 10)
    np.testing.assert_allclose(early["predicted"], np.sqrt((1 - 0.999 ** early["t"]) / 1e-3))
    assert np.all(early["ratio"][0] == 1)                         # the first step is sign(g)
    at_10 = early["ratio"][-1]
    assert np.all(at_10[:3] > 1.5) and np.all(at_10[:3] < early["predicted"][-1])
    np.testing.assert_allclose(at_10[3:], 1, atol=0.1)


def test_a_zeroed_v_under_a_zero_gradient_steps_m_over_eps():
    # the mechanism behind largest_steps: v stored as 0, m kept, then g = 0
    grads = [np.array([1.0, 1e-4], np.float32), np.array([1.0, 0.0], np.float32)]
    steps = {}
    for optimizer in (Adam(lr=1e-3), Adam8bit(lr=1e-3)):
        theta = np.zeros(2, np.float32)
        for g in grads:
            before = theta.copy()
            optimizer.step(theta, g)
        steps[type(optimizer).__name__] = abs(float(theta[1] - before[1])) / 1e-3
    assert steps["Adam"] < 1 and steps["Adam8bit"] > 1000


def test_step_sizes_and_pixels(bowl, tiny_digits):
    sizes = step_sizes(bowl, "Adam (fp32 state)", 0.01, 5)
    assert sizes.shape == (5, 7)
    np.testing.assert_allclose(sizes[0], 1, rtol=1e-4)     # Adam's first step: α·g/(|g| + ε)
    np.testing.assert_array_equal(largest_steps(bowl, "Adam (fp32 state)", 0.01, 5),
                                  sizes.max(axis=1))
    assert step_sizes(tiny_digits, "Adafactor", 0.01, 3).shape == (3, tiny_digits.theta0.size)
    w1 = MLP(6).layers(np.arange(MLP(6).size, dtype=float)[None])["W1"][0]
    np.testing.assert_array_equal(first_layer_pixels([w1[5, 2], w1[63, 0], 400], hidden=6),
                                  [5, 63])                          # 400 is a b1/W2 entry
    data = synthetic_digits(n_train=64)
    activity = pixel_activity(data)
    assert activity.shape == (64,) and np.all((0 <= activity) & (activity <= 1))


def test_the_digits_problem(tiny_digits):
    assert tiny_digits.theta0.dtype == np.float32 and tiny_digits.theta0.shape == (1, 460)
    gradient = tiny_digits.gradient_factory()
    g = gradient(tiny_digits.theta0)
    assert g.dtype == np.float32 and g.shape == (1, 460)
    again = tiny_digits.gradient_factory()(tiny_digits.theta0)      # a new run starts afresh
    np.testing.assert_array_equal(g, again)
    assert tiny_digits.leaf_names == ("W1", "b1", "W2", "b2") and tiny_digits.solved == 0
    assert tiny_digits.loss(np.repeat(tiny_digits.theta0, 2, axis=0)).shape == (2,)


@pytest.mark.parametrize("call, error, match", [
    (lambda: make_option("Lion", 0.1), ValueError, r"name must be one of \['Adam \(fp32 state\)'"),
    (lambda: make_option("Adafactor", np.ones((2, 1))), TypeError, "lr must be a real number"),
    (lambda: ema_stall("fp8", 0.1), ValueError, "precision must be one of"),
    (lambda: adam_step_in("fp16", [0.0], 3), ValueError, "scales must be positive and finite"),
    (lambda: step_runs(0), ValueError, "loss_scale must be a finite number > 0, got 0"),
    (lambda: format_thresholds(beta2=1.0), ValueError, r"beta2 must be in \[0.0, 1.0\), got 1.0"),
    (lambda: moments_after("bf16", -1.0, 3), ValueError, "gradient must be a finite number > 0"),
    (lambda: noisy_moments(-0.1), ValueError, "noise must be >= 0.0"),
    (lambda: digits_problem(hidden=0), ValueError, "hidden must be"),
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
    rows = training_memory_rows(7e9)
    assert [(r["option"], r["precision"], r["total"]) for r in rows[:2]] == [
        ("Adam (fp32 state)", "fp32", 16), ("Adam (bf16 state)", "fp32", 12)]
    assert [r["gigabytes"] for r in rows[4:]] == pytest.approx([112, 84, 70.03, 56.01], abs=0.01)
    assert rows[3]["state"] == 4 * 8192 / 4096**2


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
def test_plots_draw_what_the_lab_computed(labelled, bowl):
    steps = steps_by_precision(SCALES, 5)
    ax = plot_steps_by_precision(SCALES, steps, thresholds={"fp16: g² = 0": 1.7e-4})
    assert labelled(ax) and len(ax.get_legend().get_texts()) == 4
    markers = [line for line in ax.lines if line.get_marker() in ("x", "o")]
    assert {line.get_marker() for line in markers} == {"x", "o"}     # fp16's inf and NaN
    assert len({line.get_ydata()[0] for line in markers}) == 2       # one row per run
    short = dataclasses.replace(bowl, steps=20)
    results = compare_memory_options(short, names=["Adam (fp32 state)", "SGD + momentum"])
    ax = plot_loss_against_state_bytes(results, floor=1e-6)
    assert labelled(ax) and [round(line.get_xdata()[0]) for line in ax.lines[:2]] == [8, 4]
    ax = plot_good_learning_rates(results)
    assert ax.get_title() and ax.get_xlabel() and len(ax.get_yticks()) == 2
    fig = plt.figure()
    axes = draw_memory_comparison(fig, {"a": results, "b": results}, floors={"a": 1e-6})
    assert axes.shape == (2, 2) and all(labelled(a) for a in axes[0])
    fig = plt.figure()
    ax = draw_steps_by_precision(fig, eps=1e-4, loss_scale=16.0, t=3, beta2=0.99)
    assert "t$ = 3" in ax.get_title() and len(ax.get_legend().get_texts()) == 4
    with pytest.raises(ValueError, match="must have a last axis of length 3"):
        plot_steps_by_precision(SCALES, {"fp32": [1.0, 2.0]})
    with pytest.raises(TypeError, match="results must be a non-empty dict"):
        plot_loss_against_state_bytes([1])
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        draw_steps_by_precision(None)
    plt.close("all")
