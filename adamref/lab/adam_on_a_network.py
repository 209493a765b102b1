"""Adam on a network: the digits MLP trained by SGD with momentum, Adam with L2
weight decay and AdamW, each with a constant learning rate and with linear
warmup then cosine decay, over a learning-rate grid and five seeds.

Every configuration of one (optimizer, schedule) pair is one K-network run
(``adamref.problems.training.train``): K = learning rates × seeds networks,
``lr`` a (K, 1) column, network k with its seed's initialization and batch
order, so every optimizer sees the same starts and the same minibatches.  A
learning rate is scored by the validation error at the end of the run,
averaged over the seeds (a run that diverged in any seed fails), and tuned
with ``adamref.problems.tune``: the best value must lie inside the grid, and
the good values are every grid value within ``GOOD_FACTOR`` of the best
score.  The test error is reported at the tuned learning rate only.

- ``chapter_sweeps`` (cached: the chapter and its explorer share it) and
  ``variation_sweeps`` (another split of the data, other seeds) run every
  optimizer and schedule; ``summary`` tunes them.
- ``batch_speedup`` times K networks at once against a loop of K single ones.
- ``gradient_check`` compares the backward pass with central differences.
- ``adam_statistics`` looks inside Adam runs: per layer, the distribution of
  ``|Δθ|/α`` and the fraction of coordinates where ``√v̂ < ε`` at chosen steps.

NumPy only; ``adamref.plots.adam_on_a_network`` draws the results.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from adamref.lab.per_parameter_steps import step_supremum
from adamref.optim import SGD, Adam, schedules
from adamref.optim import validation as check
from adamref.optim.optimizer import power
from adamref.problems.digits import load_digits
from adamref.problems.mlp import MLP
from adamref.problems.runs import run
from adamref.problems.training import batch_order, train
from adamref.problems.tuning import tune

#: A learning rate is good if its mean validation error is at most this times the best.
GOOD_FACTOR = 1.5
#: The optimizers compared, in the book's order (``Momentum`` is SGD with
#: μ = 0.9, as in ``adamref.problems.registry``), with their weight decay λ:
#: L2 (added to the gradient) for Adam, decoupled for AdamW (PyTorch's default
#: λ = 0.01), none for SGD with momentum.
OPTIMIZERS = ("Momentum", "Adam + L2", "AdamW")
WEIGHT_DECAY = {"Momentum": 0.0, "Adam + L2": 1e-4, "AdamW": 1e-2}
SCHEDULES = ("constant", "warmup+cosine")
SEEDS = (0, 1, 2, 3, 4)
#: The run: minibatches of 32 from the 1000 training images, 150 steps (4.8
#: epochs), a 16-unit hidden layer; warmup over the first 10 % of the steps;
#: a checkpoint every 25 steps.
STEPS, BATCH_SIZE, HIDDEN, WARMUP_STEPS, EVERY = 150, 32, 16, 15, 25
#: What the sweeps compute at their last checkpoint only (the loss on the
#: whole training set costs as much as a dozen steps).
FINAL_ONLY = ("train_loss", "test_error")
#: The error rate of a network that always predicts one class (ten classes).
CHANCE_ERROR = 0.9


def one_three_grid(low: float, high: float) -> np.ndarray:
    """The values 1·10^e and 3·10^e from ``low`` to ``high`` (both on the grid),
    written as decimals: ``one_three_grid(1e-3, 0.3)`` is 0.001, 0.003, …, 0.3."""
    low, high = check.positive_number("low", low), check.positive_number("high", high)
    values = [float(f"{m}e{e}") for e in range(math.floor(math.log10(low)) - 1,
                                                math.ceil(math.log10(high)) + 1)
              for m in (1, 3)]
    grid = np.array([v for v in values if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)])
    if grid.size < 3 or not (np.isclose(grid[0], low) and np.isclose(grid[-1], high)):
        raise ValueError(f"low and high must be of the form 1e^k or 3e^k with at least "
                         f"3 grid values between, got low={low!r}, high={high!r}")
    return grid


#: The learning-rate grids: every tuned value is bracketed, and each grid
#: reaches a failing rate on both sides (too slow below, dead units above).
LR_GRIDS = {"Momentum": one_three_grid(0.01, 1.0), "Adam + L2": one_three_grid(1e-3, 0.3),
            "AdamW": one_three_grid(1e-3, 0.3)}
#: The variation: another split of the data (seed 1), three other seeds, and
#: Adam's grids one value shorter at the bottom (each grid still brackets its
#: optimum, and every good range stays closed).
VARIATION_SPLIT, VARIATION_SEEDS = 1, (5, 6, 7)
VARIATION_GRIDS = {"Momentum": one_three_grid(0.01, 1.0), "Adam + L2": one_three_grid(3e-3, 0.3),
                   "AdamW": one_three_grid(3e-3, 0.3)}


def make_optimizer(name: str, lr, schedule: str = "constant", *, steps: int = STEPS,
                   warmup_steps: int = WARMUP_STEPS, weight_decay=None):
    """Optimizer ``name`` (one of ``OPTIMIZERS``) with learning rate ``lr`` (a
    number or a (K, 1) column), constant or ``warmup+cosine`` (linear warmup
    over ``warmup_steps``, then cosine decay to 0 at ``steps``)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"name must be one of {list(OPTIMIZERS)}, got {name!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    decay = WEIGHT_DECAY[name] if weight_decay is None else weight_decay
    if schedule == "warmup+cosine":
        warmup_steps = check.integer("warmup_steps", warmup_steps, low=1)
        if warmup_steps >= steps:
            raise ValueError(f"warmup_steps must be < steps = {steps}, got {warmup_steps}")
        lr = schedules.warmup_cosine(lr, warmup_steps, steps - warmup_steps)
    if name == "Momentum":
        return SGD(lr=lr, momentum=0.9, weight_decay=decay)
    return Adam(lr=lr, weight_decay=decay, decoupled_weight_decay=name == "AdamW")


