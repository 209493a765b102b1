"""How fast is ``adamref.Adam.step``, and how far from the memory-bandwidth floor?

Adam's step is a memory-bound stream: per parameter it reads θ, g, m, v and
writes θ, m, v (7 values; AMSGrad adds a read and a write of v_max).  This
script measures, in one run on this machine, for 1e4, 1e6 and 1e7 parameters in
float32 and float64:

- a textbook NumPy Adam (the paper's lines as whole-array expressions, one
  temporary per operation);
- ``adamref.Adam.step`` (in place, cache-sized chunks, threads for large
  arrays), and its AMSGrad, AdamW and ε̂ (Keras) variants;
- ``torch.optim.Adam(foreach=True)`` and ``fused=True`` only if torch happens to
  be importable (never a dependency);

and prints the median ms/step, the effective GB/s against a ``np.copyto``
bandwidth measured in the same run (one thread and all threads), the ratio to
adamref, and the peak memory allocated during one step (tracemalloc; torch's
allocator is invisible to it).

    python benchmarks/bench_adam_step.py [--sizes 1e4 1e6 1e7] [--repeats 11]
"""

from __future__ import annotations

import argparse
import statistics
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import adamref
from adamref.lab.memory_and_compute import wall_times
from adamref.optim.engine import THREADS


def median_seconds(fn, repeats: int) -> float:
    """Median wall-clock time of ``fn()`` over ``repeats`` calls after a warm-up;
    the median is robust to the other processes of a shared machine."""
    return statistics.median(wall_times(fn, repeats))


def peak_step_bytes(fn) -> int:
    """Bytes allocated at the peak of one call (after a warm-up call)."""
    fn()
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def copy_bandwidth(n: int, dtype, repeats: int, threads: int) -> float:
    """GB/s of copying n values (one read + one write each), split over threads."""
    src, dst = np.ones(n, dtype), np.empty(n, dtype)
    bounds = np.linspace(0, n, threads + 1).astype(int)
    pool = ThreadPoolExecutor(threads)

    def copy():
        list(pool.map(lambda i: np.copyto(dst[bounds[i]:bounds[i + 1]],
                                          src[bounds[i]:bounds[i + 1]]), range(threads)))
    seconds = median_seconds(copy, repeats)
    pool.shutdown()
    return 2 * src.nbytes / seconds / 1e9


def textbook(n, dtype, rng):
    theta, grad = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    state = {"m": np.zeros(n, dtype), "v": np.zeros(n, dtype), "t": 0}
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8

    def step():
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        theta[...] = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        state["m"], state["v"] = m, v
    return step


def ours(make):
    def build(n, dtype, rng):
        theta, grad = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
        opt = make()
        return lambda: opt.step(theta, grad)
    return build


def torch_adam(**flags):
    def build(n, dtype, rng):
        import torch
        theta = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n).astype(dtype)))
        theta.grad = torch.from_numpy(rng.standard_normal(n).astype(dtype))
        return torch.optim.Adam([theta], **flags).step
    return build


CANDIDATES = {
    "textbook NumPy": (textbook, 7),
    "adamref Adam": (ours(adamref.Adam), 7),
    "adamref AMSGrad": (ours(lambda: adamref.Adam(amsgrad=True)), 9),
    "adamref AdamW": (ours(adamref.AdamW), 7),
    "adamref Adam (eps-hat)": (ours(adamref.keras_adam), 7),
}
REFERENCE = "adamref Adam"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e6, 1e7])
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    candidates = dict(CANDIDATES)
    try:
        import torch
        candidates["torch foreach"] = (torch_adam(foreach=True), 7)
        candidates["torch fused"] = (torch_adam(fused=True), 7)
        print(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        print("torch not installed: torch rows skipped")
    print(f"numpy {np.__version__}; adamref uses {THREADS} threads for large arrays; "
          f"median of {args.repeats} steps\n")

    for dtype in (np.float32, np.float64):
        for n in (int(s) for s in args.sizes):
            rng = np.random.default_rng(0)
            itemsize = np.dtype(dtype).itemsize
            bw1 = copy_bandwidth(n, dtype, args.repeats, 1)
            bwn = copy_bandwidth(n, dtype, args.repeats, THREADS)
            floor_ms = 7 * itemsize * n / (max(bw1, bwn) * 1e9) * 1e3
            print(f"== n = {n:,} {np.dtype(dtype).name}: copy {bw1:.1f} GB/s (1 thread), "
                  f"{bwn:.1f} GB/s ({THREADS} threads); bandwidth floor for 7 streams "
                  f"{floor_ms:.3f} ms")
            print(f"{'':24s} {'ms/step':>9s} {'GB/s':>7s} {'vs adamref':>10s} "
                  f"{'x floor':>8s} {'peak alloc':>11s}")
            times = {}
            for name, (build, streams) in candidates.items():
                step = build(n, dtype, rng)
                times[name] = median_seconds(step, args.repeats)
                peak = "n/a" if name.startswith("torch") else \
                    f"{peak_step_bytes(step) / (n * itemsize):.2f}·n·b"
                times[name, "peak"] = peak
                times[name, "streams"] = streams
            for name in candidates:
                seconds = times[name]
                gbps = times[name, "streams"] * itemsize * n / seconds / 1e9
                print(f"{name:24s} {seconds * 1e3:9.3f} {gbps:7.1f} "
                      f"{seconds / times[REFERENCE]:9.2f}x {seconds * 1e3 / floor_ms:7.1f}x "
                      f"{times[name, 'peak']:>11s}")
            print()
    print("peak alloc: bytes allocated at the peak of one step, in units of the "
          "parameter array's size (n·b); 0 means no parameter-sized temporary.")


if __name__ == "__main__":
    main()
