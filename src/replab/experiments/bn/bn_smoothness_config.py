"""The settings of `bn-smoothness` (its Config): the step sizes along the gradient and the probe batch of the landscape.

Apart from the experiment so that `replab config bn-smoothness` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replab.errors import check_positive_int, require
from replab.experiments.bn.study_config import QUICK, StudyConfig


@dataclass(frozen=True)
class Config(StudyConfig):
    hidden: tuple[int, ...] = (100, 100, 100)
    learning_rate: float = 0.1
    """One rate for both networks, one where the ReLU MLP trains well without BN (as in Santurkar et al.)."""
    steps: int = 1500
    record_every: int = 300
    n_seeds: int = 5
    eta_factors: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    """Step sizes along the gradient, as multiples of the learning rate."""
    probe_size: int = 256
    """Training images of the fixed probe batch on which the landscape is measured."""
    bn_momentum: float = 0.9

    PROFILES = {"paper": dict(steps=6000, record_every=500, n_seeds=10,
                              eta_factors=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0))}
    """'paper': 6,000 steps, 10 seeds, six step sizes along the gradient; measured in full on 2 quiet cores: 56 s."""

    def __post_init__(self) -> None:
        super().__post_init__()
        factors = self.eta_factors
        require(1 <= len(factors) <= 12 and all(isinstance(f, (int, float)) and not isinstance(f, bool)
                                                 and np.isfinite(f) and 0 < f <= 100 for f in factors)
                and list(factors) == sorted(set(factors)),
                f"eta_factors must list one to twelve increasing step factors in (0, 100], got {factors}")
        check_positive_int("probe_size", self.probe_size, minimum=2, maximum=10_000)

    @classmethod
    def quick(cls) -> "Config":
        return cls(**{**QUICK, "steps": 200, "record_every": 100}, probe_size=64, eta_factors=(0.5, 2.0))

    @property
    def etas(self) -> np.ndarray:
        return self.learning_rate * np.asarray(self.eta_factors, float)
