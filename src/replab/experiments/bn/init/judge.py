"""bn-init's claims: resilience to the initial scale, one paired test per dataset over seeds, and §3.3's scale
identity as a check (the experiment: __init__.py)."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, check, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.init.config import Config
from replab.experiments.bn.init.measure import DatasetResult, Measurements
from replab.nn.normalized_mlp import Options

BN_EPSILON = Options().epsilon
EPSILON_FACTOR = 100.0
"""§3.3's identity BN((aW)u) = BN(Wu) ignores ε; it is judged only where Var[aWu] ≥ EPSILON_FACTOR · ε."""


# --- the statistics behind the claims -----------------------------------------------------------------------


def spreads(d: DatasetResult) -> np.ndarray:
    """(model, seed): best − worst final accuracy over the scales."""
    return np.ptp(d.final_accuracy, axis=1)


def judged_scales(config: Config, d: DatasetResult) -> np.ndarray:
    """(scales,): where §3.3's identity can be checked, Var[aWu] ≥ EPSILON_FACTOR · ε, other than a = 1."""
    return (d.input_variance >= EPSILON_FACTOR * BN_EPSILON) & (np.asarray(config.scales) != 1)


def identity_errors(config: Config, d: DatasetResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scales,) each: output change (max over seeds), gradient ratio (mean over seeds), |ratio · a − 1|."""
    relative = d.relative_difference.max(axis=-1)
    ratio = d.gradient_ratio.mean(axis=-1)
    return relative, ratio, np.abs(ratio * np.asarray(config.scales) - 1)


# --- claims ----------------------------------------------------------------------------------------------------


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Resilience to the initial scale (a finding, one test per dataset paired over seeds) and §3.3's identity (a
    check), decided together (`claims.decide`).
    """
    base = study.evidence_base(config, m.datasets)
    tests, evidence = [], []
    for d in m.datasets:
        spread = spreads(d)
        tests.append(stats.paired(spread[0], spread[1], d.info.label))
        accuracies = "; ".join(f"×{scale:g}: {d.final_accuracy[1, i].mean():.4f} vs {d.final_accuracy[0, i].mean():.4f}"
                               for i, scale in enumerate(config.scales))
        evidence.append(f"{d.info.label}: spread (best − worst scale) of the final accuracy with BN "
                        f"{study.pm(spread[1])}, without {study.pm(spread[0])} (mean final accuracy with vs without BN "
                        f"per scale: {accuracies})")
    resilient = finding(
        "bn-init-resilient",
        "Batch Normalization makes training more resilient to the scale of the initial weights (§3.3): its final "
        "accuracy changes less across scales than the baseline's",
        effect="baseline − BN spread (best − worst final test accuracy over the scales), per seed",
        direction="greater", tests=tests, base=base,
        evidence="; ".join(evidence) + f". Spreads per seed, mean ± std over {config.n_seeds} seeds, after "
        f"{config.steps:,} steps; paired over seeds, one test per dataset.")

    passed, evidence = bool(m.datasets), []
    for d in m.datasets:
        relative, ratio, gradient_error = identity_errors(config, d)
        judged = judged_scales(config, d)
        holding = (relative < config.invariance_tolerance) & (gradient_error < config.invariance_tolerance)
        passed = passed and bool(judged.any()) and bool(holding[judged].all())
        evidence.append(f"{d.info.label}: " + ("" if judged.any() else "no scale has Var[aWu] ≥ "
                                                f"{EPSILON_FACTOR:g}ε, so nothing could be checked; ") + "; ".join(
            f"×{scale:g}{'' if judged[i] or scale == 1 else ' (ε-limited, not checked)'}: Var[aWu] "
            f"{d.input_variance[i]:.3g}, output differs by {relative[i]:.2%}, gradient × {ratio[i]:.4g} "
            f"(1/a = {1 / scale:.4g})" for i, scale in enumerate(config.scales)))
    invariant = check(
        "bn-scale-invariant",
        "A BN layer's output does not depend on the scale a of its weights, BN((aW)u) = BN(Wu), and its weight "
        "gradient shrinks as 1/a (§3.3; an identity of Algorithm 1 up to ε)",
        passed=passed, base=base,
        evidence="; ".join(evidence) + f". Measured at initialisation on a batch of {config.probe_size} training "
        f"images, with only the first layer's weights scaled (its BN output relative to a = 1, max over seeds; its "
        f"weight-gradient norm relative to a = 1, mean over seeds). The identity ignores BN's ε ({BN_EPSILON:g}), so it "
        f"is checked at the scales where Var[aWu] ≥ {EPSILON_FACTOR:g}ε: passes if both are within "
        f"{config.invariance_tolerance:.0%} of it there (and some scale qualifies on every dataset). At the ε-limited "
        "scales the numbers show how far ε breaks it.")
    return decide([resilient, invariant])
