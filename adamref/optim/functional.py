"""The pure update of every optimizer: ``(theta, grad, state, t) -> new
(theta, state)``, the inputs unchanged.

``adam_update`` is Algorithm 1 of Kingma & Ba as printed.  The other functions
are the pure forms of the classes, in the classes' operation order, so that a
class and its function agree bit for bit (``tests/optim/test_equivalence.py``):
``adam_variant_update`` (every switch of ``Adam``), ``adamax_update``,
``sgd_update``, ``rmsprop_update`` and ``adagrad_update``; for the family of
Part V, ``nadam_update``, ``yogi_update``, ``adabelief_update``, ``lion_update``
and ``sign_sgd_update``.  The variants that
``Adam``'s switches do not cover: ``optax_adam_update``, ``optax_amsgrad_update``
(and ``OptaxAMSGrad``, the same with its state kept), ``paper_adamw_update``.

Each line is one line of math.  Scalars are Python floats (NumPy 2 keeps
float32 arrays float32 with them); array hyperparameters broadcast and are
cast to θ's dtype, as the classes do.

Sources for the Optax and paper variants: optax/_src/transform.py
(``scale_by_adam``, ``scale_by_amsgrad``), optax/_src/alias.py (``adamw``),
Loshchilov & Hutter (2019), Algorithm 2.
"""

from __future__ import annotations

import math

import numpy as np

from adamref.optim import validation as check
from adamref.optim.engine import CHECK_POLICY, UPDATE_POLICY, overflow_error
from adamref.optim.optimizer import as_weak_scalar, power, power_table
from adamref.optim.schedules import learning_rate


