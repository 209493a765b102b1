"""The seed-regression problem of the book (``y = 3x + noise``, one Dense unit)
and the measurements its chapter makes on a ``keras_style`` training run.

NumPy only (plus ``keras_style`` and the optimizers): no plotting here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from adamref.optim import validation as check
from adamref.keras_style import DEFAULT_BATCH_SIZE, Dense, History, Sequential, set_random_seed
from adamref.problems.datasets import LeastSquares
from adamref.problems.registry import make_optimizer

#: The snippet's settings.
TRUE_SLOPE, N_SAMPLES, NOISE, LEARNING_RATE, EPOCHS = 3.0, 100, 0.1, 0.01, 100


def make_data(n=N_SAMPLES, slope=TRUE_SLOPE, noise=NOISE, seed=0):
    """``x ~ N(0, 1)`` of shape (n, 1) and ``y = slope·x + N(0, noise²)``, float32,
    from ``np.random.default_rng(seed)`` (x first, then the noise): the same
    arrays as ``x = rng.standard_normal((n, 1)).astype(np.float32)``;
    ``y = (slope * x + noise * rng.standard_normal((n, 1))).astype(np.float32)``."""
    n = check.integer("n", n, 1)
    slope = check.hyperparameter("slope", slope, low=-np.inf)
    noise = check.hyperparameter("noise", noise, low=0.0)
    if not isinstance(slope, float) or not isinstance(noise, float):
        raise TypeError(f"slope and noise must be numbers, got {slope!r} and {noise!r}")
    rng = np.random.default_rng(check.integer("seed", seed, 0))
    x = rng.standard_normal((n, 1)).astype(np.float32)
    y = (slope * x + noise * rng.standard_normal((n, 1))).astype(np.float32)
    return x, y


def _column(name, a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1), got shape {a.shape}")
    return a


def regression_problem(x, y) -> LeastSquares:
    """The snippet's loss as a ``LeastSquares`` in θ = (w, b): the MSE of
    ``y ≈ w·x + b`` is ``2·loss(θ)`` (design matrix ``[x, 1]``, float64)."""
    x, y = _column("x", x), _column("y", y)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"x and y must have the same length >= 2, got {len(x)} and {len(y)}")
    return LeastSquares(np.stack([x, np.ones_like(x)], axis=1), y)


def least_squares(x, y):
    """The closed-form minimizer ``(w, b)`` of the MSE of ``y ≈ w·x + b``."""
    w, b = regression_problem(x, y).optimum
    return float(w), float(b)


def history_trace(history):
    """The per-step ``trace`` of the ``History`` that ``fit`` returned (checked)."""
    if not isinstance(history, History):
        raise TypeError(f"history must be the History that fit returned, "
                        f"got {type(history).__name__}")
    return history.trace


def mse(kernel, bias, x, y):
    """Full-data MSE of ``x·kernel + bias`` for one or many weights at once:
    ``kernel`` of shape (...,) and ``bias`` of shape (...,); x, y of shape (n,) or (n, 1)."""
    theta = np.stack(np.broadcast_arrays(np.asarray(kernel, dtype=np.float64),
                                         np.asarray(bias, dtype=np.float64)), axis=-1)
    return 2 * regression_problem(x, y).loss(theta)     # exact: 2·(½·mean r²)


def end_of_epoch_loss(history, x, y):
    """The full-data loss with the weights *at the end* of each epoch (what
    ``history['loss']`` is not), shape (epochs,)."""
    trace = history_trace(history)
    per_epoch = len(trace["batch_loss"]) // len(history.epoch)
    ends = np.arange(1, len(history.epoch) + 1) * per_epoch
    return mse(trace["kernel"][ends, 0, 0], trace["bias"][ends, 0], x, y)


def kernel_per_epoch(history):
    """The kernel ``w`` at the start and after each epoch, shape (epochs + 1,)."""
    trace = history_trace(history)
    per_epoch = len(trace["batch_loss"]) // len(history.epoch)
    return trace["kernel"][::per_epoch, 0, 0].astype(np.float64)


def approach(history, w_ls, *, tol=0.01, at=EPOCHS, last=100):
    """How the kernel of a run approaches the least-squares ``w_ls``, epoch by
    epoch: ``w_at`` (after ``at`` epochs), ``w_end`` (after the last), ``reached``
    (the first epoch that ends within ``tol`` of ``w_ls``, 0 for the start, None
    if none does) and ``jitter`` (the mean distance over the ``last`` epochs)."""
    w = kernel_per_epoch(history)
    tol = check.positive_number("tol", tol)
    at, last = check.integer("at", at, 0), check.integer("last", last, 1)
    if at >= w.size or last >= w.size:
        raise ValueError(f"at and last must be at most the run's {w.size - 1} epochs, "
                         f"got at={at} and last={last}")
    off = np.abs(w - check.hyperparameter("w_ls", w_ls, low=-np.inf))
    within = np.flatnonzero(off < tol)
    return dict(w_at=float(w[at]), w_end=float(w[-1]),
                reached=int(within[0]) if within.size else None,
                jitter=float(off[-last:].mean()))


def distance_travelled(history):
    """``(path, net)`` of the kernel over the run: ``Σ|Δw|`` over all steps, and
    ``|w_T − w_0|``."""
    w = history_trace(history)["kernel"][:, 0, 0].astype(np.float64)
    return float(np.sum(np.abs(np.diff(w)))), float(abs(w[-1] - w[0]))


def train(lr=LEARNING_RATE, epochs=EPOCHS, batch_size=None, noise=NOISE, optimizer="Keras Adam",
          data_seed=0, model_seed=1, slope=TRUE_SLOPE):
    """The snippet with its knobs: data from ``make_data(slope=slope, noise=noise,
    seed=data_seed)``,
    ``set_random_seed(model_seed)`` (initial kernel and shuffles; this resets the
    module generator of ``keras_style``), ``Dense(1)``, Keras' Adam (or plain SGD)
    with learning rate ``lr`` (``optimizer`` names one of
    ``adamref.problems.registry.OPTIMIZERS``), ``fit(epochs, batch_size)``.

    Returns ``(model, history, x, y)``.
    """
    opt = make_optimizer(optimizer, check.positive_number("lr", lr))
    x, y = make_data(slope=slope, noise=noise, seed=data_seed)
    set_random_seed(model_seed)
    model = Sequential([Dense(units=1, input_shape=[1])])
    model.compile(optimizer=opt, loss="mse")
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model, history, x, y


def keras_draws(model_seed, n, epochs):
    """What ``set_random_seed(model_seed)`` hands the snippet: the initial kernel
    that ``Dense(units=1, input_shape=[1])`` draws from glorot_uniform (float32),
    then the sample order of each of ``epochs`` epochs that ``fit`` draws, in that
    order from one generator; returns ``(kernel0, orders)`` of shapes () and
    (epochs, n)."""
    rng = np.random.default_rng(check.integer("model_seed", model_seed, 0))
    n, epochs = check.integer("n", n, 1), check.integer("epochs", epochs, 1)
    limit = math.sqrt(6.0 / (1 + 1))                     # glorot: √(6/(fan_in + fan_out))
    kernel0 = rng.uniform(-limit, limit, size=(1, 1)).astype(np.float32)[0, 0]
    return float(kernel0), np.stack([rng.permutation(n) for _ in range(epochs)])


def fit_by_hand(lr=LEARNING_RATE, epochs=EPOCHS, batch_size=DEFAULT_BATCH_SIZE, noise=NOISE,
                data_seed=0, model_seed=1, beta1=0.9, beta2=0.999, eps=1e-7):
    """``train`` with Keras' Adam, written out as the chapter's hand-written
    epoch, for every epoch: the batch gradients of the line from the batch's sums
    (Σx, Σy, Σx², Σxy, all batches at once), then Keras' Adam on the two scalars
    ``w`` and ``b`` in float64.  Same data, initial kernel and shuffles as
    ``train``; the weights agree with it to float32 rounding (``train`` computes
    in float32), in a fraction of the time (no optimizer object per step).

    Returns ``(history, x, y)``: a ``keras_style.History`` with ``history['loss']``
    (the batch losses before each update, averaged per epoch) and the ``trace``
    of ``fit`` (``kernel`` (T + 1, 1, 1), ``bias`` (T + 1, 1), ``batch_loss``,
    ``batch_size``, ``order``)."""
    lr = check.positive_number("lr", lr)
    batch_size = check.integer("batch_size", batch_size, 1)
    x, y = make_data(noise=noise, seed=data_seed)
    kernel0, orders = keras_draws(model_seed, len(x), epochs)
    xs, ys = x[orders, 0].astype(np.float64).ravel(), y[orders, 0].astype(np.float64).ravel()
    per_epoch = np.arange(0, len(x), batch_size)                  # 0, 32, 64, 96
    starts = (per_epoch + len(x) * np.arange(epochs)[:, None]).ravel()   # every batch's start
    sizes = np.diff(np.append(starts, xs.size))                   # 32, 32, 32, 4, 32, ...
    sums = np.add.reduceat(np.stack([xs, ys, xs * xs, xs * ys]), starts, axis=1)
    w, b = _adam_on_line(kernel0, sums.T.tolist(), sizes.tolist(), lr, beta1, beta2, eps)
    step_of = np.repeat(np.arange(sizes.size), sizes)             # each sample's step
    batch_loss = np.add.reduceat((w[step_of] * xs + b[step_of] - ys) ** 2, starts) / sizes
    epoch_loss = (batch_loss * sizes).reshape(epochs, -1).sum(axis=1) / len(x)
    trace = dict(kernel=w[:, None, None], bias=b[:, None], batch_loss=batch_loss,
                 batch_size=sizes, order=orders)
    return History({"loss": epoch_loss.tolist()}, list(range(epochs)), trace), x, y


def _adam_on_line(w, sums, sizes, lr, beta1, beta2, eps):
    """Keras' Adam (ε̂ form, α_t = α·√(1 − β2^t)/(1 − β1^t)) on (w, b) from b = 0, one
    step per batch of ``sums`` (Σx, Σy, Σx², Σxy) and ``sizes``; returns the
    weights before the first and after every step, shape (T + 1,) each."""
    b = m_w = m_b = v_w = v_b = 0.0
    ws, bs = [w], [b]
    for t, ((sx, sy, sxx, sxy), n) in enumerate(zip(sums, sizes), start=1):
        g_w = 2 * (w * sxx + b * sx - sxy) / n            # ∂L_B/∂w of the batch's MSE
        g_b = 2 * (w * sx + b * n - sy) / n               # ∂L_B/∂b
        m_w += (1 - beta1) * (g_w - m_w)
        m_b += (1 - beta1) * (g_b - m_b)
        v_w += (1 - beta2) * (g_w * g_w - v_w)
        v_b += (1 - beta2) * (g_b * g_b - v_b)
        alpha_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        w -= alpha_t * m_w / (math.sqrt(v_w) + eps)
        b -= alpha_t * m_b / (math.sqrt(v_b) + eps)
        ws.append(w)
        bs.append(b)
    return np.array(ws), np.array(bs)


def sweep_model_seeds(seeds, **train_kwargs):
    """Run ``train(model_seed=s, **train_kwargs)`` for each seed (same data, a
    different initial kernel and shuffle order); returns ``(w0, w_final)`` arrays."""
    seeds = [check.integer("seeds[i]", s, 0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    if "model_seed" in train_kwargs:
        raise TypeError("train_kwargs must not contain model_seed: the seeds are swept")
    w = np.array([first_and_last_kernel(train(model_seed=s, **train_kwargs)[1]) for s in seeds])
    return w[:, 0], w[:, 1]


def first_and_last_kernel(history):
    """``(w_0, w_T)``: the kernel before the first and after the last step."""
    w = history_trace(history)["kernel"][:, 0, 0]
    return float(w[0]), float(w[-1])


#: The real-Keras run of the snippet (recorded by hand with
#: ``tests/reference/record_keras_seed.py``; Keras itself is never needed here).
KERAS_REFERENCE = Path(__file__).parent / "data" / "keras_seed_regression.npz"


def keras_reference() -> dict:
    """The real-Keras run the chapter replays: its data ``x``, ``y``, initial
    weights ``kernel0``, ``bias0``, final ``kernel``, ``bias``, per-epoch ``loss``,
    fit time and the versions it was recorded with (``meta_*``), as arrays."""
    with np.load(KERAS_REFERENCE) as run:
        return {key: run[key] for key in run.files}
