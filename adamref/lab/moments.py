"""Exponential moving averages (EMAs) as estimators, and synthetic gradient streams.

Adam's ``m`` and ``v`` are EMAs of ``g`` and ``g²``.  This module holds what
the *Moments* chapter measures about them: the EMA and its unrolled sum, its
memory window, the lag/noise trade-off on a stream whose mean shifts, and the
size of Adam's step as a function of the gradient's signal-to-noise ratio.
NumPy only (it runs ``adamref.Adam`` itself, so the moments measured are the
optimizer's own).  Arrays of streams have time on axis 0.
"""

from __future__ import annotations


import numpy as np

from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.problems.runs import run


# -- argument checks ---------------------------------------------------------------
def _beta(name, value):
    return check.hyperparameter(name, value, low=0.0, high=1.0, high_inclusive=False)


def _stream(name, x):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy ndarray of floats (time on axis 0), "
                        f"got {type(x).__name__}")
    check.float_array(name, x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"{name} must have at least one time step on axis 0, "
                         f"got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got a non-finite value")
    return x


def _real_array(name, value):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}")
    array = np.asarray(value)
    if array.dtype.kind not in "fiu" or array.size == 0:
        raise TypeError(f"{name} must be a real number or a non-empty array of real numbers, "
                        f"got {value!r:.60}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {value!r:.60}")
    return array


# -- the EMA and its unrolled form ---------------------------------------------------
def ema(x, beta, *, bias_correction=False):
    """``m_t = β·m_{t−1} + (1 − β)·x_t`` with ``m_0 = 0``, for every t.

    ``x`` has time on axis 0; the result has the same shape, row ``t − 1``
    holding ``m_t``.  With ``bias_correction`` the rows are ``m_t / (1 − β^t)``.
    """
    x = _stream("x", x)
    beta = _beta("beta", beta)
    out = np.empty_like(x)
    m = np.zeros_like(x[0])
    for t in range(x.shape[0]):  # a loop over time steps, vectorized over the rest
        m = beta * m + (1 - beta) * x[t]
        out[t] = m
    if bias_correction:
        t = np.arange(1, x.shape[0] + 1).reshape(-1, *([1] * (x.ndim - 1)))
        out /= 1 - beta**t
    return out


def ema_weights(beta, steps):
    """The weight ``(1 − β)·β^k`` that ``m_t`` puts on ``x_{t−k}``, k = 0 … steps − 1."""
    beta = _beta("beta", beta)
    steps = check.integer("steps", steps, 1)
    return (1 - beta) * beta ** np.arange(steps)


def ema_unrolled(x, beta):
    """``m_t = (1 − β)·Σ_{i=1}^{t} β^{t−i}·x_i`` for every t, as one weighted sum
    (a lower-triangular weight matrix, no recursion): the unrolled form of ``ema``."""
    x = _stream("x", x)
    beta = _beta("beta", beta)
    steps = x.shape[0]
    lag = np.arange(steps)[:, None] - np.arange(steps)[None, :]  # t − i
    weights = np.where(lag >= 0, (1 - beta) * beta ** np.maximum(lag, 0), 0.0)
    return np.tensordot(weights, x, axes=(1, 0))


def ema_scan(x, beta):
    """``ema(x, beta)`` without a loop over the steps: ``m_t = β·m_{t−1} + (1 − β)·x_t``
    from ``m_0 = 0`` for every t at once (time on axis 0; ``β`` may be an array
    that broadcasts against the other axes, one β per stream).

    A prefix scan by doubling: after the pass with offset k, row t holds the
    weighted sum of rows t − 2k + 1 … t, so ⌈log2 T⌉ vectorized passes replace
    T steps.  The weights ``β^k`` come from repeated squaring (multiplications
    only: the same on every CPU).  Equal to ``ema`` up to rounding (the terms
    are added in another order)."""
    x = _stream("x", x)
    beta = _beta("beta", beta)
    out = (1 - beta) * x
    factor, offset = np.asarray(beta, dtype=float), 1          # β^offset
    while offset < out.shape[0]:
        out[offset:] = out[offset:] + factor * out[:-offset]   # the RHS reads the old rows
        factor, offset = factor * factor, 2 * offset
    return out


def effective_window(beta):
    """``1/(1 − β)``: the EMA's memory, in steps (β = 0.9 → 10, 0.999 → 1000)."""
    beta = _beta("beta", beta)
    return 1.0 / (1.0 - beta)


