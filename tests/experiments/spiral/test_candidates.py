"""The spiral's candidates: the feature sets and the search order, the Playground link that opens a candidate, and
the search space the Playground offers — pure functions, nothing trained."""

import dataclasses
from urllib.parse import parse_qs, urlsplit

from replab.data.playground import FEATURES
from replab.experiments import spiral
from replab.experiments.spiral.candidates import (
    architectures,
    hyper_grid,
    playground_link,
    seed_choice,
    shapes_in_order,
)
from replab.experiments.spiral.config import PLAYGROUND_URL, feature_keys
from replab.experiments.spiral.search import rung_ends
from replab.nn.playground import playground_parameter_count
from tests.experiments.spiral.test_population import candidate


def test_feature_sets_and_search_order():
    assert feature_keys("all") == ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")
    config = spiral.Config()
    assert not config.quick and config.replicates >= 10
    counts = [playground_parameter_count(len(feature_keys(f)), arch)
              for f, arch in shapes_in_order(config)]
    assert counts == sorted(counts) and len(counts) == 3 * (1 + 6 * 8)
    assert seed_choice(config).parameters == 105
    assert rung_ends(config)[-1] == config.epoch_budget
    assert rung_ends(spiral.Config.quick()) == [20, 40]


def test_the_playground_link_encodes_the_network():
    config = dataclasses.replace(spiral.Config(), noise=0.25)
    member = candidate(features="x+y+sinX+sinY", hidden=(6, 4, 2), activation="relu", lr=3.0, reg="L1",
                       rate=0.003, batch=7)
    link = playground_link(config, member, 1234)
    assert link.startswith(PLAYGROUND_URL)
    state = {k: v[0] for k, v in parse_qs(urlsplit(link).fragment, keep_blank_values=True).items()}
    assert state["dataset"] == "spiral" and state["noise"] == "25" and state["percTrainData"] == "50"
    assert state["networkShape"] == "6,4,2" and state["activation"] == "relu"
    assert float(state["learningRate"]) == 3.0 and state["regularization"] == "L1"
    assert float(state["regularizationRate"]) == 0.003 and state["batchSize"] == "7" and state["seed"] == "1234"
    assert {k for k in FEATURES if state[k] == "true"} == {"x", "y", "sinX", "sinY"}
    empty = playground_link(config, candidate(hidden=()), 1)
    assert "networkShape=&" in empty and "regularization=none" in empty


def test_the_search_space_covers_what_the_playground_offers():
    paper = spiral.Config.from_profile("paper")
    archs = architectures(paper)
    assert (6, 4, 2) in archs and (4, 6) not in archs and (8,) * 6 in archs and () in archs
    assert all(list(a) == sorted(a, reverse=True) for a in archs)
    grid = hyper_grid(paper)
    assert {h.activation for h in grid} == {"tanh", "relu", "sigmoid", "linear"}
    assert max(h.learning_rate for h in grid) == 3.0
    assert {(h.regularization, h.regularization_rate) for h in grid} >= {("L1", 0.001), ("L1", 0.03), ("L2", 0.01),
                                                                         ("none", 0.0)}
    assert {1, 7, 30} <= {h.batch_size for h in grid}
    assert spiral.Config.from_profile("noisy").noise > 0
    default = spiral.Config()
    assert 250 % 7 and dataclasses.replace(default, batch_sizes=(7, 30)).batch_sizes == (7, 30)
