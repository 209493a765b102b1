"""Adam's state in low precision, and memory-efficient variants: the chapter's
computations (nothing here draws).

- ``format_thresholds``: what the formats do to Adam's numbers, found by the
  code (a bisection over each format's bit patterns, with Adam's own
  arithmetic): ε as the format stores it, the smallest gradient whose square
  is not 0, the smallest whose first second moment ``v_1 = (1 − β2)·g²`` is
  not 0, the smallest whose square overflows.
- ``steps_by_precision``: Adam's step ``|Δθ_t|/α`` after t steps of a constant
  gradient, against the gradient's scale, in fp32, bf16 and fp16 (with and
  without loss scaling), with ``adamref.optim.precision``'s arithmetic.
- ``ema_stall``: where an exponential moving average of a constant stalls in
  each format (bf16's v stops at a quarter of g² with β2 = 0.999: the step
  grows to about 2α).
- ``loss_scaling_as_eps``: Adam on the gradient scaled by S (the loss times
  S) against Adam with ε/S, in float64 (the per-parameter chapter's ε result,
  ``lab.per_parameter_steps.step_vs_gradient_scale``).
- ``compare_memory_options``: the final loss of Adam (fp32 state), Adam with
  bf16 state, Adam with 8-bit state, Adafactor and SGD with momentum, each at
  its own tuned learning rate (``problems.tune``, bracketed), beside the bytes
  of optimizer state per parameter, on two problems (``Problem``): the badly
  scaled bowl (``bowl_problem``) and the digits MLP (``digits_problem``, whose
  weight matrices Adafactor factors).  Parameters are float32 throughout (the
  "fp32" of the memory chapter's arithmetic).
- ``second_moment_spread``, ``zeroed_v_step_ratio``, ``largest_steps``: why
  the 8-bit state fails: the decades that Adam's v spans in one block against
  the unsigned map's range, the too-long steps of an entry whose v is stored
  as 0, and the steps of m̂/ε when its next gradient is 0.
- ``training_memory_rows``: the 7B arithmetic of the memory chapter
  (``lab.memory_and_compute``) with these options.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from adamref.lab.memory_and_compute import (LOW_MEMORY_OPTIONS, bytes_per_parameter,
                                            training_gigabytes)
from adamref.lab.per_parameter_steps import step_vs_gradient_scale
from adamref.optim import validation as check
from adamref.optim.adafactor import Adafactor
from adamref.optim.adam import Adam
from adamref.optim.baselines import SGD
from adamref.optim.optimizer import power
from adamref.optim.precision import (PRECISIONS, STORAGE, LowPrecisionAdam, adam_update_in,
                                     moments_in, precision_name, round_to_bfloat16,
                                     to_precision)
from adamref.optim.quantized import UNSIGNED_MAP, Adam8bit, quantize_blockwise
from adamref.problems.digits import load_digits
from adamref.problems.mlp import MLP
from adamref.problems.objectives import Quadratic
from adamref.problems.runs import run, trajectory
from adamref.problems.training import batch_order
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
def decimal_grid(low_exponent: float, high_exponent: float, per_decade: int) -> np.ndarray:
    """``10^(k/per_decade)`` from ``10^low_exponent`` to ``10^high_exponent``,
    each rounded to 3 significant digits through its decimal text (the same
    numbers on every CPU: no ``np.power``)."""
    per_decade = check.integer("per_decade", per_decade, low=1)
    first, last = (round(per_decade * e) for e in (low_exponent, high_exponent))
    if last - first < 2:
        raise ValueError(f"the grid from 1e{low_exponent} to 1e{high_exponent} must hold at "
                         f"least 3 values, got {last - first + 1}")
    return np.array([float(f"{10 ** (k / per_decade):.3g}") for k in range(first, last + 1)])


#: The gradient scales of the step figure: 1e-9 … 1e3, eight per decade.
STEP_SCALES = decimal_grid(-9, 3, 8)


def step_runs(loss_scale=2.0**12) -> dict:
    """The runs of ``steps_by_precision``: label -> (precision, gradient scale
    factor S): fp32, bf16, fp16, and fp16 with the loss (so every gradient)
    multiplied by ``loss_scale``."""
    loss_scale = check.positive_number("loss_scale", loss_scale)
    return {"fp32": ("fp32", 1.0), "bf16": ("bf16", 1.0), "fp16": ("fp16", 1.0),
            f"fp16, loss × {loss_scale:g}": ("fp16", loss_scale)}


@lru_cache(maxsize=256)
def _constant_gradient_moments(precision: str, grad: tuple, steps: int, beta1: float,
                               beta2: float):
    """m and v (read-only) after ``steps`` steps of the constant gradient
    ``grad`` (float32 values) in ``precision``, from 0: cached, so that an
    explorer's redraw at a new ε reuses them."""
    zero = to_precision(np.zeros(len(grad)), precision)
    m, v = moments_in(precision, np.array(grad, np.float32), zero, zero, beta1, beta2,
                      repeat=steps)
    for array in (m, v):
        array.flags.writeable = False
    return m, v


