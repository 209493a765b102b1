"""The seed regression's ``fit`` (100 samples, batch 32, 100 epochs, Adam lr=0.01)
on ``adamref.keras_style``, against real Keras timed once by hand.

Keras is never installed here: its time comes from the fixture
``adamref/lab/data/keras_seed_regression.npz``, recorded by
``tests/reference/record_keras_seed.py`` (which times three ``fit`` calls and
stores them with the versions used).  Machines differ, so the ratio is only
meaningful when both figures come from the same machine, as they do in the
committed fixture and on the machine that recorded it.

    python benchmarks/bench_keras_fit.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import adamref
from adamref.keras_style import Dense, Sequential
from adamref.lab.seed_regression import KERAS_REFERENCE

FIXTURE = KERAS_REFERENCE


def fit_once(x, y) -> float:
    model = Sequential([Dense(units=1, input_shape=[1])])
    model.compile(optimizer=adamref.keras_adam(learning_rate=0.01), loss="mse")
    start = time.perf_counter()
    model.fit(x, y, epochs=100, verbose=0, seed=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    fixture = np.load(FIXTURE)
    x, y = fixture["x"], fixture["y"]
    ours = [fit_once(x, y) for _ in range(args.repeats)]
    keras = fixture["meta_fit_seconds"]
    print(f"adamref.keras_style fit, 100 epochs: median {statistics.median(ours) * 1e3:.1f} ms, "
          f"best {min(ours) * 1e3:.1f} ms over {args.repeats} runs")
    print(f"real Keras fit (recorded: {fixture['meta_versions']}): best {min(keras):.2f} s "
          f"of {len(keras)} runs")
    print(f"speedup (best vs best): {min(keras) / min(ours):.0f}x")


if __name__ == "__main__":
    main()
