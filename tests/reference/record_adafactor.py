"""Record ``torch.optim.Adafactor`` trajectories into
``tests/optim/fixtures/adafactor_torch_*.npz``, for ``tests/optim/test_adafactor.py``
to replay with ``adamref.optim.adafactor.Adafactor``.

Run BY HAND, never in CI (the project's venv has no torch, and must not get
it), in a throwaway venv outside the repo, as ``record_reference.py`` says:

    /work/venv-torch/bin/python tests/reference/record_adafactor.py

(from the repository root; that venv has torch 2.13.0+cpu and numpy).  The
fixtures were recorded with Python 3.11.7, numpy 2.4.6 and torch 2.13.0+cpu; each
records the versions it was made with in ``meta_versions``.

Each case runs STEPS = 50 updates of one parameter group of two tensors in
float64: a tensor of two or more axes (Adafactor factors its second moment)
and a vector (it keeps the full one).  Each tensor holds the 6 parameters of
``problem.py`` in its own shape; at each step the gradient of a tensor is
``problem.gradient`` of its flattened values, computed in NumPy and handed to
torch unchanged (``p.grad = torch.from_numpy(g)``), so a replay that reaches
the same parameters sees bit-identical gradients.

A fixture holds ``optimizer_class``, ``kwargs_json`` (torch's constructor
keywords), ``meta_versions``; per tensor ``i``: ``theta0_i``,
``trajectory_i`` (STEPS, *shape) = θ_1..θ_T, ``grads_i`` and torch's state
after step T (``row_var_i`` and ``col_var_i``, or ``variance_i``); and
``foreach_max_abs_diff``, the largest |θ| difference between ``foreach=False``
(recorded: ``_single_tensor_adafactor``) and ``foreach=True``.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import problem  # this directory, on sys.path above

FIXTURES = HERE.parent / "optim" / "fixtures"
STEPS = 50

# name -> (shapes of the two tensors, torch.optim.Adafactor kwargs); float64.
CASES = {
    "adafactor_torch_defaults": (((2, 3), (6,)), {}),
    "adafactor_torch_options": (((3, 2), (6,)), {"lr": 0.05, "beta2_decay": -0.5,
                                                 "eps": (1e-4, 1e-2), "d": 1.2,
                                                 "weight_decay": 0.1}),
    "adafactor_torch_maximize": (((1, 2, 3), (6,)), {"lr": 1e-3, "maximize": True}),
}


def run(shapes, kwargs, *, foreach):
    import torch

    params = [torch.nn.Parameter(torch.from_numpy(problem.THETA0.reshape(s).copy()))
              for s in shapes]
    opt = torch.optim.Adafactor(params, foreach=foreach, **kwargs)
    trajectories, grads = [[] for _ in shapes], [[] for _ in shapes]
    for t in range(1, STEPS + 1):
        for i, p in enumerate(params):
            g = problem.gradient(p.detach().numpy().reshape(-1).copy(), t).reshape(p.shape)
            p.grad = torch.from_numpy(g)
            grads[i].append(g)
        opt.step()
        for i, p in enumerate(params):
            trajectories[i].append(p.detach().numpy().copy())
    finals = []
    for p in params:
        state = opt.state[p]
        assert int(state["step"]) == STEPS
        finals.append({k: state[k].detach().numpy().copy()
                       for k in ("row_var", "col_var", "variance") if k in state})
    return [np.array(x) for x in trajectories], [np.array(x) for x in grads], finals


def main():
    import torch

    FIXTURES.mkdir(exist_ok=True)
    versions = [f"torch {torch.__version__}", f"python {platform.python_version()}",
                f"numpy {np.__version__}"]
    for name, (shapes, kwargs) in CASES.items():
        trajectories, grads, finals = run(shapes, kwargs, foreach=False)
        foreach_trajectories, _, _ = run(shapes, kwargs, foreach=True)
        foreach_diff = max(float(np.max(np.abs(a - b)))
                           for a, b in zip(trajectories, foreach_trajectories))
        assert foreach_diff < 1e-12, (name, foreach_diff)
        arrays = {}
        for i, shape in enumerate(shapes):
            arrays[f"theta0_{i}"] = problem.THETA0.reshape(shape)
            arrays[f"trajectory_{i}"] = trajectories[i]
            arrays[f"grads_{i}"] = grads[i]
            arrays.update({f"{k}_{i}": v for k, v in finals[i].items()})
        path = FIXTURES / f"{name}.npz"
        np.savez_compressed(
            path, optimizer_class=np.array("torch.optim.Adafactor (foreach=False)"),
            kwargs_json=np.array(json.dumps(kwargs)), meta_versions=np.array(versions),
            foreach_max_abs_diff=np.float64(foreach_diff), **arrays)
        print(f"{path.relative_to(HERE.parent.parent)}: Adafactor({json.dumps(kwargs)}) "
              f"shapes {shapes}, foreach diff {foreach_diff:.1e}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
