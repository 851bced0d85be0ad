"""Multi-layer perceptrons as populations of stacked weights.

``init_mlp`` builds K independent networks at once: layer l holds W (K, n_l, n_{l+1})
and b (K, 1, n_{l+1}). Member k is initialised from its own seed exactly as a
single network (K=1) with that seed would be, so a population reproduces K
separate runs.
"""

import tensorflow as tf

from replab.nn.init import initializer
from replab.nn.layers import activation, dense


def parameter_count(layer_sizes):
    """Weights plus biases of one network with these layer widths (inputs first)."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))


def member_seeds(seed, population):
    """One seed per member: an int seed s gives s, s+1, ...; a sequence is used as given."""
    if isinstance(seed, int):
        return [seed + k for k in range(population)]
    seeds = [int(s) for s in seed]
    if len(seeds) != population:
        raise ValueError(f"Got {len(seeds)} seeds for a population of {population} networks.")
    return seeds


def stacked(init, shape, seeds, tensor_index, dtype):
    """Draw one tensor per member (each from its own seed) and stack them on a new axis 0."""
    return tf.stack([init(shape, (seed, tensor_index), dtype) for seed in seeds])


def init_mlp(
    layer_sizes,
    population=1,
    seed=0,
    weight_init="glorot_uniform",
    bias_init="zeros",
    dtype=tf.float32,
):
    """Parameters of K networks: a list of (W, b) variable pairs, one pair per layer.

    ``weight_init`` and ``bias_init`` are initialiser names (see ``init.INITIALIZERS``)
    or callables ``(shape, seed, dtype) -> tensor``; ``seed`` is an int or one int per member.
    """
    if len(layer_sizes) < 2 or any(int(n) < 1 for n in layer_sizes):
        raise ValueError(f"An MLP needs at least an input and an output width, all positive; got {layer_sizes}.")
    seeds = member_seeds(seed, population)
    weight_init, bias_init = initializer(weight_init), initializer(bias_init)
    params = []
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        w = stacked(weight_init, (n_in, n_out), seeds, 2 * layer, dtype)
        b = stacked(bias_init, (1, n_out), seeds, 2 * layer + 1, dtype)
        params.append((tf.Variable(w, name=f"W{layer}"), tf.Variable(b, name=f"b{layer}")))
    return params


def mlp_forward(params, x, hidden_activation="relu", output_activation="linear"):
    """Outputs (K, B, n_out) of the networks in ``params`` for inputs x (B, n_in) or (K, B, n_in)."""
    hidden, output = activation(hidden_activation), activation(output_activation)
    for w, b in params[:-1]:
        x = hidden(dense(x, w, b))
    w, b = params[-1]
    return output(dense(x, w, b))


def weights_of(params):
    """The weight matrices only (what L1/L2 penalties regularise; biases are left alone)."""
    return [w for w, _ in params]
