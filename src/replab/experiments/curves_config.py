"""The ROC-vs-PR experiment's settings: importing them loads neither scikit-learn nor matplotlib, so
`replab config curves` answers at once."""

from __future__ import annotations

import math
from dataclasses import dataclass

from replab.errors import check_finite, check_positive_int, require
from replab.experiments.base import ExperimentConfig

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


# --- configuration --------------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Settings of the ROC-vs-PR experiment: the synthetic data (samples, negative shares, label noise, test share),
    the models, the seeds, the no-skill chance draws and the tolerance that defines 'ROC-AUC barely moves'.

    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config curves` lists every field with its
    type, default, quick value and meaning.
    """
    n_samples: int = 5000
    negative_shares: tuple[float, ...] = (0.5, 0.75, 0.9, 0.99)
    """Share of the negative (majority) class at each level; make_classification(weights=[share])."""
    flip_y: float = 0.0
    """Share of labels make_classification re-draws at random. scikit-learn's default is 0.01, but those random
    labels fall half on the positive class whatever the ratio, so at 99/1 they would make a third of all
    positives pure noise (prevalence 0.015, not 0.01) and the ROC-AUC drop would measure label noise, not
    imbalance. 0 keeps the class-conditional distributions identical across levels."""
    test_share: float = 0.25
    models: tuple[str, ...] = ("logistic", "hist_gradient_boosting")
    """Any of logistic, hist_gradient_boosting, random_forest (HistGradientBoosting is the faster on 2 cores)."""
    n_seeds: int = 10
    """Repetitions; each draws a new dataset and split (shared by all levels of that repetition)."""
    n_chance_draws: int = 200
    """Draws of uniformly random scores per level for the no-skill measurement."""
    pool_size: int = 20000
    """The fixed-model arm's held-out pool per seed (balanced): each class ratio's test set is resampled from it,
    with as many points as the retrained arm's test set."""
    roc_tolerance: float = 0.05
    """roc-stable's equivalence margin: ROC-AUC 'barely moves' if its change from the most balanced to the rarest
    level lies within ±roc_tolerance (tested by TOST over seeds)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_int("n_samples", self.n_samples, minimum=MINIMUM_SAMPLES, maximum=MAXIMUM_SAMPLES)
        check_positive_int("n_seeds", self.n_seeds, minimum=2, maximum=MAXIMUM_SEEDS)
        check_positive_int("n_chance_draws", self.n_chance_draws, minimum=10, maximum=MAXIMUM_CHANCE_DRAWS)
        self._check_shares()
        require(_is_number(self.flip_y) and 0 <= self.flip_y <= 0.5,
                f"flip_y must be a number between 0 and 0.5, got {self.flip_y!r}")
        require(_is_number(self.test_share) and 0 < self.test_share < 1,
                f"test_share must be a number strictly between 0 and 1, got {self.test_share!r}")
        check_finite("roc_tolerance", self.roc_tolerance)
        require(0 < self.roc_tolerance < 1, f"roc_tolerance must be a positive number below 1, got {self.roc_tolerance!r}")
        require(isinstance(self.models, tuple) and len(self.models) > 0,
                f"models must list at least one of {', '.join(MODEL_LABELS)}")
        for model in self.models:
            require(model in MODEL_LABELS, f"unknown model {model!r}; choose from {', '.join(MODEL_LABELS)}")
        require(len(set(self.models)) == len(self.models), f"models lists a model twice: {', '.join(self.models)}")
        self._check_enough_positives()
        check_positive_int("pool_size", self.pool_size, minimum=MINIMUM_SAMPLES, maximum=MAXIMUM_SAMPLES)
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

    def _check_shares(self) -> None:
        shares = self.negative_shares
        require(isinstance(shares, tuple) and 2 <= len(shares) <= 20,
                f"negative_shares must list at least two (and at most twenty) class ratios, e.g. 0.5,0.9, got {shares!r}")
        for share in shares:
            require(_is_number(share) and 0 < share < 1,
                    f"each of negative_shares must lie strictly between 0 and 1 (the negative class's share), "
                    f"got {share!r}")
            require(share >= 0.5,
                    f"each of negative_shares must be at least 0.5 so that the positive class is the minority, "
                    f"got {share!r}")
        require(all(a < b for a, b in zip(shares, shares[1:])),
                f"negative_shares must be strictly increasing (most balanced first), got {shares!r}")

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
