"""A small noisy regression problem on which training too long overfits, and a
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

import numpy as np
from numpy.polynomial import legendre

from . import _validation as check
from .optimizer import restoring


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


def make_data(n_train: int = 20, n_val: int = 20, n_test: int = 200, n_features: int = 30,
              noise: float = 0.3, draws: int = 5, seed: int = 0) -> RegressionData:
    """``draws`` seeded data sets (see the module docstring)."""
    sizes = {"train": check.integer("n_train", n_train, 1), "val": check.integer("n_val", n_val, 1),
             "test": check.integer("n_test", n_test, 1)}
    n_features = check.integer("n_features", n_features, 1)
    draws = check.integer("draws", draws, 1)
    noise = check.hyperparameter("noise", noise, low=0.0)
    if np.ndim(noise):
        raise TypeError(f"noise must be a scalar, got {noise!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    rng = np.random.default_rng(seed)
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
    has shape ``(steps + 1, *w.shape[:-1])``; ``w`` holds the final weights."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    w: np.ndarray

    def at_best_val(self, split: str = "test") -> np.ndarray:
        """``split``'s loss at the step of lowest validation loss (early stopping)."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        best = np.argmin(self.val, axis=0)
        return np.take_along_axis(getattr(self, split), best[None], axis=0)[0]

    def best_step(self) -> np.ndarray:
        return np.argmin(self.val, axis=0)


def train_curves(optimizer, data: RegressionData, steps: int, configs: tuple = ()) -> Curves:
    """Full-batch training of ``½·mean (Φw − y)²`` from ``w = 0``.

    ``w`` has shape ``(draws, *configs, D)``: pass ``configs=(K,)`` with an
    optimizer whose hyperparameters have shape ``(K, 1)`` to train K
    configurations on every draw in one run.
    """
    steps = check.integer("steps", steps, 0)
    if not isinstance(data, RegressionData):
        raise TypeError(f"data must be a RegressionData, got {type(data).__name__}")
    if not isinstance(configs, tuple) or not all(
            isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1
            for k in configs):
        raise ValueError(f"configs must be a tuple of integers >= 1, got {configs!r}")
    phi, y = data.features, data.targets
    draws, n_train, dim = phi["train"].shape
    extra = (1,) * len(configs)
    w = np.zeros((draws, *configs, dim))

    def expand(a):      # (draws, n, ...) → broadcastable over the config axes
        return a.reshape(a.shape[:1] + extra + a.shape[1:])

    phis = {k: expand(v) for k, v in phi.items()}
    ys = {k: expand(v) for k, v in y.items()}
    record = {k: np.empty((steps + 1, draws, *configs)) for k in ("train", "val", "test")}
    with restoring(optimizer, w):
        for t in range(steps + 1):
            residual = {}
            for split in record:
                residual[split] = np.einsum("...nd,...d->...n", phis[split], w) - ys[split]
                record[split][t] = np.mean(residual[split] ** 2, axis=-1)
            if t == steps:
                break
            grad = np.einsum("...nd,...n->...d", phis["train"], residual["train"]) / n_train
            optimizer.step(w, grad)
    return Curves(record["train"], record["val"], record["test"], w)


def smoothness(data: RegressionData) -> float:
    """The largest curvature ``λ_max(ΦᵀΦ/n)`` of the training loss over all
    draws: gradient descent is stable for ``α < 2/λ_max``."""
    if not isinstance(data, RegressionData):
        raise TypeError(f"data must be a RegressionData, got {type(data).__name__}")
    phi = data.features["train"]
    gram = np.einsum("snd,sne->sde", phi, phi) / phi.shape[1]
    return float(np.linalg.eigvalsh(gram).max())
