"""The family (Part V, "Beyond Adam"): for each of Adam's variants, one small
experiment where it behaves differently from Adam.  Computations only.

- NAdam: a deterministic, rotated, ill-conditioned quadratic; steps to reach a
  target, each optimizer at its own tuned learning rate; torch's NAdam and its
  look-ahead alone (``momentum_decay`` so large that μ_t = β1 at every step).
- Yogi: what Adam and Yogi do with their steps when the gradient's scale
  shrinks or grows (``scale_changes``), and Reddi et al.'s counterexample,
  where Yogi converges like AMSGrad and Adam does not (``online_counterexample``).
- AdaBelief: a noisy quadratic at low and high gradient noise (``belief_vs_noise``).
- Lion: minibatch logistic regression; Lion's tuned learning rate against
  Adam's, beside Adam's measured step per α (``lion_learning_rates``).
- AdaMax: a noisy quadratic with rare large gradients (``rare_spikes``), and
  the steps after one spike (``spike_response``).
- Sign descent against Adam across batch sizes (``sign_descent_batches``), on
  any model with ``loss_and_gradient(params, batch)`` (``dataset_model`` wraps
  a dataset problem of ``adamref.problems`` in that interface).

Every tuned learning rate goes through ``adamref.problems.tune`` (which raises
``UnbracketedOptimum`` when the best value is an edge of its grid), on one grid
per experiment shared by the optimizers it compares, with the same steps, the
same score and the same noise draws.  Grids are rounded to 12 significant
digits (``np.geomspace`` rounds differently on different CPUs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.lab.non_convergence import average_regret, cyclic_gradients, reddi_beta2
from adamref.lab.per_parameter_steps import steps_along
from adamref.lab.sensitivity import random_rotation
from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.optim.adamax import AdaMax
from adamref.optim.family import NAdam, Yogi
from adamref.optim.optimizer import restoring
from adamref.optim.schedules import inverse_sqrt
from adamref.problems.datasets import (LeastSquares, LogisticRegression, gradient_oracle,
                                      make_logistic)
from adamref.problems.objectives import Quadratic
from adamref.problems.registry import make_optimizer
from adamref.problems.runs import grid, run
from adamref.problems.tuning import Tuned, tune
from adamref.roundoff import round_significant


def lr_grid(low, high, per_decade=4) -> np.ndarray:
    """Log-spaced learning rates from ``low`` to ``high``, ``per_decade`` per
    decade, rounded to 12 significant digits (the same on every CPU)."""
    low, high = check.positive_number("low", low), check.positive_number("high", high)
    if high <= low:
        raise ValueError(f"high must be > low, got low={low!r}, high={high!r}")
    per_decade = check.integer("per_decade", per_decade, low=1)
    count = int(round(np.log10(high / low) * per_decade)) + 1
    return round_significant(np.geomspace(low, high, count), 12)


def _lrs(lrs) -> np.ndarray:
    lrs = np.asarray(check.hyperparameter("lrs", lrs, low=0.0), dtype=float)
    if lrs.ndim != 1 or lrs.size < 3 or np.any(np.diff(lrs) <= 0):
        raise ValueError(f"lrs must be an increasing 1-D grid of at least 3 values, got {lrs!r}")
    return lrs


#: An optimizer of a comparison: its registry name and its options.
Entry = tuple


def _entries(optimizers) -> dict:
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError(f"optimizers must be a non-empty dict {{label: (name, options)}}, "
                        f"got {optimizers!r:.80}")
    for label, entry in optimizers.items():
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], dict)):
            raise TypeError(f"optimizers[{label!r}] must be (registry name, options), "
                            f"got {entry!r:.80}")
    return optimizers


def _tail_start(steps, tail):
    return int(np.floor((1 - tail) * steps)) + 1


# -- the common run: K learning rates × repeats in one broadcast run ----------------------
@dataclass(frozen=True)
class Tuning:
    """One optimizer tuned on a grid: ``tuned`` (``Tuned``; ``.best`` raises at an
    edge), ``steps`` and ``losses``, the excess loss recorded every ``every``
    steps, shape ``(len(steps), len(lrs), repeats)``, and the mean ``|Δθ|/α``
    per coordinate over the last ``tail`` of the steps, shape ``(len(lrs),)``
    (the size of the steps per unit of learning rate: exactly 1 for sign methods)."""

    tuned: Tuned
    steps: np.ndarray
    losses: np.ndarray
    step_per_lr: np.ndarray

    @property
    def best_curve(self) -> np.ndarray:
        """The mean excess loss over the repeats at the best learning rate."""
        return self.losses[:, self.tuned.best_index].mean(axis=-1)

    @property
    def best_step_per_lr(self) -> float:
        return float(self.step_per_lr[self.tuned.best_index])


def tune_on(optimizers, objective, theta0, lrs, steps, *, oracle=None, repeats=1, tail=0.25,
            every=1, factor=10.0, floor=0.0) -> dict:
    """``{label: Tuning}``: each of ``optimizers`` (``{label: (registry name,
    options)}``) on ``objective`` from ``theta0``, for every learning rate of
    ``lrs`` and ``repeats`` noise draws at once (rows ``lr index · repeats +
    repeat``).  ``oracle(seed)`` makes the gradient function; every optimizer
    gets ``oracle(0)``, so all see the same noise stream (default: the exact
    gradient).  The excess loss is recorded every ``every`` steps; the score of
    a learning rate is its mean over the recorded steps in the last ``tail`` of
    the run and over the repeats (``inf`` if a run diverged under ``run``'s
    policy); ``tune(lrs, scores, factor, floor)``."""
    optimizers = _entries(optimizers)
    lrs = _lrs(lrs)
    repeats = check.integer("repeats", repeats, low=1)
    steps = check.integer("steps", steps, low=1)
    every = check.integer("every", every, low=1)
    tail = check.hyperparameter("tail", tail, low=0.0, high=1.0)
    first = _tail_start(steps, tail)
    recorded = np.arange(0, steps + 1, every)
    if tail == 0 or not np.any(recorded >= first):
        raise ValueError(f"tail must cover a recorded step, got tail={tail!r}, every={every}")
    _, columns = grid(lr=lrs, repeat=np.arange(repeats))
    rows = columns["lr"]
    theta0 = np.tile(np.asarray(theta0, dtype=float), (rows.shape[0], 1))
    out = {}
    for label, (name, options) in optimizers.items():
        gradient = objective.gradient if oracle is None else oracle(0)
        losses, moved, diverged = _record_run(make_optimizer(name, rows, **options), gradient,
                                              objective, theta0, steps, first, every)
        in_tail = recorded >= first
        scores = np.where(diverged, np.inf, losses[in_tail].mean(axis=0))
        out[label] = Tuning(tune(lrs, scores.reshape(lrs.size, repeats).mean(1), factor=factor,
                                 floor=floor),
                            recorded, losses.reshape(recorded.size, lrs.size, repeats),
                            moved.reshape(lrs.size, repeats).mean(1) / lrs)
    return out


def _record_run(optimizer, gradient, objective, theta0, steps, first, every):
    """One ``run`` in two parts: up to step ``first − 1`` recording the excess loss
    every ``every`` steps, then the tail recording every iterate.  Returns the
    losses at steps ``0, every, …``, the mean ``|Δθ|`` per coordinate and step
    over the tail, per row, and which rows diverged (the oracle is called once
    per step, in order, as by a single run)."""
    head = run(optimizer, gradient, theta0, first - 1, record=objective.excess_loss,
               every=every)
    rest = run(optimizer, gradient, head.theta, steps - first + 1, record=np.copy)
    path = rest.history                                    # θ_{first−1}, …, θ_steps
    moved = np.abs(np.diff(path, axis=0)).mean(axis=(0, -1))
    at = np.arange(first - 1, steps + 1)
    with np.errstate(invalid="ignore"):                    # NaN rows diverged
        tail_losses = objective.excess_loss(path[at % every == 0])
    losses = np.concatenate([head.history, tail_losses[1:] if (first - 1) % every == 0
                             else tail_losses])
    return losses, moved, head.diverged | rest.diverged


# -- NAdam: the look-ahead on an ill-conditioned quadratic -------------------------------
#: NAdam with ψ so large that 0.96^(tψ) = 0 and μ_t = β1 at every step: Dozat's
#: look-ahead without torch's momentum schedule.
LOOK_AHEAD_ONLY = 1e3

#: The NAdam comparison: Adam, torch's NAdam, its look-ahead alone, and a
#: control: Adam with less momentum.
NADAM_FAMILY = {"Adam": ("Adam", {}), "NAdam": ("NAdam", {}),
                "NAdam, look-ahead only": ("NAdam", {"momentum_decay": LOOK_AHEAD_ONLY}),
                "Adam, β1 = 0.5": ("Adam", {"beta1": 0.5})}


def rotated_quadratic(condition_number=100.0, dim=10, seed=0):
    """``(Quadratic, theta0)``: curvatures log-spaced from 1 to
    ``condition_number`` (rounded to 12 digits), eigenvectors rotated by
    ``sensitivity.random_rotation(dim, seed)``, a standard normal start."""
    condition_number = check.positive_number("condition_number", condition_number)
    dim = check.integer("dim", dim, low=2)
    curvatures = round_significant(np.geomspace(1.0, condition_number, dim), 12)
    objective = Quadratic(curvatures, rotation=random_rotation(dim, seed),
                          name=f"rotated quadratic, κ = {condition_number:g}")
    theta0 = np.random.default_rng(check.seed("seed", seed)).standard_normal(dim)
    return objective, theta0


@dataclass(frozen=True)
class StepsToTarget:
    """Steps to reach ``target`` times the initial excess loss, per optimizer:
    ``tuned`` (``Tuned`` over ``lrs``, scores in steps, ``inf`` if never; good =
    within ``factor`` of the fewest), and the loss curves at each best lr."""

    lrs: np.ndarray
    target: float
    tuned: dict
    curves: dict


def steps_to_target(optimizers, objective, theta0, lrs, steps, *, target=1e-8,
                    factor=2.0) -> StepsToTarget:
    """Each optimizer of ``optimizers`` (``{label: (registry name, options)}``)
    on the deterministic ``objective`` for every learning rate of ``lrs`` in
    one broadcast run; the score of a learning rate is the first step at which
    the excess loss is at most ``target`` times the initial one."""
    optimizers = _entries(optimizers)
    lrs = _lrs(lrs)
    steps = check.integer("steps", steps, low=1)
    target = check.positive_number("target", target)
    theta0 = np.asarray(theta0, dtype=float)
    goal = target * float(objective.excess_loss(theta0))
    tuned, curves = {}, {}
    for label, (name, options) in optimizers.items():
        result = run(make_optimizer(name, lrs[:, None], **options), objective.gradient,
                     np.tile(theta0, (lrs.size, 1)), steps, record=objective.excess_loss)
        with np.errstate(invalid="ignore"):          # NaN rows diverged
            reached = result.history <= goal
        first = reached.argmax(axis=0)               # not tuning: the first step at the target
        scores = np.where(reached.any(axis=0), first, np.inf).astype(float)
        tuned[label] = tune(lrs, scores, factor=factor)
        curves[label] = result.history[:, tuned[label].best_index]
    return StepsToTarget(lrs, target, tuned, curves)


def nadam_look_ahead(condition_number=100.0, *, dim=10, seed=0, steps=3000, lrs=None,
                     target=1e-8) -> StepsToTarget:
    """``steps_to_target`` of ``NADAM_FAMILY`` on ``rotated_quadratic``."""
    objective, theta0 = rotated_quadratic(condition_number, dim, seed)
    lrs = lr_grid(3e-3, 30.0, 6) if lrs is None else lrs
    return steps_to_target(NADAM_FAMILY, objective, theta0, lrs, steps, target=target)


def nadam_momentum_schedule(steps=20000, **nadam_options) -> np.ndarray:
    """torch's μ_t = β1·(1 − ½·0.96^(tψ)) for t = 1, …, ``steps``: the weight
    NAdam gives the momentum (Adam's is β1 at every step)."""
    steps = check.integer("steps", steps, low=1)
    return NAdam(**nadam_options).momentum_schedule(np.arange(1, steps + 1))[0]


# -- Yogi: the step when the gradient's scale changes -----------------------------------
def scale_changes(before=300, after=5000, factor=100.0, *, beta2=0.999, eps=1e-8) -> dict:
    """``|Δθ_t|/α`` of Adam and Yogi (the same β1 = 0.9, β2 and ε) on a constant
    gradient whose scale changes once: 1 for ``before`` steps, then ``1/factor``
    (it shrinks) or ``factor`` (it grows) for ``after`` steps.  Returns
    ``{"shrinks": {"Adam": steps, "Yogi": steps}, "grows": {...}}``, each of shape
    ``(before + after,)``; one run per optimizer, the two streams as two columns.
    Adam's v forgets the old scale geometrically (by β2 per step); Yogi's moves
    by at most ``(1 − β2)·g²`` per step towards g²."""
    factor = check.positive_number("factor", factor)
    before = check.integer("before", before, low=1)
    after = check.integer("after", after, low=1)
    grads = np.stack([np.concatenate([np.ones(before), np.full(after, 1 / factor)]),
                      np.concatenate([np.ones(before), np.full(after, factor)])], axis=1)
    steps = {"Adam": np.abs(steps_along(Adam(1.0, 0.9, beta2, eps), grads)),
             "Yogi": np.abs(steps_along(Yogi(1.0, 0.9, beta2, eps), grads))}
    return {"shrinks": {k: v[:, 0] for k, v in steps.items()},
            "grows": {k: v[:, 1] for k, v in steps.items()}}


@dataclass(frozen=True)
class OnlineResult:
    """Adam, AMSGrad and Yogi on Reddi et al.'s Theorem 1 problem: per label the
    iterates ``theta`` (shape ``(steps + 1, len(lrs))``) and the average regret
    ``R_t/t`` (shape ``(steps, len(lrs))``)."""

    C: float
    beta2: float
    lrs: np.ndarray
    theta: dict
    regret: dict


def online_counterexample(C=3.0, lrs=(0.01, 0.03, 0.1, 0.3, 1.0), steps=3000) -> OnlineResult:
    """β1 = 0, β2 = 1/(1 + C²), step α/√t, ε = 1e-8 for all three, projection
    onto [−1, 1]: the gradient is C at every third step and −1 otherwise, so the
    best point is −1.  Every α of ``lrs`` runs at once."""
    beta2 = reddi_beta2(C)
    lrs = np.asarray(check.hyperparameter("lrs", lrs, low=0.0), dtype=float)
    grads = cyclic_gradients(steps, large=C, small=-1.0, period=3)
    rate = inverse_sqrt(lrs[:, None])
    makers = {"Adam": lambda: Adam(rate, 0.0, beta2, 1e-8),
              "AMSGrad": lambda: Adam(rate, 0.0, beta2, 1e-8, amsgrad=True),
              "Yogi": lambda: Yogi(rate, 0.0, beta2, 1e-8)}
    theta, regret = {}, {}
    for label, make in makers.items():
        theta[label] = projected_run(make(), grads, lrs.size)
        regret[label] = average_regret(theta[label], grads)
    return OnlineResult(float(C), float(beta2), lrs, theta, regret)


def projected_run(optimizer, grads, configurations, low=-1.0, high=1.0) -> np.ndarray:
    """The iterates of ``optimizer`` (array hyperparameters of shape ``(K, 1)``)
    on the gradient sequence ``grads`` (shape ``(T,)``, the same for every
    configuration), each step followed by the projection onto ``[low, high]``;
    shape ``(T + 1, K)``, from 0."""
    grads = check.float_array("grads", np.asarray(grads, dtype=float))
    x = np.zeros((check.integer("configurations", configurations, low=1), 1))
    path = np.empty((grads.size + 1, x.shape[0]))
    path[0] = x[:, 0]
    with restoring(optimizer, x):
        for t, g in enumerate(grads, start=1):
            optimizer.step(x, np.full_like(x, g))
            np.clip(x, low, high, out=x)                          # Π onto [low, high]
            path[t] = x[:, 0]
    return path


# -- AdaBelief: low and high gradient noise -----------------------------------------------
def axis_quadratic(condition_number=100.0, dim=10, seed=0):
    """``rotated_quadratic`` without the rotation: the curvatures on the axes."""
    condition_number = check.positive_number("condition_number", condition_number)
    dim = check.integer("dim", dim, low=2)
    curvatures = round_significant(np.geomspace(1.0, condition_number, dim), 12)
    theta0 = np.random.default_rng(check.seed("seed", seed)).standard_normal(dim)
    return Quadratic(curvatures, name=f"quadratic, κ = {condition_number:g}"), theta0


def noisy_oracle(objective, noise, *, spike_probability=0.0, spike_size=0.0):
    """``oracle(seed)`` for ``tune_on``: the exact gradient plus ``noise·N(0, 1)``
    per coordinate and, with probability ``spike_probability`` per coordinate
    and step, a spike ``spike_size·N(0, 1)``; one ``default_rng(seed)``."""
    noise = check.hyperparameter("noise", noise, low=0.0)
    probability = check.hyperparameter("spike_probability", spike_probability, low=0.0,
                                       high=1.0)
    size = check.hyperparameter("spike_size", spike_size, low=0.0)

    def oracle(seed):
        rng = np.random.default_rng(check.seed("seed", seed))

        def gradient(theta):
            grad = objective.gradient(theta)
            grad = grad + noise * rng.standard_normal(grad.shape)
            if probability:
                spikes = rng.random(grad.shape) < probability
                grad = grad + np.where(spikes, size * rng.standard_normal(grad.shape), 0.0)
            return grad
        return gradient
    return oracle


#: Adam and AdaBelief with Adam's ε (AdaBelief's own 1e-16 plays no role at
#: these gradient scales; eps_root keeps Optax's 1e-16).
BELIEF_FAMILY = {"Adam": ("Adam", {}), "AdaBelief": ("AdaBelief", {"eps": 1e-8})}


def belief_vs_noise(noises=(0.01, 1.0), *, rotated=False, steps=500, repeats=4, lrs=None,
                    seed=0) -> dict:
    """``{noise: {label: Tuning}}``: Adam and AdaBelief tuned on the (axis-aligned
    or rotated) κ = 100 quadratic with gradient noise σ = each of ``noises``."""
    objective, theta0 = (rotated_quadratic if rotated else axis_quadratic)(100.0, 10, seed)
    lrs = lr_grid(1e-4, 1.0, 6) if lrs is None else lrs
    return {float(noise): tune_on(BELIEF_FAMILY, objective, theta0, lrs, steps,
                                  oracle=noisy_oracle(objective, noise), repeats=repeats)
            for noise in noises}


# -- AdaMax: rare large gradients ---------------------------------------------------------
ADAMAX_FAMILY = {"Adam": ("Adam", {}), "AdaMax": ("AdaMax", {})}


def rare_spikes(spikes=((0.0, 0.0), (1e-3, 100.0)), *, noise=0.1, steps=1000, repeats=8,
                lrs=None, seed=0) -> dict:
    """``{(probability, size): {label: Tuning}}``: Adam and AdaMax tuned on the
    axis-aligned κ = 100 quadratic with noise σ = ``noise`` and spikes of
    ``size·N(0, 1)`` with the given probability per coordinate and step."""
    objective, theta0 = axis_quadratic(100.0, 10, seed)
    lrs = lr_grid(1e-4, 3.0, 6) if lrs is None else lrs
    return {(float(p), float(size)): tune_on(
                ADAMAX_FAMILY, objective, theta0, lrs, steps, repeats=repeats,
                oracle=noisy_oracle(objective, noise, spike_probability=p, spike_size=size))
            for p, size in spikes}


def spike_response(spike=100.0, before=100, after=3000) -> dict:
    """``|Δθ_t|/α`` of Adam and AdaMax (defaults, α = 1) on the gradient 1 with
    one spike of ``spike`` at step ``before + 1``: ``{label: steps}``, shape
    ``(before + 1 + after,)``.  At the spike AdaMax moves at most α (|m| ≤ u)
    where Adam's step reaches ~(1 − β1)/√(1 − β2) ≈ 3.16α; after it, AdaMax's
    u = |spike| decays by β2 per step, Adam's √v by √β2."""
    spike = check.positive_number("spike", spike)
    before = check.integer("before", before, low=1)
    after = check.integer("after", after, low=1)
    grads = np.ones(before + 1 + after)
    grads[before] = spike
    return {"Adam": np.abs(steps_along(Adam(1.0), grads)),
            "AdaMax": np.abs(steps_along(AdaMax(1.0), grads))}


# -- Lion: its learning rate against Adam's --------------------------------------------------
class TrainingLoss:
    """A dataset problem scored by its training loss: ``gradient`` from an
    oracle, ``excess_loss`` = ``loss`` (the minimum is not subtracted: scores
    are compared with ``tune``'s ``factor`` close to 1)."""

    def __init__(self, problem):
        if not (hasattr(problem, "loss") and hasattr(problem, "gradient")):
            raise TypeError(f"problem must have loss() and gradient(), got {problem!r:.60}")
        self.problem = problem
        self.gradient = problem.gradient

    def excess_loss(self, theta):
        return self.problem.loss(theta)


#: Lion without weight decay, to compare with Adam without it.
LION_FAMILY = {"Adam": ("Adam", {}), "Lion": ("Lion", {"weight_decay": 0.0})}


def lion_problem():
    """The logistic regression of the Lion experiment: 500 samples, 20 features
    scaled from 0.1 to 3, 10% label noise, seed 3."""
    return make_logistic(500, 20, feature_scales=(0.1, 3.0), seed=3)


def lion_learning_rates(batch_sizes=(4, 32), *, steps=1000, repeats=4, lrs=None,
                        factor=1.01, every=50) -> dict:
    """``{batch size: {label: Tuning}}``: Adam and Lion (no decay) tuned on
    ``lion_problem`` with minibatch gradients; a learning rate is good within
    ``factor`` of the best training loss.  ``Tuning.best_step_per_lr`` of Adam
    is its mean ``|Δθ|/α`` at its best lr: Lion's is 1, so the ratio of their
    best learning rates should be about its inverse."""
    problem = lion_problem()
    objective = TrainingLoss(problem)
    lrs = lr_grid(1e-5, 1.0, 5) if lrs is None else lrs
    theta0 = np.zeros(problem.n_features)
    out = {}
    for batch_size in batch_sizes:
        def oracle(seed, batch_size=batch_size):
            return gradient_oracle(problem, batch_size=batch_size, seed=seed)
        out[int(batch_size)] = tune_on(LION_FAMILY, objective, theta0, lrs, steps,
                                       oracle=oracle, repeats=repeats, factor=factor,
                                       every=every)
    return out


# -- sign descent against Adam across batch sizes --------------------------------------------
class DatasetModel:
    """A dataset problem of ``adamref.problems`` (``LeastSquares``,
    ``LogisticRegression``) behind the interface of ``sign_descent_batches``:
    ``n_samples``, ``initial_params()`` (zeros), and
    ``loss_and_gradient(params, batch)`` → (the mean loss over the samples
    ``batch``, an integer index array, and its gradient)."""

    def __init__(self, problem):
        if type(problem) not in _SAMPLE_LOSSES or problem.X.ndim != 2:
            raise TypeError("problem must be a LeastSquares or LogisticRegression with one "
                            f"data set, got {problem!r:.60}")
        self.problem = problem
        self.n_samples = problem.n_samples

    def initial_params(self) -> np.ndarray:
        return np.zeros(self.problem.n_features)

    def loss_and_gradient(self, params, batch):
        batch = np.asarray(batch)
        z = np.einsum("bd,d->b", self.problem.X[batch], params)       # x_iᵀθ on the batch
        losses = _SAMPLE_LOSSES[type(self.problem)](z, self.problem.y[batch])
        return float(np.mean(losses)), self.problem.gradient(params, batch)


#: The loss of each sample from its score z = xᵀθ, per kind of dataset problem.
_SAMPLE_LOSSES = {LeastSquares: lambda z, y: 0.5 * (z - y) ** 2,
                  LogisticRegression: lambda z, y: np.logaddexp(0.0, z) - y * z}


def dataset_model(problem) -> DatasetModel:
    """``problem`` in the ``loss_and_gradient(params, batch)`` interface."""
    return DatasetModel(problem)


#: Adam, sign descent with momentum (signum) and without, as the batch-size
#: experiment compares them.
SIGN_FAMILY = {"Adam": ("Adam", {}), "Signum": ("Signum", {}), "SignSGD": ("SignSGD", {})}


def _copy_tree(params):
    if isinstance(params, np.ndarray):
        return params.copy()
    if isinstance(params, dict):
        return {k: _copy_tree(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [_copy_tree(v) for v in params]
    raise TypeError(f"params must be an ndarray or a list/dict of them, got {type(params).__name__}")


def train_loss(model, optimizer, batch_size, steps, *, seed=0, evaluations=5, limit=1e6):
    """Train ``model`` from ``model.initial_params()`` with ``optimizer`` for
    ``steps`` minibatch steps (``batch_size`` sample indices drawn uniformly,
    with replacement, from ``default_rng(seed)`` at each step; ``None``: all
    samples) and return
    the full-data loss averaged over ``evaluations`` points evenly spread over
    the last fifth of the run (``inf`` if the loss leaves ``limit`` or is not
    finite)."""
    steps = check.integer("steps", steps, low=1)
    n = model.n_samples
    rng = np.random.default_rng(check.seed("seed", seed))
    everything = np.arange(n)
    at = set(np.linspace(steps - steps // 5, steps, check.integer(
        "evaluations", evaluations, low=1)).round().astype(int).tolist())
    params, losses = _copy_tree(model.initial_params()), []
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            batch = everything if batch_size is None else rng.integers(0, n, batch_size)
            _, grads = model.loss_and_gradient(params, batch)
            optimizer.step(params, grads)
            if t in at:
                loss, _ = model.loss_and_gradient(params, everything)
                if not np.isfinite(loss) or abs(loss) > limit:
                    return np.inf
                losses.append(loss)
    return float(np.mean(losses))


@dataclass(frozen=True)
class BatchSweep:
    """``tuned[batch size][label]``: ``Tuned`` over ``lrs`` of the training loss
    (``train_loss``); ``None`` stands for the full batch."""

    lrs: np.ndarray
    batch_sizes: tuple
    tuned: dict

    def best_losses(self, label) -> np.ndarray:
        """The best training loss of ``label`` at each batch size."""
        return np.array([self.tuned[b][label].best_score for b in self.batch_sizes])


def sign_descent_batches(model, batch_sizes=(8, 64, None), *, lrs=None, steps=300, seed=0,
                         optimizers=None, factor=1.01) -> BatchSweep:
    """Adam and sign descent (``SIGN_FAMILY`` by default) on ``model`` (an object
    with ``n_samples``, ``initial_params()`` and ``loss_and_gradient(params,
    batch)``), each tuned over ``lrs`` at every batch size, with the same steps,
    the same batches (``seed``) and the same score (``train_loss``); good
    learning rates are within ``factor`` of the best loss.  One run per
    (optimizer, batch size, learning rate), so any model works, vectorized or not."""
    optimizers = _entries(SIGN_FAMILY if optimizers is None else optimizers)
    lrs = _lrs(lr_grid(1e-3, 1.0, 3) if lrs is None else lrs)
    for b in batch_sizes:
        if b is not None:
            check.integer("batch_sizes[...]", b, low=1)
    tuned = {}
    for batch_size in batch_sizes:
        tuned[batch_size] = {}
        for label, (name, options) in optimizers.items():
            scores = [train_loss(model, make_optimizer(name, float(lr), **options), batch_size,
                                 steps, seed=seed) for lr in lrs]
            tuned[batch_size][label] = tune(lrs, scores, factor=factor)
    return BatchSweep(lrs, tuple(batch_sizes), tuned)
