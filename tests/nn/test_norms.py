import numpy as np
import pytest
import tensorflow as tf

from replab import nn


def population_inputs(k=3, b=32, f=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(2.0, 3.0, size=(k, b, f))).astype(np.float32)


def test_batch_norm_agrees_with_tf_nn_moments_and_batch_normalization():
    x = population_inputs()
    rng = np.random.default_rng(1)
    gamma = rng.normal(size=(3, 1, 5)).astype(np.float32)
    beta = rng.normal(size=(3, 1, 5)).astype(np.float32)
    y, mean, variance = nn.batch_norm(x, gamma, beta, 1e-3)
    ref_mean, ref_variance = tf.nn.moments(tf.constant(x), axes=[1], keepdims=True)
    reference = tf.nn.batch_normalization(x, ref_mean, ref_variance, beta, gamma, 1e-3)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(variance, ref_variance, rtol=1e-5)
    np.testing.assert_allclose(y, reference, rtol=1e-4, atol=1e-5)


def test_training_mode_output_has_zero_mean_and_unit_variance_per_feature():
    x = population_inputs()
    ones, zeros = np.ones((3, 1, 5), np.float32), np.zeros((3, 1, 5), np.float32)
    y, _, _ = nn.batch_norm(x, ones, zeros, 1e-8)
    np.testing.assert_allclose(y.numpy().mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.numpy().var(axis=1), 1.0, atol=1e-4)


def test_batch_norm_is_invariant_to_the_weight_scale():
    rng = np.random.default_rng(2)
    u = rng.normal(size=(2, 64, 10)).astype(np.float32)
    w = rng.normal(size=(2, 10, 4)).astype(np.float32)
    gamma = rng.normal(size=(2, 1, 4)).astype(np.float32)
    beta = rng.normal(size=(2, 1, 4)).astype(np.float32)
    y, _, _ = nn.batch_norm(u @ w, gamma, beta, 1e-8)
    for a in (0.1, 7.0):
        scaled, _, _ = nn.batch_norm(u @ (a * w), gamma, beta, 1e-8)
        np.testing.assert_allclose(scaled, y, rtol=1e-3, atol=1e-4)


def test_inference_uses_algorithm_2_population_statistics():
    m, batches = 8, 6
    rng = np.random.default_rng(3)
    data = rng.normal(1.0, 2.0, size=(batches, 2, m, 3)).astype(np.float32)  # (M, K, m, F)
    norm = nn.BatchNorm(2, 3, epsilon=1e-3)
    norm.gamma.assign(rng.normal(size=(2, 1, 3)).astype(np.float32))
    norm.beta.assign(rng.normal(size=(2, 1, 3)).astype(np.float32))
    stats = [nn.batch_norm(tf.constant(batch), norm.gamma, norm.beta, norm.epsilon)[1:] for batch in data]
    norm.set_population_statistics(tf.stack([s[0] for s in stats]), tf.stack([s[1] for s in stats]), m)

    # By hand: E[x] = mean of batch means, Var[x] = m/(m-1) * mean of biased batch variances.
    expected_mean = data.mean(axis=2, keepdims=True).mean(axis=0)
    expected_variance = m / (m - 1) * data.var(axis=2, keepdims=True).mean(axis=0)
    np.testing.assert_allclose(norm.population_mean, expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(norm.population_variance, expected_variance, rtol=1e-5)

    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    expected = (norm.gamma.numpy() * (x - expected_mean) / np.sqrt(expected_variance + 1e-3) + norm.beta.numpy())
    np.testing.assert_allclose(norm(x, training=False, statistics="population"), expected, rtol=1e-4, atol=1e-5)
    # A single example at inference is a fixed affine map: it does not depend on the rest of the batch.
    np.testing.assert_allclose(norm(x[:, :1], training=False, statistics="population"), expected[:, :1], rtol=1e-4,
                               atol=1e-5)


def test_training_call_normalises_with_the_batch_and_updates_moving_averages():
    x = population_inputs(k=2, b=10, f=4)
    norm = nn.BatchNorm(2, 4, momentum=0.9, epsilon=1e-3)
    y = norm(tf.constant(x), training=True)
    np.testing.assert_allclose(y.numpy().mean(axis=1), 0.0, atol=1e-5)
    mean, variance = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True) * 10 / 9
    np.testing.assert_allclose(norm.moving_mean, 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(norm.moving_variance, 0.9 + 0.1 * variance, rtol=1e-5)
    inference = norm(x, training=False)
    np.testing.assert_allclose(inference, (x - 0.1 * mean) / np.sqrt(0.9 + 0.1 * variance + 1e-3), rtol=1e-4, atol=1e-5)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm(1, 2, momentum=1.0)
    with pytest.raises(ValueError, match="statistics"):
        nn.BatchNorm(1, 2)(np.zeros((1, 3, 2), np.float32), training=False, statistics="batch")
