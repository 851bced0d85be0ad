"""Playground populations: candidates on seeds as members of one masked population, the Playground's batching laid
out for the compiled trainer, and training a population (compiled once, trained again while its members stay).

Batches are the Playground's (`playground.ts` oneStep): each epoch walks the training points in stored order and
updates after every `batch` points; when the batch does not divide the training set, the leftover points' gradients
carry over and the next epoch's first update averages leftover + batch points. `playground_layout` lays an epoch
out as fixed-size slots (padding weighted 0) so that the compiled trainer reproduces exactly that.

A member's numbers do not depend on its population: its initial weights come from its seed alone, and every
population of a run evaluates the same activations (`evaluated_activations`: the config's, with the seed's), so the
compiled graph a member sees differs only in the population's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from replab.data.playground import FEATURES
from replab.experiments.spiral.candidates import Candidate, SeedData
from replab.experiments.spiral.config import Config, feature_keys
from replab.nn.losses import playground_loss
from replab.nn.playground import (
    PLAYGROUND_ACTIVATIONS,
    MaskTensors,
    activation_weights,
    forward_order,
    initial_weights,
    masked_forward,
    member_groups,
    network_masks,
    playground_optimizer,
    stack_members,
)
from replab.nn.train import CompiledFit

ALL_ACTIVATIONS = tuple(PLAYGROUND_ACTIVATIONS)


def evaluated_activations(config: Config) -> tuple[str, ...]:
    """The activations every population of this run computes, whatever its own members use: the config's and the
    seed network's, in the Playground's order (computing all four would cost twice the work for two)."""
    wanted = set(config.activations) | {config.seed_activation}
    return tuple(a for a in ALL_ACTIVATIONS if a in wanted)


@dataclass
class Population:
    """Members (candidate index, data index) with their current weights and dead-weight masks."""
    members: list[tuple[int, int]]
    networks: list[list[tuple[np.ndarray, np.ndarray]]]
    dead: list[list[np.ndarray]]


def new_population(config: Config, indices: list[int], data: list[SeedData], depth: int) -> Population:
    """Every candidate in `indices`, in that order, on every seed of `data`, freshly initialised."""
    members = [(c, s) for c in indices for s in range(len(data))]
    networks = [initial_weights(config.width, depth, data[s].seed) for _, s in members]
    dead = [[np.zeros_like(w) for w, _ in net] for net in networks]
    return Population(members, networks, dead)


def in_forward_order(candidates: list[Candidate]) -> list[int]:
    """Candidate indices sorted so that the forward computes each layer once per activation (nn.forward_order)."""
    return forward_order([c.hyper.activation for c in candidates], [len(c.hidden) for c in candidates])


def member_columns(population: Population) -> dict[int, list[int]]:
    """Candidate index -> the positions of its members (one per seed, in seed order) in the population."""
    columns: dict[int, list[int]] = {}
    for k, (c, _) in enumerate(population.members):
        columns.setdefault(c, []).append(k)
    return columns


@dataclass(frozen=True)
class Layout:
    """One epoch of the Playground's batching as `steps` slots of `slots` examples each (see module doc).

    index: (steps · slots,) training point in each slot; weight: 1 for a real point, 0 for padding; carried: the
    leftover points of the previous epoch, which the very first epoch does not have.
    """
    steps: int
    slots: int
    index: np.ndarray
    weight: np.ndarray
    carried: np.ndarray


def playground_layout(n: int, batch: int) -> Layout:
    """The Playground's epoch for n training points in batches of `batch`: n // batch updates; the first one of every
    epoch after the first also averages the n % batch points left over from the epoch before."""
    steps, leftover = divmod(n, batch)
    slots = batch + leftover
    index = np.zeros((steps, slots), int)
    weight = np.zeros((steps, slots), np.float32)
    carried = np.zeros((steps, slots), np.float32)
    index[0, :leftover] = np.arange(steps * batch, n)
    weight[0, :leftover] = carried[0, :leftover] = 1
    for step in range(steps):
        first = leftover if step == 0 else 0
        index[step, first:first + batch] = np.arange(step * batch, (step + 1) * batch)
        weight[step, first:first + batch] = 1
    return Layout(steps, slots, index.ravel(), weight.ravel(), carried.ravel())


def playground_batch_loss(masks, steps_per_epoch: int):
    """loss_fn for nn.fit on a Playground layout: the weighted mean loss of each member's slots, where y carries
    (label, weight, carried) and carried points count from the second epoch on."""

    def loss_fn(params, xb, yb, step):
        first_epoch = tf.cast(step < steps_per_epoch, yb.dtype)
        weight = yb[..., 1] * (1 - first_epoch * yb[..., 2])
        loss = 0.5 * tf.square(masked_forward(params, xb, masks) - yb[..., 0])
        return tf.reduce_sum(weight * loss, axis=-1) / tf.reduce_sum(weight, axis=-1)

    return loss_fn


@dataclass
class CompiledPopulation:
    """A population's networks as variables with their Playground training compiled (nn.CompiledFit), to train
    again while its members stay (most of) the same: successive halving's rungs that drop no member, or few, compile
    nothing. Members dropped since the compile stay in the graph, frozen."""
    members: list[tuple[int, int]]
    params: list
    optimizer: object
    steps_per_epoch: int
    fit: object
    evaluate: tuple[str, ...]

    def columns(self, population: Population) -> list[int] | None:
        """Where the population's members sit among the compiled ones, or None if some member is not compiled."""
        position = {member: k for k, member in enumerate(self.members)}
        if any(member not in position for member in population.members):
            return None
        return [position[member] for member in population.members]


