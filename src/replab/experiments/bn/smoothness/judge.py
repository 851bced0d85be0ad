"""bn-smoothness' claims: per seed, log10 of each landscape quantity averaged over the checkpoints, without BN
against with BN, paired over seeds and decided by the statistics layer (the experiment:
`replab.experiments.bn.smoothness`)."""

from __future__ import annotations

from replab import stats
from replab.claims import Claim, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.smoothness.config import Config
from replab.experiments.bn.smoothness.measure import Measurements

QUANTITIES = ("loss_variation", "gradient_change", "beta_smoothness")
QUANTITY_LABELS = {"loss_variation": "loss variation along the gradient",
                   "gradient_change": "gradient predictiveness ‖∇L(θ−ηg) − ∇L(θ)‖ (max over η)",
                   "beta_smoothness": "effective β-smoothness (max over η)"}
CLAIMS = {"loss_variation": ("bn-smoother-loss", "With BN the loss varies less along the gradient direction"),
          "gradient_change": ("bn-predictive-gradients",
                              "With BN the gradient changes less along the gradient direction (it is more predictive)"),
          "beta_smoothness": ("bn-smaller-beta", "With BN the effective β-smoothness along the gradient is smaller")}


# --- claims --------------------------------------------------------------------------------------------------------


def judge(config: Config, m: Measurements) -> list[Claim]:
    base_ = study.evidence_base(config, m.datasets)
    claims = []
    for quantity in QUANTITIES:
        claim_id, statement = CLAIMS[quantity]
        tests, evidence = [], []
        for d in m.datasets:
            if (d.diverged_at >= 0).any():
                tests.append(stats.unavailable(d.label, "a seed diverged, so its landscape is not measured to the end"))
            else:
                values = d.per_seed(quantity)
                tests.append(stats.paired(values[0], values[1], d.label))
            mean = getattr(d, quantity).mean(axis=1)  # (2, R)
            evidence.append(f"{d.label}: mean over seeds at steps {', '.join(f'{s:,}' for s in d.steps)} without BN "
                            f"{', '.join(f'{v:.3g}' for v in mean[0])}, with BN {', '.join(f'{v:.3g}' for v in mean[1])}")
        claims.append(finding(
            claim_id, statement + " (Santurkar et al. 2018, Figure 4)",
            effect=f"log10 of the {QUANTITY_LABELS[quantity]}, averaged over the checkpoints, without BN − with BN, "
                   "per seed", direction="greater", tests=tests, base=base_,
            evidence="; ".join(evidence) + f". ReLU MLP {'-'.join(map(str, config.layer_sizes))}, plain SGD at rate "
            f"{config.learning_rate:g}, batch {config.batch_size}, {config.steps:,} steps; step sizes η = "
            f"{', '.join(f'{v:g}' for v in config.etas)} along the gradient on a fixed probe batch of "
            f"{config.probe_size} training images; {config.n_seeds} seeds, paired."))
    return decide(claims)
