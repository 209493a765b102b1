"""Adam's family (Part V, "Beyond Adam"): three optimizers that keep Adam's
two moments and change one of them.

- ``NAdam`` (Dozat 2016, ``torch.optim.NAdam``): Nesterov's look-ahead in the
  first moment, with a momentum schedule μ_t;
- ``Yogi`` (Zaheer et al. 2018, ``optax.yogi``): an additive, sign-controlled
  update of v that cannot grow the step size as fast as Adam's EMA;
- ``AdaBelief`` (Zhuang et al. 2020, ``optax.adabelief``): the EMA of the
  squared surprise ``(g − m)²`` in place of v.

Same interface and policies as ``Adam`` (see ``Optimizer``); the pure forms
are ``nadam_update``, ``yogi_update`` and ``adabelief_update`` in
``adamref.optim.functional``, equal to these classes bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numpy import add, divide, multiply, sign, sqrt, subtract

from adamref.optim import validation as check
from adamref.optim.adam import AdamMoments
from adamref.optim.engine import largest_magnitude
from adamref.optim.functional import (checked_hyperparameters, nadam_decay_base,
                                      nadam_momentum)
from adamref.optim.optimizer import POWER_BLOCK, Optimizer, as_weak_scalar


class _AdamFamily(AdamMoments, Optimizer):
    """What NAdam, Yogi and AdaBelief share with Adam: the four hyperparameters
    validated as Adam's, L2 ``weight_decay`` and ``maximize``, buffers ``m`` and
    a second moment, and Adam's bias corrections as step constants."""

    def __init__(self, lr, beta1, beta2, eps, *, weight_decay, maximize, **more):
        lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
        weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                         **more)
        self.maximize = check.flag("maximize", maximize)


    _squares_gradient = True

    def _settings(self):
        return {"maximize": self.maximize}

    def _fixed_constants(self, h):
        return {"one_minus_beta1": as_weak_scalar(1 - h["beta1"]),
                "one_minus_beta2": as_weak_scalar(1 - h["beta2"])}

    def _step_constants(self, h, t):
        return {"correction1": as_weak_scalar(1 - self._power("beta1", t)),   # 1 − β1^t
                "correction2": as_weak_scalar(1 - self._power("beta2", t))}   # 1 − β2^t

    def _optax_step(self, theta, m, second, scratch, c):
        """``θ −= α·m̂/(√(second/(1 − β2^t)) + ε)``, ``m̂ = m/(1 − β1^t)``, in
        Optax's order (the moments divided by their corrections, the quotient
        times −α, added to θ)."""
        work, tmp = scratch
        denom = add(sqrt(divide(second, c.correction2, out=tmp), out=tmp), c.eps, out=tmp)
        step = divide(divide(m, c.correction1, out=work), denom, out=work)      # m̂/(√v̂ + ε)
        theta -= multiply(step, c.lr, out=work)                                 # θ −= α·step

    @staticmethod
    def _optax_momentum(m, g, tmp, c):
        """``m ← (1 − β1)·g + β1·m``, as Optax computes it."""
        m *= c.beta1
        m += multiply(g, c.one_minus_beta1, out=tmp)


#: A product of NAdam's μ below this is 0 for every use: 1 − p rounds to 1 in
#: float64 for p < 2^-54, and the product only decreases (0 ≤ μ_t ≤ β1 < 1).
_VANISHED = 2.0 ** -54
#: Steps of the μ product computed at once when it is advanced.
_PRODUCT_BLOCK = 4096


