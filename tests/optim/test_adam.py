"""Adam against hand-computed values and against the properties the paper states."""

import numpy as np
import pytest

import adamref
from adamref.optim import Adam, adam_update


def run(opt, theta0, grads):
    """Apply ``opt`` to a copy of ``theta0`` along a fixed gradient sequence;
    return the trajectory (one row per step)."""
    theta = np.array(theta0, dtype=float)
    path = []
    for g in grads:
        opt.step(theta, np.asarray(g, dtype=float))
        path.append(theta.copy())
    return np.array(path)


class TestHandComputed:
    """Algorithm 1 by hand: θ0 = 1, g1 = 2, g2 = −1, α = 0.1, default β and ε."""

    # t = 1: m = 0.1·2, v = 0.001·4, m̂ = 0.2/0.1 = 2, v̂ = 0.004/0.001 = 4
    theta1 = 1 - 0.1 * 2 / (2 + 1e-8)
    # t = 2: m = 0.9·0.2 + 0.1·(−1) = 0.08, v = 0.999·0.004 + 0.001·1 = 0.004996
    #        m̂ = 0.08/(1 − 0.81), v̂ = 0.004996/(1 − 0.998001)
    theta2 = theta1 - 0.1 * (0.08 / 0.19) / (np.sqrt(0.004996 / 0.001999) + 1e-8)

    def test_adam_update(self):
        theta, m, v = np.array([1.0]), np.zeros(1), np.zeros(1)
        theta, m, v = adam_update(theta, np.array([2.0]), m, v, 1, lr=0.1)
        assert theta[0] == pytest.approx(self.theta1, rel=1e-15)
        assert (m[0], v[0]) == pytest.approx((0.2, 0.004), rel=1e-15)
        theta, m, v = adam_update(theta, np.array([-1.0]), m, v, 2, lr=0.1)
        assert theta[0] == pytest.approx(self.theta2, rel=1e-15)
        assert (m[0], v[0]) == pytest.approx((0.08, 0.004996), rel=1e-14)

    def test_adam_step(self):
        opt = Adam(lr=0.1)
        path = run(opt, [1.0], [[2.0], [-1.0]])
        np.testing.assert_allclose(path[:, 0], [self.theta1, self.theta2], rtol=1e-15)
        assert opt.t == 2
        np.testing.assert_allclose([opt.m[0], opt.v[0]], [0.08, 0.004996], rtol=1e-14)

    def test_epsilon_hat_first_step(self):
        # α_1 = 0.1·√0.001/0.1; step = α_1·m/(√v + ε̂) with m = 0.2, v = 0.004
        opt = Adam(lr=0.1, eps=1e-7, epsilon_hat=True)
        theta = run(opt, [1.0], [[2.0]])[0, 0]
        alpha_1 = 0.1 * np.sqrt(0.001) / 0.1
        assert theta == pytest.approx(1 - alpha_1 * 0.2 / (np.sqrt(0.004) + 1e-7), rel=1e-15)

    def test_no_bias_correction_first_step(self):
        # m = 0.2, v = 0.004: step = 0.1·0.2/√0.004 = 0.1·(1 − β1)/√(1 − β2)
        theta = run(Adam(lr=0.1, eps=0.0, bias_correction=False), [1.0], [[2.0]])[0, 0]
        assert theta == pytest.approx(1 - 0.1 * 0.2 / np.sqrt(0.004), rel=1e-15)


