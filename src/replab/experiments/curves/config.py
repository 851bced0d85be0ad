"""The ROC-vs-PR experiment's settings: importing them loads neither scikit-learn nor matplotlib, so
`replab config curves` answers at once."""

from __future__ import annotations

import math
from dataclasses import dataclass

from replab.errors import require
from replab.experiments.base import ExperimentConfig
from replab.settings import choice, each, integer, item_bounds, number

MODEL_LABELS = {
    "logistic": "logistic regression",
    "hist_gradient_boosting": "gradient boosting",
    "random_forest": "random forest",
}
MINIMUM_SAMPLES = 1000
MAXIMUM_SAMPLES = 1_000_000
MAXIMUM_SEEDS = 1000
MAXIMUM_CHANCE_DRAWS = 100_000
MINIMUM_POSITIVES = 2
"""Per split, at the rarest level: a stratified split needs at least two members of each class."""


def positives_at(n: int, negative_share: float) -> int:
    """Positives in a fixed-model test set of n points at this class ratio (at least one)."""
    return max(1, int(round(n * (1 - negative_share))))


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Settings of the ROC-vs-PR experiment: the synthetic data (samples, negative shares, label noise, test share),
    the models, the seeds, the no-skill chance draws and the tolerance that defines 'ROC-AUC barely moves'.

    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config curves` lists every field with its
    type, bounds, default, quick value and meaning.
    """
    n_samples: int = integer(5000, low=MINIMUM_SAMPLES, high=MAXIMUM_SAMPLES)
    negative_shares: tuple[float, ...] = each((0.5, 0.75, 0.9, 0.99), item_bounds("number", low=0.5, below=1),
                                              min_items=2, max_items=20, increasing=True)
    """Share of the negative (majority) class at each level, most balanced first; make_classification(weights=[share]).
    At least 0.5, so that the positive class is the minority."""
    flip_y: float = number(0.0, low=0, high=0.5)
    """Share of labels make_classification re-draws at random. scikit-learn's default is 0.01, but those random
    labels fall half on the positive class whatever the ratio, so at 99/1 they would make a third of all
    positives pure noise (prevalence 0.015, not 0.01) and the ROC-AUC drop would measure label noise, not
    imbalance. 0 keeps the class-conditional distributions identical across levels."""
    test_share: float = number(0.25, above=0, below=1)
    models: tuple[str, ...] = each(("logistic", "hist_gradient_boosting"), choice(None, MODEL_LABELS), unique=True)
    """Any of logistic, hist_gradient_boosting, random_forest (HistGradientBoosting is the faster on 2 cores)."""
    n_seeds: int = integer(10, low=2, high=MAXIMUM_SEEDS)
    """Repetitions; each draws a new dataset and split (shared by all levels of that repetition)."""
    n_chance_draws: int = integer(200, low=10, high=MAXIMUM_CHANCE_DRAWS)
    """Draws of uniformly random scores per level for the no-skill measurement."""
    pool_size: int = integer(20000, low=MINIMUM_SAMPLES, high=MAXIMUM_SAMPLES)
    """The fixed-model arm's held-out pool per seed (balanced): each class ratio's test set is resampled from it,
    with as many points as the retrained arm's test set."""
    roc_tolerance: float = number(0.05, above=0, below=1)
    """roc-stable's equivalence margin: ROC-AUC 'barely moves' if its change from the most balanced to the rarest
    level lies within ±roc_tolerance (tested by TOST over seeds)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_enough_positives()
        n_test = self.n_test
        largest = max(n_test - positives_at(n_test, share) for share in self.negative_shares)
        needed = math.ceil(1.1 * largest)  # 10% slack: with flip_y > 0 the pool's classes are balanced only roughly
        require(self.pool_size // 2 >= needed,
                f"pool_size={self.pool_size} is too small: the fixed-model arm resamples test sets of {n_test} points "
                f"from a balanced pool, so the pool needs about {needed} points of each class "
                f"(pool_size ≥ {2 * needed})")

    @property
    def n_test(self) -> int:
        """Test points per level: train_test_split rounds the test share up."""
        return math.ceil(self.n_samples * self.test_share)

    @property
    def n_train(self) -> int:
        return self.n_samples - self.n_test

    def _check_enough_positives(self) -> None:
        positives = self.n_samples * (1 - max(self.negative_shares))
        smaller_split = min(self.test_share, 1 - self.test_share)
        require(math.floor(positives * smaller_split) >= MINIMUM_POSITIVES,
                f"at negative share {max(self.negative_shares):g} with n_samples={self.n_samples} and "
                f"test_share={self.test_share:g} a split would hold fewer than {MINIMUM_POSITIVES} positives; "
                f"raise n_samples or lower the imbalance")

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_samples=1000, n_seeds=2, n_chance_draws=50, pool_size=2000, quick=True)
