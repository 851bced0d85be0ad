"""How do ROC and precision-recall curves differ as the positive class gets rarer?

The same synthetic problem (scikit-learn's make_classification) is generated at several class ratios
with the positive class as the minority. Two scorers are fitted on a stratified training split and
judged on the test split by ROC-AUC, average precision (the step-wise area under the PR curve) and
the trapezoidal PR-AUC, over several seeds. A no-skill scorer (uniformly random scores) measures
where each curve's chance level really lies.

Two arms separate what imbalance does to the metric from what it does to the model:

- **retrained**: at each class ratio the models are fitted on a training set with that ratio and judged on a
  test set with the same ratio, so the model and the metric both see the imbalance;
- **fixed model**: per seed each model is fitted once, on a balanced (50/50) training set, and then judged on
  test sets resampled from a large held-out balanced pool at every class ratio, so only the test prevalence
  changes. Whatever moves here is the metric; what the retrained arm adds on top is the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats
from matplotlib.figure import Figure
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.metrics import (PrecisionRecallDisplay, RocCurveDisplay, auc, average_precision_score,
                             precision_recall_curve, roc_auc_score)
from threadpoolctl import threadpool_limits

from replab import stats
from replab.claims import Claim, EvidenceBase, check, decide, finding
from replab.data.synthetic import Split, imbalanced_classification
from replab.experiments import base
from replab.experiments.curves_config import MODEL_LABELS, Config, positives_at
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress

NAME = "curves"
TITLE = "ROC vs precision-recall curves as the positive class gets rarer (50/50 to 99/1)"
QUESTION = (
    "How do ROC and precision-recall curves differ as classes become imbalanced (50/50, 75/25, 90/10, 99/1)? "
    "Which metric should you report when the classes are balanced, and which when positives are rare?"
)

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
COLOURS = ("tab:blue", "tab:orange", "tab:green")
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
    # A few thousand rows are too little work for OpenMP threads: on 2 busy cores HistGradientBoosting
    # fitted 2.5x faster single-threaded than with one thread per core (the full run: 73 s -> 13 s).
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


# --- claims -------------------------------------------------------------------------------------------


def _base(config: Config, m: Measurements) -> EvidenceBase:
    return EvidenceBase(seeds=config.n_seeds, examples=int(m.n_test.min()), quick=config.quick)


def _too_few_positives(m: Measurements, level: int) -> str:
    """Why a level's test sets cannot support a comparison of ranking metrics, or '' when they can."""
    positives = m.n_test_positive[level]
    if positives.min() >= MINIMUM_TEST_POSITIVES:
        return ""
    held = f"{positives.min()}" if positives.min() == positives.max() else f"{positives.min()}–{positives.max()}"
    return (f"the {m.labels[level]} test sets hold {held} positives, fewer than {MINIMUM_TEST_POSITIVES}: one positive "
            f"changing rank moves ROC-AUC or AP by up to 1/{positives.min()}")


def roc_change_tests(config: Config, m: Measurements, roc_field: str, too_few) -> list[stats.Test]:
    """One equivalence test per model of the ROC-AUC change from the most balanced level to the rarest (last −
    first, margin ±roc_tolerance), unavailable where either level's test sets hold too few positives."""
    roc = getattr(m, roc_field)
    reason = too_few(m, 0) or too_few(m, -1)
    return [stats.unavailable(MODEL_LABELS[name], reason, n=config.n_seeds) if reason else
            stats.paired(roc[i, -1], roc[i, 0], MODEL_LABELS[name], margin=config.roc_tolerance)
            for i, name in enumerate(m.models)]


