"""The family (Part V, "Beyond Adam"): for each of Adam's variants, one small
experiment where it behaves differently from Adam.  Computations only.

- NAdam: a deterministic, rotated, ill-conditioned quadratic; steps to reach a
  target, each optimizer at its own tuned learning rate (``nadam_look_ahead``);
  torch's NAdam and two controls at one learning rate (``nadam_at``): its
  momentum schedule β1,t held at its first value β1/2 (ψ = 0) and at β1 (the
  look-ahead alone); ``stability_limit``, the largest effective step at which
  the update with v̂ held fixed still contracts.
- Yogi: what Adam and Yogi do with their steps when the gradient's scale
  shrinks or grows (``scale_changes``), and Reddi et al.'s counterexample,
  where Yogi converges like AMSGrad and Adam does not (``online_counterexample``).
- AdaBelief: a noisy quadratic at low and high gradient noise (``belief_vs_noise``).
- Lion: minibatch logistic regression; Lion's tuned learning rate against
  Adam's, beside Adam's measured step per α (``lion_learning_rates``).
- AdaMax: a noisy quadratic with rare large gradients (``rare_spikes``), and
  the steps after one spike (``spike_response``).
- Sign descent against Adam and SGD with momentum across batch sizes, on the
  digits network (``network_batches``, on 256 training images for 60 steps: the
  chapter's CPU budget), with another seed at the tuned learning rates
  (``losses_at``), and how close Adam's steps are to sign descent's
  (``sign_agreement``).
- The recorded fixtures of ``tests/optim/fixtures`` replayed against the
  framework trajectories (``replay_fixture``).
- The explorer: each variant's steps beside Adam's on four gradient streams
  (``gradient_streams``, ``stream_steps``).

Every tuned learning rate goes through ``adamref.problems.tune`` (which raises
``UnbracketedOptimum`` when the best value is an edge of its grid), on one grid
per experiment shared by the optimizers it compares (the batch-size experiment:
one grid per optimizer, each of the same size), with the same steps, the same
score and the same noise draws.  Grids are rounded to 12 significant digits
(``np.geomspace`` rounds differently on different CPUs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from adamref.lab import basis_and_conditioning as basis
from adamref.lab.non_convergence import average_regret, cyclic_gradients, reddi_beta2
from adamref.lab.per_parameter_steps import steps_along
from adamref.lab.sensitivity import random_rotation
from adamref.optim import validation as check
from adamref.optim.adam import Adam
from adamref.optim.adamax import AdaMax
from adamref.optim.family import AdaBelief, NAdam, Yogi
from adamref.optim.optimizer import restoring
from adamref.optim.schedules import inverse_sqrt
from adamref.optim.sign import Lion
from adamref.problems.datasets import gradient_oracle, make_logistic
from adamref.problems.digits import load_digits
from adamref.problems.mlp import MLP
from adamref.problems.objectives import Quadratic
from adamref.problems.registry import make_optimizer
from adamref.problems.runs import grid, run
from adamref.problems.training import batch_order, train
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
    ``condition_number`` (``basis_and_conditioning.log_spaced_curvatures``),
    eigenvectors rotated by ``sensitivity.random_rotation(dim, seed)``
    (``basis_and_conditioning.rotated_quadratic``: the Hessian by einsum, the same
    bits on every CPU), a standard normal start."""
    curvatures = basis.log_spaced_curvatures(condition_number, dim)
    objective = basis.rotated_quadratic(curvatures, random_rotation(curvatures.size, seed),
                                        name=f"rotated quadratic, κ = {condition_number:g}")
    theta0 = np.random.default_rng(check.seed("seed", seed)).standard_normal(curvatures.size)
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


#: The NAdam controls at one learning rate: torch's schedule, its first value
#: β1/2 at every step (ψ = 0: 0.96^0 = 1) and β1 at every step (look-ahead only).
NADAM_CONTROLS = {"Adam": ("Adam", {}), "NAdam": ("NAdam", {}),
                  "NAdam, β1,t = β1/2 (ψ = 0)": ("NAdam", {"momentum_decay": 0.0}),
                  "NAdam, look-ahead only": ("NAdam", {"momentum_decay": LOOK_AHEAD_ONLY})}


