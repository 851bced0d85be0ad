import pytest

from replab.errors import ConfigError
from replab.experiments.bn.smoothness.config import Config


def test_bad_settings_are_one_sentence():
    with pytest.raises(ConfigError, match="eta_factors"):
        Config(eta_factors=(2.0, 1.0))
    with pytest.raises(ConfigError, match="probe_size"):
        Config(probe_size=1)
