import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments.bn.init.config import Config
from replab.settings import apply_overrides


@pytest.mark.parametrize("setting, message", [
    ({"scales": "0.1,10"}, "scales must include 1"),
    ({"scales": "1,0.1"}, "scales must be in increasing order"),
])
def test_bad_settings_are_refused(setting, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(Config(), setting)


def test_non_finite_settings_are_refused():
    with pytest.raises(ConfigError, match="invariance_tolerance must be a finite number"):
        dataclasses.replace(Config(), invariance_tolerance=float("inf"))
    with pytest.raises(ConfigError, match="every value of scales must be a finite number"):
        dataclasses.replace(Config(), scales=(1.0, float("nan")))