def stability_limit(beta1=0.9, momentum_weight=1.0):
    """The largest ``h = u·c`` for which NAdam's step with its effective step size
    ``u = α/(√v̂ + ε)`` held fixed, ``θ ← θ − u·[(1 − w)·g + w·m]`` with
    ``m ← β1·m + (1 − β1)·g`` and ``g = c·θ`` (one coordinate of curvature c; w the
    ``momentum_weight``, NAdam's β1,t held constant; bias corrections at their
    limit 1), contracts: ``2(1 + β1)/(1 + β1 − 2·w·β1)``.  ``w = 1`` is Adam,
    ``2(1 + β1)/(1 − β1)``.

    The recursion of ``(θ, u·m)`` has the matrix ``A = [[1 − (1 − wβ1)h, −wβ1],
    [(1 − β1)h, β1]]``, with ``p(z) = det(zI − A)``: ``p(1) = (1 − β1)h > 0``,
    ``p(−1) = 2(1 + β1) − h(1 + β1 − 2wβ1)`` and ``det A = β1(1 − (1 − w)h)``.  By
    Jury's test both roots lie inside the unit circle iff ``p(1) > 0``,
    ``p(−1) > 0`` and ``|det A| < 1``; the last holds whenever ``p(−1) > 0`` does
    (since β1 ≤ 1), so the limit is where a real root leaves through −1: an
    oscillation from step to step that grows."""
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    weight = check.hyperparameter("momentum_weight", momentum_weight, low=0.0, high=1.0)
    return 2 * (1 + beta1) / (1 + beta1 - 2 * weight * beta1)


def curves_at(optimizers, objective, theta0, lr, steps) -> dict:
    """``{label: excess loss at steps 0 … steps}`` of each of ``optimizers``
    (``{label: (registry name, options)}``) at one learning rate ``lr`` on the
    deterministic ``objective`` (NaN once a run diverged)."""
    optimizers = _entries(optimizers)
    lr = check.positive_number("lr", lr)
    steps = check.integer("steps", steps, low=1)
    theta0 = np.asarray(theta0, dtype=float)
    return {label: run(make_optimizer(name, lr, **options), objective.gradient, theta0, steps,
                       record=objective.excess_loss).history
            for label, (name, options) in optimizers.items()}


def nadam_at(lr=0.1, *, condition_number=100.0, dim=10, seed=0, steps=3000) -> dict:
    """``curves_at`` of ``NADAM_CONTROLS`` on the NAdam experiment's quadratic."""
    objective, theta0 = rotated_quadratic(condition_number, dim, seed)
    return curves_at(NADAM_CONTROLS, objective, theta0, lr, steps)


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
    ``(before + 1 + after,)``.  At the spike the spike enters AdaMax's ``u`` at
    full size and ``m`` at ``1 − β1`` of it, so AdaMax moves about ``(1 − β1)·α``;
    Adam's ``√v̂`` grows by less, and its step stays near α.  After it, AdaMax's
    ``u`` (the spike, decayed) falls by β2 per step, Adam's ``√v̂`` by about √β2,
    so AdaMax's steps stay small for longer."""
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


# -- sign descent and Adam across batch sizes, on the digits network -----------------------
#: The optimizers of the batch-size experiment: SGD with heavy-ball momentum μ = 0.9,
#: Adam (defaults) and signum (sign descent with momentum, β1 = 0.9).
BATCH_FAMILY = {"SGD, μ = 0.9": ("Momentum", {}), "Adam": ("Adam", {}),
                "Signum": ("Signum", {})}

#: Each optimizer's learning-rate grid (low, high): 3 values per decade over three
#: decades, 10 values each (the same tuning budget), placed so that each best
#: value is inside its grid at every batch size.
BATCH_GRIDS = {"SGD, μ = 0.9": (1e-2, 10.0), "Adam": (1e-3, 1.0), "Signum": (1e-4, 0.1)}

#: The run: the first ``N_TRAIN`` images of the digits' seeded split, the book's
#: 64 → 32 → 10 network, ``STEPS`` steps.  (The full 1000-image training set at
#: full batch costs about 10 s of CPU per optimizer for a 300-step sweep: more
#: than the chapter's whole budget.)
N_TRAIN, HIDDEN, STEPS = 256, 32, 60


def batch_data(n_train=N_TRAIN, seed=0):
    """The digits (``adamref.problems.digits.load_digits``) with ``n_train``
    training images and 100 validation and test images (the run records their
    error rates, the experiment uses only the training loss)."""
    return load_digits(n_train=check.integer("n_train", n_train, low=1), n_val=100,
                       n_test=100, seed=check.seed("seed", seed))


