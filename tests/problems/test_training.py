"""``adamref.problems.training``: minibatch orders and K networks trained at once."""

import numpy as np
import pytest

from adamref.optim import SGD, Adam, schedules
from adamref.problems.digits import synthetic_digits
from adamref.problems.mlp import MLP
from adamref.problems.training import batch_order, train


def test_each_epoch_is_a_permutation_and_orders_are_seeded():
    order = batch_order(10, 3, 7, seeds=5)
    assert order.shape == (7, 3)
    for epoch in (order[0:3], order[3:6]):                 # 3 batches per epoch, 1 left out
        assert len(set(epoch.ravel())) == 9
    np.testing.assert_array_equal(order, batch_order(10, 3, 7, seeds=5))
    own = batch_order(10, 3, 7, seeds=np.array([5, 6]))
    assert own.shape == (7, 2, 3)
    np.testing.assert_array_equal(own[:, 0], order)
    assert not np.array_equal(own[:, 1], order)


@pytest.mark.parametrize("call, error, match", [
    (lambda: batch_order(10, 11, 3, 0), ValueError, "batch_size must be <= n_samples = 10"),
    (lambda: batch_order(10, 2, 0, 0), ValueError, "steps must be an integer >= 1"),
    (lambda: batch_order(10, 2, 3, np.array([[1]])), TypeError, "seeds must be an integer"),
    (lambda: batch_order(10, 2, 3, -2), ValueError, "seeds must be an integer >= 0"),
])
def test_bad_orders_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("make", [
    lambda lr: Adam(lr=lr, weight_decay=1e-3),
    lambda lr: Adam(lr=schedules.warmup_cosine(lr, 3, 20), weight_decay=1e-2,
                    decoupled_weight_decay=True),
    lambda lr: SGD(lr=lr, momentum=0.9),
])
def test_k_networks_trained_at_once_equal_a_loop_over_single_networks(make):
    data, net = synthetic_digits(n_train=60, n_val=30, n_test=30), MLP(hidden=6)
    lrs, seeds = np.array([1e-3, 1e-2, 3e-2]), np.array([1, 2, 3])
    theta0 = net.init(seeds)
    together = train(net, data, make(lrs[:, None]), theta0, 23, batch_size=8,
                     batch_seeds=seeds, every=5)
    assert together.steps.tolist() == [0, 5, 10, 15, 20, 23]
    assert together.train_loss.shape == together.test_error.shape == (6, 3)
    for k in range(3):
        alone = train(net, data, make(lrs[k]), theta0[k:k + 1], 23, batch_size=8,
                      batch_seeds=seeds[k:k + 1], every=5)
        np.testing.assert_array_equal(alone.theta[0], together.theta[k])
        np.testing.assert_array_equal(alone.train_loss[:, 0], together.train_loss[:, k])
        np.testing.assert_array_equal(alone.val_error[:, 0], together.val_error[:, k])


def test_training_learns_and_leaves_theta0_alone():
    data, net = synthetic_digits(n_train=60, n_val=30, n_test=30), MLP(hidden=16)
    theta0 = net.init([0, 1])
    before = theta0.copy()
    result = train(net, data, Adam(lr=1e-2), theta0, 60, batch_size=10, batch_seeds=3)
    np.testing.assert_array_equal(theta0, before)
    assert (result.train_loss[-1] < 0.5 * result.train_loss[0]).all()
    assert (result.val_error[-1] < result.val_error[0]).all()
    assert not result.diverged.any()


def test_a_diverging_network_is_frozen_and_reported_the_others_go_on():
    data, net = synthetic_digits(n_train=60, n_val=30, n_test=30), MLP(hidden=4)
    theta0 = net.init([0, 0])
    with np.errstate(all="raise"):                   # no warning escapes the run
        result = train(net, data, SGD(lr=np.array([[1e-2], [1e9]])), theta0, 10,
                       batch_size=10, batch_seeds=1, every=5)
    assert result.diverged.tolist() == [False, True]
    assert np.isnan(result.theta[1]).all() and np.isfinite(result.theta[0]).all()
    assert np.isnan(result.val_error[-1, 1]) and np.isfinite(result.val_error[-1, 0])


def test_bad_training_calls_are_named():
    data, net = synthetic_digits(n_train=60, n_val=30, n_test=30), MLP(hidden=4)
    theta0 = net.init([0, 1])
    with pytest.raises(ValueError, match=r"one seed per network \(2\), got 3"):
        train(net, data, Adam(), theta0, 5, batch_seeds=np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="network must be an MLP"):
        train(object(), data, Adam(), theta0, 5)
    with pytest.raises(TypeError, match="data must be a Digits"):
        train(net, object(), Adam(), theta0, 5)
    with pytest.raises(ValueError, match="theta must have shape"):
        train(net, data, Adam(), theta0[:, :5], 5)
    with pytest.raises(ValueError, match=r"final_only must name metrics among .*\['val_loss'\]"):
        train(net, data, Adam(), theta0, 5, final_only=("val_loss",))


def test_batch_loss_is_the_mean_loss_of_the_minibatches_since_the_last_checkpoint():
    data, net = synthetic_digits(n_train=60, n_val=30, n_test=30), MLP(hidden=5)
    seeds = np.array([4, 7])
    theta0 = net.init(seeds)
    result = train(net, data, Adam(lr=1e-2), theta0, 7, batch_size=10, batch_seeds=seeds,
                   every=3)
    assert result.steps.tolist() == [0, 3, 6, 7] and np.isnan(result.batch_loss[0]).all()
    # replay the run by hand: the loss of each step's minibatch at the parameters it saw
    order, theta, opt = batch_order(60, 10, 7, seeds), theta0.copy(), Adam(lr=1e-2)
    losses = []
    for rows in order:
        loss, grad = net.loss_and_gradient(theta, data.X_train[rows], data.y_train[rows])
        losses.append(loss)
        opt.step(theta, grad)
    losses = np.array(losses)
    np.testing.assert_allclose(result.batch_loss[1:], [losses[0:3].mean(0), losses[3:6].mean(0),
                                                       losses[6:7].mean(0)], rtol=1e-15)
    np.testing.assert_array_equal(result.theta, theta)


def test_final_only_metrics_are_computed_at_the_end_and_nowhere_else():
    data, net = synthetic_digits(n_train=60, n_val=30, n_test=30), MLP(hidden=5)
    theta0 = net.init([0, 1])
    full = train(net, data, SGD(lr=0.05, momentum=0.9), theta0, 9, batch_size=10, every=4)
    lean = train(net, data, SGD(lr=0.05, momentum=0.9), theta0, 9, batch_size=10, every=4,
                 final_only=("train_loss", "test_error"))
    assert np.isnan(lean.train_loss[:-1]).all() and np.isnan(lean.test_error[:-1]).all()
    np.testing.assert_array_equal(lean.train_loss[-1], full.train_loss[-1])
    np.testing.assert_array_equal(lean.test_error[-1], full.test_error[-1])
    np.testing.assert_array_equal(lean.val_error, full.val_error)
    np.testing.assert_array_equal(lean.batch_loss, full.batch_loss)
    # the last step a checkpoint of the run itself (9 = 3·3): the same rule
    exact = train(net, data, Adam(lr=1e-2), theta0, 9, batch_size=10, every=3,
                  final_only="train_loss")
    assert exact.steps.tolist() == [0, 3, 6, 9]
    assert np.isnan(exact.train_loss[:-1]).all() and np.isfinite(exact.train_loss[-1]).all()
