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

``adam_statistics`` looks inside one Adam run: per layer, the distribution of
``|Δθ|/α`` and the fraction of coordinates where ``√v̂ < ε`` at chosen steps.
NumPy only; ``adamref.plots.adam_on_a_network`` draws the results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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
#: The run: minibatches of 32 from the 1000 training images, 300 steps (9.6
#: epochs), a 32-unit hidden layer; warmup over the first 10 % of the steps.
STEPS, BATCH_SIZE, HIDDEN, WARMUP_STEPS, EVERY = 300, 32, 32, 30, 30


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


#: The learning-rate grids: wide enough that every tuned value is bracketed.
LR_GRIDS = {"Momentum": one_three_grid(1e-3, 3.0), "Adam + L2": one_three_grid(1e-4, 0.3),
            "AdamW": one_three_grid(1e-4, 0.3)}


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
    checkpoints ``steps`` (C,), ``train_loss``, ``val_error`` and ``test_error``
    of shape (C, L, S) (NaN after a divergence); ``diverged`` (L, S)."""

    optimizer: str
    schedule: str
    lrs: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    train_loss: np.ndarray
    val_error: np.ndarray
    test_error: np.ndarray
    diverged: np.ndarray

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


def lr_sweep(optimizer: str, schedule: str = "constant", lrs=None, *, data=None,
             steps: int = STEPS, batch_size: int = BATCH_SIZE, hidden: int = HIDDEN,
             seeds=SEEDS, warmup_steps: int = WARMUP_STEPS, every: int = EVERY,
             weight_decay=None) -> LrSweep:
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
                   batch_seeds=row_seeds, every=every)
    grid = (len(result.steps), lrs.size, seeds.size)
    return LrSweep(optimizer, schedule, lrs, seeds, result.steps,
                   result.train_loss.reshape(grid), result.val_error.reshape(grid),
                   result.test_error.reshape(grid), result.diverged.reshape(grid[1:]))


def all_sweeps(**options) -> dict[tuple[str, str], LrSweep]:
    """``lr_sweep`` for every optimizer and schedule, keyed ``(optimizer, schedule)``
    (``options`` go to each sweep)."""
    data = options.pop("data", None) or load_digits()
    return {(name, schedule): lr_sweep(name, schedule, data=data, **options)
            for name in OPTIMIZERS for schedule in SCHEDULES}


def summary(sweeps: dict, factor: float = GOOD_FACTOR) -> list[dict]:
    """One row per sweep: the tuned learning rate (``best``, which raises
    ``UnbracketedOptimum`` if it is an edge of the grid), the good range
    (``range_text``, how many grid values, whether contiguous), the best mean
    validation error and the test error at the best learning rate (mean, and
    lowest and highest over the seeds)."""
    rows = []
    for (name, schedule), sweep in sweeps.items():
        tuned = sweep.tuned(factor)
        test = sweep.final_test_error(tuned.best_index)
        rows.append({"optimizer": name, "schedule": schedule, "best_lr": tuned.best,
                     "good_range": tuned.range_text(), "good_count": tuned.count,
                     "contiguous": tuned.contiguous, "val_error": tuned.best_score,
                     "test_error": float(test.mean()), "test_low": float(test.min()),
                     "test_high": float(test.max())})
    return rows


# -- inside one Adam run ---------------------------------------------------------------
#: Bins of |Δθ|/α for the histograms: 10^-6 … 10^1.5, 6 per decade.
STEP_BINS = 10.0 ** (np.arange(-36, 10) / 6)


def adam_statistics(lr: float = 1e-3, at=(1, 10, 100, 1000), *, data=None, hidden: int = HIDDEN,
                    batch_size: int = BATCH_SIZE, seeds=SEEDS, eps: float = 1e-8,
                    bins=STEP_BINS) -> dict:
    """One Adam run per seed (all at once), looked at after the steps ``at``.

    Returns ``{"at": at, "bins": bins, "layers": names, "counts": (T, layers,
    bins − 1) histogram counts of |Δθ_t|/α over all seeds, "zero": (T, layers)
    the fraction of coordinates that did not move (Δθ = 0), "below_eps": (T,
    layers) the fraction with √v̂_t < ε}``; counts outside the bins' range are
    left out (``zero`` and ``below_eps`` count every coordinate)."""
    at = sorted({check.step_count("at", t) for t in at})
    lr = check.positive_number("lr", lr)
    data = load_digits() if data is None else data
    seeds = np.array([check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()])
    network = MLP(hidden)
    opt = Adam(lr=lr, eps=eps)
    order = iter(batch_order(len(data.y_train), batch_size, at[-1], seeds))

    def gradient(theta):
        rows = next(order)
        return network.loss_and_gradient(theta, data.X_train[rows], data.y_train[rows])[1]

    theta, names = network.init(seeds), list(network.shapes)
    counts = np.zeros((len(at), len(names), len(bins) - 1), dtype=np.int64)
    zero, below = np.zeros((len(at), len(names))), np.zeros((len(at), len(names)))
    done = 0
    for i, t in enumerate(at):
        if t - 1 > done:                                    # up to the step before t
            theta = run(opt, gradient, theta, t - 1 - done).theta
        before = theta
        theta = run(opt, gradient, before, 1).theta         # step t itself
        done = t
        v_hat = opt.v / (1 - power(opt.beta2, t))           # bias-corrected v after step t
        steps = network.layers(np.abs(theta - before) / lr)
        below_eps = network.layers((np.sqrt(v_hat) < eps).astype(float))   # 1 where √v̂ < ε
        for j, name in enumerate(names):
            counts[i, j] = np.histogram(steps[name], bins=bins)[0]
            zero[i, j] = np.mean(steps[name] == 0)
            below[i, j] = np.mean(below_eps[name])
    return {"at": np.array(at), "bins": np.asarray(bins), "layers": names, "counts": counts,
            "zero": zero, "below_eps": below}