def weight_in_window(beta):
    """Share of the total weight on the last ``round(1/(1 − β))`` inputs,
    ``1 − β^n``; tends to ``1 − 1/e ≈ 0.632`` as β → 1."""
    beta = _beta("beta", beta)
    n = np.round(1.0 / (1.0 - beta))
    return 1.0 - beta**n


def ema_noise_std(beta, noise):
    """Stationary standard deviation of the EMA of white noise of std ``noise``:
    ``noise·√((1 − β)/(1 + β))`` (the variance is ``(1 − β)²·Σβ^{2k}·noise²``)."""
    beta = _beta("beta", beta)
    noise = check.hyperparameter("noise", noise, low=0.0)
    return noise * np.sqrt((1 - beta) / (1 + beta))


def ema_lag(beta, fraction=0.9):
    """Steps after a jump in the mean until the EMA's expectation has covered
    ``fraction`` of the jump: the smallest n with ``1 − β^n ≥ fraction``."""
    beta = _beta("beta", beta)
    fraction = check.hyperparameter("fraction", fraction, low=0.0, high=1.0,
                                    high_inclusive=False)
    with np.errstate(divide="ignore"):  # β = 0: log β = −∞, the EMA is x_t itself
        steps = np.ceil(np.log1p(-fraction) / np.log(beta) - 1e-9)
    steps = np.maximum(steps, 1).astype(int)
    return int(steps) if steps.ndim == 0 else steps


# -- synthetic gradient streams --------------------------------------------------------
def shifted_mean(steps, before, after, shift_at):
    """A mean that is ``before`` for steps ``0 … shift_at − 1`` and ``after`` from
    ``shift_at`` on: shape ``(steps,)``."""
    steps = check.integer("steps", steps, 1)
    shift_at = check.integer("shift_at", shift_at, low=0)
    if shift_at > steps:
        raise ValueError(f"shift_at must be <= steps = {steps}, got {shift_at}")
    before = float(_real_array("before", before))
    after = float(_real_array("after", after))
    return np.where(np.arange(steps) < shift_at, before, after)


def gradient_stream(mean, noise, steps, *, seed, shape=()):
    """``g_t = mean + noise·ξ_t`` with ξ standard normal, shape ``(steps, *shape)``.

    ``mean`` and ``noise`` broadcast to that shape: a ``(steps, 1)`` mean is a
    schedule shared by all streams, a ``(K, 1)`` one a constant per configuration.
    """
    steps = check.integer("steps", steps, 1)
    seed = check.seed("seed", seed)
    if not isinstance(shape, tuple):
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}")
    full = (steps, *shape)
    mean = _real_array("mean", mean)
    noise = _real_array("noise", noise)
    if np.any(noise < 0):
        raise ValueError(f"noise must be >= 0, got {float(noise.min())!r}")
    for name, value in (("mean", mean), ("noise", noise)):
        try:
            np.broadcast_to(value, full)
        except ValueError:
            raise ValueError(f"{name} has shape {value.shape}, which does not broadcast "
                             f"to the stream's shape {full}") from None
    rng = np.random.default_rng(seed)
    return mean + noise * rng.standard_normal(full)


# -- Adam's own moments on a stream ------------------------------------------------------
def moment_history(grads, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                   bias_correction=True):
    """Feed the stream ``grads`` (time on axis 0) to ``adamref.Adam`` and record,
    for every step, ``m``, ``v``, ``m_hat``, ``v_hat`` and the update ``step``
    (θ_t − θ_{t−1}).  The gradients do not depend on θ: this isolates what the
    optimizer does with a given sequence of gradients."""
    grads = _stream("grads", grads)
    shape = grads.shape
    if grads.ndim == 1:                      # one stream: the optimizer wants arrays
        grads = grads[:, None]
    opt = Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)
    stream = iter(grads)

    def iterate_and_moments(theta):      # before the first step the moments are 0
        if opt.t == 0:
            return np.stack([theta, np.zeros_like(theta), np.zeros_like(theta)])
        return np.stack([theta, opt.m, opt.v])

    # The parameters never feed back into the gradients: no divergence bound.
    history = run(opt, lambda theta: next(stream), np.zeros_like(grads[0]), grads.shape[0],
                  record=iterate_and_moments, bound=np.inf).history      # (T + 1, 3, ...)
    out = {"m": history[1:, 1], "v": history[1:, 2], "step": np.diff(history[:, 0], axis=0)}
    t = np.arange(1, grads.shape[0] + 1).reshape(-1, *([1] * (grads.ndim - 1)))
    c1 = 1 - opt.beta1**t if bias_correction else 1.0
    c2 = 1 - opt.beta2**t if bias_correction else 1.0
    out["m_hat"], out["v_hat"] = out["m"] / c1, out["v"] / c2
    return {name: value.reshape(shape) for name, value in out.items()}


