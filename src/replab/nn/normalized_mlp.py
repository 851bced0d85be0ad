"""A population of sigmoid MLPs whose members differ in normalisation, initial scale, dropout and injected noise.

This is the network of the Batch Normalization study: Figure 1's 784-100-100-100-10 sigmoid MLP, where every
hidden layer computes z = W u and then one of

    none    z + b                                     (the paper's baseline)
    batch   BN(z)          = γ (z − μ_B)/σ_B + β      (Algorithm 1; moving averages at inference)
    renorm  BRN(z)         = γ ((z − μ_B)/σ_B · r + d) + β   (Ioffe 2017; r, d from the moving averages)
    layer   LN(z)          = γ (z − μ_example)/σ_example + β (Ba et al. 2016)
    rms     RMS(z)         = γ z/rms_example(z) + β    (Zhang & Sennrich 2019; β is the layer's bias)
    group   GN(z)          = LayerNorm over `groups` contiguous groups of units (Wu & He 2018)
    weight  (g v/‖v‖) u + b                           (Salimans & Kingma 2016; W holds v, g is separate)

before the sigmoid. Members are grouped into contiguous blocks of one kind; each block's maths runs only on
its own slice of the population, so a population mixing kinds costs what its members cost. Every member
holds every parameter (b, γ, β, g); the ones its kind does not use get zero gradients and never change.

Per member there is also a learning rate (handed to the optimizer), a weight scale (the std of the Gaussian
initial weights), a dropout rate on the hidden units, and a switch for Santurkar et al.'s (2018) injected
internal covariate shift: after each normalisation, a random shift and scale per unit that changes every step.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from replab.budget import mlp_population_bytes, require_memory
from replab.nn.init import gaussian
from replab.nn.layers import dense
from replab.nn.mlp import init_mlp
from replab.nn.norms import (
    batch_norm,
    batch_renorm,
    group_norm,
    layer_norm,
    moving_average,
    normalize,
    rms_norm,
    unbiased,
    weight_norm,
)
from replab.nn.random import hashed_uniform

NORMS = ("none", "batch", "renorm", "layer", "rms", "weight", "group")
BATCH_STATISTICS = ("batch", "renorm")
"""Kinds whose training-mode output depends on the other examples in the mini-batch."""
SHIFT_DRAWS, DROPOUT_DRAWS = 1, 2
NORM_LABELS = {"none": "no normalisation", "batch": "BatchNorm", "renorm": "Batch Renorm", "layer": "LayerNorm",
               "rms": "RMSNorm", "weight": "WeightNorm", "group": "GroupNorm"}


@dataclass(frozen=True)
class Member:
    """One network of the population."""

    norm: str = "none"
    weight_std: float = 0.1
    dropout: float = 0.0
    """Probability of dropping a hidden unit's output during training (inverted dropout)."""
    shift_noise: bool = False
    """Inject a random per-unit shift and scale after each normalisation, redrawn every step."""

    def __post_init__(self):
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}.")
        if not self.weight_std > 0:
            raise ValueError(f"weight_std must be positive, got {self.weight_std}.")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}.")


@dataclass(frozen=True)
class Block:
    norm: str
    start: int
    stop: int


def blocks_of(members) -> list[Block]:
    """Maximal runs of consecutive members with the same normalisation."""
    blocks, start = [], 0
    for norm, run in itertools.groupby(member.norm for member in members):
        size = len(list(run))
        blocks.append(Block(norm, start, start + size))
        start += size
    return blocks


@dataclass(frozen=True)
class Options:
    """Settings shared by the whole population."""

    momentum: float = 0.99
    epsilon: float = 1e-3
    groups: int = 4
    """GroupNorm: the hidden units split into this many contiguous groups."""
    renorm_r_max: float = 3.0
    renorm_d_max: float = 5.0
    renorm_ramp_steps: int = 1000
    """Batch Renorm starts as BN (r_max 1, d_max 0) and relaxes linearly to its limits over these steps."""
    shift_range: float = 1.0
    """Injected shift per unit and step: uniform in [−shift_range, shift_range]."""
    scale_range: float = 2.0
    """Injected scale per unit and step: log-uniform in [1/scale_range, scale_range]."""


EVALUATION_ROWS = 2000
"""Rows a population is scored on at once (the chunk of evaluations): the activations the memory check allows for."""


