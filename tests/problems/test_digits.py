"""``adamref.problems.digits`` (needs scikit-learn, which ships the data)."""

import builtins

import numpy as np
import pytest

from adamref.problems import digits as digits_module
from adamref.problems.digits import load_digits


def test_the_default_split_uses_every_image_once_scaled_to_the_unit_interval():
    pytest.importorskip("sklearn")
    d = load_digits()
    assert d.sizes == (1000, 397, 400)
    X = np.concatenate([d.X_train, d.X_val, d.X_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    from sklearn.datasets import load_digits as sklearn_load_digits
    raw = sklearn_load_digits()
    # the same 1797 (image, label) pairs, in another order
    ours = sorted(map(tuple, np.column_stack([X * 16, y])))
    theirs = sorted(map(tuple, np.column_stack([raw.data, raw.target])))
    assert ours == theirs
    assert X.min() == 0.0 and X.max() == 1.0 and X.dtype == np.float64
    np.testing.assert_array_equal(X * 16, np.round(X * 16))      # counts / 16: exact
    assert y.dtype == np.int64 and set(np.unique(d.y_train)) == set(range(10))


def test_the_split_is_seeded_and_read_only():
    pytest.importorskip("sklearn")
    a, b, c = load_digits(seed=3), load_digits(seed=3), load_digits(seed=4)
    np.testing.assert_array_equal(a.X_val, b.X_val)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_train, c.y_train)
    with pytest.raises(ValueError, match="read-only"):
        a.X_train[0, 0] = 1.0
    small = load_digits(n_train=100, n_val=50, n_test=20, seed=3)
    assert small.sizes == (100, 50, 20)
    np.testing.assert_array_equal(small.X_train, a.X_train[:100])    # a prefix of the same order


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_train": 1500, "n_val": 200, "n_test": 200}, ValueError, "at most 1797"),
    ({"n_train": 0}, ValueError, "n_train must be an integer >= 1, got 0"),
    ({"n_val": 2.5}, TypeError, "n_val must be an integer"),
    ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)


def test_without_scikit_learn_the_error_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.split(".")[0] == "sklearn":
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    digits_module._images_and_labels.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    monkeypatch.setattr(digits_module, "bundled_file", lambda: None)   # as without sklearn
    try:
        with pytest.raises(ImportError, match=r"pip install scikit-learn"):
            load_digits()
    finally:
        monkeypatch.undo()
        digits_module._images_and_labels.cache_clear()


def test_the_bundled_file_read_directly_is_what_scikit_learn_loads(monkeypatch):
    pytest.importorskip("sklearn")
    assert digits_module.bundled_file() is not None
    digits_module._images_and_labels.cache_clear()
    images, labels = digits_module._images_and_labels()
    from sklearn.datasets import load_digits as sklearn_load_digits
    raw = sklearn_load_digits()
    np.testing.assert_array_equal(images, raw.data)
    np.testing.assert_array_equal(labels, raw.target)
    # where the file is not found, scikit-learn's loader gives the same bits
    monkeypatch.setattr(digits_module, "bundled_file", lambda: None)
    digits_module._images_and_labels.cache_clear()
    try:
        via_sklearn = digits_module._images_and_labels()
    finally:
        monkeypatch.undo()
        digits_module._images_and_labels.cache_clear()
    np.testing.assert_array_equal(via_sklearn[0], images)
    np.testing.assert_array_equal(via_sklearn[1], labels)
    assert via_sklearn[1].dtype == labels.dtype == np.int64


def test_loading_does_not_import_scikit_learn():
    pytest.importorskip("sklearn")
    import subprocess
    import sys
    code = ("import sys; from adamref.problems.digits import load_digits; load_digits(); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_synthetic_digits_look_like_the_digits_and_are_learnable_by_construction():
    from adamref.problems.digits import synthetic_digits
    d = synthetic_digits(n_train=50, n_val=20, n_test=10, seed=2)
    assert d.sizes == (50, 20, 10) and d.X_train.shape == (50, 64)
    np.testing.assert_array_equal(d.X_train * 16, np.round(d.X_train * 16))
    assert 0 < np.mean(np.all(d.X_train == 0, axis=0)) < 0.5          # some dead pixels
    np.testing.assert_array_equal(synthetic_digits(seed=2, n_train=50, n_val=20, n_test=10).y_val,
                                  d.y_val)
    assert not d.X_test.flags.writeable
