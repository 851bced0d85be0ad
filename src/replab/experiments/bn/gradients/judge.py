"""bn-gradients' claims: one statistic per seed, decided by the statistics layer."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.experiments.bn import study
from replab.experiments.bn.gradients.config import Config
from replab.experiments.bn.gradients.measure import MODELS, MOST, Dataset, Measurements

# --- the statistics behind the claims: one value per seed --------------------------------------------------


def distance_from_one(d: Dataset, model: str) -> np.ndarray:
    """Per seed: mean |ln σ| averaged over the hidden-to-hidden layers and the measurement points."""
    return d.network(model).jacobians.mean_abs_log.mean(axis=(0, 2))


def worst_within(d: Dataset, model: str) -> np.ndarray:
    """Per seed: the lowest fraction of singular values within the factor, over the hidden-to-hidden layers and the
    measurement points ('throughout training')."""
    return d.network(model).jacobians.within.min(axis=(0, 2))


def worst_log_rms(d: Dataset, model: str) -> np.ndarray:
    """Per seed: the largest |ln RMS σ| over the hidden-to-hidden layers and the measurement points."""
    return np.abs(np.log(d.network(model).jacobians.rms)).max(axis=(0, 2))


def gradient_spread(d: Dataset, model: str, kind: str = "activation") -> np.ndarray:
    """max/min over the hidden layers of ‖∂L/∂a_l‖ (kind 'activation') or of ‖∂L/∂W_l‖ for the hidden layers' weights
    (kind 'weight'): (seeds, points)."""
    hidden = len(d.jacobian_layers) + 1
    norms = getattr(d.network(model), f"{kind}_gradients")[..., :hidden]
    return norms.max(axis=-1) / norms.min(axis=-1)


def layers_text(d: Dataset) -> str:
    return ", ".join(f"J_{l}" for l in d.jacobian_layers)


def protocol(config: Config) -> str:
    return (f"{config.n_seeds} seeds, {config.steps:,} steps, measured at step 0 and every {config.record_every} steps "
            f"on a fixed batch of {config.probe_size} training images")


def evidence_base(config: Config, m: Measurements) -> EvidenceBase:
    return study.evidence_base(config, m.datasets)


def judge(config: Config, m: Measurements) -> list[Claim]:
    """The five findings, each one test per dataset (and per part) over seeds, decided together."""
    return decide([claim(config, m) for claim in (near_one_claim, closer_to_one_claim, isometry_claim,
                                                  keep_size_claim, more_even_claim)])


def near_one_claim(config: Config, m: Measurements) -> Claim:
    f = config.close_factor
    tests, evidence = [], []
    for d in m.datasets:
        within, log_rms = worst_within(d, "batch"), worst_log_rms(d, "batch")
        tests.append(stats.one_sample(within, f"{d.label}: lowest fraction within [1/{f:g}, {f:g}]", null=MOST))
        tests.append(stats.one_sample(np.log(f) - log_rms, f"{d.label}: ln {f:g} − largest |ln RMS σ|"))
        base_within = worst_within(d, "none")
        rms = d.batch.jacobians.rms
        evidence.append(f"{d.label} ({layers_text(d)}): with BN, per seed, the lowest fraction of singular values "
                        f"within [1/{f:g}, {f:g}] over layers and measurement points is {fmt_values(within, '.1%')} "
                        f"(without BN {fmt_values(base_within, '.1%')}) and the RMS σ ranges over "
                        f"{rms.min():.3f}–{rms.max():.3f}")
    return finding(
        "bn-jacobian-near-one",
        "With BN, the Jacobians between consecutive layers' normalised inputs keep their singular values close to 1 "
        f"throughout training: their RMS (the average gain of a backpropagated gradient) and most of them lie within a "
        f"factor {f:g} of 1",
        effect=f"per seed, the lowest fraction of BN's singular values within [1/{f:g}, {f:g}] over hidden-to-hidden "
               f"layers and measurement points, against {MOST:g}; and ln {f:g} − the largest |ln RMS σ|, against 0",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". 'Most' is a one-sample t-test over seeds of the per-seed lowest fraction "
        f"against {MOST:g}; the RMS part tests that the largest |ln RMS σ| stays below ln {f:g}. {protocol(config)}.")


def closer_to_one_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        plain, bn = distance_from_one(d, "none"), distance_from_one(d, "batch")
        tests.append(stats.paired(plain, bn, d.label))
        evidence.append(f"{d.label}: mean |ln σ| without BN {study.pm(plain, 3)}, with BN {study.pm(bn, 3)}")
    return finding(
        "bn-jacobian-closer-to-one",
        "The layer Jacobians' singular values are closer to 1 with BN than without (smaller mean |ln σ|)",
        effect="mean |ln σ| without BN − with BN, per seed (over the hidden-to-hidden layers and measurement points)",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f" (paired over seeds). {protocol(config)}.")


def isometry_claim(config: Config, m: Measurements) -> Claim:
    f, q = config.close_factor, config.isometry_fraction
    tests, evidence = [], []
    for d in m.datasets:
        within = worst_within(d, "batch")
        tests.append(stats.one_sample(within, d.label, null=q))
        condition = d.batch.jacobians.condition.mean(axis=1)
        evidence.append(f"{d.label}: with BN, per seed, the lowest fraction within [1/{f:g}, {f:g}] over layers and "
                        f"points is {fmt_values(within, '.1%')}; the median condition number σ_max/σ_min (mean over "
                        f"seeds) ranges over {condition.min():.3g}–{condition.max():.3g}")
    return finding(
        "bn-jacobian-isometry",
        "The conjecture's strong form: with BN, J Jᵀ ≈ I, i.e. (nearly) all singular values of each layer Jacobian are "
        f"close to 1 (at least {q:.0%} of them within a factor {f:g}, throughout training)",
        effect=f"per seed, the lowest fraction of BN's singular values within [1/{f:g}, {f:g}] over layers and "
               f"measurement points, against {q:g}",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". {protocol(config)}.")


def keep_size_claim(config: Config, m: Measurements) -> Claim:
    f = config.close_factor
    tests, evidence = [], []
    for d in m.datasets:
        bn, plain = gradient_spread(d, "batch"), gradient_spread(d, "none")
        worst = np.log(bn).max(axis=1)
        tests.append(stats.one_sample(worst, d.label, null=float(np.log(f))))
        bn_mean, plain_mean = bn.mean(axis=0), plain.mean(axis=0)
        evidence.append(f"{d.label}: max/min of ‖∂L/∂a_l‖ over the {len(d.jacobian_layers) + 1} hidden layers with BN "
                        f"(mean over seeds) {bn_mean[0]:.2f} at step 0, {bn_mean[-1]:.2f} at step {int(d.steps[-1]):,}; "
                        f"its largest over training, per seed, {fmt_values(np.exp(worst), '.2f')} (without BN "
                        f"{plain_mean[0]:.2f} at step 0, {plain_mean[-1]:.2f} at the end)")
    return finding(
        "bn-gradients-keep-size",
        f"With BN, the loss gradient keeps its size across layers: ‖∂L/∂a_l‖ differs between hidden layers by at most a "
        f"factor {f:g}, throughout training",
        effect=f"per seed, the largest ln(max/min ‖∂L/∂a_l‖ over the hidden layers) over training, against ln {f:g}",
        direction="less", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + ". a_l is the input to layer l's sigmoids; training-mode gradient of the mean "
        f"cross-entropy on the probe batch. {protocol(config)}.")


def more_even_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        plain, bn = (np.log(gradient_spread(d, model)).mean(axis=1) for model in MODELS)
        plain_w, bn_w = (np.exp(np.log(gradient_spread(d, model, "weight")).mean(axis=1)) for model in MODELS)
        tests.append(stats.paired(plain, bn, d.label))
        evidence.append(f"{d.label}: geometric mean over training of max/min ‖∂L/∂a_l‖ without BN "
                        f"{study.pm(np.exp(plain), 2)}, with BN {study.pm(np.exp(bn), 2)}; for the hidden weights' "
                        f"‖∂L/∂W_l‖ (reported only): without BN {study.pm(plain_w, 2)}, with BN {study.pm(bn_w, 2)}; "
                        f"the ‖∂L/∂a_l‖ ratio at step 0 {start_end(d, 0)}, at step {int(d.steps[-1]):,} "
                        f"{start_end(d, -1)}")
    return finding(
        "bn-gradients-more-even",
        "Gradient sizes vary less across layers with BN than without, over training",
        effect="mean over training of ln(max/min ‖∂L/∂a_l‖ over the hidden layers), without BN − with BN, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f" (paired over seeds). {protocol(config)}.")


def start_end(d: Dataset, point: int) -> str:
    plain, bn = (gradient_spread(d, model)[:, point].mean() for model in MODELS)
    return f"{plain:.2f} without BN vs {bn:.2f} with"


def fmt_values(values, spec: str) -> str:
    return "[" + ", ".join(format(float(v), spec) for v in np.asarray(values).ravel()) + "]"
