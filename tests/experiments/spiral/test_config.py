"""The spiral's settings: overrides parse, bad values are refused, a saved config.json replays."""

import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments import spiral
from replab.settings import apply_overrides


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
