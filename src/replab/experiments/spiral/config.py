"""The spiral experiment's settings: what is searched, how "solved" is decided, and how the winners are replicated.

They load without TensorFlow, so `replab config spiral` answers at once: the package's __init__ imports only this
module and the experiment base, and the search engine (search.py, population.py) loads when the experiment runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from replab.data.playground import FEATURE_LABELS, FEATURES
from replab.errors import ConfigError, require
from replab.experiments.base import ExperimentConfig
from replab.settings import choice, each, integer, item_bounds, number

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
FEATURE_SET = f"'all' or distinct keys from {', '.join(FEATURES)} joined by '+'"
"""What a feature-set name is, in words."""


def check_feature_set(name: str, value: Any) -> None:
    """Each of feature_sets must be a feature-set name that feature_keys reads; the error names the field."""
    try:
        feature_keys(value)
    except ConfigError:
        raise ConfigError(f"{name} must be {FEATURE_SET}, got {value!r}.") from None


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Settings of the spiral search: the Playground dataset and noise, what 'solved' means (target loss, epoch
    budget, seeds required), the search space (feature sets, layers, widths, activations, learning rates,
    regularisations) and successive halving (rungs, hopeless loss), the seed's own network, and the
    replicates that confirm each finalist.

    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config spiral` lists every field with its
    type, bounds, default, quick value and meaning.
    """
    dataset: Literal["spiral", "circle", "xor", "gauss"] = "spiral"
    noise: float = number(0.0, low=0, high=0.5)
    """The Playground's noise fraction in [0, 0.5] (slider value / 100)."""
    target_loss: float = number(0.05, above=0, below=0.5)
    """The loss to reach (the training loss in the search, the test loss in the replicates); below 0.5, which a
    constant 0 output scores."""
    epoch_budget: int = integer(2000, high=100_000)
    n_seeds: int = integer(5, high=MAX_SEEDS)
    """Seeds per candidate during the search (each draws its own data and initial weights)."""
    seeds_required: int = integer(4)
    """During the search a candidate is solved once its training loss reached the target in this many seeds."""
    feature_sets: tuple[str, ...] = each(("x+y", "x+y+sinX+sinY", "all"),
                                         item_bounds("validated", check_value=check_feature_set, words=FEATURE_SET),
                                         unique=True)
    """Each a '+'-joined list of Playground feature keys (x, y, xSquared, ySquared, xTimesY, sinX, sinY) or 'all'."""
    max_layers: int = integer(6, low=0, high=PLAYGROUND_MAX_LAYERS, why="the Playground's limit")
    max_neurons: int = integer(8, high=PLAYGROUND_MAX_NEURONS, why="the Playground's limit")
    mixed_widths: bool = False
    """Also search hidden layers of different, non-increasing widths (such as 6, 4, 2), not only uniform ones."""
    activations: tuple[str, ...] = each(("tanh", "relu"), choice(None, PLAYGROUND_ACTIVATIONS))
    learning_rates: tuple[float, ...] = each((0.03, 0.1, 0.3), item_bounds("number", above=0, high=10))
    regularizations: tuple[str, ...] = each(("none", "L1", "L2"), choice(None, REGULARIZATIONS))
    """'none' plus each kind at every rate of `regularization_rates`."""
    regularization_rates: tuple[float, ...] = each((0.001,), item_bounds("number", low=0, high=10), unique=True)
    batch_sizes: tuple[int, ...] = each((10,), item_bounds("integer", low=1, high=PLAYGROUND_MAX_BATCH,
                                                           why="the Playground's slider"), unique=True)
    """1 to 30 (the Playground's slider); a size that does not divide the 250 training points batches as the
    Playground does: the leftover points' gradients carry over into the next epoch's first update."""
    finalists_per_set: int = integer(2, high=20)
    """Per feature set the search goes on until it has solvers of this many parameter counts, and the best-scoring
    solver of each count is replicated: the points of the success-rate-against-parameters curve."""
    pruning_sample: int = integer(4, low=0, high=1000)
    """Pruned candidates re-run without pruning (full budget, search seeds) to count how many would have solved."""
    rungs: int = integer(6, high=20)
    """Successive-halving rungs: they end at budget/2^(rungs−1), …, budget/2, budget epochs."""
    hopeless_loss: float = number(0.25, above=0, high=1)
    """From half the budget on, a candidate whose seeds_required-th best seed's training loss is above this is dropped."""
    early_hopeless_loss: float = number(0.45, high=1)
    """Before half the budget only candidates that learned (almost) nothing are dropped: a constant output
    scores 0.5, and slow learners such as the seed's 2 × 8 are still far from the target early on. At least
    hopeless_loss."""
    wave_members: int = integer(1600, high=100_000)
    record_every: int = integer(10)
    """Epochs between loss evaluations (when 'reached the target' is checked)."""
    seed_hidden: tuple[int, ...] = each((8, 8), item_bounds("integer", low=1, high=PLAYGROUND_MAX_NEURONS,
                                                            why="the Playground's limit"),
                                        max_items=PLAYGROUND_MAX_LAYERS)
    """The seed's hidden layer widths: 1 to 6 layers of 1 to 8 neurons (the Playground's limits)."""
    seed_activation: str = choice("tanh", PLAYGROUND_ACTIVATIONS)
    seed_learning_rate: float = number(0.03, above=0, high=10)
    seed_regularization: str = choice("L2", REGULARIZATIONS)
    seed_regularization_rate: float = number(0.001, low=0, high=10)
    seed_batch_size: int = integer(10, high=PLAYGROUND_MAX_BATCH, why="the Playground's slider")
    replicates: int = integer(30, high=MAX_REPLICATES)
    """Fresh seeds (new data, new initial weights) on which every finalist is retrained for the full budget;
    its success rate — final test loss ≤ target — is what the claims test. With the default 5 finalists, 30
    replicates are 150 networks trained for the full budget in one population: about 40 s on a 2-core CPU, beside
    the search's ~6 minutes (cost grows linearly in replicates)."""
    success_null: float = number(0.8, above=0, below=1)
    """The success rule: a network *solves* the dataset when its success rate on fresh seeds is significantly above
    this (exact binomial test; on 30 replicates that takes 28 or more). 0.8 means a learner who opens the network
    in the Playground and presses play can expect it to reach the target four times in five — "sometimes works"
    is not "solves"."""

    PROFILES = {"paper": PAPER, "noisy": {"noise": 0.25}, "paper-noisy": {**PAPER, "noise": 0.25}}
    """paper: the Playground's full search space; noisy: the default search on the spiral at noise 25 (of 50)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.seeds_required <= self.n_seeds,
                f"seeds_required ({self.seeds_required}) cannot exceed n_seeds ({self.n_seeds})")
        require(self.hopeless_loss <= self.early_hopeless_loss,
                f"early_hopeless_loss ({self.early_hopeless_loss}) cannot be below hopeless_loss ({self.hopeless_loss})")
        require(self.record_every <= self.epoch_budget,
                f"record_every ({self.record_every}) exceeds epoch_budget ({self.epoch_budget})")

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
