"""Adam (Kingma & Ba, 2015, Algorithm 1) and its variants.

``Adam`` is the algorithm as an in-place, allocation-free optimizer with the
switches the frameworks disagree on (AMSGrad, L2 vs decoupled weight decay, the
ε̂ form used by Keras/TensorFlow, bias correction on/off).  Its pure forms are
in ``adamref.optim.functional``: ``adam_update`` (the paper's lines) and
``adam_variant_update`` (this class's operation order, every switch).
"""

from __future__ import annotations

import math

import numpy as np
from numpy import add, divide, maximum, multiply, sqrt, subtract

from adamref.optim import validation as check
from adamref.optim.engine import UPDATE_POLICY
from adamref.optim.functional import checked_hyperparameters
from adamref.optim.optimizer import Optimizer, as_weak_scalar


class AdamMoments:
    """What ``Adam`` shares with NAdam (``adamref.optim.family``): the read-only
    hyperparameters, the first moment ``m``, and the first lines of the step."""

    lr = property(lambda self: self._hyper["lr"])
    beta1 = property(lambda self: self._hyper["beta1"])
    beta2 = property(lambda self: self._hyper["beta2"])
    eps = property(lambda self: self._hyper["eps"])
    weight_decay = property(lambda self: self._hyper["weight_decay"])
    m = property(lambda self: self._state("m"), doc="First moment (EMA of g).")

    def _moments(self, theta, g, state, scratch, c):
        """The decoupled decay, the effective gradient (returned), m and v, in place."""
        m, v, tmp = state["m"], state["v"], scratch[1]
        if self._decays:
            theta *= c.decay_factor                                        # θ ← (1 − α·λ)·θ
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        m += multiply(subtract(g, m, out=tmp), c.one_minus_beta1, out=tmp)  # m += (1 − β1)(g − m)
        v += multiply(subtract(multiply(g, g, out=tmp), v, out=tmp),       # v += (1 − β2)(g² − v)
                      c.one_minus_beta2, out=tmp)
        return g


