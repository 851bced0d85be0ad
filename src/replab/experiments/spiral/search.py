"""The search engine: candidates, Playground populations, successive halving in waves, and the replication.

Candidates are (feature set, architecture, hyperparameters); architectures are 0 to `max_layers` hidden layers of
1 to `max_neurons` units, of one uniform width or (with `mixed_widths`) non-increasing widths. Every architecture
gets the same hyperparameter grid (activation × learning rate × regularisation kind and rate × batch size).
(Architecture, feature set) pairs are visited in increasing parameter count, in waves of about `wave_members`
networks; each wave's candidates of one batch size train as one masked population — a *unit* of work mapped on
`replab.cluster.executor()`, so waves may run on a Ray cluster. Each unit trains by successive halving: rungs end at
budget/2^k epochs; after every rung a candidate is dropped as *solved* once its training loss reached the target in
`seeds_required` seeds, or as *hopeless* when even its `seeds_required`-th best seed's best training loss is above
`early_hopeless_loss` (before half the budget) or `hopeless_loss` (from half the budget on). Once a feature set has
solvers of `finalists_per_set` parameter counts, its larger architectures are skipped.

Batches are the Playground's (`playground.ts` oneStep): each epoch walks the training points in stored order and
updates after every `batch` points; when the batch does not divide the training set, the leftover points' gradients
carry over and the next epoch's first update averages leftover + batch points. `playground_layout` lays an epoch
out as fixed-size slots (padding weighted 0) so that the compiled trainer reproduces exactly that.

A member's numbers do not depend on its population: its initial weights come from its seed alone, and every
population of a run evaluates the same activations (`evaluated_activations`: the config's, with the seed's), so the
compiled graph a member sees differs only in the population's size.

The search selects on the TRAINING loss only: the test points are never evaluated while searching, so the
replication (`replicate`: the finalists retrained on fresh seeds for the full budget, scored on their final test
loss) judges networks on points their selection never saw.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import tensorflow as tf

from replab import cluster, nn
from replab.data.playground import FEATURES, features, make_dataset
from replab.experiments.base import Progress
from replab.experiments.spiral.config import (N_POINTS, PLAYGROUND_URL, REPLICATE_SEED_OFFSET, TRAIN_RATIO, Config,
                                              feature_keys)
from replab.nn.playground import activation_weights
from replab.seeds import derived_seed

STATUSES = ("solved", "failed", "pruned")
GRID_POINTS = 60
GRID_EXTENT = 6.0
ALL_ACTIVATIONS = tuple(nn.PLAYGROUND_ACTIVATIONS)


def evaluated_activations(config: Config) -> tuple[str, ...]:
    """The activations every population of this run computes, whatever its own members use: the config's and the
    seed network's, in the Playground's order (computing all four would cost twice the work for two)."""
    wanted = set(config.activations) | {config.seed_activation}
    return tuple(a for a in ALL_ACTIVATIONS if a in wanted)
PRUNING_SEED_INDEX = 900
"""Seed index of the draw that picks which pruned candidates are re-run unpruned."""


# --- candidates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hyper:
    activation: str
    learning_rate: float
    regularization: str
    regularization_rate: float
    batch_size: int

    def describe(self) -> str:
        reg = "no reg." if self.regularization == "none" else f"{self.regularization} {self.regularization_rate:g}"
        return f"{self.activation}, lr {self.learning_rate:g}, {reg}, batch {self.batch_size}"


@dataclass(frozen=True)
class Candidate:
    feature_set: str
    hidden: tuple[int, ...]
    hyper: Hyper

    @property
    def parameters(self) -> int:
        return nn.playground_parameter_count(len(feature_keys(self.feature_set)), self.hidden)

    def shape(self) -> str:
        return " × ".join(map(str, self.hidden)) if self.hidden else "no hidden layer"


def regularization_settings(config: Config) -> list[tuple[str, float]]:
    """(kind, rate) pairs: 'none' once, every other kind at every rate."""
    return [(kind, 0.0 if kind == "none" else rate) for kind in config.regularizations
            for rate in ((0.0,) if kind == "none" else config.regularization_rates)]


def hyper_grid(config: Config) -> list[Hyper]:
    return [Hyper(act, lr, reg, rate, batch)
            for batch in config.batch_sizes for reg, rate in regularization_settings(config)
            for act in config.activations for lr in config.learning_rates]


def architectures(config: Config) -> list[tuple[int, ...]]:
    """No hidden layer, then every depth 1 … max_layers: uniform widths, or every non-increasing width sequence."""
    shapes = [()]
    for depth in range(1, config.max_layers + 1):
        if config.mixed_widths:
            shapes += [tuple(sorted(c, reverse=True)) for c in
                       itertools.combinations_with_replacement(range(1, config.max_neurons + 1), depth)]
        else:
            shapes += [(width,) * depth for width in range(1, config.max_neurons + 1)]
    return shapes


def shapes_in_order(config: Config) -> list[tuple[str, tuple[int, ...]]]:
    """(feature set, architecture) pairs by increasing parameter count."""
    pairs = [(f, arch) for f in config.feature_sets for arch in architectures(config)]
    return sorted(pairs, key=lambda p: (nn.playground_parameter_count(len(feature_keys(p[0])), p[1]), len(p[1]),
                                        config.feature_sets.index(p[0])))


def seed_choice(config: Config) -> Candidate:
    """The Playground's suggestion the question starts from (2 × 8 tanh with L2 by default)."""
    rate = 0.0 if config.seed_regularization == "none" else config.seed_regularization_rate
    return Candidate("x+y", tuple(config.seed_hidden),
                     Hyper(config.seed_activation, config.seed_learning_rate, config.seed_regularization, rate,
                           config.seed_batch_size))


