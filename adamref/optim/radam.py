"""RAdam (Liu et al., 2020): Adam whose adaptive step is switched on only once
the variance of ``1/√v̂`` is finite, and then scaled down by a rectification
factor ``r_t`` that tends to 1.

Liu et al. approximate the EMA ``v_t`` by a simple moving average of
``ρ_t`` squared gradients, with

    ρ_∞ = 2/(1 − β2) − 1,        ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t)

(ρ_1 = 1, growing to ρ_∞).  For Gaussian gradients of variance σ², the
adaptive factor ``ψ_t = √((1 − β2^t)/v_t)`` is then a scaled inverse-χ
variable with ρ_t degrees of freedom: its variance is infinite for ρ_t ≤ 2
(``adaptive_variance``) and about ``ρ/(2(ρ − 2)(ρ − 4)σ²)`` beyond
(``adaptive_variance_approx``).  ``r_t = √(Var_∞/Var_t)`` of that
approximation is ``rectification``.  The optimizer follows
``torch.optim.RAdam``: while ρ_t ≤ 5 it takes the momentum step
``α·m̂_t`` (no adaptive factor at all), afterwards
``α·r_t·m̂_t·√(1 − β2^t)/(√v_t + ε)`` (note: ε added to √v, not to √v̂).
"""

from __future__ import annotations

import math

import numpy as np
from numpy import add, divide, multiply, sqrt

from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.optim.engine import UPDATE_POLICY
from adamref.optim.optimizer import as_weak_scalar, power_table

#: RAdam takes the adaptive step once ρ_t exceeds this (PyTorch's and the
#: authors' threshold; the variance is finite from ρ_t > 4).
RHO_THRESHOLD = 5.0


# -- the chapter's pure functions --------------------------------------------------------
def _beta2(beta2) -> float:
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    if isinstance(beta2, np.ndarray):
        raise TypeError(f"beta2 must be a number, got an array of shape {beta2.shape}")
    return beta2


def rho_inf(beta2=0.999) -> float:
    """``ρ_∞ = 2/(1 − β2) − 1``, the length of the simple moving average that
    the EMA of squared gradients stands for (1999 at β2 = 0.999)."""
    return _rho_inf(_beta2(beta2))


def _rho_inf(beta2):
    """``ρ_∞`` of a validated β2, a number or (in the optimizer) an array."""
    return 2 / (1 - beta2) - 1


def _rho(t, beta2_t, rho_max):
    """``ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t)`` from t, β2^t and ρ_∞."""
    return rho_max - 2 * t * beta2_t / (1 - beta2_t)


def rho(t, beta2=0.999):
    """``ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t)`` for an integer (array) ``t >= 1``
    (β2^t by repeated multiplication: the same bits on every CPU)."""
    t = check.step_counts("t", t)
    beta2 = _beta2(beta2)
    powers = power_table(beta2, 1, int(t.max()))[t - 1]          # β2^t
    return _rho(t, powers, _rho_inf(beta2))


def _rectified_ratio(rho_t, rho_max):
    """``r_t²``: ``(ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)``."""
    return (rho_t - 4) * (rho_t - 2) * rho_max / ((rho_max - 4) * (rho_max - 2) * rho_t)


