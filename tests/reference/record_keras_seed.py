"""Record the book's seed-regression snippet, run by real Keras 3, into
``adamref/lab/data/keras_seed_regression.npz`` for ``tests/test_keras_style.py``
to replay with ``adamref.keras_style``.

Run BY HAND, never in CI (the project's venv has neither torch nor keras, and
must not get them).  In a throwaway venv outside the repo:

    python3 -m venv /work/refvenv
    /work/refvenv/bin/pip install torch==2.13.0 numpy   # a CPU build; do not ask
                                                        # for plain `torch` or a range
    /work/refvenv/bin/pip install keras==3.15.1         # check it kept torch 2.13.0
    KERAS_BACKEND=torch /work/refvenv/bin/python tests/reference/record_keras_seed.py

(from the repository root).  Recorded with Python 3.11, numpy 2.4.6,
torch 2.13.0+cpu and keras 3.15.1 (backend torch); ``meta_versions`` in the
fixture says what it was made with.

The snippet is the book's, with the two sources of randomness pinned so that a
replay can match it step for step:

- the data are drawn with NumPy (``SEED``): ``x ~ N(0, 1)`` of shape (100, 1),
  ``y = 3x + N(0, 0.1²)``, both float32;
- the initial kernel is a glorot_uniform draw made with NumPy (U(−√3, √3) for a
  1 → 1 layer) and the bias is 0, installed with ``model.set_weights``;
- ``fit(..., shuffle=False)``: the batches are samples 0–31, 32–63, 64–95, 96–99
  in every epoch (Keras shuffles with torch's generator, which NumPy cannot replay).

Everything else is the snippet: ``Dense(units=1, input_shape=[1])``,
``Adam(learning_rate=0.01)``, ``loss='mse'``, ``epochs=100``, default batch size.

The fixture holds ``x``, ``y``, ``kernel0``, ``bias0`` (initial weights),
``loss`` (``history.history['loss']``, 100 floats), ``kernel_per_epoch`` and
``bias_per_epoch`` (weights after each epoch), ``kernel``/``bias`` (final),
``iterations`` (Keras' optimizer step count at the end), ``meta_versions``.

It also times ``fit`` (100 samples, 100 epochs, verbose=0) three times with
the snippet's default ``shuffle=True``, each on a fresh model after the recorded
run (so imports are not counted), and stores the three wall-clock times in
seconds as ``meta_fit_seconds`` (a machine-dependent figure for the chapter's
prose, never compared by a test).
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np

FIXTURE = Path(__file__).resolve().parents[2] / "adamref" / "lab" / "data" / "keras_seed_regression.npz"
SEED = 20151222
N, EPOCHS, LR = 100, 100, 0.01


def data_and_initial_weights():
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((N, 1)).astype(np.float32)
    y = (3.0 * x + 0.1 * rng.standard_normal((N, 1))).astype(np.float32)
    limit = np.sqrt(6.0 / (1 + 1))                      # glorot_uniform, fan_in = fan_out = 1
    kernel0 = rng.uniform(-limit, limit, size=(1, 1)).astype(np.float32)
    bias0 = np.zeros(1, dtype=np.float32)
    return x, y, kernel0, bias0


def snippet_model():
    model = keras.Sequential([keras.layers.Dense(units=1, input_shape=[1])])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss="mse")
    return model


def main():
    assert keras.backend.backend() == "torch", "run with KERAS_BACKEND=torch"
    import torch

    x, y, kernel0, bias0 = data_and_initial_weights()
    model = snippet_model()
    model.set_weights([kernel0, bias0])
    per_epoch = []
    keep = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: per_epoch.append(model.get_weights()))
    history = model.fit(x, y, epochs=EPOCHS, verbose=0, shuffle=False, callbacks=[keep])
    kernel, bias = model.get_weights()
    versions = (f"python {platform.python_version()}, numpy {np.__version__}, "
                f"torch {torch.__version__}, keras {keras.__version__} "
                f"(backend {keras.backend.backend()})")
    seconds = []
    for _ in range(3):                         # the snippet as written: shuffle=True
        timed = snippet_model()
        timed.set_weights([kernel0, bias0])
        start = time.perf_counter()
        timed.fit(x, y, epochs=EPOCHS, verbose=0)
        seconds.append(time.perf_counter() - start)

    np.savez(FIXTURE, x=x, y=y, kernel0=kernel0, bias0=bias0,
             loss=np.asarray(history.history["loss"], dtype=np.float64),
             kernel_per_epoch=np.stack([w[0] for w in per_epoch]),
             bias_per_epoch=np.stack([w[1] for w in per_epoch]),
             kernel=kernel, bias=bias,
             iterations=np.asarray(int(model.optimizer.iterations.numpy()), dtype=np.int64),
             meta_versions=np.asarray(versions),
             meta_fit_seconds=np.asarray(seconds))
    print(f"wrote {FIXTURE.name}: {versions}")
    print(f"kernel {kernel0.item():.6f} -> {kernel.item():.6f}, bias -> {bias.item():.6f}, "
          f"loss[0] {history.history['loss'][0]:.6f}, loss[-1] {history.history['loss'][-1]:.6f}, "
          f"iterations {int(model.optimizer.iterations.numpy())}")
    print(f"keras {keras.__version__} (torch {torch.__version__}) fit, {N} samples, "
          f"{EPOCHS} epochs, shuffle=True: {', '.join(f'{s:.2f}' for s in seconds)} s")


if __name__ == "__main__":
    main()
