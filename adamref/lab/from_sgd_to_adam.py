"""From gradient descent to Adam: the four optimizers of the lineage on the same
problems, learning rates tuned on a grid in one broadcast run, and the two
measurements the chapter uses to separate what momentum and the √v
normalization each contribute, and the explorer's paths (``explorer_paths``:
every value its sliders offer, run in a few cached broadcast runs).  NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from adamref.optim import validation as check
from adamref.optim.optimizer import restoring
from adamref.problems.objectives import Quadratic, Rosenbrock, noisy_gradient
from adamref.problems.registry import LINEAGE, make_optimizer
from adamref.problems.runs import grid, run, trajectory
from adamref.problems.tuning import tune


@dataclass(frozen=True)
class Setup:
    """A problem of the chapter: objective, starting point and number of steps."""

    objective: object
    theta0: tuple
    steps: int


#: The chapter's problems: the bowl of "Adam in twenty lines" and Rosenbrock's valley.
PROBLEMS = {
    "quadratic": Setup(Quadratic(curvatures=(1.0, 100.0)), (-4.0, 1.5), 150),
    "rosenbrock": Setup(Rosenbrock(), (-1.5, 2.0), 1500),
}


def lineage_problem(name) -> Setup:
    """The ``Setup`` called ``name`` (a key of ``PROBLEMS``)."""
    if not isinstance(name, str) or name not in PROBLEMS:
        raise ValueError(f"name must be one of {sorted(PROBLEMS)}, got {name!r}")
    return PROBLEMS[name]


def _lrs(lrs):
    if not isinstance(lrs, dict) or set(lrs) != set(LINEAGE):
        raise ValueError(f"lrs must be a dict with the keys {list(LINEAGE)}, got {lrs!r}")
    return {label: check.hyperparameter(f"lrs[{label!r}]", lrs[label], low=0.0)
            for label in LINEAGE}


def lineage_optimizers(lrs, *, beta1=0.9, beta2=0.999, eps=1e-8) -> dict:
    """``{label: optimizer}`` for ``LINEAGE``, each with its own learning rate.

    Momentum is heavy-ball SGD with μ = β1; RMSprop's smoothing constant
    (PyTorch's ``alpha``) is Adam's β2.  ``lrs`` values may be arrays of shape
    ``(K, 1)`` to run K learning rates at once on parameters of shape ``(K, 2)``.
    """
    lrs = _lrs(lrs)
    options = {"SGD": {}, "Momentum": {"momentum": beta1},
               "RMSprop": {"alpha": beta2, "eps": eps},
               "Adam": {"beta1": beta1, "beta2": beta2, "eps": eps}}
    return {label: make_optimizer(label, lrs[label], **options[label]) for label in LINEAGE}


def _problem_oracle(setup, noise, seed):
    noise = check.hyperparameter("noise", noise, low=0.0)
    seed = check.seed("seed", seed)
    if noise == 0:
        return setup.objective.gradient
    return noisy_gradient(setup.objective, noise, seed)


def lineage_paths(problem, lrs, *, beta1=0.9, beta2=0.999, noise=0.0, seed=0, steps=None):
    """The four trajectories on ``problem`` (a ``PROBLEMS`` key), shape
    ``(steps + 1, 2)`` each.  With ``noise > 0`` every optimizer gets its own
    oracle seeded with ``seed``: the same sequence of noise draws for all four.
    A path that diverges (``run``'s policy, default bound) is NaN from there on."""
    setup = lineage_problem(problem)
    steps = setup.steps if steps is None else steps
    optimizers = lineage_optimizers(lrs, beta1=beta1, beta2=beta2)
    theta0 = np.array(setup.theta0)
    return {label: trajectory(opt, _problem_oracle(setup, noise, seed), theta0, steps)
            for label, opt in optimizers.items()}


#: The values the chapter's explorer offers: α of RMSprop and Adam, α of SGD and
#: Momentum, and β1.  ``explorer_paths`` runs all of them at once.
EXPLORER_LRS = tuple(float(f"{m}e{e}") for e in range(-3, 1) for m in (1, 2, 5)
                     if float(f"{m}e{e}") <= 1.0)
EXPLORER_SGD_LRS = tuple(float(f"{m}e{e}") for e in range(-4, 0) for m in (1, 2, 5)
                         if float(f"{m}e{e}") <= 0.1)
EXPLORER_BETA1S = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999)


def explorer_lrs(lr, sgd_lr, beta1) -> dict:
    """The explorer's learning rates: RMSprop and Adam at ``lr``, SGD at
    ``sgd_lr``, and Momentum (heavy ball, μ = β1) at ``sgd_lr·(1 − β1)``, the
    EMA-form equivalent of SGD's step, so that β1 changes the averaging and not
    the step size (see the chapter's heavy ball = EMA momentum identity)."""
    return {"SGD": sgd_lr, "Momentum": sgd_lr * (1 - beta1), "RMSprop": lr, "Adam": lr}


def _shared_noise(setup, noise, seed):
    """The gradient oracle of ``lineage_paths`` for K rows at once: one noise draw
    per coordinate and step, shared by every row, so that each row sees the
    noise a single run with this ``seed`` sees."""
    if noise == 0:
        return setup.objective.gradient
    rng = np.random.default_rng(seed)

    def gradient(theta):
        exact = setup.objective.gradient(theta)
        return exact + noise * rng.standard_normal(exact.shape[-1:])
    return gradient


@lru_cache(maxsize=32)
def _sweep(label, problem, lrs: tuple, beta1s: tuple, beta2, noise, seed):
    """Paths of optimizer ``label`` on ``problem``, one row per ``(lrs[k],
    beta1s[k])``, in one broadcast run: shape ``(steps + 1, K, 2)``, read-only."""
    setup = lineage_problem(problem)
    lr, beta1 = np.array(lrs)[:, None], np.array(beta1s)[:, None]
    optimizer = lineage_optimizers(dict.fromkeys(LINEAGE, lr), beta1=beta1, beta2=beta2)[label]
    theta0 = np.tile(np.array(setup.theta0), (len(lrs), 1))
    paths = trajectory(optimizer, _shared_noise(setup, noise, seed), theta0, setup.steps)
    paths.flags.writeable = False
    return paths


def explorer_paths(problem, *, lr, sgd_lr, beta1, beta2=0.999, noise=0.0, seed=0) -> dict:
    """``lineage_paths(problem, explorer_lrs(lr, sgd_lr, beta1), beta1=beta1,
    beta2=beta2, noise=noise, seed=seed)``, computed once for every value of
    ``EXPLORER_LRS``, ``EXPLORER_SGD_LRS`` and ``EXPLORER_BETA1S`` at a time
    (one cached broadcast run per optimizer), so that the explorer redraws at
    once when one of these controls moves.  Values outside them run alone."""
    lineage_problem(problem)
    noise = check.hyperparameter("noise", noise, low=0.0)
    seed = check.seed("seed", seed)
    if not (lr in EXPLORER_LRS and sgd_lr in EXPLORER_SGD_LRS and beta1 in EXPLORER_BETA1S):
        return lineage_paths(problem, explorer_lrs(lr, sgd_lr, beta1), beta1=beta1,
                             beta2=beta2, noise=noise, seed=seed)
    beta2 = check.hyperparameter("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    n_beta1 = len(EXPLORER_BETA1S)
    i_lr, i_sgd = EXPLORER_LRS.index(lr), EXPLORER_SGD_LRS.index(sgd_lr)
    i_beta1 = EXPLORER_BETA1S.index(beta1)
    # rows of each sweep: what the optimizer depends on (β's it ignores are fixed,
    # so that moving them finds the same cached run)
    momentum = [explorer_lrs(1.0, s, b)["Momentum"] for s in EXPLORER_SGD_LRS
                for b in EXPLORER_BETA1S]
    sweeps = {
        "SGD": (_sweep("SGD", problem, EXPLORER_SGD_LRS, (0.9,) * len(EXPLORER_SGD_LRS),
                       0.999, noise, seed), i_sgd),
        "Momentum": (_sweep("Momentum", problem, tuple(momentum),
                            EXPLORER_BETA1S * len(EXPLORER_SGD_LRS), 0.999, noise, seed),
                     i_sgd * n_beta1 + i_beta1),
        "RMSprop": (_sweep("RMSprop", problem, EXPLORER_LRS, (0.9,) * len(EXPLORER_LRS),
                           beta2, noise, seed), i_lr),
        "Adam": (_sweep("Adam", problem, tuple(np.repeat(EXPLORER_LRS, n_beta1).tolist()),
                        EXPLORER_BETA1S * len(EXPLORER_LRS), beta2, noise, seed),
                 i_lr * n_beta1 + i_beta1),
    }
    return {label: paths[:, row] for label, (paths, row) in sweeps.items()}


@lru_cache(maxsize=8)
def contour_grid(objective, bounds, points=200):
    """``(x, y, f)``: ``objective`` on a ``points × points`` grid over ``bounds =
    ((x0, x1), (y0, y1))``, the background of the chapter's path figures;
    cached, so read-only."""
    (x0, x1), (y0, y1) = bounds
    points = check.integer("points", points, low=2)
    x, y = np.meshgrid(np.linspace(x0, x1, points), np.linspace(y0, y1, points))
    values = objective.value(np.stack([x, y], axis=-1))
    for array in (x, y, values):
        array.flags.writeable = False
    return x, y, values


def tune_lr(problem, lr_grid, *, beta1=0.9, beta2=0.999, noise=0.0, seed=0, tail=0.25,
            repeats=1, steps=None, floor=0.0) -> dict:
    """The learning rate of each optimizer of ``LINEAGE`` on ``problem``, tuned
    by ``problems.tune``: ``{label: Tuned}`` (``.best`` raises
    ``UnbracketedOptimum`` at an edge of ``lr_grid``: widen the grid).

    ``lr_grid`` is increasing; all of it runs in one broadcast trajectory per
    optimizer.  A run's score is its mean suboptimality ``f(θ_t) − f(θ*)`` over
    the last ``tail`` fraction of the steps (the final loss when it is one step;
    the average matters with noise), averaged over ``repeats`` independent noise
    sequences; runs that diverged (``run``'s policy: they left ``|θ| ≤ 1e6``)
    score ``inf``.  Scores at or below ``floor`` count as solved and tie, and
    the smallest solving learning rate is the best (a rule, not rounding noise).
    """
    setup = lineage_problem(problem)
    lr_grid = check.hyperparameter("lr_grid", lr_grid, low=0.0)
    if np.ndim(lr_grid) != 1 or np.size(lr_grid) < 3:
        raise ValueError(f"lr_grid must be a 1-D array of at least 3 learning rates (a grid "
                         f"that can bracket), "
                         f"got {lr_grid!r}")
    tail = check.hyperparameter("tail", tail, low=0.0, high=1.0)
    if tail == 0:
        raise ValueError("tail must be in (0, 1], got 0.0")
    repeats = check.integer("repeats", repeats, low=1)
    steps = setup.steps if steps is None else steps
    _, columns = grid(lr=lr_grid, repeat=np.arange(repeats))   # row k·repeats + r
    lrs = columns["lr"]
    theta0 = np.tile(np.array(setup.theta0), (lrs.shape[0], 1))
    optimizers = lineage_optimizers(dict.fromkeys(LINEAGE, lrs), beta1=beta1, beta2=beta2)
    first = int(np.floor((1 - tail) * steps)) + 1 if steps > 0 else 0
    out = {}
    for label, opt in optimizers.items():
        result = run(opt, _problem_oracle(setup, noise, seed), theta0, steps, record=np.copy)
        with np.errstate(invalid="ignore"):                     # NaN rows diverged
            gap = setup.objective.excess_loss(result.history[min(first, steps):])
        scores = np.where(result.diverged, np.inf, gap.mean(axis=0)).reshape(lr_grid.size, repeats)
        scores = scores.mean(axis=1)
        out[label] = tune(lr_grid, scores, floor=floor)
    return out


# -- what each half contributes --------------------------------------------------------
def _path(path):
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] < 2:
        raise ValueError(f"path must have shape (steps + 1 >= 2, 2), got {path.shape}")
    return path


def _window(steps, path):
    steps = check.integer("steps", steps, low=1)
    if not 1 <= steps <= path.shape[0] - 1:
        raise ValueError(f"steps must be in [1, {path.shape[0] - 1}], got {steps!r}")
    return int(steps)


def coordinate_step_ratio(path, steps):
    """Median over the first ``steps`` updates of ``|Δθ_2| / |Δθ_1|``: about 1
    when every coordinate moves the same distance (per-parameter scaling), the
    curvature ratio when the step is proportional to the gradient."""
    path = _path(path)
    steps = _window(steps, path)
    delta = np.abs(np.diff(path[:steps + 1], axis=0))
    return float(np.median(delta[:, 1] / np.maximum(delta[:, 0], 1e-300)))


def path_efficiency(path, steps):
    """Net displacement over distance travelled in the first ``steps`` updates,
    ``|θ_s − θ_0| / Σ|Δθ_t|``: 1 for a straight path, small for a zigzag or a
    random walk.  Averaging the gradient (momentum) straightens the path."""
    path = _path(path)
    steps = _window(steps, path)
    travelled = np.linalg.norm(np.diff(path[:steps + 1], axis=0), axis=1).sum()
    return float(np.linalg.norm(path[steps] - path[0]) / max(travelled, 1e-300))


def ema_momentum_trajectory(gradient, theta0, steps, *, lr, beta1):
    """Reference for momentum in EMA form: ``m_t = β1·m_{t−1} + (1 − β1)·g_t``,
    ``θ_t = θ_{t−1} − α·m_t`` (Adam's numerator alone: no √v, no bias correction).
    Returns the visited points like ``trajectory``."""
    if not callable(gradient):
        raise TypeError(f"gradient must be callable, got {type(gradient).__name__}")
    lr = check.hyperparameter("lr", lr, low=0.0)
    beta1 = check.hyperparameter("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    return trajectory(_EMAMomentum(lr, beta1), gradient, theta0, steps)


class _EMAMomentum:
    """The update of ``ema_momentum_trajectory`` as a ``step(params, grads)``."""

    def __init__(self, lr, beta1):
        self.lr, self.beta1, self.m = lr, beta1, 0.0

    def step(self, theta, grad):
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        theta -= self.lr * self.m


def lockstep_steps(optimizer_a, optimizer_b, gradient, theta0, steps):
    """Feed two optimizers the *same* gradients and return their updates, each
    of shape ``(steps, *theta0.shape)``.

    Both step from the same point at every step (``optimizer_a``'s trajectory),
    so rounding differences cannot be amplified by the dynamics: two algorithms
    that are equal in exact arithmetic give updates that agree to a few ulps,
    while their free-running trajectories can drift apart on a chaotic problem.
    """
    for name, opt in (("optimizer_a", optimizer_a), ("optimizer_b", optimizer_b)):
        if not hasattr(opt, "step"):
            raise TypeError(f"{name} must be an adamref optimizer, got {type(opt).__name__}")
    if not callable(gradient):
        raise TypeError(f"gradient must be callable, got {type(gradient).__name__}")
    steps = check.integer("steps", steps, low=1)
    theta = np.array(theta0, dtype=float)
    check.float_array("theta0", theta)
    out_a, out_b = np.empty((steps, *theta.shape)), np.empty((steps, *theta.shape))
    # The params of each step are fresh copies: restore the optimizers' state only.
    with restoring(optimizer_a, theta.copy()), restoring(optimizer_b, theta.copy()):
        for t in range(steps):
            g = gradient(theta)
            a, b = theta.copy(), theta.copy()
            optimizer_a.step(a, g)
            optimizer_b.step(b, g)
            out_a[t], out_b[t] = a - theta, b - theta
            theta = a
    return out_a, out_b
