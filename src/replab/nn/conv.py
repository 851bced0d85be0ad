"""Populations of ReLU networks as practitioners use them: an MLP and a small CNN, each with or without BN.

Low-level TensorFlow only. A population holds K networks of one architecture and one normalisation (``bn``
true: every hidden layer computes ReLU(BN(W u)); false: ReLU(W u + b)). Member k starts from its own seed (He
initialisation, zero biases), so two populations built with the same seeds — one with BN, one without — start
seed by seed from the same weights.

Convolutions stack the population the way dense layers do: a 3×3 'same' convolution is the matmul of each
member's weights (K, 9·C, F) with the image patches (im2col from shifted slices of the zero-padded input), so one
batched matmul trains every member; inputs shared by all members (the first layer) are patched once.
BatchNorm on a convolution normalises each channel over the batch and both spatial axes (N, H, W), as Ioffe &
Szegedy's §3.2 prescribes; on a dense layer over the batch.

    net = ReluNet("cnn", bn=True, seeds=[0, 1, 2])
    logits = forward(net, x, training=True)          # x (B, 784) -> (K, B, 10); updates BN's moving averages
    logits = forward(net, x, training=False)         # moving averages
    logits = forward(net, x, training=True, params=other_values, update_averages=False)   # at other weights
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from replab.nn.init import he_normal
from replab.nn.layers import dense
from replab.nn.norms import moving_average, normalize, unbiased

ARCHITECTURES = ("mlp", "cnn")
ARCHITECTURE_LABELS = {"mlp": "ReLU MLP", "cnn": "CNN"}
IMAGE_SIDE, CLASSES = 28, 10


# --- the maths -------------------------------------------------------------------------------------------------


def patches(x, size: int = 3):
    """im2col for a 'same' convolution: x (..., H, W, C) -> (..., H, W, size·size·C), zero padding.

    Entry (i, j) holds the size×size neighbourhood of pixel (i, j), row-major over the window, channels last.
    """
    pad = size // 2
    rank = len(x.shape)
    padded = tf.pad(x, [[0, 0]] * (rank - 3) + [[pad, pad], [pad, pad], [0, 0]])
    height, width = int(x.shape[-3]), int(x.shape[-2])
    shifted = [padded[..., i:i + height, j:j + width, :] for i in range(size) for j in range(size)]
    return tf.concat(shifted, axis=-1)


def conv2d(x, w):
    """A size×size 'same', stride-1 convolution for a population.

    x: (B, H, W, C) shared by every member, or (K, B, H, W, C) one input per member; w: (K, size, size, C, F).
    Returns (K, B, H, W, F), equal to tf.nn.conv2d(x_k, w_k, 1, "SAME") for each member k. A shared input is
    convolved once with every member's filters side by side; per-member inputs loop over the members inside the
    graph (on CPU this beats both a grouped convolution and im2col, see `patches`). Run it without XLA: XLA's CPU
    convolutions are several times slower here.
    """
    k, size, _, channels, features = (int(d) for d in w.shape)
    if len(x.shape) == 4:
        filters = tf.reshape(tf.transpose(w, [1, 2, 3, 0, 4]), [size, size, channels, k * features])
        y = tf.nn.conv2d(x, filters, 1, "SAME")                                      # (B, H, W, K·F)
        shape = tf.shape(y)
        y = tf.reshape(y, [shape[0], shape[1], shape[2], k, features])
        return tf.transpose(y, [3, 0, 1, 2, 4])
    return tf.stack([tf.nn.conv2d(x[member], w[member], 1, "SAME") for member in range(k)])


def conv2d_im2col(x, w):
    """conv2d as one batched matmul of the weights (K, size·size·C, F) with the patches (for reference and XLA)."""
    k, size, _, channels, features = (int(d) for d in w.shape)
    cols = patches(x, size)
    matrix = tf.reshape(w, [k, size * size * channels, features])
    shape = tf.shape(cols)
    flat = tf.reshape(cols, [1 if len(x.shape) == 4 else k, -1, size * size * channels])
    spatial = shape[:3] if len(x.shape) == 4 else shape[1:4]
    return tf.reshape(tf.matmul(flat, matrix), tf.concat([[k], spatial, [features]], axis=0))


def max_pool(x):
    """2×2 max pooling, stride 2, on (K, B, H, W, F) with even H and W."""
    k, h, w, f = int(x.shape[0]), int(x.shape[2]), int(x.shape[3]), int(x.shape[4])
    blocks = tf.reshape(x, [k, -1, h // 2, 2, w // 2, 2, f])
    return tf.reduce_max(blocks, axis=[3, 5])


def channel_moments(x):
    """Per-member, per-channel mean and biased variance over every axis but the member and channel axes
    ((N, H, W) for a convolution, N for a dense layer), keeping those axes."""
    axes = list(range(1, len(x.shape) - 1))
    mean = tf.reduce_mean(x, axis=axes, keepdims=True)
    variance = tf.reduce_mean(tf.square(x - mean), axis=axes, keepdims=True)
    return mean, variance


def statistics_count(x):
    """How many values each channel's batch statistics average: N for a dense layer, N·H·W for a convolution."""
    return tf.reduce_prod(tf.shape(x)[1:-1])


# --- state ---------------------------------------------------------------------------------------------------