def claim_roc_stable(config: Config, m: Measurements) -> Claim:
    first, last = m.labels[0], m.labels[-1]
    tests, parts = roc_change_tests(config, m, "roc_auc", _too_few_positives), []
    for i, name in enumerate(m.models):
        label = MODEL_LABELS[name]
        parts.append(f"{label}: ROC-AUC {m.mean('roc_auc', i, 0):.4f} → {m.mean('roc_auc', i, -1):.4f} "
                     f"(Δ {m.mean('roc_auc', i, -1) - m.mean('roc_auc', i, 0):+.4f}) while AP "
                     f"{m.mean('ap', i, 0):.4f} → {m.mean('ap', i, -1):.4f} "
                     f"(Δ {m.mean('ap', i, -1) - m.mean('ap', i, 0):+.4f})")
    return finding(
        "roc-stable", f"ROC-AUC barely moves as imbalance grows (within ±{config.roc_tolerance:g} from {first} to {last})",
        effect=f"ROC-AUC at {last} − ROC-AUC at {first}, paired by repetition", direction="equal", tests=tests,
        evidence=(f"From {first} to {last}, mean over {config.n_seeds} seeds: " + "; ".join(parts)
                  + f". Equivalence margin ±{config.roc_tolerance:g} ROC-AUC (roc_tolerance), tested by TOST per model; "
                    f"{last} test sets hold {m.n_test_positive[-1].min()}–{m.n_test_positive[-1].max()} positives."),
        base=_base(config, m))


def ap_step_tests(config: Config, m: Measurements, ap_field: str, too_few) -> tuple[list[stats.Test], list[str]]:
    """One paired test per model and step from a level to the next rarer one (AP before − AP after), unavailable
    where a level's test sets hold too few positives; and the mean AP per level for the evidence."""
    ap = getattr(m, ap_field)
    tests, parts = [], []
    for i, name in enumerate(m.models):
        for k in range(len(m.labels) - 1):
            label = f"{MODEL_LABELS[name]}, {m.labels[k]} → {m.labels[k + 1]}"
            reason = too_few(m, k) or too_few(m, k + 1)
            tests.append(stats.unavailable(label, reason, n=config.n_seeds) if reason else
                         stats.paired(ap[i, k], ap[i, k + 1], label))
        parts.append(f"{MODEL_LABELS[name]}: " + ", ".join(f"{label} {m.mean(ap_field, i, k):.4f}"
                                                            for k, label in enumerate(m.labels)))
    return tests, parts


def claim_ap_falls(config: Config, m: Measurements) -> Claim:
    tests, parts = ap_step_tests(config, m, "ap", _too_few_positives)
    return finding(
        "ap-falls", "Average precision falls as positives get rarer (at every step from one level to the next)",
        effect="AP at a level − AP at the next rarer level, paired by repetition", direction="greater", tests=tests,
        evidence=f"Mean AP over {config.n_seeds} seeds, most balanced first: " + "; ".join(parts) + ".",
        base=_base(config, m))


def claim_pr_chance(config: Config, m: Measurements) -> Claim:
    parts, exact_ok = [], []
    for i, label in enumerate(m.labels):
        n, prevalence = int(m.chance_n_test[i]), float(m.chance_prevalence[i])
        exact = exact_chance_precision(n, int(m.first_y[i].sum()))
        exact_ok.append(bool(np.all(np.abs(exact - prevalence) <= THEOREM_TOLERANCE)))
        simulated = m.chance_precision[i].mean(axis=1)
        parts.append(f"{label}: prevalence {prevalence:.4f}, expected no-skill precision {exact.min():.4f}–"
                     f"{exact.max():.4f}, simulated {simulated.mean():.4f} ± {scipy.stats.sem(simulated):.4f}, "
                     f"no-skill ROC-AUC {m.chance_roc_auc[i].mean():.3f}, no-skill AP {m.chance_ap[i].mean():.4f}")
    return check(
        "pr-chance-is-prevalence", "The PR chance level equals the positive prevalence",
        passed=all(exact_ok),
        evidence=("A theorem: a uniformly random ranking flags a sample without replacement, so the hits among the "
                  "top k are hypergeometric and the expected precision is P/n, the prevalence, at every k "
                  "(scipy.stats.hypergeom, flagging the top 10%…90% of the first seed's test set). Simulated with "
                  f"{config.n_chance_draws} draws of random scores per level (mean ± standard error): " + "; ".join(parts)
                  + "."),
        base=_base(config, m))


def _fixed_too_few(m: Measurements, level: int) -> str:
    positives = int(m.fixed_n_test_positive[level])
    if positives >= MINIMUM_TEST_POSITIVES:
        return ""
    return (f"the fixed-model {m.labels[level]} test sets hold {positives} positives, fewer than "
            f"{MINIMUM_TEST_POSITIVES}")


