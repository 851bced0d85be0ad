"""The settings of `bn-smoothness` (its Config): the step sizes along the gradient and the probe batch of the landscape.

Apart from the experiment so that `replab config bn-smoothness` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replab.experiments.bn.config import QUICK, StudyConfig
from replab.settings import each, integer, item_bounds


@dataclass(frozen=True)
class Config(StudyConfig):
    hidden: tuple[int, ...] = (100, 100, 100)
    learning_rate: float = 0.1
    """One rate for both networks, one where the ReLU MLP trains well without BN (as in Santurkar et al.)."""
    steps: int = 1500
    record_every: int = 300
    n_seeds: int = 5
    eta_factors: tuple[float, ...] = each((0.25, 0.5, 1.0, 2.0, 4.0), item_bounds("number", above=0, high=100),
                                          max_items=12, increasing=True)
    """Step sizes along the gradient, as multiples of the learning rate."""
    probe_size: int = integer(256, low=2, high=10_000)
    """Training images of the fixed probe batch on which the landscape is measured."""
    bn_momentum: float = 0.9

    PROFILES = {"paper": dict(steps=6000, record_every=500, n_seeds=10,
                              eta_factors=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0))}
    """'paper': 6,000 steps, 10 seeds, six step sizes along the gradient."""

    @classmethod
    def quick(cls) -> "Config":
        return cls(**{**QUICK, "steps": 200, "record_every": 100}, probe_size=64, eta_factors=(0.5, 2.0))

    @property
    def etas(self) -> np.ndarray:
        return self.learning_rate * np.asarray(self.eta_factors, float)
