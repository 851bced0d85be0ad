"""The gates Config: validation (one sentence per bad value), the quick config, replay from a dict and settings
parsed from the command line."""

import pytest

from replab.errors import ConfigError
from replab.experiments import gates
from replab.settings import apply_overrides


@pytest.mark.parametrize("changes", [
    {"gates": ("AND", "MAYBE")},
    {"gates": ()},
    {"gates": ("AND", "AND")},
    {"seed": -1},
    {"lr_C": 0.0},
    {"default_lr_C": -1.0},
    {"svc_C": 0},
    {"lr_C": float("nan")},
    {"svc_C": float("inf")},
    {"lr_max_iter": 0},
    {"lr_max_iter": 10**9},
    {"grid_resolution": 1},
    {"grid_resolution": 100_000},
    {"tight_tol": 0.0},
    {"tight_tol": 0.1},
    {"quick": "yes"},
])
def test_bad_config_raises_one_sentence(changes):
    with pytest.raises(ConfigError) as error:
        gates.Config(**changes)
    assert "\n" not in str(error.value) and str(error.value)


def test_unknown_gate_message_names_the_choices():
    with pytest.raises(ConfigError, match="XNOR"):
        gates.Config(gates=("MAYBE",))


def test_quick_config_is_quick_and_replays_from_its_dict():
    config = gates.Config.quick()
    assert config.quick and config.grid_resolution == 20
    assert gates.Config.from_dict({"gates": ["AND", "XOR"], "lr_C": 10, "quick": True}) == gates.Config(
        gates=("AND", "XOR"), lr_C=10.0, quick=True)


def test_settings_parse_from_the_command_line():
    config = apply_overrides(gates.Config(), {"gates": "AND,XOR", "lr_C": "10", "seed": "3"})
    assert config.gates == ("AND", "XOR") and config.lr_C == 10.0 and config.seed == 3
    with pytest.raises(ConfigError):
        apply_overrides(gates.Config(), {"gates": "AND,NOPE"})
