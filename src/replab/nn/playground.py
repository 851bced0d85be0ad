"""TensorFlow Playground's training, faithfully, for populations of masked networks.

The Playground (tensorflow/playground `src/nn.ts`, `src/playground.ts`) trains one network with
plain SGD: it accumulates each example's gradient of 0.5·(output − label)², averages them over a
batch of `batchSize` examples walked in stored order, and in `updateWeights` does, per weight w:

    w ← w − lr · mean gradient                      (the data step)
    w ← w − lr · rate · R'(w_before)                 (R' = w for L2, sign(w) for L1)

where R' is taken at the weight *before* the data step; under L1, a weight that the
regularisation step carries across 0 is set to 0 and is "dead" from then on (never updated
again). Biases take the data step only. Weights start U(−0.5, 0.5), biases 0.1, the output unit
is tanh.

Population layout. One compiled graph trains networks of different shapes at once: every member
has `depth` hidden layers of `width` units and `width` inputs (features padded with zeros), and
three masks pick its real shape:

- `input_mask` (K, width): 1 for the features the member uses;
- `unit_mask` (K, depth, width): 1 for the units that exist in each hidden layer;
- `layer_on` (K, depth): a layer that is off passes its input through unchanged, so a network
  with d < depth hidden layers has its first d layers on.

A masked unit outputs 0, so weights into and out of it get zero gradient and never influence the
output: the member computes exactly what the narrower, shallower network computes. Hidden
activations and learning and regularisation rates are per member too.

Where members that share an activation and a depth sit next to each other (forward_order), each
such group is computed on its own slice with its own activation and layers only: no work on layers
a member lacks or on activations it does not use. A population scattered over more than MAX_GROUPS
groups is computed whole and masked instead; both compute the same function (up to float32 rounding:
they group the arithmetic differently).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from replab.nn.layers import ACTIVATIONS
from replab.nn.losses import playground_loss
from replab.nn.optim import Optimizer, per_member

PLAYGROUND_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
REGULARIZATIONS = ("none", "L1", "L2")


def playground_parameter_count(n_features: int, hidden: Sequence[int]) -> int:
    """Weights plus biases of a Playground network: n_features inputs, `hidden` widths, one output."""
    sizes = [n_features, *hidden, 1]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


@dataclass(frozen=True)
class Masks:
    """Which inputs, units and layers each member of a population really has (see module doc)."""

    input_mask: np.ndarray   # (K, width) float32
    unit_mask: np.ndarray    # (K, depth, width) float32
    layer_on: np.ndarray     # (K, depth) bool

    @property
    def population(self) -> int:
        return int(self.input_mask.shape[0])


def network_masks(feature_indices: Sequence[Sequence[int]], hidden: Sequence[Sequence[int]],
                  width: int, depth: int) -> Masks:
    """Masks for K members: member k uses inputs `feature_indices[k]` and hidden widths `hidden[k]`."""
    population = len(feature_indices)
    if len(hidden) != population:
        raise ValueError(f"got {population} feature lists but {len(hidden)} architectures")
    input_mask = np.zeros((population, width), np.float32)
    unit_mask = np.zeros((population, depth, width), np.float32)
    layer_on = np.zeros((population, depth), bool)
    for k, (features, layers) in enumerate(zip(feature_indices, hidden)):
        if len(layers) > depth or any(not 1 <= w <= width for w in layers) or max(features, default=width) >= width:
            raise ValueError(f"member {k} ({list(features)}, {list(layers)}) does not fit {depth} layers of {width}")
        input_mask[k, list(features)] = 1.0
        for layer, units in enumerate(layers):
            unit_mask[k, layer, :units] = 1.0
            layer_on[k, layer] = True
    return Masks(input_mask, unit_mask, layer_on)


OUTPUT_SEED_INDEX = 1000
"""Tensor index of the output layer's seed: fixed, so a member's initial weights do not depend on
how many pass-through layers its population carries."""


def initial_weights(width: int, depth: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """One network's starting (W, b) per layer: W ~ U(−0.5, 0.5), b = 0.1 (the Playground's rule).

    Hidden layer l draws from NumPy's generator seeded (seed, l), the output layer from
    (seed, OUTPUT_SEED_INDEX), so the weights depend only on the seed and `width`, never on the
    population around the network or on how many pass-through layers it carries.
    """
    shapes = [((width, width), layer) for layer in range(depth)] + [((width, 1), OUTPUT_SEED_INDEX)]
    return [(np.random.default_rng([int(seed), index]).uniform(-0.5, 0.5, shape).astype(np.float32),
             np.full((1, shape[1]), 0.1, np.float32)) for shape, index in shapes]


def stack_members(networks: Sequence[list[tuple[np.ndarray, np.ndarray]]]):
    """Variables (K, ...) per layer from K networks' NumPy (W, b) lists."""
    return [(tf.Variable(np.stack([net[layer][0] for net in networks]), name=f"W{layer}"),
             tf.Variable(np.stack([net[layer][1] for net in networks]), name=f"b{layer}"))
            for layer in range(len(networks[0]))]


