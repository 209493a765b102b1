"""The digits data set: 1,797 handwritten digits as 8 × 8 images, split into
fixed, seeded training, validation and test sets.

The images are the UCI "optical recognition of handwritten digits" test set
that scikit-learn ships inside its package (``sklearn.datasets.load_digits``),
so nothing is downloaded.  scikit-learn is needed only here and only when the
data are loaded: it is imported inside ``load_digits`` and is not a
dependency of ``adamref`` (the book installs it).  Each pixel is an integer
count from 0 to 16; the features are the counts divided by 16, which is exact
in floating point, so the data are the same bits on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from adamref.optim import validation as check

#: The number of images scikit-learn ships, and their pixels and classes.
N_IMAGES, N_PIXELS, N_CLASSES = 1797, 64, 10


@lru_cache(maxsize=1)
def _images_and_labels() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's copy of the digits, read once: pixel counts (1797, 64) and labels."""
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the digits data set: "
            "pip install scikit-learn (or install adamref with its 'book' extra, "
            "pip install -e '.[book]')") from error
    bunch = sklearn_load_digits()
    images = np.asarray(bunch.data, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    if images.shape != (N_IMAGES, N_PIXELS) or labels.shape != (N_IMAGES,):
        raise RuntimeError(f"scikit-learn's digits have shape {images.shape}, {labels.shape}; "
                           f"expected ({N_IMAGES}, {N_PIXELS}) and ({N_IMAGES},)")
    return images, labels


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Digits:
    """The three splits: features ``X_*`` of shape ``(n, 64)`` in [0, 1] (float64,
    read-only) and labels ``y_*`` of shape ``(n,)`` in 0 … 9 (int64, read-only)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    seed: int

    n_features = N_PIXELS
    n_classes = N_CLASSES

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(training, validation, test)`` sizes."""
        return len(self.y_train), len(self.y_val), len(self.y_test)


def load_digits(*, n_train: int = 1000, n_val: int = 397, n_test: int = 400,
                seed: int = 0) -> Digits:
    """The digits, shuffled by ``np.random.default_rng(seed).permutation`` and cut
    into ``n_train`` training, ``n_val`` validation and ``n_test`` test images
    (together at most 1,797; the default uses them all).  Features are pixel
    counts / 16, in [0, 1].  Needs scikit-learn (``pip install scikit-learn``)."""
    n_train = check.integer("n_train", n_train, low=1)
    n_val = check.integer("n_val", n_val, low=1)
    n_test = check.integer("n_test", n_test, low=1)
    seed = check.seed("seed", seed)
    if n_train + n_val + n_test > N_IMAGES:
        raise ValueError(f"n_train + n_val + n_test must be at most {N_IMAGES}, got "
                         f"{n_train} + {n_val} + {n_test} = {n_train + n_val + n_test}")
    images, labels = _images_and_labels()
    order = np.random.default_rng(seed).permutation(N_IMAGES)
    cuts = np.cumsum([0, n_train, n_val, n_test])
    parts = [order[start:stop] for start, stop in zip(cuts[:-1], cuts[1:])]
    arrays = [_frozen(a) for rows in parts for a in (images[rows] / 16.0, labels[rows])]
    return Digits(*arrays, seed=seed)


def synthetic_digits(*, n_train: int = 80, n_val: int = 40, n_test: int = 40,
                     seed: int = 0) -> Digits:
    """A small stand-in for ``load_digits`` that needs no scikit-learn (for
    tests and quick runs): 64 "pixels" with counts 0 … 16 / 16 (a fifth of the
    pixels always 0, like the digits' empty border), and labels decided by a
    fixed random linear map of the pixels, so a network can learn them."""
    n_train = check.integer("n_train", n_train, low=1)
    n_val = check.integer("n_val", n_val, low=1)
    n_test = check.integer("n_test", n_test, low=1)
    rng = np.random.default_rng(check.seed("seed", seed))
    weights = rng.standard_normal((N_PIXELS, N_CLASSES))
    alive = rng.random(N_PIXELS) < 0.8
    arrays = []
    for n in (n_train, n_val, n_test):
        X = np.round(rng.random((n, N_PIXELS)) * 16) / 16 * alive            # counts / 16
        labels = np.argmax(np.einsum("np,pc->nc", X, weights), axis=1)       # the largest score
        arrays += [_frozen(X), _frozen(labels.astype(np.int64))]
    return Digits(*arrays, seed=seed)
