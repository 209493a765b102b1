"""Schedules and warmup: learning-rate schedules as functions of t, RAdam's
variance argument for warmup, Ma & Yarats' untuned warmup rule, and whether
warmup helps Adam on the digits MLP.

- ``schedule_table``: the values of ``adamref.optim.schedules`` at chosen steps.
- RAdam (Liu et al., 2020): ``rho_table`` (ρ_t and r_t from
  ``adamref.optim.radam``) and ``adaptive_variance_mc``, a seeded Monte-Carlo
  estimate of ``Var[ψ_t]``, ψ_t = √((1 − β2^t)/v_t), for Gaussian gradients,
  against the scaled inverse-χ formula with ρ_t degrees of freedom
  (``variance_comparison``).
- Ma & Yarats (2021): linear warmup over ``2/(1 − β2)`` steps
  (``untuned_warmup_steps``), beside RAdam's r_t and the exponential form
  1 − e^{−(1 − β2)t} (``warmup_factors``).
- ``warmup_sweep``: Adam with a constant learning rate, Adam with the untuned
  linear warmup, and RAdam, over a learning-rate grid and three seeds on the
  digits (each one K-network run), with a checkpoint half-way (the same runs
  stopped after half the steps: a run half as long, since neither schedule
  depends on the run's length), tuned with ``adamref.problems.tune``;
  ``warmup_effect`` says at which learning rates warmup lowered the
  validation error in every seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.lab.adam_on_a_network import GOOD_FACTOR, one_three_grid
from adamref.optim import Adam, RAdam, schedules
from adamref.optim import validation as check
from adamref.optim.optimizer import power_table
from adamref.optim.radam import (RHO_THRESHOLD, adaptive_variance, adaptive_variance_approx,
                                 rectification, rho, rho_inf)
from adamref.problems.digits import load_digits
from adamref.problems.mlp import MLP, portable_exp
from adamref.problems.training import train
from adamref.problems.tuning import tune


# -- schedules ---------------------------------------------------------------------------
def schedule_table(t, lr=0.1, *, warmup_steps=30, total_steps=300, final_lr=0.0) -> dict:
    """The learning rate at the steps ``t`` (integers >= 1) of every schedule of
    ``adamref.optim.schedules``: ``constant``, ``inverse_sqrt``, ``linear_warmup``
    (over ``warmup_steps``), ``cosine_decay`` (over ``total_steps``) and
    ``warmup_cosine`` (warmup, then cosine over the remaining steps);
    ``{name: array like t}``."""
    t = check.step_counts("t", t)
    if check.integer("warmup_steps", warmup_steps, low=1) >= check.integer(
            "total_steps", total_steps, low=2):
        raise ValueError(f"warmup_steps must be < total_steps, got {warmup_steps} "
                         f">= {total_steps}")
    made = {"constant": schedules.constant(lr), "inverse_sqrt": schedules.inverse_sqrt(lr),
            "linear_warmup": schedules.linear_warmup(lr, warmup_steps),
            "cosine_decay": schedules.cosine_decay(lr, total_steps, final_lr),
            "warmup_cosine": schedules.warmup_cosine(lr, warmup_steps,
                                                     total_steps - warmup_steps, final_lr)}
    return {name: np.array([s(int(step)) for step in t.ravel()]).reshape(t.shape)
            for name, s in made.items()}


# -- RAdam's variance argument -------------------------------------------------------------
def first_adaptive_step(beta2=0.999) -> int:
    """The first step at which RAdam takes its adaptive step (ρ_t > 5): 6 at
    β2 = 0.999 and 0.99; 0 if ρ_∞ ≤ 5 (β2 ≤ 2/3: never)."""
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    if rho_inf(beta2) <= RHO_THRESHOLD:
        return 0
    t = 1
    while rho(t, beta2) <= RHO_THRESHOLD:            # ρ_t grows with t towards ρ_∞
        t += 1
    return t


def rho_table(t, beta2=0.999) -> dict:
    """``{"t", "rho", "rectification", "adaptive"}``: ρ_t, r_t (NaN where ρ_t ≤ 4) and
    whether RAdam takes its adaptive step (ρ_t > 5) at the steps ``t``."""
    rho_t = rho(t, beta2)
    return {"t": np.asarray(t), "rho": rho_t, "rectification": rectification(t, beta2),
            "adaptive": rho_t > RHO_THRESHOLD}


def adaptive_variance_mc(t, beta2=0.999, *, sigma=1.0, draws=20_000, seed=0) -> np.ndarray:
    """Monte-Carlo ``Var[ψ_t]``, ψ_t = √((1 − β2^t)/v_t), for ``draws`` independent
    streams of gradients ``g_i ~ N(0, σ²)``, at each step of ``t`` (integers
    >= 1): v_t = β2·v_{t−1} + (1 − β2)·g_t², run to ``max(t)``.  Seeded
    (``np.random.default_rng(seed)``); the sample variance over the draws.
    For t ≤ 2 the true variance is infinite and the estimate means nothing."""
    t = check.step_counts("t", t)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    sigma = check.positive_number("sigma", sigma)
    draws = check.integer("draws", draws, low=2)
    rng = np.random.default_rng(check.seed("seed", seed))
    wanted = {int(step): i for i, step in enumerate(t.ravel())}
    corrections = 1 - power_table(beta2, 1, int(t.max()))                # 1 − β2^t
    v = np.zeros(draws)
    out = np.empty(t.size)
    for step in range(1, int(t.max()) + 1):
        g = sigma * rng.standard_normal(draws)
        v = beta2 * v + (1 - beta2) * (g * g)                           # v_t
        if step in wanted:
            psi = np.sqrt(corrections[step - 1] / v)                    # ψ_t
            out[wanted[step]] = psi.var(ddof=1)
    return out.reshape(t.shape)


def variance_comparison(t=(3, 5, 10, 30, 100, 300, 1000), beta2=0.999, *, draws=20_000,
                        seed=0) -> dict:
    """At each step of ``t``: ρ_t, ``Var[ψ_t]`` by Monte Carlo (σ = 1), by the
    scaled inverse-χ formula with ρ_t degrees of freedom (``adaptive_variance``)
    and by Liu et al.'s first-order approximation (``adaptive_variance_approx``)."""
    t = np.asarray(t)
    rho_t = rho(t, beta2)
    return {"t": t, "rho": rho_t,
            "monte_carlo": adaptive_variance_mc(t, beta2, draws=draws, seed=seed),
            "formula": adaptive_variance(rho_t), "approximation": adaptive_variance_approx(rho_t)}