def adam_moments(grads, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """What ``moment_history`` records (``m``, ``v``, ``m_hat``, ``v_hat`` and
    the update ``step``), from Adam's formulas instead of its step-by-step run:
    ``m`` and ``v`` are ``ema_scan`` of ``g`` and ``g²``, the hats divide by
    ``1 − β^t``, and ``step = −α·m̂/(√v̂ + ε)``.  The gradients do not depend on θ,
    so nothing is lost: the numbers are ``adamref.Adam``'s up to rounding (tested
    against ``moment_history``), at a fraction of the cost of thousands of steps."""
    grads = _stream("grads", grads)
    lr = check.hyperparameter("lr", lr, low=0.0)
    beta1, beta2 = _beta("beta1", beta1), _beta("beta2", beta2)
    eps = check.hyperparameter("eps", eps, low=0.0)
    t = np.arange(1, grads.shape[0] + 1).reshape(-1, *([1] * (grads.ndim - 1)))
    m, v = ema_scan(grads, beta1), ema_scan(grads**2, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return {"m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat,
            "step": -lr * m_hat / (np.sqrt(v_hat) + eps)}


#: The explorer's stream: the mean of g jumps from ``before`` to ``after`` halfway.
STREAM = {"steps": 4000, "shift_at": 2000, "before": 1.0, "after": 0.25}


def moments_on_stream(beta1=0.9, beta2=0.999, noise=1.0, seed=0):
    """The stream of ``STREAM`` with noise ``noise`` and Adam's moments on it
    (``adam_moments``, α = 1 so that the step is in units of α):
    ``(grads, mean, second_moment, history)`` (one stream, shape ``(steps,)``)."""
    mean = shifted_mean(STREAM["steps"], STREAM["before"], STREAM["after"], STREAM["shift_at"])
    grads = gradient_stream(mean, noise, STREAM["steps"], seed=seed)
    history = adam_moments(grads, lr=1.0, beta1=beta1, beta2=beta2)  # step = −m̂/(√v̂+ε)
    return grads, mean, mean**2 + float(noise) ** 2, history


def tracking_stats(estimates, truth, shift_at, *, fraction=0.9, window=50):
    """How an estimator follows a mean that jumps at ``shift_at``.

    ``estimates`` has shape ``(steps, streams)`` (independent repetitions),
    ``truth`` shape ``(steps,)``.  Returns ``lag``, the number of steps from the
    jump until the *average over streams* has covered ``fraction`` of it (the
    bias, free of noise), and ``noise``, the standard deviation across streams
    averaged over the ``window`` steps before the jump (the noise, free of lag).
    """
    estimates = _stream("estimates", estimates)
    truth = _stream("truth", np.asarray(truth, dtype=float))
    if estimates.ndim != 2 or estimates.shape[1] < 2:
        raise ValueError(f"estimates must have shape (steps, streams >= 2), "
                         f"got {estimates.shape}")
    if truth.shape != estimates.shape[:1]:
        raise ValueError(f"truth must have shape ({estimates.shape[0]},), got {truth.shape}")
    shift_at = check.integer("shift_at", shift_at, 1)
    window = check.integer("window", window, 1)
    if not window <= shift_at < estimates.shape[0]:
        raise ValueError(f"shift_at must be in [window, steps) = [{window}, "
                         f"{estimates.shape[0]}), got {shift_at}")
    fraction = check.hyperparameter("fraction", fraction, low=0.0, high=1.0,
                                    high_inclusive=False)
    old, new = truth[shift_at - 1], truth[shift_at]
    if old == new:
        raise ValueError(f"truth must jump at shift_at = {shift_at}, got {old} on both sides")
    covered = (estimates[shift_at:].mean(axis=1) - old) / (new - old)
    reached = np.flatnonzero(covered >= fraction)
    lag = int(reached[0]) + 1 if reached.size else None
    noise = float(estimates[shift_at - window:shift_at].std(axis=1, ddof=1).mean())
    return {"lag": lag, "noise": noise}


# -- the step as a signal-to-noise ratio -------------------------------------------------
def snr_stream(snr, steps, *, seed, streams=1):
    """Gradients ``g ~ N(r, 1 − r²)``, so that ``E g² = 1`` and the book's
    signal-to-noise ratio ``r = |E g|/√(E g²)`` is exactly ``r`` (the usual
    ``|E g|/σ`` is ``r/√(1 − r²)``).  ``snr`` is a scalar or 1-D array of
    ratios in [0, 1]; the result has shape ``(steps, len(snr), streams)``."""
    snr = _real_array("snr", snr)
    if snr.ndim > 1:
        raise ValueError(f"snr must be a scalar or a 1-D array, got shape {snr.shape}")
    if np.any((snr < 0) | (snr > 1)):
        raise ValueError(f"snr must be in [0, 1], got {snr!r}")
    streams = check.integer("streams", streams, 1)
    r = snr.reshape(-1, 1)
    return gradient_stream(r, np.sqrt(1 - r**2), steps, seed=seed, shape=(r.shape[0], streams))


def snr_step_sizes(snr, *, beta1=0.9, beta2=0.999, eps=1e-8, steps=3000, burn_in=1000,
                   streams=100, seed=0):
    """Adam's update on ``snr_stream`` gradients, measured after ``burn_in`` steps.

    Returns ``mean_abs`` (mean of ``|Δθ|/α``, per SNR), ``mean_signed`` (mean of
    −Δθ/α, the step along the true descent direction) and ``predicted_abs``
    (``predicted_mean_abs_step``).  α cancels: it is set to 1.
    """
    steps = check.integer("steps", steps, 1)
    burn_in = check.integer("burn_in", burn_in, low=0)
    if burn_in >= steps:
        raise ValueError(f"burn_in must be < steps = {steps}, got {burn_in}")
    grads = snr_stream(snr, steps, seed=seed, streams=streams)
    steps_taken = moment_history(grads, lr=1.0, beta1=beta1, beta2=beta2, eps=eps)["step"]
    late = steps_taken[burn_in:]
    return {"snr": np.atleast_1d(np.asarray(snr, dtype=float)),
            "mean_abs": np.abs(late).mean(axis=(0, 2)),
            "mean_signed": (-late).mean(axis=(0, 2)),
            "predicted_abs": predicted_mean_abs_step(snr, beta1)}


def erf(x):
    """The error function, vectorized (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7)."""
    x = _real_array("x", x)
    s, a = np.sign(x), np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                + t * (-1.453152027 + t * 1.061405429))))
    return s * (1.0 - poly * np.exp(-a * a))


