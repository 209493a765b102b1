"""Chapters 'generalization' and 'non-convergence': Reddi et al.'s online
problems and the projected runner, Wilson et al.'s construction, the small
regression problem, their figures and explorers."""

from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pytest

import adamref
from adamref.lab import non_convergence as online
from adamref.lab import generalization
from adamref.problems import LeastSquares
from adamref.plots import generalization as plot_generalization
from adamref.plots import non_convergence as plot_non_convergence
from adamref.plots import widgets


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- online problems ---------------------------------------------------------------

def test_cyclic_gradients_follow_t_mod_period():
    np.testing.assert_array_equal(online.cyclic_gradients(7, 3.0, -1.0, 3),
                                  [3, -1, -1, 3, -1, -1, 3])
    g = online.cyclic_gradients(203, 1010.0, -10.0, 101)
    assert np.flatnonzero(g == 1010.0).tolist() == [0, 101, 202]
    assert g.sum() == 3 * 1010 - 200 * 10


def test_stochastic_gradients_are_seeded_with_the_right_frequency():
    a = online.stochastic_gradients(100_000, 1010.0, -10.0, 0.01, seed=3)
    b = online.stochastic_gradients(100_000, 1010.0, -10.0, 0.01, seed=3)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {1010.0, -10.0}
    assert abs(np.mean(a == 1010.0) - 0.01) < 0.002
    assert not np.array_equal(a, online.stochastic_gradients(100_000, seed=4))


def test_reddi_beta2():
    assert online.reddi_beta2(3.0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="C must be > 2.*2.0"):
        online.reddi_beta2(2.0)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("bias_correction", [False, True])
def test_constant_schedule_is_adamref_adam_followed_by_clipping(amsgrad, bias_correction):
    grads = online.cyclic_gradients(400, 1010.0, -10.0, 101)
    opt = adamref.Adam(lr=0.05, beta1=0.9, beta2=0.99, amsgrad=amsgrad,
                       bias_correction=bias_correction)
    x, expected = np.array([0.3]), []
    for g in grads:
        opt.step(x, np.array([g]))
        np.clip(x, -1.0, 1.0, out=x)
        expected.append(x[0])
    run = online.projected_adam(grads, lr=0.05, beta1=0.9, beta2=0.99, amsgrad=amsgrad,
                                schedule="constant", bias_correction=bias_correction, x0=0.3)
    np.testing.assert_allclose(run.x[1:], expected, rtol=0, atol=1e-15)
    assert run.x[0] == 0.3 and np.all(np.abs(run.x) <= 1)


def test_unprojected_run_with_array_hyperparameters_matches_separate_adam_runs():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal(50)
    lrs = np.array([0.01, 0.1])
    run = online.projected_adam(grads, lr=lrs, beta1=0.9, beta2=0.999, schedule="constant",
                                low=-1e9, high=1e9)
    for k, lr in enumerate(lrs):
        opt, x = adamref.Adam(lr=lr), np.array([0.0])
        for t, g in enumerate(grads):
            opt.step(x, np.array([g]))
            assert run.x[t + 1, k] == pytest.approx(x[0], abs=1e-14)


def test_sqrt_schedule_matches_a_scalar_reference_loop():
    grads = online.cyclic_gradients(30, 3.0, -1.0, 3)
    alpha, b1, b2, eps = 0.2, 0.5, 0.3, 1e-8
    run = online.projected_adam(grads, lr=alpha, beta1=b1, beta2=b2, eps=eps, amsgrad=True)
    x, m, v, vmax = 0.0, 0.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = max(vmax, v)
        m_hat, v_hat = m / (1 - b1**t), vmax / (1 - b2**t)
        step = alpha / np.sqrt(t) / (np.sqrt(v_hat) + eps)
        x = min(1.0, max(-1.0, x - step * m_hat))
        assert run.x[t] == pytest.approx(x, abs=1e-12)
        assert run.effective_step[t - 1] == pytest.approx(step, rel=1e-12)


def test_theorem_1_adam_goes_to_the_worst_point_amsgrad_to_the_best():
    grads = online.cyclic_gradients(3000, 3.0, -1.0, 3)
    run = online.projected_adam(grads, lr=0.1, beta1=0.0, beta2=online.reddi_beta2(3.0),
                                amsgrad=np.array([False, True]))
    assert run.x[-1, 0] > 0.99 and run.x[-1, 1] < -0.99
    regret = online.average_regret(run.x, grads)
    assert regret[-1, 0] > 0.6 and regret[-1, 1] < 0.1
    # the effective step of Adam grows between large gradients, AMSGrad's never does
    assert np.all(np.diff(run.effective_step[:, 1]) <= 0)
    assert np.any(np.diff(run.effective_step[:, 0]) > 0)


