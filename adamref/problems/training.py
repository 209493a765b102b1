"""Training K networks at once on a data set with minibatch SGD-style optimizers.

``train`` runs one optimizer on K networks (``theta`` of shape ``(K, P)``, see
``adamref.problems.mlp``) through ``adamref.problems.runs.run``, the package's
one run loop and divergence policy: an optimizer whose hyperparameters are
columns of shape ``(K, 1)`` (learning rates, a schedule of them, weight
decays) trains K configurations, and the rows of ``theta0`` give each its own
initialization.  ``batch_order`` says which training examples each step sees:
one shared order, or one order per network (its own seed), reshuffled every
epoch.  At checkpoints the run records each network's loss on the whole
training set and its error rates on the validation and test sets, and the
mean loss of the minibatches it trained on since the previous checkpoint
(free: the gradient computes it).
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
    it has diverged, and before the last checkpoint for a metric ``train`` was
    asked to compute at the end only); ``theta`` (K, P): the final parameters;
    ``diverged`` (K,); ``batch_loss`` (C, K): the mean cross-entropy of the
    minibatches of the steps since the previous checkpoint, each at the
    parameters it was computed at (NaN at step 0)."""

    steps: np.ndarray
    train_loss: np.ndarray
    val_error: np.ndarray
    test_error: np.ndarray
    theta: np.ndarray
    diverged: np.ndarray
    batch_loss: np.ndarray


#: The metrics ``train`` records at its checkpoints, in the order of its record.
METRICS = ("train_loss", "val_error", "test_error")


def train(network, data, optimizer, theta0, steps: int, *, batch_size: int = 32,
          batch_seeds=0, every: int | None = None, bound=DIVERGENCE_BOUND,
          final_only=()) -> Training:
    """Train the K networks ``theta0`` (shape ``(K, P)``, copied) of ``network``
    (an ``MLP``) on ``data`` (a ``Digits``) for ``steps`` minibatch steps of
    ``optimizer``.

    ``batch_seeds``: an integer (all networks see the same minibatches) or K
    seeds (one order per network), see ``batch_order``.  Checkpoints every
    ``every`` steps (default: a tenth of the run) and at the end.  The
    metrics named in ``final_only`` (some of ``METRICS``) are computed at the
    last checkpoint only: the loss on the whole training set costs as much as
    a few dozen training steps, so a sweep that needs it only at the end
    skips it on the way.  A network with a parameter beyond ``bound`` in
    size, or a non-finite one, has diverged: ``run``'s policy freezes it at
    NaN.  Nothing of ``theta0`` is modified; the optimizer's state is left
    after the last step."""
    if not (hasattr(network, "loss_and_gradient") and hasattr(network, "error_rate")):
        raise TypeError(f"network must be an MLP, got {type(network).__name__}")
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        if not hasattr(data, name):
            raise TypeError(f"data must be a Digits data set (with {name}), "
                            f"got {type(data).__name__}")
    steps = check.integer("steps", steps, low=1)
    every = max(1, steps // 10) if every is None else check.integer("every", every, low=1)
    final_only = (final_only,) if isinstance(final_only, str) else tuple(final_only)
    unknown = [name for name in final_only if name not in METRICS]
    if unknown:
        raise ValueError(f"final_only must name metrics among {list(METRICS)}, got {unknown}")
    network.layers(theta0)                                 # checks theta0: shape (K, P)
    order = batch_order(len(data.y_train), batch_size, steps, batch_seeds)
    if order.ndim == 3 and order.shape[1] != len(theta0):
        raise ValueError(f"batch_seeds must hold one seed per network ({len(theta0)}), "
                         f"got {order.shape[1]}")
    step = iter(order)
    done = [0]                                             # steps taken so far
    batch_losses = np.zeros(len(theta0))                   # summed since the last checkpoint
    since = [0]                                            # steps summed in batch_losses

    def gradient(theta):
        rows = next(step)                                  # this step's examples
        loss, grad = network.loss_and_gradient(theta, data.X_train[rows], data.y_train[rows])
        batch_losses[:] += loss
        done[0], since[0] = done[0] + 1, since[0] + 1
        return grad

    evaluate = {"train_loss": lambda theta: network.loss(theta, data.X_train, data.y_train),
                "val_error": lambda theta: network.error_rate(theta, data.X_val, data.y_val),
                "test_error": lambda theta: network.error_rate(theta, data.X_test, data.y_test)}

    def record(theta):
        last = done[0] == steps
        with np.errstate(invalid="ignore"):                # no step yet: NaN
            mean_batch = batch_losses / since[0] if since[0] else np.full(len(theta), np.nan)
        batch_losses[:], since[0] = 0.0, 0
        values = [evaluate[name](theta) if last or name not in final_only
                  else np.full(len(theta), np.nan) for name in METRICS]
        return np.stack([*values, mean_batch])

    result = run(optimizer, gradient, theta0, steps, record=record, every=every, bound=bound)
    history, at = result.history, result.steps
    if at[-1] != steps:                                    # the last step is a checkpoint too
        with np.errstate(all="ignore"):                    # diverged rows are NaN
            history = np.concatenate([history, record(result.theta)[None]])
        at = np.append(at, steps)
    return Training(at, history[:, 0], history[:, 1], history[:, 2], result.theta,
                    result.diverged, history[:, 3])
