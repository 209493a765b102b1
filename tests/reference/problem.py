"""The deterministic gradient oracle shared by ``record_reference.py`` (which
feeds it to PyTorch and Keras) and ``tests/optim/test_reference_fixtures.py`` (which
feeds it to adamref).  Pure NumPy, no other import.

``gradient(theta, step)`` is the gradient of a mildly ill-conditioned quadratic

    f(θ) = ½ (θ − θ*)ᵀ A (θ − θ*)

where A is symmetric positive definite with diagonal CURVATURES and a coupling
COUPLING[i] between coordinates i and i+1 (a chain over coordinates 1..5;
condition number ≈ 120), plus a fixed per-step perturbation, with some
coordinates receiving an exactly zero gradient on some steps:

- coordinate 0 is flat, uncoupled and starts near θ*, with a tiny perturbation: its
  gradients are ~1e-3, so ``eps = 1e-3`` (and Keras' ε̂ = 1e-7 against the
  uncorrected √v) visibly changes its steps;
- coordinate 1 gets a gradient only on every 4th step (sparse: m and v decay
  in between);
- coordinate 3 gets a 25× gradient spike on step 20 (AMSGrad's ``v_max`` keeps
  it for the rest of the run);
- coordinate 4 gets no gradient at all on steps 10..19 (a gap in the middle).

Bit-reproducibility: the same ``theta`` always gives the same gradient, in any
NumPy build.  The gradient is computed in float64 with element-wise ufuncs only
(no BLAS, no reductions, whose summation order can change between builds) and
rounded once to ``theta``'s dtype.  The perturbation table comes from
``np.random.default_rng(SEED)`` once, at import; the fixtures also store the
gradients the frameworks received, and the replay test checks that this module
recomputes them exactly, so a change in NumPy's generator stream is caught.
"""

from __future__ import annotations

import numpy as np

N = 6            #: number of parameters
MAX_STEPS = 64   #: the oracle is defined for steps 1..MAX_STEPS
SEED = 20150101  #: perturbation table seed

CURVATURES = np.array([0.1, 0.3, 1.0, 2.0, 5.0, 12.0])
COUPLING = np.array([0.0, 0.04, 0.04, 0.04, 0.04, 0.0])  # A[i, i+1]; diagonally dominant
THETA_STAR = np.array([0.5, -1.0, 0.75, 1.5, -0.5, 0.25])
THETA0 = np.array([0.51, 0.5, -0.25, 0.5, 0.5, -0.75])  # coordinate 0 starts near θ*
NOISE_SCALE = np.array([1e-3, 0.05, 0.05, 0.05, 0.05, 0.05])


def _tables():
    rng = np.random.default_rng(SEED)
    noise = NOISE_SCALE * rng.standard_normal((MAX_STEPS, N))
    scale = np.ones((MAX_STEPS, N))            # row t-1 multiplies step t's gradient
    scale[:, 1] = 0.0
    scale[3::4, 1] = 1.0                       # coordinate 1: steps 4, 8, 12, ...
    scale[20 - 1, 3] = 25.0                    # coordinate 3: spike on step 20
    scale[10 - 1:20 - 1, 4] = 0.0              # coordinate 4: nothing on steps 10..19
    for table in (noise, scale):
        table.flags.writeable = False
    return noise, scale


NOISE, SCALE = _tables()


def gradient(theta, step: int) -> np.ndarray:
    """The gradient handed to the optimizer for update number ``step`` (1-based),
    at parameters ``theta`` (shape ``(N,)``, float32 or float64); returned in
    ``theta``'s dtype."""
    theta = np.asarray(theta)
    if theta.shape != (N,) or theta.dtype not in (np.float32, np.float64):
        raise ValueError(f"theta must be a float32/float64 array of shape ({N},), "
                         f"got {theta.dtype} {theta.shape}")
    if not 1 <= step <= MAX_STEPS:
        raise ValueError(f"step must be in 1..{MAX_STEPS}, got {step}")
    x = theta.astype(np.float64) - THETA_STAR
    coupled = COUPLING * np.roll(x, -1) + np.roll(COUPLING, 1) * np.roll(x, 1)
    g = CURVATURES * x + coupled + NOISE[step - 1]
    g = g * SCALE[step - 1]                    # exact zeros where the scale is 0
    return g.astype(theta.dtype)


def condition_number() -> float:
    """cond(A), for the docstring's claim (uses LAPACK; not on the replay path)."""
    upper = COUPLING[:, None] * np.roll(np.eye(N), 1, axis=1)   # A[i, i+1] = COUPLING[i]
    a = np.diag(CURVATURES) + upper + upper.T
    eig = np.linalg.eigvalsh(a)
    return float(eig[-1] / eig[0])
