"""K networks trained at once vs a Python loop of K single networks.

The digits MLP (``adamref.problems.mlp.MLP``, 64 → 32 → 10) is trained with
Adam for ``--steps`` minibatch steps in K = lrs × seeds configurations
(default 8 learning rates × 5 seeds = 40), each network with its own
initialization and its own batch order: once as one run of K networks
(parameters (K, P), ``lr`` a (K, 1) column) and once as K runs of one network
each.  Both do the same work and must end bit for bit equal; the script checks
that and prints both times and the speedup, measured in one run.  Needs
scikit-learn (the data).

    python benchmarks/bench_mlp_batch.py [--steps 200] [--lrs 8] [--seeds 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from adamref.optim import Adam
from adamref.problems.digits import load_digits
from adamref.problems.mlp import MLP
from adamref.problems.training import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lrs", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=32)
    args = parser.parse_args()
    data, net = load_digits(), MLP(hidden=args.hidden)
    lrs = np.repeat(np.geomspace(1e-4, 1e-1, args.lrs), args.seeds)
    seeds = np.tile(np.arange(args.seeds), args.lrs)
    theta0 = net.init(seeds)
    k = len(seeds)
    print(f"K = {k} networks ({args.lrs} lrs x {args.seeds} seeds), "
          f"{net.size} parameters each, {args.steps} Adam steps of batch 32")

    start = time.perf_counter()
    together = train(net, data, Adam(lr=lrs[:, None]), theta0, args.steps,
                     batch_seeds=seeds, every=args.steps)
    batched_s = time.perf_counter() - start

    start = time.perf_counter()
    alone = [train(net, data, Adam(lr=float(lrs[i])), theta0[i:i + 1], args.steps,
                   batch_seeds=seeds[i:i + 1], every=args.steps) for i in range(k)]
    loop_s = time.perf_counter() - start

    identical = all(np.array_equal(a.theta[0], together.theta[i]) for i, a in enumerate(alone))
    print(f"K at once {batched_s:7.2f} s   loop of single networks {loop_s:7.2f} s   "
          f"speedup {loop_s / batched_s:5.1f}x   bit-identical: {identical}")


if __name__ == "__main__":
    main()
