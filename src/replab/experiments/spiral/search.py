"""The search engine: successive halving in waves over the candidates, and the replication.

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

The candidates and each seed's data live in `candidates.py`, the populations and their compiled training (the
Playground's batching included) in `population.py`.

The search selects on the TRAINING loss only: the test points are never evaluated while searching, so the
replication (`replicate`: the finalists retrained on fresh seeds for the full budget, scored on their final test
loss) judges networks on points their selection never saw.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from replab import cluster
from replab.data.playground import FEATURES, features
from replab.experiments.base import Progress
from replab.experiments.spiral.candidates import Candidate, SeedData, hyper_grid, shapes_in_order
from replab.experiments.spiral.config import Config, feature_keys
from replab.experiments.spiral.population import (
    CompiledPopulation,
    Population,
    compile_population,
    in_forward_order,
    member_columns,
    member_masks,
    new_population,
    select,
    train_compiled,
    train_members,
)
from replab.nn.playground import masked_forward, pad_features, playground_parameter_count, stack_members
from replab.seeds import derived_seed

STATUSES = ("solved", "failed", "pruned")
GRID_POINTS = 60
GRID_EXTENT = 6.0
PRUNING_SEED_INDEX = 900
"""Seed index of the draw that picks which pruned candidates are re-run unpruned."""


# --- successive halving ---------------------------------------------------------------------------------


REUSE_SHARE = 0.75
"""A population that keeps at least this share of a compiled population's members trains on in its graph, the
dropped members frozen there (computed, not updated) instead of compiling the smaller population afresh; measured
on the default search: see the README's Speed section."""


def compiled_for(config: Config, candidates: list[Candidate], population: Population, data: list[SeedData],
                 depth: int, compiled: CompiledPopulation | None) -> CompiledPopulation:
    """`compiled` while it holds the population's members and they are at least REUSE_SHARE of its own, else the
    population compiled afresh: a population that lost few members trains on in the graph it has, with the numbers
    a new graph gives (a member's numbers do not depend on the population around it)."""
    if (compiled is not None and compiled.columns(population) is not None
            and len(population.members) >= REUSE_SHARE * len(compiled.members)):
        return compiled
    return compile_population(config, candidates, population, data, depth)


def rung_ends(config: Config) -> list[int]:
    return sorted({max(1, round(config.epoch_budget / 2 ** k)) for k in range(config.rungs)})


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
            if playground_parameter_count(len(feature_keys(feature_set)), arch) <= limit(feature_set):
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
    skipped = {f: sum(1 for g, arch in order if g == f and playground_parameter_count(len(feature_keys(f)), arch)
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
    plane = pad_features(features(np.stack([gx.ravel(), gy.ravel()], 1), FEATURES), config.width)
    members = [candidates[c] for c, _ in population.members]
    out = masked_forward(stack_members(population.networks), tf.constant(plane),
                            member_masks(config, members, depth)).numpy()
    return out.reshape(len(members), GRID_POINTS, GRID_POINTS)
