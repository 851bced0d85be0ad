"""How gradients travel through a network, layer by layer: per-example Jacobians, their singular values, and the
size of the loss gradient at every layer.

Ioffe & Szegedy (2015, §3.3) conjecture that Batch Normalization keeps the Jacobian between the normalised inputs
of consecutive layers close to an orthogonal map (all singular values 1), so backpropagated gradients keep their
size. For ``NormalizedMLP`` the quantity compared is the same for every kind of network: a_l, the input to layer l's
sigmoids (BN's output for BN members, Wu + b for the baseline), and the layer Jacobian J_l = ∂a_l/∂a_{l−1}.

BN couples the examples of a batch through its statistics. Layer Jacobians here are taken per example with those
statistics held fixed at the probe batch's values (the Jacobian of the affine map BN applies to that batch), which
is what the paper's linearised argument describes; the loss gradients, by contrast, are the real training-mode
gradients, flowing through the batch statistics as they do in training.
"""

from __future__ import annotations

import tensorflow as tf

from replab.nn.layers import dense
from replab.nn.losses import softmax_cross_entropy
from replab.nn.normalized_mlp import NormalizedMLP, effective_weight, forward, normalize_block, normalize_layer
from replab.nn.norms import moments, normalize

# --- general -----------------------------------------------------------------------------------------------------


def per_example_jacobian(f, x):
    """∂f(x)[k, b]/∂x[k, b] for every member k and example b: (K, B, F_out, F_in).

    f maps (K, B, F_in) to (K, B, F_out) and must not couple examples or members (each output row depends only on
    its own input row); only those diagonal blocks of the full Jacobian are computed.
    """
    x = tf.convert_to_tensor(x)
    population, batch, features_in = x.shape
    flat = tf.reshape(x, [population * batch, features_in])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y = f(tf.reshape(flat, [population, batch, features_in]))
        y_flat = tf.reshape(y, [population * batch, y.shape[-1]])
    jacobian = tape.batch_jacobian(y_flat, flat)
    return tf.reshape(jacobian, [population, batch, y.shape[-1], features_in])


def singular_values(matrices):
    """Singular values of each matrix in (..., M, N), largest first: (..., min(M, N))."""
    return tf.linalg.svd(matrices, compute_uv=False)


# --- layer Jacobians of a NormalizedMLP --------------------------------------------------------------------------


def probe_pass(net: NormalizedMLP, x):
    """The training-mode pass of the probe batch x (without dropout, injected noise or moving-average updates):
    ([input to each hidden layer's sigmoids (K, B, F)], [(batch mean, biased batch variance) of each layer's Wu])."""
    if any(block.norm == "renorm" for block in net.blocks):
        raise ValueError("Layer Jacobians with frozen statistics are not implemented for Batch Renorm members.")
    pre_activations, statistics = [], []
    h = x
    for layer in range(net.hidden_count):
        z = dense(h, effective_weight(net, layer))
        statistics.append(moments(z))
        a = normalize_layer(net, layer, z, training=True, step=None, update_averages=False)
        pre_activations.append(a)
        h = tf.sigmoid(a)
    return pre_activations, statistics


def frozen_layer(net: NormalizedMLP, layer: int, previous, statistics):
    """a_layer as a function of `previous` (the pixels for layer 0, else a_{layer−1}), with BN members normalising
    by the fixed `statistics` (mean, variance) of the probe batch; every other kind works per example anyway."""
    h = previous if layer == 0 else tf.sigmoid(previous)
    z = dense(h, effective_weight(net, layer))
    mean, variance = statistics
    outputs = []
    for block in net.blocks:
        s = slice(block.start, block.stop)
        if block.norm == "batch":
            outputs.append(normalize(z[s], mean[s], variance[s], net.gammas[layer][s], net.betas[layer][s],
                                     net.options.epsilon))
        else:
            outputs.append(normalize_block(net, layer, block, z[s], training=False, step=None)[0])
    return tf.concat(outputs, axis=0) if len(outputs) > 1 else outputs[0]


def layer_jacobians(net: NormalizedMLP, x, layers=None):
    """J_l = ∂a_l/∂a_{l−1} per member and example, BN's statistics fixed at those of the probe batch x, (B, F_in) or
    (K, B, F_in): a list of (K, B, F_l, F_{l−1}), one per hidden layer in `layers` (0-based; default all), where
    layer 0's Jacobian is taken from the inputs x."""
    x = tf.convert_to_tensor(x)
    x = tf.broadcast_to(x, [net.population, *x.shape[-2:]]) if x.shape.rank == 2 else x
    layers = range(net.hidden_count) if layers is None else layers
    pre_activations, statistics = probe_pass(net, x)
    inputs = [x, *pre_activations[:-1]]
    return [per_example_jacobian(lambda previous, layer=layer: frozen_layer(net, layer, previous, statistics[layer]),
                                 inputs[layer])
            for layer in layers]


def layer_singular_values(net: NormalizedMLP, x, layers=None):
    """Singular values of the layer Jacobians (see layer_jacobians): a list of (K, B, min(F_l, F_{l−1}))."""
    return [singular_values(j) for j in layer_jacobians(net, x, layers)]


# --- loss gradients ------------------------------------------------------------------------------------------------


def gradient_norms(net: NormalizedMLP, x, y):
    """Sizes of the training-mode gradient of each member's mean cross-entropy on the batch (x, y), without dropout,
    injected noise or moving-average updates: (‖∂L/∂a_l‖ per hidden layer (K, L), ‖∂L/∂W_l‖ per layer (K, L + 1)).

    ∂L/∂a_l is the gradient at the input to layer l's sigmoids, W_l the layer's weight variable (v for WeightNorm
    members); both norms are Frobenius norms per member (over the batch and the units, or over the matrix)."""
    weights = [w for w, _ in net.layers]
    with tf.GradientTape() as tape:
        logits, pre_activations = forward(net, x, training=True, update_averages=False, stochastic=False)
        loss = tf.reduce_sum(softmax_cross_entropy(logits, y))
    activation_grads, weight_grads = tape.gradient(loss, (pre_activations, weights))
    return (tf.stack([frobenius_norms(g) for g in activation_grads], axis=1),
            tf.stack([frobenius_norms(g) for g in weight_grads], axis=1))


def frobenius_norms(tensor):
    """‖tensor[k]‖ for every member k of a (K, ...) tensor."""
    return tf.sqrt(tf.reduce_sum(tf.square(tensor), axis=list(range(1, tensor.shape.rank))))
