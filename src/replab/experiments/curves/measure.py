"""The curves' measurements: the data at each class ratio, both arms' scorers and their metrics, and the no-skill
scorer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats
from sklearn.base import ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from replab.data.synthetic import Split, imbalanced_classification
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.curves.config import MODEL_LABELS, Config, positives_at

MINIMUM_TEST_POSITIVES = 10
"""roc-stable compares ROC-AUCs only on test sets with at least this many positives (the usual ten-events rule):
with fewer, each positive carries over a tenth of the ROC-AUC and one positive changing rank moves it by more
than any margin worth stating, so the level cannot support a claim that ROC-AUC stays put."""
CHANCE_FLAGGED_FRACTIONS = np.linspace(0.1, 0.9, 9)
"""The no-skill scorer's precision is read after flagging the top 10%, 20%, ..., 90% of the test set."""
COARSE_DECIMALS = 1
"""Scores rounded to one decimal (at most 11 distinct values) show what ties do to the trapezoid."""
THEOREM_TOLERANCE = 1e-12
"""Floating-point slack when checking trapezoid − AP ≤ 0 on untied scores."""
SKLEARN_DEFAULT_FLIP_Y = 0.01


def level_label(negative_share: float) -> str:
    """0.99 -> '99/1' (negative/positive percentages)."""
    return f"{round(negative_share * 100, 4):g}/{round((1 - negative_share) * 100, 4):g}"



# --- data and models ------------------------------------------------------------------------------


def data_seeds(seed: int, n_seeds: int) -> list[int]:
    """One seed per repetition, derived from the config seed (each below 2**32, as scikit-learn requires)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n_seeds)]


def make_split(config: Config, negative_share: float, data_seed: int) -> Split:
    """One level and repetition's stratified split; the positive class is the minority."""
    return imbalanced_classification(config.n_samples, negative_share, config.test_share, data_seed, config.flip_y)


def positive_scores(name: str, random_state: int, X_train, y_train, X_test) -> np.ndarray:
    """The fitted model's probability of the positive class on the test set."""
    # A few thousand rows are too little work for OpenMP threads: HistGradientBoosting fits them faster
    # single-threaded than with one thread per core, and the threads would fight the other experiments' cores.
    with threadpool_limits(limits=1, user_api="openmp"):
        model = make_model(name, random_state).fit(X_train, y_train)
        return model.predict_proba(X_test)[:, 1]


def make_model(name: str, random_state: int) -> ClassifierMixin:
    if name == "logistic":
        return LogisticRegression()
    if name == "hist_gradient_boosting":
        return HistGradientBoostingClassifier(random_state=random_state)
    return RandomForestClassifier(n_jobs=-1, random_state=random_state)