class TestPaperProperties:
    rng = np.random.default_rng(20141222)  # the arXiv date of the paper

    def test_first_step_is_lr_times_sign(self):
        g = self.rng.standard_normal(50) * 10.0 ** self.rng.uniform(-6, 6, 50)
        path = run(Adam(lr=0.01, eps=0.0), np.zeros(50), [g])
        np.testing.assert_allclose(path[0], -0.01 * np.sign(g), rtol=1e-14)

    @pytest.mark.parametrize("scale", [1e-6, 1e-3, 7.0, 1e5])
    def test_invariant_to_gradient_scale(self, scale):
        grads = self.rng.standard_normal((30, 8))
        reference = run(Adam(lr=0.01, eps=0.0), np.ones(8), grads)
        scaled = run(Adam(lr=0.01, eps=0.0), np.ones(8), grads * scale)
        np.testing.assert_allclose(scaled, reference, rtol=1e-13)

    def test_zero_betas_is_sign_descent(self):
        grads = self.rng.standard_normal((20, 6))
        path = run(Adam(lr=0.05, beta1=0.0, beta2=0.0, eps=0.0), np.zeros(6), grads)
        steps = np.diff(path, axis=0, prepend=0.0)
        np.testing.assert_allclose(steps, -0.05 * np.sign(grads), rtol=1e-13, atol=1e-15)

    def test_step_bounded_by_lr_when_betas_equal(self):
        # With β1 = β2, m̂ and v̂ average g and g² with the same weights, so
        # |m̂| ≤ √v̂ (Jensen) and |Δθ| ≤ α for every gradient sequence.
        grads = self.rng.standard_normal((200, 40)) * self.rng.exponential(1.0, (200, 40))
        path = run(Adam(lr=0.01, beta1=0.9, beta2=0.9, eps=0.0), np.zeros(40), grads)
        steps = np.abs(np.diff(path, axis=0, prepend=0.0))
        assert steps.max() <= 0.01 * (1 + 1e-12)

    @pytest.mark.parametrize("mean", [0.5, 1.0, 10.0])
    def test_dense_stationary_step_is_lr_times_snr(self, mean):
        # The paper's "common case": |Δθ| ≈ α·|E[g]|/√E[g²] ≤ α.  It holds on
        # average; single steps can exceed α (measured max ≈ 1.4α at mean 0.5),
        # but never the sparse-case bound α(1 − β1)/√(1 − β2) ≈ 3.16α.
        grads = mean + self.rng.standard_normal((1500, 100))
        path = run(Adam(lr=0.01), np.zeros(100), grads)
        steps = np.abs(np.diff(path, axis=0))[500:] / 0.01
        snr = mean / np.sqrt(mean**2 + 1)
        assert steps.mean() == pytest.approx(snr, rel=0.02)
        assert steps.max() < 0.1 / np.sqrt(0.001)

    @pytest.mark.parametrize("t", [10, 100, 5000])
    def test_spike_after_zero_gradients(self, t):
        # t − 1 zero gradients, then g: m = (1 − β1)g, v = (1 − β2)g², so
        # |Δθ| = α·(1 − β1)/(1 − β1^t) · √(1 − β2^t)/√(1 − β2)  →  3.16·α.
        grads = np.zeros((t, 1))
        grads[-1] = 4.0
        # ε must be > 0 (0/0 while g = 0) but negligible against √v̂ at the spike.
        path = run(Adam(lr=1e-3, eps=1e-300), [0.0], grads)
        expected = 1e-3 * 0.1 / (1 - 0.9**t) * np.sqrt(1 - 0.999**t) / np.sqrt(0.001)
        assert -path[-1, 0] == pytest.approx(expected, rel=1e-12)
        if t == 5000:
            # late spikes approach the paper's bound α(1 − β1)/√(1 − β2) from below
            assert 0.995 * 0.1 / np.sqrt(0.001) * 1e-3 < -path[-1, 0] < 0.1 / np.sqrt(0.001) * 1e-3

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_adam_update_agrees_with_step(self, dtype):
        grads = self.rng.standard_normal((25, 3, 4)).astype(dtype)
        theta = np.ones((3, 4), dtype)
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        opt, theta_opt = Adam(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6), theta.copy()
        for t, g in enumerate(grads, start=1):
            theta, m, v = adam_update(theta, g, m, v, t, lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6)
            opt.step(theta_opt, g)
        rtol = 1e-5 if dtype == np.float32 else 1e-13
        for ours, pure in [(theta_opt, theta), (opt.m, m), (opt.v, v)]:
            assert ours.dtype == pure.dtype == dtype
            np.testing.assert_allclose(ours, pure, rtol=rtol)

    def test_adam_update_is_pure(self):
        theta, g, m, v = np.ones(3), np.full(3, 2.0), np.zeros(3), np.zeros(3)
        adam_update(theta, g, m, v, 1)
        assert (theta == 1).all() and (g == 2).all() and (m == 0).all() and (v == 0).all()