@dataclass(frozen=True)
class BatchSweep:
    """``tuned[batch size][label]``: ``Tuned`` over ``lrs[label]`` of the training
    loss after the run (the mean cross-entropy over all ``n_samples`` training
    images); ``None`` stands for the full batch."""

    lrs: dict
    batch_sizes: tuple
    n_samples: int
    steps: int
    tuned: dict

    def best_losses(self, label) -> np.ndarray:
        """The best training loss of ``label`` at each batch size."""
        return np.array([self.tuned[b][label].best_score for b in self.batch_sizes])

    def best_lrs(self) -> dict:
        """``{(batch size, label): best learning rate}`` (raises where a best value
        is an edge of its grid)."""
        return {(b, label): tuned.best for b, row in self.tuned.items()
                for label, tuned in row.items()}


def _batch_sizes(batch_sizes, n_samples):
    if not batch_sizes:
        raise ValueError("batch_sizes must hold at least one batch size, got none")
    for b in batch_sizes:
        if b is not None and check.integer("batch_sizes[...]", b, low=1) > n_samples:
            raise ValueError(f"batch_sizes must be at most the {n_samples} training "
                             f"images (or None: all of them), got {b}")
    return tuple(batch_sizes)


def _final_training_loss(network, data, optimizer, theta0, batch_size, steps, seed):
    """Each row's training loss after ``steps`` steps (inf where it diverged)."""
    n = len(data.y_train)
    result = train(network, data, optimizer, theta0, steps,
                   batch_size=n if batch_size is None else batch_size,
                   batch_seeds=seed, every=steps)
    return np.where(result.diverged, np.inf, result.train_loss[-1])


def network_batches(batch_sizes=(4, 16, 64, None), *, data=None, hidden=HIDDEN, steps=STEPS,
                    seed=0, optimizers=None, grids=None, factor=1.5) -> BatchSweep:
    """Each optimizer of ``optimizers`` (default ``BATCH_FAMILY``) trains the digits
    network (``MLP(hidden)``, initialization ``seed``) for ``steps`` steps at every
    batch size (``None``: all of ``data``'s training images), every learning rate
    of its grid (``grids``: ``{label: (low, high)}``, 3 per decade, default
    ``BATCH_GRIDS``) at once, one network per learning rate (``training.train``),
    all with the same minibatches (``seed``); each tuned on the training loss after
    the run, good within ``factor`` of the best."""
    optimizers = _entries(BATCH_FAMILY if optimizers is None else optimizers)
    grids = BATCH_GRIDS if grids is None else grids
    data = batch_data() if data is None else data
    n = len(data.y_train)
    batch_sizes = _batch_sizes(batch_sizes, n)
    steps = check.integer("steps", steps, low=1)
    network = MLP(hidden=check.integer("hidden", hidden, low=1), inputs=data.n_features,
                  classes=data.n_classes)
    start = network.init(check.seed("seed", seed))
    lrs = {label: lr_grid(*grids[label], 3) for label in optimizers}
    tuned = {}
    for batch_size in batch_sizes:
        tuned[batch_size] = {}
        for label, (name, options) in optimizers.items():
            column = lrs[label][:, None]                       # one network per lr
            losses = _final_training_loss(network, data, make_optimizer(name, column, **options),
                                          np.repeat(start, column.shape[0], axis=0),
                                          batch_size, steps, seed)
            tuned[batch_size][label] = tune(lrs[label], losses, factor=factor)
    return BatchSweep(lrs, batch_sizes, n, steps, tuned)


def losses_at(sweep, *, data=None, hidden=HIDDEN, seed=1, optimizers=None) -> dict:
    """The variation: ``{(batch size, label): training loss}`` with another
    initialization and other minibatches (``seed``), each optimizer at the
    learning rate ``sweep`` (a ``BatchSweep``) tuned for that batch size."""
    optimizers = _entries(BATCH_FAMILY if optimizers is None else optimizers)
    data = batch_data(sweep.n_samples) if data is None else data
    network = MLP(hidden=hidden, inputs=data.n_features, classes=data.n_classes)
    start = network.init(check.seed("seed", seed))
    out = {}
    for (batch_size, label), lr in sweep.best_lrs().items():
        name, options = optimizers[label]
        out[batch_size, label] = float(_final_training_loss(
            network, data, make_optimizer(name, lr, **options), start, batch_size,
            sweep.steps, seed)[0])
    return out


