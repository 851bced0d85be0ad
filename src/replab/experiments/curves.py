"""How do ROC and precision-recall curves differ as the positive class gets rarer?

The same synthetic problem (scikit-learn's make_classification) is generated at several class ratios
with the positive class as the minority. Two scorers are fitted on a stratified training split and
judged on the test split by ROC-AUC, average precision (the step-wise area under the PR curve) and
the trapezoidal PR-AUC, over several seeds. A no-skill scorer (uniformly random scores) measures
where each curve's chance level really lies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (PrecisionRecallDisplay, RocCurveDisplay, auc, average_precision_score,
                             precision_recall_curve, roc_auc_score)
from threadpoolctl import threadpool_limits

from replab.claims import Claim, judge
from replab.data.synthetic import Split, imbalanced_classification
from replab.errors import check_positive_int, check_seed, require
from replab.experiments.base import Progress, Result, Table, no_progress

NAME = "curves"
TITLE = "ROC vs precision-recall curves as the positive class gets rarer (50/50 to 99/1)"
QUESTION = (
    "How do ROC and precision-recall curves differ as classes become imbalanced (50/50, 75/25, 90/10, 99/1)? "
    "Which metric should you report when the classes are balanced, and which when positives are rare?"
)

MODEL_LABELS = {
    "logistic": "logistic regression",
    "hist_gradient_boosting": "gradient boosting",
    "random_forest": "random forest",
}
MINIMUM_SAMPLES = 1000
MINIMUM_POSITIVES = 2
"""Per split, at the rarest level: a stratified split needs at least two members of each class."""
CHANCE_FLAGGED_FRACTIONS = np.linspace(0.1, 0.9, 9)
"""The no-skill scorer's precision is read after flagging the top 10%, 20%, ..., 90% of the test set."""
CHANCE_Z_LIMIT = 3.0
CHANCE_EPSILON = 1e-9
COARSE_DECIMALS = 1
"""Scores rounded to one decimal (at most 11 distinct values) show what ties do to the trapezoid."""
COLOURS = ("tab:blue", "tab:orange", "tab:green")
SKLEARN_DEFAULT_FLIP_Y = 0.01


# --- configuration --------------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def level_label(negative_share: float) -> str:
    """0.99 -> '99/1' (negative/positive percentages)."""
    return f"{round(negative_share * 100, 4):g}/{round((1 - negative_share) * 100, 4):g}"


@dataclass(frozen=True)
class Config:
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
    roc_tolerance: float = 0.05
    """roc-stable holds if mean ROC-AUC moves by at most this much from the most balanced to the rarest level."""
    seed: int = 0

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_positive_int("n_samples", self.n_samples, minimum=MINIMUM_SAMPLES)
        check_positive_int("n_seeds", self.n_seeds, minimum=2)
        check_positive_int("n_chance_draws", self.n_chance_draws, minimum=10)
        self._check_shares()
        require(_is_number(self.flip_y) and 0 <= self.flip_y <= 0.5,
                f"flip_y must be a number between 0 and 0.5, got {self.flip_y!r}")
        require(_is_number(self.test_share) and 0 < self.test_share < 1,
                f"test_share must be a number strictly between 0 and 1, got {self.test_share!r}")
        require(_is_number(self.roc_tolerance) and self.roc_tolerance > 0,
                f"roc_tolerance must be a positive number, got {self.roc_tolerance!r}")
        require(isinstance(self.models, tuple) and len(self.models) > 0,
                f"models must list at least one of {', '.join(MODEL_LABELS)}")
        for model in self.models:
            require(model in MODEL_LABELS, f"unknown model {model!r}; choose from {', '.join(MODEL_LABELS)}")
        require(len(set(self.models)) == len(self.models), f"models lists a model twice: {', '.join(self.models)}")
        self._check_enough_positives()

    def _check_shares(self) -> None:
        shares = self.negative_shares
        require(isinstance(shares, tuple) and len(shares) >= 2,
                f"negative_shares must list at least two class ratios, e.g. 0.5,0.9, got {shares!r}")
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
        return cls(n_samples=1000, n_seeds=2, n_chance_draws=50)


# --- data and models ------------------------------------------------------------------------------


def data_seeds(seed: int, n_seeds: int) -> list[int]:
    """One seed per repetition, derived from the config seed."""
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


# --- the no-skill scorer ----------------------------------------------------------------------------


