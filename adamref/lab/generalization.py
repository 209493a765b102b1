"""The generalization chapter's two experiments.

**1. Wilson et al.'s construction.** The least-squares construction of Wilson et al. (2017, Sec. 3.3) on which
adaptive methods generalize badly and gradient descent perfectly.

Example ``i`` has a label ``y_i = +1`` with probability ``p`` (else ``-1``) and
features ``x_i1 = y_i``, ``x_i2 = x_i3 = 1``, plus features that belong to it
alone: one for a positive example, five for a negative one (all other entries
0).  A test example's own features are columns no training example touches:
their gradient is always 0, so a method started at 0 keeps their weights at 0
and they do not change any prediction.  The test matrix therefore stores only
the three shared columns (its other columns, those of the training examples'
own features, are 0), which keeps it the width of the training matrix.

Everything is vectorized over a leading "draw" axis: ``draws`` independent
data sets of the same size are stacked as ``X`` of shape ``(draws, n, d)``, and
the optimizers of ``adamref`` train all of them in one array (their updates are
elementwise).  Nothing here imports matplotlib.

**2. Overfitting a noisy regression.** A small noisy regression problem on which training too long overfits, and a
full-batch trainer that records the train, validation and test losses at
every step (for early stopping and for comparing regularizers).

Data: ``x ~ U[-1, 1]``, ``y = sin(3x) + N(0, σ²)`` for the training and
validation points; the test targets are the noiseless ``sin(3x)`` (so the test
loss is the squared distance to the true function).  Model: a linear
combination of the Legendre polynomials ``P_0 … P_{D-1}``, with more features
than training points.  Everything is vectorized over leading axes: ``draws``
data sets, and any configuration axes the optimizer's hyperparameters carry.
Nothing here imports matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from numpy.polynomial import legendre

from adamref.optim import Adam
from adamref.optim import validation as check
from adamref.problems.datasets import LeastSquares
from adamref.problems.runs import run
from adamref.problems.tuning import Tuned, tune


# -- 1. Wilson et al.'s construction ----------------------------------------
#: Columns every example shares: the label feature and two constant features.
SHARED = 3
#: How many features of its own an example has, by label.
OWN_POSITIVE, OWN_NEGATIVE = 1, 5


@dataclass(frozen=True)
class WilsonData:
    """``draws`` data sets: train ``(draws, n_train, d)``, test ``(draws, n_test, d)``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def dim(self) -> int:
        return self.X_train.shape[-1]


def features(y: np.ndarray) -> np.ndarray:
    """Feature matrices for labels ``y`` of shape ``(draws, n)`` with entries ±1:
    shape ``(draws, n, 3 + 5n)``; example ``i`` owns columns ``3 + 5i …``
    (the first one if positive, the first five if negative)."""
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[1] == 0 or not np.all(np.isin(y, (-1, 1))):
        raise ValueError(f"y must be a (draws, n) array of ±1 labels, got shape {y.shape}")
    draws, n = y.shape
    X = np.zeros((draws, n, SHARED + OWN_NEGATIVE * n))
    X[:, :, 0] = y
    X[:, :, 1:SHARED] = 1.0
    own = np.where(y > 0, OWN_POSITIVE, OWN_NEGATIVE)                # (draws, n)
    k = np.arange(OWN_NEGATIVE)                                      # offsets in a block
    rows = np.arange(n)
    columns = SHARED + OWN_NEGATIVE * rows[:, None] + k              # (n, 5)
    mask = k < own[..., None]                                        # (draws, n, 5)
    X[:, rows[:, None], columns] = mask                              # broadcast over draws
    return X


