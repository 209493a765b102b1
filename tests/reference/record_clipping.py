"""Record ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_`` on fixed
float64 gradients into ``tests/optim/fixtures/clipping_torch.npz``, for
``tests/optim/test_clipping.py`` to replay with ``adamref.optim.clipping``.

Run BY HAND, never in CI, from the repository root:

    /work/venv-torch/bin/python tests/reference/record_clipping.py

Recorded with Python 3.11.7, numpy 2.4.6 and torch 2.13.0+cpu (``meta_versions``).

Three gradient leaves of shapes (3, 4), (5,) and (2, 2, 2) from a seeded NumPy
generator.  For each ``max_norm`` in ``MAX_NORMS`` (below the norm, clipping;
far above it; and exactly the norm, where PyTorch's ``+ 1e-6`` still scales
by slightly less than 1) the fixture holds the returned total norm
(``norm_<i>``) and the clipped leaves (``norm_<i>_leaf_<j>``); for each
``clip_value`` in ``CLIP_VALUES`` the clamped leaves (``value_<i>_leaf_<j>``).
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import torch

FIXTURE = Path(__file__).resolve().parents[1] / "optim" / "fixtures" / "clipping_torch.npz"
SHAPES = [(3, 4), (5,), (2, 2, 2)]
CLIP_VALUES = [0.5, 10.0]


def main():
    rng = np.random.default_rng(7)
    leaves = [rng.standard_normal(shape) * 2 for shape in SHAPES]
    norm = float(np.sqrt(sum((leaf**2).sum() for leaf in leaves)))
    max_norms = [1.0, 100.0, norm]
    out = {f"leaf_{j}": leaf for j, leaf in enumerate(leaves)}
    for i, max_norm in enumerate(max_norms):
        params = [torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64)) for shape in SHAPES]
        for p, leaf in zip(params, leaves):
            p.grad = torch.tensor(leaf)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=False)
        out[f"norm_{i}"] = np.float64(total.item())
        out.update({f"norm_{i}_leaf_{j}": p.grad.numpy().copy() for j, p in enumerate(params)})
    for i, value in enumerate(CLIP_VALUES):
        params = [torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64)) for shape in SHAPES]
        for p, leaf in zip(params, leaves):
            p.grad = torch.tensor(leaf)
        torch.nn.utils.clip_grad_value_(params, value, foreach=False)
        out.update({f"value_{i}_leaf_{j}": p.grad.numpy().copy() for j, p in enumerate(params)})
    versions = [f"torch {torch.__version__}", f"python {platform.python_version()}",
                f"numpy {np.__version__}"]
    np.savez_compressed(FIXTURE, **out, max_norms=np.array(max_norms),
                        clip_values=np.array(CLIP_VALUES), meta_versions=np.array(versions))
    print(f"{FIXTURE}: norm {norm}, {FIXTURE.stat().st_size} bytes")


if __name__ == "__main__":
    main()