def init_playground_network(width: int, depth: int, seeds: Sequence[int]):
    """Parameters of len(seeds) networks of `depth` hidden layers, `width` inputs and units, one output."""
    return stack_members([initial_weights(width, depth, seed) for seed in seeds])


def activation_weights(names: Sequence[str], used: Sequence[str]) -> np.ndarray:
    """(K, len(used)) one-hot: which of the activations in `used` each member applies."""
    unknown = sorted(set(names) - set(PLAYGROUND_ACTIVATIONS))
    if unknown:
        raise ValueError(f"unknown activation {unknown[0]!r}; choose from {', '.join(PLAYGROUND_ACTIVATIONS)}")
    return np.array([[float(name == option) for option in used] for name in names], np.float32)


def mixed_activation(z, choice, used: Sequence[str]):
    """Each member's own activation of z (K, B, n): choice (K, len(used)) one-hot."""
    if len(used) == 1:
        return ACTIVATIONS[used[0]](z)
    return tf.add_n([choice[:, i, None, None] * ACTIVATIONS[name](z) for i, name in enumerate(used)])


def small_dense(h, w, b):
    """h (K, B, in) or (B, in) times w (K, in, out) plus b (K, 1, out), as one broadcast product summed over `in`.

    For the Playground's tiny layers (at most 8 × 8) this is several times faster than a batched matmul on CPU:
    XLA fuses it, and its gradients, into a few loops instead of K small GEMM calls.
    """
    if h.shape.rank == 2:
        h = h[None]
    return tf.reduce_sum(h[..., :, None] * w[:, None], axis=-2) + b


def masked_forward(params, x, masks: "MaskTensors"):
    """tanh outputs (K, B) of masked Playground networks for inputs x (K, B, width) or (B, width)."""
    h = x * masks.input_mask[:, None, :]
    if masks.groups is not None:
        return grouped_forward(params, h, masks.unit_mask, masks.groups)
    for layer, (w, b) in enumerate(params[:-1]):
        a = mixed_activation(small_dense(h, w, b), masks.activation, masks.activations_used)
        a = a * masks.unit_mask[:, layer, None, :]
        h = tf.where(masks.layer_on[:, layer, None, None], a, h)
    w, b = params[-1]
    return tf.tanh(small_dense(h, w, b))[..., 0]


def grouped_forward(params, h, unit_mask, groups):
    """Outputs (K, B) for masked inputs h (K, B, width) of a population cut into `groups` (start, stop, activation,
    depth): each group of members sharing an activation and a depth computes only its own layers.

    Every parameter is split into the groups' pieces in one tf.split, whose gradient is one concatenation of the
    pieces' gradients; slicing each group out instead makes every piece's gradient a full-population tensor,
    zero outside the piece, and sums them (1.1x slower on the spiral search's mix).
    """
    sizes = [stop - start for start, stop, _, _ in groups]
    pieces = [tuple(tf.split(t, sizes, axis=0)) for layer in params for t in layer]  # [W0, b0, W1, b1, …][group]
    h_pieces, unit_pieces = tf.split(h, sizes, axis=0), tf.split(unit_mask, sizes, axis=0)
    outputs = []
    for g, (_, _, activation, depth) in enumerate(groups):
        h = h_pieces[g]
        for layer in range(depth):
            z = small_dense(h, pieces[2 * layer][g], pieces[2 * layer + 1][g])
            h = ACTIVATIONS[activation](z) * unit_pieces[g][:, layer, None, :]
        outputs.append(tf.tanh(small_dense(h, pieces[-2][g], pieces[-1][g]))[..., 0])
    return tf.concat(outputs, axis=0)


MAX_GROUPS = 64
"""Past this many groups, slicing costs more than it saves: the population is computed whole and masked."""


def member_groups(layer_on: np.ndarray, activations: Sequence[str]) -> tuple | None:
    """Runs (start, stop, activation, depth) of consecutive members that share an activation and a depth; None
    when there are more than MAX_GROUPS (an unsorted population)."""
    depths = layer_on.sum(axis=1)
    groups: list[tuple[int, int, str, int]] = []
    for k, (activation, depth) in enumerate(zip(activations, depths.tolist())):
        if groups and groups[-1][2:] == (activation, depth):
            groups[-1] = (groups[-1][0], k + 1, activation, depth)
        else:
            groups.append((k, k + 1, activation, depth))
    return tuple(groups) if len(groups) <= MAX_GROUPS else None


