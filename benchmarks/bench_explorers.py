"""Redraw latency of every explorer, kernel side: draw the figure and encode
its PNG (what happens between a control change and the new image reaching
JupyterLab).

For each explorer: its default, then up to ``--settings`` other settings (its
static grid, evenly sampled), each redrawn ``--repeats`` times on the
explorer's kept figure.  Prints the median and the largest redraw time per
explorer and whether the median meets the target of 250 ms.

    .venv/bin/python benchmarks/bench_explorers.py [names...]

Run it on an otherwise idle machine; the numbers are wall-clock times.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import matplotlib

matplotlib.use("Agg")

from adamref.plots.explorers import EXPLORERS, explore  # noqa: E402
from adamref.plots.widgets import static_grid  # noqa: E402

TARGET_MS = 250.0


def settings(name: str, count: int) -> list[dict]:
    """The default, then ``count`` settings spread over the static grid."""
    grid = static_grid(EXPLORERS[name].controls)
    stride = max(1, len(grid) // count)
    return grid[::stride][:count]


def time_explorer(name: str, count: int, repeats: int) -> list[float]:
    explorer = explore(name)               # draws the default once (warm-up)
    times = []
    for values in [dict(explorer.values)] + settings(name, count):
        explorer.values = dict(values)
        for _ in range(repeats):
            explorer.redraw()
            times.append(explorer.seconds * 1e3)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(EXPLORERS))
    parser.add_argument("--settings", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(EXPLORERS))
    if unknown:
        parser.error(f"unknown explorers {unknown}; known: {sorted(EXPLORERS)}")
    print(f"{'explorer':22s} {'redraws':>7s} {'median ms':>10s} {'max ms':>8s}  "
          f"median <= {TARGET_MS:.0f} ms")
    slow = []
    for name in args.names:
        times = time_explorer(name, args.settings, args.repeats)
        median = statistics.median(times)
        print(f"{name:22s} {len(times):7d} {median:10.0f} {max(times):8.0f}  "
              f"{'yes' if median <= TARGET_MS else 'NO'}")
        if median > TARGET_MS:
            slow.append(name)
    print(f"\n{len(args.names) - len(slow)} of {len(args.names)} explorers meet the target"
          + (f"; slower: {', '.join(slow)}" if slow else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
