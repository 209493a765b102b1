"""Sign descent (Part V, "Beyond Adam"): optimizers whose step is the sign of a
direction, so that every coordinate moves by exactly the learning rate.

- ``SignSGD``: ``θ −= α·sign(g)`` (Bernstein et al. 2018), or with
  ``beta1 > 0`` their signum, the sign of the momentum;
- ``Lion`` (Chen et al. 2023, ``optax.lion``): the sign of an interpolation
  between the gradient and the momentum, with decoupled weight decay.

Adam with β1 = β2 = 0 and ε = 0 is sign descent too (``m̂/√v̂ = g/|g|``); these
drop the second moment altogether.  Same interface and policies as ``Adam``
(see ``Optimizer``), except that no gradient is squared, so none is refused
for overflowing; pure forms ``sign_sgd_update`` and ``lion_update`` in
``adamref.optim.functional``, equal to these classes bit for bit.
"""

from __future__ import annotations

import numpy as np
from numpy import add, multiply, sign

from adamref.optim import validation as check
from adamref.optim.optimizer import Optimizer, as_weak_scalar
from adamref.optim.schedules import learning_rate


def _coefficient(name, value):
    """A coefficient in [0, 1), validated."""
    return check.hyperparameter(name, value, low=0.0, high=1.0, high_inclusive=False)


class SignSGD(Optimizer):
    """Sign descent, ``θ −= α·sign(g)``; with ``beta1 > 0`` signum,
    ``m ← β1·m + (1 − β1)·g``, ``θ −= α·sign(m)`` (Bernstein et al. 2018).

    Every coordinate moves by exactly α (0 where the direction is exactly 0),
    whatever the gradient's scale: the step is Adam's with its moving averages
    taken over a single step.  The momentum is an EMA (the first moment ``m`` of
    the notation; its scale does not matter under the sign), not SGD's heavy
    ball.  ``weight_decay`` is L2 (``g + λ·θ`` before the momentum, as in the
    signum paper's code); ``lr`` may be a schedule.
    """

    def __init__(self, lr=1e-3, beta1=0.0, *, weight_decay=0.0, maximize=False):
        super().__init__(lr=learning_rate("lr", lr), beta1=_coefficient("beta1", beta1),
                         weight_decay=check.hyperparameter("weight_decay", weight_decay,
                                                           low=0.0))
        self.maximize = check.flag("maximize", maximize)
        self._momentum = bool(np.any(self._hyper["beta1"] != 0))

    lr = property(lambda self: self._hyper["lr"])
    beta1 = property(lambda self: self._hyper["beta1"])
    weight_decay = property(lambda self: self._hyper["weight_decay"])
    m = property(lambda self: self._state("m"), doc="EMA of g (None without momentum).")

    def _settings(self):
        return {"maximize": self.maximize}

    def _buffer_names(self):
        return ("m",) if self._momentum else ()

    def _fixed_constants(self, h):
        return {"one_minus_beta1": as_weak_scalar(1 - h["beta1"])}

    def _update(self, theta, g, state, scratch, c):
        tmp = scratch[1]
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        if self._momentum:
            m = state["m"]
            m *= c.beta1                                                   # m ← β1·m + (1 − β1)·g
            m += multiply(g, c.one_minus_beta1, out=tmp)
            g = m
        theta -= multiply(sign(g, out=tmp), c.lr, out=tmp)                 # θ −= α·sign(m)


class Lion(Optimizer):
    """Lion, as ``optax.lion`` (defaults β1 = 0.9, β2 = 0.99, λ = 1e-3; α = 1e-4,
    the paper's advice of 3-10x below AdamW's):

    ``θ −= α·(sign((1 − β1)·g + β1·m) + λ·θ)``, then ``m ← (1 − β2)·g + β2·m``.

    The step's direction mixes the gradient into the momentum with β1 = 0.9, but
    the momentum itself averages over 1/(1 − β2) = 100 steps: the sign reacts to
    the current gradient while the memory is long.  Every coordinate moves by
    exactly α (plus the decay α·λ·θ), so Lion's update is larger in norm than
    Adam's, whose steps are below α once gradients are noisy: its learning rate
    must be smaller.  The weight decay is decoupled (added to the signed step,
    scaled by α, as in Optax and the paper); ``lr`` may be a schedule.
    """

    def __init__(self, lr=1e-4, beta1=0.9, beta2=0.99, *, weight_decay=1e-3, maximize=False):
        super().__init__(lr=learning_rate("lr", lr), beta1=_coefficient("beta1", beta1),
                         beta2=_coefficient("beta2", beta2),
                         weight_decay=check.hyperparameter("weight_decay", weight_decay,
                                                           low=0.0))
        self.maximize = check.flag("maximize", maximize)
        self._decays = self._l2         # decoupled: added to the step, not to g
        self._l2 = False

    lr = property(lambda self: self._hyper["lr"])
    beta1 = property(lambda self: self._hyper["beta1"])
    beta2 = property(lambda self: self._hyper["beta2"])
    weight_decay = property(lambda self: self._hyper["weight_decay"])
    m = property(lambda self: self._state("m"), doc="Momentum (EMA of g with β2).")

    def _settings(self):
        return {"maximize": self.maximize}

    def _buffer_names(self):
        return ("m",)

    def _fixed_constants(self, h):
        # Ascending is descending on −g: the sign goes into g's weights (exact).
        sign_of_g = -1.0 if self.maximize else 1.0
        return {"grad_weight1": as_weak_scalar(sign_of_g * (1 - h["beta1"])),
                "grad_weight2": as_weak_scalar(sign_of_g * (1 - h["beta2"]))}

    def _update(self, theta, g, state, scratch, c):
        m, work, tmp = state["m"], scratch[0], scratch[1]
        direction = sign(add(multiply(g, c.grad_weight1, out=tmp),       # sign((1 − β1)·g + β1·m)
                             multiply(m, c.beta1, out=work), out=tmp), out=tmp)
        if self._decays:
            direction += multiply(theta, c.weight_decay, out=work)       # + λ·θ
        theta -= multiply(direction, c.lr, out=tmp)                      # θ −= α·direction
        m *= c.beta2                                                     # m ← (1 − β2)·g + β2·m
        m += multiply(g, c.grad_weight2, out=tmp)
