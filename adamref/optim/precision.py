"""Adam in low precision: bfloat16 emulated on float32, float16 as NumPy's own.

**bfloat16** (bf16) keeps float32's sign and 8-bit exponent and only the top 7
of its 23 fraction bits: 8 significant bits, float32's range.  NumPy has no
bf16 type, so a bf16 number is stored here in a float32 whose low 16 bits are
zero, and ``round_to_bfloat16`` makes such numbers: round to nearest, ties to
even, by integer operations on the float32 bit pattern.  Adding ``0x7FFF``
plus the last kept bit and clearing the low 16 bits rounds the magnitude to
nearest-even; a carry out of the fraction moves into the exponent (so 255.5
becomes 256, and anything from ``(2 − 2^-8)·2^127`` up becomes ``inf``, as in
bf16); ±0, ±inf keep their patterns; a NaN stays a NaN (its quiet bit is
set, so clearing the low bits cannot turn it into inf).  Float32 subnormals
round to bf16's subnormals, which have the same exponent field: the smallest
is ``2^-133``.

**Arithmetic.**  One bf16 operation is emulated by the float32 operation
followed by ``round_to_bfloat16``.  For +, −, ×, ÷ and √ of bf16 numbers this
double rounding gives the correctly rounded bf16 result: float32 carries
24 ≥ 2·8 + 2 significant bits, enough that the first rounding can never move
an exact result onto a bf16 midpoint (Figueroa, 1995).  The same argument
(24 ≥ 2·11 + 2) makes NumPy's float16 arithmetic, which computes in float32
and rounds back, correctly rounded **fp16**: float16 arrays are used as they
are.

``adam_update_in(precision, ...)`` is one Adam step (the operation order of
``Adam``) with every number it touches in ``precision``: the gradient, m and
v, each intermediate result, and the constants (1 − β1, 1 − β2, ε, the bias
corrections, computed in float64 and rounded once).  It is an instrument: it
refuses nothing that the format itself would compute, so an ε that rounds to
0, a g² that underflows or overflows, and the resulting ±inf and NaN come out
as the format makes them.  ``moments_in`` repeats its moment updates alone
(a constant gradient's long run, without a step's checks at every step);
``LowPrecisionAdam`` keeps the state for a loop.
"""

from __future__ import annotations

import math

import numpy as np

from adamref.optim import validation as check
from adamref.optim.functional import checked_hyperparameters
from adamref.optim.optimizer import power

#: The precisions Adam can run in here, and the NumPy dtype that stores each.
STORAGE = {"fp32": np.dtype(np.float32), "bf16": np.dtype(np.float32),
           "fp16": np.dtype(np.float16)}
PRECISIONS = tuple(STORAGE)

#: bf16's landmarks (exact powers of two and the largest finite value).
BF16_SMALLEST_SUBNORMAL = 2.0**-133
BF16_SMALLEST_NORMAL = 2.0**-126
BF16_LARGEST = (2 - 2.0**-7) * 2.0**127
BF16_EPS = 2.0**-7            # the spacing of bf16 numbers in [1, 2)


def precision_name(precision) -> str:
    """``precision`` checked: one of ``PRECISIONS``."""
    if not isinstance(precision, str) or precision not in STORAGE:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    return precision


def round_to_bfloat16(x) -> np.ndarray:
    """``x`` (float32) rounded to the nearest bfloat16 number, ties to even,
    returned as float32 (see the module docstring); the input is unchanged.

    Only float32 input: a float64 value rounded to float32 first and then to
    bf16 could land on a bf16 midpoint that the value itself is not on (a
    double rounding); cast on purpose, ``np.float32(x)``, if that is meant."""
    array = np.asarray(x)
    if array.dtype != np.float32:
        raise TypeError(f"x must be float32 (bf16 is emulated on float32's bits), got dtype "
                        f"{array.dtype}: cast with np.float32(x) or x.astype(np.float32)")
    bits = array.view(np.uint32)
    rounded = (bits >> 16) & np.uint32(1)               # the last kept bit: ties to even
    rounded += bits
    rounded += np.uint32(0x7FFF)                        # up from half an ulp (or from a tie if odd)
    rounded &= np.uint32(0xFFFF0000)
    nan = np.isnan(array)
    if nan.any():                                       # quiet bit set: cannot round to inf
        rounded[nan] = (bits[nan] | np.uint32(0x00400000)) & np.uint32(0xFFFF0000)
    return rounded.view(np.float32)


def is_bfloat16(x) -> bool:
    """Whether every value of the float32 array ``x`` is a bf16 number."""
    array = np.asarray(x)
    return array.dtype == np.float32 and not np.any(array.view(np.uint32) & np.uint32(0xFFFF))


