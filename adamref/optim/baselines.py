"""The optimizers the book compares Adam with, with PyTorch's definitions:
SGD (heavy-ball or Nesterov momentum), RMSprop (Tieleman & Hinton) and
AdaGrad (Duchi et al.).  Same interface as ``Adam``."""

from __future__ import annotations

import numpy as np
from numpy import add, divide, multiply, sqrt, subtract

from adamref.optim import validation as check
from adamref.optim.optimizer import Optimizer, as_weak_scalar
from adamref.optim.schedules import learning_rate


class SGD(Optimizer):
    """``b ← μ·b + (1 − dampening)·g`` (``b = g`` at the first step);
    ``θ ← θ − α·b``, or ``θ ← θ − α·(g + μ·b)`` with Nesterov."""

    def __init__(self, lr=1e-2, momentum=0.0, *, dampening=0.0, nesterov=False,
                 weight_decay=0.0, maximize=False):
        super().__init__(
            lr=learning_rate("lr", lr),
            momentum=check.hyperparameter("momentum", momentum, low=0.0, high=1.0,
                                          high_inclusive=False),
            dampening=check.hyperparameter("dampening", dampening, low=0.0, high=1.0),
            weight_decay=check.hyperparameter("weight_decay", weight_decay, low=0.0))
        self.nesterov = check.flag("nesterov", nesterov)
        self.maximize = check.flag("maximize", maximize)
        self._momentum = bool(np.any(self._hyper["momentum"] != 0))
        if self.nesterov and (np.any(self._hyper["momentum"] <= 0)
                              or np.any(self._hyper["dampening"] != 0)):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={momentum!r}, dampening={dampening!r}")

    momentum_buffer = property(lambda self: self._state("momentum_buffer"))

    def _settings(self):
        return {"nesterov": self.nesterov, "maximize": self.maximize}

    def _buffer_names(self):
        return ("momentum_buffer",) if self._momentum else ()

    def _step_constants(self, h, t):
        return {"first": t == 1}

    def _update(self, theta, g, state, scratch, c):
        work, tmp = scratch
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        if self._momentum:
            b = state["momentum_buffer"]
            if c.first:
                b[...] = g                                                 # b₁ = g₁
            else:
                b *= c.momentum                                            # b ← μ·b + (1 − d)·g
                b += multiply(g, 1 - c.dampening, out=tmp)
            g = add(g, multiply(b, c.momentum, out=tmp), out=work) if self.nesterov \
                else b                                                     # g + μ·b, or b
        theta -= multiply(g, c.lr, out=tmp)                                # θ ← θ − α·direction


class RMSprop(Optimizer):
    """``v ← α_v·v + (1 − α_v)·g²``, ``θ ← θ − lr·g/(√v + ε)``; the smoothing
    constant is called ``alpha`` as in PyTorch (β2 in Adam's notation)."""

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, *, momentum=0.0, centered=False,
                 weight_decay=0.0, maximize=False):
        super().__init__(
            lr=learning_rate("lr", lr),
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

    def _update(self, theta, g, state, scratch, c):
        v, tmp = state["v"], scratch[1]
        one_minus_alpha = as_weak_scalar(1 - c.alpha)
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        v *= c.alpha                                                       # v ← α·v + (1 − α)·g²
        v += multiply(multiply(g, g, out=tmp), one_minus_alpha, out=tmp)
        if self.centered:
            avg = state["grad_avg"]
            avg *= c.alpha                                                 # ḡ ← α·ḡ + (1 − α)·g
            avg += multiply(g, one_minus_alpha, out=tmp)
            denom = sqrt(subtract(v, multiply(avg, avg, out=tmp), out=tmp), out=tmp)  # √(v − ḡ²)
        else:
            denom = sqrt(v, out=tmp)                                       # √v
        direction = divide(g, add(denom, c.eps, out=tmp), out=tmp)         # g/(denominator + ε)
        if "momentum_buffer" in state:
            b = state["momentum_buffer"]
            b *= c.momentum                                                # b ← μ·b + g/(√v + ε)
            b += direction
            direction = b
        theta -= multiply(direction, c.lr, out=tmp)                        # θ ← θ − lr·direction


class AdaGrad(Optimizer):
    """``s ← s + g²``, ``θ ← θ − lr_t·g/(√s + ε)`` with
    ``lr_t = lr/(1 + (t − 1)·lr_decay)``."""

    def __init__(self, lr=1e-2, *, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0,
                 weight_decay=0.0, maximize=False):
        super().__init__(
            lr=learning_rate("lr", lr),
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

    def _step_constants(self, h, t):
        return {"clr": as_weak_scalar(h["lr"] / (1 + (t - 1) * h["lr_decay"]))}

    def _update(self, theta, g, state, scratch, c):
        s, tmp = state["sum"], scratch[1]
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        s += multiply(g, g, out=tmp)                                       # s ← s + g²
        theta -= multiply(divide(g, add(sqrt(s, out=tmp), c.eps, out=tmp), out=tmp),
                          c.clr, out=tmp)                                  # θ −= lr_t·g/(√s + ε)
