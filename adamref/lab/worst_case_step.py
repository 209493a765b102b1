"""The worst case of Adam's step: the largest |m̂/√v̂| any gradient sequence
can produce, heavy-tailed gradient noise, and an attempt at a loss spike.

- The supremum is the theorem of the per-parameter steps chapter
  (``adamref.lab.per_parameter_steps.step_supremum``: Cauchy–Schwarz, attained
  by ``extremal_gradients``); ``attained_supremum`` runs ``adamref.Adam`` on that
  sequence and ``random_sequences_steps`` on many random ones, which stay below.
- ``heavy_tail_sweep``: a quadratic whose gradients carry Student-t noise
  (infinite variance for ν ≤ 2), optimized by SGD, SGD with the gradient
  clipped by its global norm, and Adam, each over a learning-rate grid and
  seeds in one K-row run; ``tune`` picks each method's learning rate.
- ``loss_spike``: Adam in a noisy steady state, then the gradient's scale
  jumps; how far the loss overshoots depends on how slowly ``v`` follows (β2).

Every run goes through ``adamref.problems.runs.run`` (its divergence policy);
the noise is drawn per seed from ``np.random.default_rng(seed)``, so every
method and learning rate of a seed sees the same noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adamref.lab.adam_on_a_network import one_three_grid
from adamref.lab.per_parameter_steps import (extremal_gradients, step_supremum,
                                             step_supremum_limit, steps_along)
from adamref.optim import SGD, Adam
from adamref.optim import validation as check
from adamref.optim.clipping import clip_by_global_norm
from adamref.problems.objectives import Quadratic
from adamref.problems.runs import run
from adamref.problems.tuning import tune


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


# -- heavy-tailed noise ----------------------------------------------------------------------
#: The noisy problem: a 10-D quadratic with curvatures 0.1 … 1, started at θ = 3.
CURVATURES = tuple(np.round(np.geomspace(0.1, 1.0, 10), 12))
METHODS = ("SGD", "clipped SGD", "Adam")
HEAVY_LRS = one_three_grid(1e-4, 10.0)


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
                     clip=None, curvatures=CURVATURES, start=3.0) -> HeavyTail:
    """SGD, SGD with each row's gradient clipped to global norm ``clip``
    (default √dim, the typical norm of unit noise) and Adam on
    ``Quadratic(curvatures)`` from θ = ``start``, with gradients
    ``H θ + noise·t_ν``: each method one run of lrs × seeds rows."""
    lrs = check.positive_vector("lrs", lrs)
    seeds = [check.seed("seeds", s) for s in np.asarray(seeds).ravel().tolist()]
    problem = Quadratic(np.asarray(curvatures, dtype=float))
    clip = float(np.sqrt(problem.dim)) if clip is None else check.positive_number("clip", clip)
    noise = check.positive_number("noise", noise)
    draws = np.stack([student_t_noise(nu, steps, problem.dim, s) for s in seeds], axis=1)
    column = np.repeat(lrs, len(seeds))[:, None]
    loss = {}
    for method in METHODS:
        stream = iter(np.tile(draws, (1, lrs.size, 1)))        # step t: (K, dim), seed k % S

        def gradient(theta, stream=stream, method=method):
            g = problem.gradient(theta) + noise * next(stream)
            return clip_by_global_norm(g, clip, batch_dims=1)[0] if method == "clipped SGD" else g

        opt = Adam(lr=column) if method == "Adam" else SGD(lr=column)
        result = run(opt, gradient, np.full((column.size, problem.dim), float(start)), steps,
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