def to_precision(x, precision: str) -> np.ndarray:
    """``x`` as a number (array) of ``precision``, in its storage dtype: float32
    for fp32 and bf16, float16 for fp16.  A float64 value bound for bf16 is
    rounded to float32 first (a value computed in float32, then stored in bf16)."""
    precision = precision_name(precision)
    array = np.asarray(x)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"x must be real numbers, got dtype {array.dtype}")
    with np.errstate(over="ignore"):            # beyond the format's range: ±inf, as the format
        stored = array.astype(STORAGE[precision])
    return round_to_bfloat16(stored) if precision == "bf16" else stored


def positive_values(precision: str) -> np.ndarray:
    """Every positive finite number of a 16-bit format (``"fp16"`` or ``"bf16"``),
    increasing, in its storage dtype: from the smallest subnormal to the
    largest finite value (31 743 fp16 numbers, 32 639 bf16 numbers)."""
    precision = precision_name(precision)
    if precision == "fp16":
        return np.arange(0x0001, 0x7C00, dtype=np.uint16).view(np.float16)
    if precision == "bf16":
        return (np.arange(0x0001, 0x7F80, dtype=np.uint32) << np.uint32(16)).view(np.float32)
    raise ValueError("positive_values lists a 16-bit format ('fp16' or 'bf16'), got 'fp32'")


def _rounding(precision: str):
    """The rounding after each operation: bf16 rounds float32 results; fp16
    (NumPy's float16 rounds itself) and fp32 need none."""
    return round_to_bfloat16 if precision == "bf16" else (lambda a: a)


def _array(name: str, value, dtypes) -> np.ndarray:
    """A plain ndarray of one of ``dtypes``."""
    if not isinstance(value, np.ndarray) or isinstance(value, (np.ma.MaskedArray, np.matrix)):
        raise TypeError(f"{name} must be a plain NumPy ndarray, got {type(value).__name__}")
    if value.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype {' or '.join(str(np.dtype(d)) for d in dtypes)}, "
                        f"got dtype {value.dtype}")
    return value


def _stored(name: str, value, precision: str) -> np.ndarray:
    """An array that holds numbers of ``precision`` in its storage dtype."""
    value = _array(name, value, (STORAGE[precision],))
    if precision == "bf16" and not is_bfloat16(value):
        raise ValueError(f"{name} holds float32 values that are not bf16 numbers: pass "
                         f"round_to_bfloat16({name})")
    return value


def adam_update_in(precision, theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999,
                   eps=1e-8, *, master_weights=False):
    """One Adam step with every number in ``precision`` (``"fp32"``, ``"bf16"``
    or ``"fp16"``); returns new (theta, m, v), the inputs unchanged.

    ``m`` and ``v`` are numbers of ``precision`` in its storage dtype (float32
    for fp32 and bf16, float16 for fp16; start them with ``to_precision(0, …)``
    arrays).  ``grad`` (any float array of θ's shape) is first stored in
    ``precision``.  ``theta`` is in ``precision`` too, or, with
    ``master_weights=True``, a float32 master copy: then only the update is
    computed in ``precision`` and subtracted in float32.

    The operations are ``Adam``'s, each rounded: ``m += (1 − β1)(g − m)``,
    ``v += (1 − β2)(g² − v)``, ``θ −= (α/(1 − β1^t))·m/(√v/√(1 − β2^t) + ε)``.
    With ``precision="fp32"`` this is ``Adam`` on float32 bit for bit.
    Hyperparameters are numbers, except ``lr``, which may be an array that
    broadcasts to θ (a sweep: every operation is elementwise, so each row runs
    as alone); NaN, ±inf, a zero ε and underflow are the format's, not refused
    (see the module docstring)."""
    precision = precision_name(precision)
    master = check.flag("master_weights", master_weights)
    theta = _stored("theta", theta, "fp32" if master else precision)
    m, v = _stored("m", m, precision), _stored("v", v, precision)
    grad = _array("grad", grad, (np.float16, np.float32, np.float64))
    for name, value in (("grad", grad), ("m", m), ("v", v)):
        check.same_shape(name, value, "theta", theta)
    if np.any(v < 0):
        raise ValueError(f"v must be >= 0, got {float(v[v < 0].flat[0])!r}")
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
    check.broadcasts_to("lr", lr, theta.shape, "theta")
    for name, value in zip(("beta1", "beta2", "eps"), (beta1, beta2, eps)):
        if isinstance(value, np.ndarray):
            raise TypeError(f"{name} must be a number here, got an array of shape {value.shape}")
    r = _rounding(precision)
    step_size, sqrt_correction2, eps_ = (
        to_precision(c, precision)[()] for c in
        (lr / (1 - power(beta1, t)), math.sqrt(1 - power(beta2, t)), eps))
    g = to_precision(grad, precision)
    m, v = _moment_updates(precision, g, m, v, beta1, beta2, 1)
    with np.errstate(all="ignore"):            # the format's ±inf and NaN are results here
        denom = r(r(r(np.sqrt(v)) / sqrt_correction2) + eps_)          # √v/√(1 − β2^t) + ε
        update = r(step_size * r(m / denom))                             # α/(1 − β1^t)·m/denom
        theta = theta - update.astype(np.float32) if master else r(theta - update)
    return theta, m, v