@dataclass(frozen=True)
class LrSweep:
    """One (optimizer, schedule) over ``lrs`` (L,) × ``seeds`` (S,): at the
    checkpoints ``steps`` (C,), ``train_loss`` (the whole training set),
    ``val_error``, ``test_error`` and ``batch_loss`` (the mean loss of the
    minibatches since the previous checkpoint) of shape (C, L, S) (NaN after
    a divergence, and before the end for the metrics of ``FINAL_ONLY``);
    ``diverged`` (L, S); ``dead_units`` (L, S): the fraction of hidden units
    that output 0 for every validation image at the end.  Read-only arrays."""

    optimizer: str
    schedule: str
    lrs: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    train_loss: np.ndarray
    val_error: np.ndarray
    test_error: np.ndarray
    batch_loss: np.ndarray
    diverged: np.ndarray
    dead_units: np.ndarray

    @property
    def scores(self) -> np.ndarray:
        """The final validation error per learning rate, mean over seeds
        (NaN, a failed run, if any seed diverged)."""
        return self.val_error[-1].mean(axis=1)

    def tuned(self, factor: float = GOOD_FACTOR):
        """``adamref.problems.tune`` of ``scores`` over ``lrs``."""
        return tune(self.lrs, self.scores, factor=factor)

    def final_test_error(self, index: int) -> np.ndarray:
        """The final test error of each seed at ``lrs[index]``, shape (S,)."""
        return self.test_error[-1, index]


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array


def dead_units(network: MLP, theta, X) -> np.ndarray:
    """The fraction of each network's hidden units whose ReLU outputs 0 for
    every row of ``X`` (such a unit passes no gradient), shape (K,); NaN for a
    diverged (non-finite) network."""
    with np.errstate(invalid="ignore"):
        z1 = network.forward(theta, X)["z1"]
        dead = np.all(z1 <= 0, axis=1).mean(axis=-1)
    return np.where(np.isfinite(theta).all(axis=-1), dead, np.nan)


def lr_sweep(optimizer: str, schedule: str = "constant", lrs=None, *, data=None,
             steps: int = STEPS, batch_size: int = BATCH_SIZE, hidden: int = HIDDEN,
             seeds=SEEDS, warmup_steps: int = WARMUP_STEPS, every: int = EVERY,
             weight_decay=None, final_only=FINAL_ONLY) -> LrSweep:
    """Train L × S networks at once: every learning rate of ``lrs`` (default
    ``LR_GRIDS[optimizer]``) with every seed (initialization and batch order)."""
    lrs = LR_GRIDS[optimizer] if lrs is None else check.positive_vector("lrs", lrs)
    seeds = np.array([check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()])
    data = load_digits() if data is None else data
    network = MLP(hidden)
    row_seeds = np.tile(seeds, lrs.size)                    # row k: lr k // S, seed k % S
    column = np.repeat(lrs, seeds.size)[:, None]
    opt = make_optimizer(optimizer, column, schedule, steps=steps, warmup_steps=warmup_steps,
                         weight_decay=weight_decay)
    result = train(network, data, opt, network.init(row_seeds), steps, batch_size=batch_size,
                   batch_seeds=row_seeds, every=every, final_only=final_only)
    grid = (len(result.steps), lrs.size, seeds.size)
    arrays = [result.train_loss, result.val_error, result.test_error, result.batch_loss]
    return LrSweep(optimizer, schedule, _read_only(lrs), _read_only(seeds), _read_only(result.steps),
                   *(_read_only(a.reshape(grid)) for a in arrays),
                   _read_only(result.diverged.reshape(grid[1:])),
                   _read_only(dead_units(network, result.theta, data.X_val).reshape(grid[1:])))


