"""The worst case of Adam's step: the largest ``|m̂/√v̂|`` any gradient sequence
can produce, heavy-tailed gradient noise, and an attempt at a loss spike.

- The supremum is the theorem of the per-parameter steps chapter
  (``adamref.lab.per_parameter_steps.step_supremum``: Cauchy–Schwarz, attained
  by ``extremal_gradients``); ``attained_supremum`` runs ``adamref.Adam`` on that
  sequence and ``random_sequences_steps`` on many random ones, which stay below.
- ``outlier_response``: one huge gradient G in a stream of unit noise.  SGD
  moves α·G, clipped SGD at most α·c, Adam a bounded amount that depends on
  β1 and β2 (``kick_limit``), but Adam's ``v`` remembers the outlier and
  shrinks its later steps (``shrink``): clipping without memory, and Adam's
  normalization with it.
- ``heavy_tail_sweep``: a quadratic whose gradients carry Student-t noise
  (infinite variance for ν ≤ 2), optimized by SGD, SGD with the gradient
  clipped by its global norm, and Adam (and the variations of ``MAKERS``),
  each over a learning-rate grid and seeds in one K-row run; ``tune`` picks
  each method's learning rate.
- ``loss_spike``: Adam in a noisy steady state, then the gradient's scale
  jumps; how far the loss overshoots depends on how slowly ``v`` follows (β2).
  ``spike_grid`` runs every setting of the explorer at once.

Every run goes through ``adamref.problems.runs.run`` (its divergence policy);
the noise is drawn per seed from ``np.random.default_rng(seed)``, so every
method and learning rate of a seed sees the same noise.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from adamref.lab.adam_on_a_network import one_three_grid
from adamref.lab.per_parameter_steps import (extremal_gradients, step_supremum,
                                             step_supremum_limit, steps_along)
from adamref.optim import SGD, Adam
from adamref.optim import validation as check
from adamref.optim.clipping import clip_by_global_norm, clip_by_value
from adamref.optim.optimizer import power_table
from adamref.problems.objectives import Quadratic
from adamref.problems.runs import run
from adamref.problems.tuning import tune


#: The noisy problem: a 10-D quadratic with curvatures 0.1 … 1, started at θ = 3.
CURVATURES = tuple(np.round(np.geomspace(0.1, 1.0, 10), 12))


# -- the supremum, attained ----------------------------------------------------------------
def attained_supremum(steps=2000, beta1=0.9, beta2=0.999) -> dict:
    """``{"t", "measured", "supremum", "limit"}``: the steps ``|Δθ_t|/α`` of
    ``adamref.Adam`` (ε = 0) fed ``extremal_gradients(steps)``, the theorem's
    ``step_supremum(t)`` and its limit (inf when β1² ≥ β2)."""
    g = extremal_gradients(steps, beta1, beta2)
    measured = np.abs(steps_along(Adam(lr=1.0, beta1=beta1, beta2=beta2, eps=0.0), g))
    t = np.arange(1, steps + 1)
    return {"t": t, "measured": measured, "supremum": step_supremum(t, beta1, beta2),
            "limit": step_supremum_limit(beta1, beta2)}


def random_sequences_steps(steps=300, draws=2000, *, beta1=0.9, beta2=0.999, seed=0) -> dict:
    """The largest ``|Δθ_t|/α`` of ``adamref.Adam`` (ε = 1e-300: a coordinate
    whose gradients were all 0 so far takes the step 0, not 0/0) at each step over
    ``draws`` random gradient sequences of three kinds (Gaussian; sparse: one
    gradient in 20 nonzero; geometric: ``g_i = q^i`` times a random sign,
    with a random ratio q in [1, 1.2]), next to ``step_supremum``:
    ``{"t", kind: (steps,), "supremum"}``."""
    steps = check.integer("steps", steps, low=1)
    draws = check.integer("draws", draws, low=1)
    rng = np.random.default_rng(check.seed("seed", seed))
    sequences = {"gaussian": rng.standard_normal((steps, draws)),
                 "sparse": rng.standard_normal((steps, draws)) * (rng.random((steps, draws)) < 0.05),
                 "geometric": (np.cumprod(np.tile(rng.uniform(1.0, 1.2, draws), (steps, 1)),
                                          axis=0)                      # q^i by multiplication
                               * np.sign(rng.standard_normal((steps, draws))))}
    out = {"t": np.arange(1, steps + 1)}
    for kind, grads in sequences.items():
        adam = Adam(lr=1.0, beta1=beta1, beta2=beta2, eps=1e-300)
        out[kind] = np.abs(steps_along(adam, grads)).max(axis=1)
    out["supremum"] = step_supremum(out["t"], beta1, beta2)
    return out


# -- one outlier: the kick and the memory ------------------------------------------------------
#: The outlier sizes G, in units of the noise's standard deviation σ = 1.
OUTLIER_SIZES = one_three_grid(1.0, 1e4)
#: The β2 of the Adam runs of ``outlier_response``.
OUTLIER_BETA2S = (0.999, 0.99, 0.9)


def kick_limit(beta1=0.9, beta2=0.999, at=None, window=None) -> float:
    """The distance (in units of α) that Adam moves because of one gradient G
    at step ``at``, summed over the ``window`` steps from that one on, in the
    limit ``|G| → ∞`` (every other gradient fixed, ε negligible):

        Σ_{k<window} (1 − β1)·β1^k/√((1 − β2)·β2^k) · √(1 − β2^{at+k})/(1 − β1^{at+k}).

    ``at=None``: late in training (the bias corrections → 1); ``window=None``:
    every later step, ``(1 − β1)/(√(1 − β2)·(1 − β1/√β2))`` for β1² < β2 and
    inf otherwise (the same condition as the largest-step theorem)."""
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    ratio = beta1 / np.sqrt(beta2)                                   # β1/√β2
    if window is None:
        if at is not None:
            raise ValueError("window=None (every later step) needs at=None (late in training)")
        return float((1 - beta1) / (np.sqrt(1 - beta2) * (1 - ratio))) if ratio < 1 else np.inf
    window = check.integer("window", window, low=1)
    terms = (1 - beta1) * power_table(ratio, 0, window) / np.sqrt(1 - beta2)   # k = 0 … window − 1
    if at is not None:
        at = check.integer("at", at, low=1)                          # the bias corrections at t = at + k
        terms = terms * np.sqrt(1 - power_table(beta2, at, window)) / (
            1 - power_table(beta1, at, window))
    return float(terms.sum())


@dataclass(frozen=True)
class OutlierResponse:
    """``sizes`` (S,): the outlier G at step ``at``.  ``kick[method]`` (S,):
    how far (in units of α) the coordinate hit by the outlier moved because of
    it over the ``window`` steps from ``at`` on: half the distance between the
    runs hit by +G and by −G on the same noise, whose own steps cancel (mean
    over the draws); ``limit[method]``: the kick as G → ∞ (inf for SGD).
    ``shrink[method]`` (S, L), Adam only: the mean of √(v_without/v_with), the
    factor by which the outlier shrinks Adam's step on ordinary gradients
    ``later`` (L,) steps after it (clipped SGD has no state: its factor is 1)."""

    sizes: np.ndarray
    at: int
    window: int
    later: np.ndarray
    kick: dict
    limit: dict
    shrink: dict


def outlier_response(sizes=OUTLIER_SIZES, *, beta1=0.9, beta2s=OUTLIER_BETA2S, clip=None,
                     dim=len(CURVATURES), at=3000, window=50, later=(100, 300, 1000),
                     draws=30, seed=0) -> OutlierResponse:
    """Gradients of unit Gaussian noise in ``dim`` coordinates (``draws``
    independent streams, seeded), one of them hit by ±G (each G of ``sizes``)
    at step ``at``; SGD, SGD clipped to global norm ``clip`` (default √dim)
    and Adam with each β2 of ``beta2s`` (per coordinate: only the hit one is
    run), each with α = 1, on the same noise with and without the outlier."""
    sizes = check.positive_vector("sizes", sizes)
    at, window = check.integer("at", at, low=1), check.integer("window", window, low=1)
    later = np.asarray(later)
    if later.ndim != 1 or later.dtype.kind not in "iu" or np.any(later < window) or np.any(
            np.diff(later) <= 0):
        raise ValueError(f"later must be increasing integers >= window = {window}, got {later!r:.60}")
    draws = check.integer("draws", draws, low=1)
    clip = float(np.sqrt(dim)) if clip is None else check.positive_number("clip", clip)
    beta2s = tuple(check.hyperparameter("beta2s", b, low=0.0, high=1.0, high_inclusive=False)
                   for b in beta2s)
    rng = np.random.default_rng(check.seed("seed", seed))
    xi = rng.standard_normal((at + int(later[-1]), draws, dim))          # ξ_t, steps 1 … T
    hits = np.concatenate([[0.0], sizes, -sizes])                        # 0 (none), +G, −G
    S = sizes.size

    def kick_of(moved):                                                  # (..., 2S + 1, draws)
        return ((moved[..., 1:S + 1, :] - moved[..., S + 1:, :]) / 2).mean(axis=-1)

    kick, limit, shrink = {}, {}, {}
    # SGD and clipped SGD have no state: the window's gradients suffice
    grads = np.broadcast_to(xi[at - 1:at - 1 + window, None],
                            (window, hits.size, draws, dim)).copy()
    grads[0, :, :, 0] += hits[:, None]                                   # the outlier, coordinate 0
    for method, how in (("SGD", None), ("clipped SGD", "norm")):
        g = _clipped(grads.reshape(-1, dim), how, clip).reshape(grads.shape)
        kick[method] = kick_of(-steps_along(SGD(lr=1.0), g)[..., 0].sum(axis=0))
        limit[method] = np.inf if how is None else clip
    # Adam: coordinate 0 alone, every β2 × hit × draw a row
    shape = (len(beta2s), hits.size, draws)
    column = np.repeat(np.array(beta2s), hits.size * draws)[:, None]
    step = iter(range(1, at + int(later[-1]) + 1))

    def gradient(theta):
        t = next(step)
        g = np.broadcast_to(xi[t - 1, :, 0], shape).copy()
        if t == at:
            g += hits[None, :, None]
        return g.reshape(-1, 1)

    adam = Adam(lr=1.0, beta1=beta1, beta2=column)
    theta = run(adam, gradient, np.zeros((column.size, 1)), at + window - 1, bound=np.inf).theta
    moved = -theta.reshape(shape)
    ratios, done = [], at + window - 1
    for k in later:
        theta = run(adam, gradient, theta, at + int(k) - done, bound=np.inf).theta
        done = at + int(k)
        v = adam.v.reshape(shape)
        ratios.append(np.sqrt(v[:, :1] / v[:, 1:S + 1]).mean(axis=-1))  # (B, S): G vs none
    for i, beta2 in enumerate(beta2s):
        name = f"Adam (β2 = {beta2:g})"
        kick[name] = kick_of(moved[i])
        limit[name] = kick_limit(beta1, beta2, at, window)
        shrink[name] = np.stack([r[i] for r in ratios], axis=-1)
    return OutlierResponse(sizes, at, window, later, kick, limit, shrink)


def shrink_theory(sizes, later, beta2=0.999, at=3000) -> np.ndarray:
    """``1/√(1 + (1 − β2)·β2^k·G²/(1 − β2^{at+k}))``, shape (S, L): the factor of
    ``OutlierResponse.shrink`` when v without the outlier is its expectation
    (unit noise: 1 − β2^t) and the outlier's cross term with the noise is left out."""
    sizes = check.positive_vector("sizes", sizes)
    later = np.asarray(later)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    decay = np.array([power_table(beta2, int(k), 1)[0] for k in later])          # β2^k
    base = np.array([1 - power_table(beta2, at + int(k), 1)[0] for k in later])  # 1 − β2^{at+k}
    return 1 / np.sqrt(1 + (1 - beta2) * decay * sizes[:, None] ** 2 / base)


