"""The basis-and-conditioning chapter: ``adamref.lab.basis_and_conditioning`` and
``adamref.plots.basis_and_conditioning``."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adamref.lab import basis_and_conditioning as lab
from adamref.lab.per_parameter_steps import sign_descent
from adamref.lab.sensitivity import random_rotation
from adamref.plots import basis_and_conditioning as plots
from adamref.problems import Quadratic, UnbracketedOptimum, run, trajectory
from adamref.optim import SGD, Adam


@pytest.fixture(scope="module")
def rates():
    return lab.measured_rates()


def small_grids(curvatures):
    """The chapter's grids for GD, heavy ball and Adam (fast enough for tests)."""
    grids = lab.default_grids(curvatures)
    return {name: grids[name] for name in ("GD", "heavy ball", "Adam")}


@pytest.fixture(scope="module")
def angles():
    c = (1.0, 100.0)
    return lab.angle_experiment((0.0, 30.0, 45.0), c, start_count=4, grids=small_grids(c))


# -- problems --------------------------------------------------------------------------------
class TestProblems:
    def test_rotation_2d_is_a_rounded_rotation(self):
        r = lab.rotation_2d(30.0)
        np.testing.assert_allclose(r, [[math.sqrt(3) / 2, -0.5], [0.5, math.sqrt(3) / 2]],
                                   atol=1e-12)
        np.testing.assert_array_equal(lab.rotation_2d(0), np.eye(2))
        np.testing.assert_array_equal(r, np.round(r, 12))
        with pytest.raises(TypeError, match="degrees must be a real number"):
            lab.rotation_2d("30")
        with pytest.raises(ValueError, match=r"degrees must be in \[-360, 360\], got 400"):
            lab.rotation_2d(400)

    def test_rotated_quadratic_keeps_the_curvatures_and_turns_the_eigenvectors(self):
        c = lab.log_spaced_curvatures(100.0, 6)
        rotation = random_rotation(6, seed=3)
        q = lab.rotated_quadratic(c, rotation)
        np.testing.assert_array_equal(q.hessian, q.hessian.T)
        np.testing.assert_allclose(np.linalg.eigvalsh(q.hessian), c, rtol=1e-10)
        # the curvature c_i lies along column i of the rotation
        np.testing.assert_allclose(q.hessian @ rotation[:, 2], c[2] * rotation[:, 2], atol=1e-9)
        u = np.random.default_rng(0).standard_normal((3, 6))
        np.testing.assert_allclose(q.value(lab.rotate_points(u, rotation)),
                                   Quadratic(c).value(u), rtol=1e-10)
        with pytest.raises(ValueError, match="rotation must be an orthogonal 6 x 6"):
            lab.rotated_quadratic(c, 2 * rotation)

    def test_log_spaced_curvatures_and_starts(self):
        c = lab.log_spaced_curvatures(1000.0, 4)
        np.testing.assert_allclose(c, [1.0, 10.0, 100.0, 1000.0])
        with pytest.raises(ValueError, match="condition_number must be >= 1"):
            lab.log_spaced_curvatures(0.5, 4)
        starts = lab.circle_starts(8)
        np.testing.assert_allclose(np.linalg.norm(starts, axis=1), 1.0, atol=1e-12)
        # at the chapter's angles no start lies on an axis or a diagonal
        for degrees in (0, 5, 10, 20, 30, 45):
            turned = lab.rotate_points(starts, lab.rotation_2d(degrees))
            assert np.min(np.abs(turned)) > 0.01
            assert np.min(np.abs(np.abs(turned[:, 0]) - np.abs(turned[:, 1]))) > 0.01
        np.testing.assert_array_equal(lab.gaussian_starts(2, 5, 1), lab.gaussian_starts(2, 5, 1))
        assert not np.array_equal(lab.gaussian_starts(2, 5, 1), lab.gaussian_starts(2, 5, 2))

    def test_problem_stack_evaluates_each_slice_on_its_problem(self):
        a, b = Quadratic([1.0, 4.0]), lab.rotated_quadratic([1.0, 4.0], lab.rotation_2d(30))
        stack = lab.ProblemStack([a, b])
        theta = np.random.default_rng(0).standard_normal((2, 3, 2))
        np.testing.assert_array_equal(stack.gradient(theta)[1], b.gradient(theta[1]))
        np.testing.assert_array_equal(stack.excess_loss(theta)[0], a.excess_loss(theta[0]))
        with pytest.raises(ValueError, match=r"theta must have shape \(2, \.\.\., n\)"):
            stack.gradient(np.zeros((3, 2)))
        with pytest.raises(TypeError, match="problems must be a non-empty sequence"):
            lab.ProblemStack([])


