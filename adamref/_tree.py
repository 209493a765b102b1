"""Parameters come as one ndarray, a list (or tuple) of ndarrays, or a dict of
ndarrays.  The optimizers work on a flat list of leaves; this module flattens a
structure, names its leaves for error messages, and rebuilds the structure for
state that mirrors it (``m``, ``v``, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as check


@dataclass(frozen=True)
class Structure:
    kind: str            # "array", "list" or "dict"
    keys: tuple = ()     # dict keys, in insertion order

    def leaf_names(self, root: str, count: int) -> list[str]:
        if self.kind == "array":
            return [root]
        if self.kind == "list":
            return [f"{root}[{i}]" for i in range(count)]
        return [f"{root}[{key!r}]" for key in self.keys]

    def describe(self, count: int) -> str:
        if self.kind == "array":
            return "a single ndarray"
        if self.kind == "list":
            return f"a list of {count} ndarrays"
        return f"a dict with keys {list(self.keys)}"

    def unflatten(self, leaves: list):
        if self.kind == "array":
            return leaves[0]
        if self.kind == "list":
            return list(leaves)
        return dict(zip(self.keys, leaves))

    def state_keys(self, name: str, count: int) -> list[str]:
        """Flat keys for ``np.savez``: ``m``, ``m[0]``, ``m['w']``."""
        return self.leaf_names(name, count)


def flatten(tree, root: str) -> tuple[list[np.ndarray], Structure]:
    """The float ndarray leaves of ``tree`` and its structure."""
    if isinstance(tree, np.ndarray):
        return [check.float_array(root, tree)], Structure("array")
    if isinstance(tree, (list, tuple)):
        if not tree:
            raise ValueError(f"{root} must not be empty")
        leaves = [check.float_array(f"{root}[{i}]", leaf) for i, leaf in enumerate(tree)]
        return leaves, Structure("list")
    if isinstance(tree, dict):
        if not tree:
            raise ValueError(f"{root} must not be empty")
        leaves = [check.float_array(f"{root}[{key!r}]", leaf) for key, leaf in tree.items()]
        return leaves, Structure("dict", tuple(tree))
    raise TypeError(f"{root} must be a NumPy ndarray, or a list or dict of ndarrays, "
                    f"got {type(tree).__name__} {tree!r:.60}")


def flatten_pair(params, grads) -> tuple[list, list, Structure]:
    """Flatten params and grads and check that they match leaf by leaf."""
    param_leaves, structure = flatten(params, "params")
    grad_leaves, grad_structure = flatten(grads, "grads")
    if structure != grad_structure or len(param_leaves) != len(grad_leaves):
        raise ValueError(
            f"grads must have the same structure as params: params is "
            f"{structure.describe(len(param_leaves))}, grads is "
            f"{grad_structure.describe(len(grad_leaves))}")
    names = structure.leaf_names("params", len(param_leaves))
    grad_names = structure.leaf_names("grads", len(grad_leaves))
    for p, g, pname, gname in zip(param_leaves, grad_leaves, names, grad_names):
        check.same_shape(gname, g, pname, p)
        if not p.flags.writeable:
            raise ValueError(f"{pname} is read-only; the optimizer updates parameters in place")
    return param_leaves, grad_leaves, structure


#: Up to this many arrays, check every pair directly; beyond, sort by address.
_PAIRWISE_LIMIT = 8


def check_disjoint(written: list, read: list, internal: list = ()) -> None:
    """Refuse memory shared between an array the step writes and any other.

    ``written`` (the parameters) must not overlap each other, ``read`` (the
    gradients) or ``internal`` (the optimizer's own buffers); gradients may
    overlap each other, and the buffers (allocated by the optimizer) are not
    checked against each other.  Each list holds ``(name, array)`` pairs.
    """
    tagged = ([(name, a, "written") for name, a in written]
              + [(name, a, "read") for name, a in read]
              + [(name, a, "internal") for name, a in internal])
    if len(tagged) <= _PAIRWISE_LIMIT:
        pairs = ((x, y) for i, x in enumerate(tagged) for y in tagged[i + 1:])
    else:
        pairs = _overlapping_bounds(tagged)
    for (name_a, a, role_a), (name_b, b, role_b) in pairs:
        roles = {role_a, role_b}
        if roles in ({"read"}, {"internal"}) or not np.may_share_memory(a, b):
            continue     # gradients are only read; the buffers are the optimizer's own
        try:   # may_share_memory only compares address ranges: confirm
            shared = np.shares_memory(a, b, max_work=100_000)
        except np.exceptions.TooHardError:
            shared = True
        if shared:
            raise ValueError(f"{name_a} and {name_b} share memory: the step writes "
                             f"{name_a if role_a != 'read' else name_b} in place, so "
                             "the result would depend on the order of reads and writes; "
                             "pass separate arrays (e.g. a copy of the gradient)")


def _overlapping_bounds(tagged):
    """The pairs whose address ranges overlap, by a sweep over sorted bounds."""
    try:
        from numpy.lib.array_utils import byte_bounds   # NumPy >= 2
    except ImportError:                                 # NumPy 1.26
        byte_bounds = np.byte_bounds
    spans = sorted((*byte_bounds(a), i) for i, (_, a, _) in enumerate(tagged) if a.size)
    active: list = []
    for low, high, i in spans:
        active = [(h, j) for h, j in active if h > low]
        for _, j in active:
            yield tagged[j], tagged[i]
        active.append((high, i))
