"""Analytic gradients of layers and losses agree with central finite differences (float64)."""

import numpy as np
import pytest
import tensorflow as tf

from replab.nn.layers import ACTIVATIONS, activation, dense
from replab.nn.losses import (
    accuracy,
    l1_penalty,
    l2_penalty,
    mean_squared_error,
    playground_loss,
    softmax_cross_entropy,
)

RNG = np.random.default_rng(0)


def numeric_gradient(f, value, eps=1e-6):
    """Central differences of the scalar f at every entry of value."""
    value = np.array(value, dtype=np.float64)
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (f(up) - f(down)) / (2 * eps)
    return grad


def analytic_gradient(f, value):
    variable = tf.Variable(value, dtype=tf.float64)
    with tf.GradientTape() as tape:
        out = f(variable)
    return tape.gradient(out, variable).numpy()


def assert_gradient_matches(f, value):
    scalar = lambda v: float(f(tf.constant(v, tf.float64)).numpy())
    np.testing.assert_allclose(analytic_gradient(f, value), numeric_gradient(scalar, value), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_dense_gradients_match_finite_differences(name):
    x = RNG.normal(size=(2, 5, 3))
    w = RNG.normal(size=(2, 3, 4))
    b = RNG.normal(size=(2, 1, 4))
    act = activation(name)
    weights_out = RNG.normal(size=(2, 5, 4))  # a random projection makes the scalar depend on every output

    def through(x_, w_, b_):
        return tf.reduce_sum(act(dense(x_, w_, b_)) * weights_out)

    assert_gradient_matches(lambda v: through(x, v, b), w)
    assert_gradient_matches(lambda v: through(x, w, v), b)
    assert_gradient_matches(lambda v: through(v, w, b), x)


def test_dense_population_matches_per_member_matmul():
    x = RNG.normal(size=(6, 3))
    w = RNG.normal(size=(4, 3, 2))
    b = RNG.normal(size=(4, 2))
    shared = dense(tf.constant(x), tf.constant(w), tf.constant(b)).numpy()
    per_member = dense(tf.constant(np.stack([x] * 4)), tf.constant(w), tf.constant(b[:, None, :])).numpy()
    expected = np.stack([x @ w[k] + b[k] for k in range(4)])
    np.testing.assert_allclose(shared, expected, rtol=1e-12)
    np.testing.assert_allclose(per_member, expected, rtol=1e-12)
    single = dense(tf.constant(x), tf.constant(w[0]), tf.constant(b[0])).numpy()
    np.testing.assert_allclose(single, expected[0], rtol=1e-12)


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown activation 'relu6'"):
        activation("relu6")


LOSSES = {
    "mean_squared_error": lambda p: mean_squared_error(p, TARGETS),
    "playground_loss": lambda p: playground_loss(p, TARGETS),
    "softmax_cross_entropy": lambda p: softmax_cross_entropy(p, LABELS),
    "l1_penalty": lambda p: l1_penalty([p]),
    "l2_penalty": lambda p: l2_penalty([p]),
}
PREDICTIONS = RNG.normal(size=(3, 5, 4))
TARGETS = RNG.normal(size=(5, 4))  # shared by all members
LABELS = RNG.integers(0, 4, size=(3, 5))  # one set per member


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradients_match_finite_differences(name):
    loss = LOSSES[name]
    assert loss(tf.constant(PREDICTIONS)).shape == (3,)
    # A random weighting of the members checks each member's gradient separately.
    member_weights = tf.constant([0.3, -1.1, 2.0], tf.float64)
    assert_gradient_matches(lambda p: tf.reduce_sum(loss(p) * member_weights), PREDICTIONS)


def test_loss_values_match_numpy():
    p = PREDICTIONS
    np.testing.assert_allclose(mean_squared_error(p, TARGETS), ((p - TARGETS) ** 2).mean(axis=(1, 2)))
    np.testing.assert_allclose(playground_loss(p, TARGETS), 0.5 * ((p - TARGETS) ** 2).mean(axis=(1, 2)))
    log_softmax = p - np.log(np.exp(p).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, LABELS[..., None], -1).mean(axis=(1, 2))
    np.testing.assert_allclose(softmax_cross_entropy(p, LABELS), expected)
    np.testing.assert_allclose(l1_penalty([p, p]), 2 * np.abs(p).sum(axis=(1, 2)))
    np.testing.assert_allclose(l2_penalty([p]), 0.5 * (p**2).sum(axis=(1, 2)))
    np.testing.assert_allclose(accuracy(p, LABELS), (p.argmax(-1) == LABELS).mean(-1))
