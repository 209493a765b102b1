"""Record reference trajectories from PyTorch (Adam, AdamW, NAdam, Adamax) and
Keras 3 (Adam) into ``tests/optim/fixtures/ref_*.npz``, for
``tests/optim/test_reference_fixtures.py`` to replay with adamref.  The Optax
fixtures (Yogi, AdaBelief, Lion) are recorded by ``record_optax.py`` beside
this file, in the same format with the same oracle.

Run BY HAND, never in CI (the project's venv has neither torch nor keras, and
must not get them).  In a throwaway venv outside the repo:

    python3 -m venv /work/refvenv
    /work/refvenv/bin/pip install torch==2.13.0 numpy   # a CPU build; do not ask
                                                        # for plain `torch` or a range
    /work/refvenv/bin/pip install keras==3.15.1         # check it kept torch 2.13.0
    KERAS_BACKEND=torch /work/refvenv/bin/python tests/reference/record_reference.py

(from the repository root).  The fixtures were recorded with Python 3.11.7,
numpy 2.4.6, torch 2.13.0+cpu and keras 3.15.1 (backend torch); each fixture
records the versions it was made with in ``meta_versions``.

Cases can be named on the command line to record only them (the others are
left as they are): the NAdam and Adamax fixtures were added later with

    /work/venv-torch/bin/python tests/reference/record_reference.py \
        torch_nadam torch_nadam_l2 torch_nadamw torch_nadam_betas_eps_decay \
        torch_adamax torch_adamax_l2_maximize

(a venv with torch 2.13.0+cpu and numpy 2.4.6 only: no Keras case is named).

Every case runs STEPS = 50 updates on the 6 parameters of ``problem.py``.  At
each step the gradient is computed by ``problem.gradient`` in NumPy from the
framework's current parameters and handed to the framework unchanged
(``p.grad = torch.from_numpy(g)``; ``opt.apply_gradients([(tensor(g), var)])``),
so a replay that reaches the same parameters sees bit-identical gradients.

A fixture holds:

- ``framework`` ("torch" | "keras"), ``optimizer`` (the public class name),
  ``optimizer_class`` (the class that actually ran: Keras dispatches
  ``keras.optimizers.Adam`` to its torch backend's ``torch_adam.Adam``),
  ``kwargs_json`` (the constructor's keyword arguments, JSON),
  ``meta_versions`` (strings);
- ``theta0`` (N,), ``trajectory`` (STEPS, N) = θ_1..θ_T, ``grads`` (STEPS, N)
  = the gradient handed over at steps 1..T;
- the framework's state after step T under adamref's buffer names: ``m``,
  ``v`` and, for AMSGrad, ``v_max`` (torch ``exp_avg``/``exp_avg_sq``/
  ``max_exp_avg_sq``, Keras ``momentum``/``velocity``/``velocity_hat``);
  for torch's Adamax ``m``, ``u`` (``exp_avg``/``exp_inf``), for NAdam ``m``,
  ``v`` (its ``mu_product`` is a function of t that adamref recomputes);
- torch only: ``foreach_max_abs_diff``, the largest |θ| difference over the
  trajectory between ``foreach=False`` (recorded) and ``foreach=True``; NAdam
  only: ``float32_scalars_max_abs_diff`` (below).

NAdam keeps ``mu_product`` = ∏ μ_i as a scalar tensor of torch's *default*
dtype, float32 unless changed, even for float64 parameters: its rounding to
float32 (~6e-8 relative) moves the steps' coefficients by about that much.  The
NAdam cases are therefore recorded under ``torch.set_default_dtype(torch.float64)``,
where torch computes all of NAdam in float64, and the fixture stores how far
the run with the float32 default is from it (``float32_scalars_max_abs_diff``,
the largest |θ| difference over the trajectory).

PyTorch runs in float64 with ``foreach=False`` (``_single_tensor_adam``); the
``foreach=True`` path (``_multi_tensor_adam``) is checked against it on every
case (must agree to 1e-14 absolute; with torch 2.13.0 on CPU it agrees bit for
bit, ``foreach_max_abs_diff`` = 0).  Keras runs in float32, its default; with
KERAS_BACKEND=torch ``keras.optimizers.Adam`` is the torch backend's
``torch_adam.Adam`` (``_parallel_update_step``: m·β1 + (1−β1)·g, v·β2 +
(1−β2)·g², θ −= (m·α_t)/(√v + ε̂), α_t computed in float32 from float32 β's),
with the decoupled weight decay θ ← θ·(1 − wd·lr) applied before it
(``TorchOptimizer._apply_weight_decay``, called from
``BaseOptimizer._backend_apply_gradients``).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import problem  # this directory, on sys.path above

FIXTURES = HERE.parent / "optim" / "fixtures"
STEPS = 50

# name -> (torch.optim class, constructor kwargs); all float64.
TORCH_CASES = {
    "torch_adam": ("Adam", {"lr": 1e-2}),
    "torch_nadam": ("NAdam", {"lr": 1e-2}),
    "torch_nadam_l2": ("NAdam", {"lr": 1e-2, "weight_decay": 0.1}),
    "torch_nadamw": ("NAdam", {"lr": 1e-2, "weight_decay": 0.1,
                               "decoupled_weight_decay": True}),
    "torch_nadam_betas_eps_decay": ("NAdam", {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-3,
                                              "momentum_decay": 0.02, "maximize": True}),
    "torch_adamax": ("Adamax", {"lr": 1e-2}),
    "torch_adamax_l2_maximize": ("Adamax", {"lr": 1e-2, "weight_decay": 0.1,
                                            "maximize": True}),
    "torch_adam_amsgrad": ("Adam", {"lr": 1e-2, "amsgrad": True}),
    "torch_adam_l2": ("Adam", {"lr": 1e-2, "weight_decay": 0.1}),
    "torch_adamw": ("AdamW", {"lr": 1e-2, "weight_decay": 0.1}),
    "torch_adam_maximize": ("Adam", {"lr": 1e-2, "maximize": True}),
    "torch_adamw_amsgrad_maximize": ("AdamW", {"lr": 1e-2, "weight_decay": 0.1,
                                               "amsgrad": True, "maximize": True}),
    # eps = 1e-3 is comparable to √v̂ of coordinate 0 (gradients ~1e-3).
    "torch_adam_betas_eps": ("Adam", {"lr": 1e-2, "betas": (0.5, 0.9), "eps": 1e-3}),
}

# name -> keras.optimizers.Adam kwargs; float32 variables.
KERAS_CASES = {
    "keras_adam": {"learning_rate": 1e-2},
    "keras_adam_amsgrad": {"learning_rate": 1e-2, "amsgrad": True},
    "keras_adam_weight_decay": {"learning_rate": 1e-2, "weight_decay": 0.1},
}


def base_versions():
    return [f"python {platform.python_version()}", f"numpy {np.__version__}"]


# torch's state names -> adamref's buffer names, per class.
TORCH_STATE = {"Adam": {"exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v_max"},
               "NAdam": {"exp_avg": "m", "exp_avg_sq": "v"},
               "Adamax": {"exp_avg": "m", "exp_inf": "u"}}
TORCH_STATE["AdamW"] = TORCH_STATE["Adam"]


def run_torch(class_name, kwargs, *, foreach, default_dtype="float64"):
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default_dtype))   # NAdam's mu_product's dtype
    try:
        param = torch.nn.Parameter(torch.from_numpy(problem.THETA0.copy()))
        opt = getattr(torch.optim, class_name)([param], foreach=foreach, **kwargs)
        trajectory, grads = [], []
        for t in range(1, STEPS + 1):
            g = problem.gradient(param.detach().numpy().copy(), t)
            param.grad = torch.from_numpy(g)
            opt.step()
            trajectory.append(param.detach().numpy().copy())
            grads.append(g)
    finally:
        torch.set_default_dtype(before)
    state = opt.state[param]
    assert int(state["step"]) == STEPS
    final = {ours: state[theirs].detach().numpy().copy()
             for theirs, ours in TORCH_STATE[class_name].items() if theirs in state}
    return np.array(trajectory), np.array(grads), final


def record_torch(names):
    import torch

    versions = [f"torch {torch.__version__}", *base_versions()]
    for name, (class_name, kwargs) in TORCH_CASES.items():
        if names and name not in names:
            continue
        trajectory, grads, final = run_torch(class_name, kwargs, foreach=False)
        trajectory_foreach, _, _ = run_torch(class_name, kwargs, foreach=True)
        foreach_diff = float(np.max(np.abs(trajectory - trajectory_foreach)))
        assert foreach_diff < 1e-14, (name, foreach_diff)
        extra = {"foreach_max_abs_diff": np.float64(foreach_diff)}
        described = f"torch.optim.{class_name} (foreach=False)"
        if class_name == "NAdam":
            float32_run, _, _ = run_torch(class_name, kwargs, foreach=False,
                                          default_dtype="float32")
            extra["float32_scalars_max_abs_diff"] = np.float64(
                np.max(np.abs(trajectory - float32_run)))
            described += ", torch.set_default_dtype(torch.float64)"
            print(f"  float32 default dtype vs float64: max |Δθ| = "
                  f"{extra['float32_scalars_max_abs_diff']:.2e}")
        save(name, framework="torch", optimizer=f"torch.optim.{class_name}",
             optimizer_class=described, kwargs=kwargs, versions=versions,
             trajectory=trajectory, grads=grads, final=final, theta0=problem.THETA0,
             extra=extra)
        print(f"  foreach=True vs False: max |Δθ| = {foreach_diff:.2e}")


def record_keras(names):
    if names and not names & set(KERAS_CASES):
        return
    backend = os.environ.setdefault("KERAS_BACKEND", "torch")
    if backend != "torch":
        raise SystemExit(f"run with KERAS_BACKEND=torch (got {backend!r})")
    import keras
    import torch

    assert keras.backend.backend() == "torch"
    versions = [f"keras {keras.__version__}", "KERAS_BACKEND torch",
                f"torch {torch.__version__}", *base_versions()]
    theta0 = problem.THETA0.astype(np.float32)
    for name, kwargs in KERAS_CASES.items():
        if names and name not in names:
            continue
        var = keras.Variable(theta0.copy(), dtype="float32")
        opt = keras.optimizers.Adam(**kwargs)
        trajectory, grads = [], []
        for t in range(1, STEPS + 1):
            g = problem.gradient(keras.ops.convert_to_numpy(var), t)
            opt.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
            trajectory.append(keras.ops.convert_to_numpy(var).copy())
            grads.append(g)
        assert int(keras.ops.convert_to_numpy(opt.iterations)) == STEPS
        final = {"m": opt._momentums[0], "v": opt._velocities[0]}
        if kwargs.get("amsgrad"):
            final["v_max"] = opt._velocity_hats[0]
        final = {k: keras.ops.convert_to_numpy(x).copy() for k, x in final.items()}
        cls = type(opt)
        save(name, framework="keras", optimizer="keras.optimizers.Adam",
             optimizer_class=f"{cls.__module__}.{cls.__qualname__}", kwargs=kwargs,
             versions=versions, trajectory=np.array(trajectory), grads=np.array(grads),
             final=final, theta0=theta0)


def save(name, *, framework, optimizer, optimizer_class, kwargs, versions,
         trajectory, grads, final, theta0, extra=None):
    assert trajectory.shape == grads.shape == (STEPS, problem.N)
    assert trajectory.dtype == grads.dtype == theta0.dtype
    path = FIXTURES / f"ref_{name}.npz"
    np.savez_compressed(
        path, framework=np.array(framework), optimizer=np.array(optimizer),
        optimizer_class=np.array(optimizer_class), kwargs_json=np.array(json.dumps(kwargs)),
        meta_versions=np.array(versions), theta0=theta0, trajectory=trajectory,
        grads=grads, **final, **(extra or {}))
    print(f"{path.relative_to(HERE.parent.parent)}: {optimizer}({json.dumps(kwargs)}) "
          f"{trajectory.dtype}, {path.stat().st_size} bytes")


def main(names=()):
    """Record the cases called ``names`` (all of them if none)."""
    names = set(names)
    unknown = names - set(TORCH_CASES) - set(KERAS_CASES)
    if unknown:
        raise SystemExit(f"unknown cases {sorted(unknown)}")
    FIXTURES.mkdir(exist_ok=True)
    record_torch(names)
    record_keras(names)


if __name__ == "__main__":
    main(sys.argv[1:])
