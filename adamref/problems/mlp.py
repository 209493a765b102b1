"""A one-hidden-layer network for the digits, K networks at once, in NumPy.

``MLP(hidden=H)`` is the classifier 64 → H → 10: an affine layer, ReLU, an
affine layer, softmax cross-entropy.  Its forward and backward passes are
written out below one line of math per line.

**K networks at once.**  The parameters of K networks are one float array
``theta`` of shape ``(K, P)``: row k is network k's parameter vector, so an
optimizer's array hyperparameters of shape ``(K, 1)`` (one learning rate per
network) broadcast against it, and ``adamref.problems.runs.run`` trains all K
with its divergence policy.  ``layers(theta)`` gives the per-layer views

    W1 (K, 64, H),  b1 (K, H),  W2 (K, H, 10),  b2 (K, 10),

which share memory with ``theta`` (a gradient is laid out the same way).  A
minibatch is either shared by all K networks, ``X`` of shape ``(B, 64)`` and
labels ``y`` of shape ``(B,)``, or one per network, ``(K, B, 64)`` and
``(K, B)``; the layers are batched matrix products over the K axis.

**ReLU, not tanh**: ReLU is ``max(z, 0)``, exact in floating point, while
``np.tanh`` differs in the last bit between NumPy's SIMD code paths; with He
initialization it also trains this network well.

**The same bits on every CPU.**  A long nonconvex training run amplifies
round-off, so every operation rounds the same everywhere: the products are
``np.einsum`` (its own loops, not BLAS, whose kernels sum in machine-dependent
orders), ReLU is exact, and the softmax and the loss use ``portable_exp`` and
``portable_log`` (+ − × ÷ and exact scalings by powers of 2) instead of
``np.exp`` and ``np.log``, whose last bit depends on NumPy's SIMD code path.
Checked: the chapters' runs give the same bits under every configuration of
``tests/portability.py`` (OpenBLAS kernels, NumPy without AVX-512, one thread).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check

# -- exp from + − × and exact scaling ------------------------------------------------------
#: ln 2 in two parts (fdlibm's): the high part has 32 significant bits, so
#: k·LN2_HI is exact for every ``|k| < 2^21`` and x − k·ln 2 loses nothing.
LN2_HI, LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
LOG2_E = 1.4426950408889634
#: 1/n! for n = 0 … 13: the Taylor series of e^r for ``|r| ≤ ln2/2`` (truncation < 1e-17).
EXP_TAYLOR = tuple(1.0 / math.factorial(n) for n in range(14))


def portable_exp(x):
    """``e^x`` from + − × and an exact scaling by 2^k: the same bits on every CPU.

    ``x = k·ln 2 + r`` with ``k = rint(x/ln 2)`` and ``|r| ≤ ln2/2`` (Cody and
    Waite's reduction, exact), ``e^r`` by its Taylor series to degree 13 (Horner),
    then ``e^x = 2^k·e^r`` by ``np.ldexp``.  Within a few ulps of ``np.exp``;
    NaN gives NaN, −inf gives 0 and +inf gives inf."""
    x = np.clip(np.asarray(x, dtype=np.float64), -746.0, 710.0)   # beyond: 0 or inf
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        k = np.rint(x * LOG2_E)                                  # nearest multiple of ln 2
        r = (x - k * LN2_HI) - k * LN2_LO                        # |r| ≤ ln2/2, exact
        series = np.full_like(r, EXP_TAYLOR[-1])
        for coefficient in reversed(EXP_TAYLOR[:-1]):            # Horner: Σ rⁿ/n!
            series = series * r + coefficient
        exponent = np.where(np.isnan(k), 0, k).astype(np.int64)  # NaN stays in the series
        return np.ldexp(series, exponent)                        # 2^k · e^r


#: 1/(2k + 1) for k = 0 … 11: ln((1 + s)/(1 − s)) = 2·Σ s^(2k+1)/(2k + 1), ``|s| ≤ 0.172``
#: (truncation below 1e-18).
LOG_SERIES = tuple(1.0 / (2 * k + 1) for k in range(12))
SQRT_HALF = 0.7071067811865476


def portable_log(x):
    """``ln x`` from + − × ÷ and exact operations: the same bits on every CPU.

    ``x = m·2^e`` exactly (``np.frexp``), m moved into [√½, √2); then
    ``ln m = 2·atanh(s)`` with ``s = (m − 1)/(m + 1)``, ``|s| ≤ 0.172``, by its
    series, and ``ln x = e·ln 2 + ln m`` (ln 2 in two parts).  Within a few ulps
    of ``np.log``; 0 gives −inf, a negative number NaN, inf gives inf."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m, e = np.frexp(x)                                        # x = m·2^e, m in [½, 1)
        low = m < SQRT_HALF
        m, e = np.where(low, 2 * m, m), np.where(low, e - 1, e)   # m in [√½, √2), exact
        s = (m - 1) / (m + 1)
        s2 = s * s
        series = np.full_like(s, LOG_SERIES[-1])
        for coefficient in reversed(LOG_SERIES[:-1]):             # Horner in s²
            series = series * s2 + coefficient
        out = e * LN2_HI + (e * LN2_LO + 2 * s * series)          # e·ln 2 + ln m
        return np.where(x > 0, np.where(np.isinf(x), np.inf, out),
                        np.where(x == 0, -np.inf, np.nan))


def _transposed(a: np.ndarray) -> np.ndarray:
    """``a`` with its last two axes swapped, as a contiguous copy."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2))


# -- the network ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MLP:
    """The network ``inputs → hidden → classes`` (ReLU, softmax cross-entropy)
    for K parameter vectors at once; see the module docstring."""

    hidden: int = 32
    inputs: int = 64
    classes: int = 10

    def __post_init__(self):
        for name in ("hidden", "inputs", "classes"):
            check.integer(name, getattr(self, name), low=1)
        if self.classes < 2:
            raise ValueError(f"classes must be >= 2, got {self.classes}")

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each layer's shape for one network, in the order of a parameter vector."""
        n, h, c = self.inputs, self.hidden, self.classes
        return {"W1": (n, h), "b1": (h,), "W2": (h, c), "b2": (c,)}

    @property
    def size(self) -> int:
        """P, the number of parameters of one network."""
        return sum(math.prod(shape) for shape in self.shapes.values())

    def layers(self, theta) -> dict[str, np.ndarray]:
        """The views ``W1 (K, inputs, hidden)``, ``b1 (K, hidden)``, ``W2 (K,
        hidden, classes)``, ``b2 (K, classes)`` of ``theta`` (shape ``(K, P)``):
        writing to a view writes to ``theta``.  A weight matrix is stored
        transposed in the vector (its input axis is the contiguous one), which
        is what makes the products below fast."""
        theta = self._checked_theta(theta)
        out, start = {}, 0
        for name, shape in self.shapes.items():
            stop = start + math.prod(shape)
            block = theta[:, start:stop]
            out[name] = (block.reshape(len(theta), *shape[::-1]).swapaxes(1, 2)
                         if len(shape) == 2 else block)
            start = stop
        return out

    def init(self, seeds) -> np.ndarray:
        """K = ``len(seeds)`` networks (a single seed: K = 1), network k from
        ``np.random.default_rng(seeds[k])``: He initialization ``W ~ N(0, 2/fan_in)``,
        biases 0.  Shape ``(K, P)``, float64."""
        array = np.asarray(seeds)
        if array.ndim > 1 or array.size == 0:
            raise ValueError(f"seeds must be a seed or a 1-D list of seeds, got {seeds!r:.60}")
        seeds = [check.seed("seeds", s) for s in np.atleast_1d(array).tolist()]
        theta = np.zeros((len(seeds), self.size))
        views = self.layers(theta)
        for k, seed in enumerate(seeds):
            rng = np.random.default_rng(seed)
            for name in ("W1", "W2"):
                fan_in = views[name].shape[1]
                views[name][k] = rng.standard_normal(views[name].shape[1:]) * math.sqrt(2 / fan_in)
        return theta

    # -- forward and backward --------------------------------------------------------------
    def forward(self, theta, X) -> dict[str, np.ndarray]:
        """The activations: ``z1`` (K, B, hidden), ``h`` = ReLU(z1), ``logits`` (K, B, classes)."""
        p = self.layers(theta)
        X = self._checked_inputs(X, len(theta))
        x = "bi" if X.ndim == 2 else "kbi"                             # shared or per network
        z1 = np.einsum(f"{x},kih->kbh", X, p["W1"]) + p["b1"][:, None, :]   # z1 = x W1 + b1
        h = np.maximum(z1, 0.0)                                        # h = ReLU(z1)
        logits = np.einsum("kbh,kho->kbo", h, p["W2"]) + p["b2"][:, None, :]  # z2 = h W2 + b2
        return {"z1": z1, "h": h, "logits": logits}

    def loss(self, theta, X, y) -> np.ndarray:
        """Mean cross-entropy of each network on the batch, shape ``(K,)``."""
        return self.loss_and_gradient(theta, X, y, gradient=False)[0]

    def loss_and_gradient(self, theta, X, y, *, gradient: bool = True):
        """``(loss, grad)``: the mean cross-entropy over the batch per network,
        shape ``(K,)``, and its gradient, laid out like ``theta`` (``(K, P)``;
        ``None`` with ``gradient=False``)."""
        a = self.forward(theta, X)
        X = np.asarray(X)
        y = self._checked_labels(y, X, len(theta))
        with np.errstate(invalid="ignore", over="ignore"):          # NaN networks stay NaN
            shifted = a["logits"] - a["logits"].max(axis=-1, keepdims=True)   # z2 − max z2
            e = portable_exp(shifted)                                   # e^(z2 − max)
            total = np.einsum("kbo->kb", e)                            # Σ_o e^(z2 − max)
            picked = np.take_along_axis(shifted, y[..., None], axis=-1)[..., 0]  # z2[y] − max
            loss = np.mean(portable_log(total) - picked, axis=-1)       # −log softmax(z2)[y]
        if not gradient:
            return loss, None
        batch = X.shape[-2]
        grad = np.empty_like(theta)
        g = self.layers(grad)
        onehot = np.arange(self.classes) == y[..., None]                # (K, B, classes)
        dz2 = (e / total[..., None] - onehot) / batch                   # ∂loss/∂z2 = (softmax − onehot)/B
        # The sums over the batch run along contiguous axes (transposed copies): 3× faster.
        np.einsum("khb,kob->kho", _transposed(a["h"]), _transposed(dz2),
                  out=g["W2"])                                          # ∂/∂W2 = hᵀ dz2
        np.einsum("kbo->ko", dz2, out=g["b2"])                           # ∂/∂b2 = Σ_b dz2
        dh = np.einsum("kbo,kho->kbh", dz2, self.layers(theta)["W2"])    # ∂/∂h = dz2 W2ᵀ
        dz1 = dh * (a["z1"] > 0)                                         # ReLU'(z1)
        x = "ib" if X.ndim == 2 else "kib"
        np.einsum(f"{x},khb->kih", _transposed(X), _transposed(dz1),
                  out=g["W1"])                                          # ∂/∂W1 = xᵀ dz1
        np.einsum("kbh->kh", dz1, out=g["b1"])                           # ∂/∂b1 = Σ_b dz1
        return loss, grad

    def predict(self, theta, X) -> np.ndarray:
        """The predicted class of each example, shape ``(K, B)`` (the largest logit)."""
        return np.argmax(self.forward(theta, X)["logits"], axis=-1)

    def error_rate(self, theta, X, y) -> np.ndarray:
        """The fraction of misclassified examples per network, shape ``(K,)``;
        NaN for a network whose logits are not finite (a diverged network has no
        predictions)."""
        logits = self.forward(theta, X)["logits"]
        y = self._checked_labels(y, np.asarray(X), len(theta))
        wrong = np.argmax(logits, axis=-1) != y
        finite = np.isfinite(logits).all(axis=(-2, -1))
        return np.where(finite, wrong.mean(axis=-1), np.nan)

    # -- checks --------------------------------------------------------------------------
    def _checked_theta(self, theta) -> np.ndarray:
        check.float_array("theta", theta)
        if theta.ndim != 2 or theta.shape[1] != self.size:
            raise ValueError(f"theta must have shape (K, {self.size}) for {self!r}, "
                             f"got shape {theta.shape}")
        return theta

    def _checked_inputs(self, X, k: int) -> np.ndarray:
        check.float_array("X", X)
        shared = X.ndim == 2 and X.shape[1] == self.inputs
        own = X.ndim == 3 and X.shape[0] == k and X.shape[2] == self.inputs
        if not (shared or own) or X.shape[-2] == 0:
            raise ValueError(f"X must have shape (B, {self.inputs}) (one batch for all "
                             f"networks) or ({k}, B, {self.inputs}) with B >= 1, "
                             f"got shape {X.shape}")
        return X

    def _checked_labels(self, y, X, k: int) -> np.ndarray:
        if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu":
            raise TypeError(f"y must be an integer ndarray of class labels, got {y!r:.60}")
        if y.shape != X.shape[:-1]:
            raise ValueError(f"y must have shape {X.shape[:-1]} (one label per row of X), "
                             f"got shape {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= self.classes):
            bad = y[(y < 0) | (y >= self.classes)].flat[0]
            raise ValueError(f"y must hold labels in [0, {self.classes}), got {int(bad)}")
        return np.broadcast_to(y, (k, X.shape[-2]))