def test_average_regret_of_fixed_players():
    grads = online.cyclic_gradients(300, 3.0, -1.0, 3)
    best = np.full(301, -1.0)
    worst = np.full(301, 1.0)
    np.testing.assert_allclose(online.average_regret(best, grads), 0.0, atol=1e-15)
    r = online.average_regret(worst, grads)
    assert r[-1] == pytest.approx(2 * (3 - 2) / 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: online.projected_adam([1.0, 2.0]), TypeError, "grads must be a NumPy ndarray"),
    (lambda: online.projected_adam(np.array([1, 2])), TypeError, "grads must have a floating"),
    (lambda: online.projected_adam(np.zeros(0)), ValueError, r"grads must have shape \(T, ...\)"),
    (lambda: online.projected_adam(np.ones(3), beta1=1.0), ValueError, "beta1 must be in"),
    (lambda: online.projected_adam(np.ones(3), lr=-1.0), ValueError, "lr must be >= 0"),
    (lambda: online.projected_adam(np.ones(3), schedule="cosine"), ValueError,
     "schedule must be one of .* got 'cosine'"),
    (lambda: online.projected_adam(np.ones(3), x0=2.0), ValueError,
     r"x0 must lie in \[-1.0, 1.0\]"),
    (lambda: online.projected_adam(np.ones(3), amsgrad="yes"), TypeError, "amsgrad must be"),
    (lambda: online.projected_adam(np.ones(3), low=1.0, high=-1.0), ValueError, "low < high"),
    (lambda: online.cyclic_gradients(0), ValueError, "steps must be an integer >= 1, got 0"),
    (lambda: online.cyclic_gradients(5, period=1), ValueError, "period must be an integer >= 2"),
    (lambda: online.cyclic_gradients(5.0), TypeError, "steps must be an integer"),
    (lambda: online.stochastic_gradients(5, prob=1.5), ValueError, r"prob must be in \[0.0, 1.0\]"),
    (lambda: online.stochastic_gradients(5, seed=None), TypeError, "seed must be an integer"),
    (lambda: online.average_regret(np.zeros(3), np.zeros(3)), ValueError, "one more row"),
    (lambda: online.average_regret(np.zeros(4), np.zeros(3), low=1.0, high=0.0), ValueError,
     "low < high, got 1.0, 0.0"),
])
def test_online_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- Wilson et al.'s construction -----------------------------------------------------

def test_features_follow_the_construction():
    y = np.array([[1.0, -1.0, 1.0]])
    X = generalization.features(y)
    assert X.shape == (1, 3, 3 + 5 * 3)
    np.testing.assert_array_equal(X[0, :, 0], y[0])
    np.testing.assert_array_equal(X[0, :, 1:3], 1.0)
    own = X[0, :, 3:]
    assert own.sum(axis=1).tolist() == [1, 5, 1]
    assert np.all(own.sum(axis=0) <= 1)                  # no feature is shared
    assert own[0, 0] == 1 and own[1, 5:10].sum() == 5 and own[2, 10] == 1


def test_sign_solution_interpolates_when_positives_dominate():
    data = generalization.make_wilson_data(n_train=30, n_test=10, p=0.8, draws=4, seed=1)
    X, y = data.X_train, data.y_train
    assert np.all(2 * (y > 0).sum(axis=1) > y.shape[1])
    np.testing.assert_allclose(np.einsum("snd,sd->sn", X, generalization.sign_solution(X, y)), 4 * y)
    # a test example's score is w1*y + w2 + w3 (its own features are not stored)
    assert np.all(data.X_test[:, :, 3:] == 0)


def test_gradient_matches_finite_differences():
    data = generalization.make_wilson_data(n_train=6, n_test=2, draws=2, seed=0)
    problem = LeastSquares(data.X_train, data.y_train)          # one data set per draw
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, data.dim))
    h, numeric = 1e-6, np.empty_like(w)
    for j in range(data.dim):
        e = np.zeros_like(w)
        e[:, j] = h
        numeric[:, j] = (problem.loss(w + e) - problem.loss(w - e)) / (2 * h)
    np.testing.assert_allclose(problem.gradient(w), numeric, rtol=1e-6, atol=1e-8)
    for s in range(2):                                          # each draw on its own
        one = LeastSquares(data.X_train[s], data.y_train[s])
        np.testing.assert_allclose(one.loss(w[s]), problem.loss(w)[s], rtol=1e-12)