class NAdam(_AdamFamily):
    """Adam with Nesterov momentum, as ``torch.optim.NAdam`` (defaults α = 2e-3,
    ``momentum_decay`` ψ = 4e-3):

    ``μ_t = β1·(1 − ½·0.96^(tψ))``;  m and v as in Adam;
    ``θ −= α·[(1 − μ_t)/(1 − ∏_{i≤t} μ_i)·g + μ_{t+1}/(1 − ∏_{i≤t+1} μ_i)·m]/(√v̂ + ε)``.

    The momentum term uses μ_{t+1}, the next step's coefficient: the step
    already takes the part of the next update that the momentum will make
    (Nesterov's look-ahead), and the current gradient enters with its own
    weight.  ``weight_decay`` is L2 (``g + λ·θ``), or with
    ``decoupled_weight_decay=True`` ``θ *= 1 − α·λ`` first (NAdamW), as torch.

    The product ``∏ μ_i`` is a function of t (and β1, ψ), so it is not part of
    the state: it is computed forward, in the order torch multiplies it, and
    kept for the next steps (after a loaded state, it is recomputed from t = 1
    until it vanishes below 2^-54, where it no longer changes any constant).
    Differences from torch, all at rounding level: 0.96^(tψ) by repeated
    squaring (see ``nadam_decay_base``); with torch's default dtype float32,
    torch keeps its ``mu_product`` in float32 (this class, like torch under
    ``torch.set_default_dtype(torch.float64)``, in float64).
    """

    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, momentum_decay=4e-3,
                 weight_decay=0.0, decoupled_weight_decay=False, maximize=False):
        momentum_decay = check.hyperparameter("momentum_decay", momentum_decay, low=0.0)
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, maximize=maximize,
                         momentum_decay=momentum_decay)
        self.decoupled_weight_decay = check.flag("decoupled_weight_decay", decoupled_weight_decay)
        self._decays = self.decoupled_weight_decay and bool(np.any(self.weight_decay != 0))
        self._l2 = self._l2 and not self.decoupled_weight_decay
        h = self._hyper
        shape = np.broadcast_shapes(np.shape(h["beta1"]), np.shape(momentum_decay))
        base = nadam_decay_base(momentum_decay)
        self._decay_base = np.broadcast_to(base, shape).copy() if shape else base
        self._products = None          # (t, ∏_{i≤t} μ_i): how far the product is known
        self._table = None             # (first t, μ rows, product rows), for single steps

    momentum_decay = property(lambda self: self._hyper["momentum_decay"])
    v = property(lambda self: self._state("v"), doc="Second raw moment (EMA of g²).")
    _nonnegative_buffers = ("v",)

    def _settings(self):
        return {"decoupled_weight_decay": self.decoupled_weight_decay, **super()._settings()}

    def _buffer_names(self):
        return ("m", "v")

    def momentum_schedule(self, t):
        """``(μ_t, μ_{t+1}, ∏_{i≤t} μ_i)`` for a step ``t`` or an int64 array of
        consecutive steps (then arrays with one row per step); a product below
        2^-54 is given as 0 (see the class docstring).  Steps one at a time (a
        sweep, a schedule) are looked up in a table of ``POWER_BLOCK`` steps."""
        if isinstance(t, np.ndarray):
            mus, products = self._schedule_rows(int(t[0]), t.size)
            return mus[:-1], mus[1:], products
        table = self._table
        if table is None or not table[0] <= t < table[0] + len(table[2]):
            table = self._table = (t, *self._schedule_rows(t, POWER_BLOCK))
        i = t - table[0]
        return table[1][i], table[1][i + 1], table[2][i]

    def _schedule_rows(self, first, count):
        """``μ_t`` for t = first, …, first + count (one more than the products)
        and ``∏_{i≤t} μ_i`` for t = first, …, first + count − 1."""
        mus = nadam_momentum(self.beta1, self._decay_base,
                             np.arange(first, first + count + 1, dtype=np.int64))
        return mus, self._product_rows(first, mus[:-1])

    def _product_rows(self, first, mus):
        """``∏_{i≤t} μ_i`` for t = first, first + 1, ... (one row per value of
        ``mus``, which are μ_first, ...), advancing the known product to there."""
        known = self._products
        if known is None or known[0] > first - 1:
            known = (0, np.ones(np.shape(self._decay_base)) if np.ndim(self._decay_base)
                     else 1.0)
        t, product = known
        while t < first - 1:          # advance to t = first − 1, a block at a time
            if not np.any(product):   # vanished: 0 from here on
                t = first - 1
                break
            count = min(_PRODUCT_BLOCK, first - 1 - t)
            block = nadam_momentum(self.beta1, self._decay_base,
                                   np.arange(t + 1, t + 1 + count, dtype=np.int64))
            product = self._accumulate(product, block)[-1]
            t += count
        rows = self._accumulate(product, mus)
        self._products = (first - 1 + len(mus), rows[-1])
        return rows

    @staticmethod
    def _accumulate(product, mus):
        """``product·μ_1, product·μ_1·μ_2, ...``: one multiplication after the
        other (``multiply.accumulate`` is sequential), as torch's ``mu_product *= μ``;
        0 where below 2^-54."""
        rows = np.multiply.accumulate(np.concatenate([np.asarray(product)[None], mus]))[1:]
        return np.where(rows < _VANISHED, 0.0, rows)

    def _step_constants(self, h, t):
        mu, mu_next, product = self.momentum_schedule(t)
        lr = h["lr"]
        decay = ({"decay_factor": as_weak_scalar(1 - lr * h["weight_decay"])}  # 1 − α·λ
                 if self._decays else {})
        return {"grad_step": as_weak_scalar(lr * (1 - mu) / (1 - product)),
                "momentum_step": as_weak_scalar(lr * mu_next / (1 - product * mu_next)),
                "correction2": as_weak_scalar(1 - self._power("beta2", t)),   # 1 − β2^t
                **decay}

    def _update(self, theta, g, state, scratch, c):
        m, v, work, tmp = state["m"], state["v"], scratch[0], scratch[1]
        g = self._moments(theta, g, state, scratch, c)                    # as Adam: decay, m, v
        denom = add(sqrt(divide(v, c.correction2, out=tmp), out=tmp), c.eps, out=tmp)  # √v̂ + ε
        theta -= multiply(divide(g, denom, out=work), c.grad_step, out=work)   # the gradient's share
        theta -= multiply(divide(m, denom, out=work), c.momentum_step, out=work)  # the momentum's


