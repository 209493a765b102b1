"""Adam (Kingma & Ba, 2015, Algorithm 1) and its variants.

``adam_update`` is the algorithm as printed in the paper, as a pure function.
``Adam`` is the same algorithm as an in-place, allocation-free optimizer with
the switches the frameworks disagree on (AMSGrad, L2 vs decoupled weight
decay, the ε̂ form used by Keras/TensorFlow, bias correction on/off).
"""

from __future__ import annotations

import numpy as np

from adamref.optim import validation as check
from adamref.optim.optimizer import (CHECK_POLICY, UPDATE_POLICY, Optimizer, as_weak_scalar,
                                     overflow_error, power)


def adam_update(theta, grad, m, v, t,
                lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Algorithm 1 of Kingma & Ba; returns new (theta, m, v).

    t is the number of this step: the first update has t = 1.  The inputs are
    not modified; dtypes, NaN/Inf and overflow are handled as by ``Adam.step``.
    """
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps, like=theta)
    with np.errstate(**UPDATE_POLICY):  # NaN/Inf propagate (g² overflow: checked)
        m = beta1 * m + (1 - beta1) * grad     # first moment
        v = beta2 * v + (1 - beta2) * grad**2  # second raw moment
        m_hat = m / (1 - beta1**t)             # bias-corrected m
        v_hat = v / (1 - beta2**t)             # bias-corrected v
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v


#: Adam's four hyperparameters under their adamref/PyTorch names.
ADAM_NAMES = ("lr", "beta1", "beta2", "eps")


def checked_hyperparameters(lr, beta1, beta2, eps, *, names=ADAM_NAMES, like=None):
    """Adam's four hyperparameters, validated (shared by every Adam variant).

    ``names`` are the caller's names for them, for the error messages
    (``keras_adam`` says ``learning_rate``).  With ``like`` (an array), array
    values must broadcast to its shape and are cast to its dtype, as ``Adam``
    does: float32 in, float32 out.
    """
    values = (check.hyperparameter(names[0], lr, low=0.0),
              check.hyperparameter(names[1], beta1, low=0.0, high=1.0, high_inclusive=False),
              check.hyperparameter(names[2], beta2, low=0.0, high=1.0, high_inclusive=False),
              check.hyperparameter(names[3], eps, low=0.0))
    if like is None:
        return values
    for name, value in zip(names, values):
        check.broadcasts_to(name, value, like.shape, "theta")
    return tuple(value.astype(like.dtype) if isinstance(value, np.ndarray) else value
                 for value in values)


def _checked_arrays(**arrays):
    """Float ndarrays of one shape; NumPy float scalars count as 0-d arrays
    (arithmetic on 0-d arrays returns them, so a loop must accept them back).
    The state (``m``, ``v``) has the parameter's dtype and the gradient is
    computed in it, as in ``Adam``; a squared gradient must fit in it."""
    arrays = {name: np.asarray(value) if isinstance(value, np.floating) else value
              for name, value in arrays.items()}
    first_name, first = next(iter(arrays.items()))
    for name, value in arrays.items():
        check.float_array(name, value)
        check.same_shape(name, value, first_name, first)
    for name in ("m", "v"):
        if arrays[name].dtype != first.dtype:
            raise TypeError(f"{name} must have the dtype of {first_name} ({first.dtype}), "
                            f"got dtype {arrays[name].dtype}")
    grad = arrays["grad"]
    try:
        with np.errstate(**CHECK_POLICY):
            np.square(grad.astype(first.dtype, copy=False))
    except FloatingPointError as error:
        raise overflow_error("grad", error, first.dtype, grad) from None
    if np.any(arrays["v"] < 0):
        raise ValueError("v must be >= 0 (an average of squares), got "
                         f"{float(arrays['v'][arrays['v'] < 0].flat[0])!r}")
    arrays["grad"] = grad.astype(first.dtype, copy=False)
    return arrays.values()


class Adam(Optimizer):
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
    ``lr`` of shape ``(K, 1, ...)`` run K configurations in one step.

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
        self.bias_correction = check.flag("bias_correction", bias_correction)
        self.maximize = check.flag("maximize", maximize)
        self._l2 = self._l2 and not self.decoupled_weight_decay

    lr = property(lambda self: self._hyper["lr"])
    beta1 = property(lambda self: self._hyper["beta1"])
    beta2 = property(lambda self: self._hyper["beta2"])
    eps = property(lambda self: self._hyper["eps"])
    weight_decay = property(lambda self: self._hyper["weight_decay"])
    m = property(lambda self: self._state("m"), doc="First moment (EMA of g).")
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

    def _step_constants(self):
        h, t = self._hyper, self.t
        if self.bias_correction:
            correction1 = 1 - power(h["beta1"], t)       # 1 − β1^t
            correction2 = 1 - power(h["beta2"], t)       # 1 − β2^t
        else:
            correction1 = correction2 = 1.0
        constants = dict(
            one_minus_beta1=1 - h["beta1"],
            one_minus_beta2=1 - h["beta2"],
            step_size=h["lr"] / correction1,             # α / (1 − β1^t)
            sqrt_correction2=np.sqrt(correction2),       # √(1 − β2^t)
            decay_factor=1 - h["lr"] * h["weight_decay"])
        constants = {k: as_weak_scalar(x) for k, x in constants.items()}
        constants["alpha_t"] = {}   # ε̂ form's α_t per parameter dtype, filled on first use
        return constants

    def _update(self, theta, grad, buffers, scratch, c):
        m, v = buffers["m"], buffers["v"]
        work, tmp = scratch
        if self.decoupled_weight_decay and np.any(c["weight_decay"] != 0):
            theta *= c["decay_factor"]                      # AdamW: θ ← (1 − α·λ)·θ
        grad = self._effective_gradient(theta, grad, work, tmp, c)   # −g; L2: g + λ·θ
        # m ← m + (1 − β1)(g − m)      (= β1·m + (1 − β1)·g)
        np.subtract(grad, m, out=tmp)
        tmp *= c["one_minus_beta1"]
        m += tmp
        # v ← v + (1 − β2)(g² − v)     (= β2·v + (1 − β2)·g²)
        np.multiply(grad, grad, out=tmp)
        tmp -= v
        tmp *= c["one_minus_beta2"]
        v += tmp
        if self.amsgrad:                                    # v_max ← max(v_max, v)
            v = np.maximum(buffers["v_max"], v, out=buffers["v_max"])
        denom = np.sqrt(v, out=tmp)
        if self.epsilon_hat:
            denom += c["eps"]                                # √v + ε̂
            step = np.divide(m, denom, out=tmp)
            step *= self._epsilon_hat_step_size(c, theta.dtype)  # α_t·m / (√v + ε̂)
        else:
            denom /= c["sqrt_correction2"]                   # √v̂ = √v / √(1 − β2^t)
            denom += c["eps"]                                # √v̂ + ε
            step = np.divide(m, denom, out=tmp)
            step *= c["step_size"]                           # α·m̂ / (√v̂ + ε)
        theta -= step

    def _epsilon_hat_step_size(self, c, dtype):
        """α_t = α·√(1 − β2^t)/(1 − β1^t), computed as Keras/TensorFlow do: in the
        parameter's dtype, from α, β1, β2 and t cast to it (in float32,
        float32(0.999) = 0.99900001, which shifts α_t by ~6e-6 relative).
        Computed once per step and dtype, not once per chunk."""
        cache = c["alpha_t"]
        if dtype not in cache:
            if self.bias_correction:
                lr, beta1, beta2, t = (np.asarray(x, dtype) for x in
                                       (c["lr"], c["beta1"], c["beta2"], self.t))
                one = dtype.type(1)
                cache[dtype] = lr * np.sqrt(one - np.power(beta2, t)) / (one - np.power(beta1, t))
            else:
                cache[dtype] = np.asarray(c["lr"], dtype)
        return cache[dtype]


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