def test_gd_finds_the_min_norm_solution_and_adaptive_methods_the_sign_vector():
    data = generalization.make_wilson_data(n_train=20, n_test=300, p=7 / 8, draws=3, seed=2)
    X, y = data.X_train, data.y_train
    problem = LeastSquares(X, y)
    w_gd = generalization.train_wilson(adamref.SGD(lr=0.3), problem, 1500)
    w_mn = problem.optimum
    np.testing.assert_allclose(w_gd, w_mn, atol=1e-8)
    np.testing.assert_array_equal(generalization.error_rate(w_gd, data.X_test, data.y_test), 0.0)
    negatives = np.mean(data.y_test < 0, axis=1)
    for opt in (adamref.Adam(lr=1e-3), adamref.RMSprop(lr=1e-3), adamref.AdaGrad(lr=0.05)):
        w = generalization.train_wilson(opt, problem, 1000)
        assert np.all(generalization.cosine(w, generalization.sign_solution(X, y)) > 0.9999)
        np.testing.assert_array_equal(generalization.error_rate(w, data.X_test, data.y_test), negatives)
        assert generalization.error_rate(w, X, y).max() == 0


def test_error_rate_counts_a_zero_score_as_an_error():
    X = np.ones((1, 2, 1))
    assert generalization.error_rate(np.zeros((1, 1)), X, np.array([[1.0, -1.0]]))[0] == 1.0


@pytest.mark.parametrize("call, error, message", [
    (lambda: generalization.features(np.array([[1.0, 0.0]])), ValueError, "y must be a .* ±1 labels"),
    (lambda: generalization.make_wilson_data(n_train=0), ValueError, "n_train must be an integer >= 1, got 0"),
    (lambda: generalization.make_wilson_data(p=1.5), ValueError, r"p must be in \[0.0, 1.0\], got 1.5"),
    (lambda: generalization.make_wilson_data(draws=True), TypeError, "draws must be an integer"),
    (lambda: generalization.make_wilson_data(seed="0"), TypeError, "seed must be an integer"),
    (lambda: generalization.error_rate(np.zeros((1, 3)), np.zeros((1, 2, 4)), np.zeros((1, 2))),
     ValueError, "need X"),
    (lambda: generalization.cosine(np.zeros((1, 2)), np.ones((1, 2))), ValueError, "nonzero"),
    (lambda: generalization.train_wilson(adamref.Adam(), LeastSquares(np.zeros((2, 3)), np.zeros(2)),
                                         1), TypeError, r"problem must be a LeastSquares on draws"),
    (lambda: generalization.train_wilson(adamref.Adam(), LeastSquares(np.zeros((1, 2, 3)),
                                                                      np.zeros((1, 2))), -1),
     ValueError, "steps must be an integer >= 0"),
])
def test_wilson_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- the small regression problem --------------------------------------------------------

def test_regression_data_is_seeded_and_the_test_targets_are_noiseless():
    a = generalization.make_regression_data(draws=2, seed=5)
    b = generalization.make_regression_data(draws=2, seed=5)
    np.testing.assert_array_equal(a.features["train"], b.features["train"])
    assert a.features["train"].shape == (2, 20, 30) and a.features["test"].shape == (2, 200, 30)
    x_test = a.features["test"][..., 1]                          # P_1(x) = x
    np.testing.assert_allclose(a.targets["test"], np.sin(3 * x_test))
    noise = a.targets["train"] - np.sin(3 * a.features["train"][..., 1])
    assert 0.15 < noise.std() < 0.45