def _moment_updates(precision, g, m, v, beta1, beta2, repeat):
    """``repeat`` updates of m and v with the gradient ``g`` (already in
    ``precision``), each operation rounded: ``adam_update_in``'s arithmetic."""
    r = _rounding(precision)
    one_minus_beta1, one_minus_beta2 = (to_precision(c, precision)[()]
                                        for c in (1 - beta1, 1 - beta2))
    with np.errstate(all="ignore"):            # the format's ±inf and NaN are results here
        square = r(g * g)                                               # g²
        for _ in range(repeat):
            m = r(m + r(one_minus_beta1 * r(g - m)))                    # m += (1 − β1)(g − m)
            v = r(v + r(one_minus_beta2 * r(square - v)))               # v += (1 − β2)(g² − v)
    return m, v


def moments_in(precision, grad, m, v, beta1=0.9, beta2=0.999, *, repeat=1):
    """m and v after ``repeat`` of ``adam_update_in``'s moment updates with the
    same gradient ``grad``, every number in ``precision`` (the same bits as
    ``repeat`` calls of ``adam_update_in``, whose θ, α and ε the moments do not
    see); returns new (m, v), the inputs unchanged.  For a constant gradient
    this runs the moments of a long run without a step's checks at every step."""
    precision = precision_name(precision)
    m, v = _stored("m", m, precision), _stored("v", v, precision)
    grad = _array("grad", grad, (np.float16, np.float32, np.float64))
    for name, value in (("grad", grad), ("v", v)):
        check.same_shape(name, value, "m", m)
    if np.any(v < 0):
        raise ValueError(f"v must be >= 0, got {float(v[v < 0].flat[0])!r}")
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    for name, value in (("beta1", beta1), ("beta2", beta2)):
        if isinstance(value, np.ndarray):
            raise TypeError(f"{name} must be a number here, got an array of shape {value.shape}")
    repeat = check.integer("repeat", repeat, low=0)
    return _moment_updates(precision, to_precision(grad, precision), m, v, beta1, beta2, repeat)


class LowPrecisionAdam:
    """``adam_update_in`` with its state kept, behind the optimizers'
    ``step(params, grads)`` interface: one ndarray updated in place (float32,
    or float16 for fp16 without master weights).  ``m``, ``v`` and ``t`` are
    its state; a call that raises changes nothing.  ``lr`` may be an array
    broadcasting against the parameters (a sweep)."""

    def __init__(self, precision="fp32", lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *,
                 master_weights=False):
        self.precision = precision_name(precision)
        self.master_weights = check.flag("master_weights", master_weights)
        self.lr, self.beta1, self.beta2, self.eps = (
            check.hyperparameter("lr", lr, low=0.0),      # a number, or an array (a sweep)
            check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False),
            check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False),
            check.hyperparameter("eps", eps, low=0.0))
        self.t = 0
        self.m = self.v = None

    def __repr__(self):
        return (f"LowPrecisionAdam({self.precision!r}, lr={self.lr!r}, beta1={self.beta1!r}, "
                f"beta2={self.beta2!r}, eps={self.eps!r}, master_weights={self.master_weights})")

    def state_bytes(self) -> int:
        """Bytes of m and v as the format stores them (2 per number for bf16 and
        fp16, 4 for fp32; the float32 container of emulated bf16 does not count)."""
        if self.m is None:
            return 0
        per_number = 4 if self.precision == "fp32" else 2
        return 2 * self.m.size * per_number

    def step(self, params, grads):
        if not isinstance(params, np.ndarray):
            raise TypeError(f"params must be a NumPy ndarray, got {type(params).__name__}")
        zeros = to_precision(np.zeros(params.shape), self.precision)
        m, v = (self.m, self.v) if self.m is not None else (zeros, zeros)
        new, m, v = adam_update_in(self.precision, params, grads, m, v, self.t + 1, self.lr,
                                   self.beta1, self.beta2, self.eps,
                                   master_weights=self.master_weights)
        params[...] = new     # raises (read-only) before anything else changes
        self.t, self.m, self.v = self.t + 1, m, v
        return params
