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
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from adamref.optim import validation as check
from adamref.optim.tree import Structure, check_disjoint, flatten, flatten_pair

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

_POOL: ThreadPoolExecutor | None = None


#: The largest finite value of each dtype the optimizers compute in.
_LARGEST = {dtype: float(np.finfo(dtype).max) for dtype in check.FLOAT_DTYPES}


def _largest_magnitude(a: np.ndarray) -> float:
    """``max|a|`` without a temporary: NaN if ``a`` holds a NaN, 0 if empty."""
    high = float(a.max(initial=-np.inf))
    if high != high:       # a NaN somewhere: the exact check will decide
        return np.nan
    return max(high, -float(a.min(initial=np.inf)), 0.0)


def overflow_error(name: str, error: FloatingPointError, dtype, grad) -> FloatingPointError:
    """The error for a squared gradient that does not fit ``dtype``: what
    overflowed, where, by how much, and what to do about it."""
    largest = float(np.max(np.abs(grad), where=np.isfinite(grad), initial=0.0))
    limit = _LARGEST[np.dtype(dtype)]
    advice = ("use float64 parameters or scale the loss down" if np.dtype(dtype) != np.float64
              else "scale the loss down")
    return FloatingPointError(
        f"{name}: {error} in {np.dtype(dtype)} (largest finite |gradient| {largest:.3g}; "
        f"g² must fit in {limit:.3g}): nothing was updated; {advice}")


