"""The settings of `regression` (its Config): targets, noise levels, the two architectures, data sizes, training.

Apart from the experiment so that `replab config regression` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from replab.errors import require
from replab.experiments.base import ExperimentConfig
from replab.seeds import SEEDS_PER_SET
from replab.settings import choice, each, integer, item_bounds, number

TARGET_LABELS = {"line": "y = 3x", "sine": "y = sin 3x"}
"""The targets of replab.data.synthetic.TARGETS by name, with their labels; named here so the settings load without
scikit-learn (a test keeps the two in step)."""
MAX_WIDTH = 4096
MAX_LAYERS = 16
MAX_NOISE_LEVELS = 20
MAX_POINTS = 1_000_000
MAX_EPOCHS = 1_000_000
OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Settings of the regression experiment: the target functions, noise levels, the two architectures, data sizes,
    the optimizer, epochs, weight initialisation and seeds, and the bounds behind 'close to the noise floor' and
    'converged'.

    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config regression` lists every field with
    its type, bounds, default, quick value and meaning.
    """
    targets: tuple[str, ...] = each(("line", "sine"), choice(None, TARGET_LABELS), max_items=len(TARGET_LABELS),
                                    unique=True)
    """Any of line (y = 3x, the seed's) and sine (y = sin 3x)."""
    noise_stds: tuple[float, ...] = each((0.1, 0.3, 0.5), item_bounds("number", above=0), max_items=MAX_NOISE_LEVELS,
                                         increasing=True)
    shallow_hidden: tuple[int, ...] = each((10,), item_bounds("integer", low=1, high=MAX_WIDTH), max_items=MAX_LAYERS)
    deep_hidden: tuple[int, ...] = each((10, 10), item_bounds("integer", low=1, high=MAX_WIDTH), max_items=MAX_LAYERS)
    n_train: int = integer(100, low=2, high=MAX_POINTS)
    n_test: int = integer(1000, low=2, high=MAX_POINTS)
    optimizer: Literal["adam", "sgd"] = choice("adam", OPTIMIZERS)
    """Full-batch Adam reaches a converged loss within the budget; the seed's plain gradient descent at lr 0.01 for
    1000 epochs had not (its train loss still fell by 1–3% over the last tenth on sin 3x)."""
    learning_rate: float = number(0.01, above=0, below=10)
    epochs: int = integer(5000, low=10, high=MAX_EPOCHS)
    n_seeds: int = integer(30, low=2, high=SEEDS_PER_SET)
    weight_init: Literal["glorot_uniform", "glorot_normal", "he_normal"] = "glorot_uniform"
    record_every: int = integer(50)
    close_factor: float = number(1.5, above=1)
    """'Close to the noise floor' means excess risk + σ² (the expected test MSE on fresh noisy targets) below
    close_factor × σ², i.e. excess risk below (close_factor − 1)·σ² (a one-sample test over seeds)."""
    converged_change: float = number(0.01, above=0, below=1)
    """'Converged' means the train loss changes by less than this fraction over the last 10% of epochs
    (a one-sample test over the networks of each architecture)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.record_every <= self.epochs, f"record_every ({self.record_every}) exceeds epochs ({self.epochs})")

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_test=200, epochs=300, n_seeds=3, record_every=10, quick=True)

    def layer_sizes(self, model: str) -> list[int]:
        hidden = self.shallow_hidden if model == "shallow" else self.deep_hidden
        return [1, *hidden, 1]