def compile_population(config: Config, candidates: list[Candidate], population: Population, data: list[SeedData],
                       depth: int, evaluate: tuple[str, ...] = ("train",)) -> CompiledPopulation:
    """The population's current weights and dead-weight masks as variables, its training compiled (the Playground's
    batching), with the losses on the sets named in `evaluate` as metrics."""
    members = [candidates[c] for c, _ in population.members]
    batches = {m.hyper.batch_size for m in members}
    if len(batches) != 1:
        raise ValueError(f"a population trains one batch size, got {sorted(batches)}")
    layout = playground_layout(len(data[0].y_train), batches.pop())
    masks = member_masks(config, members, depth)
    params = stack_members(population.networks)
    optimizer = playground_optimizer(params, [m.hyper.learning_rate for m in members],
                                        [m.hyper.regularization for m in members],
                                        [m.hyper.regularization_rate for m in members])
    for layer, slots in enumerate(optimizer.slots[::2]):  # weights' slots; biases never die
        slots[0].assign(np.stack([dead[layer] for dead in population.dead]))
    seeds = [s for _, s in population.members]
    x_slots = np.stack([data[s].x_train[layout.index] for s in seeds])
    y_slots = np.stack([np.stack([data[s].y_train[layout.index], layout.weight, layout.carried], -1)
                        for s in seeds]).astype(np.float32)
    points = {name: (tf.constant(np.stack([getattr(data[s], f"x_{name}") for s in seeds])),
                     tf.constant(np.stack([getattr(data[s], f"y_{name}") for s in seeds])))
              for name in evaluate}

    def loss_on(name):
        x, y = points[name]
        return lambda: playground_loss(masked_forward(params, x, masks), y)

    fit = CompiledFit(playground_batch_loss(masks, layout.steps), params, optimizer, x_slots, y_slots,
                         batch_size=layout.slots, batch_order="sequential",
                         metrics={f"{name}_loss": loss_on(name) for name in evaluate}, per_member_data=True)
    return CompiledPopulation(list(population.members), params, optimizer, layout.steps, fit, tuple(evaluate))


def train_compiled(config: Config, compiled: CompiledPopulation, population: Population,
                   epochs: int) -> tuple[np.ndarray, dict, np.ndarray]:
    """Train the population's members of the compiled population `epochs` epochs from a fresh loop state, as a new
    nn.fit would, the other compiled members frozen, and write the weights and dead-weight masks back into
    `population`.

    Returns (epochs (R,), {"train": (R, K) training loss, "test": (R, K) test loss}, (R,) wall times of the records)
    with the sets the population evaluates, recorded every `record_every` epochs and at the end, K the population's
    members; a diverged member's loss reads 0.5 (a constant output's).
    """
    columns = compiled.columns(population)
    if columns is None:
        raise ValueError("the population holds members that were not compiled")
    active = np.zeros(len(compiled.members), bool)
    active[columns] = True
    steps = compiled.steps_per_epoch
    history = compiled.fit(epochs * steps, record_every=config.record_every * steps,
                           active=None if active.all() else active)
    values = [(w.numpy(), b.numpy()) for w, b in compiled.params]  # read once: each .numpy() copies all K members
    population.networks = [[(w[k], b[k]) for w, b in values] for k in columns]
    dead_values = [slots[0].numpy() for slots in compiled.optimizer.slots[::2]]
    population.dead = [[d[k] for d in dead_values] for k in columns]
    losses = {}
    for name in compiled.evaluate:
        loss = history.metrics[f"{name}_loss"][:, columns]
        losses[name] = np.where(np.isfinite(loss), loss, 0.5)
    return history.steps // steps, losses, history.record_times


def train_members(config: Config, candidates: list[Candidate], population: Population, data: list[SeedData],
                  epochs: int, depth: int, evaluate: tuple[str, ...] = ("train",)) -> tuple[np.ndarray, dict, np.ndarray]:
    """Train every member `epochs` epochs (the Playground's batching) in one compiled population; see
    train_compiled for what it returns."""
    compiled = compile_population(config, candidates, population, data, depth, evaluate)
    return train_compiled(config, compiled, population, epochs)


def member_masks(config: Config, members: list[Candidate], depth: int):
    """The population's masks, with its groups of neighbours that share an activation and a depth
    (nn.member_groups): each group is computed with its own layers and activation only, so a member's numbers do
    not depend on the networks beside it. Should the members be too scattered for groups, the run's activations are
    all evaluated and masked: the same function, up to float32 rounding."""
    activations = evaluated_activations(config)
    outside = sorted({m.hyper.activation for m in members} - set(activations))
    if outside:
        raise ValueError(f"activation {outside[0]!r} is not among this run's activations {activations}")
    feature_index = [[FEATURES.index(k) for k in feature_keys(m.feature_set)] for m in members]
    masks = network_masks(feature_index, [m.hidden for m in members], config.width, depth)
    return MaskTensors(tf.constant(masks.input_mask), tf.constant(masks.unit_mask), tf.constant(masks.layer_on),
                          tf.constant(activation_weights([m.hyper.activation for m in members], activations)),
                          activations, member_groups(masks.layer_on, [m.hyper.activation for m in members]))


def select(population: Population, keep: set[int]) -> Population:
    chosen = [k for k, (c, _) in enumerate(population.members) if c in keep]
    return Population([population.members[k] for k in chosen], [population.networks[k] for k in chosen],
                      [population.dead[k] for k in chosen])