def _text(key: str, value) -> str:
    """A string entry of a state dict (``np.load`` gives it back as a 0-d array)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "U":
        value = value.item()
    if not isinstance(value, str):
        raise ValueError(f"state[{key!r}] must be a string, got {value!r:.60}")
    return value


def restoring(optimizer, params):
    """``optimizer.restored_on_error(params)`` for an adamref optimizer; a
    context that does nothing for any other object with a ``step`` method.
    Functions that take many steps of a caller's optimizer run inside it, so
    that if one step raises the optimizer is as the caller passed it."""
    if isinstance(optimizer, Optimizer):
        return optimizer.restored_on_error(params)
    return nullcontext()


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
    """Base class: ``step(params, grads)`` updates ``params`` in place.

    **A failing call changes nothing.**  Every check (structures, shapes,
    dtypes, aliasing, a loaded state against the parameters, squared gradients
    that overflow) runs before the first write, so a call that raises leaves
    the parameters, the gradients and the optimizer's state exactly as they were.

    **Dtypes.**  Parameters and gradients are float32 or float64 ndarrays (not
    float16, masked arrays or ``np.matrix``); a gradient may have the other of
    the two dtypes.  The state has the parameter's dtype, and the arithmetic is
    done in it: scalar hyperparameters are Python floats and array ones are
    cast to it, so float32 stays float32.

    **NaN and Inf** in a gradient, a parameter or a loaded state propagate into
    the parameter and the state (as in PyTorch and Keras): the optimizer does
    not hide a diverging run.  For the optimizers that square the gradient
    (Adam, RMSprop, AdaGrad), a *finite* gradient whose square (with L2 weight
    decay, of ``g + λ·θ``; for AdaGrad, ``s + g²``) overflows the parameter's
    dtype (``|g| > 1.8e19`` in float32, ``> 1.3e154`` in float64) raises
    ``FloatingPointError`` and the step is not taken: an infinite second moment
    would silently freeze the coordinate.  Any other overflow (a step beyond
    the dtype's range) gives ±inf, which then propagates like any Inf.

    **Aliasing.**  A parameter must not share memory with another parameter,
    with a gradient or with the optimizer's state (``step(x, x)``, the same
    array twice in a list, a gradient that is a view of a parameter): that
    raises ``ValueError``, because the result would depend on the order in
    which the engine reads and writes.  Gradients may share memory with each
    other (they are only read).
    """

    #: Whether the update squares the (effective) gradient: then a square that
    #: overflows the dtype is refused before the step (see the class docstring).
    _squares_gradient = False

    def __init__(self, **hyperparameters):
        self._hyper = hyperparameters  # validated by the subclass
        self._array_hyper = any(isinstance(v, np.ndarray) for v in hyperparameters.values())
        # Whether the gradient gets the L2 term λ·θ (Adam turns it off when the
        # decay is decoupled).
        self._l2 = bool(np.any(hyperparameters.get("weight_decay", 0.0) != 0))
        self.t = 0                     # steps taken so far
        self._structure: Structure | None = None
        self._buffers: dict[str, list[np.ndarray]] | None = None
        self._scratch: dict = {}
        self._pending_state: dict | None = None  # loaded, waiting for the first step

    # -- what a subclass provides ------------------------------------------------
    def _buffer_names(self) -> tuple[str, ...]:
        return ()

    #: Buffers that are never negative (second moments, sums of squares): a
    #: loaded state with a negative entry there is refused.
    _nonnegative_buffers: tuple[str, ...] = ()

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

    def _effective_gradient(self, theta, grad, work, tmp, c):
        """``g ← −g`` if maximizing, then the L2 term ``g ← g + λ·θ`` (PyTorch's
        order); written into the scratch ``work`` when it differs from ``grad``."""
        if getattr(self, "maximize", False):
            grad = np.negative(grad, out=work)
        if self._l2:
            np.multiply(theta, c["weight_decay"], out=tmp)
            grad = np.add(grad, tmp, out=work)
        return grad

    def _magnitudes(self, theta, grad, buffers, scratch, c) -> tuple:
        """On one block, read-only: ``max|g|`` and, with L2, ``max|θ|`` (NaN if
        there is a NaN): max/min reductions, no temporaries and no BLAS."""
        return (_largest_magnitude(grad), _largest_magnitude(theta) if self._l2 else 0.0)

    def _square_bound(self, magnitudes, buffers: dict) -> float:
        """An upper bound of every squared effective gradient, from the largest
        magnitudes of the leaf: ``(max|g| + λ·max|θ|)²``."""
        g, theta = magnitudes[:2]
        root = g + float(np.max(self._hyper["weight_decay"])) * theta if self._l2 else g
        return root * root

    def _square_check(self, theta, grad, buffers, scratch, c):
        """The exact check, on one block: compute the squared effective gradient
        into scratch as the update will, under ``CHECK_POLICY`` (overflow raises)."""
        work, tmp = scratch
        grad = self._effective_gradient(theta, grad, work, tmp, c)
        np.multiply(grad, grad, out=tmp)

    # -- public interface ----------------------------------------------------------
    def step(self, params, grads):
        """Apply one update to ``params`` in place and return ``params``.

        ``params`` is a float32/float64 ndarray or a list/dict of them; ``grads``
        has the same structure and shapes.  Raises ``TypeError``/``ValueError``
        for a wrong call and ``FloatingPointError`` for a squared gradient that
        overflows; in every case nothing has been changed (see the class
        docstring for the dtype, NaN/Inf and aliasing policy).
        """
        param_leaves, grad_leaves, structure = flatten_pair(params, grads)
        names = structure.leaf_names("params", len(param_leaves))
        if self._array_hyper:
            for param, name in zip(param_leaves, names):
                for hp_name, value in self._hyper.items():
                    check.broadcasts_to(hp_name, value, param.shape, name)
        if self.t >= check.MAX_STEP:
            raise ValueError(f"the step count t = {self.t} cannot grow any further")
        buffers = self._buffers_for(param_leaves, structure)   # not installed yet
        flat_buffers = [leaf for leaves in buffers.values() for leaf in leaves]
        clash = check_disjoint(param_leaves, grad_leaves, flat_buffers)
        if clash is not None:
            raise self._aliasing_error(clash, structure, len(param_leaves), list(buffers))
        leaves = []     # (theta, grad, its buffers, its blocks, chunked?) per leaf
        for i, (theta, grad) in enumerate(zip(param_leaves, grad_leaves)):
            leaf_buffers = {k: buffers[k][i] for k in buffers}
            leaves.append((theta, grad, leaf_buffers, *self._blocks(i, theta, grad, leaf_buffers)))
        if self._squares_gradient:
            for name, (theta, grad, leaf_buffers, blocks, chunked) in zip(names, leaves):
                self._check_leaf(name, theta, grad, leaf_buffers, blocks, chunked)
        # Everything is checked: from here on nothing raises (UPDATE_POLICY).
        if self._buffers is not buffers:
            self._buffers, self._structure, self._pending_state = buffers, structure, None
        self.t += 1
        with np.errstate(**UPDATE_POLICY):   # even under a caller's np.seterr(all="raise")
            constants = {**self._hyper, **self._step_constants()}
        for theta, grad, leaf_buffers, blocks, chunked in leaves:
            self._run(blocks, self._update, self._leaf_constants(constants, theta, chunked),
                      UPDATE_POLICY)
        return params

    @staticmethod
    def _aliasing_error(clash, structure, count, buffer_names) -> ValueError:
        def name(kind, i):
            if kind == "buffers":
                buffer = buffer_names[i // count]
                return f"the optimizer's state {structure.state_keys(buffer, count)[i % count]}"
            return structure.leaf_names(kind, count)[i]
        first, second = name(*clash[:2]), name(*clash[2:])
        written = second if clash[0] == "grads" else first   # gradients are only read
        return ValueError(f"{first} and {second} share memory: the step writes "
                          f"{written} in place, so the result would depend on the order "
                          "of reads and writes; pass separate arrays (e.g. a copy of "
                          "the gradient)")

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
        """A flat ``{name: ndarray}`` copy of the state, ready for ``np.savez``.

        It says what it is: ``optimizer`` (the class name), ``config.<name>``
        for every flag and hyperparameter, ``t``, and, once there are buffers,
        ``structure`` and one entry per buffer and parameter (``m``, ``m[0]``,
        ``m['w']``, ...).  The state of a fresh optimizer (``t = 0``, no
        buffers) loads back like any other.
        """
        out = {"optimizer": np.asarray(type(self).__name__),
               **{f"config.{k}": np.array(v) for k, v in self._config().items()},
               "t": np.asarray(self.t, dtype=np.int64)}
        if self._pending_state is not None:
            out.update({k: v.copy() for k, v in self._pending_state.items()})
        elif self._buffers is not None:
            out["structure"] = np.asarray(self._structure.kind)
            for name, leaves in self._buffers.items():
                keys = self._structure.state_keys(name, len(leaves))
                out.update({k: leaf.copy() for k, leaf in zip(keys, leaves)})
        return out

    def load_state_dict(self, state, *, check_hyperparameters: bool = True) -> None:
        """Restore a ``state_dict()`` (or the ``np.load`` of its ``np.savez``).

        Everything the state can be checked against without the parameters is
        checked now, and nothing changes if a check fails: the state must come
        from the same optimizer class with the same flags (``amsgrad``,
        ``nesterov``, ...: they decide which buffers exist and what they mean),
        ``t`` must be an integer >= 0, the buffers float32/float64 arrays of
        consistent shapes (second moments non-negative).  The buffers are then
        matched against the parameters' structure, shapes and dtypes at the
        next ``step``; if that fails, the step raises and the loaded state stays
        pending, so a corrected call can still use it.

        Hyperparameters (``lr``, ``beta2``, ...) must equal the saved ones:
        PyTorch silently replaces the constructor's values by the saved ones,
        which makes the constructor lie; here a difference is an error that
        shows both values.  To resume on purpose with different hyperparameters
        (a lower ``lr`` for fine-tuning), pass ``check_hyperparameters=False``:
        the optimizer keeps its own.
        """
        check.flag("check_hyperparameters", check_hyperparameters)
        entries = self._checked_entries(state)
        self._check_config(entries, check_hyperparameters)
        t = check.step_count("state['t']", entries.pop("t"), low=0)
        buffers = self._checked_buffers(entries, t)
        # All checks passed: install.
        self.t = t
        self._pending_state = buffers
        self._structure = None
        self._buffers = None
        self._scratch = {}

    @contextmanager
    def restored_on_error(self, params):
        """For a caller that takes many steps in one call (``keras_style``'s
        ``fit``): if the block raises, ``params`` and this optimizer's state are
        put back, in place, as they were on entry."""
        leaves, _ = flatten(params, "params")
        saved_params = [leaf.copy() for leaf in leaves]
        saved = (self.t, self._structure, self._buffers, self._pending_state)
        saved_buffers = (None if self._buffers is None else
                         {k: [b.copy() for b in v] for k, v in self._buffers.items()})
        try:
            yield
        except BaseException:
            for leaf, value in zip(leaves, saved_params):
                leaf[...] = value
            self.t, self._structure, self._buffers, self._pending_state = saved
            for name, values in (saved_buffers or {}).items():
                for buffer, value in zip(self._buffers[name], values):
                    buffer[...] = value
            raise

    # -- loading, checked ------------------------------------------------------------
    def _checked_entries(self, state) -> dict:
        if not isinstance(state, Mapping):
            raise TypeError("state must be a dict (a state_dict(), or the np.load of "
                            f"its np.savez), got {type(state).__name__} {state!r:.60}")
        keys = list(state)
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"state keys must be strings, got {key!r}")
        for key in ("optimizer", "t"):
            if key not in state:
                raise ValueError(f"state must contain {key!r} (made by state_dict()), "
                                 f"got keys {sorted(keys)}")
        return {k: state[k] for k in keys}

    def _check_config(self, entries: dict, check_hyperparameters: bool) -> None:
        kind = _text("optimizer", entries.pop("optimizer"))
        if kind != type(self).__name__:
            raise ValueError(f"the state was saved by optimizer {kind!r:.40}, this is "
                             f"{type(self).__name__}: its buffers mean something else")
        expected = self._config()
        saved = {k[len("config."):]: entries.pop(k) for k in list(entries)
                 if k.startswith("config.")}
        missing = sorted(set(expected) - set(saved))
        extra = sorted(set(saved) - set(expected))
        if missing or extra:
            raise ValueError(f"the state's config has entries {sorted(saved)}, "
                             f"{type(self).__name__} expects {sorted(expected)}")
        for name, mine in expected.items():
            theirs = np.asarray(saved[name])
            if isinstance(mine, bool):
                same = theirs.dtype == bool and theirs.shape == () and bool(theirs) == mine
                if not same:
                    raise ValueError(f"the state was saved with {name}="
                                     f"{theirs.tolist()!r:.40}, this {type(self).__name__} "
                                     f"has {name}={mine!r}")
                continue
            same = (theirs.dtype.kind == "f" and theirs.shape == np.shape(mine)
                    and np.array_equal(theirs, mine))
            if not same and check_hyperparameters:
                raise ValueError(
                    f"the state was saved with {name}={theirs.tolist()!r:.60}, this "
                    f"{type(self).__name__} has {name}={np.asarray(mine).tolist()!r:.60}: "
                    "construct it with the saved hyperparameters, or pass "
                    "check_hyperparameters=False to resume with its own")

    def _checked_buffers(self, entries: dict, t: int) -> dict:
        """The buffer entries, checked and copied; ``entries`` holds only
        ``structure`` and the buffers by now."""
        structure = entries.pop("structure", None)
        names = self._buffer_names()
        if structure is None:
            if entries:
                raise ValueError(f"the state has buffers {sorted(entries)} but no 'structure'")
            if names and t > 0:
                raise ValueError(f"the state has t = {t} but no buffers "
                                 f"({', '.join(names)}): it is incomplete")
            return {}
        structure = _text("structure", structure)
        if structure not in ("array", "list", "dict"):
            raise ValueError("state['structure'] must be 'array', 'list' or 'dict', "
                             f"got {structure!r:.40}")
        if t == 0 and entries:
            raise ValueError("the state has buffers but t = 0 (no step taken)")
        leaves: dict[str, dict[str, np.ndarray]] = {name: {} for name in names}
        for key, value in entries.items():
            name = next((n for n in names if key == n or key.startswith(n + "[")), None)
            if name is None:
                raise ValueError(f"unexpected entry {key!r} in the state: "
                                 f"{type(self).__name__} keeps {list(names)}")
            if not isinstance(value, np.ndarray) or value.dtype not in check.FLOAT_DTYPES:
                described = (f"dtype {value.dtype}" if isinstance(value, np.ndarray)
                             else f"{type(value).__name__} {value!r:.40}")
                raise TypeError(f"state[{key!r}] must be a float32 or float64 ndarray, "
                                f"got {described}")
            if name in self._nonnegative_buffers and np.any(value < 0):
                raise ValueError(f"state[{key!r}] must be >= 0 (this buffer is never "
                                 f"negative), got {float(value[value < 0].flat[0])!r}")
            leaves[name][key[len(name):]] = value
        suffixes = [sorted(v) for v in leaves.values()]
        if any(s != suffixes[0] for s in suffixes) or (names and not suffixes[0]):
            raise ValueError(f"the state's buffers do not match: "
                             f"{ {n: sorted(v) for n, v in leaves.items()} }")
        for suffix in suffixes[0] if names else ():
            shapes = {leaves[n][suffix].shape for n in names}
            dtypes = {leaves[n][suffix].dtype for n in names}
            if len(shapes) > 1 or len(dtypes) > 1:
                raise ValueError(f"the state's buffers {[n + suffix for n in names]} have "
                                 f"different shapes or dtypes: {shapes}, {dtypes}")
        out = {"structure": np.asarray(structure)}
        out.update({name + suffix: np.array(value, order="C")
                    for name, values in leaves.items() for suffix, value in values.items()})
        return out

    # -- internals -------------------------------------------------------------------
    def _buffers_for(self, param_leaves, structure) -> dict:
        """The buffers this step will use: the installed ones (checked against
        the params), or new ones (zeros, or filled from a pending loaded state)
        that ``step`` installs only once every check has passed."""
        if self._buffers is not None:
            shapes = [b.shape for b in next(iter(self._buffers.values()), param_leaves)]
            dtypes = [b.dtype for b in next(iter(self._buffers.values()), param_leaves)]
            if (structure != self._structure or shapes != [p.shape for p in param_leaves]
                    or dtypes != [p.dtype for p in param_leaves]):
                raise ValueError(
                    "params do not match the optimizer's state: the state was created for "
                    f"{self._structure.describe(len(shapes))} of shapes {shapes} "
                    f"({', '.join(sorted({str(d) for d in dtypes}))}), got "
                    f"{structure.describe(len(param_leaves))} of shapes "
                    f"{[p.shape for p in param_leaves]} "
                    f"({', '.join(sorted({str(p.dtype) for p in param_leaves}))})")
            return self._buffers
        pending = self._pending_state
        if pending is None or "structure" not in pending:
            return {name: [self._initial_buffer(name, p) for p in param_leaves]
                    for name in self._buffer_names()}
        stored_kind = str(pending["structure"])
        if stored_kind != structure.kind:
            raise ValueError(f"the loaded state was saved for a params {stored_kind}, "
                             f"got a params {structure.kind}")
        buffers = {}
        for name in self._buffer_names():
            keys = structure.state_keys(name, len(param_leaves))
            stored = sorted(k for k in pending if k == name or k.startswith(name + "["))
            if stored != sorted(keys):
                raise ValueError(f"the loaded state has entries {stored} for {name}, "
                                 f"params ({structure.describe(len(param_leaves))}) "
                                 f"needs {keys}")
            for key, param in zip(keys, param_leaves):
                check.same_shape(f"state[{key!r}]", pending[key], "its parameter", param)
                if pending[key].dtype != param.dtype:
                    raise ValueError(f"state[{key!r}] has dtype {pending[key].dtype} but "
                                     f"its parameter has dtype {param.dtype}")
            # Copies: the pending state stays intact until this step commits.
            buffers[name] = [pending[key].copy() for key in keys]
        return buffers

    def _check_leaf(self, name, theta, grad, buffers, blocks, chunked):
        """Refuse the step if a squared gradient overflows (read-only).  A cheap
        bound first (max/min reductions per block); only when the bound does
        not fit comfortably (huge or non-finite values) the exact elementwise
        check, which computes the squares into scratch as the update would."""
        limit = _LARGEST[theta.dtype]
        c = self._leaf_constants(self._hyper, theta, chunked)
        if len(blocks) == 1 and len(blocks[0]) == 1:     # one block: no pool, no lists
            per_block = [self._magnitudes(*blocks[0][0], c)]
        else:
            per_block = self._run(blocks, self._magnitudes, c, None)
        magnitudes = (per_block[0] if len(per_block) == 1 else
                      tuple(float(x) for x in np.max(per_block, axis=0)))   # NaN wins
        # The margin covers the rounding of the bound against the dtype's own.
        if self._square_bound(magnitudes, buffers) <= limit * (1 - 1e-6):
            return
        try:
            self._run(blocks, self._square_check, c, CHECK_POLICY)
        except FloatingPointError as error:
            raise overflow_error(name, error, theta.dtype, grad) from None

    def _blocks(self, i, theta, grad, buffers):
        """The blocks of one leaf, one list per worker thread, and whether they
        are chunks.  Each block is ``(theta, grad, buffers, scratch)``."""
        arrays = [theta, grad, *buffers.values()]
        if not self._array_hyper and all(a.flags.c_contiguous for a in arrays):
            # Chunked path: flat views of the contiguous arrays, cut into blocks
            # that stay in cache; large arrays are shared between threads (NumPy
            # releases the GIL inside ufuncs), each with its own scratch buffers.
            n = theta.size
            if n <= CHUNK:
                work, tmp = self._scratch_for(("chunk", theta.dtype, 0), (n,), theta.dtype)
                work, tmp = work[:n], tmp[:n]
                if theta.ndim != 1:
                    work, tmp = work.reshape(theta.shape), tmp.reshape(theta.shape)
                return [[(theta, grad, buffers, (work, tmp))]], True
            flat = [a.reshape(-1) for a in arrays]
            names = list(buffers)
            starts = range(0, n, CHUNK)
            workers = THREADS if len(starts) >= 2 * THREADS else 1
            jobs = []
            for w in range(workers):
                work, tmp = self._scratch_for(("chunk", theta.dtype, w), (CHUNK,), theta.dtype)
                blocks = []
                for start in starts[w::workers]:
                    stop = min(start + CHUNK, n)
                    width = stop - start
                    blocks.append((flat[0][start:stop], flat[1][start:stop],
                                   {k: b[start:stop] for k, b in zip(names, flat[2:])},
                                   (work[:width], tmp[:width])))
                jobs.append(blocks)
            return jobs, True
        # Whole-array path (broadcast hyperparameters or strided arrays):
        # parameter-sized scratch, allocated once per leaf and reused.
        return [[(theta, grad, buffers, self._scratch_for(("leaf", i), theta.shape,
                                                          theta.dtype))]], False

    @staticmethod
    def _leaf_constants(constants: dict, theta, chunked: bool) -> dict:
        """On the whole-array path, array constants are cast to the parameter's
        dtype, as Python floats are: a float32 sweep then rounds exactly like
        float32 single runs."""
        if chunked:
            return constants
        return {k: np.asarray(v, dtype=theta.dtype) if isinstance(v, np.ndarray) else v
                for k, v in constants.items()}

    @staticmethod
    def _run(jobs, function, constants, policy) -> list:
        """``function(theta, grad, buffers, scratch, constants)`` on every block,
        the jobs in parallel threads (a worker's exception is re-raised here);
        returns the results, block by block."""
        def run(blocks):
            with np.errstate(**policy) if policy else nullcontext():   # errstate is per thread
                return [function(theta, grad, buffers, scratch, constants)
                        for theta, grad, buffers, scratch in blocks]
        if len(jobs) == 1:
            return run(jobs[0])
        futures = [_thread_pool().submit(run, blocks) for blocks in jobs]
        return [result for future in futures for result in future.result()]

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

    def _settings(self) -> dict:
        """The constructor's other settings (flags such as ``amsgrad``): with the
        hyperparameters, what ``repr`` shows and ``state_dict`` records."""
        return {}

    def _config(self) -> dict:
        return {**self._hyper, **self._settings()}