def make_wilson_data(n_train: int = 40, n_test: int = 1000, p: float = 7 / 8, draws: int = 10,
              seed: int = 0) -> WilsonData:
    """``draws`` seeded data sets with ``n_train`` training and ``n_test`` test
    examples, labels ``+1`` with probability ``p``."""
    n_train = check.integer("n_train", n_train, 1)
    n_test = check.integer("n_test", n_test, 1)
    draws = check.integer("draws", draws, 1)
    p = check.hyperparameter("p", p, low=0.0, high=1.0)
    if np.ndim(p):
        raise TypeError(f"p must be a scalar, got {p!r}")
    rng = np.random.default_rng(check.seed("seed", seed))
    y = np.where(rng.random((draws, n_train + n_test)) < p, 1.0, -1.0)
    y_train, y_test = y[:, :n_train], y[:, n_train:]
    X_train = features(y_train)
    # the shared columns of features(y_test), without building its n_test own
    # blocks (draws × n_test × 5·n_test numbers, all of which would get weight 0)
    X_test = np.zeros((draws, n_test, X_train.shape[2]))
    X_test[:, :, 0] = y_test                    # the label feature
    X_test[:, :, 1:SHARED] = 1.0                # the two constant features
    return WilsonData(X_train, y_train, X_test, y_test)


def _xyw(X, y, w):
    X, y, w = (np.asarray(a, dtype=float) for a in (X, y, w))
    if X.ndim != 3 or y.shape != X.shape[:2] or w.shape != (X.shape[0], X.shape[2]):
        raise ValueError(f"need X (draws, n, d), y (draws, n), w (draws, d); got shapes "
                         f"{X.shape}, {y.shape}, {w.shape}")
    return X, y, w


def train_wilson(optimizer, problem: LeastSquares, steps: int, w0=None) -> np.ndarray:
    """Run ``optimizer`` (any ``adamref`` optimizer) for ``steps`` full-batch
    steps on every draw of ``problem`` at once (``LeastSquares(X, y)`` with ``X``
    of shape ``(draws, n, d)``), from ``w0`` (default 0); returns ``w``."""
    if not isinstance(problem, LeastSquares) or problem.X.ndim != 3:
        raise TypeError(f"problem must be a LeastSquares on draws (X of shape (draws, n, d)), "
                        f"got {problem!r:.80}")
    w0 = np.zeros(problem.X.shape[::2]) if w0 is None else w0
    return run(optimizer, problem.gradient, w0, steps).theta


def sign_solution(X, y) -> np.ndarray:
    """``sign(Xᵀy)`` per draw, shape ``(draws, d)``: the direction the adaptive
    methods converge to (Wilson et al.'s Lemma 3.1 when ``X·sign(Xᵀy) ∝ y``)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"need X (draws, n, d) and y (draws, n), got shapes {X.shape}, {y.shape}")
    return np.sign(np.einsum("snd,sn->sd", X, y))


def cosine(a, b) -> np.ndarray:
    """Cosine of the angle between ``a[s]`` and ``b[s]`` for each draw ``s``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must be (draws, d) arrays of one shape, "
                         f"got {a.shape}, {b.shape}")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    if np.any(norms == 0):
        raise ValueError("a and b must be nonzero in every draw")
    return np.sum(a * b, axis=1) / norms


def error_rate(w, X, y) -> np.ndarray:
    """Fraction of examples with ``sign(x·w) ≠ y`` (a score of 0 counts as an
    error), per draw."""
    X, y, w = _xyw(X, y, w)
    scores = np.einsum("snd,sd->sn", X, w)
    return np.mean(np.sign(scores) != y, axis=1)



# -- 2. Overfitting a noisy regression --------------------------------------

def target(x):
    """The true function, ``sin(3x)``."""
    return np.sin(3 * np.asarray(x, dtype=float))


@dataclass(frozen=True)
class RegressionData:
    """Feature matrices ``(draws, n, D)`` and targets ``(draws, n)`` per split."""

    features: dict
    targets: dict

    @property
    def n_features(self) -> int:
        return self.features["train"].shape[-1]


