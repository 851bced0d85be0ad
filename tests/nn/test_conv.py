import numpy as np
import pytest
import tensorflow as tf

from replab.nn import conv
from replab.nn.losses import softmax_cross_entropy
from replab.nn.optim import SGD
from replab.nn.train import fit


def test_population_convolutions_match_tf_nn_conv2d_member_by_member():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, 3, 3, 3, 5)).astype(np.float32)
    shared = rng.normal(size=(4, 8, 8, 3)).astype(np.float32)
    own = rng.normal(size=(2, 4, 8, 8, 3)).astype(np.float32)
    for f in (conv.conv2d, conv.conv2d_im2col):
        np.testing.assert_allclose(f(tf.constant(shared), tf.constant(w)).numpy(),
                                   np.stack([tf.nn.conv2d(shared, w[k], 1, "SAME") for k in range(2)]), atol=1e-4)
        np.testing.assert_allclose(f(tf.constant(own), tf.constant(w)).numpy(),
                                   np.stack([tf.nn.conv2d(own[k], w[k], 1, "SAME") for k in range(2)]), atol=1e-4)
    pooled = conv.max_pool(tf.constant(own)).numpy()
    np.testing.assert_allclose(pooled, np.stack([tf.nn.max_pool2d(own[k], 2, 2, "VALID") for k in range(2)]))


def test_conv_bn_normalises_each_channel_over_batch_height_and_width():
    net = conv.ReluNet("cnn", bn=True, seeds=[0, 1])
    z = tf.constant(np.random.default_rng(1).normal(3.0, 2.0, size=(2, 6, 28, 28, 8)).astype(np.float32))
    mean, variance = conv.channel_moments(z)
    assert mean.shape == (2, 1, 1, 1, 8)
    normalised = (z - mean) * tf.math.rsqrt(variance + net.epsilon)
    np.testing.assert_allclose(tf.reduce_mean(normalised, axis=[1, 2, 3]).numpy(), 0, atol=1e-4)
    assert int(conv.statistics_count(z)) == 6 * 28 * 28


@pytest.mark.parametrize("architecture", conv.ARCHITECTURES)
def test_members_with_the_same_seed_start_alike_with_and_without_bn_and_bn_updates_its_averages(architecture):
    plain = conv.ReluNet(architecture, bn=False, seeds=[3, 4])
    bn = conv.ReluNet(architecture, bn=True, seeds=[3, 4])
    for a, b in zip(plain.weights, bn.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(plain.weights[0][0].numpy(), plain.weights[0][1].numpy())
    x = tf.constant(np.random.default_rng(2).random((16, 784)).astype(np.float32))
    assert conv.forward(plain, x, training=True).shape == (2, 16, 10)
    before = bn.moving_means[0].numpy().copy()
    conv.forward(bn, x, training=True, update_averages=False)
    np.testing.assert_array_equal(bn.moving_means[0].numpy(), before)
    conv.forward(bn, x, training=True)
    assert not np.array_equal(bn.moving_means[0].numpy(), before)
    assert conv.forward(bn, x, training=False).shape == (2, 16, 10)


def test_forward_at_other_parameter_values_and_training_lowers_the_loss():
    net = conv.ReluNet("mlp", bn=True, seeds=[0], hidden=(16,))
    rng = np.random.default_rng(0)
    x, y = rng.random((200, 784)).astype(np.float32), rng.integers(0, 10, 200)
    zeros = [tf.zeros_like(p) for p in net.params]
    logits = conv.forward(net, tf.constant(x[:8]), training=True, params=zeros, update_averages=False)
    np.testing.assert_allclose(logits.numpy(), 0.0)
    params = net.params

    def loss_fn(params, xb, yb, step):
        return softmax_cross_entropy(conv.forward(net, xb, training=True), yb)

    history = fit(loss_fn, params, SGD(params, np.full(1, 0.1, np.float32)), x, y, steps=100, batch_size=20,
                     record_every=50)
    assert history.loss[-1, 0] < history.loss[0, 0]


def test_bad_settings_are_one_sentence():
    with pytest.raises(ValueError, match="architecture"):
        conv.ReluNet("rnn", bn=False, seeds=[0])
    with pytest.raises(ValueError, match="28 must divide"):
        conv.ReluNet("cnn", bn=False, seeds=[0], channels=(4, 4, 4))
