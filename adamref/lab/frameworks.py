"""Reference functions for the Adam variants that ``adamref.Adam``'s switches do
not cover, written as pure functions in the style of ``adam_update``.

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
from adamref.optim.adam import _checked_arrays, checked_hyperparameters


def optax_adam_update(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                      eps_root=0.0):
    """One step of ``optax.adam``; returns new (theta, m, v).

    ``θ −= α·m̂/(√(v̂ + eps_root) + eps)``; with ``eps_root = 0`` this is
    ``adam_update``."""
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
    eps_root = check.hyperparameter("eps_root", eps_root, low=0.0)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat + eps_root) + eps)
    return theta, m, v


def optax_amsgrad_update(theta, grad, m, v, v_max, t, lr=1e-3, beta1=0.9, beta2=0.999,
                         eps=1e-8, eps_root=0.0):
    """One step of ``optax.amsgrad``; returns new (theta, m, v, v_max).

    ``v_max ← max(v_max, v̂)`` with the bias-corrected ``v̂ = v/(1 − β2^t)``, then
    ``θ −= α·m̂/(√(v_max + eps_root) + eps)``.  (``adamref.Adam(amsgrad=True)``,
    like PyTorch and Keras, keeps ``max(v_max, v)`` of the raw v and corrects
    afterwards.)"""
    theta, grad, m, v, v_max = _checked_arrays(theta=theta, grad=grad, m=m, v=v, v_max=v_max)
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
    eps_root = check.hyperparameter("eps_root", eps_root, low=0.0)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_max = np.maximum(v_max, v / (1 - beta2**t))
    theta = theta - lr * m_hat / (np.sqrt(v_max + eps_root) + eps)
    return theta, m, v, v_max


def paper_adamw_update(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.0, schedule_multiplier=1.0):
    """One step of AdamW as in Loshchilov & Hutter (Algorithm 2); returns (theta, m, v).

    ``θ ← θ − η_t·(α·m̂/(√v̂ + ε) + λ·θ)``: the decay is scaled by the schedule
    multiplier ``η_t`` only.  PyTorch, Keras and Optax multiply it by the learning
    rate ``η_t·α`` instead, so their ``weight_decay`` is this ``λ`` divided by α."""
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
    weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
    eta = check.hyperparameter("schedule_multiplier", schedule_multiplier, low=0.0)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - eta * (lr * m_hat / (np.sqrt(v_hat) + eps) + weight_decay * theta)
    return theta, m, v


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


class OptaxAMSGrad:
    """``optax_amsgrad_update`` with its state kept, behind the optimizers'
    ``step(params, grads)`` interface (one ndarray, updated in place)."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, eps_root=0.0):
        self.lr, self.beta1, self.beta2, self.eps = checked_hyperparameters(lr, beta1, beta2, eps)
        self.eps_root = check.hyperparameter("eps_root", eps_root, low=0.0)
        self.t = 0
        self.m = self.v = self.v_max = None

    def step(self, params, grads):
        check.float_array("params", params)
        state = ((self.m, self.v, self.v_max) if self.m is not None
                 else tuple(np.zeros_like(params) for _ in range(3)))
        new, m, v, v_max = optax_amsgrad_update(params, grads, *state, self.t + 1, self.lr,
                                                self.beta1, self.beta2, self.eps, self.eps_root)
        params[...] = new   # raises (read-only, shape) before writing anything
        # Only now, with the step done, the state moves on (a failing call changes nothing).
        self.t, self.m, self.v, self.v_max = self.t + 1, m, v, v_max
        return params
