"""The digits data set: 1,797 handwritten digits as 8 × 8 images, split into
fixed, seeded training, validation and test sets.

The images are the UCI "optical recognition of handwritten digits" test set
that scikit-learn ships inside its package (``sklearn.datasets.load_digits``),
so nothing is downloaded.  scikit-learn is needed only here and only when the
data are loaded, and is not a dependency of ``adamref`` (the book installs
it).  ``load_digits`` reads scikit-learn's bundled file
(``sklearn/datasets/data/digits.csv.gz``) directly, as scikit-learn's own
loader does, without importing scikit-learn (whose import alone costs
~0.7 s of CPU, more than reading the data); if the file is not where
scikit-learn 1.x keeps it, it calls ``sklearn.datasets.load_digits``.  A test
checks that both give the same bits.  Each pixel is an integer
count from 0 to 16; the features are the counts divided by 16, which is exact
in floating point, so the data are the same bits on every machine.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from adamref.optim import validation as check

#: The number of images scikit-learn ships, and their pixels and classes.
N_IMAGES, N_PIXELS, N_CLASSES = 1797, 64, 10


#: Where scikit-learn keeps the digits inside its package (1.x): one row per
#: image, 64 pixel counts and the label, comma-separated.
BUNDLED_FILE = ("datasets", "data", "digits.csv.gz")


def bundled_file() -> Path | None:
    """scikit-learn's copy of the digits, found without importing scikit-learn;
    ``None`` if scikit-learn is not installed or keeps the file elsewhere."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*BUNDLED_FILE)
    return path if path.is_file() else None


def _read_with_sklearn() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the digits data set: "
            "pip install scikit-learn (or install adamref with its 'book' extra, "
            "pip install -e '.[book]')") from error
    bunch = sklearn_load_digits()
    return bunch.data, bunch.target


@lru_cache(maxsize=1)
def _images_and_labels() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's copy of the digits, read once: pixel counts (1797, 64) and labels."""
    path = bundled_file()
    if path is not None:                       # what sklearn.datasets.load_digits reads
        with gzip.open(path, mode="rt", encoding="utf-8") as text:
            table = np.loadtxt(text, delimiter=",")
        images, labels = table[:, :-1], table[:, -1]
    else:
        images, labels = _read_with_sklearn()
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
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
