import dataclasses

import numpy as np
import pytest

from replab import nn
from replab.errors import ConfigError
from replab.experiments import EXPERIMENTS, load, spiral
from replab.experiments.base import apply_overrides
from replab.experiments.spiral import search as engine
from replab.experiments.spiral.config import REPLICATE_SEED_OFFSET
from replab.seeds import derived_seed


@pytest.fixture(scope="module")
def quick():
    config = spiral.Config.quick()
    return config, spiral.run(config)


def test_quick_run_yields_every_figure_table_and_claim(quick):
    config, result = quick
    assert "spiral" in EXPERIMENTS and load("spiral") is spiral
    assert set(result.figures) == {"decision_regions", "pareto", "search_scores", "loss_curves"}
    assert set(result.captions) == set(result.figures)
    assert [c.id for c in result.claims] == ["seed-2x8-solves", "smallest-solution", "search-covers-smaller",
                                            "sine-features-shrink"]
    assert [c.kind for c in result.claims] == ["finding", "finding", "check", "finding"]
    assert [t.title for t in result.tables][0] == "What was searched"
    shown = result.metrics["replication"]
    assert any(label.startswith("seed's 2 × 2") for label in shown)
    assert any("smallest" in label for label in shown)
    assert result.metrics["candidates_trained"] == sum(result.metrics["status_counts"].values())
    assert all(entry["playground_link"].startswith("https://playground.tensorflow.org/#")
               for entry in shown.values())
    check = result.metrics["pruning_check"]
    assert check["rerun"] == min(config.pruning_sample, result.metrics["status_counts"]["pruned"])


def test_quick_run_is_marked_quick_end_to_end(quick):
    config, result = quick
    assert config.quick and result.quick
    assert all(claim.base.quick for claim in result.claims)
    assert all(claim.base.datasets == ("gauss",) for claim in result.claims)


def test_success_counts_follow_from_the_final_test_losses(quick):
    config, result = quick
    for entry in result.metrics["replication"].values():
        assert entry["replicates"] == config.replicates == len(entry["final_test_loss"])
        assert entry["successes"] == sum(loss <= config.target_loss for loss in entry["final_test_loss"])
    claims = {c.id: c for c in result.claims}
    seed = next(v for k, v in result.metrics["replication"].items() if k.startswith("seed's"))
    (test,) = claims["seed-2x8-solves"].tests
    assert test.n == config.replicates and test.effect == seed["successes"] / config.replicates
    assert test.null == config.success_null and test.method.startswith("exact binomial")


def test_replicate_seeds_are_fresh(quick):
    config, result = quick
    search_seeds = {derived_seed(config.seed, s) for s in range(config.n_seeds)}
    replicate_seeds = set(result.metrics["replicate_seeds"])
    assert len(replicate_seeds) == config.replicates and not replicate_seeds & search_seeds
    assert min(replicate_seeds) == derived_seed(config.seed, REPLICATE_SEED_OFFSET)


def test_the_search_never_looks_at_the_test_points():
    config = spiral.Config.quick()
    data = spiral.make_seed_data(config)
    blind = [dataclasses.replace(d, x_test=np.full_like(d.x_test, np.nan), y_test=np.full_like(d.y_test, np.nan))
             for d in data]
    seen, unseen = (engine.search(config, d, lambda *args: None) for d in (data, blind))
    assert [c for c in seen.candidates] == [c for c in unseen.candidates]
    for i, outcome in seen.outcomes.items():
        other = unseen.outcomes[i]
        assert outcome.status == other.status
        np.testing.assert_array_equal(outcome.best_loss, other.best_loss)
        assert np.all(np.isfinite(outcome.best_loss))


def brute_force_smallest(config):
    """Train every candidate on its own (no waves, no pruning, no skipping): the smallest solver's size."""
    data = spiral.make_seed_data(config)
    solved = []
    for feature_set, arch in spiral.shapes_in_order(config):
        for hyper in spiral.hyper_grid(config):
            candidate = spiral.Candidate(feature_set, arch, hyper)
            population = spiral.new_population(config, [0], data, len(arch))
            _, losses, _ = spiral.train_members(config, [candidate], population, data, config.epoch_budget,
                                             len(arch))
            if np.sum(np.any(losses["train"] <= config.target_loss, axis=0)) >= config.seeds_required:
                solved.append(candidate.parameters)
    return min(solved, default=None)


