"""The curves experiment's settings: defaults, validation, command-line parsing and replay (nothing is fitted)."""

import pytest

from replab.errors import ConfigError
from replab.experiments.curves.config import Config
from replab.settings import apply_overrides


def test_default_config_is_the_full_experiment():
    config = Config()
    assert config.n_samples == 5000 and config.n_seeds == 10 and config.n_chance_draws == 200
    assert config.pool_size == 20000 and config.n_test == 1250 and config.n_train == 3750
    assert config.negative_shares == (0.5, 0.75, 0.9, 0.99)
    assert config.roc_tolerance == 0.05 and config.seed == 0 and not config.quick
    assert Config.quick().quick


@pytest.mark.parametrize("changes, message", [
    ({"n_samples": 999}, "n_samples"),
    ({"negative_shares": (0.5, 1.0)}, "every value of negative_shares must be a finite number ≥ 0.5 and < 1, got 1.0"),
    ({"negative_shares": (0.0, 0.5)}, "every value of negative_shares must be a finite number ≥ 0.5 and < 1, got 0.0"),
    ({"negative_shares": (0.5, 1.5)}, "every value of negative_shares must be a finite number ≥ 0.5 and < 1, got 1.5"),
    ({"negative_shares": (-0.1, 0.9)}, "every value of negative_shares must be a finite number ≥ 0.5 and < 1, got -0.1"),
    ({"negative_shares": (0.3, 0.9)}, "every value of negative_shares must be a finite number ≥ 0.5 and < 1, got 0.3"),
    ({"negative_shares": (0.9, 0.5)}, "increasing"),
    ({"negative_shares": (0.5,)}, "negative_shares must list 2 to 20 values"),
    ({"n_samples": 1000, "negative_shares": (0.5, 0.999)}, "fewer than 2 positives"),
    ({"seed": -1}, "seed"),
    ({"test_share": 1.0}, "test_share"),
    ({"flip_y": -0.01}, "flip_y"),
    ({"models": ("svm",)}, "every value of models must be one of .*, got 'svm'"),
    ({"models": ()}, "models"),
    ({"n_seeds": 1}, "n_seeds"),
    ({"roc_tolerance": 0.0}, "roc_tolerance"),
    ({"roc_tolerance": float("nan")}, "roc_tolerance"),
    ({"n_samples": 10**9}, "n_samples"),
    ({"n_seeds": 10**6}, "n_seeds"),
    ({"n_chance_draws": 10**9}, "n_chance_draws"),
    ({"pool_size": 2000}, "pool_size=2000 is too small"),
    ({"pool_size": 10**9}, "pool_size"),
])
def test_bad_settings_raise_one_clear_sentence(changes, message):
    with pytest.raises(ConfigError, match=message) as raised:
        Config(**changes)
    assert "\n" not in str(raised.value)


def test_settings_parse_from_the_command_line():
    config = apply_overrides(Config(), {"negative_shares": "0.5,0.9", "models": "logistic,random_forest",
                                              "flip_y": "0.01"})
    assert config.negative_shares == (0.5, 0.9)
    assert config.models == ("logistic", "random_forest")
    assert config.flip_y == 0.01
    with pytest.raises(ConfigError):
        apply_overrides(Config(), {"negative_shares": "0.5,1.2"})


def test_config_replays_from_its_dict():
    from replab.settings import config_to_dict

    quick = Config.quick()
    assert quick.quick and Config.from_dict(
        {k: list(v) if isinstance(v, tuple) else v for k, v in config_to_dict(quick).items()}) == quick