# -- 1. theory ----------------------------------------------------------------------------------
class TestTheory:
    def test_gd_rate_is_the_largest_factor_and_optimal_gd_its_minimum(self):
        c = np.array([1.0, 3.0, 10.0])
        lrs = np.linspace(0.01, 0.25, 500)
        brute = np.array([max(abs(1 - lr * ci) for ci in c) for lr in lrs])
        np.testing.assert_allclose(lab.gd_rate(c, lrs), brute, rtol=1e-14)
        lr, rate = lab.optimal_gd(c)
        assert lr == pytest.approx(2 / 11) and rate == pytest.approx(9 / 11)
        assert lab.gd_rate(c, lr) == pytest.approx(rate, rel=1e-14)
        assert np.all(lab.gd_rate(c, lrs) >= rate - 1e-14)

    def test_heavy_ball_rate_is_the_spectral_radius_of_the_recursion(self):
        rng = np.random.default_rng(0)
        for _ in range(50):
            c, lr, mu = rng.uniform(0.1, 10, 3), rng.uniform(0, 0.5), rng.uniform(0, 0.99)
            radius = max(np.max(np.abs(np.linalg.eigvals([[1 + mu - lr * ci, -mu], [1, 0]])))
                         for ci in c)
            assert lab.heavy_ball_rate(c, lr, mu) == pytest.approx(radius, rel=1e-6)

    def test_optimal_heavy_ball_is_polyak_and_the_best_on_a_grid(self):
        c = lab.log_spaced_curvatures(100.0, 5)
        lr, mu, rate = lab.optimal_heavy_ball(c)
        assert rate == pytest.approx(9 / 11) and mu == pytest.approx((9 / 11) ** 2)
        assert lr == pytest.approx(4 / 121)
        # a double root: the radius moves by about √(rounding) ~ 1e-8
        assert lab.heavy_ball_rate(c, lr, mu) == pytest.approx(rate, rel=1e-7)
        lrs, mus = np.meshgrid(np.linspace(0.005, 0.06, 60), np.linspace(0, 0.95, 60))
        assert np.all(lab.heavy_ball_rate(c, lrs, mus) >= rate - 1e-9)
        # √κ, not κ: far faster than GD's best
        assert rate < lab.optimal_gd(c)[1] - 0.15

    def test_predicted_steps(self):
        assert lab.predicted_steps(0.5, 1.0, 1e-6) == pytest.approx(math.log(1e6) / (2 * math.log(2)))
        assert lab.predicted_steps(0.5, 1e-7, 1e-6) == 0.0
        np.testing.assert_allclose(lab.predicted_steps(np.array([0.5, 0.9]), 1.0),
                                   [lab.predicted_steps(0.5, 1.0), lab.predicted_steps(0.9, 1.0)])
        with pytest.raises(ValueError, match=r"rate must be in \[0.0, 1.0\)"):
            lab.predicted_steps(1.0, 1.0)

    def test_gd_at_its_optimal_step_respects_the_bound(self):
        c = lab.log_spaced_curvatures(100.0, 8)
        lr, rate = lab.optimal_gd(c)
        bowl, theta0 = Quadratic(c), lab.gaussian_starts(3, 8, 0)
        reach = lab.steps_to_tolerance(SGD(lr=lr), bowl, theta0, cap=2000)
        bound = lab.predicted_steps(rate, bowl.excess_loss(theta0))
        assert np.all(reach.steps <= np.ceil(bound)) and np.all(reach.steps > 0.5 * bound)