def make_regression_data(n_train: int = 20, n_val: int = 20, n_test: int = 200, n_features: int = 30,
              noise: float = 0.3, draws: int = 5, seed: int = 0) -> RegressionData:
    """``draws`` seeded data sets (see the module docstring)."""
    sizes = {"train": check.integer("n_train", n_train, 1), "val": check.integer("n_val", n_val, 1),
             "test": check.integer("n_test", n_test, 1)}
    n_features = check.integer("n_features", n_features, 1)
    draws = check.integer("draws", draws, 1)
    noise = check.hyperparameter("noise", noise, low=0.0)
    if np.ndim(noise):
        raise TypeError(f"noise must be a scalar, got {noise!r}")
    rng = np.random.default_rng(check.seed("seed", seed))
    features, targets = {}, {}
    for split, n in sizes.items():
        x = rng.uniform(-1.0, 1.0, (draws, n))
        y = target(x)
        if split != "test":
            y = y + noise * rng.standard_normal(x.shape)
        features[split] = legendre.legvander(x, n_features - 1)
        targets[split] = y
    return RegressionData(features, targets)


@dataclass(frozen=True)
class Curves:
    """Mean squared errors at steps ``0 … steps``: each of ``train, val, test``
    has shape ``(steps + 1, *theta.shape[:-1])``; ``theta`` holds the final
    parameters."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    theta: np.ndarray

    @cached_property
    def _stop(self) -> np.ndarray:
        # computed once per Curves: one tune per run
        steps = np.arange(self.val.shape[0])
        best = np.empty(self.val.shape[1:], dtype=int)
        for index in np.ndindex(best.shape):
            best[index] = tune(steps, self.val[(slice(None), *index)]).best_index
        best.flags.writeable = False
        return best

    def best_step(self) -> np.ndarray:
        """The early-stopping step of every run: the step of lowest validation
        loss, chosen by ``problems.tune`` over the steps (the earliest of equal
        losses), shape ``theta.shape[:-1]``."""
        return self._stop

    def at_best_val(self, split: str = "test") -> np.ndarray:
        """``split``'s loss at the step of lowest validation loss (early stopping)."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        return np.take_along_axis(getattr(self, split), self.best_step()[None], axis=0)[0]


def decoupled_decay_valid(lrs, weight_decays) -> np.ndarray:
    """Mask of the (α, λ) pairs, shape ``(len(lrs), len(weight_decays))``, for
    which decoupled decay is a decay: ``αλ ≤ 1``.  For ``αλ > 1`` the factor
    ``1 − αλ`` of ``θ ← (1 − αλ)θ`` is negative (every step flips the sign of
    θ), and for ``αλ > 2`` it exceeds 1 in size, so θ grows geometrically and
    the run overflows."""
    lrs = np.asarray(lrs, dtype=float)
    weight_decays = np.asarray(weight_decays, dtype=float)
    if lrs.ndim != 1 or weight_decays.ndim != 1:
        raise ValueError(f"lrs and weight_decays must be 1-D grids, got shapes {lrs.shape} "
                         f"and {weight_decays.shape}")
    return lrs[:, None] * weight_decays[None, :] <= 1.0


def check_decoupled_decay(lr: float, weight_decay: float) -> None:
    """Raise ``ValueError`` if decoupled decay with ``lr`` and ``weight_decay``
    has ``αλ > 1`` (see ``decoupled_decay_valid``), instead of letting the run
    produce inf and NaN."""
    if not decoupled_decay_valid([lr], [weight_decay])[0, 0]:
        raise ValueError(
            f"decoupled weight decay needs lr * weight_decay <= 1, got lr = {lr:g}, "
            f"weight_decay = {weight_decay:g} (factor 1 - lr * weight_decay = "
            f"{1 - lr * weight_decay:g}: θ flips sign every step and, beyond 2, overflows)")


def tuned_text(tuned: Tuned, fmt: str = "g") -> str:
    """A tuned value as the book prints it: the value if the grid brackets it,
    else the edge where the search stopped, ``"≤ 0.0001"`` or ``"≥ 3"`` (the
    optimum is open on that side)."""
    value = format(tuned.values[tuned.best_index], fmt)
    if tuned.bracketed:
        return value
    return ("≤ " if tuned.best_index == 0 else "≥ ") + value


