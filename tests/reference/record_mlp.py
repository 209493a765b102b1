"""Record the loss and gradients of small ReLU networks from PyTorch into
``tests/problems/fixtures/mlp_torch.npz``, for ``tests/problems/test_mlp.py``
to replay with ``adamref.problems.mlp.MLP``.

Run BY HAND, never in CI (the project's venv has no torch and must not get
it), from the repository root, in a throwaway venv outside the repo with a CPU
build of torch (see ``record_reference.py``):

    /work/venv-torch/bin/python tests/reference/record_mlp.py

Recorded with Python 3.11.7, numpy 2.4.6 and torch 2.13.0+cpu; the fixture
records its versions in ``meta_versions``.

K = 3 networks 64 → 5 → 10 with parameters drawn from a seeded NumPy
generator (not adamref's initialization), each with its own batch of B = 7
inputs in [0, 1] and labels.  PyTorch computes in float64:
``z1 = x @ W1 + b1``, ``h = relu(z1)``, ``logits = h @ W2 + b2``,
``loss = F.cross_entropy(logits, y)`` (the mean over the batch), and autograd
gives the gradients.  The fixture holds ``W1`` (K, 64, 5), ``b1`` (K, 5),
``W2`` (K, 5, 10), ``b2`` (K, 10), ``X`` (K, 7, 64), ``y`` (K, 7), ``loss``
(K,) and ``grad_W1`` … ``grad_b2`` in the parameters' shapes.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import torch

FIXTURE = Path(__file__).resolve().parents[1] / "problems" / "fixtures" / "mlp_torch.npz"
K, B, INPUTS, HIDDEN, CLASSES = 3, 7, 64, 5, 10


def main():
    rng = np.random.default_rng(2024)
    arrays = {"W1": rng.standard_normal((K, INPUTS, HIDDEN)) * 0.3,
              "b1": rng.standard_normal((K, HIDDEN)) * 0.1,
              "W2": rng.standard_normal((K, HIDDEN, CLASSES)) * 0.5,
              "b2": rng.standard_normal((K, CLASSES)) * 0.1,
              "X": rng.random((K, B, INPUTS)),
              "y": rng.integers(0, CLASSES, size=(K, B))}
    losses, grads = [], {f"grad_{n}": [] for n in ("W1", "b1", "W2", "b2")}
    for k in range(K):
        params = {n: torch.tensor(arrays[n][k], dtype=torch.float64, requires_grad=True)
                  for n in ("W1", "b1", "W2", "b2")}
        x = torch.tensor(arrays["X"][k], dtype=torch.float64)
        h = torch.relu(x @ params["W1"] + params["b1"])
        logits = h @ params["W2"] + params["b2"]
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(arrays["y"][k]))
        loss.backward()
        losses.append(loss.item())
        for n, p in params.items():
            grads[f"grad_{n}"].append(p.grad.numpy().copy())
    versions = [f"torch {torch.__version__}", f"python {platform.python_version()}",
                f"numpy {np.__version__}"]
    FIXTURE.parent.mkdir(exist_ok=True)
    np.savez_compressed(FIXTURE, **arrays, loss=np.array(losses),
                        **{n: np.array(v) for n, v in grads.items()},
                        meta_versions=np.array(versions))
    print(f"{FIXTURE}: losses {losses}, {FIXTURE.stat().st_size} bytes")


if __name__ == "__main__":
    main()
