"""The smallest network that solves TensorFlow Playground's spiral.

"Solved" follows the Playground: the test loss (mean 0.5·(output − label)² over the test points)
reaches `target_loss` within `epoch_budget` epochs, in at least `seeds_required` of `n_seeds`
seeds (each seed draws its own data and initial weights). Training is the Playground's own:
tanh output, plain SGD on batches walked in stored order, its L1/L2 rule (see replab.nn.playground).

Search. Candidates are (feature set, architecture, hyperparameters); architectures are 0 to
`max_layers` hidden layers of one uniform width 1 to `max_neurons` (a first pass: mixed widths are
not searched). Every architecture gets the same hyperparameter grid (activation × learning rate ×
regularisation × batch size). Per feature set, (architecture, feature set) pairs are visited in
increasing parameter count, in waves of about `wave_members` networks trained as one population
(masked to their shapes). Each wave trains by successive halving: rungs end at budget/2^k epochs;
after every rung a candidate is dropped as *solved* once enough seeds reached the target, or as
*hopeless* when even its `seeds_required`-th best seed has a best test loss above `early_hopeless_loss` (before half
the budget: it learned almost nothing) or `hopeless_loss` (from half the budget on).
Once a feature set has a solution of N parameters, its architectures with more than N parameters
are skipped — they cannot be smaller — so every architecture with fewer parameters was trained
with the full grid before N is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import tensorflow as tf
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from replab import nn
from replab.claims import Claim, judge
from replab.data.playground import FEATURE_LABELS, FEATURES, features, make_dataset
from replab.errors import check_positive_int, check_seed, require
from replab.experiments.base import Progress, Result, Table, no_progress

NAME = "spiral"
TITLE = "The smallest network that solves TensorFlow Playground's spiral"
QUESTION = ("Which network — input features, hidden layers, neurons, activation, learning rate, regularisation, "
            "batch size — with the fewest parameters reaches the target test loss on the Playground's spiral, "
            "trained exactly as the Playground trains it?")

N_POINTS = 500
TRAIN_RATIO = 0.5


@dataclass(frozen=True)
class Config:
    dataset: Literal["spiral", "circle", "xor", "gauss"] = "spiral"
    noise: float = 0.0
    """The Playground's noise fraction in [0, 0.5] (slider value / 100)."""
    target_loss: float = 0.05
    epoch_budget: int = 2000
    n_seeds: int = 5
    seeds_required: int = 4
    feature_sets: tuple[str, ...] = ("x+y", "x+y+sinX+sinY", "all")
    """Each a '+'-joined list of Playground feature keys (x, y, xSquared, ySquared, xTimesY, sinX, sinY) or 'all'."""
    max_layers: int = 6
    max_neurons: int = 8
    activations: tuple[str, ...] = ("tanh", "relu")
    learning_rates: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3)
    regularizations: tuple[str, ...] = ("none", "L2")
    regularization_rate: float = 0.001
    batch_sizes: tuple[int, ...] = (10,)
    rungs: int = 6
    """Successive-halving rungs: they end at budget/2^(rungs−1), …, budget/2, budget epochs."""
    hopeless_loss: float = 0.25
    """From half the budget on, a candidate whose seeds_required-th best seed is above this is dropped."""
    early_hopeless_loss: float = 0.45
    """Before half the budget only candidates that learned (almost) nothing are dropped: a constant output
    scores 0.5, and slow learners such as the seed's 2 × 8 are still far from the target early on."""
    wave_members: int = 1600
    record_every: int = 10
    """Epochs between test-loss evaluations (when 'reached the target' is checked)."""
    seed_hidden: tuple[int, ...] = (8, 8)
    seed_activation: str = "tanh"
    seed_learning_rate: float = 0.03
    seed_regularization: str = "L2"
    seed_regularization_rate: float = 0.001
    seed: int = 0

    def __post_init__(self) -> None:
        check_seed(self.seed)
        require(0 <= self.noise <= 0.5, f"noise must lie in [0, 0.5] (the Playground's slider / 100), got {self.noise}")
        require(0 < self.target_loss < 0.5, f"target_loss must lie in (0, 0.5) (a constant 0 output scores 0.5), "
                                            f"got {self.target_loss}")
        check_positive_int("epoch_budget", self.epoch_budget)
        check_positive_int("n_seeds", self.n_seeds)
        check_positive_int("seeds_required", self.seeds_required)
        require(self.seeds_required <= self.n_seeds,
                f"seeds_required ({self.seeds_required}) cannot exceed n_seeds ({self.n_seeds})")
        require(len(self.feature_sets) >= 1, "feature_sets needs at least one feature set")
        for name in self.feature_sets:
            feature_keys(name)
        require(len(set(self.feature_sets)) == len(self.feature_sets), f"feature_sets repeat: {self.feature_sets}")
        check_positive_int("max_layers", self.max_layers, minimum=0)
        check_positive_int("max_neurons", self.max_neurons)
        require(len(self.activations) >= 1 and set(self.activations) <= set(nn.PLAYGROUND_ACTIVATIONS),
                f"activations must come from {', '.join(nn.PLAYGROUND_ACTIVATIONS)}, got {self.activations}")
        require(self.seed_activation in nn.PLAYGROUND_ACTIVATIONS,
                f"seed_activation must be one of {', '.join(nn.PLAYGROUND_ACTIVATIONS)}, got {self.seed_activation!r}")
        require(len(self.learning_rates) >= 1 and all(0 < lr <= 10 for lr in self.learning_rates),
                f"learning_rates must be numbers in (0, 10], got {self.learning_rates}")
        require(0 < self.seed_learning_rate <= 10, f"seed_learning_rate must lie in (0, 10], got {self.seed_learning_rate}")
        for reg in (*self.regularizations, self.seed_regularization):
            require(reg in nn.REGULARIZATIONS, f"regularisation must be one of {', '.join(nn.REGULARIZATIONS)}, got {reg!r}")
        require(len(self.regularizations) >= 1, "regularizations needs at least one entry")
        require(0 <= self.regularization_rate <= 10 and 0 <= self.seed_regularization_rate <= 10,
                "regularisation rates must lie in [0, 10]")
        n_train = math.floor(N_POINTS * TRAIN_RATIO)
        require(len(self.batch_sizes) >= 1 and all(isinstance(b, int) and 1 <= b <= n_train and n_train % b == 0
                                                   for b in self.batch_sizes),
                f"batch_sizes must divide the {n_train} training points (so every epoch holds whole batches, as "
                f"in the Playground), got {self.batch_sizes}")
        require(len(self.seed_hidden) >= 1 and all(w >= 1 for w in self.seed_hidden),
                f"seed_hidden must list positive widths, got {self.seed_hidden}")
        check_positive_int("rungs", self.rungs)
        require(0 < self.hopeless_loss <= 1, f"hopeless_loss must lie in (0, 1], got {self.hopeless_loss}")
        require(self.hopeless_loss <= self.early_hopeless_loss <= 1,
                f"early_hopeless_loss must lie in [hopeless_loss, 1], got {self.early_hopeless_loss}")
        check_positive_int("wave_members", self.wave_members)
        check_positive_int("record_every", self.record_every)
        require(self.record_every <= self.epoch_budget,
                f"record_every ({self.record_every}) exceeds epoch_budget ({self.epoch_budget})")

    @classmethod
    def quick(cls) -> "Config":
        """Seconds: the easy Gaussian set, 0–1 hidden layers of 1–2 units, two settings, two seeds."""
        return cls(dataset="gauss", target_loss=0.1, epoch_budget=40, n_seeds=2, seeds_required=2,
                   feature_sets=("x+y", "sinX+sinY"), max_layers=1, max_neurons=2, activations=("tanh",),
                   learning_rates=(0.03, 0.3), regularizations=("none",), rungs=2, record_every=10,
                   seed_hidden=(2, 2), hopeless_loss=0.45)

    @property
    def width(self) -> int:
        """Inputs and units of every padded network in a population."""
        return max(len(FEATURES), self.max_neurons, *self.seed_hidden)


