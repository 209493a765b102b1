"""Adam's state in low precision, and memory-efficient variants: the chapter's
computations (nothing here draws).

- ``format_thresholds``: what the formats do to Adam's numbers, found by the
  code (a bisection over each format's bit patterns, with Adam's own
  arithmetic): ε as the format stores it, the smallest gradient whose square
  is not 0, the smallest whose first second moment ``v_1 = (1 − β2)·g²`` is
  not 0, the smallest whose square overflows.
- ``steps_by_precision``: Adam's step ``|Δθ_t|/α`` after t steps of a constant
  gradient, against the gradient's scale, in fp32, bf16 and fp16 (with and
  without loss scaling), with ``adamref.optim.precision.adam_update_in``.
- ``ema_stall``: where an exponential moving average of a constant stalls in
  each format (bf16's v stops at a quarter of g² with β2 = 0.999: the step
  grows to about 2α).
- ``loss_scaling_as_eps``: Adam on the gradient scaled by S (the loss times
  S) against Adam with ε/S, in float64 (the per-parameter chapter's ε result,
  ``lab.per_parameter_steps.step_vs_gradient_scale``).
- ``compare_memory_options``: the final loss of Adam (fp32 state), Adam with
  bf16 state, Adam with 8-bit state, Adafactor and SGD with momentum, each at
  its own tuned learning rate (``problems.tune``, bracketed), beside the bytes
  of optimizer state per parameter, on the badly scaled bowl and on a
  multi-output least-squares problem whose parameter is a matrix (so that
  Adafactor factors it).  Everything runs in float32 parameters (the
  "fp32" of the memory chapter's arithmetic).
- ``second_moment_spread``: why the 8-bit state fails on these problems: the
  decades that Adam's v spans in one block, against the unsigned map's range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.lab.per_parameter_steps import badly_scaled_quadratic, step_vs_gradient_scale
from adamref.optim import validation as check
from adamref.optim.adafactor import Adafactor
from adamref.optim.adam import Adam
from adamref.optim.baselines import SGD
from adamref.optim.precision import (PRECISIONS, LowPrecisionAdam, adam_update_in,
                                     precision_name, round_to_bfloat16, to_precision)
from adamref.optim.quantized import UNSIGNED_MAP, Adam8bit, quantize_blockwise
from adamref.problems.datasets import LeastSquares, make_least_squares
from adamref.problems.runs import run
from adamref.problems.tuning import Tuned, tune

# -- the formats' thresholds ------------------------------------------------------------
#: The positive finite bit patterns of each format, as (first, last) integers.
_PATTERNS = {"fp16": (0x0001, 0x7BFF), "bf16": (0x0001, 0x7F7F), "fp32": (0x00000001, 0x7F7FFFFF)}


def _value(precision: str, pattern: int):
    """The number of ``precision`` with bit pattern ``pattern``, as stored."""
    if precision == "fp16":
        return np.array([pattern], np.uint16).view(np.float16)
    shifted = pattern << 16 if precision == "bf16" else pattern
    return np.array([shifted], np.uint32).view(np.float32)


def first_positive(precision: str, predicate) -> float:
    """The smallest positive finite number ``g`` of ``precision`` for which
    ``predicate(g)`` holds (a one-element array of the format's storage), by
    bisection over the bit patterns, which increase with the value: the
    predicate must be monotone (False up to a point, True from there).  NaN if
    it holds for no finite number."""
    low, high = _PATTERNS[precision]
    if not predicate(_value(precision, high)):
        return float("nan")
    if predicate(_value(precision, low)):
        return float(_value(precision, low)[0])
    while high - low > 1:               # invariant: False at low, True at high
        middle = (low + high) // 2
        low, high = (low, middle) if predicate(_value(precision, middle)) else (middle, high)
    return float(_value(precision, high)[0])


def _square(precision, g):
    """``g·g`` in ``precision``."""
    return round_to_bfloat16(g * g) if precision == "bf16" else g * g


def format_thresholds(beta2=0.999, eps=1e-8) -> dict:
    """Per precision (``"fp32"``, ``"bf16"``, ``"fp16"``): ``eps`` (ε as stored),
    ``smallest_subnormal``, ``square_underflow`` (the smallest g with g² ≠ 0),
    ``first_v_underflow`` (the smallest g whose first Adam step leaves v ≠ 0:
    ``(1 − β2)·g²`` must not underflow), ``square_overflow`` (the smallest g with
    g² = inf), all found by ``first_positive`` with Adam's arithmetic."""
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    eps = check.hyperparameter("eps", eps, low=0.0)
    out = {}
    for p in PRECISIONS:
        zero = to_precision(np.zeros(1), p)

        def first_v(g, p=p, zero=zero):
            with np.errstate(all="ignore"):
                return adam_update_in(p, zero, g, zero, zero, 1, beta2=beta2, eps=eps)[2][0] > 0
        with np.errstate(all="ignore"):
            out[p] = {"eps": float(to_precision(eps, p)),
                      "smallest_subnormal": float(_value(p, 1)[0]),
                      "square_underflow": first_positive(p, lambda g, p=p: _square(p, g)[0] > 0),
                      "first_v_underflow": first_positive(p, first_v),
                      "square_overflow": first_positive(p, lambda g, p=p: np.isinf(_square(p, g)[0]))}
    return out


# -- Adam's step in each precision ----------------------------------------------------------
def step_runs(loss_scale=2.0**12) -> dict:
    """The runs of ``steps_by_precision``: label -> (precision, gradient scale
    factor S): fp32, bf16, fp16, and fp16 with the loss (so every gradient)
    multiplied by ``loss_scale``."""
    loss_scale = check.positive_number("loss_scale", loss_scale)
    return {"fp32": ("fp32", 1.0), "bf16": ("bf16", 1.0), "fp16": ("fp16", 1.0),
            f"fp16, loss × {loss_scale:g}": ("fp16", loss_scale)}


def adam_step_in(precision: str, scales, t: int, *, loss_scale=1.0, beta1=0.9, beta2=0.999,
                 eps=1e-8) -> np.ndarray:
    """``|Δθ_t|/α`` after ``t`` steps of the constant gradient ``loss_scale·s``
    for each ``s`` in ``scales``, every number in ``precision``
    (``adam_update_in`` with α = 1, so the step is ``m̂/(√v̂ + ε)`` as the format
    computes it; θ stays 0, which the constant gradient does not see).  Adam's
    step is invariant to the gradient's scale but for ε, so the loss scale
    needs no undoing.  NaN or inf where the format makes them."""
    scales = check.positive_vector("scales", scales)
    t = check.step_count("t", t)
    loss_scale = check.positive_number("loss_scale", loss_scale)
    zero = to_precision(np.zeros(scales.size), precision)
    grad = (scales * loss_scale).astype(np.float32)       # the gradient computed in float32
    m = v = zero
    with np.errstate(all="ignore"):
        for step in range(1, t + 1):
            theta, m, v = adam_update_in(precision, zero, grad, m, v, step, lr=1.0,
                                         beta1=beta1, beta2=beta2, eps=eps)
    return np.abs(theta.astype(np.float64))


def steps_by_precision(scales, t: int, *, loss_scale=2.0**12, eps=1e-8) -> dict:
    """``adam_step_in`` for every run of ``step_runs(loss_scale)``: label -> steps."""
    return {label: adam_step_in(p, scales, t, loss_scale=s, eps=eps)
            for label, (p, s) in step_runs(loss_scale).items()}


def ema_stall(precision: str, one_minus_beta: float, target=1.0, max_steps=100_000):
    """``(value, steps)``: the exponential moving average ``x ← x + (1 − β)(target
    − x)`` from 0, every number in ``precision`` (``adam_update_in``'s order for
    m and v), run until it stops changing: where it stalls, and after how many
    steps.  It stalls below ``target`` once the increment is less than half an
    ulp of x.  ``(nan, max_steps)`` if it never stops within ``max_steps``."""
    precision = precision_name(precision)
    rate = to_precision(check.hyperparameter("one_minus_beta", one_minus_beta, low=0.0, high=1.0),
                        precision)
    goal = to_precision(check.positive_number("target", target), precision)
    rounded = round_to_bfloat16 if precision == "bf16" else (lambda a: a)
    x = to_precision(0.0, precision)
    for step in range(1, check.integer("max_steps", max_steps, 1) + 1):
        new = rounded(x + rounded(rate * rounded(goal - x)))
        if new == x:
            return float(x), step - 1
        x = new
    return float("nan"), max_steps


def loss_scaling_as_eps(scales, loss_scale, eps=1e-8, t=10):
    """``(scaled, divided)``: Adam's step after ``t`` steps of the gradient
    ``loss_scale·s`` with ``eps``, and of the gradient ``s`` with
    ``eps/loss_scale`` (float64, ``step_vs_gradient_scale``).  Multiplying every
    gradient by S multiplies m by S, v by S² and √v by S, so the step
    ``S·m̂/(S·√v̂ + ε)`` is ``m̂/(√v̂ + ε/S)``; for S a power of two every one of
    these products is exact and the two agree bit for bit."""
    scales = check.positive_vector("scales", scales)
    loss_scale = check.positive_number("loss_scale", loss_scale)
    scaled = step_vs_gradient_scale(scales * loss_scale, eps, t)[0]
    divided = step_vs_gradient_scale(scales, eps / loss_scale, t)[0]
    return scaled, divided


# -- memory against quality ----------------------------------------------------------------
#: The options compared: Adam with its state in fp32, bf16 and 8 bits, then
#: Adafactor (no first moment, a factored second) and SGD with momentum.
OPTIONS = ("Adam (fp32 state)", "Adam (bf16 state)", "Adam (8-bit state)", "Adafactor",
           "SGD + momentum")


def make_option(name: str, lr: float, *, block_size: int = 2048):
    """Optimizer ``name`` of ``OPTIONS`` with learning rate ``lr`` (a number, or
    for the ``ELEMENTWISE`` options a column of them: a sweep): ``Adam``;
    ``LowPrecisionAdam("bf16", master_weights=True)`` (m, v and the update in
    bf16, float32 weights); ``Adam8bit(block_size=…)``; ``Adafactor`` (torch's
    definition: ``lr`` caps the relative step); ``SGD`` with μ = 0.9.  The
    other hyperparameters are the PyTorch defaults."""
    if name not in OPTIONS:
        raise ValueError(f"name must be one of {list(OPTIONS)}, got {name!r}")
    if name not in ELEMENTWISE or np.ndim(lr) == 0:
        lr = check.positive_number("lr", lr)
    return {"Adam (fp32 state)": lambda: Adam(lr),
            "Adam (bf16 state)": lambda: LowPrecisionAdam("bf16", lr, master_weights=True),
            "Adam (8-bit state)": lambda: Adam8bit(lr, block_size=block_size),
            "Adafactor": lambda: Adafactor(lr=lr),
            "SGD + momentum": lambda: SGD(lr, momentum=0.9)}[name]()


def state_bytes_per_parameter(optimizer, shape) -> float:
    """Bytes of optimizer state per parameter for one parameter of ``shape``
    (float32): ``Optimizer.state_bytes``, or for ``LowPrecisionAdam`` two
    numbers of its format per parameter."""
    size = int(np.prod(shape))
    if isinstance(optimizer, LowPrecisionAdam):
        return 2 * (4 if optimizer.precision == "fp32" else 2)
    return optimizer.state_bytes(tuple(shape), np.float32) / size


def multi_output_least_squares(n_outputs=8, n_samples=256, n_features=32, *,
                               feature_scales=(0.1, 10.0), noise=0.1, seed=0) -> LeastSquares:
    """Least squares with ``n_outputs`` targets sharing one design matrix ``X``
    (from ``make_least_squares``: features scaled from 10 down to 0.1), so the
    parameter is a matrix of shape ``(n_outputs, n_features)``: row k fits
    ``Y_k = X w_k* + noise``, ``w_k* ~ N(0, I)``.  A ``LeastSquares`` with a
    stack of ``n_outputs`` (identical) data sets; its ``excess_loss`` is per
    output."""
    n_outputs = check.integer("n_outputs", n_outputs, low=1)
    base = make_least_squares(n_samples, n_features, noise=0.0, feature_scales=feature_scales,
                              seed=seed)
    rng = np.random.default_rng(check.seed("seed", seed) + 1)
    weights = rng.standard_normal((n_outputs, base.n_features))
    targets = (np.einsum("nd,kd->kn", base.X, weights)
               + check.hyperparameter("noise", noise, low=0.0)
               * rng.standard_normal((n_outputs, base.n_samples)))
    return LeastSquares(np.broadcast_to(base.X, (n_outputs, *base.X.shape)), targets)


@dataclass(frozen=True)
class Problem:
    """A problem of the comparison: ``gradient``, ``loss`` (the total excess
    loss, float64), ``theta0`` (float32) and the ``steps`` every option takes."""

    name: str
    gradient: object
    loss: object
    theta0: np.ndarray
    steps: int


def comparison_problems(steps_bowl=1000, steps_least_squares=500) -> dict:
    """The two problems: the per-parameter chapter's badly scaled bowl (7
    curvatures from 1e-3 to 1e3, from θ = 1) and ``multi_output_least_squares``
    (an 8 × 32 matrix, from θ = 0.1, Adafactor's relative step needing a
    parameter scale above its ε2 floor)."""
    bowl = badly_scaled_quadratic()
    least_squares = multi_output_least_squares()
    return {
        "bowl": Problem("badly scaled bowl", bowl.gradient,
                        lambda theta: bowl.excess_loss(theta.astype(np.float64)),
                        np.ones(bowl.dim, np.float32), check.integer("steps_bowl", steps_bowl, 1)),
        "least squares": Problem(
            "multi-output least squares", least_squares.gradient,
            lambda theta: float(np.sum(least_squares.excess_loss(theta.astype(np.float64)))),
            np.full((8, 32), 0.1, np.float32),
            check.integer("steps_least_squares", steps_least_squares, 1))}


#: The options whose step is elementwise: a sweep over learning rates is one
#: broadcast run (parameters of shape ``(K, *shape)``, ``lr`` a column), each
#: row computed as alone.  Adafactor (RMS over the leaf, factored statistics)
#: and the 8-bit state (a scale per block) mix a leaf's entries: one run each.
ELEMENTWISE = ("Adam (fp32 state)", "Adam (bf16 state)", "SGD + momentum")


def final_losses(name: str, lrs, problem: Problem, *, block_size=2048) -> np.ndarray:
    """The loss after ``problem.steps`` steps of option ``name`` at each learning
    rate of ``lrs`` (inf where the run diverged: ``run``'s policy)."""
    lrs = check.positive_vector("lrs", lrs)
    shape = problem.theta0.shape
    if name in ELEMENTWISE:
        column = lrs.reshape(-1, *(1,) * len(shape))
        optimizer = make_option(name, column, block_size=block_size)
        theta0 = np.broadcast_to(problem.theta0, (lrs.size, *shape))
        result = run(optimizer, problem.gradient, theta0, problem.steps)
        diverged = result.diverged.reshape(lrs.size, -1).any(axis=1)
        losses = np.array([problem.loss(theta) for theta in result.theta])
    else:
        results = [run(make_option(name, lr, block_size=block_size), problem.gradient,
                       problem.theta0, problem.steps) for lr in lrs]
        diverged = np.array([np.any(r.diverged) for r in results])
        losses = np.array([problem.loss(r.theta) if not bad else np.inf
                           for r, bad in zip(results, diverged)])
    return np.where(diverged, np.inf, losses)


@dataclass(frozen=True)
class OptionResult:
    """One option on one problem: its tuning (``tuned.best`` is the bracketed
    learning rate, ``tuned.best_score`` the final loss there) and its bytes of
    optimizer state per parameter of this problem."""

    name: str
    tuned: Tuned
    state_bytes: float


#: Learning-rate grids, as powers of ten (a quarter decade apart), wide enough
#: to bracket every option on both problems; ``tune`` refuses the result if not.
LR_GRIDS = {"Adam (fp32 state)": (-3, 0), "Adam (bf16 state)": (-3, 0),
            "Adam (8-bit state)": (-3, 0), "Adafactor": (-3, 0.5), "SGD + momentum": (-5, -1)}


def lr_grid(name: str) -> np.ndarray:
    """Option ``name``'s learning rates: ``10^(k/4)`` over its ``LR_GRIDS`` range,
    rounded to 3 significant digits (the same on every CPU)."""
    if name not in LR_GRIDS:
        raise ValueError(f"name must be one of {list(OPTIONS)}, got {name!r}")
    low, high = LR_GRIDS[name]
    return np.array([float(f"{10 ** (k / 4):.3g}") for k in range(int(4 * low), int(4 * high) + 1)])


def compare_memory_options(problem: Problem, *, solved=1e-8, block_size=2048,
                           names=OPTIONS) -> dict:
    """``{name: OptionResult}``: every option tuned on ``problem`` over its
    ``lr_grid`` (``final_losses``: one broadcast run for the elementwise
    options, one run per learning rate for the others).  Scores are
    final losses; at or below ``solved`` times the starting loss a run counts
    as solved (``tune``'s floor: float32 runs reach the rounding level, and
    among solving rates the smallest is the best)."""
    floor = check.hyperparameter("solved", solved, low=0.0) * float(problem.loss(problem.theta0))
    out = {}
    for name in names:
        lrs = lr_grid(name)
        scores = final_losses(name, lrs, problem, block_size=block_size)
        state = state_bytes_per_parameter(make_option(name, 1.0, block_size=block_size),
                                          problem.theta0.shape)
        out[name] = OptionResult(name, tune(lrs, scores, floor=floor), state)
    return out


def second_moment_spread(problem: Problem, lr: float, steps: int, *, block_size=2048) -> dict:
    """Adam (fp32 state) run ``steps`` steps at ``lr`` on ``problem``; of its v:
    ``decades`` (log10 of the largest over the smallest nonzero entry),
    ``map_decades`` (log10 of 1 over the unsigned map's smallest nonzero value:
    the range one block can hold) and ``zero_fraction``, the fraction of the
    nonzero entries that 8-bit block-wise storage (``block_size``) stores as 0,
    so that the next step divides by √((1 − β2)·g²) alone."""
    optimizer = make_option("Adam (fp32 state)", lr)
    run(optimizer, problem.gradient, problem.theta0, check.step_count("steps", steps))
    v = optimizer.v
    nonzero = v > 0
    codes, _ = quantize_blockwise(v, UNSIGNED_MAP, block_size)
    return {"decades": float(np.log10(v.max() / v[nonzero].min())),
            "map_decades": float(np.log10(1 / UNSIGNED_MAP[1])),
            "zero_fraction": float(np.mean(codes[nonzero] == 0))}
