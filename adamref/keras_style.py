"""The Keras snippet ``Sequential([Dense(...)])`` / ``compile`` / ``fit``, on adamref.

Exactly what the book's seed-regression snippet needs, with Keras 3's semantics
(checked against keras 3.15.1, ``keras/src/trainers``, ``.../data_adapters/
array_data_adapter.py``, ``metrics/reduction_metrics.py``, ``losses/losses.py``,
``optimizers/adam.py``, and replayed against a real-Keras fixture in the tests):

- weights: ``kernel`` of shape ``(fan_in, units)`` drawn from ``glorot_uniform``,
  U(−l, l) with ``l = √(6 / (fan_in + fan_out))``, and a zero ``bias``; float32;
- ``batch_size=None`` means 32; the last batch of an epoch is the remainder
  (100 samples → batches of 32, 32, 32, 4), never dropped;
- ``shuffle=True``: a fresh permutation of the samples at every epoch;
- loss ``'mse'``: ``mean((y − ŷ)², axis=−1)`` per sample, then the mean over the
  batch;
- one optimizer step per batch, and the optimizer's step count ``t`` runs on
  across epochs (and across ``fit`` calls), as Keras' ``optimizer.iterations``;
- ``history.history['loss'][e]`` is the *sample-weighted mean of the batch
  losses of epoch e, each computed before that batch's update* (Keras'
  ``Mean`` loss tracker, reset at every epoch): not the loss at the epoch's end.

Randomness (the initial kernel, the shuffles) comes from NumPy generators:
``set_random_seed(seed)`` plays the role of ``keras.utils.set_random_seed``, and
``fit(..., seed=s)`` makes the shuffles of that call reproducible on their own.
The streams differ from Keras' own, so a Keras run and this one share data and
initial weights only when both are given explicitly (``set_weights``).

This module imports only NumPy and the optimizers: no plotting, nothing of the book.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import keras_adam
from adamref.optim.optimizer import Optimizer, restoring

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LOSSES",
    "OPTIMIZERS",
    "Dense",
    "History",
    "Sequential",
    "set_random_seed",
]

#: Keras' batch size when ``fit`` gets ``batch_size=None``.
DEFAULT_BATCH_SIZE = 32
#: Loss names ``compile`` accepts (Keras' aliases of the mean squared error).
LOSSES = ("mse", "mean_squared_error")
#: Optimizer names ``compile`` accepts, each with Keras' defaults.
OPTIMIZERS = {"adam": keras_adam}

_global = {"rng": np.random.default_rng()}


def set_random_seed(seed: int) -> None:
    """Seed the generator behind the initial weights and the unseeded shuffles
    (the counterpart of ``keras.utils.set_random_seed``)."""
    _global["rng"] = np.random.default_rng(check.integer("seed", seed, 0))


def _float32_array(name: str, value, ndims: tuple) -> np.ndarray:
    """``value`` as a float32 array of one of the ranks ``ndims``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {value!r:.60}")
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be an array of numbers, got dtype {array.dtype}")
    if array.ndim not in ndims:
        ranks = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{name} must have rank {ranks}, got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got a NaN or Inf")
    return array


@contextmanager
def _generator_restored_on_error(rng: np.random.Generator):
    """Put ``rng`` back in its state if the block raises."""
    saved = copy.deepcopy(rng.bit_generator.state)
    try:
        yield
    except BaseException:
        rng.bit_generator.state = saved
        raise


class Dense:
    """``y = x @ kernel + bias`` (no activation), as ``keras.layers.Dense(units)``.

    With ``input_shape=[fan_in]`` the weights are created at once, otherwise at
    the first ``fit``/``predict`` from the width of ``x``.
    """

    def __init__(self, units, input_shape=None):
        self.units = check.integer("units", units, 1)
        self.input_shape = None
        self.kernel = self.bias = None
        if input_shape is not None:
            if (isinstance(input_shape, (str, bytes))
                    or not isinstance(input_shape, (list, tuple)) or len(input_shape) != 1):
                raise ValueError("input_shape must be a list or tuple of one integer "
                                 f"(the number of input features), got {input_shape!r}")
            self.input_shape = (check.integer("input_shape[0]", input_shape[0], 1),)
            self.build(self.input_shape[0])

    def build(self, fan_in: int) -> None:
        """Draw the kernel from glorot_uniform and set the bias to zero."""
        fan_in = check.integer("fan_in", fan_in, 1)
        limit = np.sqrt(6.0 / (fan_in + self.units))
        kernel = _global["rng"].uniform(-limit, limit, size=(fan_in, self.units))
        self.kernel = kernel.astype(np.float32)
        self.bias = np.zeros(self.units, dtype=np.float32)
        self.input_shape = (fan_in,)

    @property
    def built(self) -> bool:
        return self.kernel is not None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.kernel + self.bias

    def __repr__(self):
        return f"Dense(units={self.units}, input_shape={self.input_shape})"


