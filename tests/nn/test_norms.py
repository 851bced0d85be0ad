"""Batch Norm, and Layer Norm, RMSNorm, Group Norm, Weight Norm and Batch Renorm against independent NumPy."""

import numpy as np
import pytest
import tensorflow as tf

from replab.nn.norms import (
    BatchNorm,
    BatchRenorm,
    batch_norm,
    batch_renorm,
    group_norm,
    layer_norm,
    rms_norm,
    weight_norm,
)


def population_inputs(k=3, b=32, f=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(2.0, 3.0, size=(k, b, f))).astype(np.float32)


def test_batch_norm_agrees_with_tf_nn_moments_and_batch_normalization():
    x = population_inputs()
    rng = np.random.default_rng(1)
    gamma = rng.normal(size=(3, 1, 5)).astype(np.float32)
    beta = rng.normal(size=(3, 1, 5)).astype(np.float32)
    y, mean, variance = batch_norm(x, gamma, beta, 1e-3)
    ref_mean, ref_variance = tf.nn.moments(tf.constant(x), axes=[1], keepdims=True)
    reference = tf.nn.batch_normalization(x, ref_mean, ref_variance, beta, gamma, 1e-3)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(variance, ref_variance, rtol=1e-5)
    np.testing.assert_allclose(y, reference, rtol=1e-4, atol=1e-5)


def test_training_mode_output_has_zero_mean_and_unit_variance_per_feature():
    x = population_inputs()
    ones, zeros = np.ones((3, 1, 5), np.float32), np.zeros((3, 1, 5), np.float32)
    y, _, _ = batch_norm(x, ones, zeros, 1e-8)
    np.testing.assert_allclose(y.numpy().mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.numpy().var(axis=1), 1.0, atol=1e-4)


def test_batch_norm_is_invariant_to_the_weight_scale():
    rng = np.random.default_rng(2)
    u = rng.normal(size=(2, 64, 10)).astype(np.float32)
    w = rng.normal(size=(2, 10, 4)).astype(np.float32)
    gamma = rng.normal(size=(2, 1, 4)).astype(np.float32)
    beta = rng.normal(size=(2, 1, 4)).astype(np.float32)
    y, _, _ = batch_norm(u @ w, gamma, beta, 1e-8)
    for a in (0.1, 7.0):
        scaled, _, _ = batch_norm(u @ (a * w), gamma, beta, 1e-8)
        np.testing.assert_allclose(scaled, y, rtol=1e-3, atol=1e-4)


def test_inference_uses_algorithm_2_population_statistics():
    m, batches = 8, 6
    rng = np.random.default_rng(3)
    data = rng.normal(1.0, 2.0, size=(batches, 2, m, 3)).astype(np.float32)  # (M, K, m, F)
    norm = BatchNorm(2, 3, epsilon=1e-3)
    norm.gamma.assign(rng.normal(size=(2, 1, 3)).astype(np.float32))
    norm.beta.assign(rng.normal(size=(2, 1, 3)).astype(np.float32))
    stats = [batch_norm(tf.constant(batch), norm.gamma, norm.beta, norm.epsilon)[1:] for batch in data]
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
    norm = BatchNorm(2, 4, momentum=0.9, epsilon=1e-3)
    y = norm(tf.constant(x), training=True)
    np.testing.assert_allclose(y.numpy().mean(axis=1), 0.0, atol=1e-5)
    mean, variance = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True) * 10 / 9
    np.testing.assert_allclose(norm.moving_mean, 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(norm.moving_variance, 0.9 + 0.1 * variance, rtol=1e-5)
    inference = norm(x, training=False)
    np.testing.assert_allclose(inference, (x - 0.1 * mean) / np.sqrt(0.9 + 0.1 * variance + 1e-3), rtol=1e-4, atol=1e-5)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(1, 2, momentum=1.0)
    with pytest.raises(ValueError, match="statistics"):
        BatchNorm(1, 2)(np.zeros((1, 3, 2), np.float32), training=False, statistics="batch")


# --- Layer Norm, RMSNorm, Group Norm, Weight Norm and Batch Renorm against independent NumPy (float64).

K, B, F = 3, 16, 8


def inputs(seed=0, k=K, b=B, f=F):
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, size=(k, b, f))
    gamma = rng.normal(size=(k, 1, f))
    beta = rng.normal(size=(k, 1, f))
    return x, gamma, beta