def all_sweeps(grids=None, **options) -> dict[tuple[str, str], LrSweep]:
    """``lr_sweep`` for every optimizer and schedule, keyed ``(optimizer, schedule)``,
    over ``grids[optimizer]`` (default ``LR_GRIDS``); ``options`` go to each sweep."""
    grids = LR_GRIDS if grids is None else grids
    data = options.pop("data", None) or load_digits()
    return {(name, schedule): lr_sweep(name, schedule, grids[name], data=data, **options)
            for name in OPTIMIZERS for schedule in SCHEDULES}


@lru_cache(maxsize=1)
def chapter_sweeps() -> dict[tuple[str, str], LrSweep]:
    """The chapter's sweeps (``all_sweeps`` at the defaults on ``load_digits()``),
    computed once per process: the notebook and its explorer share them."""
    return all_sweeps()


def variation_sweeps(**options) -> dict[tuple[str, str], LrSweep]:
    """The variation: the split ``load_digits(seed=VARIATION_SPLIT)``, the seeds
    ``VARIATION_SEEDS`` and the grids ``VARIATION_GRIDS``, no checkpoints
    between the start and the end (``options`` override any of these)."""
    settings = dict(data=load_digits(seed=VARIATION_SPLIT), seeds=VARIATION_SEEDS,
                    grids=VARIATION_GRIDS, every=STEPS)
    return all_sweeps(**{**settings, **options})


def summary(sweeps: dict, factor: float = GOOD_FACTOR) -> list[dict]:
    """One row per sweep: the tuned learning rate (``best``, which raises
    ``UnbracketedOptimum`` if it is an edge of the grid), the good range
    (``range_text``, its width in decades ``decades_text``, how many grid
    values, whether contiguous), the best mean validation error, the test
    error at the best learning rate (mean, and lowest and highest over the
    seeds), the mean training loss at the end and the mean fraction of dead
    hidden units there."""
    rows = []
    for (name, schedule), sweep in sweeps.items():
        tuned = sweep.tuned(factor)
        best = tuned.best_index
        test = sweep.final_test_error(best)
        rows.append({"optimizer": name, "schedule": schedule, "best_lr": tuned.best,
                     "good_range": tuned.range_text(), "decades": tuned.decades_text(),
                     "good_count": tuned.count, "contiguous": tuned.contiguous,
                     "val_error": tuned.best_score, "test_error": float(test.mean()),
                     "test_low": float(test.min()), "test_high": float(test.max()),
                     "train_loss": float(sweep.train_loss[-1, best].mean()),
                     "dead_units": float(sweep.dead_units[best].mean())})
    return rows


def seed_by_seed(sweeps: dict, optimizer: str, against: str = "Momentum") -> dict:
    """Per schedule, ``optimizer`` against ``against``, each at its tuned
    learning rate, seed by seed (the same initialization and minibatches):
    ``{schedule: {"wins": seeds with a lower final test error, "ties",
    "seeds"}}``."""
    out = {}
    for schedule in SCHEDULES:
        if (optimizer, schedule) not in sweeps or (against, schedule) not in sweeps:
            continue
        a, b = sweeps[(optimizer, schedule)], sweeps[(against, schedule)]
        if not np.array_equal(a.seeds, b.seeds):
            raise ValueError(f"the sweeps of {optimizer!r} and {against!r} must use the same "
                             f"seeds, got {a.seeds.tolist()} and {b.seeds.tolist()}")
        mine = a.final_test_error(a.tuned().best_index)
        theirs = b.final_test_error(b.tuned().best_index)
        out[schedule] = {"wins": int(np.sum(mine < theirs)), "ties": int(np.sum(mine == theirs)),
                         "seeds": int(mine.size)}
    return out


