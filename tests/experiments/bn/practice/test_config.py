import pytest

from replab.errors import ConfigError
from replab.experiments.bn.practice.config import Config


def test_bad_settings_are_one_sentence():
    with pytest.raises(ConfigError, match="architectures"):
        Config(architectures=("rnn",))
    with pytest.raises(ConfigError, match="learning_rates"):
        Config(learning_rates=(1.0, 0.1))
    assert Config.from_profile("paper").steps == 3000