@dataclass(frozen=True)
class SignAgreement:
    """Adam's steps against sign descent's, per batch size: ``step`` the mean
    ``|Δθ_i|/α`` (1 for a sign step) and ``cosine`` the mean over steps of the
    cosine between ``Δθ`` and ``−α·sign(m)`` (1 when every coordinate moves by the
    same amount), both over the second half of the run and over the entries
    with ``m ≠ 0`` (a coordinate whose every gradient so far was 0, such as the
    weights of a pixel that is 0 in every image seen, has ``sign(m) = 0``)."""

    batch_sizes: tuple
    lrs: tuple
    step: np.ndarray
    cosine: np.ndarray


def step_statistics(moves, lr):
    """``(mean |Δθ_i|/α, mean cosine)`` of the steps ``moves`` (shape ``(T, P)``,
    ``Δθ`` of T steps) against sign steps: over the entries with ``Δθ_i ≠ 0``
    (for Adam: ``m_i ≠ 0``), and per step ``cos(Δθ, sign(Δθ)) = Σ|Δθ_i| /
    (‖Δθ‖·√(number of i with Δθ_i ≠ 0))``, averaged over the steps.  Both are 1
    exactly when every moving coordinate moves by α."""
    moves = check.float_array("moves", np.asarray(moves, dtype=float))
    lr = check.positive_number("lr", lr)
    moving = moves != 0
    if moves.ndim != 2 or not moving.any(axis=1).all():
        raise ValueError(f"moves must have shape (T, P) with some Δθ ≠ 0 at every step, "
                         f"got shape {moves.shape}")
    size = np.abs(moves)
    cosine = size.sum(axis=1) / (np.sqrt(moving.sum(axis=1)) * np.sqrt(np.sum(moves * moves,
                                                                               axis=1)))
    return float(size.sum() / moving.sum() / lr), float(cosine.mean())


def sign_agreement(sweep, *, data=None, hidden=HIDDEN, seed=0) -> SignAgreement:
    """Adam (defaults) at its tuned learning rate of ``sweep`` for each batch
    size, rerun alone (the same network and minibatches as in the sweep) with its
    iterates recorded.  ``Δθ = −α·m̂/(√v̂ + ε)`` has the sign of −m̂, so it is
    α·sign descent with momentum exactly where ``|m̂| = √v̂`` (ε aside)."""
    data = batch_data(sweep.n_samples) if data is None else data
    network = MLP(hidden=hidden, inputs=data.n_features, classes=data.n_classes)
    start = network.init(check.seed("seed", seed))
    steps, half = sweep.steps, sweep.steps // 2
    sizes, lrs, mean_step, cosine = [], [], [], []
    for batch_size in sweep.batch_sizes:
        lr = sweep.tuned[batch_size]["Adam"].best
        n = len(data.y_train)
        order = iter(batch_order(n, n if batch_size is None else batch_size, steps, seed))

        def gradient(theta, order=order):
            rows = next(order)                                 # this step's examples
            return network.loss_and_gradient(theta, data.X_train[rows], data.y_train[rows])[1]

        path = run(Adam(lr), gradient, start, steps, record=np.copy).history
        step, cos = step_statistics(np.diff(path[:, 0], axis=0)[half:], lr)
        sizes.append(batch_size)
        lrs.append(lr)
        mean_step.append(step)
        cosine.append(cos)
    return SignAgreement(tuple(sizes), tuple(lrs), np.array(mean_step), np.array(cosine))


# -- the recorded fixtures, replayed --------------------------------------------------------
#: The framework functions the family's fixtures were recorded from, and the
#: adamref class that must take the same steps.
RECORDED = {"torch.optim.NAdam": NAdam, "torch.optim.Adamax": AdaMax, "optax.yogi": Yogi,
            "optax.adabelief": AdaBelief, "optax.lion": Lion}

#: Where the fixtures live in the repository (``tests/optim/fixtures``).
FIXTURE_DIR = Path(__file__).resolve().parents[2] / "tests" / "optim" / "fixtures"

#: The frameworks' names for adamref's keywords (torch's ``betas`` is a pair).
_KEYWORDS = {"learning_rate": "lr", "b1": "beta1", "b2": "beta2"}


@dataclass(frozen=True)
class Replay:
    """One fixture replayed: the framework function, its keyword arguments, the
    versions it was recorded with, the steps, and the checked agreement."""

    name: str
    function: str
    kwargs: dict
    versions: str
    steps: int
    agreement: str