def decay_factor(lr: float, schedule: str = "constant", *,
                 weight_decay: float = WEIGHT_DECAY["AdamW"], steps: int = STEPS,
                 warmup_steps: int = WARMUP_STEPS) -> float:
    """What AdamW's decoupled decay alone does to a weight over a run: the
    product of ``1 − α_t·λ`` over the steps, ``α_t`` the learning rate of step
    t (``make_optimizer``'s schedule)."""
    lr = check.positive_number("lr", lr)
    weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
    rate = make_optimizer("AdamW", lr, schedule, steps=steps, warmup_steps=warmup_steps).lr
    rates = np.array([rate(t) if callable(rate) else rate for t in range(1, steps + 1)])
    return float(np.prod(1 - rates * weight_decay))


# -- K networks at once against a loop -------------------------------------------------
def batch_speedup(lrs=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0), seeds=SEEDS, *, steps: int = 20,
                  data=None, hidden: int = HIDDEN, batch_size: int = BATCH_SIZE) -> dict:
    """Adam on K = lrs × seeds networks for ``steps`` steps, once as one K-network
    run and once as a Python loop of K single-network runs (the same
    initializations and minibatches).  Returns the CPU seconds of each
    (``time.process_time``), their ratio ``speedup`` and whether the final
    parameters are bit for bit the same (``identical``)."""
    lrs = check.positive_vector("lrs", lrs)
    seeds = np.array([check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()])
    data = load_digits() if data is None else data
    network = MLP(hidden)
    row_seeds, column = np.tile(seeds, lrs.size), np.repeat(lrs, seeds.size)[:, None]
    theta0 = network.init(row_seeds)
    options = dict(batch_size=batch_size, every=steps, final_only=("train_loss", "test_error"))
    start = time.process_time()
    together = train(network, data, Adam(lr=column), theta0, steps, batch_seeds=row_seeds,
                     **options)
    batched = time.process_time() - start
    start = time.process_time()
    alone = [train(network, data, Adam(lr=float(column[k, 0])), theta0[k:k + 1], steps,
                   batch_seeds=row_seeds[k:k + 1], **options).theta[0]
             for k in range(len(theta0))]
    looped = time.process_time() - start
    return {"networks": len(theta0), "steps": steps, "batched_s": batched, "loop_s": looped,
            "speedup": looped / batched,
            "identical": bool(np.array_equal(np.stack(alone), together.theta))}


# -- the backward pass against finite differences ---------------------------------------
def gradient_check(network: MLP, theta, X, y, coordinates, *, h: float = 1e-6) -> dict:
    """``loss_and_gradient``'s gradient against central differences
    ``(L(θ + h e_j) − L(θ − h e_j))/2h`` at the ``coordinates`` j of the first
    network in ``theta`` (shape (K, P)).  Returns both and the largest
    relative gap ``|g − fd| / max(|fd|, 1e-3)`` (``worst``)."""
    network.layers(theta)                                         # checks the shape (K, P)
    theta = np.array(theta[:1], dtype=float)
    coordinates = np.asarray(coordinates)
    if coordinates.ndim != 1 or coordinates.dtype.kind not in "iu" or coordinates.size == 0:
        raise ValueError(f"coordinates must be a non-empty 1-D array of indices, got {coordinates!r:.60}")
    if coordinates.min() < 0 or coordinates.max() >= network.size:
        raise ValueError(f"coordinates must lie in [0, {network.size}), got {coordinates!r:.60}")
    h = check.positive_number("h", h)
    analytic = network.loss_and_gradient(theta, X, y)[1][0, coordinates]
    shifts = np.zeros((2 * coordinates.size, network.size))
    shifts[np.arange(coordinates.size), coordinates] = h          # rows: θ + h e_j, …
    shifts[coordinates.size + np.arange(coordinates.size), coordinates] = -h   # then θ − h e_j
    losses = network.loss(theta + shifts, X, y)                  # 2J networks at once
    numeric = (losses[:coordinates.size] - losses[coordinates.size:]) / (2 * h)
    worst = float(np.max(np.abs(analytic - numeric) / np.maximum(np.abs(numeric), 1e-3)))
    return {"analytic": analytic, "numeric": numeric, "worst": worst}


# -- inside Adam runs ------------------------------------------------------------------
#: Bins of ``|Δθ|/α`` for the histograms: 10^-6 … 10^1.5, 6 per decade.
STEP_BINS = 10.0 ** (np.arange(-36, 10) / 6)
#: The steps the chapter looks inside Adam at, and the seeds it uses there.
STAT_STEPS, STAT_SEEDS = (1, 10, 100, 1000), (0, 1)