def rectification(t, beta2=0.999):
    """``r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))``, where ρ_t > 4
    (NaN elsewhere: the approximate variance it comes from is not finite).
    RAdam uses it where ρ_t > 5 (``RHO_THRESHOLD``)."""
    rho_t, rho_max = rho(t, beta2), rho_inf(beta2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = _rectified_ratio(rho_t, rho_max)
        return np.where(rho_t > 4, np.sqrt(np.where(rho_t > 4, ratio, 0.0)), np.nan)


def _degrees(rho_values) -> np.ndarray:
    values = np.asarray(rho_values, dtype=float)
    if values.size == 0 or np.any(~(values > 0)) or np.any(np.isinf(values)):
        raise ValueError(f"rho must be finite and > 0, got {rho_values!r:.60}")
    return values


def adaptive_variance(rho_values, sigma=1.0):
    """``Var[ψ]`` for ``ψ² ~ Scale-inv-χ²(ρ, 1/σ²)`` (Liu et al., 2020, Theorem 1),
    i.e. ``ψ = √(ρ/X)/σ`` with ``X ~ χ²_ρ``:

        E[ψ²] = ρ/((ρ − 2)σ²),   E[ψ] = √(ρ/2)·Γ((ρ − 1)/2)/(Γ(ρ/2)·σ),

    ``Var[ψ] = E[ψ²] − E[ψ]²`` (the paper writes ``E[ψ]²`` with a Beta
    function).  ``inf`` for ρ ≤ 2, where ``E[ψ²]`` is infinite."""
    values = _degrees(rho_values)
    sigma = check.positive_number("sigma", sigma)
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.sqrt(values / 2) * np.exp(lgamma((values - 1) / 2) - lgamma(values / 2))
        variance = values / (values - 2) - mean * mean
    return np.where(values > 2, variance, np.inf) / sigma**2


def adaptive_variance_approx(rho_values, sigma=1.0):
    """Liu et al.'s first-order approximation ``Var[ψ] ≈ ρ/(2(ρ − 2)(ρ − 4)σ²)``,
    from which ``rectification`` is derived (``inf`` for ρ ≤ 4)."""
    values = _degrees(rho_values)
    sigma = check.positive_number("sigma", sigma)
    with np.errstate(divide="ignore"):
        approx = values / (2 * (values - 2) * (values - 4))
    return np.where(values > 4, approx, np.inf) / sigma**2


# -- the optimizer -----------------------------------------------------------------------
class RAdam(Adam):
    """RAdam with ``torch.optim.RAdam``'s semantics (see the module docstring):
    ``Adam``'s hyperparameters, moments and weight decay, another step.

    - ``weight_decay`` with ``decoupled_weight_decay=False``: L2, ``g += λ·θ``;
      with ``True``: ``θ *= 1 − α·λ`` before the moments (RAdamW, as PyTorch).
    - ``maximize``: ascend (``g ← −g`` first).

    Any of ``lr, beta1, beta2, eps, weight_decay`` may be an array that
    broadcasts to each parameter's shape (K configurations in one step; with
    an array β2 each configuration switches to the adaptive step at its own
    t); ``lr`` may be a schedule.  Dtypes, NaN/Inf, overflow, aliasing and
    ``state_dict`` are as for every optimizer (``Optimizer``).
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, weight_decay=0.0,
                 decoupled_weight_decay=False, maximize=False):
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

    def _settings(self):
        return {"decoupled_weight_decay": self.decoupled_weight_decay, "maximize": self.maximize}

    def _step_constants(self, h, t):
        correction1 = 1 - self._power("beta1", t)                        # 1 − β1^t
        beta2_t = self._power("beta2", t)                                 # β2^t
        correction2 = 1 - beta2_t                                         # 1 − β2^t
        rho_max = _rho_inf(h["beta2"])                                    # ρ_∞
        rho_t = _rho(t, beta2_t, rho_max)                                 # ρ_t
        rectified = rho_t > RHO_THRESHOLD
        if isinstance(rho_t, np.ndarray):                                 # r_t, 0 where unused
            with np.errstate(invalid="ignore", divide="ignore"):
                r_t = np.sqrt(np.where(rectified, _rectified_ratio(rho_t, rho_max), 0.0))
        else:
            r_t = math.sqrt(_rectified_ratio(rho_t, rho_max)) if rectified else 0.0
        step = h["lr"] / correction1                                      # α/(1 − β1^t)
        sqrt_correction2 = (np.sqrt(correction2) if isinstance(correction2, np.ndarray)
                            else math.sqrt(correction2))                 # √(1 − β2^t)
        decay = ({"decay_factor": as_weak_scalar(1 - h["lr"] * h["weight_decay"])}
                 if self._decays else {})                                 # 1 − α·λ
        return {"rectified": rectified if isinstance(rectified, np.ndarray) and
                rectified.ndim else bool(rectified),
                "momentum_step": as_weak_scalar(step),
                "adaptive_step": as_weak_scalar(step * r_t * sqrt_correction2), **decay}

    def effective_step(self):
        """The step size per coordinate of the last step: ``α·r_t·√(1 − β2^t)/
        ((1 − β1^t)(√v + ε))`` where it was adaptive, ``α/(1 − β1^t)`` (the
        momentum step's) where it was not; ``None`` before the first step."""
        if self._buffers is None:
            return None
        out = []
        for v in self._buffers["v"]:
            c = self._constants(self.t, v.dtype)
            with np.errstate(**UPDATE_POLICY):
                adaptive = c.adaptive_step / (np.sqrt(v) + c.eps)
                out.append(np.where(np.asarray(c.rectified) != 0, adaptive,
                                    c.momentum_step * np.ones_like(v)))
        return self._structure.unflatten(out)

    def _update(self, theta, g, state, scratch, c):
        self._moments(theta, g, state, scratch, c)                        # Adam's: decay, g, m, v
        m, v = state["m"], state["v"]
        work, tmp = scratch                                                # g is no longer needed
        if isinstance(c.rectified, bool) and not c.rectified:              # ρ_t ≤ 5:
            theta -= multiply(m, c.momentum_step, out=tmp)                # θ −= α·m̂
            return
        denom = add(sqrt(v, out=tmp), c.eps, out=tmp)                     # √v + ε
        step = multiply(divide(m, denom, out=tmp), c.adaptive_step, out=tmp)  # α·r_t·m̂·√(1 − β2^t)/denom
        if not isinstance(c.rectified, bool):                              # a β2 sweep: per row
            np.copyto(step, multiply(m, c.momentum_step, out=work), where=c.rectified == 0)
        theta -= step