def no_skill_draws(y_true: np.ndarray, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Precision, ROC-AUC and AP of uniformly random scores, one value per draw.

    Precision is read after flagging fixed fractions of the test set: for a random ranking the flagged
    set is a random sample, so its precision is an unbiased estimate of the prevalence. (Precision where
    recall first reaches 0.5 is not: it stops at a random rank and is biased upwards when positives are
    few, as is the no-skill AP.)
    """
    n = len(y_true)
    flagged = np.ceil(CHANCE_FLAGGED_FRACTIONS * n).astype(int)
    precision, roc, ap = [], [], []
    for _ in range(n_draws):
        scores = rng.random(n)
        hits = np.cumsum(y_true[np.argsort(-scores)])
        precision.append(hits[flagged - 1] / flagged)
        roc.append(roc_auc_score(y_true, scores))
        ap.append(average_precision_score(y_true, scores))
    return {"precision": np.array(precision), "roc_auc": np.array(roc), "ap": np.array(ap)}


def _mean_se(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "se": float(np.std(values, ddof=1) / np.sqrt(len(values)))}


def no_skill_summary(y_true: np.ndarray, n_draws: int, rng: np.random.Generator) -> dict:
    draws = no_skill_draws(y_true, n_draws, rng)
    per_draw_precision = draws["precision"].mean(axis=1)
    return {
        "test_prevalence": float(np.mean(y_true)),
        "n_test": int(len(y_true)),
        "n_draws": n_draws,
        "precision": _mean_se(per_draw_precision),
        "precision_by_flagged_fraction": [float(v) for v in draws["precision"].mean(axis=0)],
        "flagged_fractions": [float(f) for f in CHANCE_FLAGGED_FRACTIONS],
        "roc_auc": _mean_se(draws["roc_auc"]),
        "ap": _mean_se(draws["ap"]),
    }


# --- the experiment ---------------------------------------------------------------------------------


def _summary(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)), "values": [float(v) for v in values]}


def run_level(config: Config, level: int, seeds: list[int], step, first_seed_scores: dict) -> dict:
    """Fit every model on every repetition at one imbalance level; summarise over repetitions."""
    share = config.negative_shares[level]
    label = level_label(share)
    per_model = {name: {"roc_auc": [], "ap": [], "trapezoid_pr_auc": [], "coarse_gap": []} for name in config.models}
    counts = {"n_train": [], "n_train_positive": [], "n_test": [], "n_test_positive": []}
    first_test = None
    for repetition, data_seed in enumerate(seeds):
        split = make_split(config, share, data_seed)
        X_train, X_test, y_train, y_test = split.x_train, split.x_test, split.y_train, split.y_test
        counts["n_train"].append(int(len(y_train)))
        counts["n_train_positive"].append(int(y_train.sum()))
        counts["n_test"].append(int(len(y_test)))
        counts["n_test_positive"].append(int(y_test.sum()))
        if repetition == 0:
            first_test = y_test
        for name in config.models:
            scores = positive_scores(name, data_seed, X_train, y_train, X_test)
            for key, value in curve_metrics(y_test, scores).items():
                per_model[name][key].append(value)
            per_model[name]["coarse_gap"].append(coarse_trapezoid_gap(y_test, scores))
            if repetition == 0:
                first_seed_scores[(level, name)] = (y_test, scores)
            step(f"level {label}, seed {repetition + 1}/{len(seeds)}, {MODEL_LABELS[name]}")
    test_prevalence = np.array(counts["n_test_positive"]) / np.array(counts["n_test"])
    train_prevalence = np.array(counts["n_train_positive"]) / np.array(counts["n_train"])
    models = {}
    for name, values in per_model.items():
        gaps = np.array(values["trapezoid_pr_auc"]) - np.array(values["ap"])
        models[name] = {
            "roc_auc": _summary(values["roc_auc"]),
            "ap": _summary(values["ap"]),
            "trapezoid_pr_auc": _summary(values["trapezoid_pr_auc"]),
            "trapezoid_minus_ap": _summary(list(gaps)),
            "coarse_trapezoid_minus_ap": _summary(values["coarse_gap"]),
        }
    rng = np.random.default_rng([config.seed, level])
    chance = no_skill_summary(first_test, config.n_chance_draws, rng)
    step(f"level {label}, no-skill scorer ({config.n_chance_draws} draws)")
    return {
        "label": label,
        "negative_share": float(share),
        "nominal_prevalence": float(1 - share),
        "expected_prevalence": float((1 - share) * (1 - config.flip_y) + config.flip_y / 2),
        "test_prevalence": {"mean": float(test_prevalence.mean()), "std": float(test_prevalence.std(ddof=1)),
                            "values": [float(v) for v in test_prevalence]},
        "train_prevalence": {"mean": float(train_prevalence.mean()), "values": [float(v) for v in train_prevalence]},
        "counts": counts,
        "models": models,
        "chance": chance,
    }


def run(config: Config, progress: Progress = no_progress) -> Result:
    seeds = data_seeds(config.seed, config.n_seeds)
    n_levels = len(config.negative_shares)
    total = n_levels * (config.n_seeds * len(config.models) + 1)
    done = 0

    def step(description: str) -> None:
        nonlocal done
        done += 1
        progress(done, total, description)

    first_seed_scores: dict = {}
    levels = [run_level(config, level, seeds, step, first_seed_scores) for level in range(n_levels)]
    metrics = {
        "data_seeds": seeds,
        "models": list(config.models),
        "level_order": [level["label"] for level in levels],
        "levels": {level["label"]: level for level in levels},
        "change_most_balanced_to_rarest": changes(levels, config.models),
    }
    return Result(
        metrics=metrics,
        tables=build_tables(levels, config),
        figures={
            "curves_grid": curves_grid_figure(levels, config, first_seed_scores),
            "metrics_vs_prevalence": metrics_vs_prevalence_figure(levels, config),
        },
        claims=build_claims(levels, config),
        notes=build_notes(levels, config),
    )


def changes(levels: list[dict], models) -> dict:
    """Mean ROC-AUC and AP at the rarest level minus those at the most balanced, per model."""
    first, last = levels[0]["models"], levels[-1]["models"]
    return {name: {metric: last[name][metric]["mean"] - first[name][metric]["mean"] for metric in ("roc_auc", "ap")}
            for name in models}


# --- claims -------------------------------------------------------------------------------------------


def _means(levels: list[dict], model: str, metric: str) -> list[float]:
    return [level["models"][model][metric]["mean"] for level in levels]


def claim_roc_stable(levels: list[dict], config: Config) -> Claim:
    first, last = levels[0], levels[-1]
    delta = changes(levels, config.models)
    parts = []
    for name in config.models:
        roc = (first["models"][name]["roc_auc"]["mean"], last["models"][name]["roc_auc"]["mean"])
        ap = (first["models"][name]["ap"]["mean"], last["models"][name]["ap"]["mean"])
        parts.append(f"{MODEL_LABELS[name]}: ROC-AUC {roc[0]:.4f} → {roc[1]:.4f} (Δ {delta[name]['roc_auc']:+.4f}) "
                     f"while AP {ap[0]:.4f} → {ap[1]:.4f} (Δ {delta[name]['ap']:+.4f})")
    holds = all(abs(delta[name]["roc_auc"]) <= config.roc_tolerance for name in config.models)
    evidence = (f"From {first['label']} to {last['label']}, mean over {config.n_seeds} seeds: " + "; ".join(parts)
                + f". Tolerance for ROC-AUC: ±{config.roc_tolerance:g}.")
    return judge("roc-stable", "ROC-AUC barely moves as imbalance grows", holds, evidence)


def claim_ap_falls(levels: list[dict], config: Config) -> Claim:
    labels = [level["label"] for level in levels]
    parts, monotone, rises_overall = [], [], []
    for name in config.models:
        ap = _means(levels, name, "ap")
        monotone.append(all(b < a for a, b in zip(ap, ap[1:])))
        rises_overall.append(ap[-1] >= ap[0])
        parts.append(f"{MODEL_LABELS[name]}: " + ", ".join(f"{label} {value:.4f}" for label, value in zip(labels, ap)))
    holds = True if all(monotone) else (False if any(rises_overall) else None)
    evidence = f"Mean AP over {config.n_seeds} seeds, most balanced first: " + "; ".join(parts) + "."
    if holds is None:
        evidence += " AP is lower at the rarest level than at the most balanced, but not falling at every step."
    return judge("ap-falls", "Average precision falls as positives get rarer", holds, evidence)


def claim_pr_chance(levels: list[dict], config: Config) -> Claim:
    parts, within = [], []
    for level in levels:
        chance = level["chance"]
        prevalence, measured = chance["test_prevalence"], chance["precision"]
        z = (measured["mean"] - prevalence) / measured["se"] if measured["se"] > 0 else 0.0
        within.append(abs(measured["mean"] - prevalence) <= CHANCE_Z_LIMIT * measured["se"] + CHANCE_EPSILON)
        parts.append(f"{level['label']}: prevalence {prevalence:.4f}, no-skill precision {measured['mean']:.4f} "
                     f"± {measured['se']:.4f} (z {z:+.2f}), no-skill ROC-AUC {chance['roc_auc']['mean']:.3f} "
                     f"± {chance['roc_auc']['se']:.3f}, no-skill AP {chance['ap']['mean']:.4f}")
    evidence = (f"Uniformly random scores, {config.n_chance_draws} draws per level on the first seed's test set; "
                f"precision averaged over flagging the top 10%…90%, mean ± standard error; holds if the prevalence "
                f"lies within {CHANCE_Z_LIMIT:g} standard errors at every level. " + "; ".join(parts) + ".")
    return judge("pr-chance-is-prevalence", "The PR chance level equals the positive prevalence", all(within), evidence)


def claim_trapezoid_overstates(levels: list[dict], config: Config) -> Claim:
    cells = [(level["label"], name, level["models"][name]["trapezoid_minus_ap"]["mean"],
              level["models"][name]["coarse_trapezoid_minus_ap"]["mean"])
             for level in levels for name in config.models]
    gaps = np.array([gap for _, _, gap, _ in cells])
    coarse = np.array([gap for _, _, _, gap in cells])
    largest, smallest = cells[int(np.argmax(gaps))], cells[int(np.argmin(gaps))]
    evidence = (f"Mean (trapezoid − AP) over {config.n_seeds} seeds is positive in {int((gaps > 0).sum())} of "
                f"{len(cells)} level×model cells; mean {gaps.mean():+.5f}, largest {largest[2]:+.5f} "
                f"({MODEL_LABELS[largest[1]]} at {largest[0]}), smallest {smallest[2]:+.5f} "
                f"({MODEL_LABELS[smallest[1]]} at {smallest[0]}). "
                + "; ".join(f"{label} {MODEL_LABELS[name]} {gap:+.5f}" for label, name, gap, _ in cells)
                + f". With scores rounded to {COARSE_DECIMALS} decimal (tied scores, few thresholds) the gap is "
                f"positive in {int((coarse > 0).sum())} of {len(cells)} cells, mean {coarse.mean():+.5f}, "
                f"largest {coarse.max():+.5f}.")
    return judge("trapezoid-overstates", "The trapezoidal PR-AUC overstates average precision",
                 bool(np.all(gaps > 0)), evidence)


def build_claims(levels: list[dict], config: Config) -> list[Claim]:
    return [claim_roc_stable(levels, config), claim_ap_falls(levels, config), claim_pr_chance(levels, config),
            claim_trapezoid_overstates(levels, config)]


# --- notes --------------------------------------------------------------------------------------------


def _metric_list(level: dict, metric: str) -> str:
    return ", ".join(f"{MODEL_LABELS[name]} {values[metric]['mean']:.3f}" for name, values in level["models"].items())


def balanced_note(levels: list[dict]) -> str:
    level = levels[0]
    return (f"Balanced data — report ROC-AUC (and the ROC curve). At {level['label']} (measured prevalence "
            f"{level['test_prevalence']['mean']:.3f}) ROC-AUC is {_metric_list(level, 'roc_auc')} and AP is "
            f"{_metric_list(level, 'ap')}: the two agree, both chance levels sit near 0.5 (no-skill ROC-AUC "
            f"{level['chance']['roc_auc']['mean']:.3f}, no-skill precision {level['chance']['precision']['mean']:.3f}), "
            f"and ROC-AUC reads the same whatever the class ratio of the test set. Scenario: a spam filter on a "
            f"mailbox that is roughly half spam, or an A/B comparison of two image classifiers on a balanced test "
            f"set, where false positives and false negatives matter about equally.")


def imbalanced_note(levels: list[dict]) -> str:
    first, last = levels[0], levels[-1]
    negatives = round((1 - last["chance"]["test_prevalence"]) * last["chance"]["n_test"])
    positives = round(last["chance"]["test_prevalence"] * last["chance"]["n_test"])
    return (f"Imbalanced data — report the precision-recall curve and average precision, next to the prevalence. "
            f"At {last['label']} ROC-AUC is {_metric_list(last, 'roc_auc')} ({_metric_list(first, 'roc_auc')} at "
            f"{first['label']}), while AP is {_metric_list(last, 'ap')} ({_metric_list(first, 'ap')} at "
            f"{first['label']}) against a chance level of {last['chance']['test_prevalence']:.4f}, the prevalence. "
            f"ROC's false-positive rate divides by the {negatives} negatives of the test set, so many false alarms "
            f"barely move it; precision weighs them against the {positives} positives. Scenario: fraud detection or "
            f"rare-disease screening where about 1% of cases are positive — whoever reviews the flagged cases needs "
            f"to know what fraction of them are real, which AP measures and ROC-AUC hides.")


def chance_ap_note(levels: list[dict]) -> str:
    last = levels[-1]
    chance = last["chance"]
    positives = round(chance["test_prevalence"] * chance["n_test"])
    return (f"The horizontal PR chance line is the expected precision at any fixed threshold, but the expected AP of "
            f"a random scorer is higher when positives are few: at {last['label']} the test set holds {positives} "
            f"positives and the no-skill AP is {chance['ap']['mean']:.4f} ± {chance['ap']['se']:.4f} against a "
            f"prevalence of {chance['test_prevalence']:.4f}, because the first positives found by chance can sit "
            f"high in the ranking. With few positives, compare AP with this measured baseline too.")


def trapezoid_note(levels: list[dict], config: Config) -> str:
    gaps = [level["models"][name]["trapezoid_minus_ap"]["mean"] for level in levels for name in config.models]
    coarse = [level["models"][name]["coarse_trapezoid_minus_ap"]["mean"] for level in levels for name in config.models]
    return (f"Trapezoid versus step-wise area: with every threshold of continuous scores on the curve, trapezoid − AP "
            f"ranges from {min(gaps):+.5f} to {max(gaps):+.5f}; when a positive is found, precision jumps up, and the "
            f"trapezoid averages the jump while AP takes the new value, so the trapezoid can come out slightly lower. "
            f"The optimism scikit-learn warns about comes from interpolating across tied scores: on the same scores "
            f"rounded to {COARSE_DECIMALS} decimal the gap ranges from {min(coarse):+.5f} to {max(coarse):+.5f}. "
            f"Use average_precision_score either way.")


def _noise_share(prevalence: float, flip_y: float) -> float:
    """Expected share of positives whose label make_classification re-drew at random."""
    return (flip_y / 2) / (prevalence * (1 - flip_y) + flip_y / 2)


def flip_note(levels: list[dict], config: Config) -> str:
    last = levels[-1]
    if config.flip_y == 0:
        return (f"flip_y = 0, so no labels are re-drawn at random and the measured test prevalence matches the nominal "
                f"share (at {last['label']}: {last['test_prevalence']['mean']:.4f} vs {last['nominal_prevalence']:.4f}). "
                f"With scikit-learn's default flip_y = 0.01 half of the re-drawn labels land on the positive class at "
                f"every ratio, so at {last['label']} about {_noise_share(last['nominal_prevalence'], SKLEARN_DEFAULT_FLIP_Y):.0%} "
                f"of the positives would be random labels.")
    noise = _noise_share(last["nominal_prevalence"], config.flip_y)
    return (f"flip_y = {config.flip_y:g} re-draws that share of labels at random, which moves the prevalence towards "
            f"0.5: at {last['label']} the measured test prevalence is {last['test_prevalence']['mean']:.4f} against "
            f"a nominal {last['nominal_prevalence']:.4f}, and about {noise:.0%} of the positives there are random "
            f"labels no model can rank, which lowers ROC-AUC as well as AP at that level.")


def build_notes(levels: list[dict], config: Config) -> list[str]:
    return [balanced_note(levels), imbalanced_note(levels), chance_ap_note(levels), trapezoid_note(levels, config),
            flip_note(levels, config)]


# --- tables -------------------------------------------------------------------------------------------


def _pm(summary: dict, key: str = "std", digits: int = 4) -> str:
    return f"{summary['mean']:.{digits}f} ± {summary[key]:.{digits}f}"


def build_tables(levels: list[dict], config: Config) -> list[Table]:
    rows = []
    for level in levels:
        for name in config.models:
            values = level["models"][name]
            rows.append([level["label"], MODEL_LABELS[name], round(level["nominal_prevalence"], 4),
                         _pm(level["test_prevalence"]), _pm(values["roc_auc"]), _pm(values["ap"]),
                         _pm(values["trapezoid_pr_auc"]), _pm(values["trapezoid_minus_ap"], digits=5)])
    metrics_table = Table(
        "Curve metrics per imbalance level",
        ["level (neg/pos)", "model", "nominal positive share", "measured test prevalence", "ROC-AUC",
         "average precision", "trapezoid PR-AUC", "trapezoid − AP"],
        rows,
        f"Mean ± standard deviation over {config.n_seeds} seeds (each a new dataset of {config.n_samples} samples "
        f"and a stratified split with test share {config.test_share:g}); flip_y = {config.flip_y:g}.")
    chance_rows = [[level["label"], round(level["chance"]["test_prevalence"], 4), _pm(level["chance"]["precision"], "se"),
                    _pm(level["chance"]["roc_auc"], "se"), _pm(level["chance"]["ap"], "se")] for level in levels]
    chance_table = Table(
        "No-skill scorer",
        ["level (neg/pos)", "test prevalence", "precision", "ROC-AUC", "average precision"],
        chance_rows,
        f"Uniformly random scores on the first seed's test set, {config.n_chance_draws} draws per level, mean ± "
        f"standard error; precision averaged over flagging the top 10%, 20%, …, 90% of the test set.")
    return [metrics_table, chance_table]


# --- figures ------------------------------------------------------------------------------------------


def _recolour(display, colour: str) -> None:
    display.line_.set_color(colour)


def curves_grid_figure(levels: list[dict], config: Config, first_seed_scores: dict) -> Figure:
    figure = Figure(figsize=(4.2 * len(levels), 8.4), layout="constrained")
    axes = figure.subplots(2, len(levels), squeeze=False)
    for column, level in enumerate(levels):
        roc_ax, pr_ax = axes[0, column], axes[1, column]
        for index, name in enumerate(config.models):
            y_test, scores = first_seed_scores[(column, name)]
            colour = COLOURS[index % len(COLOURS)]
            roc = RocCurveDisplay.from_predictions(y_test, scores, name=MODEL_LABELS[name], ax=roc_ax,
                                                   plot_chance_level=index == 0)
            pr = PrecisionRecallDisplay.from_predictions(y_test, scores, name=MODEL_LABELS[name], ax=pr_ax,
                                                         plot_chance_level=index == 0)
            _recolour(roc, colour)
            _recolour(pr, colour)
        roc_ax.set_title(f"ROC, {level['label']}")
        pr_ax.set_title(f"Precision-recall, {level['label']} (prevalence {level['chance']['test_prevalence']:.3f})")
        for ax in (roc_ax, pr_ax):
            ax.legend(loc="lower right" if ax is roc_ax else "best", fontsize="small")
    figure.suptitle("ROC (top) and precision-recall (bottom) curves, first seed; dashed: chance level")
    return figure


def metrics_vs_prevalence_figure(levels: list[dict], config: Config) -> Figure:
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    roc_ax, ap_ax = figure.subplots(1, 2)
    prevalence = np.array([level["test_prevalence"]["mean"] for level in levels])
    for index, name in enumerate(config.models):
        colour = COLOURS[index % len(COLOURS)]
        for ax, metric in ((roc_ax, "roc_auc"), (ap_ax, "ap")):
            means = [level["models"][name][metric]["mean"] for level in levels]
            stds = [level["models"][name][metric]["std"] for level in levels]
            ax.errorbar(prevalence, means, yerr=stds, marker="o", capsize=3, color=colour, label=MODEL_LABELS[name])
    span = np.geomspace(prevalence.min() * 0.8, max(prevalence.max() * 1.2, 0.6), 50)
    roc_ax.axhline(0.5, color="k", linestyle="--", label="chance (ROC-AUC = 0.5)")
    ap_ax.plot(span, span, color="k", linestyle="--", label="chance (AP = prevalence)")
    ap_ax.plot(prevalence, [level["chance"]["ap"]["mean"] for level in levels], "k^", markersize=5,
               label="measured no-skill AP")
    for ax, ylabel in ((roc_ax, "ROC-AUC"), (ap_ax, "average precision")):
        ax.set_xscale("log")
        ax.set_xlabel("positive prevalence in the test set (log scale)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize="small", loc="lower right")
        ax.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"Mean ± std over {config.n_seeds} seeds against positive prevalence")
    return figure