def playground_link(config: Config, candidate: Candidate, seed: int) -> str:
    """The URL that opens `candidate` in the real TensorFlow Playground (its state keys, state.ts).

    It sets dataset, noise, training ratio, features, network shape, activation, learning rate, regularisation and
    rate, batch size and seed; the page's own generator draws the data and initial weights from that seed, so the
    link reproduces the network and its training settings, not replab's exact draw.
    """
    keys = feature_keys(candidate.feature_set)
    h = candidate.hyper
    state = {"activation": h.activation, "batchSize": h.batch_size, "dataset": config.dataset,
             "regDataset": "reg-plane", "learningRate": f"{h.learning_rate:g}",
             "regularizationRate": f"{h.regularization_rate:g}" if h.regularization != "none" else "0",
             "noise": f"{round(config.noise * 100):d}", "networkShape": ",".join(map(str, candidate.hidden)),
             "seed": str(seed), "showTestData": "false", "discretize": "false",
             "percTrainData": f"{round(TRAIN_RATIO * 100):d}",
             **{key: str(key in keys).lower() for key in FEATURES}, "cosX": "false", "cosY": "false",
             "collectStats": "false", "problem": "classification", "initZero": "false", "hideText": "false",
             "regularization": h.regularization}
    return PLAYGROUND_URL + urlencode(state, safe=",")


# --- data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedData:
    """One seed's Playground data (its train/test split) and the seed of its networks' initial weights."""
    seed: int
    points_train: np.ndarray
    y_train: np.ndarray
    points_test: np.ndarray
    y_test: np.ndarray
    x_train: np.ndarray    # (N, width) all 7 features, zero-padded
    x_test: np.ndarray


def make_seed_data(config: Config, indices=None) -> list[SeedData]:
    """Data for seed indices of the run's seed set (default: the search's 0 … n_seeds − 1)."""
    sets = []
    for index in range(config.n_seeds) if indices is None else indices:
        seed = derived_seed(config.seed, int(index))
        d = make_dataset(config.dataset, N_POINTS, config.noise, TRAIN_RATIO, seed)
        sets.append(SeedData(seed, d.x_train, d.y_train, d.x_test, d.y_test,
                             nn.pad_features(features(d.x_train, FEATURES), config.width),
                             nn.pad_features(features(d.x_test, FEATURES), config.width)))
    return sets