def moments_after(precision: str, gradient: float, steps: int, *, beta1=0.9,
                  beta2=0.999) -> tuple[float, float]:
    """``(m, v)`` after ``steps`` steps of the constant gradient ``gradient``
    (a float32 number) from 0, every number in ``precision``."""
    precision = precision_name(precision)
    grad = float(np.float32(check.positive_number("gradient", gradient)))
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    m, v = _constant_gradient_moments(precision, (grad,), check.integer("steps", steps),
                                      beta1, beta2)
    return float(m[0]), float(v[0])


def adam_step_in(precision: str, scales, t: int, *, loss_scale=1.0, beta1=0.9, beta2=0.999,
                 eps=1e-8) -> np.ndarray:
    """``|Δθ_t|/α`` at step ``t`` of the constant gradient ``loss_scale·s`` for
    each ``s`` in ``scales``, every number in ``precision``: the moments of the
    first t − 1 steps (``moments_in``), then step t by ``adam_update_in`` with
    α = 1, so the step is ``m̂/(√v̂ + ε)`` as the format computes it (θ = 0,
    which the constant gradient does not see; the same bits as t calls of
    ``adam_update_in``).  Adam's step is invariant to the gradient's scale but
    for ε, so the loss scale needs no undoing.  NaN or inf where the format
    makes them."""
    precision = precision_name(precision)
    scales = check.positive_vector("scales", scales)
    t = check.step_count("t", t)
    loss_scale = check.positive_number("loss_scale", loss_scale)
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    grad = (scales * loss_scale).astype(np.float32)       # the gradient computed in float32
    m, v = _constant_gradient_moments(precision, tuple(grad.tolist()), t - 1, beta1, beta2)
    zero = to_precision(np.zeros(scales.size), precision)
    with np.errstate(all="ignore"):
        theta = adam_update_in(precision, zero, grad, m, v, t, lr=1.0, beta1=beta1,
                               beta2=beta2, eps=eps)[0]
    return np.abs(theta.astype(np.float64))