class NormalizedMLP:
    """State of K sigmoid MLPs (see the module docstring); the maths is in the functions below."""

    def __init__(self, layer_sizes, members, seeds, options: Options = Options(), dtype=tf.float32):
        members = list(members)
        if len(seeds) != len(members):
            raise ValueError(f"Got {len(seeds)} seeds for {len(members)} members.")
        if len(layer_sizes) < 3:
            raise ValueError(f"The network needs at least one hidden layer, got layer sizes {layer_sizes}.")
        hidden = list(layer_sizes[1:-1])
        if "group" in {m.norm for m in members} and any(width % options.groups for width in hidden):
            raise ValueError(f"GroupNorm's {options.groups} groups must divide every hidden width {hidden}.")
        require_memory(f"a population of {len(members)} networks {'-'.join(map(str, layer_sizes))}",
                       mlp_population_bytes(list(layer_sizes), len(members), batch_rows=EVALUATION_ROWS),
                       hint="use fewer seeds, cells or narrower layers")
        self.members, self.options, self.layer_sizes = members, options, list(layer_sizes)
        self.population = len(members)
        self.blocks = blocks_of(members)
        stds = np.array([m.weight_std for m in members], np.float32).reshape(-1, 1, 1)
        unit = init_mlp(layer_sizes, self.population, seed=list(seeds), weight_init=lambda s, seed, d: gaussian(s, 1.0, seed, d),
                        bias_init="zeros", dtype=dtype)
        self.layers = [(tf.Variable(w * stds, name=w.name.split(":")[0]), b) for w, b in unit]
        shape = lambda width: (self.population, 1, width)  # noqa: E731
        # WeightNorm's g starts at ‖v‖, so every kind starts from the same effective weights.
        self.gains = [tf.Variable(tf.norm(w, axis=-2, keepdims=True), name=f"g{i}") for i, (w, _) in enumerate(self.layers[:-1])]
        self.gammas = [tf.Variable(tf.ones(shape(f), dtype), name=f"gamma{i}") for i, f in enumerate(hidden)]
        self.betas = [tf.Variable(tf.zeros(shape(f), dtype), name=f"beta{i}") for i, f in enumerate(hidden)]
        self.moving_means = [tf.Variable(tf.zeros(shape(f), dtype), trainable=False, name=f"mean{i}")
                             for i, f in enumerate(hidden)]
        self.moving_variances = [tf.Variable(tf.ones(shape(f), dtype), trainable=False, name=f"variance{i}")
                                 for i, f in enumerate(hidden)]
        self.keep = tf.constant([1.0 - m.dropout for m in members], dtype, shape=(self.population, 1, 1))
        self.shift_noise = tf.constant([m.shift_noise for m in members], shape=(self.population, 1, 1))
        self.uses_dropout = any(m.dropout > 0 for m in members)
        self.uses_shift_noise = any(m.shift_noise for m in members)

    @property
    def params(self):
        pairs = [v for pair in self.layers for v in pair]
        return pairs + self.gains + self.gammas + self.betas

    @property
    def hidden_count(self):
        return len(self.layers) - 1


# --- the maths ---------------------------------------------------------------------------------------------


def renorm_limits(options: Options, step):
    """Batch Renorm's (r_max, d_max) at `step`: from (1, 0), i.e. plain BN, linearly to their limits."""
    if step is None:
        progress = tf.constant(1.0)
    else:
        progress = tf.clip_by_value(tf.cast(step, tf.float32) / max(options.renorm_ramp_steps, 1), 0.0, 1.0)
    return 1.0 + (options.renorm_r_max - 1.0) * progress, options.renorm_d_max * progress


