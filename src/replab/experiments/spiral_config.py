"""The spiral experiment's settings: what is searched, how "solved" is decided, and how the winners are replicated.

Outside the spiral package so that `replab config spiral` reads them without importing TensorFlow: importing any
module of the package runs its __init__, which loads the search engine (replab.experiments.spiral.config
re-exports this module for the package's own modules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from replab.data.playground import FEATURE_LABELS, FEATURES
from replab.errors import check_finite, check_positive_int, require
from replab.experiments.base import ExperimentConfig

N_POINTS = 500
TRAIN_RATIO = 0.5
PLAYGROUND_MAX_LAYERS = 6
PLAYGROUND_MAX_NEURONS = 8
"""The Playground's own limits: at most 6 hidden layers of at most 8 neurons."""
PLAYGROUND_MAX_BATCH = 30
"""The Playground's batch-size slider runs from 1 to 30."""
PLAYGROUND_URL = "https://playground.tensorflow.org/#"
MAX_SEEDS = 100
MAX_REPLICATES = 400
REPLICATE_SEED_OFFSET = 500
"""Replicate r uses seed index 500 + r of the run's seed set, so it never shares data or weights with a search seed."""
PLAYGROUND_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
REGULARIZATIONS = ("none", "L1", "L2")
"""replab.nn.playground's activations and regularisations, repeated so these settings load without TensorFlow (a
test keeps them equal)."""


PAPER = dict(mixed_widths=True, activations=("tanh", "relu", "sigmoid", "linear"),
             learning_rates=(0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0), regularizations=("none", "L1", "L2"),
             regularization_rates=(0.001, 0.003, 0.01, 0.03), batch_sizes=(1, 4, 7, 10, 16, 25, 30),
             finalists_per_set=5, pruning_sample=40, replicates=50, wave_members=4000)