def claim_fixed_roc_stable(config: Config, m: Measurements) -> Claim:
    first, last = m.labels[0], m.labels[-1]
    tests, parts = roc_change_tests(config, m, "fixed_roc_auc", _fixed_too_few), []
    for i, name in enumerate(m.models):
        label = MODEL_LABELS[name]
        parts.append(f"{label}: ROC-AUC {m.mean('fixed_roc_auc', i, 0):.4f} → {m.mean('fixed_roc_auc', i, -1):.4f}")
    return finding(
        "roc-stable-fixed-model",
        f"For a fixed model, ROC-AUC does not depend on the test prevalence (within ±{config.roc_tolerance:g} from "
        f"{first} to {last})",
        effect=f"fixed model's ROC-AUC at {last} − at {first}, paired by seed", direction="equal", tests=tests,
        evidence=(f"Each model fitted once per seed on a balanced training set ({config.n_train} points), then scored on "
                  f"{config.n_test}-point test sets resampled from a held-out pool of {config.pool_size} at every ratio; "
                  f"mean over {config.n_seeds} seeds: " + "; ".join(parts)
                  + f". Margin ±{config.roc_tolerance:g} (roc_tolerance), TOST per model; the {last} test sets hold "
                    f"{int(m.fixed_n_test_positive[-1])} positives."),
        base=_base(config, m))


def claim_fixed_ap_falls(config: Config, m: Measurements) -> Claim:
    tests, parts = ap_step_tests(config, m, "fixed_ap", _fixed_too_few)
    return finding(
        "ap-falls-fixed-model",
        "For a fixed model, average precision falls as the test set's positives get rarer (the metric's own effect)",
        effect="fixed model's AP at a level − at the next rarer level, paired by seed", direction="greater",
        tests=tests,
        evidence=f"Same fitted models at every level; mean AP over {config.n_seeds} seeds: " + "; ".join(parts) + ".",
        base=_base(config, m))


def claim_imbalance_hurts_model(config: Config, m: Measurements) -> Claim:
    first, last = m.labels[0], m.labels[-1]
    reason = _too_few_positives(m, 0) or _too_few_positives(m, -1) or _fixed_too_few(m, 0) or _fixed_too_few(m, -1)
    tests, parts = [], []
    for i, name in enumerate(m.models):
        label = MODEL_LABELS[name]
        fixed, retrained = m.change("fixed_roc_auc")[i], m.change("roc_auc")[i]
        tests.append(stats.unavailable(label, reason, n=config.n_seeds) if reason else
                     stats.bootstrap([fixed, retrained], lambda a, b: float(np.mean(a) - np.mean(b)), label,
                                     seed=config.seed, paired_samples=False))
        parts.append(f"{label}: Δ ROC-AUC fixed {fixed.mean():+.4f}, retrained {retrained.mean():+.4f}")
    return finding(
        "imbalance-hurts-model",
        f"Training on imbalanced data costs ranking quality itself: from {first} to {last} the retrained model's "
        f"ROC-AUC falls further than the fixed model's",
        effect=f"(fixed-model Δ ROC-AUC) − (retrained Δ ROC-AUC), {last} − {first}; the two arms draw their own "
               f"problems, so the seeds are not paired across arms (bootstrap of independent samples)",
        direction="greater", tests=tests,
        evidence=(f"Mean over {config.n_seeds} seeds: " + "; ".join(parts) + ". ROC-AUC of a fixed scorer does not "
                  "depend on the prevalence, so what the retrained arm loses beyond the fixed arm is the model "
                  "learning less from fewer positives."),
        base=_base(config, m))


