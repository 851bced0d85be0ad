import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments.bn.regularization.config import Config


def test_settings_are_validated_with_one_sentence():
    config = Config()
    assert config.steps * config.batch_size % 15 == 0 and config.noise_pool % 240 == 0
    for bad in ({"dropout_rates": (0.2, 0.5)}, {"dropout_rates": (0.0, 1.0)}, {"dropout_rates": (0.0,)},
                {"batch_sizes": (15, 240)}, {"batch_sizes": (60, 7)}, {"steps": 3001},
                {"noise_batch_sizes": (4,)}, {"noise_pool": 2000}, {"noise_draws": 1}, {"max_train": 50},
                {"noise_draws": 5000}, {"noise_pool": 10**8}, {"max_train": 10**8}, {"batch_sizes": (60, 10**6)},
                {"dropout_rates": (0.0, float("nan"))}, {"quick": 1}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(config, **bad)
        assert "\n" not in str(error.value) and str(error.value).count(". ") == 0


def test_quick_is_quick_and_a_saved_config_replays():
    config = Config.quick()
    assert config.quick and not Config().quick
    assert Config.from_dict(dataclasses.asdict(config)) == config