"""The Playground's full width, as far as a grid can hold it: 1,764 settings per architecture over 3,003
architectures (98× and 61× the default's), meant for a Ray cluster: on a 2-core CPU at least 4.7 days and about
33 at the default run's pruning (benchmarks/spiral_paper_cost.py times its work units)."""


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Settings of the spiral search: the Playground dataset and noise, what 'solved' means (target loss, epoch
    budget, seeds required), the search space (feature sets, layers, widths, activations, learning rates,
    regularisations) and successive halving (rungs, hopeless loss), and the the seed's own network, and the
    replicates that confirm each finalist.

    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config spiral` lists every field with its
    type, default, quick value and meaning.
    """
    dataset: Literal["spiral", "circle", "xor", "gauss"] = "spiral"
    noise: float = 0.0
    """The Playground's noise fraction in [0, 0.5] (slider value / 100)."""
    target_loss: float = 0.05
    epoch_budget: int = 2000
    n_seeds: int = 5
    """Seeds per candidate during the search (each draws its own data and initial weights)."""
    seeds_required: int = 4
    """During the search a candidate is solved once its training loss reached the target in this many seeds."""
    feature_sets: tuple[str, ...] = ("x+y", "x+y+sinX+sinY", "all")
    """Each a '+'-joined list of Playground feature keys (x, y, xSquared, ySquared, xTimesY, sinX, sinY) or 'all'."""
    max_layers: int = 6
    max_neurons: int = 8
    mixed_widths: bool = False
    """Also search hidden layers of different, non-increasing widths (such as 6, 4, 2), not only uniform ones."""
    activations: tuple[str, ...] = ("tanh", "relu")
    learning_rates: tuple[float, ...] = (0.03, 0.1, 0.3)
    regularizations: tuple[str, ...] = ("none", "L1", "L2")
    """'none' plus each kind at every rate of `regularization_rates`."""
    regularization_rates: tuple[float, ...] = (0.001,)
    batch_sizes: tuple[int, ...] = (10,)
    """1 to 30 (the Playground's slider); a size that does not divide the 250 training points batches as the
    Playground does: the leftover points' gradients carry over into the next epoch's first update."""
    finalists_per_set: int = 2
    """Per feature set the search goes on until it has solvers of this many parameter counts, and the best-scoring
    solver of each count is replicated: the points of the success-rate-against-parameters curve."""
    pruning_sample: int = 4
    """Pruned candidates re-run without pruning (full budget, search seeds) to count how many would have solved."""
    rungs: int = 6
    """Successive-halving rungs: they end at budget/2^(rungs−1), …, budget/2, budget epochs."""
    hopeless_loss: float = 0.25
    """From half the budget on, a candidate whose seeds_required-th best seed's training loss is above this is dropped."""
    early_hopeless_loss: float = 0.45
    """Before half the budget only candidates that learned (almost) nothing are dropped: a constant output
    scores 0.5, and slow learners such as the seed's 2 × 8 are still far from the target early on."""
    wave_members: int = 1600
    record_every: int = 10
    """Epochs between loss evaluations (when 'reached the target' is checked)."""
    seed_hidden: tuple[int, ...] = (8, 8)
    seed_activation: str = "tanh"
    seed_learning_rate: float = 0.03
    seed_regularization: str = "L2"
    seed_regularization_rate: float = 0.001
    seed_batch_size: int = 10
    replicates: int = 30
    """Fresh seeds (new data, new initial weights) on which every finalist is retrained for the full budget;
    its success rate — final test loss ≤ target — is what the claims test. With the default 5 finalists, 30
    replicates are 150 networks trained for the full budget in one population: about 40 s on a 2-core CPU, beside
    the search's ~6 minutes (cost grows linearly in replicates)."""
    success_null: float = 0.8
    """The success rule: a network *solves* the dataset when its success rate on fresh seeds is significantly above
    this (exact binomial test; on 30 replicates that takes 28 or more). 0.8 means a learner who opens the network
    in the Playground and presses play can expect it to reach the target four times in five — "sometimes works"
    is not "solves"."""

    PROFILES = {"paper": PAPER, "noisy": {"noise": 0.25}, "paper-noisy": {**PAPER, "noise": 0.25}}
    """paper: the Playground's full search space; noisy: the default search on the spiral at noise 25 (of 50)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_finite("noise", self.noise, 0.0, 0.5)
        check_finite("target_loss", self.target_loss)
        require(0 < self.target_loss < 0.5, f"target_loss must lie in (0, 0.5) (a constant 0 output scores 0.5), "
                                            f"got {self.target_loss}")
        check_positive_int("epoch_budget", self.epoch_budget, maximum=100_000)
        check_positive_int("n_seeds", self.n_seeds, maximum=MAX_SEEDS)
        check_positive_int("seeds_required", self.seeds_required)
        require(self.seeds_required <= self.n_seeds,
                f"seeds_required ({self.seeds_required}) cannot exceed n_seeds ({self.n_seeds})")
        require(len(self.feature_sets) >= 1, "feature_sets needs at least one feature set")
        for name in self.feature_sets:
            feature_keys(name)
        require(len(set(self.feature_sets)) == len(self.feature_sets), f"feature_sets repeat: {self.feature_sets}")
        check_positive_int("max_layers", self.max_layers, minimum=0, maximum=PLAYGROUND_MAX_LAYERS)
        check_positive_int("max_neurons", self.max_neurons, maximum=PLAYGROUND_MAX_NEURONS)
        require(len(self.activations) >= 1 and set(self.activations) <= set(PLAYGROUND_ACTIVATIONS),
                f"activations must come from {', '.join(PLAYGROUND_ACTIVATIONS)}, got {self.activations}")
        require(self.seed_activation in PLAYGROUND_ACTIVATIONS,
                f"seed_activation must be one of {', '.join(PLAYGROUND_ACTIVATIONS)}, got {self.seed_activation!r}")
        require(len(self.learning_rates) >= 1, "learning_rates needs at least one entry")
        for lr in (*self.learning_rates, self.seed_learning_rate):
            check_finite("a learning rate", lr)
            require(0 < lr <= 10, f"learning rates must be numbers in (0, 10], got {lr}")
        for reg in (*self.regularizations, self.seed_regularization):
            require(reg in REGULARIZATIONS, f"regularisation must be one of {', '.join(REGULARIZATIONS)}, got {reg!r}")
        require(len(self.regularizations) >= 1, "regularizations needs at least one entry")
        require(len(self.regularization_rates) >= 1, "regularization_rates needs at least one entry")
        for rate in (*self.regularization_rates, self.seed_regularization_rate):
            check_finite("a regularization rate", rate, 0.0, 10.0)
        require(len(set(self.regularization_rates)) == len(self.regularization_rates),
                f"regularization_rates repeat: {self.regularization_rates}")
        require(len(self.batch_sizes) >= 1 and len(set(self.batch_sizes)) == len(self.batch_sizes)
                and all(isinstance(b, int) and not isinstance(b, bool) and 1 <= b <= PLAYGROUND_MAX_BATCH
                        for b in self.batch_sizes),
                f"batch_sizes must be distinct whole numbers from 1 to {PLAYGROUND_MAX_BATCH} (the Playground's "
                f"slider), got {self.batch_sizes}")
        check_positive_int("seed_batch_size", self.seed_batch_size, maximum=PLAYGROUND_MAX_BATCH)
        check_positive_int("finalists_per_set", self.finalists_per_set, maximum=20)
        check_positive_int("pruning_sample", self.pruning_sample, minimum=0, maximum=1000)
        require(1 <= len(self.seed_hidden) <= PLAYGROUND_MAX_LAYERS
                and all(isinstance(w, int) and 1 <= w <= PLAYGROUND_MAX_NEURONS for w in self.seed_hidden),
                f"seed_hidden must list 1 to {PLAYGROUND_MAX_LAYERS} widths from 1 to {PLAYGROUND_MAX_NEURONS} "
                f"(the Playground's limits), got {self.seed_hidden}")
        check_positive_int("rungs", self.rungs, maximum=20)
        check_finite("hopeless_loss", self.hopeless_loss)
        check_finite("early_hopeless_loss", self.early_hopeless_loss)
        require(0 < self.hopeless_loss <= 1, f"hopeless_loss must lie in (0, 1], got {self.hopeless_loss}")
        require(self.hopeless_loss <= self.early_hopeless_loss <= 1,
                f"early_hopeless_loss must lie in [hopeless_loss, 1], got {self.early_hopeless_loss}")
        check_positive_int("wave_members", self.wave_members, maximum=100_000)
        check_positive_int("record_every", self.record_every)
        require(self.record_every <= self.epoch_budget,
                f"record_every ({self.record_every}) exceeds epoch_budget ({self.epoch_budget})")
        check_positive_int("replicates", self.replicates, maximum=MAX_REPLICATES)
        check_finite("success_null", self.success_null)
        require(0 < self.success_null < 1, f"success_null must lie in (0, 1), got {self.success_null}")

    @classmethod
    def quick(cls) -> "Config":
        """Seconds: the easy Gaussian set, 0–1 hidden layers of 1–2 units, two settings, two seeds, 10 replicates."""
        return cls(dataset="gauss", target_loss=0.1, epoch_budget=40, n_seeds=2, seeds_required=2,
                   feature_sets=("x+y", "sinX+sinY"), max_layers=1, max_neurons=2, activations=("tanh",),
                   learning_rates=(0.03, 0.3), regularizations=("none",), rungs=2, record_every=10,
                   seed_hidden=(2, 2), hopeless_loss=0.45, replicates=10, finalists_per_set=2, pruning_sample=2,
                   quick=True)

    @property
    def width(self) -> int:
        """Inputs and units of every padded network in a population."""
        return max(len(FEATURES), self.max_neurons, *self.seed_hidden)


def feature_keys(name: str) -> tuple[str, ...]:
    """The Playground feature keys of a feature-set name such as 'x+y+sinX+sinY' or 'all'."""
    keys = FEATURES if name == "all" else tuple(part.strip() for part in str(name).split("+"))
    unknown = [key for key in keys if key not in FEATURES]
    require(not unknown and len(keys) >= 1 and len(set(keys)) == len(keys),
            f"feature set {name!r} must be 'all' or distinct keys from {', '.join(FEATURES)} joined by '+'")
    return keys


def feature_label(name: str) -> str:
    return "all 7" if name == "all" else ", ".join(FEATURE_LABELS[key] for key in feature_keys(name))


def has_sine(name: str) -> bool:
    return bool({"sinX", "sinY"} & set(feature_keys(name)))


def layers_text(hidden: tuple[int, ...]) -> str:
    """'2 × 8' for two layers of 8 (the Playground's way of saying it); '4, 2' for mixed widths."""
    if not hidden:
        return "no hidden layer"
    if len(set(hidden)) == 1:
        return f"{len(hidden)} × {hidden[0]}"
    return ", ".join(map(str, hidden))