# -- 1. measurement -----------------------------------------------------------------------------
class TestMeasurement:
    def test_contraction_is_exact_for_a_geometric_sequence(self):
        t = np.arange(101.0)
        norms = np.stack([3 * 0.9**t, 0.5**t], axis=1)
        np.testing.assert_allclose(lab.contraction(norms, 10), [0.9, 0.5], rtol=1e-13)

    def test_a_prefactor_biases_the_mean_and_the_fit_removes_it(self):
        t = np.arange(201.0)
        norms = (2 + 3 * t) * 0.8**t
        raw = lab.contraction(norms, 100)
        # ln r is biased by about p·ln(T/start)/(T − start) with p = 1
        bias = math.log(raw) - math.log(0.8)
        assert bias == pytest.approx(math.log(200 / 100) / 100, rel=0.02)
        rate, power = lab.contraction_with_prefactor(norms, 100)
        assert float(rate) == pytest.approx(0.8, rel=1e-4)     # the 2/(3t) term is left
        assert float(power) == pytest.approx(1.0, abs=0.02)
        rate, power = lab.contraction_with_prefactor(0.7**t, 100)
        assert float(rate) == pytest.approx(0.7, rel=1e-12) and abs(float(power)) < 1e-8

    def test_window_checks(self):
        with pytest.raises(ValueError, match="start must leave at least 3 steps"):
            lab.contraction(np.ones(10), 8)
        with pytest.raises(ValueError, match=r"norms must have shape \(T \+ 1, \.\.\.\)"):
            lab.contraction(np.ones(2), 1)

    def test_measured_rates_agree_with_the_formulas(self, rates):
        opt = rates.optimum
        assert rates.lr_scale[opt] == 1.0
        # GD at its optimum: the measured contraction is (κ − 1)/(κ + 1)
        kappa = rates.kappas
        np.testing.assert_allclose(rates.gd_theory[:, opt], (kappa - 1) / (kappa + 1), rtol=1e-12)
        assert np.all(lab.log_rate_error(rates.gd_measured[:, opt], rates.gd_theory[:, opt]) < 1e-6)
        # heavy ball at its optimum, fitted with its t prefactor: (√κ − 1)/(√κ + 1)
        root = np.sqrt(kappa)
        np.testing.assert_allclose(rates.hb_theory[:, opt], (root - 1) / (root + 1), rtol=1e-7)
        assert np.all(lab.log_rate_error(rates.hb_fitted, rates.hb_theory[:, opt]) < 1e-3)
        np.testing.assert_allclose(rates.hb_power, 1.0, atol=0.05)
        # the step sizes below the optimum: theory and measurement, 5 % in ln r
        assert np.all(lab.log_rate_error(rates.gd_measured, rates.gd_theory) < 0.05)
        assert np.all(lab.log_rate_error(rates.hb_measured, rates.hb_theory) < 0.05)
        # the optimum is the fastest measured step size
        assert np.all(np.argmin(rates.gd_measured, axis=1) == opt)

    def test_the_check_fails_for_a_wrong_formula_or_an_ignored_prefactor(self, rates):
        opt = rates.optimum
        wrong = (rates.kappas - 1) / (rates.kappas + 1)       # GD's rate for heavy ball
        assert np.all(lab.log_rate_error(rates.hb_fitted, wrong) > 0.5)
        assert np.all(lab.log_rate_error(rates.gd_measured[:, opt],
                                         np.sqrt(rates.gd_theory[:, opt])) > 0.4)
        # ignoring heavy ball's prefactor misses by about ln(T/start)/(T − start) in ln r
        raw = lab.log_rate_error(rates.hb_measured[:, opt], rates.hb_theory[:, opt])
        steps = rates.steps[:, 1]
        predicted = (np.log(steps / (steps // 2)) / (steps - steps // 2)
                     / -np.log(rates.hb_theory[:, opt]))
        np.testing.assert_allclose(raw, predicted, rtol=0.1)
        assert np.all(raw > 10 * lab.log_rate_error(rates.hb_fitted, rates.hb_theory[:, opt]))

    def test_measured_rates_checks(self):
        with pytest.raises(ValueError, match="lr_scale must contain 1.0"):
            lab.measured_rates(lr_scale=(0.5, 0.9))


# -- 2. the methods -----------------------------------------------------------------------------
class TestMethods:
    def test_constant_sign_descent_is_the_per_parameter_chapters(self):
        bowl = Quadratic([1.0, 30.0])
        theta0 = np.array([[0.7, -0.3], [1.0, 0.2]])
        lr = np.array([[0.01], [0.05]])
        expected = sign_descent(bowl.gradient, theta0, lr, 40)
        np.testing.assert_array_equal(trajectory(lab.SignDescent(lr), bowl.gradient, theta0, 40),
                                      expected)

    def test_decaying_sign_descent_steps_by_a_geometric_sequence(self):
        path = trajectory(lab.SignDescent(0.5, decay=0.8), lambda theta: np.ones_like(theta),
                          np.zeros((1, 1)), 6)[:, 0, 0]
        np.testing.assert_allclose(-np.diff(path), 0.5 * 0.8 ** np.arange(6), rtol=1e-15)
        with pytest.raises(ValueError, match=r"decay must be in \[0.0, 1.0\], got 1.5"):
            lab.SignDescent(0.1, decay=1.5)
        with pytest.raises(ValueError, match="grad has shape"):
            lab.SignDescent(0.1).step(np.zeros(3), np.zeros(2))

    def test_inverse_sqrt_times_closed_form_matches_eigh(self):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((200, 2, 3))
        matrices = a @ a.transpose(0, 2, 1)
        g = rng.standard_normal((200, 2))
        matrices[:20] = g[:20, :, None] * g[:20, None, :]          # rank one
        matrices[20:40] = 2.5 * np.eye(2)                            # equal eigenvalues
        matrices[40:50] = 0.0                                        # all clipped
        vectors = rng.standard_normal((200, 2))
        w, v = np.linalg.eigh(matrices)
        expected = np.einsum("...ij,...j,...kj,...k->...i", v,
                             1 / np.sqrt(np.maximum(w, 1e-10)), v, vectors)
        got = lab.inverse_sqrt_times(matrices, vectors)
        scale = np.abs(expected).max(axis=-1, keepdims=True)
        assert np.all(np.abs(got - expected) <= 1e-12 * scale)
        # n = 3 goes through eigh: M^{-1/2} M^{-1/2} v = M^{-1} v
        b = rng.standard_normal((5, 3, 3))
        m3 = b @ b.transpose(0, 2, 1) + np.eye(3)
        x = rng.standard_normal((5, 3))
        twice = lab.inverse_sqrt_times(m3, lab.inverse_sqrt_times(m3, x))
        np.testing.assert_allclose(twice, np.linalg.solve(m3, x[..., None])[..., 0], rtol=1e-10)
        with pytest.raises(ValueError, match=r"matrices must have shape \(\.\.\., n, n\)"):
            lab.inverse_sqrt_times(np.zeros((2, 2)), np.zeros(3))

    @pytest.mark.parametrize("dim", [2, 5])
    def test_full_matrix_adagrad_takes_the_same_steps_in_every_basis(self, dim):
        c = lab.log_spaced_curvatures(100.0, dim)
        rotation = lab.rotation_2d(30.0) if dim == 2 else random_rotation(dim, seed=2)
        u = lab.gaussian_starts(2, dim, 0)
        axis = trajectory(lab.FullMatrixAdaGrad(0.5), Quadratic(c).gradient, u, 12)
        turned = trajectory(lab.FullMatrixAdaGrad(0.5),
                            lab.rotated_quadratic(c, rotation).gradient,
                            lab.rotate_points(u, rotation), 12)
        # equal in exact arithmetic; rounding grows through G's inverse square root
        np.testing.assert_allclose(turned, lab.rotate_points(axis, rotation), atol=1e-5)
        # while Adam's steps change with the basis
        adam_axis = trajectory(Adam(lr=0.5), Quadratic(c).gradient, u, 12)
        adam_turned = trajectory(Adam(lr=0.5), lab.rotated_quadratic(c, rotation).gradient,
                                 lab.rotate_points(u, rotation), 12)
        assert np.max(np.abs(adam_turned - lab.rotate_points(adam_axis, rotation))) > 1e-2

    def test_full_matrix_adagrad_first_step_is_normalized_and_rows_are_independent(self):
        g = np.array([[3.0, 4.0], [0.0, 0.0], [np.nan, 1.0]])
        theta = np.zeros((3, 2))
        lab.FullMatrixAdaGrad(np.array([[2.0], [1.0], [1.0]])).step(theta, g)
        np.testing.assert_allclose(theta[0], [-1.2, -1.6], rtol=1e-9)     # −α g/‖g‖
        np.testing.assert_array_equal(theta[1], [0.0, 0.0])               # zero gradient
        assert np.isnan(theta[2]).all()

    def test_a_failing_full_matrix_step_changes_nothing(self):
        opt = lab.FullMatrixAdaGrad(0.1)
        theta = np.ones((2, 3))
        opt.step(theta, np.ones((2, 3)))
        before, state = theta.copy(), opt.sum.copy()
        with pytest.raises(ValueError, match="grad has shape"):
            opt.step(theta, np.ones((2, 2)))
        with pytest.raises(ValueError, match="the state was made for"):
            opt.step(np.ones((3, 3)), np.ones((3, 3)))
        np.testing.assert_array_equal(theta, before)
        np.testing.assert_array_equal(opt.sum, state)
        assert opt.t == 1

    def test_newton_lands_on_the_minimum_in_one_step_in_every_basis(self):
        c = lab.log_spaced_curvatures(1000.0, 6)
        problems = [Quadratic(c), lab.rotated_quadratic(c, random_rotation(6, seed=4))]
        hessians = lab.problem_hessians(problems)
        assert hessians.shape == (2, 6, 6)
        theta = np.random.default_rng(0).standard_normal((2, 3, 6))
        stack = lab.ProblemStack(problems)
        lab.Newton(1.0, hessians).step(theta, stack.gradient(theta))
        assert np.all(stack.excess_loss(theta) < 1e-20)
        half = np.ones((1, 6))
        lab.Newton(0.5, problems[1].hessian).step(half, problems[1].gradient(half))
        np.testing.assert_allclose(half, 0.5, rtol=1e-10)
        with pytest.raises(ValueError, match=r"theta must have shape \(P, \.\.\., n\)"):
            lab.Newton(1.0, hessians).step(np.zeros((3, 6)), np.zeros((3, 6)))

    def test_make_method(self):
        assert isinstance(lab.make_method("Adam", lr=0.1), Adam)
        with pytest.raises(ValueError, match="name must be one of"):
            lab.make_method("Nesterov", lr=1.0)


# -- 2. steps to the tolerance ------------------------------------------------------------------
class TestStepsToTolerance:
    def test_gd_on_one_coordinate_matches_the_closed_form(self):
        c, theta0 = 4.0, 1.0
        lrs = np.array([[0.05], [0.1], [0.2]])
        reach = lab.steps_to_tolerance(SGD(lr=lrs), Quadratic([c]), np.full((3, 1), theta0),
                                       tol=1e-6, chunk=7)
        factor = np.abs(1 - lrs[:, 0] * c)
        # f_t = ½ c θ0² factor^{2t} ≤ tol
        expected = np.ceil(np.log(1e-6 / (0.5 * c * theta0**2)) / (2 * np.log(factor)))
        np.testing.assert_array_equal(reach.steps, expected)
        assert reach.steps_run < 100 and np.isnan(reach.final_loss).all()

    def test_chunks_do_not_change_the_result(self):
        bowl = lab.rotated_quadratic([1.0, 50.0], lab.rotation_2d(20))
        theta0 = np.tile(lab.circle_starts(4), (1, 1))
        results = [lab.steps_to_tolerance(Adam(lr=0.3), bowl, theta0, chunk=chunk).steps
                   for chunk in (1, 13, 1000)]
        np.testing.assert_array_equal(results[0], results[1])
        np.testing.assert_array_equal(results[0], results[2])

    def test_cap_and_divergence_are_reported(self):
        lrs = np.array([[1e-4], [0.1], [1.0]])     # too slow, fine, divergent (c = 10)
        reach = lab.steps_to_tolerance(SGD(lr=lrs), Quadratic([10.0]), np.ones((3, 1)), cap=50)
        assert np.isinf(reach.steps[0]) and np.isfinite(reach.steps[1])
        assert np.isinf(reach.steps[2]) and reach.diverged.tolist() == [False, False, True]
        assert reach.final_loss[0] > 1e-6 and np.isnan(reach.final_loss[1])
        assert np.isinf(reach.final_loss[2]) and reach.steps_run == 50

    def test_checks(self):
        with pytest.raises(TypeError, match="optimizer must have a step"):
            lab.steps_to_tolerance(object(), Quadratic(), np.zeros((1, 2)))
        with pytest.raises(TypeError, match="problem must have gradient"):
            lab.steps_to_tolerance(SGD(lr=0.1), object(), np.zeros((1, 2)))
        with pytest.raises(ValueError, match="tol must be a finite number > 0"):
            lab.steps_to_tolerance(SGD(lr=0.1), Quadratic(), np.zeros((1, 2)), tol=0.0)


# -- 2. tuning and the experiments ---------------------------------------------------------------
class TestExperiments:
    def test_gd_and_heavy_ball_do_not_see_the_rotation_adam_does(self, angles):
        for name in ("GD", "heavy ball"):
            steps = angles.steps(name)
            assert np.all(steps == steps[0]), (name, steps)
        assert angles.steps("Adam")[0] < angles.steps("Adam")[1:].min()

    def test_tuned_values_are_bracketed_and_reported_honestly(self, angles):
        gd = angles.methods["GD"]
        tuned = gd.tuned(0)
        assert tuned.low <= tuned.best <= tuned.high
        assert tuned.best_score == angles.steps("GD")[0]
        hb = angles.methods["heavy ball"]
        assert hb.second == "momentum" and hb.configurations == hb.steps[0].size
        # the tuned momentum and step sit near Polyak's values
        lr, mu, _ = lab.optimal_heavy_ball(angles.curvatures)
        assert abs(hb.tuned_second(0).best - mu) < 0.15
        assert 0.5 < hb.tuned(0).best / lr < 2
        # a grid that stops short of the best value refuses to name it
        edge = lab.tuned_methods([Quadratic(angles.curvatures)], angles.starts[:1],
                                 {"GD": {"lr": np.array([0.005, 0.008, 0.012])}},
                                 cap=3000)["GD"]
        with pytest.raises(UnbracketedOptimum, match="upper edge"):
            edge.tuned(0).best

    def test_the_theory_lines(self, angles):
        assert np.all(angles.steps("GD") <= np.ceil(angles.gd_bound))
        # heavy ball at Polyak's α and μ, untuned: within a factor 2 of the estimate
        assert np.all(angles.hb_theory_steps >= angles.hb_estimate)
        assert np.all(angles.hb_theory_steps < 2 * angles.hb_estimate)
        np.testing.assert_allclose(angles.initial_loss, angles.initial_loss[0], rtol=1e-10)

    def test_constant_sign_descent_reports_its_floor(self):
        c = (1.0, 100.0)
        grids = {"sign descent": lab.default_grids(c)["sign descent"]}
        result = lab.tuned_methods([Quadratic(c)], lab.circle_starts(4)[None], grids,
                                   cap=300)["sign descent"]
        assert not result.reached(0)
        floor = result.tuned_floor(0)
        assert floor.best_score == np.min(result.final_loss[0]) > lab.TOLERANCE
        # a constant step of α leaves each coordinate within about α of the minimum
        assert floor.best_score < 0.5 * sum(c) * (2 * floor.best) ** 2
        with pytest.raises(ValueError, match="tuned_floor is for one-parameter methods"):
            lab.MethodResult("heavy ball", {"lr": [1.0], "momentum": [0.5]}, np.ones((1, 1, 1)),
                             np.ones((1, 1, 1)), 1e-6, 10).tuned_floor(0)

    def test_steps_are_the_worst_start(self):
        c = (1.0, 30.0)
        starts = lab.circle_starts(3)[None]
        grids = {"Adam": small_grids(c)["Adam"]}
        one = lab.tuned_methods([Quadratic(c)], starts, grids)["Adam"]
        each = [lab.tuned_methods([Quadratic(c)], starts[:, [s]], grids)["Adam"]
                for s in range(3)]
        np.testing.assert_array_equal(one.steps, np.max([e.steps for e in each], axis=0))

    def test_dimension_experiment(self):
        c = lab.log_spaced_curvatures(100.0, 8)
        grids = {"GD": lab.default_grids(c)["GD"],
                 "sign descent, decaying": lab.default_grids(c)["sign descent, decaying"]}
        result = lab.dimension_experiment(100.0, 8, grids=grids)
        assert result.labels == ("axis-aligned", "rotated (seed 0)")
        assert result.ratio("GD", 1) == 1.0
        # sign descent is the diagonal extreme: the rotation costs it many times over
        assert result.ratio("sign descent, decaying", 1) > 3

    def test_default_grids(self):
        small, large = lab.default_grids([1.0, 100.0]), lab.default_grids(np.ones(3))
        assert "full-matrix AdaGrad" in small and "full-matrix AdaGrad" not in large
        assert 1.0 in small["Newton"]["lr"]
        np.testing.assert_allclose(small["GD"]["lr"] * 100, lab.default_grids([1.0])["GD"]["lr"])
        newton = lab.tuned_methods([Quadratic([1.0, 100.0])], lab.circle_starts(2)[None],
                                   {"Newton": small["Newton"]})["Newton"]
        assert newton.best_steps(0) == 1 and newton.tuned(0).best == 1.0

    def test_tie_backs_rotate_the_earlier_chapters_problems(self):
        out = lab.rotated_tie_backs(methods=("Adam",), cap=300)
        assert set(out) == {"badly scaled bowl", "least squares"}
        bowl = out["badly scaled bowl"]
        np.testing.assert_allclose(bowl.initial_loss[1], bowl.initial_loss[0], rtol=1e-9)
        assert bowl.steps("Adam")[0] < 300 and np.isinf(bowl.steps("Adam")[1])
        assert bowl.ratio("Adam", 1) == np.inf and math.isnan(bowl.ratio("Adam", 0, 1))
        with pytest.raises(ValueError, match="methods must be names from"):
            lab.rotated_tie_backs(methods=("Nesterov",))
        with pytest.raises(ValueError, match=r"methods \['full-matrix AdaGrad'\] have no default"):
            lab.rotated_tie_backs(methods=("full-matrix AdaGrad",))

    def test_summary_reports_tuned_values_and_floors(self, angles):
        table = lab.summary(angles, 1)
        assert set(table) == set(angles.methods)
        gd = table["GD"]
        assert gd.steps == angles.steps("GD")[1] and gd.lr == angles.methods["GD"].tuned(1).best
        assert gd.lr_range == angles.methods["GD"].tuned(1).range_text() and gd.second is None
        hb = table["heavy ball"]
        assert hb.second_name == "momentum"
        assert hb.second == angles.methods["heavy ball"].tuned_second(1).best
        c = (1.0, 100.0)
        sign = lab.tuned_methods([Quadratic(c)], lab.circle_starts(4)[None],
                                 {"sign descent": lab.default_grids(c)["sign descent"]}, cap=300)
        experiment = lab.BasisExperiment(("φ = 0°",), np.array(c), lab.circle_starts(4)[None],
                                         sign, np.ones(1), np.ones(1), np.ones(1), np.ones(1),
                                         lab.TOLERANCE, 300)
        row = lab.summary(experiment)["sign descent"]
        assert row.steps == math.inf and row.lr is None
        assert row.floor == sign["sign descent"].tuned_floor(0).best_score
        with pytest.raises(ValueError, match="problem must be below 3"):
            lab.summary(angles, 3)

    def test_experiment_checks(self):
        with pytest.raises(ValueError, match="curvatures must be 2 numbers"):
            lab.angle_experiment(curvatures=(1.0, 2.0, 3.0))
        with pytest.raises(ValueError, match="grids must map names of METHODS"):
            lab.tuned_methods([Quadratic()], np.zeros((1, 1, 2)), {"Nesterov": {"lr": [1.0]}})
        with pytest.raises(ValueError, match=r"starts must have shape \(P, S, n\)"):
            lab.tuned_methods([Quadratic()], np.zeros((1, 2)), {"GD": {"lr": [1.0]}})


# -- plots ----------------------------------------------------------------------------------------
class TestPlots:
    def test_plot_rates(self, rates):
        for method in ("GD", "heavy ball"):
            ax = plots.plot_rates(rates, method)
            assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
            measured = rates.gd_measured if method == "GD" else rates.hb_measured
            np.testing.assert_allclose(ax.lines[1].get_ydata(), 1 - measured[0])
            plt.close(ax.figure)
        with pytest.raises(ValueError, match="method must be 'GD' or 'heavy ball'"):
            plots.plot_rates(rates, "Adam")
        with pytest.raises(TypeError, match="rates must be a RateCheck"):
            plots.plot_rates({})

    def test_plot_steps_by_problem(self, angles):
        ax = plots.plot_steps_by_problem(angles)
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert [t.get_text() for t in ax.get_xticklabels()] == list(angles.labels)
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), angles.steps("GD"))
        plt.close(ax.figure)
        with pytest.raises(ValueError, match="methods must be names from"):
            plots.plot_steps_by_problem(angles, methods=["Nesterov"])

    def test_plot_rotation_cost_and_tuning(self, angles):
        ax = plots.plot_rotation_cost({"2-D, 45°": angles}, rotated=2)
        assert ax.get_title() and ax.get_ylabel()
        adam = angles.steps("Adam")
        assert [line.get_ydata()[0] for line in ax.lines
                if line.get_label() == "Adam"] == [adam[2] / adam[0]]
        plt.close(ax.figure)
        ax = plots.plot_tuning(angles.methods["Adam"], angles.labels)
        assert ax.get_title() and ax.get_xlabel() and ax.get_xscale() == "log"
        assert len(ax.get_legend().get_texts()) == len(angles.labels)
        plt.close(ax.figure)
        with pytest.raises(ValueError, match="labels must name the 3 problems"):
            plots.plot_tuning(angles.methods["Adam"], ["one"])


