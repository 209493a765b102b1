"""Gradient clipping, with PyTorch's semantics: by the global norm of all the
gradients together (``torch.nn.utils.clip_grad_norm_``) or coordinate by
coordinate (``torch.nn.utils.clip_grad_value_``).

The gradients are a tree like an optimizer's (one ndarray, a list or a dict of
them); the functions return clipped copies and never modify their input.
``batch_dims=1`` treats the leading axis as K independent models (parameters
of shape ``(K, ...)`` trained at once): each row gets its own norm and its own
scale, as if each model were clipped alone.

The global norm is ``√(Σ g²)`` over every coordinate of every leaf (PyTorch
takes the norm of the leaves' norms: equal in exact arithmetic), computed in
float64 with ``np.einsum``'s own loops (the same bits on every CPU).  Like
PyTorch, the scale is ``min(max_norm/(norm + 1e-6), 1)`` and every gradient is
multiplied by it, so a gradient whose norm is within about 1e-6 of
``max_norm`` is already scaled by slightly less than 1, a non-finite norm gives
scale 0 (inf) or NaN, and nothing is ever scaled up.
"""

from __future__ import annotations

import numpy as np

from adamref.optim import validation as check
from adamref.optim.tree import flatten

#: PyTorch's guard against division by a zero norm, added to the norm.
NORM_GUARD = 1e-6


def _checked_batch_dims(batch_dims, leaves) -> int:
    batch_dims = check.integer("batch_dims", batch_dims, low=0)
    if batch_dims > 1:
        raise ValueError(f"batch_dims must be 0 (one model) or 1 (K models on the "
                         f"leading axis), got {batch_dims}")
    if batch_dims:
        shapes = {leaf.shape[:1] if leaf.ndim else () for leaf in leaves}
        if len(shapes) != 1 or shapes == {()}:
            raise ValueError("with batch_dims=1 every gradient must have the same leading "
                             f"axis (the K models), got leading shapes {sorted(shapes)}")
    return batch_dims


def global_norm(grads, *, batch_dims: int = 0):
    """``√(Σ g²)`` over all coordinates of all leaves of ``grads``: a float, or
    with ``batch_dims=1`` an array of shape ``(K,)``, one norm per model."""
    leaves, _ = flatten(grads, "grads")
    batch_dims = _checked_batch_dims(batch_dims, leaves)
    rows = leaves[0].shape[0] if batch_dims else 1
    squares = sum(np.einsum("ki,ki->k", flat, flat, dtype=np.float64)   # Σ g² per model
                  for flat in (leaf.reshape(rows, -1) for leaf in leaves))
    norm = np.sqrt(squares)
    return norm if batch_dims else float(norm[0])


def clip_by_global_norm(grads, max_norm, *, batch_dims: int = 0):
    """``(clipped, norm)``: copies of ``grads`` scaled by
    ``min(max_norm/(norm + 1e-6), 1)`` (``torch.nn.utils.clip_grad_norm_``),
    and the norm before clipping (see ``global_norm``).

    ``max_norm >= 0``: a number, or with ``batch_dims=1`` also an array of
    shape ``(K,)`` (one threshold per model, for a sweep)."""
    leaves, structure = flatten(grads, "grads")
    batch_dims = _checked_batch_dims(batch_dims, leaves)
    max_norm = check.hyperparameter("max_norm", max_norm, low=0.0)
    if isinstance(max_norm, np.ndarray) and (not batch_dims or max_norm.ndim != 1
                                              or max_norm.shape[0] not in (1, leaves[0].shape[0])):
        raise ValueError(f"max_norm must be a number, or with batch_dims=1 an array of "
                         f"shape (K,) = ({leaves[0].shape[0] if batch_dims else 'K'},), "
                         f"got shape {max_norm.shape}")
    norm = global_norm(grads, batch_dims=batch_dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.minimum(max_norm / (norm + NORM_GUARD), 1.0)           # min(c/(‖g‖ + 1e-6), 1)
    clipped = [_scaled(leaf, scale, batch_dims) for leaf in leaves]
    return structure.unflatten(clipped), norm


def _scaled(leaf, scale, batch_dims):
    """``leaf · scale`` in the leaf's dtype (per row of the leading axis with batch_dims=1)."""
    if batch_dims:
        scale = np.asarray(scale).reshape((-1,) + (1,) * (leaf.ndim - 1))
    with np.errstate(invalid="ignore", over="ignore"):
        return np.multiply(leaf, scale, dtype=leaf.dtype, casting="same_kind")


def clip_by_value(grads, clip_value):
    """Copies of ``grads`` with every coordinate clamped to
    ``[−clip_value, clip_value]`` (``torch.nn.utils.clip_grad_value_``; NaN
    stays NaN).  ``clip_value >= 0``: a number, or an array broadcasting to
    every leaf."""
    leaves, structure = flatten(grads, "grads")
    clip_value = check.hyperparameter("clip_value", clip_value, low=0.0)
    for leaf, name in zip(leaves, structure.leaf_names("grads", len(leaves))):
        check.broadcasts_to("clip_value", clip_value, leaf.shape, name)
    return structure.unflatten([np.clip(leaf, -clip_value, clip_value).astype(leaf.dtype,
                                                                             copy=False)
                                for leaf in leaves])
