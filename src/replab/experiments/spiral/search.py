"""The search engine: candidates, Playground populations, successive halving in waves, and the replication.

Candidates are (feature set, architecture, hyperparameters); architectures are 0 to `max_layers` hidden layers of
one uniform width 1 to `max_neurons` (mixed widths are not searched). Every architecture gets the same
hyperparameter grid (activation × learning rate × regularisation × batch size). (Architecture, feature set) pairs
are visited in increasing parameter count, in waves of about `wave_members` networks trained as one population
(masked to their shapes). Each wave trains by successive halving: rungs end at budget/2^k epochs; after every rung
a candidate is dropped as *solved* once its training loss reached the target in `seeds_required` seeds, or as
*hopeless* when even its `seeds_required`-th best seed's best training loss is above `early_hopeless_loss` (before
half the budget) or `hopeless_loss` (from half the budget on). Once a feature set has a solution of N parameters,
its architectures with more than N parameters are skipped — they cannot be smaller.

The search selects on the TRAINING loss only: the test points are never evaluated while searching, so the
replication (`replicate`: the finalists retrained on fresh seeds for the full budget, scored on their final test
loss) judges networks on points their selection never saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from replab import nn
from replab.data.playground import FEATURES, features, make_dataset
from replab.experiments.base import Progress
from replab.experiments.spiral.config import N_POINTS, REPLICATE_SEED_OFFSET, TRAIN_RATIO, Config, feature_keys
from replab.seeds import derived_seed

STATUSES = ("solved", "failed", "pruned")
GRID_POINTS = 60
GRID_EXTENT = 6.0


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


def hyper_grid(config: Config) -> list[Hyper]:
    rate = config.regularization_rate
    return [Hyper(act, lr, reg, 0.0 if reg == "none" else rate, batch)
            for batch in config.batch_sizes for reg in config.regularizations
            for act in config.activations for lr in config.learning_rates]


def architectures(config: Config) -> list[tuple[int, ...]]:
    return [()] + [(width,) * depth for depth in range(1, config.max_layers + 1)
                   for width in range(1, config.max_neurons + 1)]


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
                           config.batch_sizes[0]))


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
    """Every candidate in `indices` on every seed of `data` (member c · len(data) + s), freshly initialised."""
    members = [(c, s) for c in indices for s in range(len(data))]
    networks = [nn.initial_weights(config.width, depth, data[s].seed) for _, s in members]
    dead = [[np.zeros_like(w) for w, _ in net] for net in networks]
    return Population(members, networks, dead)


def train_members(config: Config, candidates: list[Candidate], population: Population, data: list[SeedData],
                  epochs: int, depth: int, evaluate: tuple[str, ...] = ("train",)) -> tuple[np.ndarray, dict]:
    """Train every member `epochs` epochs in one compiled population.

    Returns (epochs (R,), {"train": (R, K) training loss, "test": (R, K) test loss}) with the sets named in
    `evaluate`; a diverged member's loss reads 0.5 (a constant output's).
    """
    members = [candidates[c] for c, _ in population.members]
    batch = members[0].hyper.batch_size
    masks = member_masks(config, members, depth)
    params = nn.stack_members(population.networks)
    optimizer = nn.playground_optimizer(params, [m.hyper.learning_rate for m in members],
                                        [m.hyper.regularization for m in members],
                                        [m.hyper.regularization_rate for m in members])
    for layer, slots in enumerate(optimizer.slots[::2]):  # weights' slots; biases never die
        slots[0].assign(np.stack([dead[layer] for dead in population.dead]))
    seeds = [s for _, s in population.members]
    x_train = np.stack([data[s].x_train for s in seeds])
    y_train = np.stack([data[s].y_train for s in seeds])
    points = {"train": (tf.constant(x_train), tf.constant(y_train)),
              "test": (tf.constant(np.stack([data[s].x_test for s in seeds])),
                       tf.constant(np.stack([data[s].y_test for s in seeds])))}

    def loss_on(name):
        x, y = points[name]
        return lambda: nn.playground_loss(nn.masked_forward(params, x, masks), y)

    steps_per_epoch = len(data[0].y_train) // batch
    history = nn.fit(nn.playground_training_loss(masks), params, optimizer, x_train, y_train,
                     steps=epochs * steps_per_epoch, batch_size=batch, batch_order="sequential",
                     record_every=config.record_every * steps_per_epoch,
                     metrics={f"{name}_loss": loss_on(name) for name in evaluate}, per_member_data=True)
    population.networks = [[(w.numpy()[k], b.numpy()[k]) for w, b in params] for k in range(len(seeds))]
    dead_values = [slots[0].numpy() for slots in optimizer.slots[::2]]
    population.dead = [[d[k] for d in dead_values] for k in range(len(seeds))]
    losses = {}
    for name in evaluate:
        loss = history.metrics[f"{name}_loss"]
        losses[name] = np.where(np.isfinite(loss), loss, 0.5)
    return history.steps // steps_per_epoch, losses


def member_masks(config: Config, members: list[Candidate], depth: int):
    feature_index = [[FEATURES.index(k) for k in feature_keys(m.feature_set)] for m in members]
    return nn.mask_tensors(nn.network_masks(feature_index, [m.hidden for m in members], config.width, depth),
                           [m.hyper.activation for m in members])


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


def train_wave(config: Config, candidates: list[Candidate], indices: list[int], data: list[SeedData],
               outcomes: dict[int, Outcome], prune_log: list, progress_note) -> None:
    """Successive halving over the candidates `indices` (one batch size), filling `outcomes`."""
    depth = max(len(candidates[i].hidden) for i in indices)
    population = new_population(config, indices, data, depth)
    n = len(data)
    state = {i: Outcome("failed", 0, np.full(n, np.inf), np.full(n, np.nan)) for i in indices}
    done = 0
    for end in rung_ends(config):
        if not population.members:
            break
        progress_note(f"{len(population.members)} networks, epochs {done}–{end}")
        epochs, losses = train_members(config, candidates, population, data, end - done, depth)
        epochs = epochs + done
        alive = sorted({c for c, _ in population.members})
        for position, c in enumerate(alive):
            record(state[c], epochs, losses["train"][:, position * n:(position + 1) * n], config.target_loss)
        done = end
        keep = settle(config, state, alive, done, prune_log)
        population = select(population, keep)
    outcomes.update(state)


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
    smallest: dict[str, int] = {}
    position, waves = 0, 0
    while position < len(order):
        wave = []
        while position < len(order) and len(wave) * len(grid) * len(data) < config.wave_members:
            feature_set, arch = order[position]
            position += 1
            params = nn.playground_parameter_count(len(feature_keys(feature_set)), arch)
            if params <= smallest.get(feature_set, math.inf):
                wave.append((feature_set, arch))
        if not wave:
            continue
        waves += 1
        for batch in config.batch_sizes:
            indices = []
            for feature_set, arch in wave:
                for hyper in grid:
                    if hyper.batch_size == batch:
                        candidates.append(Candidate(feature_set, arch, hyper))
                        indices.append(len(candidates) - 1)

            def note(text, wave=wave, waves=waves, position=position):
                progress(position - len(wave), len(order), f"wave {waves}: {text}")

            train_wave(config, candidates, indices, data, outcomes, prune_log, note)
        for i, outcome in outcomes.items():
            if outcome.status == "solved":
                f = candidates[i].feature_set
                smallest[f] = min(smallest.get(f, math.inf), candidates[i].parameters)
    skipped = {f: sum(1 for g, arch in order if g == f and nn.playground_parameter_count(len(feature_keys(f)), arch)
                      > smallest.get(f, math.inf)) for f in config.feature_sets}
    progress(len(order), len(order), "search done")
    return Search(candidates, outcomes, skipped, prune_log, waves)


# --- replication: the finalists retrained in full on fresh seeds -----------------------------------------


@dataclass(frozen=True)
class Replication:
    epochs: np.ndarray        # (R,)
    train_loss: np.ndarray    # (F, R, replicates)
    test_loss: np.ndarray     # (F, R, replicates)
    grid_output: np.ndarray   # (F, G, G) first replicate's output over the plane


def replicate(config: Config, finalists: list[Candidate], data: list[SeedData]) -> Replication:
    """Train each finalist on every seed of `data` for the full budget, no pruning, one population per batch size."""
    n = len(data)
    records = None
    train = test = grids = None
    for batch in sorted({c.hyper.batch_size for c in finalists}):
        chosen = [i for i, c in enumerate(finalists) if c.hyper.batch_size == batch]
        depth = max([len(finalists[i].hidden) for i in chosen])
        population = new_population(config, chosen, data, depth)
        epochs, losses = train_members(config, finalists, population, data, config.epoch_budget, depth,
                                       evaluate=("train", "test"))
        outputs = grid_outputs(config, finalists, population, depth)
        if records is None:
            records = epochs
            train = np.zeros((len(finalists), len(epochs), n))
            test = np.zeros_like(train)
            grids = np.zeros((len(finalists), GRID_POINTS, GRID_POINTS))
        for position, i in enumerate(chosen):
            train[i] = losses["train"][:, position * n:(position + 1) * n]
            test[i] = losses["test"][:, position * n:(position + 1) * n]
            grids[i] = outputs[position * n]
    return Replication(records, train, test, grids)


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
