"""The generalization chapter: ``adamref.lab.generalization`` and
``adamref.plots.generalization``."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import adamref
from adamref.lab import generalization
from adamref.problems import LeastSquares
from adamref.plots import generalization as plot_generalization
from adamref.plots import non_convergence as plot_non_convergence
from adamref.plots.explorers import explore


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
    np.testing.assert_array_equal(data.X_test[:, :, :3],
                                  generalization.features(data.y_test)[:, :, :3])


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
        np.testing.assert_allclose(both.theta[:, k], one.theta, rtol=1e-12, atol=1e-15)
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
    np.testing.assert_allclose(curves.theta[0, 1], ridge, atol=1e-6)
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


def test_overfitting_explorer_redraws_when_decay_and_its_type_change():
    ex = explore("generalization")
    ax_curves, ax_fit = ex.figure.axes
    assert ax_fit.get_xlabel() == "$x$" and ax_curves.get_yscale() == "log"
    assert ex.values == {"lr": 1.0, "weight_decay": 0.3, "decoupled": True}
    before = ax_curves.lines[3].get_ydata().copy()           # regularized test curve
    assert len(before) == 1001                                # 2000 steps, every second
    ex.controls["decoupled"].value = False
    assert ex.redraws == 2
    labels = [t.get_text() for t in ex.figure.axes[0].get_legend().get_texts()]
    assert labels[1].startswith("Adam + L2")
    assert not np.array_equal(before, ex.figure.axes[0].lines[3].get_ydata())
    ex.controls["weight_decay"].value = 1.0
    assert "λ = 1" in [t.get_text() for t in ex.figure.axes[0].get_legend().get_texts()][1]
    ex.controls["decoupled"].value = True
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        ex.controls["weight_decay"].value = 5.0               # αλ = 5 > 1: refused, shown
    assert "weight_decay" in ex.error.value
    plt.close("all")


def test_the_explorer_grid_is_the_direct_run():
    for lr, wd, decoupled in ((1.0, 0.3, True), (0.002, 5.0, False)):
        data, curves = generalization.plain_and_decayed_adam(lr, wd, decoupled, steps=300)
        optimizer = adamref.Adam(lr=lr, weight_decay=np.array([[0.0], [wd]]),
                                 decoupled_weight_decay=decoupled)
        direct = generalization.train_curves(optimizer, data, 300, configs=(2,))
        for split in ("train", "val", "test", "theta"):
            np.testing.assert_array_equal(getattr(curves, split), getattr(direct, split))
    # a value off the explorer's grid is run on its own, on the same data
    data, off_grid = generalization.plain_and_decayed_adam(0.0123, 0.1, steps=300)
    assert off_grid.theta.shape == (1, 2, data.n_features)
    first = generalization.first_draw(generalization.make_regression_data(seed=0))
    np.testing.assert_array_equal(data.targets["val"], first.targets["val"])


def test_first_draw_is_the_first_data_set():
    data = generalization.make_regression_data(draws=3, seed=2)
    first = generalization.first_draw(data)
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(first.features[split], data.features[split][:1])
        np.testing.assert_array_equal(first.targets[split], data.targets[split][:1])
    with pytest.raises(TypeError, match="data must be a RegressionData"):
        generalization.first_draw({"train": 1})


def test_a_remedy_is_the_run_its_tuning_chose():
    data = generalization.make_regression_data(draws=2, seed=0)
    runs = generalization.grid_runs(data, [0.001, 0.01, 0.1, 1.0], [0.0, 0.01, 0.1, 1.0], 200,
                                    decoupled=False)
    for early in (False, True):
        remedy = runs.remedy(early)
        alpha, lam = runs.tuned(early)
        assert remedy.index == (alpha.best_index, lam.best_index)
        a, b = remedy.index
        curves = runs.curves
        expected = curves.at_best_val("test")[:, a, b] if early else curves.test[-1, :, a, b]
        np.testing.assert_array_equal(remedy.test, expected)
        assert (remedy.stop is None) == (not early)
        assert remedy.near_alpha.best_index == a            # the best α is near itself
        assert remedy.bracketed == (alpha.bracketed and lam.bracketed)
    plain = runs.remedy(False, weight_decay=False)
    assert plain.lam is None and plain.index[1] == 0


def test_tuned_text_names_an_open_edge():
    from adamref.problems import tune
    grid = [0.1, 1.0, 10.0]
    assert generalization.tuned_text(tune(grid, [3.0, 1.0, 2.0])) == "1"
    assert generalization.tuned_text(tune(grid, [1.0, 2.0, 3.0])) == "≤ 0.1"
    assert generalization.tuned_text(tune(grid, [3.0, 2.0, 1.0])) == "≥ 10"


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



def test_decoupled_decay_beyond_one_over_alpha_is_refused_not_run():
    valid = generalization.decoupled_decay_valid([0.1, 0.3], [1.0, 3.0, 10.0])
    np.testing.assert_array_equal(valid, [[True, True, True], [True, True, False]])
    with pytest.raises(ValueError, match="lr = 0.3, weight_decay = 10"):
        generalization.check_decoupled_decay(0.3, 10.0)
    generalization.check_decoupled_decay(0.1, 10.0)          # αλ = 1: allowed
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        plot_generalization.draw_overfitting(plt.figure(), lr=0.3, weight_decay=10.0, decoupled=True, steps=5)
    plt.close("all")
    # what the refusal prevents: the same run, unguarded, overflows
    data = generalization.make_regression_data(draws=1, seed=0)
    with np.errstate(all="ignore"):
        curves = generalization.train_curves(
            adamref.Adam(lr=0.3, weight_decay=10.0, decoupled_weight_decay=True), data, 2000)
    assert not np.all(np.isfinite(curves.train[-1]))
    runs = generalization.grid_runs(data, [0.1, 0.3], [1.0, 10.0], 20, decoupled=True)
    scores = runs.scores(early_stopping=False)
    assert np.isinf(scores[1, 1]) and np.all(np.isfinite(scores[[0, 0, 1], [0, 1, 0]]))


def test_grid_tuning_profiles_lambda_and_refuses_an_edge():
    data = generalization.make_regression_data(draws=2, seed=0)
    runs = generalization.grid_runs(data, [0.001, 0.01, 0.1], [0.0, 0.01, 1.0], 300,
                                    decoupled=False)
    alpha, lam = runs.tuned(early_stopping=False)
    scores = runs.scores(early_stopping=False)
    assert alpha.best_score == scores.min()
    assert lam.best_score == scores.min()
    plain, none = runs.tuned(early_stopping=False, weight_decay=False)
    assert none is None and plain.best_score == scores[:, 0].min()
    shifted = generalization.grid_runs(data, [0.001, 0.01, 0.1], [0.01, 1.0, 3.0], 10,
                                       decoupled=False)
    with pytest.raises(ValueError, match="weight_decays\\[0\\] == 0"):
        shifted.tuned(early_stopping=False, weight_decay=False)


def test_projected_gradient_residual_is_zero_exactly_at_kkt_points():
    theta = np.array([[1.0, -1.0, 0.2]])
    kkt = np.array([[-3.0, 2.0, 0.0]])      # pushes outward at the faces, zero inside
    assert generalization.projected_gradient_residual(theta, kkt, 1.0)[0] == 0
    inward = np.array([[3.0, 2.0, 0.0]])    # first coordinate wants to move inward
    assert generalization.projected_gradient_residual(theta, inward, 1.0)[0] == 2.0
    interior = np.array([[-3.0, 2.0, 0.5]])
    assert generalization.projected_gradient_residual(theta, interior, 1.0)[0] == 0.5
    with pytest.raises(ValueError, match="radius"):
        generalization.projected_gradient_residual(theta, kkt, 0.0)


def test_the_explorer_run_and_its_fitted_functions():
    data, curves = generalization.plain_and_decayed_adam(lr=0.01, weight_decay=0.1, steps=50)
    assert curves.theta.shape == (1, 2, data.n_features)
    x_train = data.features["train"][0, :, 1]                       # P_1(x) = x
    fitted = generalization.fitted_functions(data, curves, x_train)
    np.testing.assert_allclose(fitted[0], curves.theta[0] @ data.features["train"][0].T,
                               rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="weight_decay"):
        generalization.plain_and_decayed_adam(lr=0.3, weight_decay=10.0, decoupled=True)