class ReluNet:
    """K ReLU networks of one architecture, all with BN or all without (see the module docstring).

    mlp: 784 → hidden … → 10, dense layers.
    cnn: 28×28×1 → conv 3×3 (channels[0]) → pool → conv 3×3 (channels[1]) → pool → … → dense 10.
    """

    def __init__(self, architecture: str, *, bn: bool, seeds, hidden=(128, 128), channels=(8, 16),
                 momentum: float = 0.9, epsilon: float = 1e-3, dtype=tf.float32):
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}.")
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ValueError("A population needs at least one seed.")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}.")
        if architecture == "cnn" and (len(channels) < 1 or IMAGE_SIDE % (2 ** len(channels))):
            raise ValueError(f"the CNN pools by 2 after each of its convolutions, so 28 must divide by 2 per layer; "
                             f"got {len(channels)} convolutions.")
        self.architecture, self.bn, self.seeds = architecture, bool(bn), seeds
        self.momentum, self.epsilon = momentum, epsilon
        self.population = len(seeds)
        self.hidden, self.channels = tuple(hidden), tuple(channels)
        k = self.population
        shapes = []  # weight shapes without the member axis, with their fan-in
        if architecture == "mlp":
            widths = [IMAGE_SIDE * IMAGE_SIDE, *hidden]
            shapes = [((n_in, n_out), n_in) for n_in, n_out in zip(widths[:-1], widths[1:])]
            self.features = list(hidden)
            last = widths[-1]
        else:
            depth = [1, *channels]
            shapes = [((3, 3, c_in, c_out), 9 * c_in) for c_in, c_out in zip(depth[:-1], depth[1:])]
            self.features = list(channels)
            side = IMAGE_SIDE // 2 ** len(channels)
            last = side * side * channels[-1]
        shapes.append(((last, CLASSES), last))
        self.weights = []
        for index, (shape, fan_in) in enumerate(shapes):
            rows = fan_in
            draws = [tf.reshape(he_normal((rows, int(np.prod(shape)) // rows), (seed, index), dtype), shape)
                     for seed in seeds]
            self.weights.append(tf.Variable(tf.stack(draws), name=f"W{index}"))
        stat_shape = (lambda f: (k, 1, 1, 1, f)) if architecture == "cnn" else (lambda f: (k, 1, f))
        self.biases = [tf.Variable(tf.zeros(stat_shape(f), dtype), name=f"b{i}") for i, f in enumerate(self.features)]
        self.output_bias = tf.Variable(tf.zeros((k, 1, CLASSES), dtype), name="b_out")
        self.gammas = [tf.Variable(tf.ones(stat_shape(f), dtype), name=f"gamma{i}") for i, f in enumerate(self.features)]
        self.betas = [tf.Variable(tf.zeros(stat_shape(f), dtype), name=f"beta{i}") for i, f in enumerate(self.features)]
        self.moving_means = [tf.Variable(tf.zeros(stat_shape(f), dtype), trainable=False, name=f"mean{i}")
                             for i, f in enumerate(self.features)]
        self.moving_variances = [tf.Variable(tf.ones(stat_shape(f), dtype), trainable=False, name=f"variance{i}")
                                 for i, f in enumerate(self.features)]

    @property
    def params(self) -> list[tf.Variable]:
        """What training changes: the weights, then BN's γ and β (with BN) or the hidden biases (without)."""
        norm = [*self.gammas, *self.betas] if self.bn else list(self.biases)
        return [*self.weights, *norm, self.output_bias]

    def parameter_count(self) -> int:
        """Trainable numbers of one member."""
        return int(sum(np.prod(p.shape[1:]) for p in self.params))


# --- the forward pass -------------------------------------------------------------------------------------------


def hidden_layer(net: ReluNet, layer: int, z, params: dict, training: bool, update_averages: bool):
    """ReLU of the layer's pre-activation z: BN(z) with γ, β (batch statistics in training, moving averages
    otherwise) or z + b."""
    if not net.bn:
        return tf.nn.relu(z + params["biases"][layer])
    gamma, beta = params["gammas"][layer], params["betas"][layer]
    if not training:
        return tf.nn.relu(normalize(z, net.moving_means[layer], net.moving_variances[layer], gamma, beta,
                                    net.epsilon))
    mean, variance = channel_moments(z)
    if update_averages:
        momentum = tf.constant(net.momentum, z.dtype)
        net.moving_means[layer].assign(moving_average(net.moving_means[layer], mean, momentum))
        net.moving_variances[layer].assign(
            moving_average(net.moving_variances[layer], unbiased(variance, statistics_count(z)), momentum))
    return tf.nn.relu(normalize(z, mean, variance, gamma, beta, net.epsilon))


def unpack(net: ReluNet, values=None) -> dict:
    """Parameter values by role; `values` (a list ordered like net.params) replaces the variables."""
    values = list(net.params) if values is None else list(values)
    n = len(net.weights)
    out = {"weights": values[:n], "biases": net.biases, "gammas": net.gammas, "betas": net.betas}
    rest = values[n:-1]
    if net.bn:
        h = len(net.features)
        out["gammas"], out["betas"] = rest[:h], rest[h:]
    else:
        out["biases"] = rest
    out["output_bias"] = values[-1]
    return out


def forward(net: ReluNet, x, *, training: bool, params=None, update_averages: bool = True):
    """Logits (K, B, 10) for images x (B, 784) shared by every member.

    training: BN uses the batch's statistics and, if update_averages, moves its averages towards them;
    otherwise the moving averages. params: values ordered like net.params to evaluate instead of the variables
    (e.g. a step along the gradient)."""
    p = unpack(net, params)
    weights = p["weights"]
    if net.architecture == "mlp":
        h = x
        for layer in range(len(net.features)):
            h = hidden_layer(net, layer, dense(h, weights[layer]), p, training, update_averages)
    else:
        h = tf.reshape(x, [-1, IMAGE_SIDE, IMAGE_SIDE, 1])
        for layer in range(len(net.features)):
            h = max_pool(hidden_layer(net, layer, conv2d(h, weights[layer]), p, training, update_averages))
        h = tf.reshape(h, [net.population, tf.shape(h)[1], -1])
    return dense(h, weights[-1]) + p["output_bias"]
