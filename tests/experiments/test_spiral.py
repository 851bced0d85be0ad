import dataclasses

import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments import EXPERIMENTS, spiral
from replab.experiments.base import apply_overrides


@pytest.fixture(scope="module")
def quick():
    config = spiral.Config.quick()
    return config, spiral.run(config)


def test_quick_run_yields_every_figure_table_and_claim(quick):
    config, result = quick
    assert "spiral" in EXPERIMENTS
    assert set(result.figures) == {"decision_regions", "pareto", "loss_curves"}
    assert [c.id for c in result.claims] == ["seed-2x8-solves", "smallest-solution", "sine-features-shrink"]
    assert [t.title for t in result.tables][0] == "What was searched"
    shown = result.metrics["showcase"]
    assert "seed's 2 × 2" in shown and any(label.startswith("smallest") for label in shown)
    assert result.metrics["candidates_trained"] == sum(result.metrics["status_counts"].values())


def test_verdicts_follow_from_the_metrics(quick):
    config, result = quick
    metrics = result.metrics
    claims = {c.id: c for c in result.claims}
    seed = metrics["showcase"]["seed's 2 × 2"]
    assert seed["seeds_reached"] == sum(1 for loss in seed["best_loss"] if loss <= config.target_loss)
    assert claims["seed-2x8-solves"].verdict == ("holds" if seed["seeds_reached"] >= config.seeds_required else "fails")

    smallest = metrics["smallest"]["any"]["parameters"]
    expected = "inconclusive" if smallest is None else ("holds" if smallest < metrics["seed_parameters"] else "fails")
    assert claims["smallest-solution"].verdict == expected

    xy, sine = metrics["smallest"]["x+y"]["parameters"], metrics["smallest"]["sinX+sinY"]["parameters"]
    if sine is None:
        assert claims["sine-features-shrink"].verdict in ("inconclusive", "fails")
    else:
        assert claims["sine-features-shrink"].verdict == ("holds" if xy is None or sine < xy else "fails")


def brute_force_smallest(config):
    """Train every candidate on its own (no waves, no pruning, no skipping): the smallest solver's size."""
    data = spiral.make_seed_data(config)
    solved = []
    for feature_set, arch in spiral.shapes_in_order(config):
        for hyper in spiral.hyper_grid(config):
            candidate = spiral.Candidate(feature_set, arch, hyper)
            (shown,) = spiral.showcase(config, [("one", candidate)], data)
            if np.sum(shown.best_loss <= config.target_loss) >= config.seeds_required:
                solved.append(candidate.parameters)
    return min(solved, default=None)


def test_search_finds_the_brute_force_smallest_solution():
    # circle from X1, X2: fewer than 3 hidden units cannot solve it, so the answer is not the first candidate
    config = spiral.Config(dataset="circle", target_loss=0.1, epoch_budget=100, n_seeds=2, seeds_required=2,
                           feature_sets=("x+y",), max_layers=1, max_neurons=3, activations=("tanh",),
                           learning_rates=(0.3,), regularizations=("none",), rungs=2, hopeless_loss=1.0, early_hopeless_loss=1.0,
                           wave_members=4, seed_hidden=(2, 2))
    data = spiral.make_seed_data(config)
    found = spiral.search(config, data, lambda *args: None)
    answer = spiral.summarize(config, found)["smallest"]["x+y"]["parameters"]
    assert answer == spiral.nn.playground_parameter_count(2, (3,))
    assert answer == brute_force_smallest(config)
    # every smaller architecture was trained with the whole grid and failed
    evidence = spiral.summarize(config, found)["smallest"]["x+y"]["smaller"]
    assert evidence["architectures"] == evidence["architectures_in_space"] and evidence["complete_grid"]
    assert evidence["solved"] == 0


def test_settings_validate_and_parse():
    config = apply_overrides(spiral.Config.quick(), {"dataset": "xor", "feature_sets": "x+y,all", "noise": "0.1"})
    assert config.dataset == "xor" and config.feature_sets == ("x+y", "all") and config.noise == 0.1
    with pytest.raises(ConfigError):
        apply_overrides(spiral.Config.quick(), {"dataset": "moons"})
    for bad in ({"batch_sizes": (7,)}, {"seeds_required": 5, "n_seeds": 3}, {"feature_sets": ("x+z",)},
                {"noise": 0.7}, {"target_loss": 0.6}, {"activations": ("swish",)}, {"regularizations": ("L3",)}):
        with pytest.raises(ConfigError):
            dataclasses.replace(spiral.Config.quick(), **bad)


def test_feature_sets_and_search_order():
    assert spiral.feature_keys("all") == ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")
    config = spiral.Config()
    counts = [spiral.nn.playground_parameter_count(len(spiral.feature_keys(f)), arch)
              for f, arch in spiral.shapes_in_order(config)]
    assert counts == sorted(counts) and len(counts) == 3 * (1 + 6 * 8)
    assert spiral.seed_choice(config).parameters == 105
    assert spiral.rung_ends(config)[-1] == config.epoch_budget
