"""The engine every optimizer runs on: how one leaf's update is applied.

An optimizer says what one block of parameters becomes (its ``_update``, a few
lines of math); the engine decides the blocks and runs the update on them:

- a small contiguous leaf is one block, run directly (no pool, no lists);
- a large contiguous leaf is cut into cache-sized chunks (``CHUNK``) shared
  between ``THREADS`` threads (ufuncs release the GIL), each thread with its
  own scratch, so a step streams θ, g and the state through memory about once;
- a leaf with array hyperparameters (a sweep) or strided memory is one block
  with parameter-sized scratch (the "whole-array path").

Before anything is written, ``check_squares`` makes sure, read-only, that every
squared gradient fits the dtype (see ``Optimizer``): a cheap bound first, the
exact elementwise check only when the bound does not fit.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from adamref.optim import validation as check

#: Elements per chunk: 2**17 float64 = 1 MiB per array, so one chunk of θ, g,
#: the state and the two scratch buffers stays in cache between the ~12 NumPy
#: calls of a step.  Measured on the 2-core reference machine (10M float64
#: parameters): 2**13 → 59 ms, 2**15 → 48 ms, 2**17 → 45 ms, 2**24 → 61 ms.
CHUNK = 1 << 17

#: Threads sharing one large array's chunks: ufuncs release the GIL, so on a
#: multi-core machine the chunks of a 10M-parameter step run in parallel.
THREADS = max(1, min(4, os.cpu_count() or 1))

#: Floating-point policy.  Before anything is written, a read-only check makes
#: sure every squared gradient fits the parameter's dtype (``CHECK_POLICY``,
#: overflow raises); the update itself then runs under ``UPDATE_POLICY``, which
#: raises nothing, so a step can never stop half-way through the arrays.  NaN
#: and Inf coming from NaN/Inf inputs propagate silently, as in PyTorch.
CHECK_POLICY = {"over": "raise", "invalid": "ignore", "divide": "ignore", "under": "ignore"}
UPDATE_POLICY = {"all": "ignore"}

#: The largest finite value of each dtype the optimizers compute in.
LARGEST = {dtype: float(np.finfo(dtype).max) for dtype in check.FLOAT_DTYPES}

_POOL: ThreadPoolExecutor | None = None


#: Up to this many elements, the overflow bound is the norm ‖a‖ ≥ max|a| from
#: one dot product (a single-threaded BLAS call, cheaper than two reductions
#: on a small array); larger blocks use max/min reductions, which stay out of
#: BLAS (its threads kept spinning and slowed the update after them).
SMALL = 4096


def largest_magnitude(a: np.ndarray) -> float:
    """An upper bound of ``max|a|``: the exact maximum by max/min reductions
    (no temporary), or ``‖a‖`` for a small array; NaN if ``a`` holds a NaN
    (or, for the norm, if a square overflows), 0 if empty."""
    if a.size <= SMALL:
        return math.sqrt(float(np.vdot(a, a))) if a.size else 0.0
    high = float(np.maximum.reduce(a, axis=None))
    if high != high:       # a NaN somewhere: the exact check will decide
        return high
    return max(high, -float(np.minimum.reduce(a, axis=None)))


def overflow_error(name: str, error: FloatingPointError, dtype, grad,
                   must_fit: str = "g²") -> FloatingPointError:
    """The error for a squared gradient that does not fit ``dtype``: what
    overflowed, where, by how much, and what to do about it."""
    largest = float(np.max(np.abs(grad), where=np.isfinite(grad), initial=0.0))
    limit = LARGEST[np.dtype(dtype)]
    advice = ("use float64 parameters or scale the loss down" if np.dtype(dtype) != np.float64
              else "scale the loss down")
    return FloatingPointError(
        f"{name}: {error} in {np.dtype(dtype)} (largest finite |gradient| {largest:.3g}; "
        f"{must_fit} must fit in {limit:.3g}): nothing was updated; {advice}")


def threads_for(n: int) -> int:
    """Threads that share the chunks of a contiguous array of ``n`` values:
    ``THREADS`` once there are at least two chunks per thread, else one."""
    chunks = -(-n // CHUNK)
    return THREADS if chunks >= 2 * THREADS else 1


def _thread_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="adamref")
    return _POOL


class Engine:
    """One optimizer's blocks, scratch buffers and runs.

    ``scratch`` maps a key to two arrays kept between steps: ``("chunk", dtype,
    worker)`` buffers grow to the largest chunk seen, ``("leaf", i)`` buffers
    have leaf ``i``'s exact shape.  ``instrument(view)`` replaces them by views
    (e.g. an ndarray subclass that logs the ufunc calls made on it).
    """

    def __init__(self):
        self.scratch: dict = {}

    def reset(self) -> None:
        """Forget the scratch buffers (a loaded state may have other shapes)."""
        self.scratch = {}

    def instrument(self, view) -> None:
        """Replace every scratch buffer ``b`` by ``view(b)`` (same memory), so
        that instrumentation also sees the in-place operations on scratch."""
        self.scratch = {key: tuple(view(b) for b in buffers)
                        for key, buffers in self.scratch.items()}

    def blocks(self, i: int, theta, grad, buffers: dict, whole: bool):
        """The blocks of leaf ``i``, one list per worker thread; each block is
        ``(theta, grad, buffers, scratch)``.  ``whole`` forces the whole-array
        path (array hyperparameters)."""
        if not whole and theta.flags.c_contiguous and grad.flags.c_contiguous and all(
                b.flags.c_contiguous for b in buffers.values()):
            n = theta.size
            if n <= CHUNK:
                work, tmp = self._scratch_for(("chunk", theta.dtype, 0), (n,), theta.dtype)
                work, tmp = work[:n], tmp[:n]
                if theta.ndim != 1:
                    work, tmp = work.reshape(theta.shape), tmp.reshape(theta.shape)
                return [[(theta, grad, buffers, (work, tmp))]]
            # Flat views cut into blocks that stay in cache, shared between threads.
            flat_theta, flat_grad = theta.reshape(-1), grad.reshape(-1)
            flat = {k: b.reshape(-1) for k, b in buffers.items()}
            starts = range(0, n, CHUNK)
            workers = threads_for(n)
            jobs = []
            for w in range(workers):
                work, tmp = self._scratch_for(("chunk", theta.dtype, w), (CHUNK,), theta.dtype)
                blocks = []
                for start in starts[w::workers]:
                    stop = min(start + CHUNK, n)
                    part = slice(start, stop)
                    blocks.append((flat_theta[part], flat_grad[part],
                                   {k: b[part] for k, b in flat.items()},
                                   (work[:stop - start], tmp[:stop - start])))
                jobs.append(blocks)
            return jobs
        # Whole-array path: parameter-sized scratch, allocated once per leaf.
        return [[(theta, grad, buffers, self._scratch_for(("leaf", i), theta.shape,
                                                           theta.dtype))]]

    @staticmethod
    def run(jobs, function, constants) -> list:
        """``function(theta, grad, buffers, scratch, constants)`` on every block;
        the jobs run in parallel threads (a worker's exception is re-raised
        here).  Returns the results, block by block.  The caller's thread runs
        under the caller's error state; a worker thread sets ``UPDATE_POLICY``
        (errstate is per thread)."""
        if len(jobs) == 1:
            return [function(theta, grad, buffers, scratch, constants)
                    for theta, grad, buffers, scratch in jobs[0]]

        def run(blocks):
            with np.errstate(**UPDATE_POLICY):
                return [function(theta, grad, buffers, scratch, constants)
                        for theta, grad, buffers, scratch in blocks]
        futures = [_thread_pool().submit(run, blocks) for blocks in jobs]
        return [result for future in futures for result in future.result()]

    def check_squares(self, optimizer, name_of, theta, grad, buffers, jobs, constants) -> None:
        """Refuse the step if a squared (effective) gradient of this leaf
        overflows; read-only; ``name_of()`` names the leaf in the error.  A
        bound per block first (``optimizer._magnitudes``, ``_square_bound``);
        only when it does not fit comfortably (huge or non-finite values) the
        exact check, ``optimizer._square_check``, under ``CHECK_POLICY``."""
        if len(jobs) == 1 and len(jobs[0]) == 1:          # one block: no pool, no lists
            magnitudes = optimizer._magnitudes(*jobs[0][0], constants)
        else:
            per_block = self.run(jobs, optimizer._magnitudes, constants)
            magnitudes = tuple(float(x) for x in np.max(per_block, axis=0))   # NaN wins
        if optimizer._bound_fits(magnitudes, buffers, theta.dtype):
            return

        def exact(theta, grad, buffers, scratch, c):
            with np.errstate(**CHECK_POLICY):
                optimizer._square_check(theta, grad, buffers, scratch, c)
        try:
            self.run(jobs, exact, constants)
        except FloatingPointError as error:
            raise overflow_error(name_of(), error, theta.dtype, grad,
                                 optimizer._must_fit) from None

    def _scratch_for(self, key, shape, dtype):
        """Two scratch arrays, kept between steps: a chunk buffer grows to the
        largest chunk seen, a whole-leaf buffer has the leaf's exact shape."""
        buffers = self.scratch.get(key)
        too_small = buffers is not None and (
            buffers[0].size < shape[0] if key[0] == "chunk" else buffers[0].shape != shape)
        if buffers is None or too_small:
            buffers = (np.empty(shape, dtype), np.empty(shape, dtype))
            self.scratch[key] = buffers
        return buffers