# -- heavy-tailed noise ----------------------------------------------------------------------
#: The methods of ``heavy_tail_sweep`` by default; ``MAKERS`` has more.
METHODS = ("SGD", "clipped SGD", "Adam")
#: The learning rates: 1, 2 and 5 per decade from 1e-4 to 10 (written as decimals).
HEAVY_LRS = np.array([float(f"{m}e{e}") for e in range(-4, 1) for m in (1, 2, 5)] + [10.0])
#: Each method: how it is made from a (K, 1) column of learning rates, and
#: how it clips the gradient (``"norm"``: by the global norm of each row,
#: threshold ``clip``; ``"value"``: each coordinate to ±``clip/√dim``, the
#: same threshold per coordinate on average; None: not at all).
MAKERS = {"SGD": (lambda lr: SGD(lr=lr), None),
          "clipped SGD": (lambda lr: SGD(lr=lr), "norm"),
          "clipped SGD (per coordinate)": (lambda lr: SGD(lr=lr), "value"),
          "Adam": (lambda lr: Adam(lr=lr), None),
          "Adam (β2 = 0.99)": (lambda lr: Adam(lr=lr, beta2=0.99), None),
          "Adam (β2 = 0.9)": (lambda lr: Adam(lr=lr, beta2=0.9), None)}


