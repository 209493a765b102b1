"""How fast is ``adamref.Adam.step``, from 2 to 10 million parameters?

Measured in one run, on this machine, for n = 2, 100, 1e4, 1e6 and 1e7 (float64
by default):

- a plain five-line NumPy Adam (``m = b1*m + (1-b1)*g``, ``v = ...``, ``m_hat``,
  ``v_hat``, ``theta -= lr*m_hat/(sqrt(v_hat)+eps)``): no checks, one temporary
  per operation;
- ``adamref.Adam.step`` (every check of a call, in place, cache-sized chunks and
  threads for large arrays);
- ``torch.optim.Adam(foreach=True)``, only if torch happens to be importable
  (never a dependency).

Every step gets a new gradient array, as in a training loop (the arrays come
from a small pool made beforehand, so making them is not timed): a step that
only checked an array it had seen before would look faster than it is.  The
contenders are timed in turns, sample after sample, so that a change in the
machine's load hits all of them alike.  Small n is timed over blocks of many
steps (the median of the blocks' means), large n one step at a time (the median
of ``--repeats``).  The ratios are the figures to read: the two targets are
adamref within 2x of the five-line NumPy Adam at n <= 100, and at most 0.5x
torch foreach at 1e7.  For n >= 1e6 the last column is the memory-bandwidth
floor of an Adam step, measured in the same run: read θ, g, m, v and write θ,
m, v once (7 streams of n values) at this machine's best copy bandwidth
(``np.copyto`` in 1 and in 2 threads); no implementation that keeps m and v in
memory can be faster.

    python benchmarks/bench_adam_step.py [--sizes 2 100 1e4 1e6 1e7] [--dtype float64]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import adamref
from adamref.lab.memory_and_compute import copy_bandwidth
from adamref.optim.engine import THREADS


def gradient_pool(n, dtype, rng, size):
    """``size`` gradient arrays, used in turn: a new array at every step."""
    return [rng.standard_normal(n).astype(dtype) for _ in range(size)]


def calls_per_sample(n: int) -> int:
    """Steps per timed sample: many for small n (one is too short to time), a
    few consecutive ones for large n."""
    return max(3, min(2000, 200_000 // max(n, 1)))


def interleaved_medians(steps: dict, n: int, repeats: int) -> dict:
    """Median seconds per call of each ``steps[name]()``, the samples of the
    contenders taken in turns.  Each sample starts with one untimed call: it
    lets whatever the previous contender left behind (torch's spinning OpenMP
    threads, cores gone idle) settle, so every timed call is a warm one."""
    calls = calls_per_sample(n)
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            step()                                    # untimed: warm up
            start = time.perf_counter()
            for _ in range(calls):
                step()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(s) for name, s in samples.items()}


def five_line(n, dtype, rng):
    """The plain NumPy Adam the brief measures against (PyTorch's defaults)."""
    theta = rng.standard_normal(n).astype(dtype)
    grads = gradient_pool(n, dtype, rng, 4 if n >= 1e6 else 16)
    m, v, t = np.zeros(n, dtype), np.zeros(n, dtype), 0
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8

    def step():
        nonlocal m, v, t
        grad = grads[t % len(grads)]
        t += 1
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        theta[...] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def adamref_adam(n, dtype, rng):
    theta = rng.standard_normal(n).astype(dtype)
    grads = gradient_pool(n, dtype, rng, 4 if n >= 1e6 else 16)
    opt = adamref.Adam()
    return lambda: opt.step(theta, grads[opt.t % len(grads)])


def torch_foreach(n, dtype, rng):
    import torch
    theta = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n).astype(dtype)))
    grads = [torch.from_numpy(g) for g in gradient_pool(n, dtype, rng, 4 if n >= 1e6 else 16)]
    opt = torch.optim.Adam([theta], foreach=True)
    count = [0]

    def step():
        theta.grad = grads[count[0] % len(grads)]
        count[0] += 1
        opt.step()
    return step


def bandwidth_floor(n: int, dtype, repeats: int) -> float:
    """Seconds for 7 streams of ``n`` values of ``dtype`` at this machine's best
    copy bandwidth (``copy_bandwidth`` of the memory chapter, in 1 and 2 threads)."""
    best = max(copy_bandwidth(n, repeats, threads) for threads in (1, 2))   # bytes per second
    return 7 * n * np.dtype(dtype).itemsize / best


def shown(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:9.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[2, 100, 1e4, 1e6, 1e7])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    dtype = np.dtype(args.dtype)
    try:
        import torch
        has_torch = True
        print(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        has_torch = False
        print("torch not importable: its columns are skipped")
    print(f"numpy {np.__version__}; adamref uses {THREADS} threads for large arrays; "
          f"{dtype.name}; median of {args.repeats} samples\n")
    header = f"{'n':>12s} {'5-line NumPy':>13s} {'adamref Adam':>13s} {'ratio':>7s}"
    if has_torch:
        header += f" {'torch foreach':>14s} {'adamref/torch':>14s}"
    header += f" {'bandwidth floor':>16s}"
    print(header)
    for n in (int(s) for s in args.sizes):
        rng = np.random.default_rng(0)
        steps = {"numpy": five_line(n, dtype, rng), "adamref": adamref_adam(n, dtype, rng)}
        if has_torch:
            steps["torch"] = torch_foreach(n, dtype, rng)
        s = interleaved_medians(steps, n, args.repeats)
        row = (f"{n:>12,d} {shown(s['numpy']):>13s} {shown(s['adamref']):>13s} "
               f"{s['adamref'] / s['numpy']:6.2f}x")
        if has_torch:
            row += f" {shown(s['torch']):>14s} {s['adamref'] / s['torch']:13.2f}x"
        if n >= 1_000_000:
            row += f" {shown(bandwidth_floor(n, dtype, args.repeats)):>16s}"
        print(row)
    print("\nratio: adamref's time over the five-line NumPy Adam's (target <= 2 at n <= 100); "
          "adamref/torch: over torch foreach's (target <= 0.5 at 1e7).")


if __name__ == "__main__":
    main()
