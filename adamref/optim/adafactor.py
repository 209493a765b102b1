"""Adafactor (Shazeer & Stern, 2018) as ``torch.optim.Adafactor`` computes it.

For a parameter with two or more axes, the second moment of the gradient is
not kept entry by entry: only its mean over each row and over each column of
the last two axes (``row_var``, shape ``(..., n, 1)``; ``col_var``, shape
``(..., 1, m)``), and the estimate is their outer product divided by the mean
row statistic, ``V̂ = R·C/max(mean(R), ε1)``: n + m numbers instead of n·m.
A vector (or a scalar) keeps its full ``variance``.  There is no first moment.

One step, ``t = 1, 2, …`` (torch's ``_single_tensor_adafactor``):

- ``1 − β̂2_t = t^τ`` (``beta2_decay`` τ = −0.8: β̂2_t = 1 − t^−0.8, so the
  first step takes g² whole and the average lengthens as t grows);
- ``ρ_t = min(lr, 1/√t)`` (the relative step size; ``lr`` only caps it) and
  ``α_t = max(ε2, RMS(θ_{t−1}))·ρ_t`` (the step is relative to the
  parameter's own scale); ``relative_step=False`` uses ``ρ_t = lr`` and
  ``scale_parameter=False`` drops the RMS factor (the options of Hugging
  Face's Adafactor; torch always has both);
- decoupled weight decay ``θ ← (1 − lr·λ)·θ``;
- the statistics: ``R ← R + t^τ (mean_rows(g²) − R)``, ``C`` likewise over
  columns, or ``V ← V + t^τ (g² − V)`` for a vector; ``V̂ = R/max(mean(R), ε1)·C``
  (in this order: ``R/mean(R) ≤ n`` cannot overflow where ``R·C`` could);
  a step whose means or ``V̂`` would overflow is refused, as every
  optimizer's step whose g² would;
- ``U = g/√max(V̂, ε1²)``, clipped by its RMS: ``Û = U/max(1, RMS(U)/d)``;
- ``θ ← θ − α_t·Û``.

ε1 (``eps1``) defaults to the machine epsilon of the parameters' dtype, as
in torch.  RMS and the clipping are over the whole leaf, so leaves are never
cut into chunks, and hyperparameters are numbers (``lr`` may be a schedule):
a leaf cannot hold independent configurations.
"""

from __future__ import annotations

import math

import numpy as np

from adamref.optim import validation as check
from adamref.optim.optimizer import Optimizer
from adamref.optim.schedules import learning_rate


def rms(x: np.ndarray) -> float:
    """The root mean square of ``x`` (0 for an empty array; NaN if ``x`` holds
    one), a Python float.  Scaled by max|x| first, so that the squares of a
    large float32 array cannot overflow where its RMS fits."""
    scale = float(np.max(np.abs(x), initial=0.0))
    if scale == 0 or not math.isfinite(scale):
        return scale
    return scale * math.sqrt(float(np.sum(np.square(x / scale))) / x.size)


def factored(param) -> bool:
    """Whether Adafactor factors the second moment of ``param`` (two or more axes)."""
    return param.ndim > 1


