"""The settings of `norms` (its Config): the normalisation kinds, their learning rates, ties and step timing.

Apart from the experiment so that `replab config norms` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from replab.errors import require
from replab.experiments.bn.config import MAX_WIDTH, QUICK, StudyConfig
from replab.settings import choice, each, integer, item_bounds, number

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
    type, bounds, default, quick value and meaning.
    """
    kinds: tuple[str, ...] = each(NORMS, choice(None, NORMS), min_items=2, unique=True,
                                  including=("none", "the baseline every kind is compared with"))
    learning_rates: tuple[float, ...] = each((0.2, 0.5, 1.5), item_bounds("number", above=0, high=100), max_items=10,
                                             increasing=True)
    """Every kind trains at each rate; each is then judged at its own best rate, chosen on held-out training
    images (validation_size), never on the test images."""
    validation_size: int = integer(5000, low=100, high=20_000)
    """Training images held out (the last ones, at most a fifth of the training set) to choose each kind's rate."""
    steps: int = 1200
    record_every: int = 100
    n_seeds: int = 5
    groups: int = integer(4, high=MAX_WIDTH)
    """GroupNorm: the hidden units split into this many contiguous groups (it must divide every hidden width)."""
    renorm_ramp_fraction: float = number(0.25, low=0, high=1)
    """Batch Renorm relaxes its r, d limits from plain BN to (3, 5) over this fraction of the steps."""
    target_within: float = number(0.02, above=0, below=1)
    """Steps to target: the first record point where a kind's mean accuracy reaches (best final − target_within)."""
    tie_within: float = number(0.005, above=0, below=1)
    """Accuracy differences smaller than this are ties: a gain below it is negligible, a shortfall below it a match
    (the claims' equivalence and non-inferiority margin)."""
    timing_steps: int = integer(200, low=10, high=100_000)
    """Steps per timing burst (one kind, n_seeds networks, after compiling)."""
    timing_rounds: int = integer(5, high=100)
    """Timing bursts per kind, the kinds taking turns; a kind's time per step is its median burst."""

    PROFILES = {"paper": dict(learning_rates=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0), steps=3000, record_every=150,
                              n_seeds=10)}
    """'paper': six rates × 3,000 steps × 10 seeds."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require("group" not in self.kinds or all(width % self.groups == 0 for width in self.hidden),
                f"groups ({self.groups}) must divide every hidden width {self.hidden}")

    @classmethod
    def quick(cls) -> "Config":
        """Three kinds only: every timing run compiles its own training loop, and compiling dominates a quick run."""
        return cls(**QUICK, kinds=("none", "batch", "layer"), timing_steps=50,
                   timing_rounds=3, learning_rates=(0.5, 1.5), validation_size=500)

    @property
    def options(self) -> Options:
        from replab.nn.normalized_mlp import Options  # here, not at the top: the settings load without TensorFlow

        return Options(groups=self.groups, renorm_ramp_steps=max(1, round(self.renorm_ramp_fraction * self.steps)))
