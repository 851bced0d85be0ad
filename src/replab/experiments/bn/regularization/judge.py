"""bn-regularization's claims, decided over seeds by the statistics layer."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, EvidenceBase, check, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.regularization.config import Config
from replab.experiments.bn.regularization.measure import LABELS, Dataset, Measurements, Scores


def evidence_base(config: Config, m: Measurements) -> EvidenceBase:
    return study.evidence_base(config, m.datasets)


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Four findings paired over seeds (one test per dataset) and the batch-noise check, decided together."""
    return decide([gap_claim(config, m), dropout_claim(config, m), bn_versus_dropout_claim(config, m),
                   noise_claim(config, m), batch_gap_claim(config, m)])


def gap_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        plain, bn, matched = d.none[0], d.batch[0], d.matched
        tests.append(stats.paired(matched.none, matched.batch, d.label))
        evidence.append(
            f"{d.label}: at the same training loss ({fmt_list(matched.level, '')} per seed) the accuracy gap is "
            f"{study.pm(matched.none)} without BN and {study.pm(matched.batch)} with BN, narrowing per seed "
            f"{fmt_list(matched.narrowing)}; at the end, gap without BN {study.pm(plain.gap)} (train "
            f"{study.pm(plain.train_accuracy)}, test {study.pm(plain.test_accuracy)}), with BN "
            f"{study.pm(bn.gap)} (train {study.pm(bn.train_accuracy)}, test {study.pm(bn.test_accuracy)}), "
            f"loss gap {study.pm(plain.loss_gap, 3)} vs {study.pm(bn.loss_gap, 3)}")
    return finding(
        "bn-narrows-gap",
        "Batch Normalization narrows the gap between training and test accuracy (no Dropout in either network)",
        effect="train − test accuracy without BN − with BN, where both first reach the same training loss, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". {config.steps:,} steps at batch {config.batch_size}, {config.n_seeds} "
        "seeds, paired. A network that has fitted its training data further has a larger gap whatever its "
        "regularisation, and BN fits faster, so the two are compared where their training loss (cross-entropy on the "
        f"first {config.eval_size:,} training images, inference mode, every {config.record_every} steps) first falls "
        "to the lowest level both reach, both accuracies interpolated there — the loss, not the accuracy, because "
        "both networks reach 100% training accuracy on a small training set while their fit still differs.")


def best_nonzero_rate(rates: tuple[Scores, ...]) -> int:
    """The nonzero Dropout rate with the highest mean test accuracy."""
    return 1 + int(np.argmax([np.mean(r.test_accuracy) for r in rates[1:]]))


def dropout_gain(rates: tuple[Scores, ...]) -> np.ndarray:
    """Per seed: test accuracy at the best nonzero Dropout rate − at rate 0."""
    return rates[best_nonzero_rate(rates)].test_accuracy - rates[0].test_accuracy


def dropout_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    labels = config.rate_labels
    for d in m.datasets:
        gain_plain, gain_bn = dropout_gain(d.none), dropout_gain(d.batch)
        tests.append(stats.paired(gain_plain, gain_bn, d.label))
        per_model = []
        for model, gain in (("none", gain_plain), ("batch", gain_bn)):
            rates = d.rates(model)
            accuracies = ", ".join(f"{labels[r]}: {np.mean(s.test_accuracy):.4f}" for r, s in enumerate(rates))
            per_model.append(f"{LABELS[model]} test accuracy by Dropout rate {accuracies} (best "
                             f"{labels[d.best_rate_index(model)]}; gain of rate {labels[best_nonzero_rate(rates)]} "
                             f"over none {study.pm(gain)})")
        evidence.append(f"{d.label}: " + "; ".join(per_model))
    return finding(
        "bn-replaces-dropout",
        "In a batch-normalised network Dropout can be removed or reduced (§3.4): Dropout improves the test accuracy "
        "of the network with BN less than that of the network without BN",
        effect="Dropout's gain in test accuracy (best nonzero rate − no Dropout) without BN − with BN, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". {config.n_seeds} seeds, {config.steps:,} steps, paired; each network's "
        "best nonzero rate is the one with the highest mean test accuracy. Whether BN alone is as good as Dropout "
        "alone is bn-matches-dropout.")


def bn_versus_dropout(d: Dataset) -> np.ndarray:
    """Per seed: test accuracy of BN without Dropout − of the network without BN at its best Dropout rate."""
    return d.batch[0].test_accuracy - d.none[d.best_rate_index("none")].test_accuracy


