"""bn-ics' claims: the manipulation check and the findings paired over seeds (the experiment: this package's
__init__.py)."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, check, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.ics.config import Config
from replab.experiments.bn.ics.measure import CELLS, LABELS, DatasetResult, Measurements


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Injected shift is a manipulation check; BN's reduced shift (in inference mode) and its gain surviving the
    shift are findings paired over seeds, decided together (`claims.decide`).
    """
    base = study.evidence_base(config, m.datasets)
    return decide([survives_claim(config, m, base), more_shift_claim(config, m, base),
                   bn_less_shift_claim(config, m, base)])


def kept_text(bn_gain: np.ndarray, noisy_gain: np.ndarray) -> str:
    if bn_gain.mean() == 0:
        return "no BN gain to keep"
    return f"kept {noisy_gain.mean() / bn_gain.mean():.0%} of BN's gain"


def survives_claim(config: Config, m: Measurements, base) -> Claim:
    tests, evidence = [], []
    k = config.keep_fraction
    for d in m.datasets:
        none, bn, noisy = d.final_accuracy
        bn_gain, noisy_gain = bn - none, noisy - none
        tests += [stats.paired(bn, none, f"{d.info.label}: BN − baseline"),
                  stats.paired(noisy_gain, k * bn_gain, f"{d.info.label}: noisy BN − baseline − {k:g} × (BN − baseline)")]
        evidence.append(
            f"{d.info.label}: final accuracy without BN {study.pm(none)}, BN {study.pm(bn)}, noisy BN {study.pm(noisy)}; "
            f"BN − baseline {bn_gain.mean():+.4f}, noisy BN − baseline {noisy_gain.mean():+.4f}, "
            f"{kept_text(bn_gain, noisy_gain)}")
    return finding(
        "bn-benefit-survives-shift",
        "BN's benefit survives injected, time-varying shift and scale after every BN layer: noisy BN still beats no "
        f"normalisation by more than {k:g} of BN's margin (so reducing internal covariate shift is not what makes BN "
        "work)",
        effect=f"per dataset, two paired differences of final test accuracy over seeds: BN − baseline (BN has a benefit "
               f"to keep), and (noisy BN − baseline) − {k:g} × (BN − baseline) (noisy BN keeps more than {k:g} of it)",
        direction="greater", tests=tests, base=base,
        evidence="; ".join(evidence) + f". Paired over {config.n_seeds} seeds after {config.steps:,} steps at learning "
        f"rate {config.learning_rate:g}; holds only if both tests hold on every dataset.")


def shift_values(d: DatasetResult, values: np.ndarray) -> str:
    return ", ".join(f"{LABELS[c]} {study.pm(values[i], 3)}" for i, c in enumerate(CELLS))


def more_shift_claim(config: Config, m: Measurements, base) -> Claim:
    passed, evidence = bool(m.datasets), []
    for d in m.datasets:
        noisy = d.shift[d.cell("noisy")]
        others = np.concatenate([d.shift[d.cell("none")], d.shift[d.cell("batch")]])
        separated = bool(noisy.min() > others.max())
        passed = passed and separated
        evidence.append(f"{d.info.label}: shift {shift_values(d, d.shift)}; noisy BN's smallest {noisy.min():.3f} "
                        f"{'>' if separated else '≤'} the others' largest {others.max():.3f}")
    return check(
        "noise-increases-shift",
        "With the injected noise, the distribution of the last hidden layer's sigmoid inputs moves more than with BN "
        "and more than without BN (a manipulation check: the test really puts covariate shift back)",
        passed=passed, base=base,
        evidence="; ".join(evidence) + f". Shift: per unit, √(variance over the record points of the mean + the same "
        f"of the std) of its input over the first {m.datasets[0].probe_images if m.datasets else config.probe_size:,} "
        "training images, averaged over units, as training sees it "
        "(noise included). Passes if, on every dataset, every noisy-BN seed moves more than every seed of the other "
        "two cells: the noise is the manipulation, so it must separate them.")


def bn_less_shift_claim(config: Config, m: Measurements, base) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        none, bn = d.inference_shift[d.cell("none")], d.inference_shift[d.cell("batch")]
        tests.append(stats.paired(none, bn, d.info.label))
        evidence.append(f"{d.info.label}: inference-mode shift {shift_values(d, d.inference_shift)} (as training "
                        f"sees it: without BN {study.pm(d.shift[0], 3)}, BN {study.pm(d.shift[1], 3)})")
    return finding(
        "bn-reduces-shift",
        "Plain BN reduces internal covariate shift: in inference mode, the last hidden layer's sigmoid inputs move "
        "less over training than without BN (Ioffe & Szegedy's Figure 1(b, c))",
        effect="baseline − BN shift of the last hidden layer's input in inference mode, per seed",
        direction="greater", tests=tests, base=base,
        evidence="; ".join(evidence) + f". Shift as in noise-increases-shift, but computed in inference mode: BN "
        "normalises with its moving averages, so the probe's per-unit moments are not β and γ by construction (as "
        f"they are with batch statistics) but what the network as used sees. Paired over {config.n_seeds} seeds, one "
        "test per dataset.")