def claim_trapezoid_untied(config: Config, m: Measurements) -> Claim:
    statement = ("Without ties between a positive and a negative, the trapezoidal PR-AUC never exceeds average "
                 "precision")
    untied = ~m.mixed_ties
    gaps = m.gap[untied]
    evidence = (f"A theorem: without such ties every step that adds recall adds positives only, and precision can "
                f"only rise there (h/k ≥ (h−1)/(k−1)), so the trapezoid's average of a step's two ends is at most "
                f"AP's right end. Verified on the {int(untied.sum())} of {untied.size} measured curves whose scores "
                f"have no such tie (level × model × seed)")
    if not gaps.size:
        return Claim("trapezoid-untied-bound", statement, "inconclusive", evidence + ": there are none.", "check",
                     base=_base(config, m), reason="every measured curve has a tie between a positive and a negative")
    worst = np.unravel_index(np.argmax(np.where(untied, m.gap, -np.inf)), m.gap.shape)
    evidence += (f": trapezoid − AP is at most {gaps.max():+.2e} ({MODEL_LABELS[m.models[worst[0]]]} at "
                 f"{m.labels[worst[1]]}), mean {gaps.mean():+.5f}.")
    tied = int(m.mixed_ties.sum())
    if tied:
        evidence += f" {tied} curves with such ties are left out (their trapezoid − AP: {_range(m.gap[m.mixed_ties])})."
    return check("trapezoid-untied-bound", statement, passed=bool(gaps.max() <= THEOREM_TOLERANCE), evidence=evidence,
                 base=_base(config, m))


def _range(values: np.ndarray) -> str:
    return f"{values.min():+.5f} to {values.max():+.5f}"