# -- untuned warmup ------------------------------------------------------------------------
def untuned_warmup_steps(beta2=0.999) -> int:
    """Ma & Yarats' (2021) untuned linear warmup length, ``2/(1 − β2)`` steps
    (rounded to the nearest integer: 2000 at β2 = 0.999, 200 at 0.99)."""
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    return max(1, round(2 / (1 - beta2)))


def warmup_factors(steps, beta2=0.999, *, points=None) -> dict:
    """The multiplier of the adaptive step at t = 1 … ``steps``: RAdam's r_t
    (NaN while ρ_t ≤ 5, when it takes an un-adapted momentum step instead),
    the untuned linear warmup ``min(1, t(1 − β2)/2)`` and the untuned
    exponential warmup ``1 − e^{−(1 − β2)t}``.  ``points``: at most that many
    steps, evenly spaced (for a figure), instead of every step."""
    steps = check.integer("steps", steps, low=1)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    t = np.arange(1, steps + 1) if points is None else _spaced_steps(steps, points)
    r = np.where(rho(t, beta2) > RHO_THRESHOLD, rectification(t, beta2), np.nan)
    return {"t": t, "radam": r, "linear": np.minimum(1.0, t * (1 - beta2) / 2),
            "exponential": 1 - portable_exp(-(1 - beta2) * t)}


def _spaced_steps(steps, points) -> np.ndarray:
    """At most ``points`` integers from 1 to ``steps``, evenly spaced, both ends included."""
    points = check.integer("points", points, low=2)
    return np.unique(np.round(np.linspace(1, steps, min(points, steps))).astype(np.int64))


def explorer_curves(beta2=0.999, warmup_fraction=0.1, total_steps=1000, *, points=400) -> dict:
    """The explorer's two panels: ``"t"``/``"schedules"``, every schedule of
    ``schedule_table`` (α = 1) over ``total_steps`` with a warmup of
    ``warmup_fraction`` of the run (at least one step), and ``"factors"``,
    ``warmup_factors`` over three untuned warmup lengths at ``beta2``; each at
    most ``points`` steps."""
    total_steps = check.integer("total_steps", total_steps, low=2)
    fraction = check.hyperparameter("warmup_fraction", warmup_fraction, low=0.0, high=1.0,
                                    high_inclusive=False)
    warmup = min(total_steps - 1, max(1, round(fraction * total_steps)))
    t = _spaced_steps(total_steps, points)
    return {"t": t, "warmup_steps": warmup,
            "schedules": schedule_table(t, 1.0, warmup_steps=warmup, total_steps=total_steps),
            "factors": warmup_factors(3 * untuned_warmup_steps(beta2), beta2, points=points)}


# -- does warmup help on the digits? ------------------------------------------------------
#: The methods of ``warmup_sweep``.
METHODS = ("Adam", "Adam + untuned warmup", "RAdam")
#: The warmup experiment: β2 = 0.99, so that the untuned warmup (200 steps)
#: fits three times into a run of 600 steps of batch 32 (19 epochs); a
#: checkpoint at step 300 (the variation: a run half as long) and three seeds
#: (what the notebook's time budget allows: about 5 s).
WARMUP_BETA2, WARMUP_RUN_STEPS, WARMUP_EVERY, WARMUP_SEEDS = 0.99, 600, 300, (0, 1, 2)
WARMUP_LRS = one_three_grid(1e-4, 0.3)


