"""bn-practice's claims: each network's largest good rate and its test accuracy at its best rate, per seed, decided
by the statistics layer (paired over seeds, one test per dataset and architecture)."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.practice.config import Config
from replab.experiments.bn.practice.measure import Grid, Measurements


def largest_good_rate_per_seed(config: Config, g: Grid) -> np.ndarray:
    """(model, seed): the largest rate whose validation accuracy is within good_within of the seed's best rate and
    did not diverge; NaN where every rate diverged."""
    alive = g.diverged_at < 0
    accuracy = np.where(alive, g.validation_accuracy, -np.inf)
    best = accuracy.max(axis=1, keepdims=True)
    good = alive & (accuracy >= best - config.good_within)
    largest = np.where(good, np.asarray(config.learning_rates, float)[None, :, None], -np.inf).max(axis=1)
    return np.where(np.isfinite(largest), largest, np.nan)


def best_rate_index(g: Grid, model: int) -> int | None:
    """The rate with the highest mean validation accuracy among rates where no seed diverged (None: none)."""
    ok = ~(g.diverged_at[model] >= 0).any(axis=-1)
    if not ok.any():
        return None
    return int(np.argmax(np.where(ok, g.validation_accuracy[model].mean(axis=-1), -np.inf)))


def tuned_test_accuracy(g: Grid, model: int) -> np.ndarray | None:
    index = best_rate_index(g, model)
    return None if index is None else g.test_accuracy[model, index]


def judge(config: Config, m: Measurements) -> list[Claim]:
    base_ = study.evidence_base(config, m.datasets)
    rates_tests, rates_evidence, tuned_tests, tuned_evidence = [], [], [], []
    for g in m.grids:
        largest = largest_good_rate_per_seed(config, g)
        if np.isnan(largest).any():
            rates_tests.append(stats.unavailable(g.label, "every rate diverged for some seed, so it has no good rate"))
        else:
            rates_tests.append(stats.paired(np.log10(largest[1]), np.log10(largest[0]), g.label))
        rates_evidence.append(f"{g.label}: largest good rate per seed without BN "
                              f"{', '.join(f'{r:g}' for r in largest[0])}, with BN {', '.join(f'{r:g}' for r in largest[1])}")
        plain, bn = tuned_test_accuracy(g, 0), tuned_test_accuracy(g, 1)
        if plain is None or bn is None:
            tuned_tests.append(stats.unavailable(g.label, "one network diverged at every rate"))
            continue
        tuned_tests.append(stats.paired(bn, plain, g.label))
        tuned_evidence.append(f"{g.label}: without BN at rate {config.learning_rates[best_rate_index(g, 0)]:g} "
                              f"{study.pm(plain)}, with BN at rate {config.learning_rates[best_rate_index(g, 1)]:g} "
                              f"{study.pm(bn)}")
    protocol = (f" Plain SGD, batch {config.batch_size}, {config.steps:,} steps, rates "
                f"{', '.join(f'{r:g}' for r in config.learning_rates)}; {config.n_seeds} seeds, paired (seed s of both "
                f"networks starts from the same weights and sees the same batches); rates chosen on "
                f"{', '.join(f'{v:,}' for v in m.validation_images)} held-out training images, never on the test set.")
    claims = [
        finding("practice-bn-higher-rates",
                "In a ReLU MLP and a small CNN, BN trains well at higher learning rates: its largest good rate is "
                "higher than the network's without BN",
                effect="log10(largest good rate with BN) − log10(without BN), per seed, in decades",
                direction="greater", tests=rates_tests, base=base_,
                evidence="; ".join(rates_evidence) + f". Good: no divergence and validation accuracy within "
                f"{config.good_within:g} of the seed's best rate." + protocol),
        finding("practice-bn-more-accurate-tuned",
                "Each at its own best learning rate, the network with BN reaches a higher test accuracy than the "
                "network without BN",
                effect="test accuracy with BN − without BN, each at its best rate, per seed", direction="greater",
                tests=tuned_tests, base=base_,
                evidence="; ".join(tuned_evidence) + ". Best rate: highest mean validation accuracy among rates where "
                "no seed diverged." + protocol),
    ]
    return decide(claims)