def replicate_data(config: Config) -> list[SeedData]:
    """Fresh seeds for the replication: indices 500 … 500 + replicates − 1, disjoint from the search's."""
    return make_seed_data(config, range(REPLICATE_SEED_OFFSET, REPLICATE_SEED_OFFSET + config.replicates))


# --- training a population ---------------------------------------------------------------------------


@dataclass
class Population:
    """Members (candidate index, data index) with their current weights and dead-weight masks."""
    members: list[tuple[int, int]]
    networks: list[list[tuple[np.ndarray, np.ndarray]]]
    dead: list[list[np.ndarray]]


def new_population(config: Config, indices: list[int], data: list[SeedData], depth: int) -> Population:
    """Every candidate in `indices`, in that order, on every seed of `data`, freshly initialised."""
    members = [(c, s) for c in indices for s in range(len(data))]
    networks = [nn.initial_weights(config.width, depth, data[s].seed) for _, s in members]
    dead = [[np.zeros_like(w) for w, _ in net] for net in networks]
    return Population(members, networks, dead)


def in_forward_order(candidates: list[Candidate]) -> list[int]:
    """Candidate indices sorted so that the forward computes each layer once per activation (nn.forward_order)."""
    return nn.forward_order([c.hyper.activation for c in candidates], [len(c.hidden) for c in candidates])


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
        loss = 0.5 * tf.square(nn.masked_forward(params, xb, masks) - yb[..., 0])
        return tf.reduce_sum(weight * loss, axis=-1) / tf.reduce_sum(weight, axis=-1)

    return loss_fn


