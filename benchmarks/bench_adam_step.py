"""Time ``adamref.Adam.step`` on 10M float64 parameters.

Compares, in one run on this machine:
- a textbook NumPy Adam (the paper's lines as whole-array expressions, which
  allocate a temporary for every intermediate);
- ``adamref.Adam.step`` (in place, chunked through two small scratch buffers);
- ``torch.optim.Adam(foreach=True)`` and ``fused=True``, only if torch happens
  to be importable (it is never a dependency);
and prints ms/step, the ratios, and the effective bandwidth of each step
(7 arrays of 8 bytes move per parameter: read θ, g, m, v; write θ, m, v)
against a measured ``np.copyto`` bandwidth.

    python benchmarks/bench_adam_step.py [--n 10000000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import adamref

BYTES_PER_PARAM_MOVED = 7 * 8   # read θ, g, m, v; write θ, m, v (float64)


def best_time(fn, repeats: int) -> float:
    """Best of ``repeats`` wall-clock times in seconds (after one warm-up call):
    the minimum is the least noisy estimate on a shared machine."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def textbook_adam(n: int, rng):
    theta, grad = rng.standard_normal(n), rng.standard_normal(n)
    m, v, state = np.zeros(n), np.zeros(n), {"t": 0}
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8

    def step():
        nonlocal theta, m, v
        state["t"] += 1
        t = state["t"]
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def adamref_adam(n: int, rng):
    theta, grad = rng.standard_normal(n), rng.standard_normal(n)
    opt = adamref.Adam()
    return lambda: opt.step(theta, grad)


def torch_adam(n: int, rng, **flags):
    import torch
    theta = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n)))
    theta.grad = torch.from_numpy(rng.standard_normal(n))
    opt = torch.optim.Adam([theta], **flags)
    return opt.step


def copy_bandwidth(n: int, repeats: int) -> float:
    """GB/s of ``np.copyto`` (one read + one write of n float64)."""
    src, dst = np.ones(n), np.empty(n)
    seconds = best_time(lambda: np.copyto(dst, src), repeats)
    return 2 * 8 * n / seconds / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="number of parameters")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    candidates = {"textbook NumPy": textbook_adam, "adamref.Adam.step": adamref_adam}
    try:
        import torch
        torch_version = torch.__version__
        candidates["torch Adam(foreach=True)"] = lambda n, r: torch_adam(n, r, foreach=True)
        candidates["torch Adam(fused=True)"] = lambda n, r: torch_adam(n, r, fused=True)
    except ImportError:
        torch_version = None

    bandwidth = copy_bandwidth(args.n, args.repeats)
    print(f"n = {args.n:,} float64 parameters, best of {args.repeats} steps")
    print(f"np.copyto bandwidth: {bandwidth:.1f} GB/s")
    if torch_version is None:
        print("torch not installed: torch rows skipped")
    else:
        import torch
        print(f"torch {torch_version}, {torch.get_num_threads()} threads")
    results = {}
    for name, make in candidates.items():
        seconds = best_time(make(args.n, rng), args.repeats)
        results[name] = seconds
        gbps = BYTES_PER_PARAM_MOVED * args.n / seconds / 1e9
        print(f"{name:28s} {seconds * 1e3:8.1f} ms/step  {gbps:6.1f} GB/s "
              f"({gbps / bandwidth:4.0%} of copy bandwidth)")
    ours = results["adamref.Adam.step"]
    for name, seconds in results.items():
        if name != "adamref.Adam.step":
            print(f"ratio {name} / adamref: {seconds / ours:.2f}x")


if __name__ == "__main__":
    main()