def adam_update(theta, grad, m, v, t,
                lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Algorithm 1 of Kingma & Ba; returns new (theta, m, v).

    t is the number of this step: the first update has t = 1.  The inputs are
    not modified; dtypes, NaN/Inf and overflow are handled as by ``Adam.step``.
    """
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps, like=theta)
    with np.errstate(**UPDATE_POLICY):  # NaN/Inf propagate (g² overflow: checked)
        m = beta1 * m + (1 - beta1) * grad     # first moment
        v = beta2 * v + (1 - beta2) * grad**2  # second raw moment
        m_hat = m / (1 - beta1**t)             # bias-corrected m
        v_hat = v / (1 - beta2**t)             # bias-corrected v
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v


#: Adam's four hyperparameters under their adamref/PyTorch names.
ADAM_NAMES = ("lr", "beta1", "beta2", "eps")


def checked_hyperparameters(lr, beta1, beta2, eps, *, names=ADAM_NAMES, like=None):
    """Adam's four hyperparameters, validated (shared by every Adam variant).

    ``names`` are the caller's names for them, for the error messages
    (``keras_adam`` says ``learning_rate``).  With ``like`` (an array), array
    values must broadcast to its shape and are cast to its dtype, as ``Adam``
    does: float32 in, float32 out.
    """
    values = (learning_rate(names[0], lr) if like is None else
              check.hyperparameter(names[0], lr, low=0.0),
              check.hyperparameter(names[1], beta1, low=0.0, high=1.0, high_inclusive=False),
              check.hyperparameter(names[2], beta2, low=0.0, high=1.0, high_inclusive=False),
              check.hyperparameter(names[3], eps, low=0.0))
    if like is None:
        return values
    for name, value in zip(names, values):
        check.broadcasts_to(name, value, like.shape, "theta")
    return tuple(value.astype(like.dtype) if isinstance(value, np.ndarray) else value
                 for value in values)


def _checked_arrays(**arrays):
    """Float ndarrays of one shape; NumPy float scalars count as 0-d arrays
    (arithmetic on 0-d arrays returns them, so a loop must accept them back).
    The state (every array but ``grad``) has the parameter's dtype and the
    gradient is computed in it, as in the classes; a squared gradient must fit
    in it, and the second moments (``v``, ``v_max``, ``u``, ``sum``) are >= 0."""
    arrays = {name: np.asarray(value) if isinstance(value, np.floating) else value
              for name, value in arrays.items()}
    first_name, first = next(iter(arrays.items()))
    for name, value in arrays.items():
        check.float_array(name, value)
        check.same_shape(name, value, first_name, first)
    for name, value in arrays.items():
        if name not in (first_name, "grad") and value.dtype != first.dtype:
            raise TypeError(f"{name} must have the dtype of {first_name} ({first.dtype}), "
                            f"got dtype {value.dtype}")
    grad = _squares_fit(arrays["grad"], first.dtype)
    for name in NONNEGATIVE:
        if name in arrays and np.any(arrays[name] < 0):
            raise ValueError(f"{name} must be >= 0 (an average or a sum of squares), got "
                             f"{float(arrays[name][arrays[name] < 0].flat[0])!r}")
    arrays["grad"] = grad
    return arrays.values()


#: State arrays that are never negative.
NONNEGATIVE = ("v", "v_max", "u", "sum", "s")


def _cast(theta, *values):
    """Per-step constants computed as the classes compute them (Python floats,
    or float64 arrays), then in θ's dtype: floats stay weak, arrays are cast."""
    return tuple(v.astype(theta.dtype) if isinstance(v, np.ndarray) else as_weak_scalar(v)
                 for v in values)


def _adam_hyperparameters(theta, t, lr, beta1, beta2, eps, weight_decay):
    """The step ``t``, Adam's four hyperparameters and ``weight_decay``, validated;
    arrays must broadcast to θ's shape (they are cast later, as by the classes)."""
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
    for name, value in zip(ADAM_NAMES, (lr, beta1, beta2, eps)):
        check.broadcasts_to(name, value, theta.shape, "theta")
    return t, lr, beta1, beta2, eps, _hyper(theta, "weight_decay", weight_decay, low=0.0)


def _hyper(theta, name, value, **bounds):
    """A hyperparameter, validated; an array must broadcast to θ's shape."""
    value = check.hyperparameter(name, value, **bounds)
    check.broadcasts_to(name, value, theta.shape, "theta")
    return value


def _effective_gradient(theta, grad, weight_decay, maximize):
    """``g ← −g`` if maximizing, then L2 ``g ← g + λ·θ`` (PyTorch's order); the
    square of the result must fit θ's dtype, as in the classes."""
    maximize = check.flag("maximize", maximize)
    if maximize:
        grad = -grad                                          # ascend
    if np.any(weight_decay != 0):
        grad = grad + theta * _cast(theta, weight_decay)[0]   # g + λ·θ
    return grad


def _squares_fit(grad, dtype):
    """``grad`` in ``dtype``; ``FloatingPointError`` (named ``grad``) if the cast
    or a square overflows it."""
    try:
        with np.errstate(**CHECK_POLICY):
            cast = grad.astype(dtype, copy=False)
            np.square(cast)
    except FloatingPointError as error:
        raise overflow_error("grad", error, dtype, grad) from None
    return cast


def adam_variant_update(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *,
                        v_max=None, weight_decay=0.0, decoupled_weight_decay=False,
                        epsilon_hat=False, bias_correction=True, maximize=False):
    """One step of ``Adam`` with its switches, in its operation order; returns
    new (theta, m, v, v_max) (``v_max`` is None unless given: AMSGrad).

    ``adam_update`` computes the same numbers in the paper's order
    (``β1·m + (1 − β1)·g``); this is ``m + (1 − β1)(g − m)``, equal in exact
    arithmetic, and equal bit for bit to ``Adam.step``."""
    state = {"m": m, "v": v} if v_max is None else {"m": m, "v": v, "v_max": v_max}
    theta, grad, m, v, *rest = _checked_arrays(theta=theta, grad=grad, **state)
    t, lr, beta1, beta2, eps, weight_decay = _adam_hyperparameters(theta, t, lr, beta1, beta2,
                                                                   eps, weight_decay)
    decoupled = check.flag("decoupled_weight_decay", decoupled_weight_decay)
    epsilon_hat = check.flag("epsilon_hat", epsilon_hat)
    bias_correction = check.flag("bias_correction", bias_correction)
    c1, c2 = (1 - power(beta1, t), 1 - power(beta2, t)) if bias_correction else (1.0, 1.0)
    one_minus_beta1, one_minus_beta2, step_size, sqrt_c2, decay, eps_, wd = _cast(
        theta, 1 - beta1, 1 - beta2, lr / c1, np.sqrt(c2), 1 - lr * weight_decay, eps,
        weight_decay)
    with np.errstate(**UPDATE_POLICY):
        theta, grad, m, v = _adam_moments(theta, grad, m, v, one_minus_beta1, one_minus_beta2,
                                          decay, wd, decoupled, maximize)
        v_max = np.maximum(rest[0], v) if rest else None           # AMSGrad: max(v_max, v)
        v_used = v if v_max is None else v_max
        if epsilon_hat:                                            # Keras: α_t in θ's dtype
            dt = theta.dtype.type
            lr_, b1, b2 = (np.asarray(x, theta.dtype) for x in _cast(theta, lr, beta1, beta2))
            tt = np.asarray(t, theta.dtype)
            alpha_t = (lr_ * np.sqrt(dt(1) - np.power(b2, tt)) / (dt(1) - np.power(b1, tt))
                       if bias_correction else lr_)
            theta = theta - m / (np.sqrt(v_used) + eps_) * alpha_t          # α_t·m/(√v + ε̂)
        else:
            theta = theta - m / (np.sqrt(v_used) / sqrt_c2 + eps_) * step_size   # α·m̂/(√v̂ + ε)
    return theta, m, v, v_max


def _adam_moments(theta, grad, m, v, one_minus_beta1, one_minus_beta2, decay, weight_decay,
                  decoupled, maximize):
    """The first lines of ``Adam``'s step, in its order (NAdam's too); returns
    (theta, the effective g, m, v)."""
    if decoupled and np.any(weight_decay != 0):
        theta = theta * decay                                      # θ ← (1 − α·λ)·θ
    grad = _effective_gradient(theta, grad, 0.0 if decoupled else weight_decay, maximize)
    _squares_fit(grad, theta.dtype)
    m = m + one_minus_beta1 * (grad - m)                           # m += (1 − β1)(g − m)
    v = v + one_minus_beta2 * (grad * grad - v)                    # v += (1 − β2)(g² − v)
    return theta, grad, m, v


def adamax_update(theta, grad, m, u, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, *,
                  weight_decay=0.0, maximize=False):
    """One step of ``AdaMax`` (Kingma & Ba, Sec. 7.1); returns new (theta, m, u).
    ``u ← max(β2·u, |g| + ε)`` (ε inside the max, as PyTorch), ``θ −= α/(1 − β1^t)·m/u``."""
    theta, grad, m, u = _checked_arrays(theta=theta, grad=grad, m=m, u=u)
    t, lr, beta1, beta2, eps, weight_decay = _adam_hyperparameters(theta, t, lr, beta1, beta2,
                                                                   eps, weight_decay)
    one_minus_beta1, step_size, beta2, eps = _cast(
        theta, 1 - beta1, lr / (1 - power(beta1, t)), beta2, eps)
    with np.errstate(**UPDATE_POLICY):
        grad = _effective_gradient(theta, grad, weight_decay, maximize)
        m = m + one_minus_beta1 * (grad - m)                       # m += (1 − β1)(g − m)
        u = np.maximum(u * beta2, np.abs(grad) + eps)              # u ← max(β2·u, |g| + ε)
        theta = theta - m / u * step_size                          # θ −= α/(1 − β1^t)·m/u
    return theta, m, u


def sgd_update(theta, grad, momentum_buffer, t, lr=1e-2, momentum=0.0, *, dampening=0.0,
               nesterov=False, weight_decay=0.0, maximize=False):
    """One step of ``SGD`` (PyTorch's definition); returns new (theta, momentum_buffer).

    ``b ← μ·b + (1 − d)·g`` (``b = g`` at t = 1); ``θ −= α·b``, or with Nesterov
    ``θ −= α·(g + μ·b)``.  Without momentum pass ``momentum_buffer=None``."""
    arrays = {"theta": theta, "grad": grad}
    if momentum_buffer is not None:
        arrays["momentum_buffer"] = momentum_buffer
    theta, grad, *rest = _checked_arrays(**arrays)
    t = check.step_count("t", t)
    lr = _hyper(theta, "lr", lr, low=0.0)
    momentum = _hyper(theta, "momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    dampening = _hyper(theta, "dampening", dampening, low=0.0, high=1.0)
    weight_decay = _hyper(theta, "weight_decay", weight_decay, low=0.0)
    nesterov = check.flag("nesterov", nesterov)
    if rest == [] and np.any(momentum != 0):
        raise ValueError(f"momentum={momentum!r} needs a momentum_buffer, got None")
    lr, momentum, dampening = _cast(theta, lr, momentum, dampening)
    with np.errstate(**UPDATE_POLICY):
        grad = _effective_gradient(theta, grad, weight_decay, maximize)
        b = None
        if rest:
            b = grad.copy() if t == 1 else rest[0] * momentum + grad * (1 - dampening)  # b
            grad = grad + b * momentum if nesterov else b           # g + μ·b, or b
        theta = theta - grad * lr                                   # θ ← θ − α·direction
    return theta, b


def rmsprop_update(theta, grad, v, t, lr=1e-2, alpha=0.99, eps=1e-8, *, grad_avg=None,
                   momentum_buffer=None, momentum=0.0, weight_decay=0.0, maximize=False):
    """One step of ``RMSprop`` (PyTorch's definition); returns new
    (theta, v, grad_avg, momentum_buffer): ``v ← α·v + (1 − α)·g²``, centered
    (``grad_avg`` given) ``ḡ ← α·ḡ + (1 − α)·g`` and denominator ``√(v − ḡ²) + ε``,
    momentum (``momentum_buffer`` given) ``b ← μ·b + g/(√v + ε)``, ``θ −= lr·b``."""
    arrays = {"theta": theta, "grad": grad, "v": v}
    for name, value in (("grad_avg", grad_avg), ("momentum_buffer", momentum_buffer)):
        if value is not None:
            arrays[name] = value
    theta, grad, v, *_ = _checked_arrays(**arrays)
    check.step_count("t", t)
    lr = _hyper(theta, "lr", lr, low=0.0)
    alpha = _hyper(theta, "alpha", alpha, low=0.0, high=1.0, high_inclusive=False)
    eps = _hyper(theta, "eps", eps, low=0.0)
    momentum = _hyper(theta, "momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    weight_decay = _hyper(theta, "weight_decay", weight_decay, low=0.0)
    lr, alpha, eps, momentum = _cast(theta, lr, alpha, eps, momentum)
    one_minus_alpha = as_weak_scalar(1 - alpha)
    with np.errstate(**UPDATE_POLICY):
        grad = _effective_gradient(theta, grad, weight_decay, maximize)
        _squares_fit(grad, theta.dtype)
        v = v * alpha + grad * grad * one_minus_alpha                # v ← α·v + (1 − α)·g²
        if grad_avg is not None:
            grad_avg = grad_avg * alpha + grad * one_minus_alpha    # ḡ ← α·ḡ + (1 − α)·g
            direction = grad / (np.sqrt(v - grad_avg * grad_avg) + eps)   # g/(√(v − ḡ²) + ε)
        else:
            direction = grad / (np.sqrt(v) + eps)                   # g/(√v + ε)
        if momentum_buffer is not None:
            momentum_buffer = momentum_buffer * momentum + direction   # b ← μ·b + direction
            direction = momentum_buffer
        theta = theta - direction * lr                              # θ ← θ − lr·direction
    return theta, v, grad_avg, momentum_buffer


def adagrad_update(theta, grad, s, t, lr=1e-2, *, lr_decay=0.0, eps=1e-10, weight_decay=0.0,
                   maximize=False):
    """One step of ``AdaGrad`` (PyTorch's definition); returns new (theta, s):
    ``s ← s + g²``, ``θ −= lr_t·g/(√s + ε)`` with ``lr_t = lr/(1 + (t − 1)·lr_decay)``.
    ``s`` starts at ``initial_accumulator_value`` (0 by default)."""
    theta, grad, s = _checked_arrays(theta=theta, grad=grad, sum=s)
    t = check.step_count("t", t)
    lr = _hyper(theta, "lr", lr, low=0.0)
    lr_decay = _hyper(theta, "lr_decay", lr_decay, low=0.0)
    eps = _hyper(theta, "eps", eps, low=0.0)
    weight_decay = _hyper(theta, "weight_decay", weight_decay, low=0.0)
    clr, eps = _cast(theta, lr / (1 + (t - 1) * lr_decay), eps)
    with np.errstate(**UPDATE_POLICY):
        grad = _effective_gradient(theta, grad, weight_decay, maximize)
        _squares_fit(grad, theta.dtype)
        s = s + grad * grad                                         # s ← s + g²
        theta = theta - grad / (np.sqrt(s) + eps) * clr             # θ −= lr_t·g/(√s + ε)
    return theta, s

# -- the family of Part V, "Beyond Adam" -------------------------------------------------
def nadam_decay_base(momentum_decay):
    """``0.96^ψ``: NAdam's momentum schedule ``0.96^(tψ)`` is its t-th power.
    PyTorch calls ``pow(0.96, t·ψ)`` at every step; here ``pow`` runs once per
    value of ψ (``math.pow``, so an array of ψ gives each value's scalar bits)
    and the t-th power is ``power``'s repeated squaring, the same on every CPU
    (equal in exact arithmetic; within ~t ulps of PyTorch's value)."""
    if isinstance(momentum_decay, np.ndarray):
        return np.array([math.pow(0.96, x) for x in momentum_decay.flat]).reshape(
            momentum_decay.shape)
    return math.pow(0.96, momentum_decay)


def nadam_momentum(beta1, decay_base, t):
    """NAdam's momentum schedule ``μ_t = β1·(1 − ½·0.96^(tψ))`` (Dozat 2016; the
    constants of ``torch.optim.NAdam``), ``decay_base = nadam_decay_base(ψ)``.
    ``t`` is a step, or an int64 array of consecutive steps (then one row per
    step, from ``power_table``: the same bits as step by step)."""
    if isinstance(t, np.ndarray):
        return beta1 * (1.0 - 0.5 * power_table(decay_base, int(t[0]), t.size))
    return beta1 * (1.0 - 0.5 * power(decay_base, t))


def nadam_update(theta, grad, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                 *, momentum_decay=4e-3, weight_decay=0.0, decoupled_weight_decay=False,
                 maximize=False):
    """One step of ``NAdam`` (Dozat 2016, as ``torch.optim.NAdam``); returns new
    (theta, m, v, mu_product).  ``mu_product`` is ``∏_{i<t} μ_i`` (1 before the
    first step; an array for array hyperparameters); the step is

    ``θ −= α·[(1 − μ_t)/(1 − ∏_{i≤t} μ_i)·g + μ_{t+1}/(1 − ∏_{i≤t+1} μ_i)·m]/(√v̂ + ε)``:

    the current gradient's share, and the momentum's share one step ahead
    (Nesterov's look-ahead, with μ_{t+1} where Adam has β1)."""
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t, lr, beta1, beta2, eps, weight_decay = _adam_hyperparameters(theta, t, lr, beta1, beta2,
                                                                   eps, weight_decay)
    momentum_decay = _hyper(theta, "momentum_decay", momentum_decay, low=0.0)
    mu_product = _hyper(theta, "mu_product", mu_product, low=0.0, high=1.0)
    decoupled = check.flag("decoupled_weight_decay", decoupled_weight_decay)
    base = nadam_decay_base(momentum_decay)
    mu, mu_next = nadam_momentum(beta1, base, t), nadam_momentum(beta1, base, t + 1)
    mu_product = mu_product * mu                                   # ∏_{i≤t} μ_i
    one_minus_beta1, one_minus_beta2, grad_step, momentum_step, correction2, decay, eps_, wd = \
        _cast(theta, 1 - beta1, 1 - beta2, lr * (1 - mu) / (1 - mu_product),
              lr * mu_next / (1 - mu_product * mu_next), 1 - power(beta2, t),
              1 - lr * weight_decay, eps, weight_decay)
    with np.errstate(**UPDATE_POLICY):
        theta, grad, m, v = _adam_moments(theta, grad, m, v, one_minus_beta1, one_minus_beta2,
                                          decay, wd, decoupled, maximize)
        denom = np.sqrt(v / correction2) + eps_                    # √v̂ + ε
        theta = theta - grad / denom * grad_step                   # the gradient's share
        theta = theta - m / denom * momentum_step                  # the momentum's, one step ahead
    return theta, m, v, mu_product


def yogi_update(theta, grad, m, v, t, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-3, *,
                weight_decay=0.0, maximize=False):
    """One step of ``Yogi`` (Zaheer et al. 2018, as ``optax.yogi``, in its order of
    operations); returns new (theta, m, v).  ``v ← v − (1 − β2)·sign(v − g²)·g²``
    moves v towards g² by a step proportional to g² (additively), where Adam's
    EMA moves it by a fraction of the gap ``g² − v``.  ``m`` and ``v`` start at
    ``initial_accumulator_value`` (1e-6 in Optax); both are bias-corrected."""
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t, lr, beta1, beta2, eps, weight_decay = _adam_hyperparameters(theta, t, lr, beta1, beta2,
                                                                   eps, weight_decay)
    lr, beta1, one_minus_beta1, one_minus_beta2, correction1, correction2, eps = _cast(
        theta, lr, beta1, 1 - beta1, 1 - beta2, 1 - power(beta1, t), 1 - power(beta2, t), eps)
    with np.errstate(**UPDATE_POLICY):
        grad = _effective_gradient(theta, grad, weight_decay, maximize)
        _squares_fit(grad, theta.dtype)
        m = one_minus_beta1 * grad + beta1 * m                     # m ← (1 − β1)·g + β1·m
        square = grad * grad                                       # g²
        v = v - one_minus_beta2 * np.sign(v - square) * square     # v −= (1 − β2)·sign(v − g²)·g²
        theta = theta - _optax_step(m, v, correction1, correction2, eps) * lr   # θ −= α·m̂/(√v̂ + ε)
    return theta, m, v


def _optax_step(m, second, correction1, correction2, eps):
    """``m̂/(√(second/(1 − β2^t)) + ε)`` with ``m̂ = m/(1 − β1^t)``, in Optax's order."""
    return m / correction1 / (np.sqrt(second / correction2) + eps)


def adabelief_update(theta, grad, m, s, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-16, *,
                     eps_root=1e-16, weight_decay=0.0, maximize=False):
    """One step of ``AdaBelief`` (Zhuang et al. 2020, as ``optax.adabelief``, in
    its order of operations); returns new (theta, m, s).  Adam with ``s``, the
    EMA of the squared *surprise* ``(g − m)²`` (how far the gradient is from the
    momentum's prediction), in place of v: ``s ← (1 − β2)·(g − m)² + β2·s +
    eps_root`` with m the new first moment; ``θ −= α·m̂/(√ŝ + ε)``."""
    theta, grad, m, s = _checked_arrays(theta=theta, grad=grad, m=m, s=s)
    t, lr, beta1, beta2, eps, weight_decay = _adam_hyperparameters(theta, t, lr, beta1, beta2,
                                                                   eps, weight_decay)
    eps_root = _hyper(theta, "eps_root", eps_root, low=0.0)
    lr, beta1, beta2, one_minus_beta1, one_minus_beta2, correction1, correction2, eps, eps_root = \
        _cast(theta, lr, beta1, beta2, 1 - beta1, 1 - beta2, 1 - power(beta1, t),
              1 - power(beta2, t), eps, eps_root)
    with np.errstate(**UPDATE_POLICY):
        grad = _effective_gradient(theta, grad, weight_decay, maximize)
    m, surprise = _surprise(grad, m, beta1, one_minus_beta1, theta.dtype)   # new m; g − m
    with np.errstate(**UPDATE_POLICY):
        s = one_minus_beta2 * (surprise * surprise) + beta2 * s + eps_root   # s ← (1 − β2)·(g − m)² + β2·s + eps_root
        theta = theta - _optax_step(m, s, correction1, correction2, eps) * lr  # θ −= α·m̂/(√ŝ + ε)
    return theta, m, s


def _surprise(grad, m, beta1, one_minus_beta1, dtype):
    """AdaBelief's new ``m`` and ``g − m``, computed as the class computes them;
    ``FloatingPointError`` (named ``grad``) if a finite input overflows on the way
    to ``(g − m)²``, as the class refuses such a step."""
    try:
        with np.errstate(**CHECK_POLICY):
            m = one_minus_beta1 * grad + beta1 * m                 # m ← (1 − β1)·g + β1·m
            surprise = grad - m                                    # g − m
            np.square(surprise)
    except FloatingPointError as error:
        raise overflow_error("grad", error, dtype, grad) from None
    return m, surprise


def lion_update(theta, grad, m, t, lr=1e-4, beta1=0.9, beta2=0.99, *, weight_decay=1e-3,
                maximize=False):
    """One step of ``Lion`` (Chen et al. 2023, as ``optax.lion``); returns new
    (theta, m).  The step is the sign of an interpolation between the gradient
    and the momentum, so every coordinate moves by exactly α (plus the decoupled
    decay α·λ·θ); the momentum is updated after it, with its own β2."""
    theta, grad, m = _checked_arrays(theta=theta, grad=grad, m=m)
    check.step_count("t", t)
    lr = _hyper(theta, "lr", lr, low=0.0)
    beta1 = _hyper(theta, "beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = _hyper(theta, "beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    weight_decay = _hyper(theta, "weight_decay", weight_decay, low=0.0)
    sign = -1.0 if check.flag("maximize", maximize) else 1.0       # ascend: g ← −g
    lr, beta1, beta2, wd, grad_weight1, grad_weight2 = _cast(
        theta, lr, beta1, beta2, weight_decay, sign * (1 - beta1), sign * (1 - beta2))
    with np.errstate(**UPDATE_POLICY):
        direction = np.sign(grad * grad_weight1 + m * beta1)       # sign((1 − β1)·g + β1·m)
        if np.any(wd != 0):
            direction = direction + theta * wd                     # + λ·θ (decoupled decay)
        theta = theta - direction * lr                             # θ −= α·direction
        m = grad * grad_weight2 + m * beta2                        # m ← (1 − β2)·g + β2·m
    return theta, m


def sign_sgd_update(theta, grad, m, t, lr=1e-3, beta1=0.0, *, weight_decay=0.0,
                    maximize=False):
    """One step of ``SignSGD``; returns new (theta, m).  Sign descent
    ``θ −= α·sign(g)`` (Bernstein et al. 2018), or with ``beta1 > 0`` their
    signum, ``m ← β1·m + (1 − β1)·g``, ``θ −= α·sign(m)``.  Without momentum
    pass ``m=None`` (it comes back None)."""
    arrays = {"theta": theta, "grad": grad}
    if m is not None:
        arrays["m"] = m
    theta, grad, *rest = _checked_arrays(**arrays)
    check.step_count("t", t)
    lr = _hyper(theta, "lr", lr, low=0.0)
    beta1 = _hyper(theta, "beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    weight_decay = _hyper(theta, "weight_decay", weight_decay, low=0.0)
    if not rest and np.any(beta1 != 0):
        raise ValueError(f"beta1={beta1!r} needs a momentum m, got m=None")
    lr, beta1, one_minus_beta1 = _cast(theta, lr, beta1, 1 - beta1)
    with np.errstate(**UPDATE_POLICY):
        grad = _effective_gradient(theta, grad, weight_decay, maximize)
        m = rest[0] * beta1 + grad * one_minus_beta1 if rest else None   # m ← β1·m + (1 − β1)·g
        theta = theta - np.sign(grad if m is None else m) * lr    # θ −= α·sign(m), or α·sign(g)
    return theta, m


def optax_adam_update(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                      eps_root=0.0):
    """One step of ``optax.adam``; returns new (theta, m, v).

    ``θ −= α·m̂/(√(v̂ + eps_root) + eps)``; with ``eps_root = 0`` this is
    ``adam_update``."""
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t, lr, beta1, beta2, eps, eps_root = _optax_hyperparameters(t, lr, beta1, beta2, eps,
                                                                eps_root)
    m, v = _paper_moments(grad, m, v, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat + eps_root) + eps)
    return theta, m, v


def _optax_hyperparameters(t, lr, beta1, beta2, eps, eps_root):
    """``t`` and Adam's hyperparameters, validated, and Optax's ``eps_root``."""
    return (check.step_count("t", t), *checked_hyperparameters(lr, beta1, beta2, eps),
            check.hyperparameter("eps_root", eps_root, low=0.0))


def _paper_moments(grad, m, v, beta1, beta2):
    """The moments as Algorithm 1 prints them (and Optax computes them)."""
    return beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2


def optax_amsgrad_update(theta, grad, m, v, v_max, t, lr=1e-3, beta1=0.9, beta2=0.999,
                         eps=1e-8, eps_root=0.0):
    """One step of ``optax.amsgrad``; returns new (theta, m, v, v_max).

    ``v_max ← max(v_max, v̂)`` with the bias-corrected ``v̂ = v/(1 − β2^t)``, then
    ``θ −= α·m̂/(√(v_max + eps_root) + eps)``.  (``adamref.Adam(amsgrad=True)``,
    like PyTorch and Keras, keeps ``max(v_max, v)`` of the raw v and corrects
    afterwards.)"""
    theta, grad, m, v, v_max = _checked_arrays(theta=theta, grad=grad, m=m, v=v, v_max=v_max)
    t, lr, beta1, beta2, eps, eps_root = _optax_hyperparameters(t, lr, beta1, beta2, eps,
                                                                eps_root)
    m, v = _paper_moments(grad, m, v, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    v_max = np.maximum(v_max, v / (1 - beta2**t))
    theta = theta - lr * m_hat / (np.sqrt(v_max + eps_root) + eps)
    return theta, m, v, v_max


def paper_adamw_update(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.0, schedule_multiplier=1.0):
    """One step of AdamW as in Loshchilov & Hutter (Algorithm 2); returns (theta, m, v).

    ``θ ← θ − η_t·(α·m̂/(√v̂ + ε) + λ·θ)``: the decay is scaled by the schedule
    multiplier ``η_t`` only.  PyTorch, Keras and Optax multiply it by the learning
    rate ``η_t·α`` instead, so their ``weight_decay`` is this ``λ`` divided by α."""
    theta, grad, m, v = _checked_arrays(theta=theta, grad=grad, m=m, v=v)
    t = check.step_count("t", t)
    lr, beta1, beta2, eps = checked_hyperparameters(lr, beta1, beta2, eps)
    weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
    eta = check.hyperparameter("schedule_multiplier", schedule_multiplier, low=0.0)
    m, v = _paper_moments(grad, m, v, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - eta * (lr * m_hat / (np.sqrt(v_hat) + eps) + weight_decay * theta)
    return theta, m, v


class OptaxAMSGrad:
    """``optax_amsgrad_update`` with its state kept, behind the optimizers'
    ``step(params, grads)`` interface (one ndarray, updated in place)."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, eps_root=0.0):
        self.lr, self.beta1, self.beta2, self.eps = checked_hyperparameters(lr, beta1, beta2, eps)
        self.eps_root = check.hyperparameter("eps_root", eps_root, low=0.0)
        self.t = 0
        self.m = self.v = self.v_max = None

    def step(self, params, grads):
        check.float_array("params", params)
        state = ((self.m, self.v, self.v_max) if self.m is not None
                 else tuple(np.zeros_like(params) for _ in range(3)))
        new, m, v, v_max = optax_amsgrad_update(params, grads, *state, self.t + 1, self.lr,
                                                self.beta1, self.beta2, self.eps, self.eps_root)
        params[...] = new   # raises (read-only, shape) before writing anything
        # Only now, with the step done, the state moves on (a failing call changes nothing).
        self.t, self.m, self.v, self.v_max = self.t + 1, m, v, v_max
        return params
