"""The settings of `bn-init` (its Config): the initial-scale multipliers and the probe for §3.3's scale identity.

Apart from the experiment so that `replab config bn-init` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.errors import require
from replab.experiments.bn.config import QUICK, StudyConfig
from replab.settings import each, integer, item_bounds, number


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 2: the multipliers of the initial weights' std, and the probe batch and tolerance for
    §3.3's scale identity. Shared study settings (datasets, network, steps, seeds) come from `StudyConfig`.
    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config bn-init` lists every field with its
    type, bounds, default, quick value and meaning.
    """
    scales: tuple[float, ...] = each((0.01, 0.1, 1.0, 10.0), item_bounds("number", above=0), min_items=2, max_items=16,
                                     increasing=True, including=(1.0, "the default std"))
    """Multipliers of weight_std (the default std 0.1, so stds 0.001 … 1)."""
    steps: int = 2000
    record_every: int = 100
    invariance_tolerance: float = number(0.01, above=0, below=1)
    """BN((aW)u) = BN(Wu) counts as holding at a scale if the relative difference is below this."""
    probe_size: int = integer(60, low=2, high=10_000)
    """Training images in the probe batch for the measurements at initialisation."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(all(self.weight_std * s <= 10 for s in self.scales),
                f"weight_std × the largest scale must stay at most 10, got {self.weight_std * max(self.scales):g}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK)
