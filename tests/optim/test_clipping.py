"""Gradient clipping (``adamref.optim.clipping``) against PyTorch and its definition."""

from pathlib import Path

import numpy as np
import pytest

from adamref.optim.clipping import NORM_GUARD, clip_by_global_norm, clip_by_value, global_norm

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "clipping_torch.npz"


def test_clipping_matches_pytorch():
    with np.load(FIXTURE) as data:
        f = {k: data[k] for k in data.files}
    leaves = [f[f"leaf_{j}"] for j in range(3)]
    for i, max_norm in enumerate(f["max_norms"]):
        clipped, norm = clip_by_global_norm(leaves, float(max_norm))
        assert norm == pytest.approx(float(f[f"norm_{i}"]), rel=1e-14)
        for j, leaf in enumerate(clipped):
            np.testing.assert_allclose(leaf, f[f"norm_{i}_leaf_{j}"], rtol=1e-14, atol=1e-15)
    for i, value in enumerate(f["clip_values"]):
        for j, leaf in enumerate(clip_by_value(leaves, float(value))):
            np.testing.assert_array_equal(leaf, f[f"value_{i}_leaf_{j}"])


def test_global_norm_clipping_by_its_definition():
    grads = {"w": np.array([[3.0, 0.0], [0.0, 0.0]]), "b": np.array([4.0])}   # norm 5
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == 5.0 and set(clipped) == {"w", "b"}
    scale = 1.0 / (5.0 + NORM_GUARD)
    np.testing.assert_array_equal(clipped["b"], [4.0 * scale])
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-6)
    untouched, _ = clip_by_global_norm(grads, 10.0)            # never scaled up
    np.testing.assert_array_equal(untouched["w"], grads["w"])
    assert untouched["w"] is not grads["w"]                     # a copy
    zero, _ = clip_by_global_norm(np.zeros(3), 0.0)
    np.testing.assert_array_equal(zero, 0.0)


def test_k_models_are_clipped_each_by_its_own_norm():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 5))]
    thresholds = np.array([0.5, 1.0, 100.0, 2.0])
    clipped, norms = clip_by_global_norm(grads, thresholds, batch_dims=1)
    assert norms.shape == (4,)
    for k in range(4):
        alone, norm = clip_by_global_norm([g[k] for g in grads], float(thresholds[k]))
        assert norms[k] == pytest.approx(norm, rel=1e-15)
        for a, b in zip(alone, clipped):
            np.testing.assert_allclose(b[k], a, rtol=1e-15)


def test_value_clipping_nan_and_dtypes():
    g = np.array([-3.0, 0.2, np.nan, 7.0], dtype=np.float32)
    out = clip_by_value(g, 1.0)
    assert out.dtype == np.float32 and np.isnan(out[2])
    np.testing.assert_array_equal(out[[0, 1, 3]], np.float32([-1.0, 0.2, 1.0]))
    clipped, norm = clip_by_global_norm(g[[0, 1, 3]], 1.0)
    assert clipped.dtype == np.float32 and norm == pytest.approx(np.sqrt(9 + 0.04 + 49), rel=1e-7)
    nan_clipped, nan_norm = clip_by_global_norm(g, 1.0)
    assert np.isnan(nan_norm) and np.isnan(nan_clipped).all()    # as in PyTorch
    np.testing.assert_array_equal(g[[0, 1, 3]], np.float32([-3.0, 0.2, 7.0]))   # unmodified


@pytest.mark.parametrize("call, error, match", [
    (lambda: clip_by_global_norm(np.ones(3), -1.0), ValueError, "max_norm must be >= 0.0"),
    (lambda: clip_by_global_norm(np.ones(3), np.ones(3)), ValueError, "max_norm must be a number"),
    (lambda: clip_by_global_norm(np.ones((2, 3)), np.ones(3), batch_dims=1), ValueError,
     r"shape \(K,\) = \(2,\)"),
    (lambda: clip_by_global_norm([np.ones((2, 3)), np.ones(3)], 1.0, batch_dims=1),
     ValueError, "same leading axis"),
    (lambda: clip_by_global_norm(np.ones(3), 1.0, batch_dims=2), ValueError, "batch_dims must be"),
    (lambda: clip_by_global_norm([1.0, 2.0], 1.0), TypeError, "grads"),
    (lambda: clip_by_value(np.ones(3), -0.5), ValueError, "clip_value must be >= 0.0"),
    (lambda: clip_by_value(np.ones(3), np.ones(2)), ValueError, "does not broadcast"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
