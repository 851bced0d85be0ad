"""The settings of `bn-ics` (its Config): the injected shift and scale and the probe on which the shift is measured.

Apart from the experiment so that `replab config bn-ics` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from replab.errors import require
from replab.experiments.bn.config import QUICK, StudyConfig
from replab.settings import integer, number

if TYPE_CHECKING:
    from replab.nn.normalized_mlp import Options


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 6: the injected per-unit shift and scale (redrawn every step) after each BN layer, the
    probe on which the shift is measured, and the fraction of BN's gain noisy BN must keep. Shared study settings
    (datasets, network, steps, seeds) come from `StudyConfig`. The defaults reproduce the full experiment;
    `Config.quick()` is a smoke test (marked quick in its results), `Config.from_dict(json)` replays a saved
    config.json, and `replab config bn-ics` lists every field with its type, bounds, default, quick value and
    meaning.
    """
    learning_rate: float = 0.1
    """A rate where BN clearly speeds training up on both datasets (a probe at 2,000 steps: MNIST ~0.81 without,
    ~0.88 with BN; Fashion-MNIST ~0.71 against ~0.84); at 0.5 the two end up close on this MNIST."""
    steps: int = 2000
    record_every: int = 100
    n_seeds: int = 5
    shift_range: float = number(1.0, above=0, high=100)
    """Injected shift per unit and step: uniform in [−shift_range, shift_range]."""
    scale_range: float = number(2.0, above=1, high=100)
    """Injected scale per unit and step: log-uniform in [1/scale_range, scale_range]."""
    probe_size: int = integer(1000, low=2, high=60_000)
    """Training images over which the sigmoid inputs' per-unit mean and std are measured (the first ones)."""
    probe_unit: int = integer(0, low=0)
    """The last hidden layer's unit drawn in the layer-input figure."""
    keep_fraction: float = number(0.5, above=0, high=1)
    """Noisy BN keeps BN's benefit if its gain over no normalisation is significantly more than this fraction of
    BN's gain (paired over seeds)."""
    target_within: float = number(0.02, above=0, below=1)
    """Steps to target: the first record point where a cell's mean accuracy reaches (best final − target_within)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        # n_seeds is a StudyConfig field, bounded there; this study's own floor for it stays here
        require(self.n_seeds >= 2, f"n_seeds must be at least 2 to judge differences between cells, got {self.n_seeds}")
        require(self.probe_unit < self.hidden[-1],
                f"probe_unit must be a unit of the last hidden layer (0 to {self.hidden[-1] - 1}), got {self.probe_unit}")
        require(self.steps // self.record_every >= 2,
                f"record_every ({self.record_every}) must leave at least two record points in {self.steps} steps, "
                "to see the distribution move")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK, probe_size=500)

    @property
    def options(self) -> Options:
        from replab.nn.normalized_mlp import Options  # here, not at the top: the settings load without TensorFlow

        return Options(shift_range=self.shift_range, scale_range=self.scale_range)