def np_group_norm(x, gamma, beta, groups, epsilon):
    k, b, f = x.shape
    xg = x.reshape(k, b, groups, f // groups)
    mean = xg.mean(axis=-1, keepdims=True)
    var = ((xg - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((xg - mean) / np.sqrt(var + epsilon)).reshape(k, b, f) * gamma + beta


def test_layer_norm_matches_numpy_and_normalises_each_example():
    x, gamma, beta = inputs()
    y = layer_norm(tf.constant(x), gamma, beta, 1e-5).numpy()
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5) * gamma + beta, rtol=1e-10, atol=1e-10)
    plain = layer_norm(tf.constant(x), np.ones_like(gamma), np.zeros_like(beta), 1e-12).numpy()
    np.testing.assert_allclose(plain.mean(-1), 0.0, atol=1e-10)
    np.testing.assert_allclose(plain.var(-1), 1.0, atol=1e-8)


def test_layer_norm_of_an_example_does_not_depend_on_the_rest_of_the_batch():
    x, gamma, beta = inputs()
    full = layer_norm(tf.constant(x), gamma, beta, 1e-5).numpy()
    alone = layer_norm(tf.constant(x[:, :1]), gamma, beta, 1e-5).numpy()
    np.testing.assert_allclose(full[:, :1], alone, rtol=1e-12)


def test_rms_norm_matches_numpy_and_does_not_recenter():
    x, gamma, _ = inputs(1)
    y = rms_norm(tf.constant(x), gamma, 1e-6).numpy()
    np.testing.assert_allclose(y, x / np.sqrt((x**2).mean(-1, keepdims=True) + 1e-6) * gamma, rtol=1e-10)
    # The mean of an example survives (scaled): RMSNorm of x + c differs from RMSNorm of x.
    shifted = rms_norm(tf.constant(x + 5.0), gamma, 1e-6).numpy()
    assert not np.allclose(shifted, y)


@pytest.mark.parametrize("groups", [1, 2, 4, F])
def test_group_norm_matches_numpy(groups):
    x, gamma, beta = inputs(2)
    y = group_norm(tf.constant(x), gamma, beta, groups, 1e-5).numpy()
    np.testing.assert_allclose(y, np_group_norm(x, gamma, beta, groups, 1e-5), rtol=1e-10, atol=1e-10)


def test_group_norm_with_one_group_is_layer_norm_and_with_f_groups_normalises_each_unit_alone():
    x, gamma, beta = inputs(3)
    np.testing.assert_allclose(group_norm(tf.constant(x), gamma, beta, 1, 1e-5),
                               layer_norm(tf.constant(x), gamma, beta, 1e-5), rtol=1e-12, atol=1e-12)
    # One unit per group: x̂ = (x − x)/√ε = 0, so only β remains.
    y = group_norm(tf.constant(x), gamma, beta, F, 1e-5).numpy()
    np.testing.assert_allclose(y, np.broadcast_to(beta, x.shape), atol=1e-12)


def test_group_norm_rejects_groups_that_do_not_divide_the_features():
    x, gamma, beta = inputs()
    with pytest.raises(ValueError, match="divisor"):
        group_norm(tf.constant(x), gamma, beta, 3, 1e-5)


def test_weight_norm_matches_numpy_sets_each_unit_norm_to_g_and_ignores_the_scale_of_v():
    rng = np.random.default_rng(4)
    v = rng.normal(size=(K, 5, 7))
    g = rng.uniform(0.5, 2.0, size=(K, 1, 7))
    w = weight_norm(tf.constant(v), g).numpy()
    np.testing.assert_allclose(w, g * v / np.linalg.norm(v, axis=1, keepdims=True), rtol=1e-12)
    for k in range(K):
        for j in range(7):
            np.testing.assert_allclose(np.linalg.norm(w[k, :, j]), g[k, 0, j], rtol=1e-12)
    scale = rng.uniform(0.1, 10.0, size=(K, 1, 7))
    np.testing.assert_allclose(weight_norm(tf.constant(v * scale), g), w, rtol=1e-12)
    np.testing.assert_allclose(weight_norm(tf.constant(v * 37.0), g), w, rtol=1e-12)


def np_batch_renorm(x, gamma, beta, moving_mean, moving_var, r_max, d_max, epsilon):
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    sigma_b, sigma = np.sqrt(var + epsilon), np.sqrt(moving_var + epsilon)
    r = np.clip(sigma_b / sigma, 1.0 / r_max, r_max)
    d = np.clip((mean - moving_mean) / sigma, -d_max, d_max)
    return ((x - mean) / sigma_b * r + d) * gamma + beta, mean, var


def moving_statistics(seed=5):
    rng = np.random.default_rng(seed)
    return rng.normal(1.0, 1.0, size=(K, 1, F)), rng.uniform(2.0, 20.0, size=(K, 1, F))


@pytest.mark.parametrize("r_max, d_max", [(1.0, 0.0), (1.5, 0.5), (3.0, 5.0), (100.0, 100.0)])
def test_batch_renorm_matches_numpy(r_max, d_max):
    x, gamma, beta = inputs(6)
    moving_mean, moving_var = moving_statistics()
    y, mean, var = batch_renorm(tf.constant(x), gamma, beta, moving_mean, moving_var, r_max, d_max, 1e-3)
    ref_y, ref_mean, ref_var = np_batch_renorm(x, gamma, beta, moving_mean, moving_var, r_max, d_max, 1e-3)
    np.testing.assert_allclose(y, ref_y, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12)
    np.testing.assert_allclose(var, ref_var, rtol=1e-12)


def test_batch_renorm_without_room_to_correct_is_batch_norm():
    x, gamma, beta = inputs(7)
    moving_mean, moving_var = moving_statistics()
    y, mean, var = batch_renorm(tf.constant(x), gamma, beta, moving_mean, moving_var, 1.0, 0.0, 1e-3)
    bn_y, bn_mean, bn_var = batch_norm(tf.constant(x), gamma, beta, 1e-3)
    for a, b in ((y, bn_y), (mean, bn_mean), (var, bn_var)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_batch_renorm_with_moving_statistics_equal_to_the_batch_statistics_is_batch_norm():
    x, gamma, beta = inputs(8)
    _, mean, var = batch_norm(tf.constant(x), gamma, beta, 1e-3)
    y, _, _ = batch_renorm(tf.constant(x), gamma, beta, mean, var, 3.0, 5.0, 1e-3)
    np.testing.assert_allclose(y, batch_norm(tf.constant(x), gamma, beta, 1e-3)[0], rtol=1e-10, atol=1e-10)


def test_batch_renorm_treats_r_and_d_as_constants_in_the_gradient():
    # With r, d under stop_gradient, the gradient w.r.t. x equals r · (BN's gradient), r per feature.
    x, gamma, beta = inputs(9)
    moving_mean, moving_var = moving_statistics()
    upstream = np.random.default_rng(10).normal(size=x.shape)
    xt = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        renorm = tf.reduce_sum(upstream * batch_renorm(xt, gamma, beta, moving_mean, moving_var, 3.0, 5.0, 1e-3)[0])
        bn = tf.reduce_sum(upstream * batch_norm(xt, gamma, beta, 1e-3)[0])
    _, _, var = np_batch_renorm(x, gamma, beta, moving_mean, moving_var, 3.0, 5.0, 1e-3)
    r = np.clip(np.sqrt(var + 1e-3) / np.sqrt(moving_var + 1e-3), 1 / 3.0, 3.0)
    np.testing.assert_allclose(tape.gradient(renorm, xt), r * tape.gradient(bn, xt).numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["layer_norm", "rms_norm", "group_norm", "weight_norm", "batch_renorm"])
def test_gradients_are_finite(name):
    rng = np.random.default_rng(11)
    x = tf.constant(rng.normal(size=(K, B, F)).astype(np.float32))
    gamma = tf.Variable(rng.normal(size=(K, 1, F)).astype(np.float32))
    beta = tf.Variable(rng.normal(size=(K, 1, F)).astype(np.float32))
    moving_mean, moving_var = (s.astype(np.float32) for s in moving_statistics())
    calls = {
        "layer_norm": lambda: layer_norm(x, gamma, beta, 1e-3),
        "rms_norm": lambda: rms_norm(x, gamma, 1e-3) + 0.0 * beta,
        "group_norm": lambda: group_norm(x, gamma, beta, 2, 1e-3),
        "weight_norm": lambda: weight_norm(x, gamma[:, :, :F]) + 0.0 * beta,
        "batch_renorm": lambda: batch_renorm(x, gamma, beta, moving_mean, moving_var, 3.0, 5.0, 1e-3)[0],
    }
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.sin(calls[name]()))
    for grad in tape.gradient(loss, [x, gamma, beta]):
        assert grad is not None and np.all(np.isfinite(grad.numpy()))


def test_batch_renorm_state_holder_trains_and_infers_with_moving_averages():
    x, _, _ = inputs(12)
    x = x.astype(np.float32)
    layer = BatchRenorm(K, F, momentum=0.5)
    y = layer(tf.constant(x), training=True)
    ref_y, mean, var = np_batch_renorm(x.astype(np.float64), 1.0, 0.0, np.zeros((K, 1, F)), np.ones((K, 1, F)),
                                       3.0, 5.0, 1e-3)
    np.testing.assert_allclose(y, ref_y, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean, 0.5 * mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.moving_variance, 0.5 + 0.5 * var, rtol=1e-5)
    inferred = layer(tf.constant(x), training=False).numpy()
    np.testing.assert_allclose(inferred, (x - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + 1e-3),
                               rtol=1e-4, atol=1e-4)
    assert [v.name for v in layer.trainable] == ["brn_gamma:0", "brn_beta:0"]
    with pytest.raises(ValueError, match="r_max"):
        BatchRenorm(K, F, r_max=0.5)
