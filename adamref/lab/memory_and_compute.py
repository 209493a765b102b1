"""What an optimizer costs: state memory (measured with ``tracemalloc`` and by
formula), the arithmetic at scale, operations and bytes per parameter of a
step, and timings (a step against the gradient it follows, and against the
machine's copy bandwidth).  NumPy and the standard library only."""

from __future__ import annotations

import math
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adafactor import Adafactor
from adamref.optim.quantized import Adam8bit
from adamref.optim.engine import CHUNK, threads_for
from adamref.problems.registry import make_optimizer


def _positive_int(name, value):
    return check.integer(name, value, low=1)


def _float_dtype(dtype):
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy dtype, got {dtype!r}") from None
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    return dtype


#: The optimizers compared (built by ``problems.registry.make_optimizer`` with
#: their PyTorch defaults), with the number of parameter-sized buffers each
#: keeps: PyTorch's definitions; AMSGrad keeps m, v and the running max of v.
STATE_BUFFERS = {"SGD": 0, "Momentum": 1, "RMSprop": 1, "AdaGrad": 1, "Adam": 2, "AMSGrad": 3}
OPTIMIZERS = tuple(STATE_BUFFERS)


def _known(name: str) -> str:
    if name not in STATE_BUFFERS:
        raise ValueError(f"name must be one of {list(OPTIMIZERS)}, got {name!r}")
    return name


def state_buffers(name: str) -> int:
    """Parameter-sized buffers kept by optimizer ``name`` (see ``OPTIMIZERS``)."""
    return STATE_BUFFERS[_known(name)]


def _numpy_bytes(snapshot) -> int:
    """Bytes of NumPy array buffers alive in a ``tracemalloc`` snapshot (NumPy
    reports them in its own domain, apart from Python objects)."""
    only_numpy = [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)]
    return sum(trace.size for trace in snapshot.filter_traces(only_numpy).traces)


def measure_state_memory(name: str, n: int, dtype=np.float64) -> dict:
    """Memory kept by the first ``step`` of optimizer ``name`` on ``n``
    parameters, measured with ``tracemalloc``.

    Returns bytes: ``arrays`` (NumPy buffers the step left allocated),
    ``state`` (the optimizer's own buffers, ``opt.state``), ``scratch``
    (``arrays − state``: the step's scratch buffers), ``python`` (small Python
    objects: dicts, views; varies slightly between runs) and ``peak`` (the
    highest extra memory during the step)."""
    name = _known(name)
    n = _positive_int("n", n)
    dtype = _float_dtype(dtype)
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).astype(dtype)
    grads = rng.standard_normal(n).astype(dtype)
    opt = make_optimizer(name)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        opt.step(params, grads)
        end, peak = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    arrays = _numpy_bytes(after) - _numpy_bytes(before)
    state = sum(buffer.nbytes for buffer in opt.state.values())
    return {"arrays": arrays, "state": state, "scratch": arrays - state,
            "python": (end - start) - arrays, "peak": peak - start}


def chunk_bytes(n: int, dtype=np.float64) -> int:
    """Bytes of one chunk-sized scratch buffer, ``min(n, CHUNK) · itemsize``:
    a step keeps two of them (per worker thread when a large array is split)."""
    n = _positive_int("n", n)
    return min(n, CHUNK) * _float_dtype(dtype).itemsize


def formula_state_bytes(method: str, n: int, itemsize: int = 8, history: int = 10) -> int:
    """Optimizer state in bytes by formula, for ``n`` parameters:
    the ``OPTIMIZERS`` (buffers · n · itemsize), ``"full-matrix AdaGrad"``
    (the n × n sum of outer products gg^T) and ``"L-BFGS"`` (``history`` pairs
    (s, y): 2 · history · n)."""
    n = _positive_int("n", n)
    itemsize = _positive_int("itemsize", itemsize)
    history = _positive_int("history", history)
    known = [*OPTIMIZERS, "full-matrix AdaGrad", "L-BFGS"]
    if method not in known:
        raise ValueError(f"method must be one of {known}, got {method!r}")
    if method == "full-matrix AdaGrad":
        return n * n * itemsize
    if method == "L-BFGS":
        return 2 * history * n * itemsize
    return state_buffers(method) * n * itemsize