def _clipped(g, how, clip):
    """``g`` (K, dim) clipped as ``MAKERS`` says: by each row's norm or per coordinate."""
    if how == "norm":
        return clip_by_global_norm(g, clip, batch_dims=1)[0]
    if how == "value":
        return clip_by_value(g, clip / np.sqrt(g.shape[-1]))
    return g


def student_t_noise(nu, steps, dim, seed) -> np.ndarray:
    """Seeded Student-t noise with ``nu`` degrees of freedom, shape ``(steps, dim)``."""
    nu = check.positive_number("nu", nu)
    return np.random.default_rng(check.seed("seed", seed)).standard_t(nu, size=(steps, dim))


@dataclass(frozen=True)
class HeavyTail:
    """Per method: the excess loss ``loss[method]`` of shape (steps + 1, L, S)
    (inf after a divergence) for ``lrs`` (L,) × ``seeds`` (S,); a learning
    rate's score is the excess loss averaged over the last quarter of the run
    and over the seeds."""

    lrs: np.ndarray
    seeds: np.ndarray
    nu: float
    clip: float
    loss: dict

    def scores(self, method: str) -> np.ndarray:
        last = self.loss[method][-(len(self.loss[method]) // 4):]
        return last.mean(axis=0).mean(axis=-1)

    def tuned(self, method: str, factor: float = 2.0):
        """``tune`` of ``scores(method)`` over ``lrs`` (good: within ``factor`` of the best)."""
        return tune(self.lrs, self.scores(method), factor=factor)


def heavy_tail_sweep(nu=1.5, *, lrs=HEAVY_LRS, seeds=(0, 1, 2, 3, 4), steps=1000, noise=1.0,
                     clip=None, curvatures=CURVATURES, start=3.0, methods=METHODS) -> HeavyTail:
    """``methods`` (names of ``MAKERS``; by default SGD, SGD with each row's
    gradient clipped to global norm ``clip`` (default √dim, the typical norm
    of unit noise) and Adam) on ``Quadratic(curvatures)`` from θ = ``start``,
    with gradients ``H θ + noise·t_ν``: each method one run of lrs × seeds rows."""
    unknown = [m for m in methods if m not in MAKERS]
    if unknown or not methods:
        raise ValueError(f"methods must be names of MAKERS {list(MAKERS)}, got {list(methods)!r}")
    lrs = check.positive_vector("lrs", lrs)
    seeds = [check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()]
    problem = Quadratic(np.asarray(curvatures, dtype=float))
    clip = float(np.sqrt(problem.dim)) if clip is None else check.positive_number("clip", clip)
    noise = check.positive_number("noise", noise)
    draws = np.stack([student_t_noise(nu, steps, problem.dim, s) for s in seeds], axis=1)
    column = np.repeat(lrs, len(seeds))[:, None]
    loss = {}
    for method in methods:
        make, how = MAKERS[method]
        stream = iter(np.tile(draws, (1, lrs.size, 1)))        # step t: (K, dim), seed k % S

        def gradient(theta, stream=stream, how=how):
            return _clipped(problem.gradient(theta) + noise * next(stream), how, clip)

        result = run(make(column), gradient, np.full((column.size, problem.dim), float(start)), steps,
                     record=problem.excess_loss)
        history = np.where(result.diverged, np.inf, result.history)   # frozen rows: inf
        loss[method] = history.reshape(steps + 1, lrs.size, len(seeds))
    return HeavyTail(lrs, np.array(seeds), float(nu), clip, loss)


# -- a loss spike -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Spike:
    """``settings``: the (β2, jump) of each row group; ``loss`` (steps + 1, G, S):
    the excess loss of the quadratic f (the gradients are those of s_t·f, so f
    is comparable before and after the jump); ``step`` (steps, G, S): the largest
    ``|Δθ|/α`` over the coordinates at each step; ``quiet_steps``: the jump
    happens after this many steps."""

    settings: tuple
    quiet_steps: int
    loss: np.ndarray
    step: np.ndarray

    def peaks(self, window: int | None = None) -> dict:
        """Per setting and seed: the largest loss in the ``window`` steps before
        the jump and in the ``window`` steps after it (default: half the quiet
        phase), their ratio, and the largest step after the jump."""
        q = self.quiet_steps
        window = q // 2 if window is None else check.integer("window", window, low=1)
        before = self.loss[q - window + 1:q + 1].max(axis=0)
        after = self.loss[q + 1:q + 1 + window].max(axis=0)
        return {"before": before, "after": after, "ratio": after / before,
                "largest_step": self.step[q:q + window].max(axis=0)}


def loss_spike(settings=((0.999, 10.0), (0.99, 10.0), (0.999, 1.0)), *, quiet_steps=3000,
               after_steps=3000, noise=1.0, lr=1e-2, beta1=0.9, seeds=(0, 1, 2, 3, 4),
               curvatures=CURVATURES) -> Spike:
    """Adam (step ``lr``) on ``Quadratic(curvatures)`` from θ = 1 with gradients
    ``s_t·(H θ + noise·ξ_t)``, ξ Gaussian: ``s_t = 1`` for the first
    ``quiet_steps`` steps, then ``s_t = jump``, for every ``(beta2, jump)`` of
    ``settings`` (jump = 1 is the control: nothing changes) and every seed,
    all in one run.  Adam is invariant to a *constant* scale, so without the
    lag of ``v`` the loss would not notice the jump."""
    settings = tuple((float(b), check.positive_number("jump", j)) for b, j in settings)
    seeds = [check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()]
    problem = Quadratic(np.asarray(curvatures, dtype=float))
    steps = check.integer("quiet_steps", quiet_steps, low=1) + check.integer(
        "after_steps", after_steps, low=1)
    xi = np.stack([np.random.default_rng(s).standard_normal((steps, problem.dim))
                   for s in seeds], axis=1)
    groups = len(settings)
    beta2 = np.repeat([b for b, _ in settings], len(seeds))[:, None]
    jump = np.repeat([j for _, j in settings], len(seeds))[:, None]
    stream = iter(np.tile(xi, (1, groups, 1)))             # step t: (K, dim), seed k % S
    count = iter(range(steps))

    def gradient(theta):
        scale = jump if next(count) >= quiet_steps else 1.0             # s_t
        return scale * (problem.gradient(theta) + noise * next(stream))

    opt = Adam(lr=lr, beta1=beta1, beta2=beta2)
    path = run(opt, gradient, np.ones((beta2.size, problem.dim)), steps, record=np.copy,
               bound=np.inf).history
    moves = np.abs(np.diff(path, axis=0)).max(axis=-1) / lr            # largest |Δθ|/α
    shape = (-1, groups, len(seeds))
    return Spike(settings, quiet_steps, problem.excess_loss(path).reshape(shape),
                 moves.reshape(shape))


# -- the explorer: every spike setting in one run ------------------------------------------------
#: The explorer's settings: β2 and the factor of the jump (1: no jump, the control).
SPIKE_BETA2S = (0.9, 0.99, 0.999, 0.9999)
SPIKE_JUMPS = (0.1, 1.0, 3.0, 10.0, 100.0, 1000.0)


@lru_cache(maxsize=1)
def spike_grid() -> Spike:
    """``loss_spike`` for every (β2, jump) of ``SPIKE_BETA2S`` × ``SPIKE_JUMPS``,
    seed 0, in one run (computed once, then cached)."""
    return loss_spike(settings=tuple(itertools.product(SPIKE_BETA2S, SPIKE_JUMPS)), seeds=(0,))


def spike_traces(beta2=0.999, jump=10.0, *, points=1000) -> dict:
    """The explorer's curves from ``spike_grid``: ``"t"`` and, for the jump and
    for the control (jump 1) at ``beta2``, the excess loss at those steps and
    the largest step ``|Δθ|/α`` in each of the ``points`` bins; with the
    theorem's bound ``S_∞`` at ``beta2`` (β1 = 0.9) and the jump's step."""
    grid = spike_grid()
    if (beta2, jump) not in grid.settings:
        raise ValueError(f"beta2 and jump must be among {SPIKE_BETA2S} and {SPIKE_JUMPS}, "
                         f"got {beta2!r}, {jump!r}")
    points = check.integer("points", points, low=2)
    steps = grid.step.shape[0]
    per_bin = -(-steps // points)                                        # ceil: ≤ points bins
    bins = steps // per_bin * per_bin
    out = {"t": np.arange(per_bin, bins + 1, per_bin), "quiet_steps": grid.quiet_steps,
           "bound": step_supremum_limit(0.9, beta2)}
    for key, factor in (("jump", jump), ("control", 1.0)):
        i = grid.settings.index((beta2, factor))
        out[f"loss_{key}"] = grid.loss[per_bin:bins + 1:per_bin, i, 0]
        out[f"step_{key}"] = grid.step[:bins, i, 0].reshape(-1, per_bin).max(axis=1)
    return out
