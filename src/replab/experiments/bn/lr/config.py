"""The settings of `bn-lr` (its Config): the learning-rate grid and what counts as training well.

Apart from the experiment so that `replab config bn-lr` reads them without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.experiments.bn.config import QUICK, StudyConfig
from replab.settings import each, item_bounds, number


@dataclass(frozen=True)
class Config(StudyConfig):
    """Settings of BN study 1: the learning-rate grid, what counts as training well (final accuracy within
    `good_within` of the seed's best rate) and the target behind steps-to-target. Shared study settings
    (datasets, network, steps, seeds) come from `StudyConfig`. The defaults reproduce the full experiment;
    `Config.quick()` is a smoke test (marked quick in its results), `Config.from_dict(json)` replays a saved
    config.json, and `replab config bn-lr` lists every field with its type, bounds, default, quick value and meaning.
    """
    learning_rates: tuple[float, ...] = each((0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
                                             item_bounds("number", above=0, high=100), min_items=2, max_items=32,
                                             increasing=True)
    steps: int = 2000
    record_every: int = 100
    n_seeds: int = 6
    """Seeds per cell. Six, because the largest good rate is read off a grid: when every seed gives the same
    ratio, an exact sign test needs at least six seeds to reach 95% (with three, unanimity has p = 0.25)."""
    good_within: float = number(0.02, above=0, below=1)
    """A rate 'trains well' for a seed if it did not diverge and its final test accuracy is within this of that
    seed's best rate (the table and figure use the same rule on the means over seeds)."""
    target_within: float = number(0.05, above=0, below=1)
    """Steps to target: the first record point where a cell's accuracy reaches (best final mean − target_within)."""

    @classmethod
    def quick(cls) -> "Config":
        return cls(**QUICK, learning_rates=(0.1, 1.0, 10.0, 30.0))