class Yogi(_AdamFamily):
    """Yogi, as ``optax.yogi`` (defaults α = 1e-2, ε = 1e-3, the paper's):

    ``v ← v − (1 − β2)·sign(v − g²)·g²``,  m, bias corrections and step as Adam
    (in Optax's order of operations: ``m ← (1 − β1)·g + β1·m``, ...).

    Adam's ``v ← v + (1 − β2)(g² − v)`` moves v by a fraction of the gap, so a
    run of small gradients shrinks v, and grows the step, geometrically; Yogi
    moves v by ``(1 − β2)·g²`` in the gap's direction, so v shrinks by at most
    the small gradients' own squares.  When gradients grow, both grow v by about
    ``(1 − β2)·g²`` per step.  ``m`` and ``v`` start at
    ``initial_accumulator_value`` (Optax: 1e-6, both).  ``weight_decay`` is L2.
    """

    def __init__(self, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-3, *,
                 initial_accumulator_value=1e-6, weight_decay=0.0, maximize=False):
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, maximize=maximize)
        self.initial_accumulator_value = check.hyperparameter(
            "initial_accumulator_value", initial_accumulator_value, low=0.0)
        if isinstance(self.initial_accumulator_value, np.ndarray):
            raise TypeError("initial_accumulator_value must be a scalar, got an array")

    v = property(lambda self: self._state("v"), doc="Second raw moment (Yogi's update of g²).")
    _nonnegative_buffers = ("v",)

    def _settings(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                **super()._settings()}

    def _buffer_names(self):
        return ("m", "v")

    def _initial_buffer(self, name, param):
        return np.full_like(param, self.initial_accumulator_value, order="C")

    def _update(self, theta, g, state, scratch, c):
        m, v, work, tmp = state["m"], state["v"], scratch[0], scratch[1]
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        self._optax_momentum(m, g, tmp, c)                                 # m ← (1 − β1)·g + β1·m
        square = multiply(g, g, out=tmp)                                   # g² (g is done with)
        change = multiply(sign(subtract(v, square, out=work), out=work), c.one_minus_beta2,
                          out=work)                                        # (1 − β2)·sign(v − g²)
        v -= multiply(change, square, out=work)                            # v −= (1 − β2)·sign(v − g²)·g²
        self._optax_step(theta, m, v, scratch, c)                          # θ −= α·m̂/(√v̂ + ε)