@dataclass(frozen=True)
class Remedy:
    """One remedy tuned on a grid: ``alpha`` and ``lam`` (``tune`` results; ``lam``
    None without weight decay), ``index`` (the chosen ``(α, λ)`` of the grid: the
    tuned values, or the edges where the search stopped), ``near_alpha`` (the α
    whose validation loss is within 20% of the best, at the chosen λ), and per
    draw the ``train`` and ``test`` MSE at the end of training or at the
    early-stopping ``stop`` step (``stop`` is None without early stopping)."""

    alpha: Tuned
    lam: Tuned | None
    index: tuple
    near_alpha: Tuned
    train: np.ndarray
    test: np.ndarray
    stop: np.ndarray | None

    @property
    def bracketed(self) -> bool:
        """Whether every tuned value lies strictly inside its grid."""
        return self.alpha.bracketed and (self.lam is None or self.lam.bracketed)


@dataclass(frozen=True)
class GridRuns:
    """The runs of Adam on an (α, λ) grid: ``curves`` with configuration axes
    ``(len(lrs), len(weight_decays))``; ``valid`` marks the pairs that were run
    (for decoupled decay, ``αλ ≤ 1``; the others ran with λ = 0 and their scores
    are inf)."""

    lrs: np.ndarray
    weight_decays: np.ndarray
    decoupled: bool
    curves: Curves
    valid: np.ndarray

    def scores(self, early_stopping: bool) -> np.ndarray:
        """Mean validation loss over the draws per (α, λ), at the end of training
        or at the early-stopping step; inf for a pair that was not run."""
        val = self.curves.at_best_val("val") if early_stopping else self.curves.val[-1]
        return np.where(self.valid, val.mean(axis=0), np.inf)

    def tuned(self, early_stopping: bool, weight_decay: bool = True) -> tuple:
        """``(Tuned over α, Tuned over λ at the best α or None)``.  With
        ``weight_decay=False`` only the λ = 0 column is tuned (plain Adam; the
        grid must start at 0).  Otherwise each α is scored by its best λ (a
        profile), α is tuned on that profile, and λ at the best α (the edge where
        the search stopped if α is not bracketed: check ``bracketed`` before
        reading ``best``)."""
        scores = self.scores(early_stopping)
        if not weight_decay:
            if self.weight_decays[0] != 0:
                raise ValueError(f"plain Adam needs weight_decays[0] == 0, got "
                                 f"{self.weight_decays[0]!r}")
            return tune(self.lrs, scores[:, 0]), None
        profile = np.array([tune(self.weight_decays, row).best_score for row in scores])
        alpha = tune(self.lrs, profile)
        lam = tune(self.weight_decays, scores[alpha.best_index])
        return alpha, lam

    def remedy(self, early_stopping: bool, weight_decay: bool = True) -> Remedy:
        """The run ``tuned`` chooses (with or without weight decay, at the end of
        training or stopped early) and its errors per draw."""
        alpha, lam = self.tuned(early_stopping, weight_decay=weight_decay)
        a, b = alpha.best_index, lam.best_index if weight_decay else 0
        near = tune(self.lrs, self.scores(early_stopping)[:, b], factor=1.2)
        if early_stopping:
            train, test = (self.curves.at_best_val(split)[:, a, b] for split in ("train", "test"))
            stop = self.curves.best_step()[:, a, b]
        else:
            train, test, stop = self.curves.train[-1, :, a, b], self.curves.test[-1, :, a, b], None
        return Remedy(alpha, lam, (a, b), near, train, test, stop)