class History:
    """What ``fit`` returns: ``history['loss']`` (one float per epoch) and
    ``epoch`` (0, 1, ...), as Keras' ``History`` callback.

    ``trace`` is an adamref extra (Keras has no such thing), for opening the box:
    ``kernel`` (T + 1, fan_in, units) and ``bias`` (T + 1, units) hold the weights
    before the first step and after each of the T steps of this ``fit``;
    ``batch_loss`` (T,) the loss of each batch before its update; ``batch_size``
    (T,) the batch sizes; ``order`` (epochs, n) the sample order of each epoch.
    """

    def __init__(self, history: dict, epoch: list, trace: dict):
        self.history, self.epoch, self.trace = history, epoch, trace

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, final loss={self.history['loss'][-1]:.4g})"


class Sequential:
    """A model of exactly one ``Dense`` layer: what the snippet builds."""

    def __init__(self, layers):
        if (not isinstance(layers, (list, tuple)) or len(layers) != 1
                or not isinstance(layers[0], Dense)):
            raise ValueError("layers must be a list holding exactly one Dense layer "
                             f"(all the snippet needs), got {layers!r:.80}")
        self.layer = layers[0]
        self.optimizer = None
        self.loss = None

    # -- the snippet's calls -----------------------------------------------------
    def compile(self, optimizer, loss):
        """``optimizer``: an adamref optimizer (``adamref.keras_adam(learning_rate=0.01)``)
        or ``'adam'`` (Keras' default Adam, learning rate 1e-3); ``loss``: ``'mse'``."""
        if isinstance(optimizer, str):
            if optimizer.lower() not in OPTIMIZERS:
                raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or an "
                                 f"adamref optimizer, got {optimizer!r}")
            optimizer = OPTIMIZERS[optimizer.lower()]()
        elif not isinstance(optimizer, Optimizer):
            raise TypeError("optimizer must be an adamref optimizer (e.g. "
                            "adamref.keras_adam(learning_rate=0.01)) or 'adam', got "
                            f"{type(optimizer).__name__} {optimizer!r:.60}")
        if not isinstance(loss, str) or loss.lower() not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
        self.optimizer, self.loss = optimizer, loss.lower()

    def fit(self, x, y, epochs=1, batch_size=None, shuffle=True, verbose=0, seed=None):
        """Train for ``epochs`` passes over ``(x, y)``; returns a ``History``.

        ``x`` has shape ``(n, fan_in)``; ``y`` has shape ``(n, units)`` (or ``(n,)``
        when ``units == 1``).  With ``seed`` the order of epoch e is the e-th
        ``permutation(n)`` of ``np.random.default_rng(seed)``; without it the
        module's generator (``set_random_seed``) is used.  Unlike Keras,
        ``epochs=0`` is an error rather than a silent no-op.
        """
        if self.optimizer is None:
            raise ValueError("fit() needs a compiled model: call "
                             "model.compile(optimizer=..., loss='mse') first")
        x, y = self._checked_data(x, y)
        epochs = check.integer("epochs", epochs, 1)
        batch_size = (DEFAULT_BATCH_SIZE if batch_size is None
                      else check.integer("batch_size", batch_size, 1))
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        if verbose not in (0, 1, 2, "auto") or isinstance(verbose, bool):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        rng = _global["rng"] if seed is None else np.random.default_rng(check.integer("seed", seed, 0))

        n = len(x)
        starts = np.arange(0, n, batch_size)
        steps = epochs * len(starts)
        layer, params = self.layer, [self.layer.kernel, self.layer.bias]
        kernels = np.empty((steps + 1, *layer.kernel.shape), dtype=np.float32)
        biases = np.empty((steps + 1, *layer.bias.shape), dtype=np.float32)
        batch_loss = np.empty(steps, dtype=np.float32)
        sizes = np.empty(steps, dtype=np.int64)
        orders = np.empty((epochs, n), dtype=np.int64)
        kernels[0], biases[0] = layer.kernel, layer.bias
        losses = []
        # A step that raises (a float32 gradient whose square overflows) after
        # earlier steps of this fit: put the weights, the optimizer and the
        # generator back as they were, so that the failing call changes nothing.
        with restoring(self.optimizer, params), _generator_restored_on_error(rng):
            self._fit_epochs(x, y, epochs, batch_size, shuffle, verbose, rng, starts,
                             params, kernels, biases, batch_loss, sizes, orders, losses)
        trace = dict(kernel=kernels, bias=biases, batch_loss=batch_loss, batch_size=sizes,
                     order=orders)
        return History({"loss": losses}, list(range(epochs)), trace)

    def _fit_epochs(self, x, y, epochs, batch_size, shuffle, verbose, rng, starts,
                    params, kernels, biases, batch_loss, sizes, orders, losses):
        layer, n, step = self.layer, len(x), 0
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle else np.arange(n)
            orders[epoch] = order
            total = np.float32(0.0)   # Keras' Mean tracker: Σ loss·batch size ...
            count = np.float32(0.0)   # ... and Σ batch size, reset every epoch
            for start in starts:
                batch = order[start:start + batch_size]
                loss, grads = self._loss_and_gradients(x[batch], y[batch])
                total += loss * np.float32(len(batch))
                count += np.float32(len(batch))
                self.optimizer.step(params, grads)
                batch_loss[step], sizes[step] = loss, len(batch)
                step += 1
                kernels[step], biases[step] = layer.kernel, layer.bias
            losses.append(float(total / count))
            if verbose != 0:
                print(f"Epoch {epoch + 1}/{epochs} - loss: {losses[-1]:.4f}")

    def predict(self, x, verbose=0):
        """``x @ kernel + bias`` for ``x`` of shape ``(n, fan_in)``, float32."""
        x = _float32_array("x", x, (2,))
        self._ensure_built(x)
        return self.layer(x)

    def evaluate(self, x, y, verbose=0):
        """The loss on ``(x, y)`` with the current weights (no update)."""
        x, y = self._checked_data(x, y)
        return float(self._loss_and_gradients(x, y)[0])

    def get_weights(self) -> list:
        """Copies of ``[kernel, bias]``."""
        if not self.layer.built:
            raise ValueError("the model has no weights yet: give Dense an input_shape "
                             "or call fit/predict first")
        return [self.layer.kernel.copy(), self.layer.bias.copy()]

    def set_weights(self, weights) -> None:
        """Overwrite ``[kernel, bias]`` in place (the optimizer keeps its state)."""
        if not self.layer.built:
            raise ValueError("the model has no weights yet: give Dense an input_shape "
                             "or call fit/predict first")
        if not isinstance(weights, (list, tuple)) or len(weights) != 2:
            raise ValueError(f"weights must be a list [kernel, bias], got {weights!r:.80}")
        checked = []
        for name, new, old in zip(("kernel", "bias"), weights, self.get_weights()):
            new = _float32_array(f"weights ({name})", new, (old.ndim,))
            if new.shape != old.shape:
                raise ValueError(f"weights ({name}) must have shape {old.shape}, "
                                 f"got shape {new.shape}")
            checked.append(new)
        # Both checked: only now write (a failing call changes nothing).
        self.layer.kernel[...], self.layer.bias[...] = checked

    # -- internals ------------------------------------------------------------------
    def _ensure_built(self, x):
        if not self.layer.built:
            self.layer.build(x.shape[1])
        elif x.shape[1] != self.layer.input_shape[0]:
            raise ValueError(f"x must have {self.layer.input_shape[0]} feature column(s) "
                             f"(the Dense input_shape), got shape {x.shape}")

    def _checked_data(self, x, y):
        """``(x, y)`` checked, and the layer built from ``x`` only once both
        are known to be good (building draws from the module's generator)."""
        x = _float32_array("x", x, (2,))
        y = _float32_array("y", y, (1, 2))
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same number of samples, got "
                             f"len(x) = {len(x)} and len(y) = {len(y)}")
        if len(x) == 0:
            raise ValueError("x must hold at least one sample, got shape (0, ...)")
        units = self.layer.units
        if y.ndim == 1 and units == 1:
            y = y[:, None]     # Keras squeezes/expands y and ŷ to the same rank
        if y.shape[1:] != (units,):
            raise ValueError(f"y must have shape (n, {units}) to match Dense(units={units}), "
                             f"got shape {y.shape}")
        self._ensure_built(x)
        return x, y

    def _loss_and_gradients(self, xb, yb):
        """Batch MSE and its gradient with respect to [kernel, bias], in float32."""
        error = self.layer(xb) - yb                       # ŷ − y, shape (B, units)
        loss = np.mean(np.mean(np.square(error), axis=-1), dtype=np.float32)
        d_pred = (2.0 / error.size) * error               # ∂loss/∂ŷ = 2(ŷ − y)/(B·units)
        return loss, [xb.T @ d_pred, d_pred.sum(axis=0)]  # ∂/∂kernel, ∂/∂bias
