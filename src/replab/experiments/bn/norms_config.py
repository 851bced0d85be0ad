"""The settings of `norms` (its Config): the normalisation kinds, their learning rates, ties and step timing.

Apart from the experiment so that `replab config norms` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from replab.errors import check_finite, check_positive_int, require
from replab.experiments.bn.study_config import MAX_WIDTH, QUICK, StudyConfig

if TYPE_CHECKING:
    from replab.nn.normalized_mlp import Options

NORMS = ("none", "batch", "renorm", "layer", "rms", "weight", "group")
"""replab.nn.normalized_mlp.NORMS, repeated so these settings load without TensorFlow (a test keeps them equal)."""


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 5: the normalisation kinds compared (none, BatchNorm, Batch Renorm, LayerNorm, RMSNorm,
    WeightNorm, GroupNorm), GroupNorm's groups, Batch Renorm's ramp, what counts as a tie and the step-time
    measurement. Shared study settings (datasets, network, steps, seeds) come from `StudyConfig`. The
    defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config norms` lists every field with its
    type, default, quick value and meaning.
    """
    kinds: tuple[str, ...] = NORMS
    learning_rates: tuple[float, ...] = (0.2, 0.5, 1.5)
    """Every kind trains at each rate; each is then judged at its own best rate, chosen on held-out training
    images (validation_size), never on the test images."""
    validation_size: int = 5000
    """Training images held out (the last ones, at most a fifth of the training set) to choose each kind's rate."""
    steps: int = 1200
    record_every: int = 100
    n_seeds: int = 5
    groups: int = 4
    """GroupNorm: the hidden units split into this many contiguous groups (it must divide every hidden width)."""
    renorm_ramp_fraction: float = 0.25
    """Batch Renorm relaxes its r, d limits from plain BN to (3, 5) over this fraction of the steps."""
    target_within: float = 0.02
    """Steps to target: the first record point where a kind's mean accuracy reaches (best final − target_within)."""
    tie_within: float = 0.005
    """Accuracy differences smaller than this are ties: a gain below it is negligible, a shortfall below it a match
    (the claims' equivalence and non-inferiority margin)."""
    timing_steps: int = 200
    """Steps per timing burst (one kind, n_seeds networks, after compiling)."""
    timing_rounds: int = 5
    """Timing bursts per kind, the kinds taking turns; a kind's time per step is its median burst."""

    PROFILES = {"paper": dict(learning_rates=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0), steps=3000, record_every=150,
                              n_seeds=10)}
    """'paper': six rates × 3,000 steps × 10 seeds. Measured on 2 quiet cores with `--set steps=300`: 164 s, of
    which 104 s training, so the profile takes about 18 minutes (training ×10, the rest unchanged)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.kinds) >= 2 and set(self.kinds) <= set(NORMS) and len(set(self.kinds)) == len(self.kinds)
                and "none" in self.kinds,
                f"kinds must list 'none' and at least one of {', '.join(NORMS[1:])}, each once, got {self.kinds}")
        check_positive_int("groups", self.groups, maximum=MAX_WIDTH)
        require("group" not in self.kinds or all(width % self.groups == 0 for width in self.hidden),
                f"groups ({self.groups}) must divide every hidden width {self.hidden}")
        check_finite("renorm_ramp_fraction", self.renorm_ramp_fraction, 0, 1)
        check_finite("target_within", self.target_within)
        require(0 < self.target_within < 1, f"target_within must lie in (0, 1), got {self.target_within}")
        check_finite("tie_within", self.tie_within)
        require(0 < self.tie_within < 1, f"tie_within must lie in (0, 1), got {self.tie_within}")
        check_positive_int("timing_steps", self.timing_steps, minimum=10, maximum=100_000)
        check_positive_int("timing_rounds", self.timing_rounds, maximum=100)
        rates = self.learning_rates
        require(1 <= len(rates) <= 10 and all(isinstance(r, (int, float)) and not isinstance(r, bool)
                                               and np.isfinite(r) and 0 < r <= 100 for r in rates)
                and list(rates) == sorted(set(rates)),
                f"learning_rates must list one to ten increasing rates in (0, 100], got {rates}")
        check_positive_int("validation_size", self.validation_size, minimum=100, maximum=20_000)

    @classmethod
    def quick(cls) -> "Config":
        """Three kinds only: every timing run compiles its own training loop, and compiling dominates a quick run."""
        return cls(**QUICK, kinds=("none", "batch", "layer"), timing_steps=50,
                   timing_rounds=3, learning_rates=(0.5, 1.5), validation_size=500)

    @property
    def options(self) -> Options:
        from replab.nn.normalized_mlp import Options  # here, not at the top: the settings load without TensorFlow

        return Options(groups=self.groups, renorm_ramp_steps=max(1, round(self.renorm_ramp_fraction * self.steps)))