def claim_trapezoid_overstates(config: Config, m: Measurements) -> Claim:
    tests, parts = [], []
    for i, name in enumerate(m.models):
        for k, label in enumerate(m.labels):
            tests.append(stats.one_sample(m.coarse_gap[i, k], f"{MODEL_LABELS[name]} at {label}"))
            parts.append(f"{label} {MODEL_LABELS[name]} {m.coarse_gap[i, k].mean():+.5f}")
    return finding(
        "trapezoid-overstates",
        f"With tied scores the trapezoidal PR-AUC overstates average precision (scores rounded to "
        f"{COARSE_DECIMALS} decimal, at every level and for every model)",
        effect=f"trapezoid PR-AUC − AP on scores rounded to {COARSE_DECIMALS} decimal", direction="greater",
        tests=tests,
        evidence=(f"Mean (trapezoid − AP) over {config.n_seeds} seeds on the models' scores rounded to "
                  f"{COARSE_DECIMALS} decimal (at most {10 ** COARSE_DECIMALS + 1} distinct values, so thresholds "
                  f"span positives and negatives at once): " + "; ".join(parts)
                  + f". On the unrounded scores: {_range(m.gap.mean(axis=2))}."),
        base=_base(config, m))


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Six findings (per arm roc-stable and ap-falls, the model's own loss, trapezoid-overstates on tied scores) and
    two theorem checks."""
    return decide([claim_roc_stable(config, m), claim_ap_falls(config, m), claim_pr_chance(config, m),
                   claim_trapezoid_untied(config, m), claim_trapezoid_overstates(config, m),
                   claim_fixed_roc_stable(config, m), claim_fixed_ap_falls(config, m),
                   claim_imbalance_hurts_model(config, m)])


# --- notes --------------------------------------------------------------------------------------------


def _metric_list(m: Measurements, metric: str, level: int) -> str:
    return ", ".join(f"{MODEL_LABELS[name]} {m.mean(metric, i, level):.3f}" for i, name in enumerate(m.models))


def _chance_precision(m: Measurements, level: int) -> np.ndarray:
    """Per draw, the no-skill precision averaged over the flagged fractions."""
    return m.chance_precision[level].mean(axis=1)


def balanced_note(m: Measurements) -> str:
    return (f"Balanced data — report ROC-AUC (and the ROC curve). At {m.labels[0]} (measured prevalence "
            f"{m.test_prevalence[0].mean():.3f}) ROC-AUC is {_metric_list(m, 'roc_auc', 0)} and AP is "
            f"{_metric_list(m, 'ap', 0)}: the two agree, both chance levels sit near 0.5 (no-skill ROC-AUC "
            f"{m.chance_roc_auc[0].mean():.3f}, no-skill precision {_chance_precision(m, 0).mean():.3f}), "
            f"and ROC-AUC reads the same whatever the class ratio of the test set. Scenario: a spam filter on a "
            f"mailbox that is roughly half spam, or an A/B comparison of two image classifiers on a balanced test "
            f"set, where false positives and false negatives matter about equally.")


def imbalanced_note(m: Measurements) -> str:
    first, last = m.labels[0], m.labels[-1]
    n, prevalence = int(m.chance_n_test[-1]), float(m.chance_prevalence[-1])
    negatives, positives = round((1 - prevalence) * n), round(prevalence * n)
    return (f"Imbalanced data — report the precision-recall curve and average precision, next to the prevalence. "
            f"At {last} ROC-AUC is {_metric_list(m, 'roc_auc', -1)} ({_metric_list(m, 'roc_auc', 0)} at "
            f"{first}), while AP is {_metric_list(m, 'ap', -1)} ({_metric_list(m, 'ap', 0)} at "
            f"{first}) against a chance level of {prevalence:.4f}, the prevalence. "
            f"ROC's false-positive rate divides by the {negatives} negatives of the test set, so many false alarms "
            f"barely move it; precision weighs them against the {positives} positives. Scenario: fraud detection or "
            f"rare-disease screening where about 1% of cases are positive — whoever reviews the flagged cases needs "
            f"to know what fraction of them are real, which AP measures and ROC-AUC hides.")


def chance_ap_note(m: Measurements) -> str:
    n, prevalence = int(m.chance_n_test[-1]), float(m.chance_prevalence[-1])
    return (f"The horizontal PR chance line is the expected precision at any fixed threshold, but the expected AP of "
            f"a random scorer is higher when positives are few: at {m.labels[-1]} the test set holds "
            f"{round(prevalence * n)} positives and the no-skill AP is {m.chance_ap[-1].mean():.4f} ± "
            f"{scipy.stats.sem(m.chance_ap[-1]):.4f} against a prevalence of {prevalence:.4f}, because the first "
            f"positives found by chance can sit high in the ranking. With few positives, compare AP with this "
            f"measured baseline too.")


def trapezoid_note(m: Measurements) -> str:
    gaps, coarse = m.gap.mean(axis=2), m.coarse_gap.mean(axis=2)
    return (f"Trapezoid versus step-wise area: with every threshold of continuous scores on the curve, trapezoid − AP "
            f"ranges from {gaps.min():+.5f} to {gaps.max():+.5f}; when a positive is found, precision jumps up, and the "
            f"trapezoid averages the jump while AP takes the new value, so without ties the trapezoid can only come "
            f"out lower. The optimism scikit-learn warns about comes from interpolating across tied scores: on the "
            f"same scores rounded to {COARSE_DECIMALS} decimal the gap ranges from {coarse.min():+.5f} to "
            f"{coarse.max():+.5f}. Use average_precision_score either way.")


def _noise_share(prevalence: float, flip_y: float) -> float:
    """Expected share of positives whose label make_classification re-drew at random."""
    return (flip_y / 2) / (prevalence * (1 - flip_y) + flip_y / 2)


def flip_note(config: Config, m: Measurements) -> str:
    last, nominal, measured = m.labels[-1], 1 - float(m.negative_shares[-1]), float(m.test_prevalence[-1].mean())
    if config.flip_y == 0:
        return (f"flip_y = 0, so no labels are re-drawn at random and the measured test prevalence matches the nominal "
                f"share (at {last}: {measured:.4f} vs {nominal:.4f}). With scikit-learn's default flip_y = 0.01 half "
                f"of the re-drawn labels land on the positive class at every ratio, so at {last} about "
                f"{_noise_share(nominal, SKLEARN_DEFAULT_FLIP_Y):.0%} of the positives would be random labels.")
    noise = _noise_share(nominal, config.flip_y)
    return (f"flip_y = {config.flip_y:g} re-draws that share of labels at random, which moves the prevalence towards "
            f"0.5: at {last} the measured test prevalence is {measured:.4f} against a nominal {nominal:.4f}, and "
            f"about {noise:.0%} of the positives there are random labels no model can rank, which lowers ROC-AUC as "
            f"well as AP at that level.")


def arms_note(config: Config, m: Measurements) -> str:
    first, last = m.labels[0], m.labels[-1]
    parts = []
    for i, name in enumerate(m.models):
        parts.append(f"{MODEL_LABELS[name]}: ROC-AUC {m.change('fixed_roc_auc')[i].mean():+.4f} fixed vs "
                     f"{m.change('roc_auc')[i].mean():+.4f} retrained, AP {m.change('fixed_ap')[i].mean():+.4f} fixed "
                     f"vs {m.change('ap')[i].mean():+.4f} retrained")
    return (f"What imbalance does to the metric versus to the model, from {first} to {last}. The fixed-model arm fits "
            f"each model once per seed on a balanced training set (prevalence {m.fixed_train_prevalence.mean():.3f}, "
            f"{config.n_train} points) and scores {config.n_test}-point test sets resampled from a held-out pool of "
            f"{config.pool_size} at every ratio, so only the test prevalence changes: its change is the metric's own. "
            f"The retrained arm refits at every ratio, so its change adds what the model loses from seeing fewer "
            f"positives. Mean change over {config.n_seeds} seeds — " + "; ".join(parts) + ".")


def build_notes(config: Config, m: Measurements) -> list[str]:
    return [balanced_note(m), imbalanced_note(m), arms_note(config, m), chance_ap_note(m), trapezoid_note(m),
            flip_note(config, m)]


# --- tables -------------------------------------------------------------------------------------------


def _pm(values: np.ndarray, spread: str = "std", digits: int = 4) -> str:
    """mean ± standard deviation (or standard error) of values."""
    width = np.std(values, ddof=1) if spread == "std" else scipy.stats.sem(values)
    return f"{np.mean(values):.{digits}f} ± {width:.{digits}f}"


def build_tables(config: Config, m: Measurements) -> list[Table]:
    rows = []
    for k, label in enumerate(m.labels):
        for i, name in enumerate(m.models):
            rows.append([label, MODEL_LABELS[name], round(1 - float(m.negative_shares[k]), 4),
                         _pm(m.test_prevalence[k]), _pm(m.roc_auc[i, k]), _pm(m.ap[i, k]), _pm(m.trapezoid[i, k]),
                         _pm(m.gap[i, k], digits=5)])
    metrics_table = Table(
        "Curve metrics per imbalance level",
        ["level (neg/pos)", "model", "nominal positive share", "measured test prevalence", "ROC-AUC",
         "average precision", "trapezoid PR-AUC", "trapezoid − AP"],
        rows,
        f"Mean ± standard deviation over {config.n_seeds} seeds (each a new dataset of {config.n_samples} samples "
        f"and a stratified split with test share {config.test_share:g}); flip_y = {config.flip_y:g}.")
    chance_rows = [[label, round(float(m.chance_prevalence[k]), 4), _pm(_chance_precision(m, k), "se"),
                    _pm(m.chance_roc_auc[k], "se"), _pm(m.chance_ap[k], "se")] for k, label in enumerate(m.labels)]
    chance_table = Table(
        "No-skill scorer",
        ["level (neg/pos)", "test prevalence", "precision", "ROC-AUC", "average precision"],
        chance_rows,
        f"Uniformly random scores on the first seed's test set, {config.n_chance_draws} draws per level, mean ± "
        f"standard error; precision averaged over flagging the top 10%, 20%, …, 90% of the test set.")
    arm_rows = []
    for k, label in enumerate(m.labels):
        for i, name in enumerate(m.models):
            arm_rows.append([label, MODEL_LABELS[name], int(m.fixed_n_test_positive[k]),
                             _pm(m.fixed_roc_auc[i, k]), _pm(m.roc_auc[i, k]), _pm(m.fixed_ap[i, k]), _pm(m.ap[i, k])])
    arms_table = Table(
        "Fixed model vs retrained model",
        ["level (neg/pos)", "model", "fixed-model test positives", "ROC-AUC, fixed model", "ROC-AUC, retrained",
         "AP, fixed model", "AP, retrained"],
        arm_rows,
        f"Fixed model: fitted once per seed on a balanced training set of {config.n_train} points, scored on "
        f"{config.n_test}-point test sets resampled (per seed and level) from a held-out balanced pool of "
        f"{config.pool_size}; only the test prevalence changes. Retrained: fitted at every ratio on that ratio's "
        f"training split. Mean ± standard deviation over {config.n_seeds} seeds.")
    return [metrics_table, arms_table, chance_table]


# --- figures ------------------------------------------------------------------------------------------


def _recolour(display, colour: str) -> None:
    display.line_.set_color(colour)


def curves_grid_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(4.2 * len(m.labels), 8.4), layout="constrained")
    axes = figure.subplots(2, len(m.labels), squeeze=False)
    for column, label in enumerate(m.labels):
        roc_ax, pr_ax = axes[0, column], axes[1, column]
        y_test = m.first_y[column]
        for index, name in enumerate(m.models):
            scores = m.first_scores[index, column]
            colour = COLOURS[index % len(COLOURS)]
            roc = RocCurveDisplay.from_predictions(y_test, scores, name=MODEL_LABELS[name], ax=roc_ax,
                                                   plot_chance_level=index == 0)
            pr = PrecisionRecallDisplay.from_predictions(y_test, scores, name=MODEL_LABELS[name], ax=pr_ax,
                                                         plot_chance_level=index == 0)
            _recolour(roc, colour)
            _recolour(pr, colour)
        roc_ax.set_title(f"ROC, {label}")
        pr_ax.set_title(f"Precision-recall, {label} (prevalence {m.chance_prevalence[column]:.3f})")
        for ax in (roc_ax, pr_ax):
            ax.legend(loc="lower right" if ax is roc_ax else "best", fontsize="small")
    figure.suptitle("ROC (top) and precision-recall (bottom) curves, first seed; dashed: chance level")
    return figure


def metrics_vs_prevalence_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    roc_ax, ap_ax = figure.subplots(1, 2)
    prevalence = m.test_prevalence.mean(axis=1)
    for index, name in enumerate(m.models):
        colour = COLOURS[index % len(COLOURS)]
        for ax, values in ((roc_ax, m.roc_auc[index]), (ap_ax, m.ap[index])):
            ax.errorbar(prevalence, values.mean(axis=1), yerr=values.std(axis=1, ddof=1), marker="o", capsize=3,
                        color=colour, label=f"{MODEL_LABELS[name]}, retrained")
        fixed_prevalence = m.fixed_n_test_positive / m.n_test[:, 0]
        for ax, values in ((roc_ax, m.fixed_roc_auc[index]), (ap_ax, m.fixed_ap[index])):
            ax.errorbar(fixed_prevalence, values.mean(axis=1), yerr=values.std(axis=1, ddof=1), marker="s",
                        capsize=3, color=colour, linestyle=":", label=f"{MODEL_LABELS[name]}, fixed model")
    span = np.geomspace(prevalence.min() * 0.8, max(prevalence.max() * 1.2, 0.6), 50)
    roc_ax.axhline(0.5, color="k", linestyle="--", label="chance (ROC-AUC = 0.5)")
    ap_ax.plot(span, span, color="k", linestyle="--", label="chance (AP = prevalence)")
    ap_ax.plot(prevalence, m.chance_ap.mean(axis=1), "k^", markersize=5, label="measured no-skill AP")
    for ax, ylabel in ((roc_ax, "ROC-AUC"), (ap_ax, "average precision")):
        ax.set_xscale("log")
        ax.set_xlabel("positive prevalence in the test set (log scale)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize="small", loc="lower right")
        ax.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"Mean ± std over {config.n_seeds} seeds against positive prevalence")
    return figure


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (ROC-AUC, AP and chance levels per share and model), the metrics-against-prevalence and curve-grid
    figures with their captions, and the notes.
    """
    return Presentation(
        tables=build_tables(config, m),
        figures={"curves_grid": curves_grid_figure(config, m),
                 "metrics_vs_prevalence": metrics_vs_prevalence_figure(config, m)},
        notes=build_notes(config, m),
        captions={
            "curves_grid": "ROC and precision-recall curves of each model on the first seed's test set at every "
                           "class ratio, with each curve's chance level dashed.",
            "metrics_vs_prevalence": "Mean ROC-AUC and average precision against the test set's positive "
                                     "prevalence, retrained at every ratio (solid) and for a model fitted once on "
                                     "balanced data (dotted), with the chance level of each and the measured "
                                     "no-skill AP.",
        })


# --- run ----------------------------------------------------------------------------------------------


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Measure every model at every class ratio, judge the claims, and present curves, tables and notes."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))
