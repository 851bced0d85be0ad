import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments.bn.norms.config import Config


def test_quick_is_quick_and_a_saved_config_replays():
    config = Config.quick()
    assert config.quick and not Config().quick
    assert Config.from_dict(dataclasses.asdict(config)) == config


def test_bad_settings_are_refused_with_one_sentence():
    for bad in ({"kinds": ("batch", "layer")}, {"kinds": ("none", "cheese")}, {"kinds": ("none", "batch", "batch")},
                {"groups": 3}, {"groups": 10**6}, {"renorm_ramp_fraction": 1.5},
                {"renorm_ramp_fraction": float("nan")}, {"target_within": 0.0}, {"target_within": float("inf")},
                {"tie_within": -0.1}, {"tie_within": 0.0}, {"timing_steps": 5}, {"timing_steps": 10**7},
                {"timing_rounds": 0}, {"timing_rounds": 1000}, {"steps": 0}, {"n_seeds": 1}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(Config(), **bad)
        assert "\n" not in str(error.value)
    assert dataclasses.replace(Config(), kinds=("none", "weight"), groups=3).groups == 3  # no GroupNorm: any
