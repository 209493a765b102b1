"""Record reference trajectories from Optax (``optax.yogi``, ``optax.adabelief``,
``optax.lion``) into ``tests/optim/fixtures/ref_optax_*.npz``, in the format of
``record_reference.py`` (whose ``save`` writes them) with the same oracle
``problem.py``, for ``tests/optim/test_reference_fixtures.py`` to replay.

Run BY HAND, never in CI (the project's venv has no JAX, and must not get it).
In a throwaway venv outside the repo:

    python3 -m venv /work/venv-jax
    /work/venv-jax/bin/pip install numpy jax optax
    /work/venv-jax/bin/python tests/reference/record_optax.py

(from the repository root; optional arguments name the cases to record).  The
fixtures were recorded with Python 3.11.7, numpy 2.4.6, jax 0.10.2 (CPU) and
optax 0.2.8; ``meta_versions`` holds the versions of each.

JAX runs in float64 (``jax.config.update("jax_enable_x64", True)``), one
operation at a time (no ``jit``: each ``jnp`` operation rounds like NumPy's).
At each step the gradient is computed by ``problem.gradient`` from Optax's
current parameters and handed over as a float64 array; the step is
``updates, state = opt.update(g, state, params)``,
``params = optax.apply_updates(params, updates)``.  The same run with
``jax.jit(opt.update)`` (where XLA may fuse operations) is compared with it
and its largest |θ| difference stored as ``jit_max_abs_diff``.

State after step T, under adamref's buffer names: Yogi ``m``, ``v`` (Optax
``ScaleByAdamState.mu``/``nu``), AdaBelief ``m``, ``s`` (``ScaleByBeliefState.mu``/
``nu``), Lion ``m`` (``ScaleByLionState.mu``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import problem  # noqa: E402  (this directory, on sys.path above)
from record_reference import STEPS, base_versions, save  # noqa: E402

# name -> (optax function, keyword arguments); all float64.
OPTAX_CASES = {
    "optax_yogi": ("yogi", {"learning_rate": 1e-2}),
    # eps = 1e-6 is far below √v̂ of coordinate 0 (gradients ~1e-3), where 1e-3 is not
    "optax_yogi_betas_eps": ("yogi", {"learning_rate": 1e-2, "b1": 0.5, "b2": 0.9,
                                      "eps": 1e-6}),
    "optax_adabelief": ("adabelief", {"learning_rate": 1e-2}),
    "optax_adabelief_eps": ("adabelief", {"learning_rate": 1e-2, "b2": 0.99, "eps": 1e-8,
                                          "eps_root": 1e-10}),
    "optax_lion": ("lion", {"learning_rate": 1e-3}),
    "optax_lion_betas_decay": ("lion", {"learning_rate": 3e-3, "b1": 0.95, "b2": 0.98,
                                        "weight_decay": 0.1}),
}

# Optax's state fields (of the chain's first transformation) -> adamref's buffer names.
OPTAX_STATE = {"yogi": {"mu": "m", "nu": "v"}, "adabelief": {"mu": "m", "nu": "s"},
               "lion": {"mu": "m"}}
OPTAX_CLASS = {"yogi": "scale_by_yogi", "adabelief": "scale_by_belief", "lion": "scale_by_lion"}


def run_optax(function, kwargs, *, jit):
    import jax
    import jax.numpy as jnp
    import optax

    opt = getattr(optax, function)(**kwargs)
    update = jax.jit(opt.update) if jit else opt.update
    params = jnp.asarray(problem.THETA0.copy())
    assert params.dtype == jnp.float64
    state = opt.init(params)
    trajectory, grads = [], []
    for t in range(1, STEPS + 1):
        g = problem.gradient(np.array(params), t)
        updates, state = update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        trajectory.append(np.array(params))
        grads.append(g)
    first = state[0]
    assert int(first.count) == STEPS
    final = {ours: np.array(getattr(first, theirs))
             for theirs, ours in OPTAX_STATE[function].items()}
    return np.array(trajectory), np.array(grads), final


def main(names=()):
    import jax
    jax.config.update("jax_enable_x64", True)
    import optax

    names = set(names)
    unknown = names - set(OPTAX_CASES)
    if unknown:
        raise SystemExit(f"unknown cases {sorted(unknown)}")
    versions = [f"optax {optax.__version__}", f"jax {jax.__version__}", *base_versions()]
    for name, (function, kwargs) in OPTAX_CASES.items():
        if names and name not in names:
            continue
        trajectory, grads, final = run_optax(function, kwargs, jit=False)
        jitted, _, _ = run_optax(function, kwargs, jit=True)
        jit_diff = float(np.max(np.abs(trajectory - jitted)))
        save(name, framework="optax", optimizer=f"optax.{function}",
             optimizer_class=f"optax.{function} (optax.{OPTAX_CLASS[function]}, eager)",
             kwargs=kwargs, versions=versions, trajectory=trajectory, grads=grads,
             final=final, theta0=problem.THETA0,
             extra={"jit_max_abs_diff": np.float64(jit_diff)})
        print(f"  jit vs eager: max |Δθ| = {jit_diff:.2e}")


if __name__ == "__main__":
    main(sys.argv[1:])