@dataclass(frozen=True)
class WarmupSweep:
    """Per method (``METHODS``): ``val_error``/``test_error``/``train_loss`` of
    shape (C, L, S) at the checkpoints ``steps`` (C,) for ``lrs`` (L,) ×
    ``seeds`` (S,)."""

    lrs: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    beta2: float
    warmup_steps: int
    val_error: dict
    test_error: dict
    train_loss: dict

    def checkpoint(self, step: int | None = None) -> int:
        """The index of checkpoint ``step`` in ``steps`` (default: the last)."""
        if step is None:
            return len(self.steps) - 1
        found = np.flatnonzero(self.steps == step)
        if found.size != 1:
            raise ValueError(f"step must be a checkpoint, one of {self.steps.tolist()}, got {step!r}")
        return int(found[0])

    def tuned(self, method: str, factor: float = GOOD_FACTOR, *, step: int | None = None):
        """``tune`` of the validation error (mean over seeds) at checkpoint
        ``step`` (default: the end) over ``lrs``."""
        return tune(self.lrs, self.val_error[method][self.checkpoint(step)].mean(axis=1),
                    factor=factor)


def warmup_sweep(*, lrs=WARMUP_LRS, beta2=WARMUP_BETA2, steps=WARMUP_RUN_STEPS, seeds=WARMUP_SEEDS,
                 batch_size=32, hidden=32, every=WARMUP_EVERY, data=None) -> WarmupSweep:
    """Adam (constant lr), Adam with linear warmup over ``untuned_warmup_steps(beta2)``
    then constant, and RAdam, each as one run of lrs × seeds networks (network
    k with its seed's initialization and batch order, the same for every method)."""
    lrs = check.positive_vector("lrs", lrs)
    seeds = np.array([check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()])
    warmup = untuned_warmup_steps(beta2)
    data = load_digits() if data is None else data
    network = MLP(hidden)
    row_seeds = np.tile(seeds, lrs.size)
    column = np.repeat(lrs, seeds.size)[:, None]
    makers = {"Adam": lambda: Adam(lr=column, beta2=beta2),
              "Adam + untuned warmup": lambda: Adam(
                  lr=schedules.linear_warmup(column, warmup), beta2=beta2),
              "RAdam": lambda: RAdam(lr=column, beta2=beta2)}
    grid = (-1, lrs.size, seeds.size)
    val, test, loss, at = {}, {}, {}, None
    for method in METHODS:
        result = train(network, data, makers[method](), network.init(row_seeds), steps,
                       batch_size=batch_size, batch_seeds=row_seeds, every=every)
        val[method] = result.val_error.reshape(grid)
        test[method] = result.test_error.reshape(grid)
        loss[method] = result.train_loss.reshape(grid)
        at = result.steps
    return WarmupSweep(lrs, seeds, at, float(beta2), warmup, val, test, loss)


def warmup_effect(sweep: WarmupSweep, method: str = "Adam + untuned warmup",
                  baseline: str = "Adam", *, step: int | None = None) -> dict:
    """Per learning rate, at checkpoint ``step`` (default: the end): the mean
    validation error of ``baseline`` minus that of ``method`` (> 0: ``method``
    helped), in how many seeds ``method`` was strictly better and in how many
    strictly worse, and the learning rates at which it was better in every
    seed (``helps_at``) or worse in every seed (``hurts_at``)."""
    if method not in sweep.val_error or baseline not in sweep.val_error:
        raise ValueError(f"method and baseline must be among {list(sweep.val_error)}, "
                         f"got {method!r}, {baseline!r}")
    at = sweep.checkpoint(step)
    with np.errstate(invalid="ignore"):
        ours, theirs = sweep.val_error[method][at], sweep.val_error[baseline][at]
        better = np.sum(ours < theirs, axis=1)
        worse = np.sum(ours > theirs, axis=1)
        gain = theirs.mean(axis=1) - ours.mean(axis=1)
    every_seed = sweep.seeds.size
    return {"lrs": sweep.lrs, "gain": gain, "better": better, "worse": worse,
            "helps_at": sweep.lrs[better == every_seed], "hurts_at": sweep.lrs[worse == every_seed]}


def lost_steps(beta2=0.999) -> dict:
    """How many steps' worth of learning rate each untuned warmup withholds,
    ``Σ_t (1 − factor_t)`` over ``warmup_factors`` (RAdam's r_t counted as 0
    while it takes momentum steps): about ``1/(1 − β2)`` for all three.
    The sums run to ``40/(1 − β2)`` steps, where every factor is 1 up to rounding."""
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    factors = warmup_factors(max(1, round(40 / (1 - beta2))), beta2)
    return {"radam": float(np.sum(1 - np.nan_to_num(factors["radam"], nan=0.0))),
            "linear": float(np.sum(1 - factors["linear"])),
            "exponential": float(np.sum(1 - factors["exponential"]))}