class TestVariants:
    rng = np.random.default_rng(7)

    def test_amsgrad_keeps_running_max_of_raw_v(self):
        grads = [[3.0], [0.01], [0.01]]
        opt = Adam(lr=0.1, amsgrad=True)
        run(opt, [0.0], grads)
        # v1 = 0.001·9 = 0.009; then g² = 1e-4 < v, so v decays:
        # v2 = 0.999·0.009 + 0.001·1e-4 = 0.0089911, v3 = 0.999·v2 + 1e-7.  max = v1.
        assert opt.v_max[0] == pytest.approx(0.009, rel=1e-14)
        assert opt.v[0] == pytest.approx(0.999 * 0.0089911 + 1e-7, rel=1e-14)

    def test_amsgrad_off_has_no_v_max(self):
        opt = Adam()
        run(opt, [0.0], [[1.0]])
        assert opt.v_max is None

    def test_coupled_weight_decay_is_l2_gradient(self):
        grads = self.rng.standard_normal((10, 5))
        decayed, theta = Adam(lr=0.01, weight_decay=0.3), np.ones(5)
        plain, theta_plain = Adam(lr=0.01), np.ones(5)
        for g in grads:
            decayed.step(theta, g)
            plain.step(theta_plain, g + 0.3 * theta_plain)
        np.testing.assert_array_equal(theta, theta_plain)

    def test_decoupled_weight_decay_shrinks_before_moments(self):
        # With zero gradient the moments stay 0 and only the decay acts.
        opt = Adam(lr=0.1, weight_decay=0.5, decoupled_weight_decay=True, eps=1e-8)
        path = run(opt, [2.0], [[0.0], [0.0]])
        np.testing.assert_allclose(path[:, 0], [2.0 * 0.95, 2.0 * 0.95**2], rtol=1e-15)

    def test_adamw_defaults_match_pytorch(self):
        opt = adamref.AdamW()
        assert (opt.lr, opt.weight_decay, opt.decoupled_weight_decay) == (1e-3, 1e-2, True)

    def test_keras_adam_defaults(self):
        opt = adamref.keras_adam()
        assert (opt.lr, opt.eps, opt.epsilon_hat, opt.decoupled_weight_decay) == (
            1e-3, 1e-7, True, True)

    def test_maximize_is_descent_on_negated_gradient(self):
        grads = self.rng.standard_normal((10, 4))
        up = run(Adam(lr=0.01, maximize=True), np.zeros(4), grads)
        down = run(Adam(lr=0.01), np.zeros(4), -grads)
        np.testing.assert_array_equal(up, down)


