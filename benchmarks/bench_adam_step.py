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

Small n is timed over blocks of many steps (the median of the blocks' means),
large n one step at a time (the median of ``--repeats``).  The ratios are the
figures to read: the two targets are adamref within 2x of the five-line NumPy
Adam at n <= 100, and at most 0.5x torch foreach at 1e7.

    python benchmarks/bench_adam_step.py [--sizes 2 100 1e4 1e6 1e7] [--dtype float64]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import adamref
from adamref.optim.engine import THREADS


def seconds_per_step(step, n: int, repeats: int) -> float:
    """Median seconds per call of ``step``: blocks of calls for small n (a
    single call is too short to time), one call per sample for large n."""
    calls = max(1, min(2000, 200_000 // max(n, 1)))
    step()                                            # warm-up: first-step setup
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def five_line(n, dtype, rng):
    """The plain NumPy Adam the brief measures against (PyTorch's defaults)."""
    theta, grad = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    m, v, t = np.zeros(n, dtype), np.zeros(n, dtype), 0
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8

    def step():
        nonlocal m, v, t
        t += 1
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        theta[...] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def adamref_adam(n, dtype, rng):
    theta, grad = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    opt = adamref.Adam()
    return lambda: opt.step(theta, grad)


def torch_foreach(n, dtype, rng):
    import torch
    theta = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n).astype(dtype)))
    theta.grad = torch.from_numpy(rng.standard_normal(n).astype(dtype))
    return torch.optim.Adam([theta], foreach=True).step


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
    print(header)
    for n in (int(s) for s in args.sizes):
        rng = np.random.default_rng(0)
        numpy_s = seconds_per_step(five_line(n, dtype, rng), n, args.repeats)
        ours_s = seconds_per_step(adamref_adam(n, dtype, rng), n, args.repeats)
        row = f"{n:>12,d} {shown(numpy_s):>13s} {shown(ours_s):>13s} {ours_s / numpy_s:6.2f}x"
        if has_torch:
            torch_s = seconds_per_step(torch_foreach(n, dtype, rng), n, args.repeats)
            row += f" {shown(torch_s):>14s} {ours_s / torch_s:13.2f}x"
        print(row)
    print("\nratio: adamref's time over the five-line NumPy Adam's (target <= 2 at n <= 100); "
          "adamref/torch: over torch foreach's (target <= 0.5 at 1e7).")


if __name__ == "__main__":
    main()
