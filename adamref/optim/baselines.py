"""The optimizers the book compares Adam with, with PyTorch's definitions:
SGD (heavy-ball or Nesterov momentum), RMSprop (Tieleman & Hinton) and
AdaGrad (Duchi et al.).  Same interface as ``Adam``."""

from __future__ import annotations

import numpy as np

from adamref.optim import validation as check
from adamref.optim.optimizer import Optimizer, as_weak_scalar


class SGD(Optimizer):
    """``b ← μ·b + (1 − dampening)·g`` (``b = g`` at the first step);
    ``θ ← θ − α·b``, or ``θ ← θ − α·(g + μ·b)`` with Nesterov."""

    def __init__(self, lr=1e-2, momentum=0.0, *, dampening=0.0, nesterov=False,
                 weight_decay=0.0, maximize=False):
        super().__init__(
            lr=check.hyperparameter("lr", lr, low=0.0),
            momentum=check.hyperparameter("momentum", momentum, low=0.0, high=1.0,
                                          high_inclusive=False),
            dampening=check.hyperparameter("dampening", dampening, low=0.0, high=1.0),
            weight_decay=check.hyperparameter("weight_decay", weight_decay, low=0.0))
        self.nesterov = check.flag("nesterov", nesterov)
        self.maximize = check.flag("maximize", maximize)
        if self.nesterov and (np.any(self._hyper["momentum"] <= 0)
                              or np.any(self._hyper["dampening"] != 0)):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={momentum!r}, dampening={dampening!r}")

    momentum_buffer = property(lambda self: self._state("momentum_buffer"))

    def _settings(self):
        return {"nesterov": self.nesterov, "maximize": self.maximize}

    def _uses_momentum(self):
        return bool(np.any(self._hyper["momentum"] != 0))

    def _buffer_names(self):
        return ("momentum_buffer",) if self._uses_momentum() else ()

    def _update(self, theta, grad, buffers, scratch, c):
        work, tmp = scratch
        h = c
        grad = self._effective_gradient(theta, grad, work, tmp, c)
        if self._uses_momentum():
            buf = buffers["momentum_buffer"]
            if self.t == 1:
                buf[...] = grad                              # b₁ = g₁
            else:
                buf *= h["momentum"]                         # b ← μ·b + (1 − d)·g
                np.multiply(grad, 1 - h["dampening"], out=tmp)
                buf += tmp
            if self.nesterov:                                # direction g + μ·b
                np.multiply(buf, h["momentum"], out=tmp)
                grad = np.add(grad, tmp, out=work)
            else:
                grad = buf
        np.multiply(grad, h["lr"], out=tmp)                  # θ ← θ − α·direction
        theta -= tmp


