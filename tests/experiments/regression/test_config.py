"""The regression Config: bad values are rejected with a clear message, and a config replays from its dict."""

import pytest

from replab.errors import ConfigError
from replab.experiments import regression
from replab.settings import config_to_dict


@pytest.mark.parametrize("overrides, message", [
    ({"noise_stds": (0.5, 0.1)}, "increasing"),
    ({"noise_stds": (-0.1,)}, "every value of noise_stds must be a finite number > 0, got -0.1"),
    ({"deep_hidden": ()}, "deep_hidden"),
    ({"n_seeds": 1}, "n_seeds"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"seed": -3}, "seed"),
    ({"noise_stds": (0.1, float("inf"))}, "noise_stds"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"n_seeds": 10_000}, "n_seeds"),
    ({"n_test": 10**9}, "n_test"),
    ({"epochs": 10**9}, "epochs"),
    ({"shallow_hidden": (10**6,)}, "shallow_hidden"),
    ({"close_factor": float("nan")}, "close_factor"),
    ({"targets": ("cubic",)}, "every value of targets must be one of line, sine, got 'cubic'"),
    ({"targets": ()}, "targets"),
    ({"optimizer": "rmsprop"}, "optimizer"),
])
def test_bad_config_is_rejected_with_a_clear_message(overrides, message):
    with pytest.raises(ConfigError, match=message):
        regression.Config(**overrides)


def test_config_replays_from_its_dict():
    quick = regression.Config.quick()
    assert quick.quick and regression.Config.from_dict(
        {k: list(v) if isinstance(v, tuple) else v for k, v in config_to_dict(quick).items()}) == quick
