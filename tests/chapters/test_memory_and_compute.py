"""The memory-and-compute chapter: ``adamref.lab.memory_and_compute`` and
``adamref.plots.memory_and_compute``."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab.memory_and_compute import (OPTIMIZERS, best_time, bytes_per_parameter,
                                            chunk_bytes, copy_bandwidth, count_step_operations,
                                            formula_state_bytes, least_squares_gradient_time,
                                            measure_state_memory, min_bytes_moved,
                                            state_buffers, step_threads, step_time,
                                            training_gigabytes)
from adamref.optim.engine import CHUNK
from adamref.plots.explorers import explore
from adamref.plots.memory_and_compute import plot_training_memory


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_measured_state_matches_the_formula(name, dtype):
    n = 5000
    m = measure_state_memory(name, n, dtype)
    itemsize = np.dtype(dtype).itemsize
    assert m["state"] == formula_state_bytes(name, n, itemsize) == state_buffers(name) * n * itemsize
    # two parameter-sized scratch buffers (n < CHUNK), nothing else array-sized
    assert m["scratch"] == 2 * chunk_bytes(n, dtype) == 2 * n * itemsize
    assert m["arrays"] == m["state"] + m["scratch"]
    assert m["peak"] >= m["arrays"]


def test_scratch_stops_growing_at_the_chunk_size():
    m = measure_state_memory("Adam", 2 * CHUNK)
    assert m["state"] == 2 * 2 * CHUNK * 8
    assert m["scratch"] == 2 * chunk_bytes(2 * CHUNK) == 2 * CHUNK * 8


def test_state_buffer_counts():
    assert [state_buffers(n) for n in OPTIMIZERS] == [0, 1, 1, 1, 2, 3]


def test_formulas_for_second_order_methods():
    assert formula_state_bytes("full-matrix AdaGrad", 1000, 4) == 4_000_000
    assert formula_state_bytes("L-BFGS", 1000, 4, history=10) == 80_000


def test_bytes_per_parameter_match_zero_16_bytes():
    assert sum(bytes_per_parameter("Adam", "mixed").values()) == 16     # ZeRO's 2 + 2 + 12
    assert sum(bytes_per_parameter("Adam", "fp32").values()) == 16
    assert sum(bytes_per_parameter("SGD", "fp32").values()) == 8
    assert sum(bytes_per_parameter("AMSGrad", "mixed").values()) == 20
    assert training_gigabytes("Adam", 7e9) == pytest.approx(112.0)


def test_operation_counts_follow_the_code():
    adam = count_step_operations("Adam")
    assert adam["ops_per_param"] == 13 and adam["ufuncs"].count("sqrt") == 1
    assert count_step_operations("SGD")["ufuncs"] == ["multiply", "subtract"]
    assert count_step_operations("AMSGrad")["ops_per_param"] == 14
    assert min_bytes_moved("Adam") == 56 and min_bytes_moved("SGD", itemsize=4) == 12


def test_timings_are_positive():
    assert best_time(lambda: None, 2) > 0
    assert copy_bandwidth(1 << 12, 2) > 0
    assert copy_bandwidth(1 << 12, 2, threads=2) > 0
    with pytest.raises(ValueError, match="threads"):
        copy_bandwidth(4, 2, threads=5)
    with pytest.raises(ValueError, match="threads"):
        copy_bandwidth(4, 2, threads=0)


def test_step_threads_follows_the_engine():
    from adamref.optim.engine import CHUNK, THREADS
    assert step_threads(CHUNK) == 1
    assert step_threads(2 * THREADS * CHUNK) == THREADS
    if THREADS > 1:
        assert step_threads(2 * THREADS * CHUNK - CHUNK) == 1
    assert step_time("Adam", 1000, 2) > 0
    assert least_squares_gradient_time(100, 4, 2) > 0


@pytest.mark.parametrize("call, error, match", [
    (lambda: measure_state_memory("Adamax", 10), ValueError, r"name must be one of \['SGD'"),
    (lambda: measure_state_memory("Adam", 0), ValueError, r"n must be an integer >= 1, got 0"),
    (lambda: measure_state_memory("Adam", 10, np.int32), ValueError, "dtype must be a floating dtype, got int32"),
    (lambda: chunk_bytes(2.5), TypeError, r"n must be an integer >= 1, got 2.5"),
    (lambda: formula_state_bytes("Adam", 10, itemsize=0), ValueError, "itemsize must be an integer >= 1, got 0"),
    (lambda: bytes_per_parameter("Adam", "bf16"), ValueError, r"precision must be 'fp32' or 'mixed', got 'bf16'"),
    (lambda: training_gigabytes("Adam", -1), ValueError, r"n_params must be a finite number > 0, got -1"),
    (lambda: best_time(3), TypeError, "fn must be callable, got 3"),
    (lambda: formula_state_bytes("Newton", 10), ValueError, r"method must be one of \['SGD'.*got 'Newton'"),
    (lambda: least_squares_gradient_time(10, 2, seed="a"), TypeError, "seed must be an integer >= 0, got 'a'"),
    (lambda: least_squares_gradient_time(10, 0), ValueError, "batch must be an integer >= 1, got 0"),
    (lambda: plot_training_memory(0), ValueError, "billions must be a finite number > 0, got 0"),
    (lambda: plot_training_memory(1.0, device_gb=-5), ValueError, "device_gb must be a finite number > 0, got -5"),
])
def test_cost_functions_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
    plt.close("all")


def test_training_memory_bars_add_up():
    ax = plot_training_memory(7.0, "mixed", names=["SGD", "Adam"])
    widths = [p.get_width() for p in ax.patches]
    assert sum(widths) == pytest.approx(7.0 * (8 + 16))
    assert ax.get_title() and ax.get_xlabel()
    plt.close("all")


def test_memory_explorer_redraws_with_the_controls():
    ex = explore("memory_and_compute")
    right = ex.figure.axes[1]
    total = sum(p.get_width() for p in right.patches)
    assert "mixed" in right.get_title() and ex.redraws == 1
    assert total == pytest.approx(7.0 * sum(sum(bytes_per_parameter(name, "mixed").values())
                                            for name in OPTIMIZERS))
    ex.controls["billions"].value = 70.0
    right = ex.figure.axes[1]
    assert ex.redraws == 2 and sum(p.get_width() for p in right.patches) == pytest.approx(10 * total)
    ex.controls["precision"].value = "fp32"
    assert ex.redraws == 3 and "fp32" in ex.figure.axes[1].get_title()
    ex.controls["device_gb"].value = 24.0
    assert ex.figure.axes[0].lines[0].get_xdata()[0] == 24.0      # the device's dashed line
    plt.close("all")


def test_training_memory_draws_one_bar_artist_per_component():
    ax = plot_training_memory(7.0, "fp32")
    containers = {c.get_label(): c for c in ax.containers}
    assert set(containers) == {c for name in OPTIMIZERS for c in bytes_per_parameter(name)}
    m = containers["m (fp32)"]
    assert len(m.patches) == 2                                  # Adam and AMSGrad
    assert [p.get_width() for p in m.patches] == pytest.approx([28.0, 28.0])
    plt.close("all")
