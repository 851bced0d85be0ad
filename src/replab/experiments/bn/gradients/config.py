"""The settings of `bn-gradients` (its Config): the probe batch for layer Jacobians and what 'close to 1' means.

Apart from the experiment so that `replab config bn-gradients` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.errors import require
from replab.experiments.bn.config import QUICK, StudyConfig
from replab.settings import integer, number


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 3: the probe batch on which layer Jacobians and backpropagated gradients are measured,
    and what 'close to 1' and 'nearly all singular values' mean. Shared study settings (datasets, network, steps,
    seeds) come from `StudyConfig`. The defaults reproduce the full experiment; `Config.quick()` is a smoke
    test (marked quick in its results), `Config.from_dict(json)` replays a saved config.json, and `replab config
    bn-gradients` lists every field with its type, bounds, default, quick value and meaning.
    """
    steps: int = 3000
    record_every: int = 300
    probe_size: int = integer(60, low=2, high=1000)
    """Training images in the fixed probe batch; BN's frozen statistics are this batch's, so it defaults to the
    training batch size."""
    close_factor: float = number(2.0, above=1, high=100)
    """'Close to 1' means within this factor of 1, i.e. in [1/close_factor, close_factor]."""
    isometry_fraction: float = number(0.9, above=0.5, below=1)
    """The strict form J Jᵀ ≈ I: the fraction of singular values close to 1 that 'nearly all' is tested against."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.hidden) >= 2, f"hidden must list at least two layers, so some Jacobian joins two hidden "
                                       f"layers; got {self.hidden}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK, probe_size=30)
