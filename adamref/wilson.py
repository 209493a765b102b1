"""The least-squares construction of Wilson et al. (2017, Sec. 3.3) on which
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as check
from .optimizer import restoring

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


def make_data(n_train: int = 40, n_test: int = 1000, p: float = 7 / 8, draws: int = 10,
              seed: int = 0) -> WilsonData:
    """``draws`` seeded data sets with ``n_train`` training and ``n_test`` test
    examples, labels ``+1`` with probability ``p``."""
    n_train = check.integer("n_train", n_train, 1)
    n_test = check.integer("n_test", n_test, 1)
    draws = check.integer("draws", draws, 1)
    p = check.hyperparameter("p", p, low=0.0, high=1.0)
    if np.ndim(p):
        raise TypeError(f"p must be a scalar, got {p!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    y = np.where(rng.random((draws, n_train + n_test)) < p, 1.0, -1.0)
    y_train, y_test = y[:, :n_train], y[:, n_train:]
    X_train = features(y_train)
    X_test = np.zeros((draws, n_test, X_train.shape[2]))
    X_test[:, :, :SHARED] = features(y_test)[:, :, :SHARED]   # own columns: weight 0
    return WilsonData(X_train, y_train, X_test, y_test)


def _xyw(X, y, w):
    X, y, w = (np.asarray(a, dtype=float) for a in (X, y, w))
    if X.ndim != 3 or y.shape != X.shape[:2] or w.shape != (X.shape[0], X.shape[2]):
        raise ValueError(f"need X (draws, n, d), y (draws, n), w (draws, d); got shapes "
                         f"{X.shape}, {y.shape}, {w.shape}")
    return X, y, w


def loss(w, X, y) -> np.ndarray:
    """``½·mean_i (x_i·w − y_i)²`` per draw, shape ``(draws,)``."""
    X, y, w = _xyw(X, y, w)
    r = np.einsum("snd,sd->sn", X, w) - y
    return 0.5 * np.mean(r**2, axis=1)


def gradient(w, X, y) -> np.ndarray:
    """Gradient of ``loss`` with respect to ``w``, shape ``(draws, d)``."""
    X, y, w = _xyw(X, y, w)
    r = np.einsum("snd,sd->sn", X, w) - y
    return np.einsum("snd,sn->sd", X, r) / X.shape[1]


def train(optimizer, X, y, steps: int, w0=None) -> np.ndarray:
    """Run ``optimizer`` (any ``adamref`` optimizer) for ``steps`` full-batch
    steps on every draw at once, from ``w0`` (default 0); returns ``w``."""
    steps = check.integer("steps", steps, 0)
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (draws, n, d), got shape {X.shape}")
    w = np.zeros((X.shape[0], X.shape[2])) if w0 is None else np.array(w0, dtype=float)
    with restoring(optimizer, w):
        for _ in range(steps):
            optimizer.step(w, gradient(w, X, y))
    return w


def min_norm_solution(X, y) -> np.ndarray:
    """``pinv(X)·y`` per draw: the interpolating ``w`` of least Euclidean norm,
    which gradient descent from 0 converges to."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"need X (draws, n, d) and y (draws, n), got shapes {X.shape}, {y.shape}")
    return np.einsum("sdn,sn->sd", np.linalg.pinv(X), y)


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
