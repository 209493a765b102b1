"""Record ``torch.optim.RAdam`` trajectories into ``tests/optim/fixtures/radam_*.npz``
for ``tests/optim/test_radam.py`` to replay with ``adamref.optim.radam.RAdam``.

A sibling of ``record_reference.py`` (read its docstring): the same problem
(``problem.py``, 50 steps, 6 parameters, float64), the same recording function
(``record_reference.run_torch``, ``foreach=False``, checked against
``foreach=True``) and the same fixture layout, under another prefix so that
``test_reference_fixtures.py`` (Adam's replay) does not pick these up.  With
β2 = 0.999, ρ_t passes 5 at t = 6, so every run covers both of RAdam's branches
(the momentum step, then the rectified adaptive step); with β2 = 0.9 also at t = 6.

Run BY HAND, never in CI, from the repository root:

    /work/venv-torch/bin/python tests/reference/record_radam.py

Recorded with Python 3.11.7, numpy 2.4.6 and torch 2.13.0+cpu (``meta_versions``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import problem  # noqa: E402  (this directory, on sys.path above)
import record_reference  # noqa: E402

CASES = {
    "radam_torch": {"lr": 1e-2},
    "radam_torch_l2": {"lr": 1e-2, "weight_decay": 0.1},
    "radam_torch_decoupled": {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True},
    "radam_torch_betas_eps_maximize": {"lr": 1e-2, "betas": (0.5, 0.9), "eps": 1e-3,
                                       "maximize": True},
}


def main():
    import torch

    versions = [f"torch {torch.__version__}", *record_reference.base_versions()]
    for name, kwargs in CASES.items():
        trajectory, grads, final = record_reference.run_torch("RAdam", kwargs, foreach=False)
        foreach, _, _ = record_reference.run_torch("RAdam", kwargs, foreach=True)
        foreach_diff = float(np.max(np.abs(trajectory - foreach)))
        assert foreach_diff < 1e-14, (name, foreach_diff)
        path = record_reference.FIXTURES / f"{name}.npz"
        np.savez_compressed(
            path, framework=np.array("torch"), optimizer=np.array("torch.optim.RAdam"),
            optimizer_class=np.array("torch.optim.RAdam (foreach=False)"),
            kwargs_json=np.array(json.dumps(kwargs)), meta_versions=np.array(versions),
            theta0=problem.THETA0, trajectory=trajectory, grads=grads, **final,
            foreach_max_abs_diff=np.float64(foreach_diff))
        print(f"{path.name}: RAdam({json.dumps(kwargs)}), foreach=True vs False "
              f"max |Δθ| = {foreach_diff:.2e}")


if __name__ == "__main__":
    main()