def forward_order(activations: Sequence[str], depths: Sequence[int]) -> list[int]:
    """Member positions sorted by activation, then deepest first (stable): the order in which members sharing an
    activation and a depth sit together, so the forward computes them as one group."""
    return sorted(range(len(depths)), key=lambda k: (PLAYGROUND_ACTIVATIONS.index(activations[k]), -depths[k]))


@dataclass(frozen=True)
class MaskTensors:
    """Masks and activation choices as tensors, ready for `masked_forward`."""

    input_mask: tf.Tensor
    unit_mask: tf.Tensor
    layer_on: tf.Tensor
    activation: tf.Tensor
    activations_used: tuple[str, ...]
    groups: tuple | None = None
    """member_groups(): runs of neighbours computed together, each with its own layers only; None computes every
    member whole, masked."""


def mask_tensors(masks: Masks, activations: Sequence[str]) -> MaskTensors:
    used = tuple(name for name in PLAYGROUND_ACTIVATIONS if name in set(activations))
    return MaskTensors(tf.constant(masks.input_mask), tf.constant(masks.unit_mask),
                       tf.constant(masks.layer_on), tf.constant(activation_weights(activations, used)), used,
                       member_groups(masks.layer_on, activations))


def playground_sgd_update(w, grad, dead, learning_rate, l1_rate, l2_rate):
    """One Playground `updateWeights` for a weight tensor; returns (new w, new dead mask).

    dead is 1.0 where L1 already zeroed a weight: such weights never move again.
    """
    stepped = w - learning_rate * grad
    new = stepped - learning_rate * (l2_rate * w + l1_rate * tf.sign(w))
    crossed = (l1_rate > 0) & (stepped * new < 0)
    new = tf.where(crossed, tf.zeros_like(new), new)
    new = tf.where(dead > 0, w, new)
    return new, tf.maximum(dead, tf.cast(crossed, dead.dtype))


class PlaygroundSGD(Optimizer):
    """Plain SGD with the Playground's L1/L2 step; per-member learning and regularisation rates.

    `regularised` names the parameters (by position) that get the regularisation step — the
    weights, not the biases. Rates are (K,) vectors: a member with L1 has l1_rate > 0.
    """

    slot_names = ("dead",)
    check_every_step = True  # measured: the spiral mix's step is 0.86x as fast with the test once per burst

    def __init__(self, params, learning_rate, l1_rate, l2_rate, regularised):
        super().__init__(params, learning_rate)
        self.l1_rate = tf.constant(np.broadcast_to(np.asarray(l1_rate, np.float32), [self.population]))
        self.l2_rate = tf.constant(np.broadcast_to(np.asarray(l2_rate, np.float32), [self.population]))
        self.regularised = {id(p) for p, flag in zip(self.params, regularised) if flag}

    def moves_without_gradient(self, param):
        return id(param) in self.regularised  # L1/L2 shrink a weight whatever its gradient

    def update(self, param, grad, slots, learning_rate):
        (dead,) = slots
        if id(param) not in self.regularised:
            return param - learning_rate * grad, (dead,)
        rank = param.shape.rank
        new, dead = playground_sgd_update(param, grad, dead, learning_rate,
                                          per_member(self.l1_rate, rank, param.dtype),
                                          per_member(self.l2_rate, rank, param.dtype))
        return new, (dead,)


def regularisation_rates(kinds: Sequence[str], rates: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(l1_rate, l2_rate) per member from a regularisation kind ('none', 'L1', 'L2') and rate each."""
    unknown = sorted(set(kinds) - set(REGULARIZATIONS))
    if unknown:
        raise ValueError(f"unknown regularisation {unknown[0]!r}; choose from {', '.join(REGULARIZATIONS)}")
    kinds, rates = np.asarray(kinds), np.asarray(rates, np.float32)
    return np.where(kinds == "L1", rates, 0).astype(np.float32), np.where(kinds == "L2", rates, 0).astype(np.float32)


def playground_optimizer(params, learning_rates, regularizations, regularization_rates) -> PlaygroundSGD:
    """PlaygroundSGD for `params` from init_playground_network: weights regularised, biases not."""
    l1, l2 = regularisation_rates(regularizations, regularization_rates)
    flags = [flag for _ in params for flag in (True, False)]
    return PlaygroundSGD(params, np.asarray(learning_rates, np.float32), l1, l2, flags)


def playground_training_loss(masks: MaskTensors):
    """loss_fn for nn.fit: the Playground's loss of each member on its batch."""

    def loss_fn(params, xb, yb, step):
        return playground_loss(masked_forward(params, xb, masks), yb)

    return loss_fn


def pad_features(features: np.ndarray, width: int) -> np.ndarray:
    """Zero-pad the last axis of a feature array to `width` columns."""
    pad = width - features.shape[-1]
    if pad < 0:
        raise ValueError(f"{features.shape[-1]} features do not fit {width} inputs")
    return np.pad(features, [(0, 0)] * (features.ndim - 1) + [(0, pad)]).astype(np.float32)