def curve_metrics(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """ROC-AUC, average precision (step-wise) and the trapezoidal area under the PR curve."""
    precision, recall, _ = precision_recall_curve(y_true, scores)
    return {
        "roc_auc": float(roc_auc_score(y_true, scores)),
        "ap": float(average_precision_score(y_true, scores)),
        "trapezoid_pr_auc": float(auc(recall, precision)),
    }


def coarse_trapezoid_gap(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Trapezoid PR-AUC minus AP on the same scores rounded to COARSE_DECIMALS (many ties, few thresholds)."""
    coarse = curve_metrics(y_true, np.round(scores, COARSE_DECIMALS))
    return coarse["trapezoid_pr_auc"] - coarse["ap"]


def has_mixed_tie(y_true: np.ndarray, scores: np.ndarray) -> bool:
    """Whether some score is shared by a positive and a negative: the only ties that let the trapezoid exceed AP.

    Without such a tie every step of the PR curve that adds recall adds positives only, and precision can only
    rise there (h/k ≥ (h−1)/(k−1) whenever k ≥ h), so the trapezoid's average of the two ends is at most AP's
    right end: trapezoid ≤ AP.
    """
    y_true = np.asarray(y_true).astype(bool)
    return bool(np.intersect1d(scores[y_true], scores[~y_true]).size)


# --- the fixed-model arm ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedArm:
    """One seed of the fixed-model arm: per model (M) and level (L), the resampled pool points and their scores."""

    train_prevalence: float
    pool_y: np.ndarray                 # (P,) the held-out pool's labels
    indices: list[np.ndarray]          # per level, the pool points of its test set
    scores: list[list[np.ndarray]]     # [model][level] the fixed model's scores on those points
    fits: int                          # how many models were fitted (one per model)


def fixed_model_arm(config: Config, data_seed: int) -> FixedArm:
    """Fit each model once on a balanced training set; score test sets resampled from a held-out pool per level.

    One make_classification draw (balanced, n_train + pool_size points) is split stratified into the training
    set (as large as the retrained arm's) and the pool. Each level's test set draws, without replacement, the
    level's numbers of positives and negatives from the pool with its own generator, so only the test prevalence
    changes from level to level; the model, and so every pool point's score, stays the same.
    """
    x, y = make_classification(n_samples=config.n_train + config.pool_size, weights=[0.5], flip_y=config.flip_y,
                               random_state=data_seed)
    x_train, x_pool, y_train, y_pool = train_test_split(x, y, train_size=config.n_train, stratify=y,
                                                        random_state=data_seed)
    positives, negatives = np.flatnonzero(y_pool == 1), np.flatnonzero(y_pool == 0)
    indices = []
    for level, share in enumerate(config.negative_shares):
        rng = np.random.default_rng([data_seed, level, 1])
        n_positive = positives_at(config.n_test, share)
        chosen = np.concatenate([rng.choice(positives, n_positive, replace=False),
                                 rng.choice(negatives, config.n_test - n_positive, replace=False)])
        indices.append(np.sort(chosen))
    scores = []
    with threadpool_limits(limits=1, user_api="openmp"):
        for name in config.models:
            model = make_model(name, data_seed).fit(x_train, y_train)
            pool_scores = model.predict_proba(x_pool)[:, 1]  # scored once: every level reads the same numbers
            scores.append([pool_scores[chosen] for chosen in indices])
    return FixedArm(float(y_train.mean()), y_pool, indices, scores, len(config.models))


# --- the no-skill scorer ----------------------------------------------------------------------------


def no_skill_draws(y_true: np.ndarray, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Precision, ROC-AUC and AP of uniformly random scores, one value per draw.

    Precision is read after flagging fixed fractions of the test set: for a random ranking the flagged
    set is a random sample, so its precision is an unbiased estimate of the prevalence. (Precision where
    recall first reaches 0.5 is not: it stops at a random rank and is biased upwards when positives are
    few, as is the no-skill AP.)
    """
    n = len(y_true)
    flagged = flagged_counts(n)
    precision, roc, ap = [], [], []
    for _ in range(n_draws):
        scores = rng.random(n)
        hits = np.cumsum(y_true[np.argsort(-scores)])
        precision.append(hits[flagged - 1] / flagged)
        roc.append(roc_auc_score(y_true, scores))
        ap.append(average_precision_score(y_true, scores))
    return {"precision": np.array(precision), "roc_auc": np.array(roc), "ap": np.array(ap)}


def flagged_counts(n: int) -> np.ndarray:
    """How many of n test points the no-skill scorer flags at each of CHANCE_FLAGGED_FRACTIONS."""
    return np.ceil(CHANCE_FLAGGED_FRACTIONS * n).astype(int)


def exact_chance_precision(n: int, positives: int) -> np.ndarray:
    """Expected precision of a uniformly random ranking after flagging each of flagged_counts(n) points.

    The flagged set is a sample without replacement, so its hits are hypergeometric (scipy.stats.hypergeom):
    E[hits] / k = k·P/n / k = P/n at every k — the theorem behind the horizontal PR chance line.
    """
    flagged = flagged_counts(n)
    return np.array([scipy.stats.hypergeom(n, positives, k).mean() / k for k in flagged])


# --- measuring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurements(base.Measurements):
    """Per model (M), imbalance level (L, most balanced first) and repetition (S); the no-skill scorer's D draws
    per level on the first repetition's test set (T points)."""

    labels: tuple[str, ...]            # (L,) '50/50', …
    models: tuple[str, ...]            # (M,)
    negative_shares: np.ndarray        # (L,)
    expected_prevalence: np.ndarray    # (L,) the positive share make_classification is asked for, after flip_y
    data_seeds: np.ndarray             # (S,)
    n_train: np.ndarray                # (L, S)
    n_train_positive: np.ndarray       # (L, S)
    n_test: np.ndarray                 # (L, S)
    n_test_positive: np.ndarray        # (L, S)
    roc_auc: np.ndarray                # (M, L, S)
    ap: np.ndarray                     # (M, L, S) average precision (step-wise)
    trapezoid: np.ndarray              # (M, L, S) trapezoidal PR-AUC
    mixed_ties: np.ndarray             # (M, L, S) bool: some score shared by a positive and a negative
    coarse_gap: np.ndarray             # (M, L, S) trapezoid − AP on scores rounded to COARSE_DECIMALS
    chance_precision: np.ndarray       # (L, D, F) no-skill precision after flagging each fraction
    chance_roc_auc: np.ndarray         # (L, D)
    chance_ap: np.ndarray              # (L, D)
    chance_prevalence: np.ndarray      # (L,) prevalence of the test set the no-skill scorer ranks
    chance_n_test: np.ndarray          # (L,)
    first_y: np.ndarray                # (L, T) the first repetition's test labels (for the figures)
    first_scores: np.ndarray           # (M, L, T) and each model's scores on them
    fixed_roc_auc: np.ndarray          # (M, L, S) the fixed-model arm: fitted once on balanced data per seed
    fixed_ap: np.ndarray               # (M, L, S)
    fixed_trapezoid: np.ndarray        # (M, L, S)
    fixed_n_test_positive: np.ndarray  # (L,) positives of each level's resampled test set (of n_test points)
    fixed_train_prevalence: np.ndarray  # (S,) the fixed models' training prevalence

    @property
    def test_prevalence(self) -> np.ndarray:
        return self.n_test_positive / self.n_test

    @property
    def gap(self) -> np.ndarray:
        """(M, L, S) trapezoid − AP on the models' own scores."""
        return self.trapezoid - self.ap

    def mean(self, metric: str, model: int, level: int) -> float:
        return float(getattr(self, metric)[model, level].mean())

    def change(self, metric: str) -> np.ndarray:
        """(M, S) metric at the rarest level − at the most balanced, per seed ('fixed_roc_auc' etc. for that arm)."""
        values = getattr(self, metric)
        return values[:, -1] - values[:, 0]

    def to_metrics(self) -> dict:
        """result.json's metrics: per level, each model's metrics over repetitions and the no-skill scorer."""
        def summary(values):
            return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)), "values": list(values)}

        def mean_se(values):
            return {"mean": float(np.mean(values)), "se": float(scipy.stats.sem(values))}

        levels = {}
        for i, label in enumerate(self.labels):
            share = float(self.negative_shares[i])
            levels[label] = {
                "label": label, "negative_share": share, "nominal_prevalence": 1 - share,
                "expected_prevalence": float(self.expected_prevalence[i]),
                "test_prevalence": {"mean": float(self.test_prevalence[i].mean()),
                                    "std": float(self.test_prevalence[i].std(ddof=1)),
                                    "values": list(self.test_prevalence[i])},
                "train_prevalence": {"mean": float((self.n_train_positive[i] / self.n_train[i]).mean()),
                                     "values": list(self.n_train_positive[i] / self.n_train[i])},
                "counts": {"n_train": list(self.n_train[i]), "n_train_positive": list(self.n_train_positive[i]),
                           "n_test": list(self.n_test[i]), "n_test_positive": list(self.n_test_positive[i])},
                "models": {name: {"roc_auc": summary(self.roc_auc[m, i]), "ap": summary(self.ap[m, i]),
                                  "trapezoid_pr_auc": summary(self.trapezoid[m, i]),
                                  "trapezoid_minus_ap": summary(self.gap[m, i]),
                                  "coarse_trapezoid_minus_ap": summary(self.coarse_gap[m, i]),
                                  "mixed_ties": int(self.mixed_ties[m, i].sum())}
                           for m, name in enumerate(self.models)},
                "chance": {"test_prevalence": float(self.chance_prevalence[i]), "n_test": int(self.chance_n_test[i]),
                           "n_draws": int(self.chance_roc_auc.shape[1]),
                           "precision": mean_se(self.chance_precision[i].mean(axis=1)),
                           "precision_by_flagged_fraction": list(self.chance_precision[i].mean(axis=0)),
                           "flagged_fractions": list(CHANCE_FLAGGED_FRACTIONS),
                           "roc_auc": mean_se(self.chance_roc_auc[i]), "ap": mean_se(self.chance_ap[i])},
            }
        fixed = {label: {"n_test_positive": int(self.fixed_n_test_positive[i]),
                         "models": {name: {"roc_auc": summary(self.fixed_roc_auc[m, i]), "ap": summary(self.fixed_ap[m, i]),
                                           "trapezoid_pr_auc": summary(self.fixed_trapezoid[m, i])}
                                    for m, name in enumerate(self.models)}}
                 for i, label in enumerate(self.labels)}
        return base.to_jsonable({
            "data_seeds": self.data_seeds, "models": list(self.models), "level_order": list(self.labels),
            "levels": levels,
            "fixed_model": {"train_prevalence": list(self.fixed_train_prevalence), "levels": fixed,
                            "change_most_balanced_to_rarest": {
                                name: {metric: float(self.change(f"fixed_{metric}")[m].mean())
                                       for metric in ("roc_auc", "ap")} for m, name in enumerate(self.models)}},
            "change_most_balanced_to_rarest": {
                name: {metric: self.mean(metric, m, -1) - self.mean(metric, m, 0) for metric in ("roc_auc", "ap")}
                for m, name in enumerate(self.models)},
        })


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Fit every model on every repetition at every imbalance level, and rank each level's first test set at random."""
    seeds = data_seeds(config.seed, config.n_seeds)
    L, M, S = len(config.negative_shares), len(config.models), config.n_seeds
    total = L * (S * M + 1) + S
    done = 0
    counts = {key: np.zeros((L, S), int) for key in ("n_train", "n_train_positive", "n_test", "n_test_positive")}
    metrics = {key: np.zeros((M, L, S)) for key in ("roc_auc", "ap", "trapezoid", "coarse_gap")}
    mixed_ties = np.zeros((M, L, S), bool)
    first_y, first_scores = [], [[None] * L for _ in range(M)]
    chance_precision, chance_roc, chance_ap = [], [], []
    for level, share in enumerate(config.negative_shares):
        label = level_label(share)
        for repetition, data_seed in enumerate(seeds):
            split = make_split(config, share, data_seed)
            y_train, y_test = split.y_train, split.y_test
            counts["n_train"][level, repetition] = len(y_train)
            counts["n_train_positive"][level, repetition] = int(y_train.sum())
            counts["n_test"][level, repetition] = len(y_test)
            counts["n_test_positive"][level, repetition] = int(y_test.sum())
            if repetition == 0:
                first_y.append(y_test)
            for m, name in enumerate(config.models):
                scores = positive_scores(name, data_seed, split.x_train, y_train, split.x_test)
                values = curve_metrics(y_test, scores)
                metrics["roc_auc"][m, level, repetition] = values["roc_auc"]
                metrics["ap"][m, level, repetition] = values["ap"]
                metrics["trapezoid"][m, level, repetition] = values["trapezoid_pr_auc"]
                metrics["coarse_gap"][m, level, repetition] = coarse_trapezoid_gap(y_test, scores)
                mixed_ties[m, level, repetition] = has_mixed_tie(y_test, scores)
                if repetition == 0:
                    first_scores[m][level] = scores
                done += 1
                progress(done, total, f"level {label}, seed {repetition + 1}/{S}, {MODEL_LABELS[name]}")
        draws = no_skill_draws(first_y[level], config.n_chance_draws, np.random.default_rng([config.seed, level]))
        chance_precision.append(draws["precision"])
        chance_roc.append(draws["roc_auc"])
        chance_ap.append(draws["ap"])
        done += 1
        progress(done, total, f"level {label}, no-skill scorer ({config.n_chance_draws} draws)")
    fixed = {key: np.zeros((M, L, S)) for key in ("roc_auc", "ap", "trapezoid")}
    fixed_train_prevalence = np.zeros(S)
    for repetition, data_seed in enumerate(seeds):
        arm = fixed_model_arm(config, data_seed)
        fixed_train_prevalence[repetition] = arm.train_prevalence
        for m in range(M):
            for level, chosen in enumerate(arm.indices):
                values = curve_metrics(arm.pool_y[chosen], arm.scores[m][level])
                fixed["roc_auc"][m, level, repetition] = values["roc_auc"]
                fixed["ap"][m, level, repetition] = values["ap"]
                fixed["trapezoid"][m, level, repetition] = values["trapezoid_pr_auc"]
        done += 1
        progress(done, total, f"fixed model, seed {repetition + 1}/{S}: fitted once, scored at every level")
    shares = np.asarray(config.negative_shares, float)
    return Measurements(
        labels=tuple(level_label(share) for share in shares), models=tuple(config.models), negative_shares=shares,
        expected_prevalence=(1 - shares) * (1 - config.flip_y) + config.flip_y / 2,
        data_seeds=np.array(seeds, dtype=np.int64), **counts,
        roc_auc=metrics["roc_auc"], ap=metrics["ap"], trapezoid=metrics["trapezoid"], mixed_ties=mixed_ties,
        coarse_gap=metrics["coarse_gap"], chance_precision=np.array(chance_precision),
        chance_roc_auc=np.array(chance_roc), chance_ap=np.array(chance_ap),
        chance_prevalence=np.array([np.mean(y) for y in first_y]),
        chance_n_test=np.array([len(y) for y in first_y]),
        first_y=np.array(first_y), first_scores=np.array(first_scores, dtype=float),
        fixed_roc_auc=fixed["roc_auc"], fixed_ap=fixed["ap"], fixed_trapezoid=fixed["trapezoid"],
        fixed_n_test_positive=np.array([positives_at(config.n_test, share) for share in shares]),
        fixed_train_prevalence=fixed_train_prevalence)
