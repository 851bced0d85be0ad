"""bn-lr's claims: per seed, the largest learning rate that trains well and the fewest steps to a target accuracy,
decided by the statistics layer."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.lr.config import Config
from replab.experiments.bn.lr.measure import DatasetResult, Measurements

# --- what the measurements say ----------------------------------------------------------------------------


def intact(d: DatasetResult) -> np.ndarray:
    """(model, rate): no seed diverged."""
    return ~(d.diverged_at >= 0).any(axis=-1)


def good_rates(config: Config, d: DatasetResult) -> np.ndarray:
    """(model, rate) on the means over seeds: no seed diverged and the mean within good_within of the model's best."""
    ok = intact(d)
    means = np.where(ok, d.final_accuracy.mean(axis=-1), -np.inf)
    best = means.max(axis=-1, keepdims=True)
    return ok & (means >= best - config.good_within)


def largest_good_rate(config: Config, d: DatasetResult) -> list[float | None]:
    good = good_rates(config, d)
    rates = np.asarray(config.learning_rates)
    return [float(rates[g].max()) if g.any() else None for g in good]


def largest_good_rate_per_seed(config: Config, d: DatasetResult) -> np.ndarray:
    """(model, seed): the largest rate that trained well for that seed (no divergence, final accuracy within
    good_within of the seed's own best rate); NaN where every rate of the seed diverged."""
    alive = d.diverged_at < 0
    accuracy = np.where(alive, d.final_accuracy, -np.inf)            # (model, rate, seed)
    best = accuracy.max(axis=1, keepdims=True)
    good = alive & (accuracy >= best - config.good_within)
    rates = np.asarray(config.learning_rates, float)[None, :, None]
    largest = np.where(good, rates, -np.inf).max(axis=1)
    return np.where(np.isfinite(largest), largest, np.nan)


def target_accuracy(config: Config, d: DatasetResult) -> float:
    """The best final point of a mean-over-seeds curve among cells where no seed diverged, − target_within."""
    last = d.curves.mean(axis=2)[..., -1]
    ok = intact(d)
    return float((last[ok].max() if ok.any() else last.max()) - config.target_within)


def fastest_per_seed(config: Config, d: DatasetResult) -> np.ndarray:
    """(model, seed): over the rates where the seed did not diverge, the fewest steps its own curve needs to reach
    the target; a seed that never reaches it counts as steps + record_every (one record point past the budget)."""
    target = target_accuracy(config, d)
    censored = config.steps + config.record_every
    reached = d.curves >= target                                      # (model, rate, seed, R)
    first = np.where(reached.any(axis=-1), d.steps[np.argmax(reached, axis=-1)], censored)
    first = np.where(d.diverged_at < 0, first, censored)
    return first.min(axis=1).astype(float)


def ratio_text(config: Config, d: DatasetResult) -> str:
    base, bn = largest_good_rate(config, d)
    if base is not None and bn is not None:
        return f"{bn / base:.3g}×"
    return "∞ (no good rate without BN)" if bn is not None else ("n/a (no good rate with BN)" if base is not None else "n/a")


# --- claims ----------------------------------------------------------------------------------------------------


def judge(config: Config, m: Measurements) -> list[Claim]:
    """The study's findings, one test per dataset paired over seeds, decided together (`claims.decide`)."""
    base = study.evidence_base(config, m.datasets)
    tests, evidence = [], []
    for d in m.datasets:
        label = d.info.label
        largest = largest_good_rate_per_seed(config, d)
        if np.isnan(largest).any():
            tests.append(stats.unavailable(label, "every rate diverged for some seed, so it has no good rate"))
        else:
            tests.append(stats.paired(np.log10(largest[1]), np.log10(largest[0]), label))
        evidence.append(
            f"{label}: largest good rate per seed without BN {', '.join(f'{r:g}' for r in largest[0])}, with BN "
            f"{', '.join(f'{r:g}' for r in largest[1])} (on the means over seeds: ratio {ratio_text(config, d)}); "
            f"mean accuracy at the largest rate {config.learning_rates[-1]:g}: without BN "
            f"{d.final_accuracy[0, -1].mean():.4f}, with BN {d.final_accuracy[1, -1].mean():.4f}")
    claims = [finding(
        "bn-higher-learning-rates",
        "Batch Normalization trains well at learning rates where the baseline fails: its largest good learning rate is "
        "higher",
        effect="log10(BN's largest good rate) − log10(the baseline's), per seed, in decades of learning rate",
        direction="greater", tests=tests, base=base,
        evidence="; ".join(evidence) + f". A rate is good for a seed if it did not diverge and its final test accuracy "
        f"is within {config.good_within:g} of that seed's best rate; paired over {config.n_seeds} seeds, "
        f"{config.steps:,} steps, one test per dataset. On a grid the per-seed ratio takes few values, so with few seeds "
        "a constant ratio is decided by an exact sign test.")]

    tests, evidence = [], []
    for d in m.datasets:
        label = d.info.label
        fastest = fastest_per_seed(config, d)
        if (fastest > config.steps).all():
            tests.append(stats.unavailable(label, "neither network reaches the target on any seed"))
        else:
            tests.append(stats.paired(fastest[0], fastest[1], label))
        evidence.append(f"{label}: target {target_accuracy(config, d):.4f} (the best final mean curve − "
                        f"{config.target_within:g}) on the first {d.info.eval_images:,} test images; fewest steps per "
                        f"seed over the rates without BN {', '.join(f'{s:,.0f}' for s in fastest[0])}, with BN "
                        f"{', '.join(f'{s:,.0f}' for s in fastest[1])}")
    claims.append(finding(
        "bn-lr-faster",
        "At its best learning rate, the network with BN reaches a target accuracy in fewer steps than the baseline at "
        "its best",
        effect="baseline − BN steps to the target (each at its fastest rate), per seed", direction="greater",
        tests=tests, base=base,
        evidence="; ".join(evidence) + f". Accuracy recorded every {config.record_every} steps; a seed that never "
        f"reaches the target counts as {config.steps + config.record_every:,} steps (one record point past the "
        f"budget); paired over {config.n_seeds} seeds, one test per dataset."))
    return decide(claims)