def replay_fixture(name, *, rtol=1e-12, ulps=64, directory=None) -> Replay:
    """Feed the adamref counterpart of fixture ``name`` (``tests/optim/fixtures/<name>.npz``)
    the gradients the framework received, step by step, and check every iterate
    against the framework's: within ``rtol`` relative, or ``ulps`` float64 ulps of
    the largest ``|θ|`` for entries near zero (the tolerance of
    ``tests/optim/test_reference_fixtures.py``, which replays the same fixtures
    with the gradient taken at adamref's own parameters).  Raises
    ``AssertionError`` naming the step if a gap is larger."""
    path = Path(FIXTURE_DIR if directory is None else directory) / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no fixture {name!r}: {path} does not exist (the fixtures "
                                f"are in the repository's tests/optim/fixtures)")
    with np.load(path, allow_pickle=False) as fixture:
        function = str(fixture["optimizer"])
        kwargs = json.loads(str(fixture["kwargs_json"]))
        theta, grads = fixture["theta0"].copy(), fixture["grads"]
        trajectory, versions = fixture["trajectory"], fixture["meta_versions"]
    if function not in RECORDED:
        raise ValueError(f"fixture {name!r} records {function}, not one of {list(RECORDED)}")
    keywords = {_KEYWORDS.get(k, k): v for k, v in kwargs.items() if k != "betas"}
    if "betas" in kwargs:
        keywords["beta1"], keywords["beta2"] = kwargs["betas"]
    optimizer = RECORDED[function](**keywords)
    spacing = ulps * float(np.finfo(np.float64).eps)
    for step, (grad, expected) in enumerate(zip(grads, trajectory), start=1):
        optimizer.step(theta, grad)
        allowed = np.maximum(rtol * np.abs(expected), spacing * np.max(np.abs(expected)))
        if np.any(np.abs(theta - expected) > allowed):
            raise AssertionError(f"{name}: θ differs from {function}'s at step {step} by "
                                 f"{np.max(np.abs(theta - expected)):.3g}")
    return Replay(name, function, kwargs, ", ".join(str(v) for v in versions.ravel()),
                  len(trajectory), f"within {rtol:g} relative (or {ulps} ulps of max|θ|) "
                                   f"at every one of {len(trajectory)} steps")


# -- the explorer: each variant's steps on four gradient streams ---------------------------
#: The variants the explorer offers, with Adam's ε = 1e-8 where theirs differs
#: (Yogi 1e-3, AdaBelief 1e-16) and Lion without decay: only their own line differs.
VARIANTS = {"NAdam": ("NAdam", {}), "AdaMax": ("AdaMax", {}),
            "Yogi": ("Yogi", {"eps": 1e-8}), "AdaBelief": ("AdaBelief", {"eps": 1e-8}),
            "Lion": ("Lion", {"weight_decay": 0.0}), "Signum": ("Signum", {})}

#: The gradient streams of the explorer: 1 for ``STREAM_SWITCH`` steps, then
#: something else until ``STREAM_STEPS``.
STREAM_STEPS, STREAM_SWITCH = 2000, 300
STREAMS = ("shrinks ×100", "grows ×100", "one spike ×100", "noisy, E[g] = 0.3, σ = 1")


@lru_cache(maxsize=1)
def gradient_streams() -> np.ndarray:
    """The explorer's four gradient streams as the columns of one array (shape
    ``(STREAM_STEPS, 4)``, in the order of ``STREAMS``): the constant gradient 1
    for ``STREAM_SWITCH`` steps, then 1/100, 100, 1 with one spike of 100 at the
    first step after the switch; the last is ``N(0.3, 1)`` throughout (seed 0)."""
    t = np.arange(STREAM_STEPS)
    after = t >= STREAM_SWITCH
    streams = np.ones((STREAM_STEPS, len(STREAMS)))
    streams[after, 0] = 0.01
    streams[after, 1] = 100.0
    streams[STREAM_SWITCH, 2] = 100.0
    streams[:, 3] = 0.3 + np.random.default_rng(0).standard_normal(STREAM_STEPS)
    streams.flags.writeable = False
    return streams


@lru_cache(maxsize=len(VARIANTS) + 1)
def stream_steps(label) -> np.ndarray:
    """``|Δθ_t|/α`` of ``label`` (``"Adam"`` or a key of ``VARIANTS``, at α = 1) on
    every stream of ``gradient_streams``: shape ``(STREAM_STEPS, 4)``.  Cached
    (the explorer asks for the same runs again and again)."""
    name, options = ("Adam", {}) if label == "Adam" else VARIANTS.get(label, (None, None))
    if name is None:
        raise ValueError(f"label must be 'Adam' or one of {list(VARIANTS)}, got {label!r}")
    steps = np.abs(steps_along(make_optimizer(name, 1.0, **options), gradient_streams()))
    steps.flags.writeable = False
    return steps