def _step_statistics(step: np.ndarray, root: np.ndarray, eps: float) -> dict:
    """The summaries of ``adam_statistics`` for one set of coordinates: their
    steps ``|Δθ|/α`` and their ``√v̂``."""
    moved, seen = step[step > 0], root[root > 0]
    return {"zero": np.mean(step == 0), "above_one": np.mean(step > 1),
            "median": np.median(moved) if moved.size else np.nan, "largest": step.max(),
            "below_eps": np.mean(root < eps), "zero_v": np.mean(root == 0),
            "smallest_root": seen.min() if seen.size else np.nan}


#: The summaries ``adam_statistics`` gives per step and layer (see its docstring).
STAT_FIELDS = ("zero", "above_one", "median", "largest", "below_eps", "zero_v", "smallest_root")


def adam_statistics(lrs=(1e-3,), at=STAT_STEPS, *, data=None, hidden: int = HIDDEN,
                    batch_size: int = BATCH_SIZE, seeds=STAT_SEEDS, eps: float = 1e-8,
                    weight_decay: float = 0.0, bins=STEP_BINS) -> dict:
    """Adam runs, one per learning rate of ``lrs`` and seed (all at once, plain
    Adam unless ``weight_decay``, an L2 term), looked at after the steps ``at``.

    Returns ``{lr: stats}`` with, for each learning rate, ``stats = {"at",
    "bins", "layers": names, "bound", "counts", the summaries, "all"}``:
    ``bound`` (T,) the largest ``|Δθ_t|/α`` any gradient sequence allows
    (``per_parameter_steps.step_supremum``); ``counts`` (T, layers, bins − 1)
    histogram counts of ``|Δθ_t|/α`` over all seeds (counts outside the bins'
    range are left out); the summaries of ``STAT_FIELDS``, shape (T, layers);
    and ``all``, the same summaries over every coordinate, shape (T,).  The
    summaries, over all seeds: ``zero`` the fraction of coordinates that did
    not move, ``above_one`` the fraction that moved by more than α, ``median``
    the median ``|Δθ_t|/α`` of those that moved, ``largest`` the largest
    ``|Δθ_t|/α``, ``below_eps`` the fraction with ``√v̂_t < ε``, ``zero_v``
    the fraction with ``v̂_t = 0`` (no nonzero gradient yet) and
    ``smallest_root`` the smallest nonzero ``√v̂_t``."""
    at = sorted({check.step_count("at", t) for t in at})
    lrs = check.positive_vector("lrs", lrs)
    data = load_digits() if data is None else data
    seeds = np.array([check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()])
    network = MLP(hidden)
    row_seeds = np.tile(seeds, lrs.size)                    # row k: lr k // S, seed k % S
    column = np.repeat(lrs, seeds.size)[:, None]
    opt = Adam(lr=column, eps=eps, weight_decay=weight_decay)
    order = iter(batch_order(len(data.y_train), batch_size, at[-1], row_seeds))

    def gradient(theta):
        rows = next(order)
        return network.loss_and_gradient(theta, data.X_train[rows], data.y_train[rows])[1]

    theta, names = network.init(row_seeds), list(network.shapes)
    counts = np.zeros((lrs.size, len(at), len(names), len(bins) - 1), dtype=np.int64)
    layer_values = {f: np.zeros((lrs.size, len(at), len(names))) for f in STAT_FIELDS}
    all_values = {f: np.zeros((lrs.size, len(at))) for f in STAT_FIELDS}
    done = 0
    for i, t in enumerate(at):
        if t - 1 > done:                                    # up to the step before t
            theta = run(opt, gradient, theta, t - 1 - done).theta
        before = theta
        theta = run(opt, gradient, before, 1).theta         # step t itself
        done = t
        v_hat = opt.v / (1 - power(opt.beta2, t))           # bias-corrected v after step t
        step, root = np.abs(theta - before) / column, np.sqrt(v_hat)
        for r in range(lrs.size):
            rows = slice(r * seeds.size, (r + 1) * seeds.size)
            for f, value in _step_statistics(step[rows], root[rows], eps).items():
                all_values[f][r, i] = value
            steps, roots = network.layers(step[rows]), network.layers(root[rows])
            for j, name in enumerate(names):
                counts[r, i, j] = np.histogram(steps[name], bins=bins)[0]
                for f, value in _step_statistics(steps[name], roots[name], eps).items():
                    layer_values[f][r, i, j] = value
    bound = step_supremum(np.array(at), opt.beta1, opt.beta2)
    return {float(lr): {"at": np.array(at), "bins": np.asarray(bins), "layers": names,
                        "bound": bound, "counts": counts[r],
                        **{f: layer_values[f][r] for f in STAT_FIELDS},
                        "all": {f: all_values[f][r] for f in STAT_FIELDS}}
            for r, lr in enumerate(lrs.tolist())}
