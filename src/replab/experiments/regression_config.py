"""The settings of `regression` (its Config): targets, noise levels, the two architectures, data sizes, training.

Apart from the experiment so that `replab config regression` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from replab.errors import check_finite, check_positive_int, require
from replab.experiments.base import ExperimentConfig
from replab.seeds import SEEDS_PER_SET

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
    its type, default, quick value and meaning.
    """
    targets: tuple[str, ...] = ("line", "sine")
    """Any of line (y = 3x, the seed's) and sine (y = sin 3x)."""
    noise_stds: tuple[float, ...] = (0.1, 0.3, 0.5)
    shallow_hidden: tuple[int, ...] = (10,)
    deep_hidden: tuple[int, ...] = (10, 10)
    n_train: int = 100
    n_test: int = 1000
    optimizer: Literal["adam", "sgd"] = "adam"
    """Full-batch Adam reaches a converged loss within the budget; the seed's plain gradient descent at lr 0.01 for
    1000 epochs had not (its train loss still fell by 1–3% over the last tenth on sin 3x)."""
    learning_rate: float = 0.01
    epochs: int = 5000
    n_seeds: int = 30
    weight_init: Literal["glorot_uniform", "glorot_normal", "he_normal"] = "glorot_uniform"
    record_every: int = 50
    close_factor: float = 1.5
    """'Close to the noise floor' means excess risk + σ² (the expected test MSE on fresh noisy targets) below
    close_factor × σ², i.e. excess risk below (close_factor − 1)·σ² (a one-sample test over seeds)."""
    converged_change: float = 0.01
    """'Converged' means the train loss changes by less than this fraction over the last 10% of epochs
    (a one-sample test over the networks of each architecture)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(isinstance(self.targets, tuple) and 1 <= len(self.targets) <= len(TARGET_LABELS),
                f"targets must list one or more of {', '.join(TARGET_LABELS)}, got {self.targets!r}")
        for target in self.targets:
            require(target in TARGET_LABELS, f"unknown target {target!r}; choose from {', '.join(TARGET_LABELS)}")
        require(len(set(self.targets)) == len(self.targets), f"targets lists a target twice: {self.targets}")
        require(isinstance(self.noise_stds, tuple) and 1 <= len(self.noise_stds) <= MAX_NOISE_LEVELS,
                f"noise_stds must list 1 to {MAX_NOISE_LEVELS} noise levels, got {self.noise_stds!r}")
        for noise in self.noise_stds:
            check_finite("each of noise_stds", noise)
        require(all(s > 0 for s in self.noise_stds),
                f"noise_stds must be one or more positive numbers, got {self.noise_stds}")
        require(list(self.noise_stds) == sorted(set(self.noise_stds)),
                f"noise_stds must be strictly increasing, got {self.noise_stds}")
        for name in ("shallow_hidden", "deep_hidden"):
            widths = getattr(self, name)
            require(isinstance(widths, tuple) and 1 <= len(widths) <= MAX_LAYERS,
                    f"{name} must list 1 to {MAX_LAYERS} positive layer widths, got {widths}")
            for width in widths:
                check_positive_int(f"each width of {name}", width, maximum=MAX_WIDTH)
        check_positive_int("n_train", self.n_train, minimum=2, maximum=MAX_POINTS)
        check_positive_int("n_test", self.n_test, minimum=2, maximum=MAX_POINTS)
        check_positive_int("epochs", self.epochs, minimum=10, maximum=MAX_EPOCHS)
        check_positive_int("n_seeds", self.n_seeds, minimum=2, maximum=SEEDS_PER_SET)
        check_positive_int("record_every", self.record_every)
        require(self.record_every <= self.epochs, f"record_every ({self.record_every}) exceeds epochs ({self.epochs})")
        require(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        check_finite("learning_rate", self.learning_rate)
        require(0 < self.learning_rate < 10, f"learning_rate must lie in (0, 10), got {self.learning_rate}")
        check_finite("close_factor", self.close_factor)
        require(self.close_factor > 1, f"close_factor must exceed 1, got {self.close_factor}")
        check_finite("converged_change", self.converged_change)
        require(0 < self.converged_change < 1, f"converged_change must lie in (0, 1), got {self.converged_change}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_test=200, epochs=300, n_seeds=3, record_every=10, quick=True)

    def layer_sizes(self, model: str) -> list[int]:
        hidden = self.shallow_hidden if model == "shallow" else self.deep_hidden
        return [1, *hidden, 1]
