"""The settings of `bn-gradients` (its Config): the probe batch for layer Jacobians and what 'close to 1' means.

Apart from the experiment so that `replab config bn-gradients` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.errors import check_finite, check_positive_int, require
from replab.experiments.bn.study_config import QUICK, StudyConfig


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 3: the probe batch on which layer Jacobians and backpropagated gradients are measured,
    and what 'close to 1' and 'nearly all singular values' mean. Shared study settings (datasets, network, steps,
    seeds) come from `StudyConfig`. The defaults reproduce the full experiment; `Config.quick()` is a smoke
    test (marked quick in its results), `Config.from_dict(json)` replays a saved config.json, and `replab config
    bn-gradients` lists every field with its type, default, quick value and meaning.
    """
    steps: int = 3000
    record_every: int = 300
    probe_size: int = 60
    """Training images in the fixed probe batch; BN's frozen statistics are this batch's, so it defaults to the
    training batch size."""
    close_factor: float = 2.0
    """'Close to 1' means within this factor of 1, i.e. in [1/close_factor, close_factor]."""
    isometry_fraction: float = 0.9
    """The strict form J Jᵀ ≈ I: the fraction of singular values close to 1 that 'nearly all' is tested against."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.hidden) >= 2, f"hidden must list at least two layers, so some Jacobian joins two hidden "
                                       f"layers; got {self.hidden}")
        check_positive_int("probe_size", self.probe_size, minimum=2, maximum=1000)
        check_finite("close_factor", self.close_factor)
        require(1 < self.close_factor <= 100, f"close_factor must lie in (1, 100], got {self.close_factor}")
        check_finite("isometry_fraction", self.isometry_fraction)
        require(0.5 < self.isometry_fraction < 1,
                f"isometry_fraction must lie in (0.5, 1), got {self.isometry_fraction}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK, probe_size=30)
