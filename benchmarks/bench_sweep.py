"""One broadcast run over K hyperparameter configurations vs a Python loop.

``adamref`` hyperparameters may be arrays: parameters of shape ``(K, d)`` with
``lr``, ``beta1``, ``beta2`` of shape ``(K, 1)`` optimize K configurations in one
``step``.  This script sweeps a grid of K = 16 × 8 × 8 = 1024 configurations of
(lr, β1, β2) for 300 Adam steps with ``adamref.sweeps.sweep`` (one broadcast
run) and again with ``adamref.sweeps.sweep_loop`` (one optimizer per
configuration, the code the sensitivity chapter uses), on two problems whose
gradients are elementwise, so both runs see bit-identical gradients: the 2-D
Rosenbrock function and a 50-D diagonal quadratic with curvatures from 1e-2 to
1e2.  It checks that both give bit-identical final losses and prints both
times and the speedup.

    python benchmarks/bench_sweep.py [--steps 300] [--d 50]
"""

from __future__ import annotations

import argparse

import numpy as np

import adamref
from adamref.problems import Quadratic, Rosenbrock
from adamref.lab.sensitivity import grid_configurations, sweep, sweep_loop

GRID = {"lr": np.geomspace(1e-4, 1.0, 16),
        "beta1": np.linspace(0.0, 0.99, 8),
        "beta2": 1 - np.geomspace(1e-4, 1e-1, 8)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--d", type=int, default=50)
    args = parser.parse_args()
    problems = [("Rosenbrock (d = 2)", Rosenbrock(), [-1.5, 2.0]),
                (f"diagonal quadratic (d = {args.d})",
                 Quadratic(np.geomspace(1e-2, 1e2, args.d), minimum=np.ones(args.d)),
                 np.zeros(args.d))]
    configurations = int(np.prod([len(v) for v in GRID.values()]))
    print(f"{configurations} configurations of (lr, beta1, beta2) x {args.steps} Adam steps")
    for name, problem, theta0 in problems:
        swept = sweep(adamref.Adam, problem, theta0, args.steps, **GRID)
        every = grid_configurations(swept, np.arange(swept.configurations))
        looped, loop_s = sweep_loop(adamref.Adam, problem, theta0, args.steps, every)
        identical = np.array_equal(swept.loss.reshape(-1), looped)
        print(f"{name:28s} broadcast {swept.seconds:7.3f} s   loop {loop_s:7.3f} s   "
              f"speedup {loop_s / swept.seconds:6.1f}x   bit-identical: {identical}")


if __name__ == "__main__":
    main()
