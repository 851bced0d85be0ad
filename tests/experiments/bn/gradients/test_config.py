import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments.bn.gradients.config import Config


def test_quick_is_quick_and_a_saved_config_replays():
    config = Config.quick()
    assert config.quick and Config.from_dict(dataclasses.asdict(config)) == config
    assert not Config().quick


@pytest.mark.parametrize("change", [dict(hidden=(100,)), dict(probe_size=1), dict(probe_size=5000),
                                    dict(close_factor=1.0), dict(close_factor=float("inf")),
                                    dict(close_factor=float("nan")), dict(isometry_fraction=0.5),
                                    dict(isometry_fraction=1.0), dict(isometry_fraction=1.5),
                                    dict(quick="yes")])
def test_bad_settings_are_refused_with_a_config_error(change):
    with pytest.raises(ConfigError):
        Config(**change)
