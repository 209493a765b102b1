"""One broadcast run over K hyperparameter configurations vs a Python loop.

``adamref`` hyperparameters may be arrays: parameters of shape ``(K, d)`` with
``lr``, ``beta1``, ``beta2`` of shape ``(K, 1)`` optimize K configurations in one
``step``.  This script sweeps K = 1024 configurations of (lr, β1, β2) for 300
steps on two problems whose gradients are elementwise (so both runs see
bit-identical gradients): the 2-D Rosenbrock function and a 50-D diagonal
quadratic with curvatures from 1e-2 to 1e2.  Each sweep runs once as a
broadcast run and once as a loop of K separate optimizers; the script checks
that both give bit-identical final parameters and prints both times and the
speedup.

    python benchmarks/bench_sweep.py [--configs 1024] [--steps 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import adamref
from adamref.problems import Rosenbrock


def problems(d: int):
    """(name, gradient, θ0) for each problem; gradients act on (..., d) rows."""
    rosenbrock = Rosenbrock()
    curvatures = np.geomspace(1e-2, 1e2, d)
    return [("Rosenbrock (d = 2)", rosenbrock.gradient, np.array([-1.5, 2.0])),
            (f"diagonal quadratic (d = {d})", lambda theta: curvatures * (theta - 1.0),
             np.zeros(d))]


def grid(k: int, seed: int):
    """K configurations: lr log-uniform in [1e-4, 1], β1 in [0, 0.99], β2 in [0.9, 0.9999]."""
    rng = np.random.default_rng(seed)
    lr = 10.0 ** rng.uniform(-4, 0, (k, 1))
    beta1 = rng.uniform(0, 0.99, (k, 1))
    beta2 = 1 - 10.0 ** rng.uniform(-4, -1, (k, 1))
    return lr, beta1, beta2


def broadcast_run(gradient, theta0, lr, beta1, beta2, steps):
    theta = np.tile(theta0, (len(lr), 1))
    opt = adamref.Adam(lr=lr, beta1=beta1, beta2=beta2)
    for _ in range(steps):
        opt.step(theta, gradient(theta))
    return theta


def loop_run(gradient, theta0, lr, beta1, beta2, steps):
    rows = []
    for i in range(len(lr)):
        theta = theta0.copy()
        opt = adamref.Adam(lr=float(lr[i, 0]), beta1=float(beta1[i, 0]),
                           beta2=float(beta2[i, 0]))
        for _ in range(steps):
            opt.step(theta, gradient(theta))
        rows.append(theta)
    return np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--d", type=int, default=50)
    args = parser.parse_args()
    lr, beta1, beta2 = grid(args.configs, seed=1)
    print(f"{args.configs} configurations of (lr, beta1, beta2) x {args.steps} Adam steps")
    for name, gradient, theta0 in problems(args.d):
        start = time.perf_counter()
        swept = broadcast_run(gradient, theta0, lr, beta1, beta2, args.steps)
        broadcast_s = time.perf_counter() - start
        start = time.perf_counter()
        looped = loop_run(gradient, theta0, lr, beta1, beta2, args.steps)
        loop_s = time.perf_counter() - start
        identical = np.array_equal(swept, looped, equal_nan=True)
        print(f"{name:28s} broadcast {broadcast_s:7.3f} s   loop {loop_s:7.3f} s   "
              f"speedup {loop_s / broadcast_s:6.1f}x   bit-identical: {identical}")


if __name__ == "__main__":
    main()
