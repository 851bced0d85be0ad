"""The settings of `bn-practice` (its Config): the ReLU MLP and CNN, their rate grid, training well.

Apart from the experiment so that `replab config bn-practice` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replab.errors import check_finite, check_positive_int, require
from replab.experiments.bn.study_config import DATASETS, QUICK, StudyConfig

ARCHITECTURES = ("mlp", "cnn")
"""replab.nn.conv.ARCHITECTURES, repeated so these settings load without TensorFlow (a test keeps them equal)."""


@dataclass(frozen=True)
class Config(StudyConfig):
    datasets: tuple[str, ...] = ("fashion-mnist",)
    """Fashion-MNIST, where practitioners' networks are not saturated at once (the paper profile adds MNIST)."""
    architectures: tuple[str, ...] = ARCHITECTURES
    hidden: tuple[int, ...] = (128, 128)
    """The ReLU MLP's hidden widths."""
    channels: tuple[int, ...] = (4, 8)
    """The CNN's convolution channels (each convolution is followed by 2×2 max pooling)."""
    learning_rates: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0)
    steps: int = 400
    record_every: int = 100
    n_seeds: int = 6
    """Seeds per cell. Six, because the largest good rate is read off a grid: when every seed gives the same
    ratio, an exact sign test needs at least six seeds to reach 95% (with three, unanimity has p = 0.25)."""
    validation_size: int = 5000
    """Training images held out (the last ones) to choose rates on; at most a fifth of the training set."""
    good_within: float = 0.02
    """A rate trains well for a seed if its final validation accuracy is within this of the seed's best rate."""
    bn_momentum: float = 0.9
    """Moving averages of BN's statistics, for inference (PyTorch's default, 0.1 in its convention)."""

    PROFILES = {"paper": dict(datasets=DATASETS, learning_rates=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
                              steps=3000, record_every=250, n_seeds=10, channels=(8, 16))}
    """'paper': both datasets, seven rates, 3,000 steps, 10 seeds, 8/16 channels. Measured on 2 quiet cores with
    `--set steps=300 --set record_every=150`: 7 of its 8 populations took 15 min 49 s (then stopped), so the
    profile takes hours (roughly 2–3, the CNN's convolutions dominating): meant for a GPU or the cluster, where each
    population is one unit."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.architectures) >= 1 and set(self.architectures) <= set(ARCHITECTURES)
                and len(set(self.architectures)) == len(self.architectures),
                f"architectures must list mlp and/or cnn once each, got {self.architectures}")
        require(len(self.channels) in (1, 2) and all(isinstance(c, int) and 1 <= c <= 256 for c in self.channels),
                f"channels must list one or two convolution widths from 1 to 256, got {self.channels}")
        rates = self.learning_rates
        require(len(rates) >= 2 and all(isinstance(r, (int, float)) and not isinstance(r, bool) and np.isfinite(r)
                                        and 0 < r <= 100 for r in rates) and list(rates) == sorted(set(rates))
                and len(rates) <= 12,
                f"learning_rates must list two to twelve increasing rates in (0, 100], got {rates}")
        check_positive_int("validation_size", self.validation_size, minimum=100, maximum=20_000)
        check_finite("good_within", self.good_within, 0, 1)
        check_finite("bn_momentum", self.bn_momentum, 0, 0.9999)

    @classmethod
    def quick(cls) -> "Config":
        return cls(**{**QUICK, "steps": 120, "record_every": 60}, learning_rates=(0.1, 1.0),
                   validation_size=500)
