"""The settings of `bn-init` (its Config): the initial-scale multipliers and the probe for §3.3's scale identity.

Apart from the experiment so that `replab config bn-init` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replab.errors import check_finite, require
from replab.experiments.bn.study_config import QUICK, StudyConfig


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 2: the multipliers of the initial weights' std, and the probe batch and tolerance for
    §3.3's scale identity. Shared study settings (datasets, network, steps, seeds) come from `StudyConfig`.
    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config bn-init` lists every field with its
    type, default, quick value and meaning.
    """
    scales: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
    """Multipliers of weight_std (the default std 0.1, so stds 0.001 … 1)."""
    steps: int = 2000
    record_every: int = 100
    invariance_tolerance: float = 0.01
    """BN((aW)u) = BN(Wu) counts as holding at a scale if the relative difference is below this."""
    probe_size: int = 60
    """Training images in the probe batch for the measurements at initialisation."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(2 <= len(self.scales) <= 16 and all(isinstance(s, (int, float)) and np.isfinite(s) and s > 0
                                                    for s in self.scales)
                and list(self.scales) == sorted(set(self.scales)),
                f"scales must be two to 16 increasing positive multipliers, got {self.scales}")
        require(1.0 in self.scales, f"scales must include 1 (the default std), got {self.scales}")
        require(all(self.weight_std * s <= 10 for s in self.scales),
                f"weight_std × the largest scale must stay at most 10, got {self.weight_std * max(self.scales):g}")
        check_finite("invariance_tolerance", self.invariance_tolerance)
        require(0 < self.invariance_tolerance < 1, f"invariance_tolerance must lie in (0, 1), got {self.invariance_tolerance}")
        require(isinstance(self.probe_size, int) and 2 <= self.probe_size <= 10_000,
                f"probe_size must be an integer from 2 to 10,000, got {self.probe_size}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK)
