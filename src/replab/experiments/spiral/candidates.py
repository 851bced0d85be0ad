"""The spiral search's candidates and data: (feature set, architecture, hyperparameters) candidates, the grid and
architectures they come from, the Playground link that opens one, and each seed's Playground data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from replab.data.playground import FEATURES, features, make_dataset
from replab.experiments.spiral.config import (
    N_POINTS,
    PLAYGROUND_URL,
    REPLICATE_SEED_OFFSET,
    TRAIN_RATIO,
    Config,
    feature_keys,
)
from replab.nn.playground import pad_features, playground_parameter_count
from replab.seeds import derived_seed

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
        return playground_parameter_count(len(feature_keys(self.feature_set)), self.hidden)

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
    return sorted(pairs, key=lambda p: (playground_parameter_count(len(feature_keys(p[0])), p[1]), len(p[1]),
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
                             pad_features(features(d.x_train, FEATURES), config.width),
                             pad_features(features(d.x_test, FEATURES), config.width)))
    return sets


def replicate_data(config: Config) -> list[SeedData]:
    """Fresh seeds for the replication: indices 500 … 500 + replicates − 1, disjoint from the search's."""
    return make_seed_data(config, range(REPLICATE_SEED_OFFSET, REPLICATE_SEED_OFFSET + config.replicates))
