"""AdaMax (Kingma & Ba, 2015, Sec. 7.1): Adam with the L∞ norm in place of the L2."""

from __future__ import annotations

from numpy import absolute, add, divide, maximum, multiply, subtract

from adamref.optim import validation as check
from adamref.optim.functional import checked_hyperparameters
from adamref.optim.optimizer import Optimizer, as_weak_scalar


class AdaMax(Optimizer):
    """``u_t = max(β2·u_{t−1}, |g_t|)``, ``θ −= (α/(1−β1^t))·m_t/u_t``.

    As in PyTorch, ``eps`` is added to ``|g|`` inside the max so that a
    coordinate whose gradient has always been zero does not divide 0 by 0.
    Defaults are the paper's (α = 0.002).
    """

    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, weight_decay=0.0,
                 maximize=False):
        lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
        weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)
        self.maximize = check.flag("maximize", maximize)

    m = property(lambda self: self._state("m"), doc="First moment (EMA of g).")
    u = property(lambda self: self._state("u"), doc="Exponentially weighted infinity norm.")

    _nonnegative_buffers = ("u",)

    def _settings(self):
        return {"maximize": self.maximize}

    def _buffer_names(self):
        return ("m", "u")

    def _fixed_constants(self, h):
        return {"one_minus_beta1": as_weak_scalar(1 - h["beta1"])}

    def _step_constants(self, h, t):
        return {"step_size": as_weak_scalar(h["lr"] / (1 - self._power("beta1", t)))}

    def _update(self, theta, g, state, scratch, c):
        m, u, tmp = state["m"], state["u"], scratch[1]
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        m += multiply(subtract(g, m, out=tmp), c.one_minus_beta1, out=tmp)  # m += (1 − β1)(g − m)
        maximum(multiply(u, c.beta2, out=u), add(absolute(g, out=tmp), c.eps, out=tmp),
                out=u)                                                     # u ← max(β2·u, |g| + ε)
        theta -= multiply(divide(m, u, out=tmp), c.step_size, out=tmp)    # θ −= α/(1 − β1^t)·m/u