def grid_runs(data: "RegressionData", lrs, weight_decays, steps: int,
              decoupled: bool) -> GridRuns:
    """Adam with L2 (``decoupled=False``) or decoupled decay on every pair of
    the increasing grids ``lrs`` × ``weight_decays``, all draws in one run.
    Decoupled pairs with ``αλ > 1`` are not run (see ``decoupled_decay_valid``)."""
    lrs = np.asarray(lrs, dtype=float)
    weight_decays = np.asarray(weight_decays, dtype=float)
    if decoupled:
        valid = decoupled_decay_valid(lrs, weight_decays)
    else:
        valid = np.ones((lrs.size, weight_decays.size), dtype=bool)
    # the pairs that are not run get λ = 0 (a harmless run whose score is discarded)
    decay = np.where(valid, weight_decays[None, :], 0.0)
    opt = Adam(lr=lrs[:, None, None], weight_decay=decay[:, :, None],
               decoupled_weight_decay=bool(decoupled))
    curves = train_curves(opt, data, steps, configs=(lrs.size, weight_decays.size))
    return GridRuns(lrs, weight_decays, bool(decoupled), curves, valid)


def projected_gradient_residual(theta, gradient, radius: float) -> np.ndarray:
    """``max_j |θ_j − Π(θ − ∇f(θ))_j|`` per draw, Π the projection onto the box
    ``‖θ‖∞ ≤ radius``: zero exactly at the KKT points of ``min f`` subject to
    ``‖θ‖∞ ≤ radius`` (a feasible θ with, per coordinate, ``∇_j f = 0`` inside
    the box, or ``−∇_j f`` pointing out of the box at its face)."""
    theta = np.asarray(theta, dtype=float)
    gradient = np.asarray(gradient, dtype=float)
    radius = check.positive_number("radius", radius)
    if theta.shape != gradient.shape:
        raise ValueError(f"theta and gradient must have one shape, got {theta.shape}, "
                         f"{gradient.shape}")
    return np.abs(theta - np.clip(theta - gradient, -radius, radius)).max(axis=-1)


def regression_problems(data: RegressionData, configs: tuple = ()) -> dict:
    """``{split: LeastSquares}`` for the three splits, the data of shape
    ``(draws, *(1,)·len(configs), n, D)`` so that they broadcast against weights
    of shape ``(draws, *configs, D)``."""
    if not isinstance(data, RegressionData):
        raise TypeError(f"data must be a RegressionData, got {type(data).__name__}")
    if not isinstance(configs, tuple):
        raise TypeError(f"configs must be a tuple of integers >= 1, got {configs!r}")
    configs = tuple(check.integer(f"configs[{i}]", k, 1) for i, k in enumerate(configs))
    extra = (1,) * len(configs)

    def expand(a):      # (draws, n, ...) → broadcastable over the config axes
        return a.reshape(a.shape[:1] + extra + a.shape[1:])

    return {split: LeastSquares(expand(data.features[split]), expand(data.targets[split]))
            for split in ("train", "val", "test")}


def train_curves(optimizer, data: RegressionData, steps: int, configs: tuple = ()) -> Curves:
    """Full-batch training of ``½·mean (Φw − y)²`` from ``w = 0``.

    ``w`` has shape ``(draws, *configs, D)``: pass ``configs=(K,)`` with an
    optimizer whose hyperparameters have shape ``(K, 1)`` to train K
    configurations on every draw in one run.
    """
    problems = regression_problems(data, configs)
    w0 = np.zeros((data.features["train"].shape[0], *configs, data.n_features))

    # A split with more points than features (the test set) is scored through its
    # D×D Hessian, 2·(f(θ) − f(θ*) + f(θ*)), a D×D product per run instead of an
    # n×D pass: equal in exact arithmetic, and several times cheaper every step.
    gram = {split: problems[split].X.shape[-2] > data.n_features
            for split in ("train", "val", "test")}
    best = {split: problems[split].best_loss for split in gram if gram[split]}

    def mse(theta):     # mean squared errors: twice the least-squares losses
        return np.stack([2 * (problems[split].excess_loss(theta) + best[split]) if gram[split]
                         else 2 * problems[split].loss(theta)
                         for split in ("train", "val", "test")])

    result = run(optimizer, problems["train"].gradient, w0, steps, record=mse)
    train, val, test = np.moveaxis(result.history, 1, 0)
    return Curves(train, val, test, result.theta)