def predicted_mean_abs_step(snr, beta1):
    """``E|m|/√(E g²)`` in the steady state, for ``g ~ N(r, 1 − r²)``.

    ``m`` is then normal with mean ``r`` and variance ``(1 − r²)(1 − β1)/(1 + β1)``
    (``ema_noise_std``), and ``v ≈ E g² = 1`` (β2 close to 1).  ``|m|`` is then
    folded normal: the absolute value of a normal variable N(a, s²), whose mean is
    ``s·√(2/π)·e^{−a²/2s²} + a·erf(a/(s√2))``: about a when ``a ≫ s`` and the
    noise floor ``s·√(2/π)`` when a = 0.
    """
    r = _real_array("snr", snr)
    if np.any((r < 0) | (r > 1)):
        raise ValueError(f"snr must be in [0, 1], got {snr!r}")
    beta1 = _beta("beta1", beta1)
    s = np.sqrt(1 - r**2) * np.sqrt((1 - beta1) / (1 + beta1))
    safe = np.where(s > 0, s, 1.0)
    folded = (s * np.sqrt(2 / np.pi) * np.exp(-r**2 / (2 * safe**2))
              + r * erf(r / (safe * np.sqrt(2))))
    return np.where(s > 0, folded, r)


def agrees_from(snr, measured, predicted, tol):
    """The smallest ``r`` of the increasing grid ``snr`` from which on
    ``|measured − predicted| <= tol`` at every grid point (``None`` if not even at
    the last one): where a prediction and a measurement agree within a stated
    tolerance, read off a grid rather than typed in."""
    snr, measured, predicted = (_real_array(n, x) for n, x in
                                (("snr", snr), ("measured", measured), ("predicted", predicted)))
    if not snr.ndim == 1 or snr.shape != measured.shape or snr.shape != predicted.shape:
        raise ValueError(f"snr, measured and predicted must be 1-D of one length, got shapes "
                         f"{snr.shape}, {measured.shape}, {predicted.shape}")
    if np.any(np.diff(snr) <= 0):
        raise ValueError(f"snr must be increasing, got {snr!r}")
    tol = check.hyperparameter("tol", tol, low=0.0)
    bad = np.flatnonzero(~(np.abs(measured - predicted) <= tol))
    if bad.size == 0:
        return float(snr[0])
    return None if bad[-1] == snr.size - 1 else float(snr[bad[-1] + 1])