def feature_keys(name: str) -> tuple[str, ...]:
    """The Playground feature keys of a feature-set name such as 'x+y+sinX+sinY' or 'all'."""
    keys = FEATURES if name == "all" else tuple(part.strip() for part in name.split("+"))
    unknown = [key for key in keys if key not in FEATURES]
    require(not unknown and len(keys) >= 1 and len(set(keys)) == len(keys),
            f"feature set {name!r} must be 'all' or distinct keys from {', '.join(FEATURES)} joined by '+'")
    return keys


def feature_label(name: str) -> str:
    return "all 7" if name == "all" else ", ".join(FEATURE_LABELS[key] for key in feature_keys(name))


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


@dataclass
class Outcome:
    """What training did to one candidate over its seeds."""
    candidate: Candidate
    status: str                   # solved, failed (budget spent), pruned (hopeless)
    epochs_trained: int
    best_loss: np.ndarray         # (seeds,) lowest test loss seen
    final_loss: np.ndarray        # (seeds,) test loss when training stopped
    reached_at: np.ndarray        # (seeds,) first epoch with test loss <= target, NaN if never
    curve_epochs: list[int] = field(default_factory=list)
    curve_loss: list[np.ndarray] = field(default_factory=list)

    def score(self, required: int) -> float:
        """The `required`-th best seed's best test loss: at most the target iff the candidate solved."""
        return float(np.sort(self.best_loss)[required - 1])


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


# --- data -------------------------------------------------------------------------------------------


def data_seed(config: Config, seed_index: int) -> int:
    return config.seed * 1000 + seed_index


@dataclass(frozen=True)
class SeedData:
    points_train: np.ndarray
    y_train: np.ndarray
    points_test: np.ndarray
    y_test: np.ndarray
    x_train: np.ndarray    # (N, width) all 7 features, zero-padded
    x_test: np.ndarray