def test_batched_configurations_equal_separate_runs_and_early_stopping_reads_the_minimum():
    data = generalization.make_regression_data(draws=2, seed=0)
    decays = np.array([0.0, 0.1])
    both = generalization.train_curves(adamref.Adam(lr=0.01, weight_decay=decays[:, None]), data,
                                    100, configs=(2,))
    for k, wd in enumerate(decays):
        one = generalization.train_curves(adamref.Adam(lr=0.01, weight_decay=wd), data, 100)
        np.testing.assert_allclose(both.test[:, :, k], one.test, rtol=1e-12)
        np.testing.assert_allclose(both.w[:, k], one.w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(both.train[0, :, 0], np.mean(data.targets["train"] ** 2, axis=1))
    step = both.best_step()
    np.testing.assert_array_equal(both.val[step, np.arange(2)[:, None], np.arange(2)],
                                  both.val.min(axis=0))
    np.testing.assert_array_equal(both.at_best_val("val"), both.val.min(axis=0))


def test_adam_with_l2_converges_to_the_ridge_fixed_point_and_plain_adam_overfits():
    data = generalization.make_regression_data(draws=1, seed=0)
    lam = 0.01
    curves = generalization.train_curves(adamref.Adam(lr=0.01, weight_decay=np.array([[0.0], [lam]])),
                                      data, 2000, configs=(2,))
    phi, y = data.features["train"][0], data.targets["train"][0]
    n = phi.shape[0]
    ridge = np.linalg.solve(phi.T @ phi / n + lam * np.eye(phi.shape[1]), phi.T @ y / n)
    np.testing.assert_allclose(curves.w[0, 1], ridge, atol=1e-6)
    plain = curves.test[:, 0, 0]
    assert plain[-1] > 2 * plain.min()                       # test loss turns up: overfit
    assert curves.train[-1, 0, 0] < curves.train[-1, 0, 1]


@pytest.mark.parametrize("call, error, message", [
    (lambda: generalization.make_regression_data(n_val=0), ValueError, "n_val must be an integer >= 1"),
    (lambda: generalization.make_regression_data(noise=-1.0), ValueError, "noise must be >= 0"),
    (lambda: generalization.train_curves(adamref.Adam(), "data", 3), TypeError,
     "data must be a RegressionData"),
    (lambda: generalization.train_curves(adamref.Adam(), generalization.make_regression_data(draws=1), 3,
                                      configs=[2]), TypeError, "configs must be a tuple"),
    (lambda: generalization.smoothness(None), TypeError, "data must be a RegressionData"),
])
def test_overfitting_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_at_best_val_rejects_an_unknown_split():
    curves = generalization.train_curves(adamref.Adam(), generalization.make_regression_data(draws=1), 2)
    with pytest.raises(ValueError, match="split must be .* got 'dev'"):
        curves.at_best_val("dev")


# -- figures and explorers -----------------------------------------------------------------

def test_draw_online_plots_the_run():
    fig = plt.figure()
    run = plot_non_convergence.draw_online(fig, C=3.0, lr=0.1, steps=300)
    ax_x, ax_r = fig.axes
    np.testing.assert_array_equal(ax_x.lines[0].get_ydata(), run.x[1:, 0])
    assert "C = 3" in ax_x.get_title() and ax_x.get_xlabel() and ax_r.get_ylabel()


def test_online_explorer_redraws_when_c_and_alpha_change():
    C, lr = widgets.int_slider(3, 3, 20, "C"), widgets.lr_slider(value=0.1, high=10.0)
    ex = widgets.explorer(partial(plot_non_convergence.draw_online, steps=300), C=C, lr=lr)
    first = ex.figure.axes[0].lines[0].get_ydata().copy()
    C.value = 10
    assert ex.redraws == 2 and "C = 10" in ex.figure.axes[0].get_title()
    second = ex.figure.axes[0].lines[0].get_ydata().copy()
    assert not np.array_equal(first, second)
    lr.value = 1.0
    assert ex.redraws == 3
    assert not np.array_equal(second, ex.figure.axes[0].lines[0].get_ydata())


def test_overfitting_explorer_redraws_when_decay_and_its_type_change():
    lr = widgets.lr_slider(value=0.01, high=0.1)
    wd = widgets.lr_slider(value=0.01, high=10.0, description="λ")
    decoupled = widgets.toggle(False, "decoupled")
    ex = widgets.explorer(partial(plot_generalization.draw_overfitting, steps=200), lr=lr, weight_decay=wd,
                          decoupled=decoupled)
    ax_curves, ax_fit = ex.figure.axes
    assert ax_fit.get_xlabel() == "$x$" and ax_curves.get_yscale() == "log"
    before = ax_curves.lines[3].get_ydata().copy()           # regularized test curve
    decoupled.value = True
    assert ex.redraws == 2
    labels = [t.get_text() for t in ex.figure.axes[0].get_legend().get_texts()]
    assert labels[1].startswith("AdamW")
    assert not np.array_equal(before, ex.figure.axes[0].lines[3].get_ydata())
    wd.value = 1.0
    assert "λ = 1" in [t.get_text() for t in ex.figure.axes[0].get_legend().get_texts()][1]


def test_static_plots_label_their_axes_and_reject_empty_input():
    ax = plot_generalization.plot_test_errors({"GD": [0.0, 0.0], "Adam": [0.1, 0.12]}, [0.1, 0.12])
    assert ax.get_ylabel() == "test error" and ax.get_title()
    ax = plot_generalization.plot_weights({"GD": np.arange(30.0)})
    assert ax.get_xlabel() and ax.get_ylabel()
    ax = plot_non_convergence.plot_effective_steps({"Adam": [1.0, 2.0]})
    assert ax.get_yscale() == "log"
    for plot in (plot_generalization.plot_test_errors, plot_non_convergence.plot_iterates):
        with pytest.raises(ValueError, match="must be a non-empty dict"):
            plot({}, [0.1]) if plot is plot_generalization.plot_test_errors else plot({})
    with pytest.raises(ValueError, match="curves must be a non-empty dict"):
        plot_generalization.plot_train_test({})
    with pytest.raises(TypeError, match="decoupled must be True or False"):
        plot_generalization.draw_overfitting(plt.figure(), decoupled="yes")
