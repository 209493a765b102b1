"""The ``Optimizer`` base class: parameter trees, state, ``state_dict`` round
trips, and every check at the boundary, before anything is written.

A subclass says which buffers it keeps (``_buffer_names``), what it computes
once per step (``_step_constants``) and what one block of parameters becomes
(``_update``, a few lines of math with ``out=`` into the block's scratch);
``adamref.optim.engine`` decides the blocks (whole leaves, or cache-sized
chunks over threads) and runs the update on them.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext
from types import SimpleNamespace

import numpy as np

from adamref.optim import validation as check
from adamref.optim.engine import LARGEST, UPDATE_POLICY, Engine, largest_magnitude
from adamref.optim.schedules import Schedule
from adamref.optim.tree import Structure, check_disjoint, flatten, flatten_pair


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


def as_weak_scalar(x):
    """0-d results as Python floats: NumPy 2 lets a float32 array absorb a Python
    float without promotion, while an ``np.float64`` would promote the arithmetic."""
    return x if isinstance(x, np.ndarray) and x.ndim else float(x)


def power(base, t: int):
    """``base**t`` for an integer ``t >= 0``, by repeated squaring in float64.

    Only multiplications, which IEEE 754 rounds correctly: the result is the
    same on every CPU.  ``np.power`` and libm's ``pow`` are not; their SIMD and
    FMA code paths differ in the last bit between machines, and a long run
    amplifies that.  Scalars (Python floats) and arrays take the same sequence
    of multiplications, so a broadcast sweep reproduces its single runs exactly.
    A scalar comes back as a Python float (see ``as_weak_scalar``).
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
    return result


#: Steps of β^t that ``Optimizer._power`` computes at once, for bases of at
#: most ``POWER_TABLE_SIZE`` elements (a sweep's β2 of shape (K, 1), say).
POWER_BLOCK = 256
#: With scalar hyperparameters the step constants are tabulated for a block of
#: steps that grows with t (as many steps as taken so far, from POWER_BLOCK up
#: to this): a table costs a fixed ~0.3 ms, so short runs pay little for it and
#: long runs almost nothing per step.
CONSTANTS_BLOCK_MAX = 1 << 14
POWER_TABLE_SIZE = 64


def power_table(base, start: int, count: int) -> np.ndarray:
    """``power(base, t)`` for ``t = start, …, start + count − 1``, shape
    ``(count, *np.shape(base))``: the same multiplications in the same order
    as ``power``, vectorized over t, so every entry is bit for bit ``power``'s."""
    t = np.arange(start, start + count, dtype=np.int64).reshape((count,) + (1,) * np.ndim(base))
    factor = np.array(base, dtype=np.float64)
    result = np.ones((count, *np.shape(base)))
    while np.any(t):
        result = np.where(t & 1, result * factor, result)   # × the factor of each set bit
        t = t >> 1
        factor = factor * factor
    return result


def _leaves(tree):
    """The leaves of a plain params/grads tree, for the cached checks; ``None``
    for anything else (which takes the full checks every time)."""
    kind = type(tree)
    if kind is np.ndarray:
        return (tree,)
    if kind is list or kind is tuple:
        return tuple(tree)
    if kind is dict:
        return (*tree.values(), *tree)    # the keys too: their order is the structure
    return None


def _signature(a) -> tuple:
    """What the checks of a parameter depend on, besides its identity."""
    return (type(a), a.shape, a.strides, a.dtype, a.flags.writeable)


def _grad_signature(a) -> tuple:
    """What the checks of a gradient depend on, besides its memory (aliasing)."""
    return (type(a), a.shape, a.strides, a.dtype)