REUSE_SHARE = 0.75
"""A population that keeps at least this share of a compiled population's members trains on in its graph, the
dropped members frozen there (computed, not updated) instead of compiling the smaller population afresh; measured
on the default search: see the README's Speed section."""


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
    params = nn.stack_members(population.networks)
    optimizer = nn.playground_optimizer(params, [m.hyper.learning_rate for m in members],
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
        return lambda: nn.playground_loss(nn.masked_forward(params, x, masks), y)

    fit = nn.CompiledFit(playground_batch_loss(masks, layout.steps), params, optimizer, x_slots, y_slots,
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


def compiled_for(config: Config, candidates: list[Candidate], population: Population, data: list[SeedData],
                 depth: int, compiled: CompiledPopulation | None) -> CompiledPopulation:
    """`compiled` while it holds the population's members and they are at least REUSE_SHARE of its own, else the
    population compiled afresh: a population that lost few members trains on in the graph it has, with the numbers
    a new graph gives (a member's numbers do not depend on the population around it)."""
    if (compiled is not None and compiled.columns(population) is not None
            and len(population.members) >= REUSE_SHARE * len(compiled.members)):
        return compiled
    return compile_population(config, candidates, population, data, depth)


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
    masks = nn.network_masks(feature_index, [m.hidden for m in members], config.width, depth)
    return nn.MaskTensors(tf.constant(masks.input_mask), tf.constant(masks.unit_mask), tf.constant(masks.layer_on),
                          tf.constant(activation_weights([m.hyper.activation for m in members], activations)),
                          activations, nn.member_groups(masks.layer_on, [m.hyper.activation for m in members]))


def rung_ends(config: Config) -> list[int]:
    return sorted({max(1, round(config.epoch_budget / 2 ** k)) for k in range(config.rungs)})


# --- successive halving ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the search did to one candidate over its seeds (training loss only)."""
    status: str                   # solved, failed (budget spent), pruned (hopeless)
    epochs_trained: int
    best_loss: np.ndarray         # (seeds,) lowest training loss seen
    reached_at: np.ndarray        # (seeds,) first epoch with training loss <= target, NaN if never


def score(best_loss: np.ndarray, required: int) -> float:
    """The `required`-th best seed's best training loss: at most the target iff the candidate solved."""
    return float(np.sort(np.asarray(best_loss))[required - 1])


@dataclass
class Search:
    candidates: list[Candidate]
    outcomes: dict[int, Outcome]
    skipped: dict[str, int]           # feature set -> architectures skipped as larger than its solution
    prune_log: list[tuple[int, int, int, float]]   # (after epoch, pruned, kept, lowest pruned score)
    waves: int


@dataclass(frozen=True)
class WaveUnit:
    """One unit of the search: a wave's candidates of one batch size, trained by successive halving on `data`."""
    config: Config
    wave: int
    candidates: tuple[Candidate, ...]
    data: tuple[SeedData, ...]


def train_wave(unit: WaveUnit) -> tuple[list[Outcome], list]:
    """Successive halving over the unit's candidates: (their outcomes in order, the prune log)."""
    config, candidates, data = unit.config, list(unit.candidates), list(unit.data)
    depth = max(len(c.hidden) for c in candidates)
    indices = list(range(len(candidates)))
    population = new_population(config, in_forward_order(candidates), data, depth)
    n = len(data)
    state = {i: Outcome("failed", 0, np.full(n, np.inf), np.full(n, np.nan)) for i in indices}
    prune_log: list = []
    done, compiled = 0, None
    for end in rung_ends(config):
        if not population.members:
            break
        compiled = compiled_for(config, candidates, population, data, depth, compiled)
        epochs, losses, _ = train_compiled(config, compiled, population, end - done)
        epochs = epochs + done
        alive = member_columns(population)
        for c, columns in alive.items():
            record(state[c], epochs, losses["train"][:, columns], config.target_loss)
        done = end
        keep = settle(config, state, sorted(alive), done, prune_log)
        population = select(population, keep)
    return [state[i] for i in indices], prune_log


def record(outcome: Outcome, epochs: np.ndarray, loss: np.ndarray, target: float) -> None:
    for e, row in zip(epochs, loss):
        newly = np.isnan(outcome.reached_at) & (row <= target)
        outcome.reached_at[newly] = e
    outcome.best_loss = np.minimum(outcome.best_loss, np.nanmin(loss, axis=0))
    outcome.epochs_trained = int(epochs[-1])


def settle(config: Config, state: dict[int, Outcome], alive: list[int], epoch: int, prune_log: list) -> set[int]:
    """Mark solved and hopeless candidates after a rung; returns the ones that keep training."""
    keep, pruned = set(), []
    for c in alive:
        outcome = state[c]
        if np.sum(~np.isnan(outcome.reached_at)) >= config.seeds_required:
            outcome.status = "solved"
        elif epoch >= config.epoch_budget:
            outcome.status = "failed"
        elif score(outcome.best_loss, config.seeds_required) > hopeless_threshold(config, epoch):
            outcome.status = "pruned"
            pruned.append(score(outcome.best_loss, config.seeds_required))
        else:
            keep.add(c)
    if pruned:
        prune_log.append((epoch, len(pruned), len(keep), float(min(pruned))))
    return keep


def hopeless_threshold(config: Config, epoch: int) -> float:
    return config.hopeless_loss if 2 * epoch >= config.epoch_budget else config.early_hopeless_loss


def select(population: Population, keep: set[int]) -> Population:
    chosen = [k for k, (c, _) in enumerate(population.members) if c in keep]
    return Population([population.members[k] for k in chosen], [population.networks[k] for k in chosen],
                      [population.dead[k] for k in chosen])


def search(config: Config, data: list[SeedData], progress: Progress) -> Search:
    grid = hyper_grid(config)
    order = shapes_in_order(config)
    candidates: list[Candidate] = []
    outcomes: dict[int, Outcome] = {}
    prune_log: list = []
    solved_sizes: dict[str, set[int]] = {f: set() for f in config.feature_sets}
    position, waves = 0, 0

    def limit(feature_set):
        sizes = sorted(solved_sizes[feature_set])
        return sizes[config.finalists_per_set - 1] if len(sizes) >= config.finalists_per_set else math.inf

    while position < len(order):
        wave = []
        while position < len(order) and len(wave) * len(grid) * len(data) < config.wave_members:
            feature_set, arch = order[position]
            position += 1
            if nn.playground_parameter_count(len(feature_keys(feature_set)), arch) <= limit(feature_set):
                wave.append((feature_set, arch))
        if not wave:
            continue
        waves += 1
        units, unit_indices = [], []
        for batch in config.batch_sizes:
            chosen = [Candidate(f, arch, hyper) for f, arch in wave for hyper in grid if hyper.batch_size == batch]
            unit_indices.append(list(range(len(candidates), len(candidates) + len(chosen))))
            candidates += chosen
            units.append(WaveUnit(config, waves, tuple(chosen), tuple(data)))
        done_before = position - len(wave)

        def note(done, total, text, waves=waves, done_before=done_before):
            progress(done_before, len(order), f"wave {waves}: {text}")

        results = cluster.executor().map(train_wave, units, progress=note,
                                         describe=lambda u: f"spiral wave {u.wave}, batch "
                                                            f"{u.candidates[0].hyper.batch_size}")
        for indices, (unit_outcomes, unit_log) in zip(unit_indices, results):
            outcomes.update(zip(indices, unit_outcomes))
            prune_log += unit_log
        for i in itertools.chain.from_iterable(unit_indices):
            if outcomes[i].status == "solved":
                solved_sizes[candidates[i].feature_set].add(candidates[i].parameters)
    skipped = {f: sum(1 for g, arch in order if g == f and nn.playground_parameter_count(len(feature_keys(f)), arch)
                      > limit(f)) for f in config.feature_sets}
    progress(len(order), len(order), "search done")
    return Search(candidates, outcomes, skipped, prune_log, waves)


# --- replication: the finalists retrained in full on fresh seeds -----------------------------------------


@dataclass(frozen=True)
class Replication:
    epochs: np.ndarray        # (R,)
    train_loss: np.ndarray    # (F, R, replicates)
    test_loss: np.ndarray     # (F, R, replicates)
    grid_output: np.ndarray   # (F, G, G) first replicate's output over the plane
    record_times: np.ndarray  # (F, R) wall time (seconds since the epoch) of each record, for TensorBoard


@dataclass(frozen=True)
class FullUnit:
    """One unit of the replication: some networks of one batch size trained on every seed of `data` for the full
    budget, without pruning."""
    config: Config
    candidates: tuple[Candidate, ...]
    data: tuple[SeedData, ...]
    evaluate: tuple[str, ...] = ("train", "test")


def train_full(unit: FullUnit) -> tuple[np.ndarray, dict, np.ndarray, np.ndarray]:
    """(record epochs, {set: (C, R, seeds) loss}, (C, G, G) first seed's output over the plane, (R,) record times)."""
    config, candidates, data = unit.config, list(unit.candidates), list(unit.data)
    depth = max(len(c.hidden) for c in candidates)
    population = new_population(config, in_forward_order(candidates), data, depth)
    epochs, losses, times = train_members(config, candidates, population, data, config.epoch_budget, depth,
                                          evaluate=unit.evaluate)
    columns = member_columns(population)
    shaped = {name: np.stack([loss[:, columns[c]] for c in range(len(candidates))]) for name, loss in losses.items()}
    first_seed = [columns[c][0] for c in range(len(candidates))]
    return epochs, shaped, grid_outputs(config, candidates, population, depth)[first_seed], times


def full_units(config: Config, candidates: list[Candidate], data: list[SeedData],
               evaluate=("train", "test")) -> tuple[list[FullUnit], list[list[int]]]:
    """Units of at most `wave_members` networks, one batch size each, and the candidate indices of each."""
    per_unit = max(1, config.wave_members // len(data))
    units, indices = [], []
    for batch in sorted({c.hyper.batch_size for c in candidates}):
        chosen = [i for i, c in enumerate(candidates) if c.hyper.batch_size == batch]
        for start in range(0, len(chosen), per_unit):
            part = chosen[start:start + per_unit]
            units.append(FullUnit(config, tuple(candidates[i] for i in part), tuple(data), tuple(evaluate)))
            indices.append(part)
    return units, indices


def train_in_full(config: Config, candidates: list[Candidate], data: list[SeedData], evaluate, progress=None,
                  what: str = "replication"):
    """Every candidate on every seed for the full budget, as units on the cluster executor:
    (record epochs, {set: (C, R, seeds)}, (C, G, G), (C, R) wall times at which each candidate's records were taken)."""
    units, indices = full_units(config, candidates, data, evaluate)
    results = cluster.executor().map(train_full, units, progress=progress,
                                     describe=lambda u: f"spiral {what}, {len(u.candidates)} networks, batch "
                                                        f"{u.candidates[0].hyper.batch_size}")
    epochs = results[0][0]
    losses = {name: np.zeros((len(candidates), len(epochs), len(data))) for name in evaluate}
    grids = np.zeros((len(candidates), GRID_POINTS, GRID_POINTS))
    times = np.zeros((len(candidates), len(epochs)))
    for part, (unit_epochs, unit_losses, unit_grids, unit_times) in zip(indices, results):
        for position, i in enumerate(part):
            for name in evaluate:
                losses[name][i] = unit_losses[name][position]
            grids[i] = unit_grids[position]
            times[i] = unit_times
    return epochs, losses, grids, times


def replicate(config: Config, finalists: list[Candidate], data: list[SeedData], progress=None) -> Replication:
    """Train each finalist on every seed of `data` for the full budget, no pruning."""
    epochs, losses, grids, times = train_in_full(config, finalists, data, ("train", "test"), progress)
    return Replication(epochs, losses["train"], losses["test"], grids, times)


def pruning_check(config: Config, candidates: list[Candidate], status, data: list[SeedData], progress=None):
    """A random sample of the pruned candidates re-run unpruned on the search seeds for the full budget.

    Returns (sample indices, (S, seeds) best training loss, (S,) whether each would have solved by the search's rule).
    """
    pruned = [i for i, s in enumerate(status) if s == "pruned"]
    rng = random.Random(derived_seed(config.seed, PRUNING_SEED_INDEX))
    sample = sorted(rng.sample(pruned, min(config.pruning_sample, len(pruned))))
    if not sample:
        return [], np.zeros((0, len(data))), np.zeros(0, bool)
    _, losses, _, _ = train_in_full(config, [candidates[i] for i in sample], data, ("train",), progress,
                                    "pruning check")
    best = losses["train"].min(axis=1)
    reached = (losses["train"] <= config.target_loss).any(axis=1).sum(axis=1)
    return sample, best, reached >= config.seeds_required


def grid_axis() -> np.ndarray:
    return np.linspace(-GRID_EXTENT, GRID_EXTENT, GRID_POINTS)


def grid_outputs(config: Config, candidates: list[Candidate], population: Population, depth: int) -> np.ndarray:
    xs = grid_axis()
    gx, gy = np.meshgrid(xs, xs)
    plane = nn.pad_features(features(np.stack([gx.ravel(), gy.ravel()], 1), FEATURES), config.width)
    members = [candidates[c] for c, _ in population.members]
    out = nn.masked_forward(nn.stack_members(population.networks), tf.constant(plane),
                            member_masks(config, members, depth)).numpy()
    return out.reshape(len(members), GRID_POINTS, GRID_POINTS)
