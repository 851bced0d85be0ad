"""Figure 1's findings: accuracy, speed and input stability, each read twice — at the paper-like cell and with each
network at its own tuned cell — with one paired test (over seeds) per dataset, decided by `replab.stats`."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.experiments.bn.figure1.config import DATASET_LABELS, TARGET_FRACTION, Config
from replab.experiments.bn.figure1.measure import DatasetRun, Measurements


def cell_label(run: DatasetRun, cell: int) -> str:
    rate, std = run.cells[cell]
    return f"lr {rate:g}, std {std:g}"


def pair_label(run: DatasetRun, cells: tuple[int, int]) -> str:
    if cells[0] == cells[1]:
        return cell_label(run, cells[0])
    return f"baseline {cell_label(run, cells[0])} vs BN {cell_label(run, cells[1])}"


def _values(values, digits: int = 4) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def evidence_base(config: Config, m: Measurements, examples: int | None = None) -> EvidenceBase:
    judged = [run.label for run in m.runs]
    return EvidenceBase(datasets=tuple(judged),
                        skipped=tuple(DATASET_LABELS[d] for d in config.datasets if DATASET_LABELS[d] not in judged),
                        seeds=config.n_seeds, examples=examples, quick=config.quick)


READING_SUFFIX = {"paper": "", "tuned": "-tuned"}
READING_PHRASE = {"paper": "at the paper-like setting (both networks at the same learning rate and initial scale)",
                  "tuned": "with each network at its own best learning rate and initial scale (chosen on "
                           "validation splits)"}


def accuracy_finding(config: Config, m: Measurements, reading: str) -> Claim:
    tests, evidence = [], []
    for run in m.runs:
        cells = run.pair(reading)
        base, bn = run.test_accuracy[cells[0], 0], run.test_accuracy[cells[1], 1]
        tests.append(stats.paired(bn, base, f"{run.label}: {pair_label(run, cells)}"))
        evidence.append(f"{run.label} ({pair_label(run, cells)}): with BN {bn.mean():.4f}, without {base.mean():.4f} "
                        f"on {run.n_test:,} test images per seed, BN − baseline per seed "
                        f"{_values(bn - base)}")
    return finding(
        f"bn-higher-accuracy{READING_SUFFIX[reading]}",
        f"The network with Batch Normalization reaches a higher final test accuracy {READING_PHRASE[reading]}",
        effect="BN − baseline test accuracy at the last step, mean over seeds (paired by seed)", direction="greater",
        tests=tests, evidence="; ".join(evidence) + ". Paper (50,000 steps): 0.982 vs 0.972.",
        base=evidence_base(config, m, min(run.n_test for run in m.runs)))


def faster_finding(config: Config, m: Measurements, reading: str) -> Claim:
    tests, evidence = [], []
    for run in m.runs:
        cells = run.pair(reading)
        steps_to = run.steps_to_target(cells)
        ratio = steps_to[0] / steps_to[1]
        tests.append(stats.paired(np.log(steps_to[0]), np.log(steps_to[1]), f"{run.label}: {pair_label(run, cells)}"))
        never = steps_to == run.never_reached
        auc = (run.log_step_auc[cells[0], 0], run.log_step_auc[cells[1], 1])
        evidence.append(
            f"{run.label} ({pair_label(run, cells)}): target {run.target(cells).mean():.4f} on average; steps "
            f"without BN {', '.join(f'{v:,}' for v in steps_to[0])}, with BN {', '.join(f'{v:,}' for v in steps_to[1])}; "
            f"geometric-mean N {np.exp(np.log(ratio).mean()):.2f}× (resolution {run.record_every:,} steps; never "
            f"reached: {int(never[0].sum())} without, {int(never[1].sum())} with BN, counted as {run.never_reached:,}); "
            f"mean accuracy over log(step) {auc[1].mean():.4f} with BN vs {auc[0].mean():.4f} without")
    return finding(
        f"bn-faster{READING_SUFFIX[reading]}",
        f"With Batch Normalization the network reaches {TARGET_FRACTION:.0%} of the lower of the two final plateaus "
        f"in fewer steps (N× fewer, N > 1) {READING_PHRASE[reading]}",
        effect=f"mean over seeds of ln(steps without BN / steps with BN) to reach {TARGET_FRACTION:.0%} of the lower "
               f"of that seed's two final plateaus; > 0: BN is faster, exp(effect) is N",
        direction="greater", tests=tests, evidence="; ".join(evidence) + ".",
        base=evidence_base(config, m, min(run.eval_size for run in m.runs)))


def stable_finding(config: Config, m: Measurements, reading: str) -> Claim:
    tests, evidence = [], []
    for run in m.runs:
        cells = run.pair(reading)
        drift = run.unit_drift
        base, bn = drift[cells[0], 0], drift[cells[1], 1]  # (S, 2)
        label = f"{run.label}: {pair_label(run, cells)}"
        tests += [stats.paired(bn[:, 0], base[:, 0], f"{label}: median"),
                  stats.paired(bn[:, 1], base[:, 1], f"{label}: 15–85 spread")]
        evidence.append(f"{run.label} ({pair_label(run, cells)}): median drift with BN {np.nanmean(bn[:, 0]):.3f} vs "
                        f"without {np.nanmean(base[:, 0]):.3f}, spread drift with BN {np.nanmean(bn[:, 1]):.3f} vs "
                        f"without {np.nanmean(base[:, 1]):.3f}")
    return finding(
        f"bn-stable-inputs{READING_SUFFIX[reading]}",
        f"With Batch Normalization the distribution of the last hidden layer's sigmoid inputs drifts less during "
        f"training (its median and its 15th–85th spread) {READING_PHRASE[reading]}",
        effect="BN − baseline drift, mean over seeds (paired by seed); a unit's drift is max − min over training "
               "(from step 0) of its median, or of its 15–85 spread, over the fixed probe batch, divided by its mean "
               "15–85 spread; a seed's drift is the median over all units of the last hidden layer; < 0: BN drifts less",
        direction="less", tests=tests,
        evidence="; ".join(evidence) + ". Percentiles in training mode (BN normalises the probe batch with its own "
                 "statistics, as in every training step; the moving averages would add their own warm-up from step 0). "
                 "A finding, not a check: β and γ are learned and free to move.",
        base=evidence_base(config, m, min(run.probe_size for run in m.runs)))


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Six findings (three claims × two readings), one paired test per dataset (two for the drift), decided
    together by the one rule of `replab.stats` (Benjamini–Hochberg over all of them)."""
    claims = []
    for reading in ("paper", "tuned"):
        claims += [accuracy_finding(config, m, reading), faster_finding(config, m, reading),
                   stable_finding(config, m, reading)]
    return decide(claims)
