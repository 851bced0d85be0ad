"""norms' claims: paired per-seed comparisons of the kinds, one test per dataset and kind, decided together
(the experiment: norms/__init__.py)."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.norms.config import Config
from replab.experiments.bn.norms.measure import DatasetResult, Measurements
from replab.nn.normalized_mlp import NORM_LABELS

BATCH_FREE = ("layer", "rms", "weight", "group")
"""Kinds whose output for an example does not depend on the rest of its mini-batch."""


def differences(d: DatasetResult, kind: str, other: str, measure_name: str = "final_accuracy") -> np.ndarray:
    """Per-seed `measure_name` of `kind` minus that of `other` (paired: the same seed's weights and batches)."""
    return getattr(d.kinds[kind], measure_name) - getattr(d.kinds[other], measure_name)


def fmt_difference(values: np.ndarray) -> str:
    return f"{values.mean():+.4f} (std {values.std(ddof=1):.4f})" if values.size > 1 else f"{values.mean():+.4f}"


def evidence_base(config: Config, m: Measurements) -> EvidenceBase:
    return study.evidence_base(config, m.datasets)


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Up to three findings, one test per dataset and kind, paired over seeds, decided together."""
    claims = [train_faster_claim(config, m)]
    if "batch" in config.kinds:
        claims.append(bn_best_claim(config, m))
        batch_free = [k for k in BATCH_FREE if k in config.kinds]
        if batch_free:
            claims.append(batch_free_claim(config, m, batch_free))
    return decide(claims)


def train_faster_claim(config: Config, m: Measurements) -> Claim:
    tie = config.tie_within
    tests, evidence = [], []
    others = [k for k in config.kinds if k != "none"]
    for d in m.datasets:
        for k in others:
            tests.append(stats.paired(d.kinds[k].curve_mean, d.kinds["none"].curve_mean,
                                      f"{d.label}: {NORM_LABELS[k]}", margin=tie))
        evidence.append(f"{d.label}: " + "; ".join(
            f"{NORM_LABELS[k]} {fmt_difference(differences(d, k, 'none', 'curve_mean'))}" for k in others))
    records = len(m.datasets[0].steps) if m.datasets else 0
    return finding(
        "norms-train-faster",
        "Every normalisation trains faster than none: its test accuracy averaged over the training curve is higher",
        effect="accuracy averaged over the training curve, kind − no normalisation, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence=f"Per seed, accuracy on the first {config.eval_size:,} test images (all, if fewer) averaged over the "
        f"{records} record points (every {config.record_every} steps of {config.steps:,}), kind minus no "
        f"normalisation, mean (std) over {config.n_seeds} paired seeds: " + " | ".join(evidence) + ". One test per "
        f"kind and dataset; a gain within ±{tie:g} is negligible (the equivalence margin), so a kind shown to be "
        "that close to no normalisation counts against the claim.")


def bn_best_claim(config: Config, m: Measurements) -> Claim:
    tie = config.tie_within
    rivals = [k for k in config.kinds if k != "batch"]
    tests, evidence = [], []
    for d in m.datasets:
        for k in rivals:
            tests.append(stats.one_sample(differences(d, "batch", k), f"{d.label}: BN − {NORM_LABELS[k]}", null=-tie))
        order = sorted(config.kinds, key=lambda k: -d.kinds[k].final_accuracy_mean)
        evidence.append(f"{d.label}: BatchNorm ranks {order.index('batch') + 1} of {len(order)} by mean final "
                        f"accuracy; " + "; ".join(f"BN − {NORM_LABELS[k]} {fmt_difference(differences(d, 'batch', k))}"
                                                   for k in rivals))
    return finding(
        "bn-best-or-tied",
        f"BatchNorm reaches the best final test accuracy of the {len(config.kinds)} normalisations compared, or ties "
        f"with the best: no other kind is more accurate by more than the tie tolerance {tie:g}",
        effect=f"final test accuracy of BatchNorm − of each other kind, per seed, against −{tie:g} (non-inferiority)",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence=" | ".join(evidence) + f". Paired over {config.n_seeds} seeds; one test per rival and dataset: holds "
        f"if BN is shown above every rival − {tie:g}, fails if some rival is shown more than {tie:g} above BN.")


def batch_free_claim(config: Config, m: Measurements, batch_free: list[str]) -> Claim:
    tie = config.tie_within
    tests, evidence = [], []
    for d in m.datasets:
        for k in batch_free:
            tests.append(stats.one_sample(differences(d, k, "batch"), f"{d.label}: {NORM_LABELS[k]} − BN", null=-tie))
        evidence.append(f"{d.label}: " + "; ".join(
            f"{NORM_LABELS[k]} − BN {fmt_difference(differences(d, k, 'batch'))}" for k in batch_free))
    return finding(
        "batch-free-match-bn",
        f"The normalisations that do not depend on the mini-batch ({', '.join(NORM_LABELS[k] for k in batch_free)}) "
        f"match BatchNorm's final test accuracy: none falls more than the tie tolerance {tie:g} below it",
        effect=f"final test accuracy of each batch-free kind − of BatchNorm, per seed, against −{tie:g} "
               "(non-inferiority)",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence=" | ".join(evidence) + f". Paired over {config.n_seeds} seeds; one test per kind and dataset: holds "
        f"if every batch-free kind is shown above BN − {tie:g}, fails if one is shown below it.")
