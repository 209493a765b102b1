"""The machinery every optimizer shares: walking a parameter structure, lazily
creating per-parameter state, scratch buffers, and ``state_dict`` round trips.

A subclass only says which buffers it keeps (``_buffer_names``), what it
computes once per step (``_step_constants``) and how it updates one block of
parameters (``_update``).  The update is written with ``out=`` arguments so a
step allocates nothing of parameter size: with scalar hyperparameters the
arrays are processed in cache-sized chunks through two small scratch buffers,
so memory traffic is close to the minimum (read θ, g and the state once, write
θ and the state once).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _validation as check
from ._tree import Structure, flatten_pair

#: Elements per chunk: 2**17 float64 = 1 MiB per array, so one chunk of θ, g,
#: the state and the two scratch buffers stays in cache between the ~12 NumPy
#: calls of a step.  Measured on the 2-core reference machine (10M float64
#: parameters): 2**13 → 59 ms, 2**15 → 48 ms, 2**17 → 45 ms, 2**24 → 61 ms.
CHUNK = 1 << 17


#: Threads sharing one large array's chunks: ufuncs release the GIL, so on a
#: multi-core machine the chunks of a 10M-parameter step run in parallel.
THREADS = max(1, min(4, os.cpu_count() or 1))

#: An overflow (g² beyond the dtype's range) raises; NaN/Inf from NaN/Inf
#: inputs propagate silently, as in PyTorch.
FLOATING_POINT_POLICY = {"over": "raise", "invalid": "ignore", "divide": "ignore"}

_POOL: ThreadPoolExecutor | None = None


def _thread_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="adamref")
    return _POOL


def as_weak_scalar(x):
    """0-d results as Python floats: NumPy 2 lets a float32 array absorb a Python
    float without promotion, while an ``np.float64`` would promote the arithmetic."""
    return float(x) if np.ndim(x) == 0 else x


def power(base, t: int):
    """``base**t`` for an integer ``t >= 0``, by repeated squaring in float64.

    Only multiplications, which IEEE 754 rounds correctly: the result is the
    same on every CPU.  ``np.power`` and libm's ``pow`` are not; their SIMD and
    FMA code paths differ in the last bit between machines, and a long run
    amplifies that.  Scalars (Python floats) and arrays take the same sequence
    of multiplications, so a broadcast sweep reproduces its single runs exactly.
    Squaring doubles a relative error, so the result is within about t ulps of
    ``base**t`` (t·eps relative), the same order as the rounding that t steps of
    an exponential moving average accumulate anyway; for the bias corrections
    1 − β^t of Adam that is at most about 400 ulps of 1 at β = 0.999
    (max over t of t·β^t = 1/(e·ln(1/β))).
    """
    scalar = np.ndim(base) == 0
    factor = float(base) if scalar else np.array(base, dtype=np.float64)
    result = 1.0 if scalar else np.ones_like(factor)
    while t:
        if t & 1:
            result = result * factor
        t >>= 1
        if t:
            factor = factor * factor
    return np.float64(result) if scalar else result


class Optimizer:
    """Base class: ``step(params, grads)`` updates ``params`` in place."""

    def __init__(self, **hyperparameters):
        self._hyper = hyperparameters  # validated by the subclass
        self.t = 0                     # steps taken so far
        self._structure: Structure | None = None
        self._buffers: dict[str, list[np.ndarray]] | None = None
        self._scratch: dict = {}
        self._pending_state: dict | None = None  # loaded, waiting for the first step

    # -- what a subclass provides ------------------------------------------------
    def _buffer_names(self) -> tuple[str, ...]:
        return ()

    def _initial_buffer(self, name: str, param: np.ndarray) -> np.ndarray:
        return np.zeros_like(param, order="C")

    def _step_constants(self) -> dict:
        """Per-step values derived from the hyperparameters (bias corrections,
        ...), computed once per step; ``_update`` receives them merged with the
        hyperparameters themselves."""
        return {}

    def _update(self, theta, grad, buffers: dict, scratch: tuple, c: dict):
        """Update one block in place; ``c`` holds the hyperparameters and the
        step constants (Python floats, or arrays of the parameter's dtype)."""
        raise NotImplementedError

    # -- public interface ----------------------------------------------------------
    def step(self, params, grads):
        """Apply one update to ``params`` in place and return ``params``.

        ``params`` is a float ndarray or a list/dict of them; ``grads`` has the
        same structure and shapes.  NaN or Inf in a gradient propagates into the
        state and the parameter (as in PyTorch and Keras): the optimizer does not
        hide a diverging run.  A squared gradient that overflows the parameter's
        dtype (``|g| > 1.8e19`` in float32) raises ``FloatingPointError`` instead of
        silently producing an infinite second moment.
        """
        param_leaves, grad_leaves, structure = flatten_pair(params, grads)
        names = structure.leaf_names("params", len(param_leaves))
        for param, name in zip(param_leaves, names):
            for hp_name, value in self._hyper.items():
                check.broadcasts_to(hp_name, value, param.shape, name)
        self._ensure_state(param_leaves, structure)
        self.t += 1
        constants = {**self._hyper, **self._step_constants()}
        for i, (theta, grad) in enumerate(zip(param_leaves, grad_leaves)):
            buffers = {k: self._buffers[k][i] for k in self._buffers}
            try:
                with np.errstate(**FLOATING_POINT_POLICY):
                    self._update_leaf(i, theta, grad, buffers, constants)
            except FloatingPointError as error:
                largest = float(np.max(np.abs(grad)))
                raise FloatingPointError(
                    f"{names[i]}: {error} in {theta.dtype} (largest |gradient| "
                    f"{largest:.3g}; g² must fit in {np.finfo(theta.dtype).max:.3g}): "
                    "use float64 parameters or scale the loss down") from None
        return params

    @property
    def hyperparameters(self) -> dict:
        """The validated hyperparameters (floats, or arrays for a sweep), a copy."""
        return dict(self._hyper)

    @property
    def state(self) -> dict:
        """The per-parameter buffers, each in the structure of ``params``
        (live arrays, not copies).  Empty before the first step."""
        if self._buffers is None:
            return {}
        return {k: self._structure.unflatten(v) for k, v in self._buffers.items()}

    def _state(self, name: str):
        if self._buffers is None or name not in self._buffers:
            return None
        return self._structure.unflatten(self._buffers[name])

    def state_dict(self) -> dict[str, np.ndarray]:
        """A flat ``{name: ndarray}`` copy of the state, ready for ``np.savez``."""
        if self._pending_state is not None:
            return {k: v.copy() for k, v in self._pending_state.items()}
        out = {"t": np.asarray(self.t, dtype=np.int64)}
        if self._buffers is not None:
            out["structure"] = np.asarray(self._structure.kind)
            for name, leaves in self._buffers.items():
                keys = self._structure.state_keys(name, len(leaves))
                out.update({k: leaf.copy() for k, leaf in zip(keys, leaves)})
        return out

    def load_state_dict(self, state) -> None:
        """Restore a ``state_dict()`` (or the ``np.load`` of its ``np.savez``).

        The buffers are created at the next ``step`` from ``params``' structure
        and then filled from ``state``; missing or mis-shaped entries raise.
        """
        if "t" not in state:
            raise ValueError("state must contain 't' (the step count), got keys "
                             f"{sorted(state)}")
        t = int(np.asarray(state["t"]))
        if t < 0:
            raise ValueError(f"state['t'] must be >= 0, got {t}")
        self.t = t
        self._pending_state = {k: np.asarray(state[k]) for k in state}
        self._structure = None
        self._buffers = None

    # -- internals -------------------------------------------------------------------
    def _ensure_state(self, param_leaves, structure):
        if self._buffers is None:
            self._structure = structure
            self._buffers = {name: [self._initial_buffer(name, p) for p in param_leaves]
                             for name in self._buffer_names()}
            self._scratch = {}
            pending = self._pending_state
            if pending is not None:
                self._pending_state = None
                self._fill_from(pending)
            return
        shapes = [b.shape for b in next(iter(self._buffers.values()), param_leaves)]
        if structure != self._structure or shapes != [p.shape for p in param_leaves]:
            raise ValueError(
                "params do not match the optimizer's state: the state was created for "
                f"{self._structure.describe(len(shapes))} of shapes {shapes}, got "
                f"{structure.describe(len(param_leaves))} of shapes "
                f"{[p.shape for p in param_leaves]}")

    def _fill_from(self, state):
        stored_kind = str(state.get("structure", self._structure.kind))
        if stored_kind != self._structure.kind:
            raise ValueError(f"the loaded state was saved for a params {stored_kind}, "
                             f"got a params {self._structure.kind}")
        for name, leaves in self._buffers.items():
            keys = self._structure.state_keys(name, len(leaves))
            for key, leaf in zip(keys, leaves):
                if key not in state:
                    raise ValueError(f"the loaded state has no entry {key!r}")
                check.same_shape(f"state[{key!r}]", state[key], "its parameter", leaf)
                leaf[...] = state[key]

    def _update_leaf(self, i, theta, grad, buffers, constants):
        arrays = [theta, grad, *buffers.values()]
        scalar_hyper = not any(isinstance(v, np.ndarray) for v in self._hyper.values())
        if scalar_hyper and all(a.flags.c_contiguous for a in arrays):
            # Chunked path: flat views of the contiguous arrays, cut into blocks
            # that stay in cache; large arrays are shared between threads (NumPy
            # releases the GIL inside ufuncs), each with its own scratch buffers.
            flat = [a.reshape(-1) for a in arrays]
            n = theta.size
            starts = range(0, n, CHUNK)
            workers = THREADS if len(starts) >= 2 * THREADS else 1
            groups = [starts[w::workers] for w in range(workers)]
            jobs = [(group, self._scratch_for(("chunk", theta.dtype, w), (min(n, CHUNK),),
                                              theta.dtype))
                    for w, group in enumerate(groups)]
            names = list(buffers)

            def run(group, scratch):
                with np.errstate(**FLOATING_POINT_POLICY):   # errstate is per thread
                    for start in group:
                        stop = min(start + CHUNK, n)
                        width = stop - start
                        self._update(flat[0][start:stop], flat[1][start:stop],
                                     {k: b[start:stop] for k, b in zip(names, flat[2:])},
                                     (scratch[0][:width], scratch[1][:width]), constants)
            if workers == 1:
                run(*jobs[0])
            else:
                for future in [_thread_pool().submit(run, *job) for job in jobs]:
                    future.result()                          # re-raises a worker's error
        else:
            # Whole-array path (broadcast hyperparameters or strided arrays):
            # parameter-sized scratch, allocated once per leaf and reused.
            # Array constants are cast to the parameter's dtype, as Python floats
            # are: a float32 sweep then rounds exactly like float32 single runs.
            scratch = self._scratch_for(("leaf", i), theta.shape, theta.dtype)
            constants = {k: np.asarray(v, dtype=theta.dtype) if isinstance(v, np.ndarray) else v
                         for k, v in constants.items()}
            self._update(theta, grad, buffers, scratch, constants)

    def _scratch_for(self, key, shape, dtype):
        """Two scratch arrays, kept between steps: a chunk buffer grows to the
        largest chunk seen, a whole-leaf buffer has the leaf's exact shape."""
        buffers = self._scratch.get(key)
        too_small = buffers is not None and (
            buffers[0].size < shape[0] if key[0] == "chunk" else buffers[0].shape != shape)
        if buffers is None or too_small:
            buffers = (np.empty(shape, dtype), np.empty(shape, dtype))
            self._scratch[key] = buffers
        return buffers

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"

    def _config(self) -> dict:
        return dict(self._hyper)