def make_seed_data(config: Config) -> list[SeedData]:
    sets = []
    for s in range(config.n_seeds):
        d = make_dataset(config.dataset, N_POINTS, config.noise, TRAIN_RATIO, data_seed(config, s))
        sets.append(SeedData(d.x_train, d.y_train, d.x_test, d.y_test,
                             nn.pad_features(features(d.x_train, FEATURES), config.width),
                             nn.pad_features(features(d.x_test, FEATURES), config.width)))
    return sets


# --- training a population ---------------------------------------------------------------------------


@dataclass
class Population:
    """Members (candidate index, seed index) with their current weights and dead-weight masks."""
    members: list[tuple[int, int]]
    networks: list[list[tuple[np.ndarray, np.ndarray]]]
    dead: list[list[np.ndarray]]


def new_population(config: Config, candidates: list[Candidate], indices: list[int], depth: int) -> Population:
    members = [(c, s) for c in indices for s in range(config.n_seeds)]
    networks = [nn.initial_weights(config.width, depth, data_seed(config, s)) for _, s in members]
    dead = [[np.zeros_like(w) for w, _ in net] for net in networks]
    return Population(members, networks, dead)


def train_members(config: Config, candidates: list[Candidate], population: Population, data: list[SeedData],
                  epochs: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Train every member `epochs` epochs in one compiled population; returns (epochs (R,), test loss (R, K))."""
    members = [candidates[c] for c, _ in population.members]
    batch = members[0].hyper.batch_size
    feature_index = [[FEATURES.index(k) for k in feature_keys(m.feature_set)] for m in members]
    masks = nn.mask_tensors(nn.network_masks(feature_index, [m.hidden for m in members], config.width, depth),
                            [m.hyper.activation for m in members])
    params = nn.stack_members(population.networks)
    optimizer = nn.playground_optimizer(params, [m.hyper.learning_rate for m in members],
                                        [m.hyper.regularization for m in members],
                                        [m.hyper.regularization_rate for m in members])
    for layer, slots in enumerate(optimizer.slots[::2]):  # weights' slots; biases never die
        slots[0].assign(np.stack([dead[layer] for dead in population.dead]))
    seeds = [s for _, s in population.members]
    x_train = np.stack([data[s].x_train for s in seeds])
    y_train = np.stack([data[s].y_train for s in seeds])
    x_test, y_test = tf.constant(np.stack([data[s].x_test for s in seeds])), tf.constant(np.stack([data[s].y_test for s in seeds]))

    def test_loss():
        return nn.playground_loss(nn.masked_forward(params, x_test, masks), y_test)

    steps_per_epoch = len(data[0].y_train) // batch
    history = nn.fit(nn.playground_training_loss(masks), params, optimizer, x_train, y_train,
                     steps=epochs * steps_per_epoch, batch_size=batch, batch_order="sequential",
                     record_every=config.record_every * steps_per_epoch, metrics={"test_loss": test_loss},
                     per_member_data=True)
    population.networks = [[(w.numpy()[k], b.numpy()[k]) for w, b in params] for k in range(len(seeds))]
    dead_values = [slots[0].numpy() for slots in optimizer.slots[::2]]
    population.dead = [[d[k] for d in dead_values] for k in range(len(seeds))]
    loss = history.metrics["test_loss"]
    return history.steps // steps_per_epoch, np.where(np.isfinite(loss), loss, 0.5)


def rung_ends(config: Config) -> list[int]:
    ends = sorted({max(1, round(config.epoch_budget / 2 ** k)) for k in range(config.rungs)})
    return ends


# --- the search --------------------------------------------------------------------------------------


def train_wave(config: Config, candidates: list[Candidate], indices: list[int], data: list[SeedData],
               outcomes: dict[int, Outcome], prune_log: list[dict], progress_note) -> None:
    """Successive halving over the candidates `indices` (one batch size), filling `outcomes`."""
    depth = max(len(candidates[i].hidden) for i in indices)
    population = new_population(config, candidates, indices, depth)
    n = config.n_seeds
    state = {i: Outcome(candidates[i], "failed", 0, np.full(n, np.inf), np.full(n, np.inf), np.full(n, np.nan))
             for i in indices}
    done = 0
    for end in rung_ends(config):
        if not population.members:
            break
        progress_note(f"{len(population.members)} networks, epochs {done}–{end}")
        epochs, loss = train_members(config, candidates, population, data, end - done, depth)
        epochs = epochs + done
        alive = sorted({c for c, _ in population.members})
        for position, c in enumerate(alive):
            member_loss = loss[:, position * n:(position + 1) * n]
            record(state[c], epochs, member_loss, config.target_loss)
        done = end
        keep = decide(config, state, alive, done, prune_log)
        population = select(population, keep)
    outcomes.update(state)


def record(outcome: Outcome, epochs: np.ndarray, loss: np.ndarray, target: float) -> None:
    for e, row in zip(epochs, loss):
        outcome.curve_epochs.append(int(e))
        outcome.curve_loss.append(row.copy())
        newly = np.isnan(outcome.reached_at) & (row <= target)
        outcome.reached_at[newly] = e
    outcome.best_loss = np.minimum(outcome.best_loss, np.nanmin(loss, axis=0))
    outcome.final_loss = loss[-1].copy()
    outcome.epochs_trained = int(epochs[-1])


def decide(config: Config, state: dict[int, Outcome], alive: list[int], epoch: int, prune_log: list[dict]) -> set[int]:
    """Mark solved and hopeless candidates after a rung; returns the ones that keep training."""
    keep, pruned = set(), []
    for c in alive:
        outcome = state[c]
        if np.sum(~np.isnan(outcome.reached_at)) >= config.seeds_required:
            outcome.status = "solved"
        elif epoch >= config.epoch_budget:
            outcome.status = "failed"
        elif outcome.score(config.seeds_required) > hopeless_threshold(config, epoch):
            outcome.status = "pruned"
            pruned.append(outcome.score(config.seeds_required))
        else:
            keep.add(c)
    if pruned:
        prune_log.append({"epoch": epoch, "pruned": len(pruned), "kept": len(keep),
                          "lowest_pruned_score": float(min(pruned))})
    return keep


def hopeless_threshold(config: Config, epoch: int) -> float:
    return config.hopeless_loss if 2 * epoch >= config.epoch_budget else config.early_hopeless_loss


def select(population: Population, keep: set[int]) -> Population:
    chosen = [k for k, (c, _) in enumerate(population.members) if c in keep]
    return Population([population.members[k] for k in chosen], [population.networks[k] for k in chosen],
                      [population.dead[k] for k in chosen])


@dataclass
class Search:
    candidates: list[Candidate]
    outcomes: dict[int, Outcome]
    skipped: dict[str, int]           # feature set -> architectures skipped as larger than its solution
    prune_log: list[dict]
    waves: int


def search(config: Config, data: list[SeedData], progress: Progress) -> Search:
    grid = hyper_grid(config)
    order = shapes_in_order(config)
    candidates: list[Candidate] = []
    outcomes: dict[int, Outcome] = {}
    prune_log: list[dict] = []
    smallest: dict[str, int] = {}
    position, waves = 0, 0
    while position < len(order):
        wave = []
        while position < len(order) and len(wave) * len(grid) * config.n_seeds < config.wave_members:
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

            def note(text, wave=wave):
                progress(position - len(wave), len(order), f"wave {waves}: {text}")

            train_wave(config, candidates, indices, data, outcomes, prune_log, note)
        for c in outcomes.values():
            if c.status == "solved":
                f = c.candidate.feature_set
                smallest[f] = min(smallest.get(f, math.inf), c.candidate.parameters)
    skipped = {f: sum(1 for g, arch in order if g == f and nn.playground_parameter_count(len(feature_keys(f)), arch)
                      > smallest.get(f, math.inf)) for f in config.feature_sets}
    progress(len(order), len(order), "search done")
    return Search(candidates, outcomes, skipped, prune_log, waves)


# --- showcase: the winners and the seed's choice, trained in full -----------------------------------


@dataclass
class Showcase:
    label: str
    candidate: Candidate
    epochs: np.ndarray        # (R,)
    test_loss: np.ndarray     # (R, seeds)
    grid_output: np.ndarray   # (G, G) first seed's output over the plane
    reached_at: np.ndarray    # (seeds,)
    best_loss: np.ndarray


GRID_POINTS = 60
GRID_EXTENT = 6.0


def showcase(config: Config, entries: list[tuple[str, Candidate]], data: list[SeedData]) -> list[Showcase]:
    """Train each entry over all seeds for the full budget, no pruning, one population per batch size."""
    results = []
    for batch in sorted({c.hyper.batch_size for _, c in entries}):
        chosen = [(label, c) for label, c in entries if c.hyper.batch_size == batch]
        candidates = [c for _, c in chosen]
        depth = max(len(c.hidden) for c in candidates)
        population = new_population(config, candidates, list(range(len(candidates))), depth)
        epochs, loss = train_members(config, candidates, population, data, config.epoch_budget, depth)
        outputs = grid_outputs(config, candidates, population, depth)
        for i, (label, candidate) in enumerate(chosen):
            seeds_loss = loss[:, i * config.n_seeds:(i + 1) * config.n_seeds]
            reached = np.array([epochs[np.argmax(col <= config.target_loss)] if np.any(col <= config.target_loss)
                                else np.nan for col in seeds_loss.T], float)
            results.append(Showcase(label, candidate, epochs, seeds_loss, outputs[i * config.n_seeds], reached,
                                    seeds_loss.min(axis=0)))
    order = [label for label, _ in entries]
    return sorted(results, key=lambda r: order.index(r.label))


def grid_axis() -> np.ndarray:
    return np.linspace(-GRID_EXTENT, GRID_EXTENT, GRID_POINTS)


def grid_outputs(config: Config, candidates: list[Candidate], population: Population, depth: int) -> np.ndarray:
    xs = grid_axis()
    gx, gy = np.meshgrid(xs, xs)
    plane = nn.pad_features(features(np.stack([gx.ravel(), gy.ravel()], 1), FEATURES), config.width)
    members = [candidates[c] for c, _ in population.members]
    feature_index = [[FEATURES.index(k) for k in feature_keys(m.feature_set)] for m in members]
    masks = nn.mask_tensors(nn.network_masks(feature_index, [m.hidden for m in members], config.width, depth),
                            [m.hyper.activation for m in members])
    out = nn.masked_forward(nn.stack_members(population.networks), tf.constant(plane), masks).numpy()
    return out.reshape(len(members), GRID_POINTS, GRID_POINTS)


# --- the experiment ------------------------------------------------------------------------------------


def run(config: Config, progress: Progress = no_progress) -> Result:
    data = make_seed_data(config)
    found = search(config, data, progress)
    summary = summarize(config, found)
    entries = [(label, found.candidates[index]) for label, index in summary["winner_index"].items()]
    entries.append((seed_label(config), seed_choice(config)))
    progress(0, 1, "training the winners and the seed's choice in full")
    shown = showcase(config, entries, data)
    progress(1, 1, "done")
    summary["showcase"] = {s.label: showcase_summary(config, s) for s in shown}
    summary["pruning_missed"] = pruning_missed(config, summary)
    del summary["winner_index"]
    return Result(
        metrics=summary,
        tables=[search_space_table(config, found), winners_table(config, summary), smaller_table(config, found, summary),
                pruning_table(found)],
        figures={"decision_regions": decision_figure(config, shown, data),
                 "pareto": pareto_figure(config, found),
                 "loss_curves": curves_figure(config, shown)},
        claims=judge_claims(config, summary),
        notes=notes(config, found, summary) + summary["pruning_missed"],
    )


def layers_text(hidden: tuple[int, ...]) -> str:
    """'2 × 8' for two layers of 8 (the Playground's way of saying it); '4, 2' for mixed widths."""
    if len(set(hidden)) == 1:
        return f"{len(hidden)} × {hidden[0]}"
    return ", ".join(map(str, hidden))


def seed_label(config: Config) -> str:
    return "seed's " + layers_text(config.seed_hidden)


def pruning_missed(config: Config, summary: dict) -> list[str]:
    """Showcased networks that solve with fewer parameters than the search's answer for their features.

    Such a network lies in (or beside) the search space but was pruned or never reached: the search's
    answer for that feature set is then only an upper bound.
    """
    missed = []
    for label, shown in summary["showcase"].items():
        scope = summary["smallest"].get(shown["candidate"]["features"], {})
        best = scope.get("parameters")
        if shown["solved"] and (best is None or shown["parameters"] < best):
            missed.append(f"{label} ({feature_label(shown['candidate']['features'])}, {shown['parameters']} parameters) "
                          f"solves in {shown['seeds_reached']}/{config.n_seeds} seeds when trained in full, yet the "
                          f"search's smallest for these features is {best}: successive halving pruned it "
                          f"(the hopeless thresholds {config.early_hopeless_loss:g}/{config.hopeless_loss:g} are too strict for "
                          f"slow learners); that answer "
                          f"is an upper bound.")
    return missed


def seed_choice(config: Config) -> Candidate:
    rate = 0.0 if config.seed_regularization == "none" else config.seed_regularization_rate
    return Candidate("x+y", tuple(config.seed_hidden),
                     Hyper(config.seed_activation, config.seed_learning_rate, config.seed_regularization, rate,
                           config.batch_sizes[0]))


def showcase_summary(config: Config, s: Showcase) -> dict:
    reached = int(np.sum(~np.isnan(s.reached_at)))
    return {"candidate": describe(s.candidate), "parameters": s.candidate.parameters,
            "seeds_reached": reached, "solved": reached >= config.seeds_required,
            "best_loss": s.best_loss.tolist(), "final_loss": s.test_loss[-1].tolist(),
            "reached_at": [None if np.isnan(e) else int(e) for e in s.reached_at]}


def describe(c: Candidate) -> dict:
    return {"features": c.feature_set, "hidden": list(c.hidden), "activation": c.hyper.activation,
            "learning_rate": c.hyper.learning_rate, "regularization": c.hyper.regularization,
            "regularization_rate": c.hyper.regularization_rate, "batch_size": c.hyper.batch_size,
            "parameters": c.parameters}


def best_solver(config: Config, found: Search, feature_sets: list[str]) -> int | None:
    solvers = [i for i, o in found.outcomes.items() if o.status == "solved" and o.candidate.feature_set in feature_sets]
    if not solvers:
        return None
    return min(solvers, key=lambda i: (found.candidates[i].parameters,
                                       found.outcomes[i].score(config.seeds_required)))


def smaller_evidence(config: Config, found: Search, feature_sets: list[str], limit: float) -> dict:
    """Every trained candidate of these feature sets with fewer than `limit` parameters, summarised."""
    smaller = [o for o in found.outcomes.values() if o.candidate.feature_set in feature_sets
               and o.candidate.parameters < limit]
    shapes = {(o.candidate.feature_set, o.candidate.hidden) for o in smaller}
    all_shapes = {(f, arch) for f, arch in shapes_in_order(config) if f in feature_sets
                  and nn.playground_parameter_count(len(feature_keys(f)), arch) < limit}
    return {"architectures": len(shapes), "architectures_in_space": len(all_shapes),
            "candidates": len(smaller), "solved": sum(o.status == "solved" for o in smaller),
            "failed": sum(o.status == "failed" for o in smaller), "pruned": sum(o.status == "pruned" for o in smaller),
            "best_score": min((o.score(config.seeds_required) for o in smaller), default=None),
            "complete_grid": all(sum(1 for o in smaller if (o.candidate.feature_set, o.candidate.hidden) == shape)
                                 == len(hyper_grid(config)) for shape in shapes)}


def summarize(config: Config, found: Search) -> dict:
    scopes = {"x+y": ["x+y"] if "x+y" in config.feature_sets else [], "any": list(config.feature_sets)}
    for f in config.feature_sets:
        scopes.setdefault(f, [f])
    summary: dict = {"target_loss": config.target_loss, "epoch_budget": config.epoch_budget,
                     "seeds_required": config.seeds_required, "n_seeds": config.n_seeds,
                     "candidates_trained": len(found.outcomes), "waves": found.waves,
                     "status_counts": {s: sum(o.status == s for o in found.outcomes.values())
                                       for s in ("solved", "failed", "pruned")},
                     "skipped_architectures": found.skipped, "prune_log": found.prune_log,
                     "seed_parameters": seed_choice(config).parameters,
                     "smallest": {}, "winner_index": {}}
    for scope, sets in scopes.items():
        index = best_solver(config, found, sets) if sets else None
        if index is None:
            limit = math.inf
            entry = {"parameters": None}
        else:
            outcome = found.outcomes[index]
            limit = outcome.candidate.parameters
            entry = {**describe(outcome.candidate), "score": outcome.score(config.seeds_required),
                     "reached_at": [None if np.isnan(e) else int(e) for e in outcome.reached_at]}
            if scope in ("x+y", "any"):
                summary["winner_index"][f"smallest ({'X1, X2' if scope == 'x+y' else 'any features'})"] = index
        entry["smaller"] = smaller_evidence(config, found, sets, limit) if sets else None
        summary["smallest"][scope] = entry
    return summary


# --- claims and notes -----------------------------------------------------------------------------------


def judge_claims(config: Config, summary: dict) -> list[Claim]:
    seed = summary["showcase"][seed_label(config)]
    hidden = layers_text(config.seed_hidden)
    claims = [judge(
        "seed-2x8-solves", f"The seed's {hidden} network ({config.seed_activation}, X1 and X2, "
                           f"{config.seed_regularization} {config.seed_regularization_rate:g}) solves the {config.dataset}",
        seed["solved"],
        f"lr {config.seed_learning_rate:g}, batch {config.batch_sizes[0]}: test loss ≤ {config.target_loss:g} within "
        f"{config.epoch_budget} epochs in {seed['seeds_reached']} of {config.n_seeds} seeds (needs "
        f"{config.seeds_required}); best test loss per seed {fmt(seed['best_loss'])}, first reached at epochs "
        f"{seed['reached_at']}.")]
    any_scope = summary["smallest"]["any"]
    n_seed = summary["seed_parameters"]
    if any_scope["parameters"] is None:
        claims.append(judge("smallest-solution", f"The smallest solution has fewer parameters than the seed's {hidden} "
                            f"({n_seed})", None, f"no candidate solved: {evidence_of_smaller(any_scope['smaller'])}"))
    else:
        n = any_scope["parameters"]
        xy = summary["smallest"]["x+y"]
        xy_text = (f"with X1, X2 only: {xy['parameters']} parameters ({shape_text(xy)})" if xy.get("parameters")
                   else "with X1, X2 only: no solution in the search space")
        claims.append(judge(
            "smallest-solution",
            f"The smallest solution has {n} parameters ({n_seed / n:.1f}× fewer than {hidden}'s {n_seed})",
            n < n_seed,
            f"any features: {n} parameters ({shape_text(any_scope)}; {seed_text(any_scope, config)}); {xy_text}. "
            f"Smaller, in the search space: {evidence_of_smaller(any_scope['smaller'])}"
            + (" Caveat: " + " ".join(summary.get("pruning_missed", [])) if summary.get("pruning_missed") else "")))
    claims.append(sine_claim(config, summary))
    return claims


def sine_claim(config: Config, summary: dict) -> Claim:
    statement = "Sine features shrink the smallest solution (against X1, X2 alone)"
    sine_sets = [f for f in config.feature_sets if {"sinX", "sinY"} & set(feature_keys(f))]
    if "x+y" not in config.feature_sets or not sine_sets:
        return judge("sine-features-shrink", statement, None, "the search lacks X1, X2 alone or a set with sine features")
    xy = summary["smallest"]["x+y"]["parameters"]
    sine = {f: summary["smallest"][f]["parameters"] for f in sine_sets}
    solved = {f: n for f, n in sine.items() if n is not None}
    text = (f"smallest with X1, X2: {xy if xy is not None else 'none in the search space'}; "
            + "; ".join(f"with {feature_label(f)}: {n if n is not None else 'none'}" for f, n in sine.items()))
    if not solved:
        return judge("sine-features-shrink", statement, None if xy is None else False, text)
    best = min(solved.values())
    return judge("sine-features-shrink", statement, True if xy is None else best < xy,
                 text + (f" ({xy / best:.1f}× fewer)" if xy else ""))


def fmt(values) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


def shape_text(entry: dict) -> str:
    hidden = " × ".join(map(str, entry["hidden"])) or "no hidden layer"
    reg = "no reg." if entry["regularization"] == "none" else f"{entry['regularization']} {entry['regularization_rate']:g}"
    return (f"{feature_label(entry['features'])} → {hidden}, {entry['activation']}, lr {entry['learning_rate']:g}, "
            f"{reg}, batch {entry['batch_size']}")


def seed_text(entry: dict, config: Config) -> str:
    reached = sum(e is not None for e in entry["reached_at"])
    return (f"{reached} of {config.n_seeds} seeds reached {config.target_loss:g}; {config.seeds_required}-th best "
            f"seed's best test loss {entry['score']:.4f}")


def evidence_of_smaller(smaller: dict | None) -> str:
    if smaller is None:
        return "none"
    best = "n/a" if smaller["best_score"] is None else f"{smaller['best_score']:.3f}"
    return (f"{smaller['architectures']} of {smaller['architectures_in_space']} smaller (architecture, feature set) "
            f"pairs trained, each with the {'full' if smaller['complete_grid'] else 'INCOMPLETE'} hyperparameter grid "
            f"({smaller['candidates']} candidates): {smaller['solved']} solved, {smaller['failed']} failed the full "
            f"budget, {smaller['pruned']} pruned as hopeless; their best score {best}.")


def notes(config: Config, found: Search, summary: dict) -> list[str]:
    grid = hyper_grid(config)
    return [
        f"Searched: feature sets {', '.join(feature_label(f) for f in config.feature_sets)}; hidden layers 0–"
        f"{config.max_layers} of one uniform width 1–{config.max_neurons} (mixed widths are not searched); "
        f"{len(grid)} hyperparameter settings per architecture (activation {', '.join(config.activations)} × lr "
        f"{', '.join(f'{lr:g}' for lr in config.learning_rates)} × regularisation {', '.join(config.regularizations)} "
        f"(rate {config.regularization_rate:g}) × batch {', '.join(map(str, config.batch_sizes))}); {config.n_seeds} seeds each.",
        f"Solved: test loss ≤ {config.target_loss:g} (checked every {config.record_every} epochs) within "
        f"{config.epoch_budget} epochs in ≥ {config.seeds_required} of {config.n_seeds} seeds; each seed draws its own "
        f"data ({config.dataset}, noise {config.noise:g}) and initial weights.",
        f"Pruned: after each rung (ends at epochs {rung_ends(config)}) a candidate whose {config.seeds_required}-th best "
        f"seed's best test loss exceeded {config.early_hopeless_loss:g} (before epoch {config.epoch_budget // 2}) "
        f"or {config.hopeless_loss:g} (from then on) stopped training ({summary['status_counts']['pruned']} "
        f"candidates); solved candidates stopped once solved. Architectures larger than a feature set's smallest "
        f"solution were skipped: {found.skipped}.",
        f"{len(found.outcomes)} candidates trained in {found.waves} waves of masked populations.",
        "Epochs walk the training set in stored order in batches that divide it exactly, so an epoch is "
        "n_train / batch SGD steps, as in the Playground.",
    ]


# --- tables ------------------------------------------------------------------------------------------------


def search_space_table(config: Config, found: Search) -> Table:
    rows = []
    for f in config.feature_sets:
        mine = [o for o in found.outcomes.values() if o.candidate.feature_set == f]
        rows.append([feature_label(f), len({o.candidate.hidden for o in mine}), len(mine),
                     sum(o.status == "solved" for o in mine), sum(o.status == "failed" for o in mine),
                     sum(o.status == "pruned" for o in mine), found.skipped[f]])
    return Table("What was searched", ["features", "architectures trained", "candidates", "solved", "failed",
                                       "pruned (hopeless)", "architectures skipped (larger than a solution)"], rows,
                 caption=f"{len(hyper_grid(config))} hyperparameter settings per architecture, {config.n_seeds} seeds each.")


def winners_table(config: Config, summary: dict) -> Table:
    rows = []
    for label, s in summary["showcase"].items():
        c = s["candidate"]
        rows.append([label, feature_label(c["features"]), " × ".join(map(str, c["hidden"])) or "none", c["activation"],
                     c["learning_rate"], f"{c['regularization']} {c['regularization_rate']:g}", c["batch_size"],
                     s["parameters"], f"{s['seeds_reached']}/{config.n_seeds}", fmt(s["best_loss"])])
    return Table("Winners and the seed's choice (retrained over all seeds, full budget)",
                 ["network", "features", "hidden", "activation", "lr", "regularisation", "batch", "parameters",
                  "seeds reaching target", "best test loss per seed"], rows)


def smaller_table(config: Config, found: Search, summary: dict) -> Table:
    rows = []
    by_shape: dict = {}
    for o in found.outcomes.values():
        by_shape.setdefault((o.candidate.parameters, o.candidate.feature_set, o.candidate.hidden), []).append(o)
    for (params, f, hidden), group in sorted(by_shape.items()):
        best = min(group, key=lambda o: o.score(config.seeds_required))
        rows.append([params, feature_label(f), " × ".join(map(str, hidden)) or "none", len(group),
                     sum(o.status == "solved" for o in group), sum(o.status == "pruned" for o in group),
                     round(best.score(config.seeds_required), 4), best.candidate.hyper.describe()])
    return Table("Every trained architecture, by parameter count",
                 ["parameters", "features", "hidden", "candidates", "solved", "pruned", "best score", "best settings"],
                 rows, caption=f"Score: the {config.seeds_required}-th best seed's best test loss (solved iff ≤ "
                               f"{config.target_loss:g}).")


def pruning_table(found: Search) -> Table:
    return Table("Successive halving: candidates pruned as hopeless", ["after epoch", "pruned", "kept training",
                                                                       "lowest pruned score"],
                 [[p["epoch"], p["pruned"], p["kept"], round(p["lowest_pruned_score"], 4)] for p in found.prune_log])


# --- figures ---------------------------------------------------------------------------------------------

PLAYGROUND_CMAP = LinearSegmentedColormap.from_list("playground", ["#f59322", "#e8eaeb", "#0877bd"])


def decision_figure(config: Config, shown: list[Showcase], data: list[SeedData]) -> Figure:
    figure = Figure(figsize=(4.2 * len(shown), 4.4))
    axes = np.atleast_1d(figure.subplots(1, len(shown), squeeze=False)[0])
    xs = grid_axis()
    first = data[0]
    for ax, s in zip(axes, shown):
        ax.imshow(s.grid_output, extent=(xs[0], xs[-1], xs[0], xs[-1]), origin="lower", cmap=PLAYGROUND_CMAP,
                  vmin=-1, vmax=1, alpha=0.8)
        for points, labels, marker in ((first.points_train, first.y_train, "o"), (first.points_test, first.y_test, "^")):
            ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=PLAYGROUND_CMAP, vmin=-1, vmax=1, s=9,
                       marker=marker, edgecolors="white", linewidths=0.4)
        c = s.candidate
        ax.set_title(f"{s.label}\n{feature_label(c.feature_set)} → {c.shape()}, {c.parameters} params\n"
                     f"test loss {s.test_loss[-1, 0]:.3f} (seed 0)", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle("Decision regions (output over the plane; ○ train, △ test points; seed 0)")
    figure.tight_layout()
    return figure


def pareto_figure(config: Config, found: Search) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    ax = figure.add_subplot()
    q = config.seeds_required
    for i, f in enumerate(config.feature_sets):
        mine = [o for o in found.outcomes.values() if o.candidate.feature_set == f]
        if not mine:
            continue
        params = np.array([o.candidate.parameters for o in mine])
        scores = np.array([o.score(q) for o in mine])
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(mine))
        ax.scatter(params * np.exp(jitter * 0.1), scores, s=8, alpha=0.4, color=f"C{i}", label=feature_label(f))
        front_x, front_y = pareto_front(params, scores)
        ax.step(front_x, front_y, where="post", color=f"C{i}", lw=1.5)
    ax.axhline(config.target_loss, color="black", ls=":", lw=1, label=f"target {config.target_loss:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters (weights + biases)")
    ax.set_ylabel(f"{q}-th best seed's best test loss")
    ax.set_title("Every candidate trained; lines: Pareto front per feature set")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def pareto_front(params: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points no other candidate beats on both parameters and score, sorted by parameters."""
    xs, ys, best = [], [], math.inf
    for p in np.unique(params):
        s = float(scores[params == p].min())
        if s < best:
            best = s
            xs.append(int(p))
            ys.append(s)
    return np.array(xs), np.array(ys)


def curves_figure(config: Config, shown: list[Showcase]) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    ax = figure.add_subplot()
    for i, s in enumerate(shown):
        for k in range(s.test_loss.shape[1]):
            ax.plot(s.epochs, np.maximum(s.test_loss[:, k], 1e-4), color=f"C{i}", lw=1, alpha=0.7,
                    label=f"{s.label} ({s.candidate.parameters} params)" if k == 0 else None)
    ax.axhline(config.target_loss, color="black", ls=":", lw=1, label="target")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test loss")
    ax.set_title(f"Test loss, every seed ({config.n_seeds})")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure
