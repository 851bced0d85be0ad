"""Hand-written optimizers reach the minimum of a convex quadratic and match their update rules."""

import numpy as np
import pytest
import tensorflow as tf

from replab.nn.optim import SGD, Adam, Momentum
from replab.nn.playground import playground_optimizer

CURVATURE = tf.constant([[1.0, 3.0, 0.5], [2.0, 1.0, 4.0]], tf.float64)  # two members, three coordinates
TARGET = tf.constant([[1.0, -2.0, 0.5], [-1.0, 0.0, 3.0]], tf.float64)


def quadratic(params):
    (p,) = params
    return tf.reduce_sum(0.5 * CURVATURE * tf.square(p - TARGET), axis=1)


def minimise(optimizer, params, steps):
    @tf.function
    def loop():
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                total = tf.reduce_sum(quadratic(params))
            optimizer.apply(tape.gradient(total, params), params)

    loop()
    return params[0].numpy()


OPTIMIZERS = {
    "sgd": lambda params: SGD(params, 0.2),
    "momentum": lambda params: Momentum(params, 0.05, momentum=0.9),
    "adam": lambda params: Adam(params, 0.05),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_reaches_the_minimum_of_a_quadratic(name):
    params = [tf.Variable(tf.zeros([2, 3], tf.float64))]
    final = minimise(OPTIMIZERS[name](params), params, 600)
    np.testing.assert_allclose(final, TARGET.numpy(), atol=1e-3)


def test_per_member_learning_rate_equals_separate_runs():
    params = [tf.Variable(tf.zeros([2, 3], tf.float64))]
    together = minimise(SGD(params, tf.constant([0.01, 0.1])), params, 5)
    for k, rate in enumerate([0.01, 0.1]):
        alone = [tf.Variable(tf.zeros([2, 3], tf.float64))]
        np.testing.assert_allclose(together[k], minimise(SGD(alone, rate), alone, 5)[k], rtol=1e-6)


def first_steps(optimizer_class, grads, **options):
    params = [tf.Variable(tf.zeros([1, 2], tf.float64))]
    optimizer = optimizer_class(params, 0.1, **options)
    trajectory = []
    for grad in grads:
        optimizer.apply([tf.constant([grad], tf.float64)], params)
        trajectory.append(params[0].numpy()[0].copy())
    return np.array(trajectory)


def test_momentum_follows_the_classical_rule():
    steps = first_steps(Momentum, [[1.0, -2.0], [1.0, -2.0]], momentum=0.5)
    # v1 = -lr g, p1 = v1; v2 = 0.5 v1 - lr g, p2 = p1 + v2
    np.testing.assert_allclose(steps[0], [-0.1, 0.2])
    np.testing.assert_allclose(steps[1], [-0.1 - 0.15, 0.2 + 0.3])


def test_adam_first_step_is_the_learning_rate_times_the_sign():
    # With bias correction the first update is lr * g / (|g| + eps), whatever the gradient's scale.
    steps = first_steps(Adam, [[1e-3, -50.0]])
    np.testing.assert_allclose(steps[0], [-0.1, 0.1], rtol=1e-3)


def test_update_of_a_non_finite_member_is_refused():
    params = [tf.Variable(tf.ones([2, 2], tf.float64))]
    optimizer = Adam(params, 0.1)
    updated = optimizer.apply([tf.constant([[np.nan, 1.0], [1.0, 1.0]], tf.float64)], params)
    assert updated.numpy().tolist() == [False, True]
    np.testing.assert_array_equal(params[0].numpy()[0], [1.0, 1.0])
    assert np.all(np.isfinite(optimizer.slots[0][0].numpy()))


def test_learning_rate_shape_is_checked():
    params = [tf.Variable(tf.zeros([2, 3]))]
    with pytest.raises(ValueError, match="one rate per member"):
        SGD(params, tf.constant([0.1, 0.2, 0.3]))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_parameter_the_loss_does_not_use_ends_as_it_would_with_zero_gradients(name):
    """fit() hands the optimizer None for such a parameter; skipping it must equal updating it with zeros."""
    def train(unconnected):
        params = [tf.Variable(tf.zeros([2, 3], tf.float64)), tf.Variable(tf.fill([2, 4], 0.5))]
        optimizer = OPTIMIZERS[name](params)
        for _ in range(3):
            with tf.GradientTape() as tape:
                total = tf.reduce_sum(quadratic(params[:1]))
            grads = tape.gradient(total, params, unconnected_gradients=unconnected)
            assert (grads[1] is None) == (unconnected == tf.UnconnectedGradients.NONE)
            optimizer.apply(grads, params)
        return [p.numpy() for p in params] + [s.numpy() for slots in optimizer.slots for s in slots]

    for skipped, zeroed in zip(train(tf.UnconnectedGradients.NONE), train(tf.UnconnectedGradients.ZERO)):
        np.testing.assert_array_equal(skipped, zeroed)


def test_weight_decay_still_shrinks_a_weight_without_gradient():
    weight, bias = tf.Variable(tf.ones([1, 2, 2])), tf.Variable(tf.ones([1, 1, 2]))
    optimizer = playground_optimizer([(weight, bias)], [0.1], ["L2"], [0.5])
    optimizer.apply([None, None], [weight, bias])
    np.testing.assert_allclose(weight.numpy(), 1 - 0.1 * 0.5)  # the Playground's L2 step: w -= lr · rate · w
    np.testing.assert_array_equal(bias.numpy(), 1.0)
