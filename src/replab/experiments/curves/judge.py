"""The curves' claims: tests across class ratios (stats), and the trapezoid checks."""

from __future__ import annotations

import numpy as np
import scipy.stats

from replab import stats
from replab.claims import Claim, EvidenceBase, check, decide, finding
from replab.experiments.curves.config import MODEL_LABELS, Config
from replab.experiments.curves.measure import (
    COARSE_DECIMALS,
    MINIMUM_TEST_POSITIVES,
    THEOREM_TOLERANCE,
    Measurements,
    exact_chance_precision,
)


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