def bn_versus_dropout_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        if d.tuned is None:  # measurements without the tuned sides: BN at learning_rate, best Dropout rate on test
            best = d.best_rate_index("none")
            bn, plain, bn_rate, dropout = d.batch[0], d.none[best], config.learning_rate, config.rate_labels[best]
        else:
            bn, plain, bn_rate, dropout = d.tuned.bn, d.tuned.none, d.tuned.bn_rate, f"{d.tuned.dropout_rate:g}"
        tests.append(stats.paired(bn.test_accuracy, plain.test_accuracy, d.label))
        evidence.append(f"{d.label}: BN without Dropout at its best learning rate {bn_rate:g} "
                        f"{study.pm(bn.test_accuracy)}, without BN at its best Dropout rate {dropout} (learning rate "
                        f"{config.learning_rate:g}) {study.pm(plain.test_accuracy)}; difference per seed "
                        f"{fmt_list(bn.test_accuracy - plain.test_accuracy)}")
    rates = ", ".join(f"{r:g}" for r in (config.learning_rate, *config.bn_learning_rates))
    return finding(
        "bn-matches-dropout",
        "Batch Normalization does Dropout's job: BN without Dropout, at its own best learning rate, is more accurate "
        "than the network without BN at its best Dropout rate",
        effect="test accuracy of BN without Dropout (own best rate) − of the network without BN at its best Dropout "
               "rate, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". Test accuracy after {config.steps:,} steps, {config.n_seeds} seeds, paired; "
        f"BN's rate chosen from {rates} and the baseline's Dropout rate from {', '.join(config.rate_labels)}, each by "
        f"mean validation accuracy on {config.validation_size:,} held-out training images (at most a fifth), never "
        "on the test images.")


def strictly_decreasing(values) -> bool:
    return bool(np.all(np.diff(np.asarray(values, float)) < 0))


def log_slope(sizes, values) -> float:
    """Slope of log(values) against log(sizes): −0.5 if the noise shrinks like the batch mean's standard error."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def noise_claim(config: Config, m: Measurements) -> Claim:
    passed, evidence = [], []
    sizes = np.asarray(config.noise_batch_sizes)
    for d in m.datasets:
        noise = d.noise_by_size()  # (sizes, seeds)
        decreasing = [strictly_decreasing(seed) for seed in noise.T]
        passed.append(bool(noise.min() > 0) and strictly_decreasing(noise.mean(axis=1)))
        flips = d.noise_by_size("flip_rate").mean(axis=1)
        slopes = [log_slope(sizes, seed) for seed in noise.T]
        evidence.append(
            f"{d.label}: logit std over draws at m = "
            + ", ".join(f"{size}: {v:.4f}" for size, v in zip(sizes, noise.mean(axis=1)))
            + f"; log-log slope {study.pm(slopes, 2)} (−0.5 for 1/√m); predicted class differs from the example's usual "
            + "one in " + ", ".join(f"{100 * f:.2f}%" for f in flips)
            + f" of draws; strictly decreasing for {sum(decreasing)} of {len(decreasing)} seeds")
    return check(
        "smaller-batches-noisier",
        "With BN, a training example's output depends on the rest of its mini-batch, and the smaller the mini-batch "
        "the more it varies",
        passed=bool(passed) and all(passed), base=evidence_base(config, m),
        evidence="; ".join(evidence) + ". A check, not a finding: the batch mean and variance are averages over m "
        "examples, so their spread shrinks like 1/√m (the central limit theorem). Passes if the logit std (mean over "
        "seeds) is positive and strictly decreases with m on every dataset. The trained BN networks (no Dropout, "
        f"batch {config.batch_size}); each of {config.noise_draws} draws splits {config.noise_pool:,} training images "
        "at random into mini-batches of m and runs each in training mode (Dropout off); std over draws per example "
        "and logit, averaged.")


def batch_gap_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d, runs, rule in [(d, runs, rule) for d in m.datasets
                          for runs, rule in ((d.batch_runs, "main"), (d.other_rule_runs, "other")) if runs]:
        small, large = runs[0], runs[-1]
        arm = "learning rate scaled with the batch" if small.scaled else "the same learning rate"
        label = d.label if not d.other_rule_runs else f"{d.label}, {arm}"
        tests.append(stats.paired(small.matched.narrowing, large.matched.narrowing, label))
        difference = small.matched.narrowing - large.matched.narrowing
        rows = ", ".join(f"{b.batch_size}: {study.pm(b.matched.narrowing)}" for b in runs)
        gaps = ", ".join(f"{b.batch_size}: {np.mean(b.batch.gap):.4f} vs {np.mean(b.none.gap):.4f}"
                         for b in runs)
        evidence.append(f"{label}: gap narrowing by BN at the same training loss, batch {rows}; smallest − "
                        f"largest batch {study.pm(difference)}; final gap with vs without BN {gaps}")
    scaling = ("learning rate scaled with the batch size" if config.scale_learning_rate else "the same learning rate")
    if config.both_rate_rules:
        scaling = ("learning rate scaled with the batch size and, apart, the same learning rate at every batch size "
                   "(one test per dataset and rule)")
    return finding(
        "small-batch-bn-regularizes-more",
        "BN narrows the train/test gap more at smaller mini-batches, where its batch noise is larger",
        effect=f"gap narrowing by BN at batch {config.batch_sizes[0]} − at batch {config.batch_sizes[-1]}, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + ". Networks without Dropout trained at batch sizes "
        f"{', '.join(map(str, config.batch_sizes))} with the same {config.steps * config.batch_size:,} examples seen "
        f"and the {scaling}; {config.n_seeds} seeds, paired. Narrowing = gap without BN − gap with BN where both "
        "first reach the same training loss (as in bn-narrows-gap).")


def fmt_list(values, sign: str = "+") -> str:
    return "[" + ", ".join(f"{v:{sign}.4f}" for v in values) + "]"
