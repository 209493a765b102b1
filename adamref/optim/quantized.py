"""8-bit block-wise quantized Adam state (Dettmers et al., 2022, "8-bit
optimizers via block-wise quantization").

A state array is cut into blocks of ``block_size`` consecutive entries (of
the flattened parameter; the last block may be shorter).  Each block keeps one
float32 scale, its largest magnitude ``absmax``, and each entry one byte: the
index of the value of a fixed 256-entry map nearest to ``x/absmax``.

**The dynamic map** (``dynamic_map``) is bitsandbytes' ``create_dynamic_map``
(``bitsandbytes/functional.py``), matched value for value: for exponents
``i = 0 … 6`` the interval [0.1, 1] is cut into ``2^i`` equal parts (signed;
``2^(i+1)`` unsigned), and their midpoints times ``10^(i−6)`` are the map's
values (negated too, when signed), plus 0 and 1.  So the map has about as many
values per decade near 1 as a float with a 4-bit fraction, and still reaches
down to ~1e-7 of the block's absmax.  The signed map (for m) has no −1: a
block whose largest entry is negative stores it as −0.993·absmax.  The
unsigned map (for v, never negative) spends the sign bit on twice the values.

**Quantization** is round to nearest (ties to the smaller value) with the
midpoints of the sorted map as bucket edges, after ``x·(1/absmax)`` clipped to
[−1, 1]: bitsandbytes' reference kernel (``backends/default/ops.py``,
``quantize_blockwise``: ``torch.bucketize`` on the midpoints) and its CUDA
kernel's multiplication by the reciprocal.  Dequantization is ``map[code]·absmax``
in float32.  A zero stays exactly zero; an all-zero block has absmax 0.

``Adam8bit`` is ``Adam`` whose m and v live as codes between steps: each step
dequantizes them, takes ``Adam``'s step on the float values (so the update
uses the new, unquantized m and v, as bitsandbytes' kernels do) and
quantizes them again.  bitsandbytes uses blocks of 256 today and 2048 in the
paper (the default here), and keeps 32-bit state for tensors of fewer than
4096 entries (``min_8bit_size``); here every leaf is quantized, so that the
effect of quantization can be measured on small problems.
"""

from __future__ import annotations

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import Adam

CODE_DTYPE = np.dtype(np.uint8)
SCALE_DTYPE = np.dtype(np.float32)


