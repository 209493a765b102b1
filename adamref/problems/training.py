"""Training K networks at once on a data set with minibatch SGD-style optimizers.

``train`` runs one optimizer on K networks (``theta`` of shape ``(K, P)``, see
``adamref.problems.mlp``) through ``adamref.problems.runs.run``, the package's
one run loop and divergence policy: an optimizer whose hyperparameters are
columns of shape ``(K, 1)`` (learning rates, a schedule of them, weight
decays) trains K configurations, and the rows of ``theta0`` give each its own
initialization.  ``batch_order`` says which training examples each step sees:
one shared order, or one order per network (its own seed), reshuffled every
epoch.  At checkpoints the run records each network's loss on the whole
training set and its error rates on the validation and test sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.optim import validation as check
from adamref.problems.runs import DIVERGENCE_BOUND, run


def batch_order(n_samples: int, batch_size: int, steps: int, seeds) -> np.ndarray:
    """The example indices of every step's minibatch: each epoch is a fresh
    permutation of ``range(n_samples)`` cut into ``n_samples // batch_size``
    batches (the remainder is left out of that epoch).

    ``seeds`` an integer: one order for all networks, shape ``(steps,
    batch_size)``; a 1-D array of K seeds: network k's order comes from
    ``np.random.default_rng(seeds[k])``, shape ``(steps, K, batch_size)``."""
    n_samples = check.integer("n_samples", n_samples, low=1)
    batch_size = check.integer("batch_size", batch_size, low=1)
    steps = check.integer("steps", steps, low=1)
    if batch_size > n_samples:
        raise ValueError(f"batch_size must be <= n_samples = {n_samples}, got {batch_size}")
    shared = isinstance(seeds, (int, np.integer)) and not isinstance(seeds, (bool, np.bool_))
    seed_list = [check.seed("seeds", seeds)] if shared else _seed_list(seeds)
    per_epoch = n_samples // batch_size
    epochs = -(-steps // per_epoch)                        # ceil(steps / per_epoch)
    orders = []
    for seed in seed_list:
        rng = np.random.default_rng(seed)
        cut = [rng.permutation(n_samples)[:per_epoch * batch_size] for _ in range(epochs)]
        orders.append(np.concatenate(cut).reshape(-1, batch_size)[:steps])
    return orders[0] if shared else np.stack(orders, axis=1)


def _seed_list(seeds) -> list[int]:
    array = np.asarray(seeds)
    if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iu":
        raise TypeError(f"seeds must be an integer or a non-empty 1-D array of integers, "
                        f"got {seeds!r:.60}")
    return [check.seed("seeds", s) for s in array.tolist()]


@dataclass(frozen=True)
class Training:
    """What ``train`` returns.  ``steps`` (C,): the checkpoints (0, every, …,
    the last step); ``train_loss``, ``val_error``, ``test_error`` (C, K): each
    network's mean cross-entropy on the whole training set and its error rates
    (fractions) on the validation and test sets at each checkpoint (NaN once
    it has diverged); ``theta`` (K, P): the final parameters; ``diverged`` (K,)."""

    steps: np.ndarray
    train_loss: np.ndarray
    val_error: np.ndarray
    test_error: np.ndarray
    theta: np.ndarray
    diverged: np.ndarray


def train(network, data, optimizer, theta0, steps: int, *, batch_size: int = 32,
          batch_seeds=0, every: int | None = None, bound=DIVERGENCE_BOUND) -> Training:
    """Train the K networks ``theta0`` (shape ``(K, P)``, copied) of ``network``
    (an ``MLP``) on ``data`` (a ``Digits``) for ``steps`` minibatch steps of
    ``optimizer``.

    ``batch_seeds``: an integer (all networks see the same minibatches) or K
    seeds (one order per network), see ``batch_order``.  Checkpoints every
    ``every`` steps (default: a tenth of the run) and at the end.  A network
    with a parameter beyond ``bound`` in size, or a non-finite one, has
    diverged: ``run``'s policy freezes it at NaN.  Nothing of ``theta0`` is
    modified; the optimizer's state is left after the last step."""
    if not (hasattr(network, "loss_and_gradient") and hasattr(network, "error_rate")):
        raise TypeError(f"network must be an MLP, got {type(network).__name__}")
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        if not hasattr(data, name):
            raise TypeError(f"data must be a Digits data set (with {name}), "
                            f"got {type(data).__name__}")
    steps = check.integer("steps", steps, low=1)
    every = max(1, steps // 10) if every is None else check.integer("every", every, low=1)
    network.layers(theta0)                                 # checks theta0: shape (K, P)
    order = batch_order(len(data.y_train), batch_size, steps, batch_seeds)
    if order.ndim == 3 and order.shape[1] != len(theta0):
        raise ValueError(f"batch_seeds must hold one seed per network ({len(theta0)}), "
                         f"got {order.shape[1]}")
    step = iter(order)

    def gradient(theta):
        rows = next(step)                                  # this step's examples
        return network.loss_and_gradient(theta, data.X_train[rows], data.y_train[rows])[1]

    def record(theta):
        return np.stack([network.loss(theta, data.X_train, data.y_train),
                         network.error_rate(theta, data.X_val, data.y_val),
                         network.error_rate(theta, data.X_test, data.y_test)])

    result = run(optimizer, gradient, theta0, steps, record=record, every=every, bound=bound)
    history, at = result.history, result.steps
    if at[-1] != steps:                                    # the last step is a checkpoint too
        with np.errstate(all="ignore"):                    # diverged rows are NaN
            history = np.concatenate([history, record(result.theta)[None]])
        at = np.append(at, steps)
    return Training(at, history[:, 0], history[:, 1], history[:, 2], result.theta,
                    result.diverged)