def test_search_finds_the_brute_force_smallest_solution():
    # circle from X1, X2: fewer than 3 hidden units cannot solve it, so the answer is not the first candidate
    config = spiral.Config(dataset="circle", target_loss=0.1, epoch_budget=100, n_seeds=2, seeds_required=2,
                           feature_sets=("x+y",), max_layers=1, max_neurons=3, activations=("tanh",),
                           learning_rates=(0.3,), regularizations=("none",), rungs=2, hopeless_loss=1.0,
                           early_hopeless_loss=1.0, wave_members=4, seed_hidden=(2, 2))
    data = spiral.make_seed_data(config)
    found = engine.search(config, data, lambda *args: None)
    solvers = [found.candidates[i].parameters for i, o in found.outcomes.items() if o.status == "solved"]
    answer = min(solvers)
    assert answer == nn.playground_parameter_count(2, (3,))
    assert answer == brute_force_smallest(config)
    # every smaller architecture was trained with the whole grid and failed
    smaller = [o for i, o in found.outcomes.items() if found.candidates[i].parameters < answer]
    assert {found.candidates[i].hidden for i, o in found.outcomes.items()
            if found.candidates[i].parameters < answer} == {(), (1,), (2,)}
    assert smaller and all(o.status != "solved" for o in smaller)


def test_settings_validate_and_parse():
    config = apply_overrides(spiral.Config.quick(), {"dataset": "xor", "feature_sets": "x+y,all", "noise": "0.1"})
    assert config.dataset == "xor" and config.feature_sets == ("x+y", "all") and config.noise == 0.1
    assert config.quick
    with pytest.raises(ConfigError):
        apply_overrides(spiral.Config.quick(), {"dataset": "moons"})
    for bad in ({"batch_sizes": (31,)}, {"batch_sizes": (0,)}, {"batch_sizes": (10, 10)},
                {"regularization_rates": ()}, {"finalists_per_set": 0}, {"pruning_sample": -1}, {"seeds_required": 5, "n_seeds": 3}, {"feature_sets": ("x+z",)},
                {"noise": 0.7}, {"target_loss": 0.6}, {"activations": ("swish",)}, {"regularizations": ("L3",)},
                {"noise": float("nan")}, {"learning_rates": (float("inf"),)}, {"max_layers": 7},
                {"max_neurons": 9}, {"replicates": 0}, {"replicates": 10_000}, {"n_seeds": 1000},
                {"success_null": 1.0}, {"epoch_budget": 10**7}, {"seed": -1}, {"seed_hidden": (9,)}):
        with pytest.raises(ConfigError):
            dataclasses.replace(spiral.Config.quick(), **bad)


def test_saved_config_replays():
    config = spiral.Config.quick()
    replayed = spiral.Config.from_dict(dataclasses.asdict(config) | {"feature_sets": list(config.feature_sets)})
    assert replayed == config


def test_feature_sets_and_search_order():
    assert spiral.feature_keys("all") == ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")
    config = spiral.Config()
    assert not config.quick and config.replicates >= 10
    counts = [nn.playground_parameter_count(len(spiral.feature_keys(f)), arch)
              for f, arch in spiral.shapes_in_order(config)]
    assert counts == sorted(counts) and len(counts) == 3 * (1 + 6 * 8)
    assert spiral.seed_choice(config).parameters == 105
    assert spiral.rung_ends(config)[-1] == config.epoch_budget
    assert engine.rung_ends(spiral.Config.quick()) == [20, 40]


def test_finalists_get_tensorboard_series_stamped_when_measured_and_their_settings(quick, tmp_path):
    from replab.runs import write_tensorboard
    from tests.test_tensorboard import _hparams_data, _load
    from tensorboard.plugins.hparams import metadata as hparams_metadata

    config, result = quick
    finalists = len(result.metrics["replication"])
    assert sorted(result.scalars) == sorted(f"finalist{i}" for i in range(finalists))
    series = result.scalars["finalist0"]["loss/test_mean"]
    epochs = [point[0] for point in series]
    assert epochs[-1] == config.epoch_budget and epochs == sorted(epochs)
    times = [point[2] for point in series]
    assert all(isinstance(t, float) and t > 1e9 for t in times) and times == sorted(times)
    assert "record_times" not in str(sorted(result.metrics))  # when it ran is not a measurement
    first = result.hparams["finalist0"]
    assert {"features", "hidden", "activation", "learning_rate", "batch_size", "role", "success_rate"} <= set(first)
    write_tensorboard(tmp_path, result.scalars, hparams=result.hparams)
    logged = _load(tmp_path / "finalist0").Scalars("loss/test_mean")
    assert [e.wall_time for e in logged] == times
    start = _hparams_data(_load(tmp_path / "finalist0"))[hparams_metadata.SESSION_START_INFO_TAG].session_start_info
    assert start.hparams["role"].string_value == result.hparams["finalist0"]["role"]
