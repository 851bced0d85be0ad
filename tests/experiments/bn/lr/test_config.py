import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments.bn.lr.config import Config
from replab.settings import apply_overrides


@pytest.mark.parametrize("setting, message", [
    ({"learning_rates": "1,0.1"}, "learning_rates must be in increasing order"),
    ({"learning_rates": "0.1"}, "learning_rates must list 2 to 32 values"),
    ({"datasets": "cifar"}, "every value of datasets must be one of mnist, fashion-mnist"),
    ({"good_within": "2"}, "good_within must be a finite number > 0 and < 1"),
    ({"n_seeds": "1000"}, "n_seeds must be at most 100"),
    ({"data_dir": "/no/such/folder"}, "does not exist"),
])
def test_bad_settings_are_refused_with_one_sentence(setting, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(Config(), setting)


def test_non_finite_margins_are_refused():
    for name in ("good_within", "target_within"):
        with pytest.raises(ConfigError, match=f"{name} must be a finite number"):
            dataclasses.replace(Config(), **{name: float("nan")})
    with pytest.raises(ConfigError, match="every value of learning_rates must be a finite number"):
        dataclasses.replace(Config(), learning_rates=(0.1, float("inf")))