def effective_weight(net: NormalizedMLP, layer: int):
    """W for layer `layer`: g v/‖v‖ for WeightNorm members, W itself for the others."""
    w, _ = net.layers[layer]
    if layer >= net.hidden_count or all(block.norm != "weight" for block in net.blocks):
        return w
    g = net.gains[layer]
    parts = [weight_norm(w[b.start:b.stop], g[b.start:b.stop]) if b.norm == "weight" else w[b.start:b.stop]
             for b in net.blocks]
    return tf.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def normalize_block(net: NormalizedMLP, layer: int, block: Block, z, training: bool, step):
    """The block's normalised pre-activation and, for kinds with moving averages in training, their new values."""
    s = slice(block.start, block.stop)
    options = net.options
    b = net.layers[layer][1][s]
    gamma, beta = net.gammas[layer][s], net.betas[layer][s]
    mean, variance = net.moving_means[layer][s], net.moving_variances[layer][s]
    if block.norm in ("none", "weight"):
        return z + b, None
    if block.norm == "layer":
        return layer_norm(z, gamma, beta, options.epsilon), None
    if block.norm == "rms":
        return rms_norm(z, gamma, options.epsilon) + beta, None
    if block.norm == "group":
        return group_norm(z, gamma, beta, options.groups, options.epsilon), None
    if not training:
        return normalize(z, mean, variance, gamma, beta, options.epsilon), None
    momentum = tf.constant(options.momentum, z.dtype)
    if block.norm == "batch":
        y, batch_mean, batch_variance = batch_norm(z, gamma, beta, options.epsilon)
        new_variance = unbiased(batch_variance, tf.shape(z)[-2])
    else:  # renorm: the moving variance averages the biased batch variance (see nn.norms.BatchRenorm)
        r_max, d_max = renorm_limits(options, step)
        y, batch_mean, batch_variance = batch_renorm(z, gamma, beta, mean, variance, r_max, d_max, options.epsilon)
        new_variance = batch_variance
    return y, (moving_average(mean, batch_mean, momentum), moving_average(variance, new_variance, momentum))


def normalize_layer(net: NormalizedMLP, layer: int, z, training: bool, step, update_averages: bool):
    """Every block's normalisation of z (K, B, F); in training, optionally writes the new moving averages."""
    outputs, means, variances = [], [], []
    for block in net.blocks:
        y, averages = normalize_block(net, layer, block, z[block.start:block.stop], training, step)
        outputs.append(y)
        s = slice(block.start, block.stop)
        mean, variance = averages if averages is not None else (net.moving_means[layer][s], net.moving_variances[layer][s])
        means.append(mean)
        variances.append(variance)
    if training and update_averages and any(b.norm in BATCH_STATISTICS for b in net.blocks):
        net.moving_means[layer].assign(tf.concat(means, axis=0))
        net.moving_variances[layer].assign(tf.concat(variances, axis=0))
    return tf.concat(outputs, axis=0) if len(outputs) > 1 else outputs[0]


def inject_shift(net: NormalizedMLP, layer: int, a, step, seed):
    """Santurkar et al.'s noisy BN: a·s + m for members with shift noise, s and m per unit, redrawn each step."""
    options = net.options
    features = int(a.shape[-1])
    u = tf.cast(hashed_uniform([2, net.population, 1, features], seed, layer, SHIFT_DRAWS, step), a.dtype)
    shift = options.shift_range * (2.0 * u[0] - 1.0)
    scale = tf.exp(np.log(options.scale_range) * (2.0 * u[1] - 1.0))
    return tf.where(net.shift_noise, a * scale + shift, a)


def drop_units(net: NormalizedMLP, layer: int, h, step, seed):
    """Inverted dropout with each member's own keep probability; members with rate 0 are untouched."""
    u = tf.cast(hashed_uniform(tf.shape(h, out_type=tf.int64), seed, layer, DROPOUT_DRAWS, step), h.dtype)
    return tf.where(u < net.keep, h / net.keep, tf.zeros_like(h))


def forward(net: NormalizedMLP, x, *, training: bool, step=None, seed=0, update_averages=True, stochastic=None):
    """(logits (K, B, 10), [input to each hidden layer's sigmoids (K, B, F)]).

    training: normalise with batch statistics (BN, Batch Renorm) and, if update_averages, update their moving
    averages; otherwise use the moving averages. stochastic (default: training) applies dropout and the
    injected shift, both drawn from (seed, step).
    """
    stochastic = training if stochastic is None else stochastic
    if stochastic and step is None and (net.uses_dropout or net.uses_shift_noise):
        raise ValueError("Dropout and injected noise need the step to draw from.")
    pre_activations = []
    h = x
    for layer in range(net.hidden_count):
        z = dense(h, effective_weight(net, layer))
        a = normalize_layer(net, layer, z, training, step, update_averages)
        if stochastic and net.uses_shift_noise:
            a = inject_shift(net, layer, a, step, seed)
        pre_activations.append(a)
        h = tf.sigmoid(a)
        if stochastic and net.uses_dropout:
            h = drop_units(net, layer, h, step, seed)
    w, b = net.layers[-1]
    return dense(h, w, b), pre_activations