class _Checked:
    """A step's checks that passed (structure, shapes, dtypes, writability,
    aliasing, hyperparameter broadcasting, the state's match), kept for the
    next step.  They hold for the same parameter objects with the same
    signatures and the same installed state, and for gradients with the same
    signatures: a loop passes a new gradient array at every step, so gradients
    are matched by signature, and only their aliasing is checked again
    (``new_gradients_overlap``).  Leaves are held by weak references, so a
    cache entry keeps nothing alive.  It also keeps what the next step would
    recompute from the same facts: each leaf's buffers and, for a leaf that is
    one direct block, its scratch."""

    __slots__ = ("refs", "grad_refs", "signatures", "grad_signatures", "buffers",
                 "flat_buffers", "buffer_ids", "count", "structure", "leaf_buffers", "scratch", "direct")

    def __init__(self, params, grads, buffers, structure, count, jobs):
        self.refs = tuple(weakref.ref(a) if isinstance(a, np.ndarray) else a for a in params)
        self.grad_refs = tuple(weakref.ref(a) if isinstance(a, np.ndarray) else a for a in grads)
        self.signatures = tuple(_signature(a) for a in params if isinstance(a, np.ndarray))
        self.grad_signatures = tuple(_grad_signature(a) for a in grads
                                     if isinstance(a, np.ndarray))
        self.buffers, self.structure, self.count = buffers, structure, count
        self.flat_buffers = [leaf for leaves in buffers.values() for leaf in leaves]
        self.buffer_ids = frozenset(id(b) for b in self.flat_buffers)   # kept alive by buffers
        self.leaf_buffers = [{k: v[i] for k, v in buffers.items()} for i in range(count)]
        self.scratch = [j[0][0][3] if len(j) == 1 and len(j[0]) == 1 and j[0][0][0] is leaf
                        else None for j, leaf in zip(jobs, params)]
        # One array (not a list or dict of one) that is one direct block.
        self.direct = structure.kind == "array" and self.scratch[0] is not None

    def matches(self, params, grads, buffers) -> bool:
        """Whether ``params`` (from ``_leaves``) are the checked leaves,
        unchanged, and ``grads`` have the checked gradients' signatures, with
        the same state installed."""
        if (buffers is not self.buffers or len(params) != len(self.refs)
                or len(grads) != len(self.grad_refs)):
            return False
        for ref, leaf in zip(self.refs, params):
            if (ref() is not leaf) if isinstance(ref, weakref.ref) else ref != leaf:
                return False
        for ref, leaf in zip(self.grad_refs, grads):      # dict keys must match too
            if not isinstance(ref, weakref.ref) and ref != leaf:
                return False
        return (self.signatures == tuple([_signature(a) for a in params
                                          if isinstance(a, np.ndarray)])
                and self.grad_signatures == tuple([_grad_signature(a) for a in grads
                                                   if isinstance(a, np.ndarray)]))

    def direct_block(self, theta, grad, buffers):
        """For a checked single array that is one direct block: the block
        ``(theta, grad, state, scratch)`` if ``theta`` is that array, unchanged,
        and ``grad`` has the checked gradient's signature and shares no memory
        with it or the state; else None (the full path decides).  ``matches``
        and ``new_gradients_overlap`` for the one-array case, without lists."""
        if (not self.direct or type(grad) is not np.ndarray or buffers is not self.buffers
                or self.refs[0]() is not theta or _signature(theta) != self.signatures[0]
                or _grad_signature(grad) != self.grad_signatures[0]):
            return None
        # The state's buffers own their memory: a view of one has it as its base.
        # may_share_memory compares address ranges: its "no" is exact.
        if self.grad_refs[0]() is not grad and (
                id(grad) in self.buffer_ids or id(grad.base) in self.buffer_ids
                or np.may_share_memory(grad, theta)):
            return None
        return theta, grad, self.leaf_buffers[0], self.scratch[0]

    def new_gradients_overlap(self, params, grads):
        """For gradients that are not the checked arrays: the first clash of
        ``tree.check_disjoint`` (a gradient that shares memory with a
        parameter or the state), else None."""
        if all(ref() is leaf for ref, leaf in zip(self.grad_refs, grads)
               if isinstance(ref, weakref.ref)):
            return None
        return check_disjoint(list(params[:self.count]), list(grads[:self.count]),
                              self.flat_buffers)


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
    cast to it, so float32 stays float32.  (An optimizer may keep another
    layout, ``_buffer_layout``: Adafactor's row and column statistics, the
    8-bit codes and per-block scales of ``Adam8bit``.)

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

    **Learning rate.**  ``lr`` may be a number, an array, or a schedule of t
    (``adamref.optim.schedules``), evaluated once per step with t = 1 first.
    """

    #: Whether the update squares the (effective) gradient: then a square that
    #: overflows the dtype is refused before the step (see the class docstring).
    _squares_gradient = False
    #: What must fit the dtype for the step to go ahead (named in the error).
    _must_fit = "g²"

    def __init__(self, **hyperparameters):
        self._hyper = hyperparameters  # validated by the subclass
        self._scheduled = any(isinstance(v, Schedule) for v in hyperparameters.values())
        self._array_hyper = any(isinstance(v, np.ndarray) or
                                (isinstance(v, Schedule) and v.shape != ())
                                for v in hyperparameters.values())
        # Whether the gradient gets the L2 term λ·θ (Adam turns it off when the
        # decay is decoupled).
        self._l2 = bool(np.any(hyperparameters.get("weight_decay", 0.0) != 0))
        self.t = 0                     # steps taken so far
        self._structure: Structure | None = None
        self._buffers: dict[str, list[np.ndarray]] | None = None
        self.engine = Engine()
        self._checked: _Checked | None = None   # the last step's checks, for the next
        self._fixed: dict = {}                  # dtype -> hyperparameters and fixed constants
        self._memo: dict = {}                   # dtype -> (t, that step's constants)
        self._namespace: dict = {}              # dtype -> constants of scalar hyperparameters
        self._powers: dict = {}                 # name -> (first t, power_table)
        self._rows: tuple | None = None         # (first t, names, step constants per t)
        self._pending_state: dict | None = None  # loaded, waiting for the first step

    def __getstate__(self):
        """For pickle and copy: the cached checks hold weak references to the
        caller's arrays and are only a shortcut, so they are left behind."""
        return {**self.__dict__, "_checked": None}

    # -- what a subclass provides ------------------------------------------------
    def _buffer_names(self) -> tuple[str, ...]:
        return ()

    #: Buffers that are never negative (second moments, sums of squares): a
    #: loaded state with a negative entry there is refused.
    _nonnegative_buffers: tuple[str, ...] = ()

    #: Whether the update needs each leaf whole (a norm over the leaf, state
    #: factored over its rows and columns, a scale shared by a block of
    #: entries): then the engine never cuts a leaf into chunks.
    _whole_leaves = False

    def _buffer_layout(self, name: str, param: np.ndarray) -> tuple:
        """``(shape, dtype)`` of buffer ``name`` for ``param``: the parameter's
        own by default.  An optimizer whose state is not parameter-shaped
        (Adafactor's row and column statistics, 8-bit codes and their
        per-block scales) says here what it keeps, and every check of an
        installed or loaded state compares against it."""
        return param.shape, param.dtype

    #: Whether every buffer has the default layout (the parameter's shape and
    #: dtype): then a loaded state's buffers must be float arrays that agree
    #: with each other before the parameters are seen.
    _default_layout = True

    def _loaded_dtypes(self, name: str) -> tuple:
        """The dtypes a loaded buffer ``name`` may have (float32 or float64
        unless the optimizer keeps another kind, such as 8-bit codes)."""
        return check.FLOAT_DTYPES

    def _initial_buffer(self, name: str, param: np.ndarray) -> np.ndarray:
        shape, dtype = self._buffer_layout(name, param)
        if shape == param.shape and dtype == param.dtype:
            return np.zeros_like(param, order="C")   # an ndarray subclass stays one
        return np.zeros(shape, dtype)

    def _fixed_constants(self, h: dict) -> dict:
        """Values derived from the hyperparameters ``h`` that do not depend on
        t (``1 − β1``), computed once; not from ``lr``, which may be a
        schedule.  ``_update`` receives them with the hyperparameters."""
        return {}

    def _step_constants(self, h: dict, t: int) -> dict:
        """Values that depend on the step ``t`` (bias corrections), from the
        hyperparameters ``h`` (``lr`` evaluated at t), in float64 (cast to the
        parameters' dtype afterwards).  With scalar hyperparameters ``t`` is an
        int64 array of consecutive steps (the values of a block of steps
        are computed at once): written with elementwise operations and
        ``self._power``, the same code gives the same bits either way."""
        return {}

    #: Whether ``_dtype_constants`` has anything to compute (Keras' ε̂ form).
    _computes_in_dtype = False

    def _dtype_constants(self, c: dict, t: int, dtype) -> dict:
        """Per-step values that are computed in the parameters' dtype (once per
        step and dtype); none by default."""
        return {}

    def _update(self, theta, grad, state: dict, scratch: tuple, c):
        """Update one block in place; ``c`` holds the hyperparameters and the
        step constants as attributes (Python floats, or arrays of the
        parameter's dtype); ``scratch`` is two arrays of the block's shape."""
        raise NotImplementedError

    def _effective_gradient(self, theta, grad, scratch, c):
        """``g ← −g`` if maximizing, then the L2 term ``g ← g + λ·θ`` (PyTorch's
        order), into the first scratch array when it differs from ``grad``."""
        work, tmp = scratch
        if getattr(self, "maximize", False):
            grad = np.negative(grad, out=work)                                  # g ← −g
        if self._l2:
            grad = np.add(grad, np.multiply(theta, c.weight_decay, out=tmp), out=work)  # g + λ·θ
        return grad

    def _magnitudes(self, theta, grad, buffers, scratch, c) -> tuple:
        """On one block, read-only: upper bounds of ``max|g|`` and, with L2,
        ``max|θ|`` (NaN if there is a NaN); see ``engine.largest_magnitude``."""
        return (largest_magnitude(grad), largest_magnitude(theta) if self._l2 else 0.0)

    def _square_bound(self, magnitudes, buffers: dict) -> float:
        """An upper bound of every squared effective gradient, from the largest
        magnitudes of the leaf: ``(max|g| + λ·max|θ|)²``."""
        g, theta = magnitudes[:2]
        root = g + float(np.max(self._hyper["weight_decay"])) * theta if self._l2 else g
        return root * root

    def _bound_fits(self, magnitudes, buffers: dict, dtype) -> bool:
        """Whether ``_square_bound`` fits ``dtype`` comfortably (False for NaN):
        then no square can overflow and the exact check is not needed.  The
        margin covers the rounding of the bound against the dtype's own."""
        return self._square_bound(magnitudes, buffers) <= LARGEST[dtype] * (1 - 1e-6)

    def _square_check(self, theta, grad, buffers, scratch, c):
        """The exact check, on one block: compute the squared effective gradient
        into scratch as the update will (the engine runs it under
        ``CHECK_POLICY``: overflow raises)."""
        grad = self._effective_gradient(theta, grad, scratch, c)
        np.multiply(grad, grad, out=scratch[1])

    # -- public interface ----------------------------------------------------------
    def step(self, params, grads):
        """Apply one update to ``params`` in place and return ``params``.

        ``params`` is a float32/float64 ndarray or a list/dict of them; ``grads``
        has the same structure and shapes.  Raises ``TypeError``/``ValueError``
        for a wrong call and ``FloatingPointError`` for a squared gradient that
        overflows; in every case nothing has been changed (see the class
        docstring for the dtype, NaN/Inf and aliasing policy).
        """
        # Even under a caller's np.seterr(all="raise"): nothing in a step raises
        # a floating-point error except the overflow check, which sets its own.
        with np.errstate(**UPDATE_POLICY):
            if not self._direct_step(params, grads):
                self._step(params, grads)
        return params

    def _direct_step(self, theta, grad) -> bool:
        """The common case, taken fast: ``theta`` is the one array of the last
        step, unchanged (its checks hold), and ``grad`` an array of the checked
        gradient's signature that shares no memory with it or the state.  Only
        what changes from step to step is left: the constants, the overflow
        bound and the update.  Returns False, having changed nothing, when the
        full path (``_step``) must decide."""
        checked = self._checked
        block = (None if checked is None or self.t >= check.MAX_STEP
                 else checked.direct_block(theta, grad, self._buffers))
        if block is None:
            return False
        t = self.t + 1
        c = self._constants(t, theta.dtype)
        # The overflow check's bound; the engine's check (which ends in the
        # exact elementwise check) only when the bound does not fit.
        if self._squares_gradient and not self._bound_fits(
                self._magnitudes(*block, c), block[2], theta.dtype):
            self.engine.check_squares(self, lambda: "params", *block[:3], [[block]], c)
        self.t = t
        self._update(*block, c)
        return True

    def _step(self, params, grads):
        leaves, grad_tree = _leaves(params), _leaves(grads)
        checked = self._checked
        if (checked is not None and leaves is not None and grad_tree is not None
                and checked.matches(leaves, grad_tree, self._buffers)):
            clash = checked.new_gradients_overlap(leaves, grad_tree)
            if clash is not None:
                raise self._aliasing_error(clash, checked.structure, checked.count,
                                           list(checked.buffers))
            # The same arrays as the last step, unchanged: its checks still hold.
            count, buffers, structure = checked.count, self._buffers, checked.structure
            param_leaves, grad_leaves = leaves[:count], grad_tree[:count]
            leaf_buffers, scratch = checked.leaf_buffers, checked.scratch
        else:
            checked = None
            param_leaves, grad_leaves, structure, buffers = self._checked_call(params, grads)
            count = len(param_leaves)
            leaf_buffers = [{k: v[i] for k, v in buffers.items()} for i in range(count)]
            scratch = (None,) * count
        if self.t >= check.MAX_STEP:
            raise ValueError(f"the step count t = {self.t} cannot grow any further")
        t = self.t + 1
        leaves_jobs = []     # per leaf: its blocks, one list per worker thread
        for i, theta in enumerate(param_leaves):
            leaves_jobs.append(
                [[(theta, grad_leaves[i], leaf_buffers[i], scratch[i])]] if scratch[i] is not None
                else self.engine.blocks(i, theta, grad_leaves[i], leaf_buffers[i],
                                        self._array_hyper or self._whole_leaves))
        if self._squares_gradient:
            for i, jobs in enumerate(leaves_jobs):
                theta = param_leaves[i]
                self.engine.check_squares(
                    self, lambda: structure.leaf_names("params", count)[i], theta,
                    grad_leaves[i], leaf_buffers[i], jobs, self._constants(t, theta.dtype))
        # Everything is checked: from here on nothing raises.
        if self._buffers is not buffers:
            self._buffers, self._structure, self._pending_state = buffers, structure, None
        self.t = t
        if checked is None and leaves is not None and grad_tree is not None:
            self._checked = _Checked(leaves, grad_tree, buffers, structure, count, leaves_jobs)
        for jobs in leaves_jobs:
            c = self._constants(t, jobs[0][0][0].dtype)
            if len(jobs) == 1 and len(jobs[0]) == 1:      # one block: no engine round trip
                self._update(*jobs[0][0], c)
            else:
                self.engine.run(jobs, self._update, c)

    def _checked_call(self, params, grads):
        """The full checks of a call: leaves, shapes, dtypes, hyperparameters
        that broadcast, the state against the params, aliasing.  Returns the
        leaves and the buffers the step will use (not installed yet)."""
        param_leaves, grad_leaves, structure = flatten_pair(params, grads)
        names = structure.leaf_names("params", len(param_leaves))
        if self._array_hyper:
            for param, name in zip(param_leaves, names):
                for hp_name, value in self._hyper.items():
                    if isinstance(value, Schedule):     # checked through its values' shape
                        value = np.broadcast_to(0.0, value.shape)
                    check.broadcasts_to(hp_name, value, param.shape, name)
        buffers = self._buffers_for(param_leaves, structure)   # not installed yet
        flat_buffers = [leaf for leaves in buffers.values() for leaf in leaves]
        clash = check_disjoint(param_leaves, grad_leaves, flat_buffers)
        if clash is not None:
            raise self._aliasing_error(clash, structure, len(param_leaves), list(buffers))
        return param_leaves, grad_leaves, structure, buffers

    def _constants(self, t: int, dtype) -> SimpleNamespace:
        """The hyperparameters at step ``t`` (``lr`` evaluated if it is a
        schedule), the fixed and the step constants, array ones cast to
        ``dtype`` as Python floats are: a float32 sweep then rounds exactly like
        float32 single runs.  The fixed part is computed once per dtype; the
        result is kept for the step's t (``effective_step`` asks again)."""
        memo = self._memo.get(dtype)
        if memo is not None and memo[0] == t:
            return memo[1]
        fixed = self._fixed.get(dtype)
        if fixed is None:
            fixed = self._fixed[dtype] = self._in_dtype(
                {**self._hyper, **self._fixed_constants(self._hyper)}, dtype)
        h = self._hyper
        if self._scheduled:
            h = {**h, **{k: v(t) for k, v in h.items() if isinstance(v, Schedule)}}
            step = {**{k: v for k, v in h.items() if isinstance(self._hyper[k], Schedule)},
                    **self._step_constants(h, t)}
        elif self._array_hyper:
            step = self._step_constants(h, t)
        else:                  # scalars: the step constants of a block of steps at once
            rows = self._rows
            if rows is None or not rows[0] <= t < rows[0] + len(rows[2]):
                count = min(max(POWER_BLOCK, t), CONSTANTS_BLOCK_MAX)
                columns = self._step_constants(h, np.arange(t, t + count))
                values = [np.broadcast_to(v, count).tolist() for v in columns.values()]
                rows = self._rows = (t, tuple(columns), list(zip(*values)) or [()] * count)
            step = zip(rows[1], rows[2][t - rows[0]])     # Python floats: no cast needed
        # One namespace per dtype, the step's values written over the last step's:
        # the cheapest way to hand a small step its constants.
        c = self._namespace.get(dtype)
        if c is None:
            c = self._namespace[dtype] = SimpleNamespace(**fixed)
        c.__dict__.update(self._in_dtype(step, dtype) if isinstance(step, dict) else step)
        if self._computes_in_dtype:
            c.__dict__.update(self._dtype_constants(c.__dict__, t, dtype))
        self._memo[dtype] = (t, c)
        return c

    def _power(self, name: str, t: int):
        """``power(hyperparameter name, t)``, looked up in a table of
        ``POWER_BLOCK`` steps computed at once (``power_table``; a list of
        floats for a scalar base): bit for bit the same, cheaper per step.
        An array base of more than ``POWER_TABLE_SIZE`` elements is computed
        directly (its table would be large).  ``t`` may be an array of
        consecutive steps: then the values for all of them."""
        base = self._hyper[name]
        if isinstance(t, np.ndarray):       # consecutive steps, for a table of constants
            return power_table(base, int(t[0]), t.size)
        if isinstance(base, np.ndarray) and base.size > POWER_TABLE_SIZE:
            return power(base, t)
        table = self._powers.get(name)
        if table is None or not table[0] <= t < table[0] + POWER_BLOCK:
            values = power_table(base, t, POWER_BLOCK)
            table = self._powers[name] = (t, values if values.ndim > 1 else values.tolist())
        return table[1][t - table[0]]

    def _in_dtype(self, constants: dict, dtype) -> dict:
        if not self._array_hyper:
            return constants
        return {k: v.astype(dtype, copy=False) if isinstance(v, np.ndarray) else v
                for k, v in constants.items()}

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

    def state_bytes(self, shape, dtype=np.float32) -> int:
        """Bytes of the state this optimizer keeps for one parameter of ``shape``
        and ``dtype`` (float32 or float64), from its buffers' layouts; nothing
        is allocated."""
        if not (isinstance(shape, tuple) and all(isinstance(n, int) and not isinstance(n, bool)
                                                 and n >= 0 for n in shape)):
            raise TypeError(f"shape must be a tuple of integers >= 0, got {shape!r:.60}")
        param = np.broadcast_to(check.float_array("dtype", np.zeros((), dtype)), shape)
        layouts = (self._buffer_layout(name, param) for name in self._buffer_names())
        return sum(math.prod(s) * np.dtype(d).itemsize for s, d in layouts)

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
        consistent shapes (or of the optimizer's own layout: uint8 codes, say)
        and second moments non-negative.  The buffers are then
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
            self._checked = None
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
            if isinstance(mine, str):        # a schedule's name
                theirs = saved[name]
                theirs = theirs.item() if isinstance(theirs, np.ndarray) and theirs.ndim == 0 \
                    else theirs
                if theirs != mine and check_hyperparameters:
                    raise ValueError(
                        f"the state was saved with {name}={theirs!r:.60}, this "
                        f"{type(self).__name__} has {name}={mine!r}: construct it with the "
                        "saved schedule, or pass check_hyperparameters=False to resume "
                        "with its own")
                continue
            theirs = np.asarray(saved[name])
            if isinstance(mine, bool):
                same = theirs.dtype == bool and theirs.shape == () and bool(theirs) == mine
                if not same:
                    raise ValueError(f"the state was saved with {name}="
                                     f"{theirs.tolist()!r:.40}, this {type(self).__name__} "
                                     f"has {name}={mine!r}")
                continue
            same = (theirs.dtype.kind in "fiu" and theirs.shape == np.shape(mine)
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
            allowed = self._loaded_dtypes(name)
            if not isinstance(value, np.ndarray) or value.dtype not in allowed:
                described = (f"dtype {value.dtype}" if isinstance(value, np.ndarray)
                             else f"{type(value).__name__} {value!r:.40}")
                raise TypeError(f"state[{key!r}] must be a "
                                f"{' or '.join(str(d) for d in allowed)} ndarray, got {described}")
            if name in self._nonnegative_buffers and np.any(value < 0):
                raise ValueError(f"state[{key!r}] must be >= 0 (this buffer is never "
                                 f"negative), got {float(value[value < 0].flat[0])!r}")
            leaves[name][key[len(name):]] = value
        suffixes = [sorted(v) for v in leaves.values()]
        if any(s != suffixes[0] for s in suffixes) or (names and not suffixes[0]):
            raise ValueError(f"the state's buffers do not match: "
                             f"{ {n: sorted(v) for n, v in leaves.items()} }")
        for suffix in suffixes[0] if names and self._default_layout else ():
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
            installed = {name: [(b.shape, b.dtype) for b in leaves]
                         for name, leaves in self._buffers.items()}
            needed = {name: [self._buffer_layout(name, p) for p in param_leaves]
                      for name in self._buffers}
            if structure != self._structure or installed != needed:
                count = len(next(iter(self._buffers.values()), param_leaves))
                held = ", ".join(f"{name} of shapes {[shape for shape, _ in layout]} "
                                 f"({', '.join(sorted({str(d) for _, d in layout}))})"
                                 for name, layout in installed.items())
                raise ValueError(
                    "params do not match the optimizer's state: the state was created for "
                    f"{self._structure.describe(count)}{': ' + held if held else ''}; got "
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
                shape, dtype = self._buffer_layout(name, param)
                if pending[key].shape != shape:
                    raise ValueError(f"state[{key!r}] has shape {pending[key].shape} but "
                                     f"its parameter (shape {param.shape}) needs {shape}")
                if pending[key].dtype != dtype:
                    raise ValueError(f"state[{key!r}] has dtype {pending[key].dtype} but "
                                     f"its parameter ({param.dtype}) needs {dtype}")
            # Copies: the pending state stays intact until this step commits.
            buffers[name] = [pending[key].copy() for key in keys]
        return buffers

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in {**self._hyper, **self._settings()}.items())
        return f"{type(self).__name__}({args})"

    def _settings(self) -> dict:
        """The constructor's other settings (flags such as ``amsgrad``): with the
        hyperparameters, what ``repr`` shows and ``state_dict`` records."""
        return {}

    def _config(self) -> dict:
        """What ``state_dict`` records as ``config.*``: the hyperparameters and
        settings; a schedule as its name and its parameters (``lr`` =
        ``'inverse_sqrt'``, ``lr.lr`` = 0.1)."""
        out = {}
        for key, value in {**self._hyper, **self._settings()}.items():
            if isinstance(value, Schedule):
                out[key] = value.name
                out.update({f"{key}.{k}": v for k, v in value.config().items()})
            else:
                out[key] = value
        return out