class Adafactor(Optimizer):
    """Adafactor with ``torch.optim.Adafactor``'s definitions and defaults
    (``lr=1e-2``, ``beta2_decay=-0.8``, ``eps=(None, 1e-3)`` as ``eps1``,
    ``eps2``, ``d=1``); see the module docstring for the step.

    Buffers per leaf: ``row_var`` and ``col_var`` for a leaf of two or more
    axes, ``variance`` for a vector or a scalar; the others are empty arrays
    (shape ``(0,)``), so every leaf has the same buffer names.
    """

    _squares_gradient = True
    _whole_leaves = True
    _default_layout = False
    _nonnegative_buffers = ("row_var", "col_var", "variance")
    _must_fit = "g², its row and column sums and V̂"

    def __init__(self, lr=1e-2, beta2_decay=-0.8, eps1=None, eps2=1e-3, d=1.0, *,
                 weight_decay=0.0, relative_step=True, scale_parameter=True, maximize=False):
        hyper = {"lr": learning_rate("lr", lr),
                 "beta2_decay": check.hyperparameter("beta2_decay", beta2_decay,
                                                     low=-np.inf, high=0.0),
                 "eps2": check.hyperparameter("eps2", eps2, low=0.0),
                 "d": check.hyperparameter("d", d, low=1.0),
                 "weight_decay": check.hyperparameter("weight_decay", weight_decay, low=0.0)}
        if eps1 is not None:
            hyper["eps1"] = check.hyperparameter("eps1", eps1, low=0.0)
        for name, value in hyper.items():
            if isinstance(value, np.ndarray):
                raise TypeError(f"{name} must be a number for Adafactor (its step mixes a "
                                f"leaf's entries), got an array of shape {value.shape}")
        super().__init__(**hyper)
        self.relative_step = check.flag("relative_step", relative_step)
        self.scale_parameter = check.flag("scale_parameter", scale_parameter)
        self.maximize = check.flag("maximize", maximize)
        self._l2 = False                                  # the decay is decoupled
        self._decays = hyper["weight_decay"] != 0

    row_var = property(lambda self: self._state("row_var"), doc="Row means of g² (EMA).")
    col_var = property(lambda self: self._state("col_var"), doc="Column means of g² (EMA).")
    variance = property(lambda self: self._state("variance"), doc="g² (EMA), for vectors.")

    def _settings(self):
        out = {"relative_step": self.relative_step, "scale_parameter": self.scale_parameter,
               "maximize": self.maximize}
        if "eps1" not in self._hyper:
            out["eps1"] = "machine epsilon"              # of the parameters' dtype
        return out

    def _buffer_names(self):
        return ("row_var", "col_var", "variance")

    def _buffer_layout(self, name, param):
        shape = param.shape
        if name == "row_var":
            return ((*shape[:-1], 1) if factored(param) else (0,)), param.dtype
        if name == "col_var":
            return ((*shape[:-2], 1, shape[-1]) if factored(param) else (0,)), param.dtype
        return ((0,) if factored(param) else shape), param.dtype

    def _step_constants(self, h, t):
        steps = np.atleast_1d(t).tolist()
        # Python's float ** (libm's pow), as torch computes them: the same on every CPU.
        one_minus_beta2 = [float(k) ** h["beta2_decay"] for k in steps]     # t^τ
        rho = ([min(h["lr"], 1 / float(k) ** 0.5) for k in steps] if self.relative_step
               else [h["lr"]] * len(steps))                                # ρ_t
        out = {"one_minus_beta2": one_minus_beta2, "rho": rho,
               "decay_factor": [1 - h["lr"] * h["weight_decay"]] * len(steps)}   # 1 − lr·λ
        return {k: (np.array(v) if np.ndim(t) else v[0]) for k, v in out.items()}

    def _square_bound(self, magnitudes, buffers):
        """g²'s bound, times the longer side of a factored leaf: a row or column
        mean of g² sums that many squares before it divides, and
        ``V̂ = R/mean(R)·C ≤ n·C``, where C also holds earlier steps' means."""
        bound = super()._square_bound(magnitudes, buffers)
        row, col = buffers["row_var"], buffers["col_var"]
        if col.size == 0:
            return bound
        earlier = float(np.max(col))                      # NaN: the exact check decides
        return max(row.shape[-2], col.shape[-1]) * max(bound, earlier)

    def _square_check(self, theta, grad, buffers, scratch, c):
        """The exact check: g², and for a factored leaf its means and V̂ as the
        step computes them, on copies of R and C (nothing is written)."""
        super()._square_check(theta, grad, buffers, scratch, c)
        if factored(theta):
            self._factored_v_hat(scratch[1], buffers["row_var"].copy(),
                                 buffers["col_var"].copy(), c, self._eps1(c, theta.dtype))

    def _eps1(self, c, dtype) -> float:
        return c.eps1 if "eps1" in self._hyper else float(np.finfo(dtype).eps)

    @staticmethod
    def _factored_v_hat(square, row, col, c, eps1):
        """R and C updated in place from g²; returns V̂ = R/max(mean R, ε1)·C."""
        row += c.one_minus_beta2 * (square.mean(axis=-1, keepdims=True) - row)  # R
        col += c.one_minus_beta2 * (square.mean(axis=-2, keepdims=True) - col)  # C
        return row / np.maximum(row.mean(axis=-2, keepdims=True), eps1) * col   # R·C/mean R

    def _update(self, theta, g, state, scratch, c):
        eps1 = self._eps1(c, theta.dtype)
        g = self._effective_gradient(theta, g, scratch, c)                # −g if maximizing
        alpha = max(c.eps2, rms(theta)) * c.rho if self.scale_parameter else c.rho  # α_t
        if self._decays:
            theta *= c.decay_factor                                        # θ ← (1 − lr·λ)·θ
        square = np.multiply(g, g, out=scratch[1])                         # g²
        if factored(theta):
            v_hat = self._factored_v_hat(square, state["row_var"], state["col_var"], c, eps1)
        else:
            v_hat = state["variance"]
            v_hat += c.one_minus_beta2 * (square - v_hat)                  # V += t^τ (g² − V)
        update = g / np.sqrt(np.maximum(v_hat, eps1 * eps1))              # U = g/√V̂
        theta -= update * (alpha / max(1.0, rms(update) / c.d))            # θ −= α_t·Û