#: The memory-saving options of the low-precision chapter, beside ``OPTIMIZERS``:
#: Adam with m and v in bf16, Adam with 8-bit block-wise m and v
#: (``adamref.optim.Adam8bit``), and Adafactor's factored second moment
#: (``adamref.optim.Adafactor``, no first moment).
LOW_MEMORY_OPTIONS = ("Adam (bf16 state)", "Adam (8-bit state)", "Adafactor")

#: A 4096 × 4096 weight matrix: the hidden size of a 7B-parameter transformer,
#: the shape Adafactor's row and column statistics are counted for by default.
MATRIX_SHAPE = (4096, 4096)


def _state_components(name: str, shape: tuple, block_size: int) -> dict:
    """``{label: bytes per parameter}`` of optimizer ``name``'s state for one
    parameter matrix of ``shape``: the optimizer's own layout
    (``Optimizer.state_bytes``) for 8-bit Adam and Adafactor."""
    if name in OPTIMIZERS:
        labels = {0: [], 1: ["state"], 2: ["m", "v"], 3: ["m", "v", "v_max"]}[state_buffers(name)]
        if name == "Momentum":
            labels = ["momentum"]
        elif name in ("RMSprop", "AdaGrad"):
            labels = ["v" if name == "RMSprop" else "sum of g²"]
        return {f"{label} (fp32)": 4 for label in labels}
    if name == "Adam (bf16 state)":
        return {"m (bf16)": 2, "v (bf16)": 2}
    size = math.prod(shape)
    if name == "Adam (8-bit state)":
        half = Adam8bit(block_size=block_size).state_bytes(shape) / size / 2
        return {"m (8-bit + absmax)": half, "v (8-bit + absmax)": half}
    return {"v factors (fp32)": Adafactor().state_bytes(shape) / size}


#: Bytes per parameter during training (no activations), fp32 and mixed
#: precision as in ZeRO (Rajbhandari et al., 2020): fp16 weights and gradients,
#: an fp32 master copy of the weights, and the optimizer state.
def bytes_per_parameter(name: str, precision: str = "fp32", *, shape=MATRIX_SHAPE,
                        block_size: int = 2048) -> dict:
    """``{component: bytes}`` for one parameter trained with optimizer ``name``
    (one of ``OPTIMIZERS`` or ``LOW_MEMORY_OPTIONS``) in ``precision`` ("fp32"
    or "mixed").  ``shape`` is the weight matrix Adafactor factors (a 1-D shape:
    a vector, which it does not), ``block_size`` the 8-bit state's blocks."""
    known = [*OPTIMIZERS, *LOW_MEMORY_OPTIONS]
    if name not in known:
        raise ValueError(f"name must be one of {known}, got {name!r}")
    if not (isinstance(shape, tuple) and shape and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)):
        raise ValueError(f"shape must be a non-empty tuple of integers >= 1, got {shape!r:.60}")
    block_size = _positive_int("block_size", block_size)
    if precision == "fp32":
        out = {"weights (fp32)": 4, "gradients (fp32)": 4}
    elif precision == "mixed":
        out = {"weights (fp16)": 2, "gradients (fp16)": 2, "master weights (fp32)": 4}
    else:
        raise ValueError(f"precision must be 'fp32' or 'mixed', got {precision!r}")
    out.update(_state_components(name, shape, block_size))
    return out


def training_gigabytes(name: str, n_params: float, precision: str = "fp32", **options) -> float:
    """Gigabytes (10⁹ bytes) of weights, gradients and optimizer state
    (``options``: ``shape`` and ``block_size`` of ``bytes_per_parameter``)."""
    n_params = check.positive_number("n_params", n_params)
    return n_params * sum(bytes_per_parameter(name, precision, **options).values()) / 1e9


# -- operations and bytes per parameter ---------------------------------------------------
class _Counted(np.ndarray):
    """An ndarray that logs every ufunc applied to it (name and element count)."""

    log: list = []

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, _Counted) else x for x in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Counted) else o
                                  for o in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        arrays_in = [x for x in inputs if isinstance(x, np.ndarray) and x.ndim > 0]
        size = max(x.size for x in arrays_in) if arrays_in else 1
        _Counted.log.append((ufunc.__name__, method, size, len(arrays_in)))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return result