def smoothness(data: RegressionData) -> float:
    """The largest curvature ``c_max`` of the training loss (an eigenvalue of
    ``ΦᵀΦ/n``) over all draws: gradient descent is stable for ``α < 2/c_max``."""
    if not isinstance(data, RegressionData):
        raise TypeError(f"data must be a RegressionData, got {type(data).__name__}")
    hessian = LeastSquares(data.features["train"], data.targets["train"]).hessian
    return float(np.linalg.eigvalsh(hessian).max())


#: Every α and λ the explorer offers (1, 2, 5 per decade, and the chapter's
#: tuned pair α = 1, λ = 0.3): its runs are computed once per kind of decay, for
#: all of them in one array, and a control change is a look-up.
EXPLORER_LRS = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
EXPLORER_WEIGHT_DECAYS = (1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0,
                          5.0, 10.0)


def first_draw(data: RegressionData) -> RegressionData:
    """The first data set of ``data``, as a ``RegressionData`` of one draw."""
    if not isinstance(data, RegressionData):
        raise TypeError(f"data must be a RegressionData, got {type(data).__name__}")
    return RegressionData({k: v[:1] for k, v in data.features.items()},
                          {k: v[:1] for k, v in data.targets.items()})


@lru_cache(maxsize=4)
def _explorer_grid(decoupled: bool, steps: int, seed: int) -> tuple:
    # plain Adam (λ = 0) and every explorer (α, λ) on the chapter's first draw
    data = first_draw(make_regression_data(seed=seed))
    runs = grid_runs(data, EXPLORER_LRS, (0.0,) + EXPLORER_WEIGHT_DECAYS, steps, decoupled)
    return data, runs.curves


def plain_and_decayed_adam(lr=0.01, weight_decay=0.1, decoupled=False, steps=2000, seed=0):
    """The explorer's run: plain Adam and Adam with weight decay ``weight_decay``
    (L2, or decoupled as AdamW) trained side by side on the first draw of the
    chapter's regression data (``make_regression_data(seed=seed)``); returns
    ``(data, curves)`` with two configurations.

    For the α and λ of ``EXPLORER_LRS`` and ``EXPLORER_WEIGHT_DECAYS`` the runs
    come from one vectorized run of all of them (computed at the first call for
    each ``decoupled``, ``steps``, ``seed``); other values are run on their own."""
    lr = check.hyperparameter("lr", lr, low=0.0)
    weight_decay = check.hyperparameter("weight_decay", weight_decay, low=0.0)
    decoupled = check.flag("decoupled", decoupled)
    steps, seed = check.integer("steps", steps, 1), check.seed("seed", seed)
    if decoupled:          # αλ > 1 would flip θ's sign every step and, beyond 2, overflow
        check_decoupled_decay(lr, weight_decay)
    if lr in EXPLORER_LRS and weight_decay in EXPLORER_WEIGHT_DECAYS:
        data, grid = _explorer_grid(decoupled, steps, seed)
        a, b = EXPLORER_LRS.index(lr), 1 + EXPLORER_WEIGHT_DECAYS.index(weight_decay)
        pick = (slice(None), slice(None), a, [0, b])       # (..., draw, α, [plain, decayed])
        return data, Curves(grid.train[pick], grid.val[pick], grid.test[pick],
                            grid.theta[:, a, [0, b]])
    data = first_draw(make_regression_data(seed=seed))
    decays = np.array([[0.0], [weight_decay]])
    optimizer = Adam(lr=lr, weight_decay=decays, decoupled_weight_decay=decoupled)
    return data, train_curves(optimizer, data, steps, configs=(2,))


def fitted_functions(data: RegressionData, curves: Curves, x) -> np.ndarray:
    """The functions the final weights represent, evaluated at the points ``x``:
    shape ``curves.theta.shape[:-1] + x.shape`` (Legendre basis as in the data)."""
    basis = legendre.legvander(np.asarray(x, dtype=float), data.n_features - 1)
    return np.einsum("...d,nd->...n", curves.theta, basis)