class AdaBelief(_AdamFamily):
    """AdaBelief, as ``optax.adabelief`` (defaults ε = eps_root = 1e-16):

    ``m ← (1 − β1)·g + β1·m``,  ``s ← (1 − β2)·(g − m)² + β2·s + eps_root`` (the
    new m), ``θ −= α·m̂/(√ŝ + ε)`` (bias corrections as Adam's; all in Optax's
    order of operations).

    ``s`` averages the squared *surprise*, the distance of the gradient from the
    momentum's prediction, where Adam's v averages g² itself: where gradients
    are consistent (low variance, as on a smooth valley floor) s is small and
    the step large; where they scatter, the step shrinks.  ``weight_decay`` is
    L2.  The step is refused, as Adam's for g², if ``(g − m)²`` overflows.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-16, *, eps_root=1e-16,
                 weight_decay=0.0, maximize=False):
        eps_root = check.hyperparameter("eps_root", eps_root, low=0.0)
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, maximize=maximize,
                         eps_root=eps_root)

    eps_root = property(lambda self: self._hyper["eps_root"])
    s = property(lambda self: self._state("s"), doc="EMA of the squared surprise (g − m)².")
    _nonnegative_buffers = ("s",)

    def _buffer_names(self):
        return ("m", "s")

    def _magnitudes(self, theta, grad, buffers, scratch, c):
        return (*super()._magnitudes(theta, grad, buffers, scratch, c),
                largest_magnitude(buffers["m"]))

    def _square_bound(self, magnitudes, buffers):
        # |g − m_new| = β1·|g − m| ≤ |g| + |m|: bound (max|g + λθ| + max|m|)².
        root = math.sqrt(super()._square_bound(magnitudes, buffers)) + magnitudes[2]
        return root * root

    def _square_check(self, theta, grad, buffers, scratch, c):
        g = self._effective_gradient(theta, grad, scratch, c)
        # the new m as the update computes it, into a temporary (m is not
        # written; this exact check runs only when the cheap bound fails)
        prediction = add(multiply(buffers["m"], c.beta1),
                         multiply(g, c.one_minus_beta1, out=scratch[1]), out=scratch[1])
        surprise = subtract(g, prediction, out=scratch[1])                  # g − m
        multiply(surprise, surprise, out=scratch[1])                       # (g − m)²

    def _update(self, theta, g, state, scratch, c):
        m, s, tmp = state["m"], state["s"], scratch[1]
        g = self._effective_gradient(theta, g, scratch, c)                # −g; L2: g + λ·θ
        self._optax_momentum(m, g, tmp, c)                                 # m ← (1 − β1)·g + β1·m
        surprise = subtract(g, m, out=tmp)                                 # g − m
        s *= c.beta2                                                       # s ← (1 − β2)·(g − m)² + β2·s
        s += multiply(multiply(surprise, surprise, out=tmp), c.one_minus_beta2, out=tmp)
        s += c.eps_root                                                    #     + eps_root
        self._optax_step(theta, m, s, scratch, c)                          # θ −= α·m̂/(√ŝ + ε)