def steps_by_precision(scales, t: int, *, loss_scale=2.0**12, eps=1e-8, beta2=0.999) -> dict:
    """``adam_step_in`` for every run of ``step_runs(loss_scale)``: label -> steps."""
    return {label: adam_step_in(p, scales, t, loss_scale=s, eps=eps, beta2=beta2)
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


def significant_bits(precision: str) -> int:
    """p, the significant bits of ``precision`` (the implicit leading 1 included):
    24 for fp32, 8 for bf16, 11 for fp16."""
    precision = precision_name(precision)
    spacing = 2.0**-7 if precision == "bf16" else float(np.finfo(STORAGE[precision]).eps)
    return 1 - int(np.log2(spacing))


def stall_interval(precision: str, one_minus_beta: float) -> tuple[float, float]:
    """The heuristic interval of ``ema_stall``'s x*/target: the average stops
    where its increment (1 − β)(T − x) falls below half an ulp of x, which is
    between 2^−(p+1)·x and 2^−p·x; with δ = (1 − β)·2^p that gives x*/T between
    δ/(1 + δ) and 2δ/(1 + 2δ) (up to the format's spacing: x* is a number of
    the format, and the increment is itself rounded)."""
    delta = check.hyperparameter("one_minus_beta", one_minus_beta, low=0.0, high=1.0) \
        * 2.0 ** significant_bits(precision)
    return delta / (1 + delta), 2 * delta / (1 + 2 * delta)


def noisy_moments(noise: float, steps: int = 1000, *, streams: int = 200, seed: int = 0,
                  beta1=0.9, beta2=0.999) -> dict:
    """``{precision: (mean m, mean v)}``: Adam's moments after ``steps`` noisy
    gradients ``g = 1 + noise·ξ`` (ξ standard normal, float32, the same for
    every precision) from 0, averaged over ``streams`` streams (``moments_in``,
    one step at a time)."""
    noise = check.hyperparameter("noise", noise, low=0.0)
    steps = check.step_count("steps", steps)
    streams = check.integer("streams", streams, low=1)
    rng = np.random.default_rng(check.seed("seed", seed))
    grads = (1 + noise * rng.standard_normal((steps, streams))).astype(np.float32)
    out = {}
    for precision in PRECISIONS:
        m = v = to_precision(np.zeros(streams), precision)
        for g in grads:
            m, v = moments_in(precision, g, m, v, beta1, beta2)
        out[precision] = (float(np.mean(m.astype(np.float64))),
                          float(np.mean(v.astype(np.float64))))
    return out


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

#: The options whose step is elementwise: a sweep over learning rates is one
#: broadcast run (one row per learning rate, ``lr`` a column), each row
#: computed as alone.  Adafactor (RMS over a leaf, factored statistics) and the
#: 8-bit state (a scale per block) mix a leaf's entries: one run per rate.
ELEMENTWISE = ("Adam (fp32 state)", "Adam (bf16 state)", "SGD + momentum")


def make_option(name: str, lr, *, block_size: int = 2048):
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


def state_bytes_per_parameter(optimizer, shapes) -> float:
    """Bytes of optimizer state per parameter for float32 parameters of the
    given ``shapes`` (one per leaf: a weight matrix, a bias, ...):
    ``Optimizer.state_bytes`` leaf by leaf, or for ``LowPrecisionAdam`` two
    numbers of its format per parameter."""
    shapes = [tuple(int(n) for n in shape) for shape in shapes]
    size = sum(int(np.prod(shape)) for shape in shapes)
    if isinstance(optimizer, LowPrecisionAdam):
        return 2 * (4 if optimizer.precision == "fp32" else 2)
    return sum(optimizer.state_bytes(shape, np.float32) for shape in shapes) / size


class PerLeaf:
    """``optimizer`` stepping the leaves ``leaves(theta)`` (views of θ: a
    network's weight matrices and biases) instead of θ as one array, so that
    Adafactor factors each matrix and the 8-bit state quantizes each tensor
    by itself, as frameworks do with a model's parameters."""

    def __init__(self, optimizer, leaves):
        self.optimizer, self.leaves = optimizer, leaves

    def step(self, params, grads):
        self.optimizer.step(self.leaves(params), self.leaves(grads))
        return params


@dataclass(frozen=True)
class Problem:
    """A problem of the comparison.  ``gradient_factory()`` makes the gradient
    function of one run (a minibatch order starts afresh); ``loss(theta)`` is
    the final loss of each row of ``theta`` (float64, shape ``(rows,)``);
    ``theta0`` is one start (float32; a sweep stacks copies of its last axis);
    ``steps`` the steps every option takes; ``leaves`` (or None) cuts one θ
    (``theta0``'s shape) into the leaves a framework would hand the optimizer
    (views: a network's weight matrices and bias vectors), ``shapes`` their shapes
    (for the state's bytes); ``grids`` each option's learning rates;
    ``solved`` the loss at or below which a run counts as solved (0: none),
    ``factor`` how close to the best loss a good learning rate comes, and
    ``leaf_names`` the leaves' names."""

    name: str
    gradient_factory: object
    loss: object
    theta0: np.ndarray
    steps: int
    shapes: tuple
    grids: dict
    leaves: object = None
    solved: float = 0.0
    factor: float = 10.0
    leaf_names: tuple = ("θ",)


#: The bowl's decades of curvature, written as decimals (no ``np.geomspace``,
#: whose interior values depend on NumPy's SIMD path in the last bit).
BOWL_CURVATURES = tuple(float(f"1e{k}") for k in range(-3, 4))

#: Learning-rate grids on the bowl (half decades), wide enough to bracket every option.
BOWL_GRIDS = {"Adam (fp32 state)": decimal_grid(-3, 0, 2), "Adam (bf16 state)": decimal_grid(-3, 0, 2),
              "Adam (8-bit state)": decimal_grid(-3, 0, 2), "Adafactor": decimal_grid(-3, 0.5, 2),
              "SGD + momentum": decimal_grid(-5, -1, 2)}


def bowl_problem(curvatures=BOWL_CURVATURES, *, steps=1000, solved=1e-8) -> Problem:
    """The per-parameter chapter's badly scaled bowl ``Σ c_i θ_i²/2`` (by default
    7 curvatures, one per decade from 1e-3 to 1e3) from θ = 1 in float32; a
    run is solved at ``solved`` times the starting loss.  θ is one leaf."""
    bowl = Quadratic(np.array(curvatures, dtype=float))
    theta0 = np.ones(bowl.dim, np.float32)

    def loss(theta):
        return np.atleast_1d(bowl.excess_loss(np.asarray(theta, dtype=np.float64)))

    floor = check.hyperparameter("solved", solved, low=0.0) * float(loss(theta0)[0])
    return Problem("badly scaled bowl", lambda: bowl.gradient, loss, theta0,
                   check.integer("steps", steps, low=1), ((bowl.dim,),), BOWL_GRIDS,
                   solved=floor)


#: Learning-rate grids on the digits MLP (half decades).
DIGITS_GRIDS = {"Adam (fp32 state)": decimal_grid(-3.5, -0.5, 2),
                "Adam (bf16 state)": decimal_grid(-3.5, -0.5, 2),
                "Adam (8-bit state)": decimal_grid(-3.5, -0.5, 2),
                "Adafactor": decimal_grid(-2.5, 0.5, 2), "SGD + momentum": decimal_grid(-2.5, 0.5, 2)}


def digits_problem(*, steps=150, hidden=32, batch_size=32, seed=0, data=None,
                   factor=1.5) -> Problem:
    """The digits MLP (``problems.mlp.MLP(hidden)``, 64 → hidden → 10) from the
    initialization of ``seed``, trained on minibatches of ``batch_size`` of
    the 1000 training images in the order of ``seed``; its loss is the mean
    cross-entropy on the whole training set.  The parameters are float32; the
    gradient is computed in float64 from them and rounded to float32 (the
    network's arithmetic is float64).  The leaves are the four layers, so
    Adafactor factors the two weight matrices.  A learning rate is good within
    ``factor`` of the best loss."""
    data = load_digits() if data is None else data
    network = MLP(check.integer("hidden", hidden, low=1))
    steps = check.integer("steps", steps, low=1)
    batch_size = check.integer("batch_size", batch_size, low=1)
    seed = check.seed("seed", seed)
    order = batch_order(len(data.y_train), batch_size, steps, seed)

    def gradient_factory():
        batches = iter(order)

        def gradient(theta):
            rows = next(batches)
            grad = network.loss_and_gradient(theta.astype(np.float64), data.X_train[rows],
                                             data.y_train[rows])[1]
            return grad.astype(np.float32)
        return gradient

    def loss(theta):
        return network.loss(np.asarray(theta, dtype=np.float64), data.X_train, data.y_train)

    return Problem(f"digits MLP (64-{hidden}-10)", gradient_factory, loss,
                   network.init(seed).astype(np.float32), steps,
                   tuple(network.shapes.values()), DIGITS_GRIDS,
                   leaves=lambda theta: [layer[0] for layer in network.layers(theta).values()],
                   factor=check.positive_number("factor", factor),
                   leaf_names=tuple(network.shapes))


def final_runs(name: str, lrs, problem: Problem, *, block_size=2048):
    """``(losses, thetas)``: the loss after ``problem.steps`` steps of option
    ``name`` at each learning rate of ``lrs`` (inf where the run diverged:
    ``run``'s policy) and the final parameters (one row per rate)."""
    lrs = check.positive_vector("lrs", lrs)
    if name in ELEMENTWISE:
        optimizer = make_option(name, lrs[:, None], block_size=block_size)
        theta0 = np.broadcast_to(problem.theta0, (lrs.size, problem.theta0.shape[-1]))
        result = run(optimizer, problem.gradient_factory(), theta0, problem.steps)
        diverged, thetas = result.diverged, result.theta
    else:
        results = []
        for lr in lrs:
            optimizer = make_option(name, lr, block_size=block_size)
            if problem.leaves is not None:
                optimizer = PerLeaf(optimizer, problem.leaves)
            results.append(run(optimizer, problem.gradient_factory(), problem.theta0,
                               problem.steps))
        diverged = np.array([np.any(r.diverged) for r in results])
        thetas = np.stack([r.theta.reshape(-1) for r in results])
    with np.errstate(all="ignore"):                        # diverged rows are NaN
        losses = problem.loss(thetas)
    return np.where(diverged, np.inf, losses), thetas


def final_losses(name: str, lrs, problem: Problem, *, block_size=2048) -> np.ndarray:
    """The losses of ``final_runs``."""
    return final_runs(name, lrs, problem, block_size=block_size)[0]


@dataclass(frozen=True)
class OptionResult:
    """One option on one problem: its tuning (``tuned.best`` is the bracketed
    learning rate, ``tuned.best_score`` the final loss there), its bytes of
    optimizer state per parameter of this problem, and the final parameters
    at the best learning rate."""

    name: str
    tuned: Tuned
    state_bytes: float
    theta: np.ndarray


def compare_memory_options(problem: Problem, *, block_size=2048, names=OPTIONS) -> dict:
    """``{name: OptionResult}``: every option tuned on ``problem`` over its grid
    (``final_runs``: one broadcast run for the elementwise options, one run
    per learning rate for the others).  Scores are final losses, tuned by
    ``tune`` with the problem's ``factor`` and its ``solved`` level as the
    floor (float32 runs reach the rounding level; among solving rates the
    smallest is the best)."""
    out = {}
    for name in names:
        if name not in OPTIONS:
            raise ValueError(f"names must be among {list(OPTIONS)}, got {name!r}")
        lrs = problem.grids[name]
        scores, thetas = final_runs(name, lrs, problem, block_size=block_size)
        tuned = tune(lrs, scores, factor=problem.factor, floor=problem.solved)
        state = state_bytes_per_parameter(make_option(name, 1.0, block_size=block_size),
                                          problem.shapes)
        out[name] = OptionResult(name, tuned, state, thetas[tuned.best_index])
    return out


#: log10 of 1 over the unsigned map's smallest nonzero value: the decades one
#: block of the 8-bit v can hold below its largest entry.
MAP_DECADES = float(np.log10(1 / UNSIGNED_MAP[1]))


def second_moment_spread(problem: Problem, lr: float, steps: int, *, block_size=2048) -> dict:
    """Adam (fp32 state) run ``steps`` steps at ``lr`` on ``problem``; for each
    leaf of its v (``problem.leaf_names``): ``entries``, ``nonzero`` (entries
    with v > 0), ``decades`` (log10 of the largest over the smallest nonzero
    v) and ``zeroed`` (the fraction of the nonzero entries that 8-bit
    block-wise storage with ``block_size`` stores as 0: more than
    ``MAP_DECADES`` below their block's largest).  Also ``"v"``: the leaves of v."""
    optimizer = make_option("Adam (fp32 state)", lr)
    run(optimizer, problem.gradient_factory(), problem.theta0, check.step_count("steps", steps))
    leaves = problem.leaves(optimizer.v) if problem.leaves else [optimizer.v]
    out = {"v": {}}
    for name, leaf in zip(problem.leaf_names, leaves):
        leaf = np.ascontiguousarray(leaf)
        nonzero = leaf > 0
        codes, _ = quantize_blockwise(leaf, UNSIGNED_MAP, block_size)
        out[name] = {"entries": leaf.size, "nonzero": int(nonzero.sum()),
                     "decades": float(np.log10(leaf.max() / leaf[nonzero].min())),
                     "zeroed": float(np.mean(codes[nonzero] == 0))}
        out["v"][name] = leaf
    return out


def zeroed_v_step_ratio(problem: Problem, lr: float, steps: int, *, beta2=0.999,
                        block_size=2048) -> dict:
    """The first ``steps`` steps of Adam with 8-bit and with fp32 state from the
    same start (``problem`` with one leaf): ``ratio`` (steps, coordinates), the
    8-bit step over the fp32 step, and ``predicted`` (steps,), the ratio for a
    coordinate whose v the 8-bit state stores as 0 while m is exact:
    ``v_t = (1 − β2)·g_t²``, so ``√v̂_t = √((1 − β2)/(1 − β2^t))·|g_t|`` instead of
    about ``|g_t|``, and the step is ``√((1 − β2^t)/(1 − β2))`` times as long (a
    heuristic: the two runs drift apart, and m is quantized too)."""
    steps = check.step_count("steps", steps)
    gradient = problem.gradient_factory()
    paths = [trajectory(make_option(name, lr, block_size=block_size), gradient,
                        problem.theta0, steps)
             for name in ("Adam (8-bit state)", "Adam (fp32 state)")]
    eight_bit, fp32 = (np.abs(np.diff(path.astype(np.float64), axis=0)) for path in paths)
    t = np.arange(1, steps + 1)
    bias = 1 - np.array([power(beta2, int(k)) for k in t])
    return {"t": t, "ratio": eight_bit / fp32, "predicted": np.sqrt(bias / (1 - beta2))}


def step_sizes(problem: Problem, name: str, lr: float, steps: int, *,
               block_size=2048) -> np.ndarray:
    """``|Δθ_t|/α`` of every coordinate at each of the first ``steps`` steps of
    option ``name`` at ``lr`` on ``problem`` (its leaves), shape ``(steps,
    coordinates)``; NaN once the run has diverged."""
    optimizer = make_option(name, lr, block_size=block_size)
    if problem.leaves is not None and name not in ELEMENTWISE:
        optimizer = PerLeaf(optimizer, problem.leaves)
    steps = check.step_count("steps", steps)
    path = trajectory(optimizer, problem.gradient_factory(), problem.theta0,
                      steps).astype(np.float64)
    return np.abs(np.diff(path, axis=0)).reshape(steps, -1) / lr


def largest_steps(problem: Problem, name: str, lr: float, steps: int, *,
                  block_size=2048) -> np.ndarray:
    """The largest of ``step_sizes`` at each step, shape ``(steps,)``."""
    return step_sizes(problem, name, lr, steps, block_size=block_size).max(axis=1)


# -- the arithmetic at scale -------------------------------------------------------------------
#: The options of the 7B table, as ``memory_and_compute`` names them, with this chapter's labels.
SCALE_OPTIONS = {"Adam (fp32 state)": "Adam", **{name: name for name in LOW_MEMORY_OPTIONS}}


def training_memory_rows(n_params=7e9, precisions=("fp32", "mixed")) -> list[dict]:
    """One row per option and precision (``memory_and_compute.bytes_per_parameter``
    and ``training_gigabytes``): ``option``, ``precision``, ``state`` (bytes of
    optimizer state per parameter), ``total`` (weights, gradients and state,
    bytes per parameter) and ``gigabytes`` for ``n_params`` parameters (no
    activations); Adafactor's statistics are those of a 4096 × 4096 matrix."""
    n_params = check.positive_number("n_params", n_params)
    rows = []
    for precision in precisions:
        for label, name in SCALE_OPTIONS.items():
            parts = bytes_per_parameter(name, precision)
            state = sum(v for k, v in parts.items()
                        if not k.startswith(("weights", "gradients", "master")))
            rows.append({"option": label, "precision": precision, "state": state,
                         "total": sum(parts.values()),
                         "gigabytes": training_gigabytes(name, n_params, precision)})
    return rows


def first_layer_pixels(entries, hidden: int = 32) -> np.ndarray:
    """The input pixel of each coordinate in ``entries`` (flat indices into the
    parameter vector of ``MLP(hidden)``) that is a first-layer weight
    ``W1[pixel, unit]``; the other coordinates are left out."""
    network = MLP(check.integer("hidden", hidden, low=1))
    index = network.layers(np.arange(network.size, dtype=float)[None])["W1"][0]
    pixel_of = {int(index[i, h]): i for i in range(index.shape[0]) for h in range(index.shape[1])}
    return np.array([pixel_of[int(e)] for e in np.ravel(entries) if int(e) in pixel_of],
                    dtype=int)


def pixel_activity(data=None) -> np.ndarray:
    """The fraction of the training images in which each pixel is not blank (64,)."""
    data = load_digits() if data is None else data
    return np.mean(data.X_train > 0, axis=0)