class RMSprop(Optimizer):
    """``v ← α_v·v + (1 − α_v)·g²``, ``θ ← θ − lr·g/(√v + ε)``; the smoothing
    constant is called ``alpha`` as in PyTorch (β2 in Adam's notation)."""

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, *, momentum=0.0, centered=False,
                 weight_decay=0.0, maximize=False):
        super().__init__(
            lr=check.hyperparameter("lr", lr, low=0.0),
            alpha=check.hyperparameter("alpha", alpha, low=0.0, high=1.0, high_inclusive=False),
            eps=check.hyperparameter("eps", eps, low=0.0),
            momentum=check.hyperparameter("momentum", momentum, low=0.0, high=1.0,
                                          high_inclusive=False),
            weight_decay=check.hyperparameter("weight_decay", weight_decay, low=0.0))
        self.centered = check.flag("centered", centered)
        self.maximize = check.flag("maximize", maximize)

    v = property(lambda self: self._state("v"), doc="EMA of g² (PyTorch's square_avg).")
    _squares_gradient = True
    _nonnegative_buffers = ("v",)

    def _settings(self):
        return {"centered": self.centered, "maximize": self.maximize}

    def _buffer_names(self):
        names = ["v"]
        if self.centered:
            names.append("grad_avg")
        if np.any(self._hyper["momentum"] != 0):
            names.append("momentum_buffer")
        return tuple(names)

    def _update(self, theta, grad, buffers, scratch, c):
        work, tmp = scratch
        h = c
        grad = self._effective_gradient(theta, grad, work, tmp, c)
        v = buffers["v"]
        v *= h["alpha"]                                      # v ← α·v + (1 − α)·g²
        np.multiply(grad, grad, out=tmp)
        tmp *= as_weak_scalar(1 - h["alpha"])
        v += tmp
        if self.centered:                                    # ḡ ← α·ḡ + (1 − α)·g
            avg = buffers["grad_avg"]
            avg *= h["alpha"]
            np.multiply(grad, as_weak_scalar(1 - h["alpha"]), out=tmp)
            avg += tmp
            np.multiply(avg, avg, out=tmp)                   # denominator √(v − ḡ²) + ε
            np.subtract(v, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)                              # denominator √v + ε
        tmp += h["eps"]
        if "momentum_buffer" in buffers:                     # b ← μ·b + g/(√v + ε)
            buf = buffers["momentum_buffer"]
            np.divide(grad, tmp, out=tmp)
            buf *= h["momentum"]
            buf += tmp
            np.multiply(buf, h["lr"], out=tmp)
        else:
            np.divide(grad, tmp, out=tmp)
            tmp *= h["lr"]
        theta -= tmp


class AdaGrad(Optimizer):
    """``s ← s + g²``, ``θ ← θ − lr_t·g/(√s + ε)`` with
    ``lr_t = lr/(1 + (t − 1)·lr_decay)``."""

    def __init__(self, lr=1e-2, *, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0,
                 weight_decay=0.0, maximize=False):
        super().__init__(
            lr=check.hyperparameter("lr", lr, low=0.0),
            lr_decay=check.hyperparameter("lr_decay", lr_decay, low=0.0),
            eps=check.hyperparameter("eps", eps, low=0.0),
            weight_decay=check.hyperparameter("weight_decay", weight_decay, low=0.0))
        self.initial_accumulator_value = check.hyperparameter(
            "initial_accumulator_value", initial_accumulator_value, low=0.0)
        if isinstance(self.initial_accumulator_value, np.ndarray):
            raise TypeError("initial_accumulator_value must be a scalar, got an array")
        self.maximize = check.flag("maximize", maximize)

    sum = property(lambda self: self._state("sum"), doc="Running sum of g².")
    _squares_gradient = True
    _nonnegative_buffers = ("sum",)

    def _settings(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "maximize": self.maximize}

    def _magnitudes(self, theta, grad, buffers, scratch, c):
        return (*super()._magnitudes(theta, grad, buffers, scratch, c),
                float(buffers["sum"].max(initial=0.0)))

    def _square_bound(self, magnitudes, buffers):
        # s + g² must fit too: bound it by max(s) + (bound of g²).
        return magnitudes[2] + super()._square_bound(magnitudes, buffers)

    def _square_check(self, theta, grad, buffers, scratch, c):
        super()._square_check(theta, grad, buffers, scratch, c)   # g² into scratch[1]
        np.add(scratch[1], buffers["sum"], out=scratch[1])        # s + g², as the update

    def _buffer_names(self):
        return ("sum",)

    def _initial_buffer(self, name, param):
        return np.full_like(param, self.initial_accumulator_value, order="C")

    def _step_constants(self):
        h = self._hyper
        return {"clr": as_weak_scalar(h["lr"] / (1 + (self.t - 1) * h["lr_decay"]))}

    def _update(self, theta, grad, buffers, scratch, c):
        work, tmp = scratch
        grad = self._effective_gradient(theta, grad, work, tmp, c)
        s = buffers["sum"]
        np.multiply(grad, grad, out=tmp)                     # s ← s + g²
        s += tmp
        np.sqrt(s, out=tmp)                                  # θ ← θ − lr_t·g/(√s + ε)
        tmp += c["eps"]
        np.divide(grad, tmp, out=tmp)
        tmp *= c["clr"]
        theta -= tmp