class Adam(AdamMoments, Optimizer):
    """Adam with PyTorch's conventions, plus the switches the book compares.

    - ``amsgrad``: keep the running max of the raw ``v`` and bias-correct it
      (PyTorch, Keras).  Its buffer is ``v_max``.
    - ``weight_decay`` with ``decoupled_weight_decay=False``: L2, ``g += wd·θ``
      (``torch.optim.Adam``).  With ``decoupled_weight_decay=True``:
      ``θ *= 1 − lr·wd`` before the moments (``torch.optim.AdamW``, Keras).
    - ``epsilon_hat``: the paper's Sec. 2 reordering used by Keras/TensorFlow,
      ``α_t = lr·√(1−β2^t)/(1−β1^t)``, ``θ −= α_t·m/(√v + ε)``.
    - ``bias_correction=False`` drops ``1/(1−β^t)`` (for the bias-correction chapter).
    - ``maximize``: ascend instead of descend (``g ← −g`` first, as PyTorch).

    Any of ``lr, beta1, beta2, eps, weight_decay`` may be an array that
    broadcasts to each parameter's shape: parameters of shape ``(K, ...)`` with
    ``lr`` of shape ``(K, 1, ...)`` run K configurations in one step.  ``lr``
    may also be a schedule of the step t (``adamref.optim.schedules``).

    The moments are updated as Keras writes them, ``m += (1 − β1)(g − m)`` and
    ``v += (1 − β2)(g² − v)``, so that Keras' float32 runs are reproduced bit
    for bit; PyTorch's ``v ← β2·v + (1 − β2)·g²`` agrees to rounding.  At
    β2 = 0 exactly the two differ by more: when g² is below half an ulp of the
    previous v, ``g² − v`` rounds to −v and v becomes 0 (as in Keras), where
    PyTorch's form gives g².

    Dtypes, NaN/Inf, overflow and aliasing are handled as by every optimizer
    (see ``Optimizer``): in short, float32 stays float32, NaN/Inf propagate, a
    finite gradient whose square overflows is refused, and a call that raises
    changes nothing.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, amsgrad=False,
                 weight_decay=0.0, decoupled_weight_decay=False, epsilon_hat=False,
                 bias_correction=True, maximize=False):
        lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
        weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)
        self.amsgrad = check.flag("amsgrad", amsgrad)
        self.decoupled_weight_decay = check.flag("decoupled_weight_decay", decoupled_weight_decay)
        self.epsilon_hat = check.flag("epsilon_hat", epsilon_hat)
        self._computes_in_dtype = self.epsilon_hat   # α_t in the parameters' dtype
        self.bias_correction = check.flag("bias_correction", bias_correction)
        self.maximize = check.flag("maximize", maximize)
        self._decays = self.decoupled_weight_decay and bool(np.any(weight_decay != 0))
        self._l2 = self._l2 and not self.decoupled_weight_decay

    v = property(lambda self: self._state("v"), doc="Second raw moment (EMA of g²).")
    v_max = property(lambda self: self._state("v_max"),
                     doc="AMSGrad's running max of v (None unless amsgrad).")

    _squares_gradient = True
    _nonnegative_buffers = ("v", "v_max")

    def _settings(self):
        return dict(amsgrad=self.amsgrad, decoupled_weight_decay=self.decoupled_weight_decay,
                    epsilon_hat=self.epsilon_hat, bias_correction=self.bias_correction,
                    maximize=self.maximize)


    def _buffer_names(self):
        return ("m", "v", "v_max") if self.amsgrad else ("m", "v")

    def _fixed_constants(self, h):
        return {"one_minus_beta1": as_weak_scalar(1 - h["beta1"]),
                "one_minus_beta2": as_weak_scalar(1 - h["beta2"])}

    def _step_constants(self, h, t):
        decay = ({"decay_factor": as_weak_scalar(1 - h["lr"] * h["weight_decay"])}  # 1 − α_t·λ
                 if self._decays else {})
        if not self.bias_correction:
            return {"step_size": h["lr"], "sqrt_correction2": 1.0, **decay}
        correction1 = 1 - self._power("beta1", t)        # 1 − β1^t
        correction2 = 1 - self._power("beta2", t)        # 1 − β2^t
        return {"step_size": as_weak_scalar(h["lr"] / correction1),   # α_t / (1 − β1^t)
                "sqrt_correction2": (math.sqrt(correction2) if isinstance(correction2, float)
                                     else np.sqrt(correction2)),       # √(1 − β2^t)
                **decay}

    def _dtype_constants(self, c, t, dtype):
        """The ε̂ form's α_t = α·√(1 − β2^t)/(1 − β1^t), computed as Keras and
        TensorFlow do: in the parameter's dtype, from α, β1, β2 and t cast to it
        (in float32, float32(0.999) = 0.99900001, which shifts α_t by ~6e-6
        relative)."""
        if not self.epsilon_hat:
            return {}
        lr, beta1, beta2, t = (np.asarray(x, dtype) for x in (c["lr"], c["beta1"], c["beta2"], t))
        if not self.bias_correction:
            return {"alpha_t": lr}
        one = dtype.type(1)
        return {"alpha_t": lr * np.sqrt(one - np.power(beta2, t)) / (one - np.power(beta1, t))}

    def effective_step(self):
        """The step size per coordinate of the last step, ``α_t/(√v̂_t + ε)``
        (``v̂`` from ``v_max`` with AMSGrad; ``α_t/(√v + ε̂)`` in the ε̂ form),
        computed as the step computed it, in the structure of the params;
        ``None`` before the first step."""
        if self._buffers is None:
            return None
        out = []
        for v in self._buffers["v_max" if self.amsgrad else "v"]:
            c = self._constants(self.t, v.dtype)
            with np.errstate(**UPDATE_POLICY):
                out.append(c.alpha_t / (np.sqrt(v) + c.eps) if self.epsilon_hat else
                           c.lr / (np.sqrt(v) / c.sqrt_correction2 + c.eps))
        return self._structure.unflatten(out)

    def _update(self, theta, g, state, scratch, c):
        m, v, tmp = state["m"], state["v"], scratch[1]
        self._moments(theta, g, state, scratch, c)                        # decay, m and v
        if self.amsgrad:
            v = maximum(state["v_max"], v, out=state["v_max"])             # v_max ← max(v_max, v)
        if self.epsilon_hat:                                               # Keras' ε̂ form:
            denom = add(sqrt(v, out=tmp), c.eps, out=tmp)                  # √v + ε̂
            theta -= multiply(divide(m, denom, out=tmp), c.alpha_t, out=tmp)  # θ −= α_t·m/denom
        else:                                                              # √v̂ = √v/√(1 − β2^t)
            denom = add(divide(sqrt(v, out=tmp), c.sqrt_correction2, out=tmp), c.eps,
                        out=tmp)                                           # √v̂ + ε
            theta -= multiply(divide(m, denom, out=tmp), c.step_size, out=tmp)  # θ −= α·m̂/denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's defaults."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(lr, beta1, beta2, eps, amsgrad=amsgrad, weight_decay=weight_decay,
                         decoupled_weight_decay=True, maximize=maximize)


def keras_adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
               amsgrad=False, weight_decay=None) -> Adam:
    """An ``Adam`` that computes what ``keras.optimizers.Adam`` computes:
    ε̂ form with ε = 1e-7, and Keras' (always decoupled) weight decay.
    Errors name Keras' keywords (``learning_rate``, ``beta_1``, ...)."""
    learning_rate, beta_1, beta_2, epsilon = checked_hyperparameters(
        learning_rate, beta_1, beta_2, epsilon,
        names=("learning_rate", "beta_1", "beta_2", "epsilon"))
    return Adam(learning_rate, beta_1, beta_2, epsilon, amsgrad=amsgrad,
                weight_decay=0.0 if weight_decay is None else weight_decay,
                decoupled_weight_decay=True, epsilon_hat=True)
