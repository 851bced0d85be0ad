import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments.bn.figure1.config import Config
from replab.settings import apply_overrides, config_to_dict


def test_settings_parse_and_bad_values_are_refused_with_one_sentence():
    config = apply_overrides(Config(), {"datasets": "fashion-mnist", "learning_rates": "0.1,1",
                                        "paper_learning_rate": "0.1"})
    assert config.datasets == ("fashion-mnist",) and config.learning_rates == (0.1, 1.0)
    with pytest.raises(ConfigError, match="datasets"):
        apply_overrides(Config(), {"datasets": "cifar"})
    for bad in ({"steps": 0}, {"record_every": 100_000}, {"learning_rates": (-1.0,)}, {"probe_unit": 100},
                {"weight_stds": (0.0,)}, {"n_seeds": 0}, {"batch_size": 1}, {"bn_momentum": 1.0},
                {"steps": 10_000_000}, {"n_seeds": 1000}, {"hidden": (100_000,)}, {"batch_size": 1_000_000},
                {"probe_size": 1_000_000}, {"weight_stds": (float("nan"),)}, {"learning_rates": (float("inf"),)},
                {"bn_epsilon": float("nan")}, {"record_every": 1, "steps": 5000}, {"seed": -1}, {"paper_learning_rate": 0.3},
                {"paper_weight_std": 1.0}, {"learning_rates": (0.1, 0.1)}, {"validation_fraction": 0.9},
                {"learning_rates": tuple(0.01 * (i + 1) for i in range(12)), "n_seeds": 100}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(Config(), **bad)
        assert "\n" not in str(error.value) and len(str(error.value)) < 300


def test_quick_and_paper_configs_replay_from_their_dicts():
    config = Config.quick()
    assert config.quick and not Config().quick
    assert Config.from_dict(config_to_dict(config)) == config
    paper = Config.from_profile("paper")
    assert paper.profile == "paper" and paper.steps == 50_000 and paper.n_seeds >= 20
    assert Config.from_dict(config_to_dict(paper)) == paper
    default = Config()
    assert default.n_seeds >= 10 and default.datasets == ("mnist", "fashion-mnist")
    assert set(default.learning_rates) >= {0.05, 0.1, 0.5} and set(default.weight_stds) >= {0.01, 0.1}