def _linspace32(start: float, stop: float, count: int) -> np.ndarray:
    """``torch.linspace(start, stop, count, dtype=torch.float32)`` as torch 2.13
    computes it on the CPU: the step in float32, then ``start + step·i`` for the
    first half and ``stop − step·(count − 1 − i)`` for the second, each rounded
    once (a fused multiply-add; exact in float64 here, since step·i and the sum
    fit its 53 bits)."""
    start, stop = np.float32(start), np.float32(stop)
    step = float((stop - start) / np.float32(count - 1))
    index = np.arange(count)
    up = (float(start) + step * index).astype(np.float32)
    down = (float(stop) - step * (count - 1 - index)).astype(np.float32)
    return np.where(index < count // 2, up, down)


def dynamic_map(signed: bool = True) -> np.ndarray:
    """The 256 values of bitsandbytes' dynamic quantization map, increasing,
    float32 (``create_dynamic_map(signed)`` with 7 exponent bits, 8 bits in
    all): signed for m, unsigned (``signed=False``) for v."""
    signed = check.flag("signed", signed)
    values = []
    for i in range(7):
        parts = 2**i if signed else 2 ** (i + 1)
        edges = _linspace32(0.1, 1.0, parts + 1)
        means = (edges[:-1] + edges[1:]) / np.float32(2)
        decade = (np.float32(10.0 ** (i - 6)) * means).astype(np.float32)
        values += [decade, -decade] if signed else [decade]
    values += [np.zeros(1, np.float32), np.ones(1, np.float32)]
    table = np.sort(np.concatenate(values))
    assert table.size == 256
    return table


SIGNED_MAP = dynamic_map(signed=True)
UNSIGNED_MAP = dynamic_map(signed=False)
for _table in (SIGNED_MAP, UNSIGNED_MAP):
    _table.flags.writeable = False


def _edges(code: np.ndarray) -> np.ndarray:
    """The midpoints between neighbouring values of a map: the buckets' edges."""
    return (code[:-1] + code[1:]) / np.float32(2)


#: The two maps' edges, computed once (the optimizer quantizes twice a step).
_KNOWN_EDGES = {id(SIGNED_MAP): _edges(SIGNED_MAP), id(UNSIGNED_MAP): _edges(UNSIGNED_MAP)}


def block_count(size: int, block_size: int) -> int:
    """Blocks of ``block_size`` entries needed for ``size`` entries (the last one may be short)."""
    return -(-size // block_size)


def _checked_map(code) -> np.ndarray:
    if id(code) in _KNOWN_EDGES:              # one of the module's own (read-only) maps
        return code
    code = np.asarray(code)
    if code.shape != (256,) or code.dtype != np.float32 or np.any(np.diff(code) <= 0):
        raise ValueError("code must be 256 increasing float32 values (a map such as "
                         f"SIGNED_MAP), got dtype {code.dtype} shape {code.shape}")
    return code


def _blocks(flat: np.ndarray, block_size: int) -> np.ndarray:
    """``flat`` padded with zeros to whole blocks, shape ``(blocks, block_size)``."""
    padded = np.zeros(block_count(flat.size, block_size) * block_size, flat.dtype)
    padded[:flat.size] = flat
    return padded.reshape(-1, block_size)


def quantize_blockwise(x, code=SIGNED_MAP, block_size: int = 2048):
    """``(codes, absmax)``: ``codes`` (uint8, ``x``'s shape) index ``code`` (a map
    from ``dynamic_map``), ``absmax`` (float32, one per block of the flattened
    ``x``) scales each block.  ``x`` is a float array, taken as float32
    (the quantized state is float32-based, as in bitsandbytes).  A NaN or an
    inf spoils its block (absmax NaN or inf: the block dequantizes to NaN, an
    inf entry to inf), so a diverging run stays visible."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"x must be a float array, got dtype {x.dtype}")
    code = _checked_map(code)
    block_size = check.integer("block_size", block_size, low=1)
    flat = x.reshape(-1).astype(np.float32)
    if code[0] >= 0 and np.any(flat < 0):
        raise ValueError("x has negative values but code is an unsigned map (use SIGNED_MAP)")
    blocks = _blocks(flat, block_size)
    absmax = np.max(np.abs(blocks), axis=1)
    inverse = np.float32(1) / np.maximum(absmax, np.float32(1e-38))      # as bitsandbytes
    scaled = np.clip(blocks * inverse[:, None], -1, 1).reshape(-1)[:flat.size]
    edges = _KNOWN_EDGES.get(id(code))
    edges = _edges(code) if edges is None else edges                      # nearest value
    codes = np.searchsorted(edges, scaled, side="left").astype(CODE_DTYPE)
    return codes.reshape(x.shape), absmax.astype(SCALE_DTYPE)


def dequantize_blockwise(codes, absmax, code=SIGNED_MAP, block_size: int = 2048) -> np.ndarray:
    """``code[codes]·absmax`` block by block, float32, ``codes``' shape."""
    codes = np.asarray(codes)
    absmax = np.asarray(absmax)
    code = _checked_map(code)
    block_size = check.integer("block_size", block_size, low=1)
    if codes.dtype != CODE_DTYPE:
        raise TypeError(f"codes must be uint8, got dtype {codes.dtype}")
    if absmax.dtype != SCALE_DTYPE or absmax.shape != (block_count(codes.size, block_size),):
        raise ValueError(f"absmax must be float32 of shape ({block_count(codes.size, block_size)},) "
                         f"for {codes.size} codes in blocks of {block_size}, got {absmax.dtype} "
                         f"{absmax.shape}")
    values = _blocks(code[codes.reshape(-1)], block_size) * absmax[:, None]
    return values.reshape(-1)[:codes.size].reshape(codes.shape)


def zero_code(code=SIGNED_MAP) -> int:
    """The index of 0 in ``code``."""
    return int(np.flatnonzero(_checked_map(code) == 0)[0])


class Adam8bit(Adam):
    """``Adam`` with m and v stored as 8-bit codes and a float32 absmax per
    block of ``block_size`` entries (``m``: the signed dynamic map, ``v``: the
    unsigned one); see the module docstring.

    Buffers: ``m_codes``, ``v_codes`` (uint8, the parameter's shape) and
    ``m_absmax``, ``v_absmax`` (float32, one per block).  The properties ``m``
    and ``v`` give the dequantized state.  State bytes per parameter:
    ``2 + 8/block_size``.  Parameters are float32 (the state is float32-based:
    with float64 parameters a square that fits float64 could overflow it).
    Hyperparameters are numbers or, for ``lr``, a
    schedule: no arrays, because a block's scale is shared by its entries, so
    one leaf cannot hold independent configurations.  Every leaf is kept whole
    (its blocks run over the flattened leaf).
    """

    _whole_leaves = True
    _default_layout = False
    _nonnegative_buffers = ("m_absmax", "v_absmax")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, block_size=2048):
        super().__init__(lr, beta1, beta2, eps)
        for name in ("lr", "beta1", "beta2", "eps"):
            if isinstance(self._hyper[name], np.ndarray):
                raise TypeError(f"{name} must be a number for Adam8bit (a block's scale is "
                                f"shared by its entries), got an array of shape "
                                f"{self._hyper[name].shape}")
        self.block_size = check.integer("block_size", block_size, low=1)

    m = property(lambda self: self._dequantized("m"), doc="First moment, dequantized.")
    v = property(lambda self: self._dequantized("v"), doc="Second moment, dequantized.")
    v_max = None

    def _settings(self):
        return {"block_size": self.block_size}

    def _buffer_names(self):
        return ("m_codes", "m_absmax", "v_codes", "v_absmax")

    def _buffer_layout(self, name, param):
        if param.dtype != np.float32:
            raise TypeError(f"Adam8bit updates float32 parameters (its state is float32-based, "
                            f"as bitsandbytes', which has no float64 kernels), got dtype "
                            f"{param.dtype}")
        if name.endswith("_codes"):
            return param.shape, CODE_DTYPE
        return (block_count(param.size, self.block_size),), SCALE_DTYPE

    def _loaded_dtypes(self, name):
        return (CODE_DTYPE,) if name.endswith("_codes") else (SCALE_DTYPE,)

    def _initial_buffer(self, name, param):
        shape, dtype = self._buffer_layout(name, param)
        if name.endswith("_codes"):     # the code of 0 (any code times absmax 0 is 0, but say 0)
            return np.full(shape, zero_code(SIGNED_MAP if name == "m_codes" else UNSIGNED_MAP),
                           dtype)
        return np.zeros(shape, dtype)

    def _dequantized(self, name):
        if self._buffers is None:
            return None
        code = SIGNED_MAP if name == "m" else UNSIGNED_MAP
        return self._structure.unflatten(
            [dequantize_blockwise(c, a, code, self.block_size)
             for c, a in zip(self._buffers[f"{name}_codes"], self._buffers[f"{name}_absmax"])])

    def effective_step(self):
        raise NotImplementedError("Adam8bit's step used the unquantized v of that step, "
                                  "which is not kept; see Adam8bit.v for the stored one")

    def _update(self, theta, g, state, scratch, c):
        moments = {"m": dequantize_blockwise(state["m_codes"], state["m_absmax"], SIGNED_MAP,
                                             self.block_size).astype(theta.dtype),
                   "v": dequantize_blockwise(state["v_codes"], state["v_absmax"], UNSIGNED_MAP,
                                             self.block_size).astype(theta.dtype)}
        super()._update(theta, g, moments, scratch, c)       # Adam's step on float m and v
        for name, code in (("m", SIGNED_MAP), ("v", UNSIGNED_MAP)):
            codes, absmax = quantize_blockwise(moments[name], code, self.block_size)
            state[f"{name}_codes"][...] = codes
            state[f"{name}_absmax"][...] = absmax