# -- the explorer ---------------------------------------------------------------------------------
class TestExplorer:
    def test_bowl_runs_use_the_theory_s_steps_in_every_basis(self):
        axis, turned = lab.bowl_runs(0.0, 100.0, 0.2), lab.bowl_runs(30.0, 100.0, 0.2)
        assert set(axis.paths) == {"GD", "heavy ball", "Newton", "Adam"}
        for name in ("GD", "heavy ball", "Newton"):          # equivariant: the same losses
            np.testing.assert_allclose(turned.losses[name], axis.losses[name], rtol=1e-6,
                                       atol=1e-14)
            assert turned.steps[name] == axis.steps[name]
        assert axis.steps["Newton"] == 1
        assert turned.steps["Adam"] != axis.steps["Adam"]
        # GD at optimal_gd's step from the chapter's start, run directly
        start = lab.circle_starts()[1]
        gd = run(SGD(lr=lab.optimal_gd([1.0, 100.0])[0]), Quadratic([1.0, 100.0]).gradient,
                 start, 300, record=np.copy).history
        np.testing.assert_array_equal(axis.paths["GD"], gd)
        x, y, f = axis.grid
        assert x.shape == y.shape == f.shape and f.min() >= 0
        assert lab.bowl_runs(30.0, 100.0, 0.2) is turned          # cached

    def test_draw_bowl_and_the_chapter_figures(self, rates, angles, labelled):
        fig = plt.figure()
        left, right = plots.draw_bowl(fig, 45.0, 1000.0, 0.05)
        assert labelled(left) and labelled(right)
        assert len(right.get_legend().get_texts()) == 4
        plt.close(fig)
        axes = plots.draw_rates(plt.figure(), rates)
        assert all(labelled(ax) for ax in axes)
        axes = plots.draw_angles(plt.figure(), {"a": angles, "b": angles})
        assert axes[0].get_legend() is None and axes[1].get_legend() is not None
        assert [ax.get_title() for ax in axes] == ["a", "b"]
        plt.close("all")
        with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
            plots.draw_bowl("fig")
