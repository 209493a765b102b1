"""The frameworks chapter's computations.  The Adam variants that
``adamref.Adam``'s switches do not cover are pure functions in
``adamref.optim.functional``; the chapter compares them:

- ``optax_adam_update``: Optax's ``scale_by_adam`` with ``eps_root`` (ε inside
  the square root as well as outside).
- ``optax_amsgrad_update``: Optax's ``scale_by_amsgrad``, whose running max is
  taken over the *bias-corrected* ν̂ (PyTorch and Keras take it over the raw v).
- ``paper_adamw_update``: Algorithm 2 of Loshchilov & Hutter, where the decay is
  multiplied by the schedule multiplier η_t but not by α.
- ``l2_fixed_point`` / ``decoupled_fixed_point``: where Adam with L2 and Adam
  with decoupled decay come to rest on a noisy 1-D quadratic.

Sources: optax/_src/transform.py (``scale_by_adam``, ``scale_by_amsgrad``) and
optax/_src/alias.py (``adamw``) in google-deepmind/optax.  NumPy only.
"""

from __future__ import annotations

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import Adam, keras_adam
from adamref.problems.objectives import noisy_gradient
from adamref.problems.runs import trajectory
from adamref.optim.functional import OptaxAMSGrad


def _decay_problem(curvature, minimum, weight_decay):
    c = check.hyperparameter("curvature", curvature, low=0.0)
    lam = check.hyperparameter("weight_decay", weight_decay, low=0.0)
    if np.any(np.asarray(c) == 0):
        raise ValueError(f"curvature must be > 0, got {curvature!r}")
    minimum = np.asarray(minimum, dtype=float) if not isinstance(minimum, np.ndarray) \
        else minimum.astype(float)
    if not np.all(np.isfinite(minimum)):
        raise ValueError(f"minimum must be finite, got {minimum!r}")
    return c, minimum, lam


def l2_fixed_point(curvature, minimum, weight_decay):
    """Rest point of Adam with L2 decay (``g ← g + λθ``) on
    ``f(θ) = ½c(θ − θ*)²``: the mean effective gradient vanishes, so
    ``θ = c·θ*/(c + λ)``, whatever the gradient noise.  Broadcasts."""
    c, minimum, lam = _decay_problem(curvature, minimum, weight_decay)
    return c * minimum / (c + lam)


def decoupled_fixed_point(curvature, minimum, noise, weight_decay, eps=1e-8):
    """Mean-field rest point of Adam with decoupled decay on ``f(θ) = ½c(θ − θ*)²``
    with gradient noise of standard deviation ``noise``.

    With m̂ ≈ E g = c(θ − θ*) and v̂ ≈ E g² = c²(θ − θ*)² + σ², the mean update
    vanishes where ``c(θ − θ*)/(√(c²(θ − θ*)² + σ²) + ε) + λθ = 0``: the decay
    competes with the *normalized* gradient, so noisy coordinates are pulled
    further towards 0.  The left side increases with θ; the root lies between 0
    and θ* and is found by bisection (vectorized, broadcasts)."""
    c, minimum, lam = _decay_problem(curvature, minimum, weight_decay)
    sigma = check.hyperparameter("noise", noise, low=0.0)
    eps = check.hyperparameter("eps", eps, low=0.0)
    lo, hi = np.broadcast_arrays(np.minimum(0.0, minimum), np.maximum(0.0, minimum))
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    c, sigma, lam, minimum, eps = np.broadcast_arrays(c, sigma, lam, minimum, eps)

    def residual(theta):
        d = c * (theta - minimum)
        return d / (np.sqrt(d**2 + sigma**2) + eps) + lam * theta

    for _ in range(200):
        mid = 0.5 * (lo + hi)
        positive = residual(mid) > 0
        hi = np.where(positive, mid, hi)
        lo = np.where(positive, lo, mid)
    out = 0.5 * (lo + hi)
    return float(out) if out.ndim == 0 else out


def amsgrad_effective_steps(grads, *, lr=1.0, beta1=0.9, beta2=0.999, eps=1e-8):
    """The effective step ``α̃_t = α/(√v̂_t + ε)`` of the two AMSGrads on the
    gradient stream ``grads`` (shape ``(T, ...)``), read from the optimizers
    after each step: ``"PyTorch"`` (``adamref.Adam(amsgrad=True)``, v̂ is the
    max of the raw v divided by ``1 − β2^t``) and ``"Optax"`` (``OptaxAMSGrad``,
    v̂ is the max of the bias-corrected ``v_s/(1 − β2^s)``).  Returns a dict of
    arrays of the shape of ``grads``."""
    grads = check.float_array("grads", grads)
    if grads.ndim < 1 or grads.shape[0] < 1:
        raise ValueError(f"grads must have shape (T, ...) with T >= 1, got shape {grads.shape}")
    torch = Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, amsgrad=True)
    optax = OptaxAMSGrad(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    shape = grads.shape[1:] if grads.ndim > 1 else (1,)
    theta_torch, theta_optax = np.zeros(shape), np.zeros(shape)
    out = {"PyTorch": np.empty((grads.shape[0], *shape)), "Optax": np.empty((grads.shape[0], *shape))}
    for t, g in enumerate(grads):
        g = np.reshape(g, shape)
        torch.step(theta_torch, g)
        optax.step(theta_optax, g)
        out["PyTorch"][t] = torch.effective_step()
        out["Optax"][t] = optax.lr / (np.sqrt(optax.v_max + optax.eps_root) + optax.eps)
    return {k: v.reshape(grads.shape) for k, v in out.items()}


def largest_growth(effective):
    """How far an effective step rises above its own running minimum:
    ``max_t α̃_t / min_{s ≤ t} α̃_s`` along axis 0 (1 exactly when α̃ never grows,
    which is the property AMSGrad's analysis needs)."""
    effective = check.float_array("effective", effective)
    if effective.ndim < 1 or effective.shape[0] < 1 or np.any(effective <= 0):
        raise ValueError(f"effective must have shape (T, ...) with positive entries, "
                         f"got shape {effective.shape}")
    return np.max(effective / np.minimum.accumulate(effective, axis=0), axis=0)


def default_settings_gap(objective, theta0, steps, *, lr=1e-3, noise=0.0, seed=0):
    """PyTorch's and Keras' Adam at their default settings (ε = 1e-8 on √v̂ and
    ε̂ = 1e-7 on √v; decay and AMSGrad off, as by default) on the same problem and
    the same gradient noise.  Returns ``(gap, travel)``: the largest
    ``|θ_PyTorch − θ_Keras|`` over the run and the largest distance the PyTorch
    run travels from ``theta0``, so that the gap can be read relative to the motion."""
    steps = check.integer("steps", steps, low=1)
    paths = [trajectory(opt, noisy_gradient(objective, noise, seed), theta0, steps)
             for opt in (Adam(lr=lr), keras_adam(learning_rate=lr))]
    gap = float(np.max(np.abs(paths[0] - paths[1])))
    travel = float(np.max(np.abs(paths[0] - paths[0][0])))
    return gap, travel
