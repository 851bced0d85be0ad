"""The settings of `bn-practice` (its Config): the ReLU MLP and CNN, their rate grid, training well.

Apart from the experiment so that `replab config bn-practice` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.experiments.bn.config import DATASETS, QUICK, StudyConfig
from replab.settings import choice, each, integer, item_bounds, number

ARCHITECTURES = ("mlp", "cnn")
"""replab.nn.conv.ARCHITECTURES, repeated so these settings load without TensorFlow (a test keeps them equal)."""


@dataclass(frozen=True)
class Config(StudyConfig):
    datasets: tuple[str, ...] = ("fashion-mnist",)
    """Fashion-MNIST, where practitioners' networks are not saturated at once (the paper profile adds MNIST)."""
    architectures: tuple[str, ...] = each(ARCHITECTURES, choice(None, ARCHITECTURES), unique=True)
    hidden: tuple[int, ...] = (128, 128)
    """The ReLU MLP's hidden widths."""
    channels: tuple[int, ...] = each((4, 8), item_bounds("integer", low=1, high=256), max_items=2)
    """The CNN's convolution channels (each convolution is followed by 2×2 max pooling)."""
    learning_rates: tuple[float, ...] = each((0.03, 0.1, 0.3, 1.0, 3.0), item_bounds("number", above=0, high=100),
                                             min_items=2, max_items=12, increasing=True)
    steps: int = 400
    record_every: int = 100
    n_seeds: int = 6
    """Seeds per cell. Six, because the largest good rate is read off a grid: when every seed gives the same
    ratio, an exact sign test needs at least six seeds to reach 95% (with three, unanimity has p = 0.25)."""
    validation_size: int = integer(5000, low=100, high=20_000)
    """Training images held out (the last ones) to choose rates on; at most a fifth of the training set."""
    good_within: float = number(0.02, low=0, high=1)
    """A rate trains well for a seed if its final validation accuracy is within this of the seed's best rate."""
    bn_momentum: float = number(0.9, low=0, high=0.9999)
    """Moving averages of BN's statistics, for inference (PyTorch's default, 0.1 in its convention)."""

    PROFILES = {"paper": dict(datasets=DATASETS, learning_rates=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
                              steps=3000, record_every=250, n_seeds=10, channels=(8, 16))}
    """'paper': both datasets, seven rates, 3,000 steps, 10 seeds, 8/16 channels. It trains for hours on a CPU (the
    CNN's convolutions dominating): meant for a GPU or the cluster, where each population is one unit."""

    @classmethod
    def quick(cls) -> "Config":
        return cls(**{**QUICK, "steps": 120, "record_every": 60}, learning_rates=(0.1, 1.0),
                   validation_size=500)
