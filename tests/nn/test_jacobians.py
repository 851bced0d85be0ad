import numpy as np
import pytest
import tensorflow as tf

from replab.nn import jacobians
from replab.nn.normalized_mlp import Member, NormalizedMLP, Options, forward

SIZES = [6, 5, 4, 3]


def small_net(norms=("none", "batch", "layer"), epsilon=1e-3, weight_std=0.7):
    """A float64 population with non-trivial γ and β, so closed forms are tested with them."""
    members = [Member(norm, weight_std=weight_std) for norm in norms]
    net = NormalizedMLP(SIZES, members, seeds=list(range(len(members))), options=Options(epsilon=epsilon),
                        dtype=tf.float64)
    rng = np.random.default_rng(1)
    for gamma, beta in zip(net.gammas, net.betas):
        gamma.assign(rng.uniform(0.5, 2.0, gamma.shape))
        beta.assign(rng.normal(0.0, 0.3, beta.shape))
    for _, b in net.layers:
        b.assign(rng.normal(0.0, 0.3, b.shape))
    return net


def probe(batch=7, features=SIZES[0], seed=2):
    return tf.constant(np.random.default_rng(seed).normal(size=(batch, features)))


def finite_difference_jacobian(f, x, h=1e-6):
    """Central differences of f: (K, B, F_in) -> (K, B, F_out), per example: (K, B, F_out, F_in)."""
    x = np.asarray(x, np.float64)
    columns = []
    for i in range(x.shape[-1]):
        step = np.zeros_like(x)
        step[..., i] = h
        columns.append((np.asarray(f(tf.constant(x + step))) - np.asarray(f(tf.constant(x - step)))) / (2 * h))
    return np.stack(columns, axis=-1)


def test_per_example_jacobian_matches_finite_differences_on_a_small_layer():
    rng = np.random.default_rng(0)
    w = tf.constant(rng.normal(size=(2, 4, 5)))
    b = tf.constant(rng.normal(size=(2, 1, 5)))
    x = rng.normal(size=(2, 3, 4))

    def layer(inputs):
        return tf.tanh(tf.matmul(inputs, w) + b) * tf.reduce_sum(inputs**2, axis=-1, keepdims=True)

    jacobian = jacobians.per_example_jacobian(layer, tf.constant(x)).numpy()
    assert jacobian.shape == (2, 3, 5, 4)
    np.testing.assert_allclose(jacobian, finite_difference_jacobian(layer, x), rtol=1e-7, atol=1e-9)


def test_singular_values_match_numpy_largest_first():
    matrices = np.random.default_rng(3).normal(size=(2, 3, 4, 6))
    values = jacobians.singular_values(tf.constant(matrices)).numpy()
    assert values.shape == (2, 3, 4)
    np.testing.assert_allclose(values, np.linalg.svd(matrices, compute_uv=False), rtol=1e-10)
    assert np.all(np.diff(values, axis=-1) <= 0)


def test_frozen_layers_reproduce_the_training_mode_forward_pass_at_the_probe_batch():
    net, x = small_net(), probe()
    _, expected = forward(net, x, training=True, update_averages=False, stochastic=False)
    pre_activations, statistics = jacobians.probe_pass(net, tf.broadcast_to(x, [3, *x.shape]))
    previous = [tf.broadcast_to(x, [3, *x.shape]), *pre_activations[:-1]]
    for layer in range(net.hidden_count):
        np.testing.assert_allclose(pre_activations[layer], expected[layer], rtol=1e-12)
        np.testing.assert_allclose(jacobians.frozen_layer(net, layer, previous[layer], statistics[layer]),
                                   expected[layer], rtol=1e-10, atol=1e-12)


def test_layer_jacobians_match_finite_differences_and_the_closed_form():
    net, x = small_net(), probe()
    population = tf.broadcast_to(x, [3, *x.shape])
    pre_activations, statistics = jacobians.probe_pass(net, population)
    computed = jacobians.layer_jacobians(net, x)
    assert [j.shape for j in computed] == [(3, 7, 5, 6), (3, 7, 4, 5)]
    previous = [population, *pre_activations[:-1]]
    for layer, jacobian in enumerate(computed):
        numeric = finite_difference_jacobian(
            lambda a, layer=layer: jacobians.frozen_layer(net, layer, a, statistics[layer]), previous[layer])
        np.testing.assert_allclose(jacobian, numeric, rtol=1e-6, atol=1e-9)
        # Closed form for the second layer: diag(γ/√(σ²_B + ε)) · Wᵀ · diag(σ'(a_prev)) with BN, Wᵀ · diag(σ') without.
        if layer == 1:
            w = net.layers[1][0].numpy()                                  # (K, F_in, F_out)
            sig = tf.sigmoid(previous[1]).numpy()
            slope = sig * (1 - sig)                                       # (K, B, F_in)
            base = np.einsum("kio,kbi->kboi", w, slope)
            _, variance = statistics[1]
            scale = net.gammas[1].numpy() / np.sqrt(variance.numpy() + net.options.epsilon)  # (K, 1, F_out)
            np.testing.assert_allclose(jacobian[0], base[0], rtol=1e-10)
            np.testing.assert_allclose(jacobian[1], base[1] * scale[1, 0][None, :, None], rtol=1e-10)


def test_bn_layer_jacobian_does_not_depend_on_the_weight_scale():
    """§3.3: BN(W u) = BN((aW) u), so the Jacobian is the same; without BN it scales with a."""
    net, x = small_net(norms=("none", "batch"), epsilon=1e-12), probe()
    before = jacobians.layer_jacobians(net, x, layers=[1])[0].numpy()
    net.layers[1][0].assign(net.layers[1][0] * 3.0)
    after = jacobians.layer_jacobians(net, x, layers=[1])[0].numpy()
    np.testing.assert_allclose(after[1], before[1], rtol=1e-8)
    np.testing.assert_allclose(after[0], 3.0 * before[0], rtol=1e-10)


def test_layer_jacobians_refuse_batch_renorm():
    net = small_net(norms=("renorm",))
    with pytest.raises(ValueError, match="Renorm"):
        jacobians.layer_jacobians(net, probe())


def test_gradient_norms_match_the_closed_form_at_the_top_and_leave_moving_averages_alone():
    net, x = small_net(), probe()
    labels = np.arange(7) % SIZES[-1]
    means = [m.numpy().copy() for m in net.moving_means]
    activation_norms, weight_norms = (t.numpy() for t in jacobians.gradient_norms(net, x, tf.constant(labels)))
    assert activation_norms.shape == (3, 2) and weight_norms.shape == (3, 3)
    for before, after in zip(means, net.moving_means):
        np.testing.assert_array_equal(before, after.numpy())
    # ∂L/∂logits = (softmax − onehot)/B; every member's last hidden layer feeds the output layer directly.
    logits, pre_activations = forward(net, x, training=True, update_averages=False, stochastic=False)
    delta = (tf.nn.softmax(logits).numpy() - np.eye(SIZES[-1])[labels]) / len(labels)   # (K, B, C)
    h = tf.sigmoid(pre_activations[-1]).numpy()
    w_out = net.layers[-1][0].numpy()
    top = np.einsum("kbc,koc->kbo", delta, w_out) * h * (1 - h)
    np.testing.assert_allclose(activation_norms[:, -1], np.sqrt((top**2).sum(axis=(1, 2))), rtol=1e-10)
    np.testing.assert_allclose(weight_norms[:, -1], np.linalg.norm(np.einsum("kbo,kbc->koc", h, delta), axis=(1, 2)),
                               rtol=1e-10)