class TestStructuresAndDtypes:
    def test_list_and_dict_params_match_single_arrays(self):
        rng = np.random.default_rng(3)
        grads = rng.standard_normal((5, 7))
        single = run(Adam(lr=0.1), np.zeros(7), grads)[-1]
        as_list = [np.zeros(3), np.zeros(4)]
        as_dict = {"w": np.zeros(3), "b": np.zeros(4)}
        opt_list, opt_dict = Adam(lr=0.1), Adam(lr=0.1)
        for g in grads:
            assert opt_list.step(as_list, [g[:3], g[3:]]) is as_list
            assert opt_dict.step(as_dict, {"w": g[:3], "b": g[3:]}) is as_dict
        np.testing.assert_array_equal(np.concatenate(as_list), single)
        np.testing.assert_array_equal(np.concatenate([as_dict["w"], as_dict["b"]]), single)
        assert set(opt_dict.m) == {"w", "b"} and len(opt_list.v) == 2

    def test_step_returns_same_array_object(self):
        theta = np.zeros(3)
        assert Adam().step(theta, np.ones(3)) is theta

    @pytest.mark.parametrize("lr", [1e-2, np.array([[1e-2], [1e-3]])])
    def test_float32_stays_float32(self, lr):
        theta = np.ones((2, 3), np.float32)
        opt = Adam(lr=lr, amsgrad=True, weight_decay=0.1)
        opt.step(theta, np.ones((2, 3), np.float32))
        assert theta.dtype == opt.m.dtype == opt.v.dtype == opt.v_max.dtype == np.float32

    def test_non_contiguous_params_are_updated_in_place(self):
        base = np.zeros((4, 6))
        view = base[:, ::2]                      # strided: takes the whole-array path
        Adam(lr=0.1).step(view, np.ones((4, 3)))
        np.testing.assert_allclose(base[:, ::2], -0.1, rtol=1e-7)
        assert (base[:, 1::2] == 0).all()

    def test_params_larger_than_one_chunk(self):
        from adamref.optim.engine import CHUNK
        n = 2 * CHUNK + 123
        rng = np.random.default_rng(5)
        grads = rng.standard_normal((3, n))
        theta, m, v = np.zeros(n), np.zeros(n), np.zeros(n)
        ours = run(Adam(lr=0.1), np.zeros(n), grads)[-1]
        for t, g in enumerate(grads, start=1):
            theta, m, v = adam_update(theta, g, m, v, t, lr=0.1)
        # θ crosses zero for some coordinates: compare with an absolute floor.
        np.testing.assert_allclose(ours, theta, rtol=1e-14, atol=1e-16)


class TestChunkedThreadedPath:
    """Large contiguous arrays are cut into cache-sized chunks shared between
    threads; shrink CHUNK so the tests exercise that path on small arrays."""

    @pytest.fixture(autouse=True)
    def small_chunks(self, monkeypatch):
        import adamref.optim.engine as engine
        monkeypatch.setattr(engine, "CHUNK", 64)
        monkeypatch.setattr(engine, "THREADS", 3)

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_threaded_chunks_equal_a_single_pass(self, dtype):
        rng = np.random.default_rng(8)
        grads = rng.standard_normal((6, 1000)).astype(dtype)   # 16 chunks over 3 threads
        chunked, opt = np.ones(1000, dtype), Adam(lr=0.01, amsgrad=True)
        whole, opt_whole = np.ones((1000, 1), dtype), Adam(lr=np.array([0.01]), amsgrad=True)
        for g in grads:
            opt.step(chunked, g)
            opt_whole.step(whole, g[:, None])   # array lr: whole-array path, no chunks
        np.testing.assert_array_equal(chunked, whole[:, 0])
        np.testing.assert_array_equal(opt.v_max, opt_whole.v_max[:, 0])

    def test_overflow_in_a_worker_thread_is_reported(self):
        g = np.ones(1000, np.float32)
        g[937] = 1e20                                           # lands in a worker's chunk
        with pytest.raises(FloatingPointError, match="params: overflow"):
            Adam().step(np.zeros(1000, np.float32), g)


def test_beta2_zero_keeps_keras_form_of_v():
    """The docstring's caveat: at β2 = 0, v += (g² − v) rounds to 0 when g² is
    below half an ulp of the old v (Keras' form); PyTorch's form would give g²."""
    theta, opt = np.zeros(1), Adam(beta2=0.0)
    opt.step(theta, np.array([1e10]))
    opt.step(theta, np.array([1e-3]))
    assert opt.v[0] == 0.0
    opt.step(theta, np.array([2.0]))            # a g² comparable to v: v = g² again
    assert opt.v[0] == 4.0
