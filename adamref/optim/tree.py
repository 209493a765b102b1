"""Parameters come as one ndarray, a list (or tuple) of ndarrays, or a dict of
ndarrays.  The optimizers work on a flat list of leaves; this module flattens a
structure, names its leaves for error messages, and rebuilds the structure for
state that mirrors it (``m``, ``v``, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check


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


def check_disjoint(params: list, grads: list, buffers: list) -> tuple | None:
    """The first pair of arrays that share memory although the step writes one
    of them, as ``(kind, index, kind, index)`` with kinds ``"params"``,
    ``"grads"`` and ``"buffers"``; ``None`` if there is none.

    Parameters must not overlap each other or a gradient; neither may be (a
    view of) one of the optimizer's buffers, which own their memory.
    Gradients may overlap each other: they are only read.
    """
    owners = {id(b): j for j, b in enumerate(buffers)}
    for kind, arrays in (("params", params), ("grads", grads)):
        for i, a in enumerate(arrays):
            j = owners.get(id(a), owners.get(id(a.base)))
            if j is not None:
                return kind, i, "buffers", j
    if len(params) + len(grads) <= _PAIRWISE_LIMIT:
        pairs = [(("params", i), (kind, j)) for i in range(len(params))
                 for kind, start in (("params", i + 1), ("grads", 0))
                 for j in range(start, len(params if kind == "params" else grads))]
    else:
        pairs = _overlapping_bounds(params, grads)
    groups = {"params": params, "grads": grads}
    for (kind_a, i), (kind_b, j) in pairs:
        a, b = groups[kind_a][i], groups[kind_b][j]
        if not np.may_share_memory(a, b):      # address ranges: cheap, conservative
            continue
        try:                                   # confirm (interleaved views do not share)
            shared = np.shares_memory(a, b, max_work=100_000)
        except np.exceptions.TooHardError:
            shared = True
        if shared:
            return kind_a, i, kind_b, j
    return None


def _overlapping_bounds(params: list, grads: list):
    """The pairs to compare among many arrays (not grads with grads): those
    whose address ranges overlap, by a sweep over the sorted ranges."""
    try:
        from numpy.lib.array_utils import byte_bounds   # NumPy >= 2
    except ImportError:                                 # NumPy 1.26
        byte_bounds = np.byte_bounds
    spans = sorted((*byte_bounds(a), kind, i)
                   for kind, arrays in (("params", params), ("grads", grads))
                   for i, a in enumerate(arrays) if a.size)
    active: list = []
    for low, high, kind, i in spans:
        active = [span for span in active if span[0] > low]
        for _, other_kind, j in active:
            if "params" in (kind, other_kind):
                first, second = ((other_kind, j), (kind, i)) if other_kind == "params" \
                    else ((kind, i), (other_kind, j))
                yield first, second
        active.append((high, kind, i))