def count_step_operations(name: str, n: int = 1024) -> dict:
    """Elementwise operations of one step of optimizer ``name``, counted by
    running it on arrays that log every NumPy ufunc call (after one warm-up
    step, so the first-step special cases do not count).

    Returns ``{"ufuncs": [names], "ops_per_param", "array_reads_per_param"}``:
    ``ops_per_param`` counts each add, multiply, divide, sqrt, ... on one element
    as one operation (FLOPs, with sqrt and division counted as one each)."""
    name = _known(name)
    n = _positive_int("n", n)
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).view(_Counted)
    opt = make_optimizer(name)
    opt.step(params, rng.standard_normal(n).view(_Counted))      # warm-up (t = 1)
    # The step's scratch buffers are plain arrays made by the optimizer: count
    # the in-place operations on them too (``tmp *= c``).
    opt.engine.instrument(lambda buffer: buffer.view(_Counted))
    grads = rng.standard_normal(n).view(_Counted)
    _Counted.log = []
    opt.step(params, grads)
    log, _Counted.log = _Counted.log, []
    elementwise = [(u, size, k) for u, method, size, k in log if method == "__call__"
                   and size == n]
    return {"ufuncs": [u for u, _, _ in elementwise],
            "ops_per_param": len(elementwise),
            "array_reads_per_param": sum(k for _, _, k in elementwise)}


def min_bytes_moved(name: str, itemsize: int = 8) -> int:
    """The least memory traffic of a step, bytes per parameter: read θ, g and
    every state buffer once, write θ and every state buffer once."""
    k = state_buffers(name)
    return (2 + 1 + 2 * k) * _positive_int("itemsize", itemsize)


# -- timings ----------------------------------------------------------------------------
def wall_times(fn, repeats: int = 5) -> list[float]:
    """``repeats`` wall-clock times of ``fn()`` in seconds, after one warm-up call."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    repeats = _positive_int("repeats", repeats)
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def best_time(fn, repeats: int = 5) -> float:
    """Best of ``repeats`` wall-clock times of ``fn()`` in seconds, after one warm-up."""
    return min(wall_times(fn, repeats))


def step_threads(n: int) -> int:
    """How many threads ``adamref`` uses for one step on a contiguous array of
    ``n`` values (the engine's rule, ``engine.threads_for``)."""
    return threads_for(_positive_int("n", n))


def copy_bandwidth(n: int = 1 << 22, repeats: int = 5, threads: int = 1) -> float:
    """Bytes per second of ``np.copyto`` on ``n`` float64 (read n, write n), the
    array cut into ``threads`` contiguous parts copied in parallel threads (NumPy
    releases the GIL in a copy), so that a step run in ``threads`` threads is
    compared with a copy in as many."""
    n = _positive_int("n", n)
    threads = _positive_int("threads", threads)
    if threads > n:
        raise ValueError(f"threads must be at most n = {n}, got {threads}")
    src, dst = np.ones(n), np.empty(n)
    if threads == 1:
        return 2 * n * 8 / best_time(lambda: np.copyto(dst, src), repeats)
    edges = np.linspace(0, n, threads + 1).astype(int)
    parts = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
    with ThreadPoolExecutor(threads) as pool:
        def copy():
            list(pool.map(lambda part: np.copyto(dst[part], src[part]), parts))
        return 2 * n * 8 / best_time(copy, repeats)


def step_time(name: str, n: int, repeats: int = 5) -> float:
    """Best time in seconds of one step of optimizer ``name`` on ``n`` float64."""
    n = _positive_int("n", n)
    rng = np.random.default_rng(0)
    params, grads = rng.standard_normal(n), 1e-3 * rng.standard_normal(n)
    opt = make_optimizer(_known(name))
    return best_time(lambda: opt.step(params, grads), repeats)


def least_squares_gradient_time(n_features: int, batch: int, repeats: int = 5,
                                seed: int = 0) -> float:
    """Best time of the mini-batch least-squares gradient ``Xᵀ(Xθ − y)/B`` for a
    seeded batch ``X`` of shape ``(batch, n_features)``: about 4·B·n FLOPs.

    Computed with ``np.einsum`` (single-threaded, no temporaries), like the
    optimizer step it is compared with; a multithreaded BLAS would be faster on
    an idle machine and much slower on a busy one."""
    n_features = _positive_int("n_features", n_features)
    batch = _positive_int("batch", batch)
    rng = np.random.default_rng(check.seed("seed", seed))
    x, y = rng.standard_normal((batch, n_features)), rng.standard_normal(batch)
    theta = rng.standard_normal(n_features)
    def gradient():
        residual = np.einsum("ij,j->i", x, theta) - y
        return np.einsum("ij,i->j", x, residual) / batch
    return best_time(gradient, repeats)
