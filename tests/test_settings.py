from dataclasses import dataclass
from typing import Literal

import pytest

from replab.errors import ConfigError, check_seed, require
from replab.nn.playground import PLAYGROUND_ACTIVATIONS, REGULARIZATIONS
from replab.settings import apply_overrides, parse_assignments


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    rate: float = 0.5
    verbose: bool = False
    name: str = "x"
    mode: Literal["fast", "slow"] = "fast"
    levels: tuple[float, ...] = (0.5, 0.9)
    limit: int | None = None

    def __post_init__(self):
        check_seed(self.seed)
        require(0 < self.rate < 1, f"rate must lie in (0, 1), got {self.rate}")


def test_overrides_are_parsed_to_the_field_types():
    settings = apply_overrides(Settings(), {"seed": "3", "rate": "0.25", "verbose": "yes", "name": "y",
                                            "mode": "slow", "levels": "0.5, 0.75,0.99", "limit": "7"})
    assert settings == Settings(3, 0.25, True, "y", "slow", (0.5, 0.75, 0.99), 7)
    assert apply_overrides(Settings(limit=4), {"limit": "none"}).limit is None


@pytest.mark.parametrize("overrides, message", [
    ({"sed": "1"}, "unknown setting 'sed'"),
    ({"seed": "one"}, "expects an integer"),
    ({"rate": "fast"}, "expects a number"),
    ({"verbose": "maybe"}, "true or false"),
    ({"mode": "medium"}, "must be one of fast, slow"),
    ({"levels": "0.5,x"}, "expects a number"),
    ({"rate": "2"}, r"rate must lie in \(0, 1\)"),
    ({"seed": "-1"}, "seed must be an integer from 0 to"),
])
def test_bad_overrides_raise_one_clear_config_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(Settings(), overrides)


def test_assignments_need_an_equals_sign():
    assert parse_assignments(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["oops"])


def test_profiles_are_named_configs_recorded_in_the_config():
    import dataclasses
    from typing import ClassVar

    from replab.experiments.base import ExperimentConfig

    @dataclasses.dataclass(frozen=True)
    class Grid(ExperimentConfig):
        PROFILES: ClassVar[dict] = {"paper": {"n_seeds": 10}}
        n_seeds: int = 3

    paper = Grid.from_profile("paper")
    assert paper.n_seeds == 10 and paper.profile == "paper" and Grid.from_profile("default") == Grid()
    with pytest.raises(ConfigError, match="profile 'huge' is not defined"):
        Grid.from_profile("huge")
    assert Grid.from_dict(dataclasses.asdict(paper)) == paper
    from replab.experiments import config_class

    with pytest.raises(ConfigError, match="profile 'huge' is not defined for norms; profiles: default, paper"):
        config_class("norms").from_profile("huge")


def test_each_experiments_config_class_is_the_config_of_its_module():
    from replab.errors import UserError
    from replab.experiments import EXPERIMENTS, REGISTRY, config_class, load

    assert tuple(REGISTRY) == EXPERIMENTS
    for name in EXPERIMENTS:
        assert config_class(name) is load(name).Config, name
    with pytest.raises(UserError, match="unknown experiment 'nonsense'"):
        config_class("nonsense")


def test_names_the_tensorflow_free_configs_repeat_match_their_originals():
    from replab.data.synthetic import TARGETS
    from replab.experiments.bn.norms import config as norms_config
    from replab.experiments.bn.practice import config as bn_practice_config
    from replab.experiments.regression import config as regression_config
    from replab.experiments.spiral import config as spiral_config
    from replab.nn.conv import ARCHITECTURES
    from replab.nn.normalized_mlp import NORMS

    assert norms_config.NORMS == NORMS
    assert bn_practice_config.ARCHITECTURES == ARCHITECTURES
    assert spiral_config.PLAYGROUND_ACTIVATIONS == PLAYGROUND_ACTIVATIONS
    assert spiral_config.REGULARIZATIONS == REGULARIZATIONS
    assert tuple(regression_config.TARGET_LABELS) == tuple(TARGETS)
