"""The regression's claims, decided over seeds by the statistics layer."""

from __future__ import annotations

import numpy as np

from replab import stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.experiments.regression.config import TARGET_LABELS, Config
from replab.experiments.regression.measure import LINEAR_TARGET, MODELS, Measurements


def relative_change_at_end(train_loss: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """|L(end) − L(90% of training)| / L(90%), per member (the member axes follow the step axis)."""
    reference = np.searchsorted(epochs, 0.9 * epochs[-1])
    before, after = train_loss[reference], train_loss[-1]
    return np.abs(after - before) / before


def _base(config: Config, **extra) -> EvidenceBase:
    return EvidenceBase(seeds=config.n_seeds, quick=config.quick, **extra)


def _target_index(m: Measurements, target: str) -> int | None:
    return m.targets.index(target) if target in m.targets else None


def _sd(values: np.ndarray) -> str:
    return f"{values.mean():.4f} ± {values.std(ddof=1):.4f}"


def claim_shallow_fits(config: Config, m: Measurements, t: int) -> Claim:
    noise = float(m.noise_stds[0])
    floor = noise ** 2
    excess = m.excess[0, t, 0]
    ratio = (excess + floor) / floor
    test = stats.one_sample(ratio, f"{TARGET_LABELS[m.targets[t]]}, σ = {noise:g}", null=config.close_factor)
    return finding(
        "shallow-fits-low-noise",
        f"One hidden layer of {config.shallow_hidden[0]} ReLU units fits the low-noise line: its expected test MSE "
        f"(excess risk + σ²) is close to σ² (below {config.close_factor:g}×σ²)",
        effect="(excess risk + σ²) / σ² of the shallow net at the lowest noise, against the 'close' bound",
        direction="less", tests=[test],
        evidence=(f"{TARGET_LABELS[m.targets[t]]}, σ = {noise:g}: excess risk against the true function on "
                  f"{config.n_test} held-out inputs {_sd(excess)} (mean ± sd) over {excess.size} seeds vs σ² = "
                  f"{floor:.4f}; (excess + σ²)/σ² mean {ratio.mean():.3f} (95% CI {test.ci_low:.3f} to "
                  f"{test.ci_high:.3f}); 'close' means below {config.close_factor:g}, tested one-sided over seeds; "
                  f"train MSE {m.train_mse[0, t, 0].mean():.4f}, test MSE on noisy targets "
                  f"{m.test_mse[0, t, 0].mean():.4f}."),
        base=_base(config, examples=config.n_test))


def _deeper_test(m: Measurements, t: int, i: int):
    shallow, deep = m.excess[0, t, i], m.excess[1, t, i]
    return stats.paired(shallow, deep, f"{TARGET_LABELS[m.targets[t]]}, σ = {float(m.noise_stds[i]):g}")


def _deeper_evidence(config: Config, m: Measurements, t: int, i: int, test) -> str:
    noise = float(m.noise_stds[i])
    shallow, deep = m.excess[0, t, i], m.excess[1, t, i]
    return (f"{TARGET_LABELS[m.targets[t]]}, σ = {noise:g}: excess risk deep {_sd(deep)}, shallow {_sd(shallow)} "
            f"(mean ± sd over {shallow.size} seeds; σ² = {noise ** 2:.4f}); paired shallow − deep = {test.effect:+.5f} "
            f"(95% CI {test.ci_low:+.5f} to {test.ci_high:+.5f}); train MSE deep {m.train_mse[1, t, i].mean():.4f}, "
            f"shallow {m.train_mse[0, t, i].mean():.4f}")


def claim_deeper_better(config: Config, m: Measurements, t: int) -> Claim:
    i = len(m.noise_stds) - 1
    test = _deeper_test(m, t, i)
    return finding(
        "deeper-fits-noisier-better",
        "On the noisiest line the deeper model fits better (excess risk against the true function on held-out "
        "inputs, against the one-layer model at the same noise)",
        effect=f"shallow − deep excess risk at σ = {float(m.noise_stds[i]):g}, paired by seed (positive: deeper is better)",
        direction="greater", tests=[test], evidence=_deeper_evidence(config, m, t, i, test) + ".",
        base=_base(config, examples=config.n_test))


def claim_deeper_nonlinear(config: Config, m: Measurements, t: int, i: int) -> Claim:
    noise = float(m.noise_stds[i])
    test = _deeper_test(m, t, i)
    return finding(
        f"deeper-better-{m.targets[t]}-noise-{noise:g}",
        f"On {TARGET_LABELS[m.targets[t]]} at σ = {noise:g} the deeper model fits better (excess risk against the true "
        f"function on held-out inputs)",
        effect="shallow − deep excess risk, paired by seed (positive: deeper is better)",
        direction="greater", tests=[test], evidence=_deeper_evidence(config, m, t, i, test) + ".",
        base=_base(config, examples=config.n_test))


def claim_loss_converges(config: Config, m: Measurements) -> Claim:
    tests, parts = [], []
    for a, model in enumerate(MODELS):
        change = relative_change_at_end(m.train_curve[a], m.epochs).ravel()
        diverged = int((m.diverged_at[a] >= 0).sum())
        if diverged:
            tests.append(stats.unavailable(model, f"{diverged} of {change.size} networks diverged, so their loss "
                                                  f"has no end to converge to", n=change.size))
        else:
            tests.append(stats.one_sample(change, model, null=config.converged_change))
        finite = change[np.isfinite(change)]
        parts.append(f"{model}: mean {finite.mean():.2%}, median {np.median(finite):.2%}, largest {finite.max():.2%} "
                     f"over {finite.size} networks" + (f", {diverged} diverged" if diverged else "")
                     if finite.size else f"{model}: every network diverged")
    return finding(
        "loss-converges",
        f"The training loss has converged by the end of the budget (it changes by less than "
        f"{config.converged_change:.0%} over the last 10% of {config.epochs} epochs)",
        effect="relative change of the train loss over the last 10% of epochs, against the bound",
        direction="less", tests=tests,
        evidence=(f"{config.optimizer} at lr {config.learning_rate:g}, full batch, {config.epochs} epochs; over the "
                  f"last 10% the train loss changed by " + "; ".join(parts)
                  + f" (every target, noise level and seed; bound {config.converged_change:.0%}, tested one-sided "
                    f"per architecture)."),
        base=_base(config, examples=m.train_mse[0].size))


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Findings: on the line, the shallow net against the noise floor and deep against shallow at the highest
    noise; on every nonlinear target, deep against shallow at each noise level; and convergence."""
    claims = []
    line = _target_index(m, LINEAR_TARGET)
    if line is not None:
        claims += [claim_shallow_fits(config, m, line), claim_deeper_better(config, m, line)]
    for t, target in enumerate(m.targets):
        if target != LINEAR_TARGET:
            claims += [claim_deeper_nonlinear(config, m, t, i) for i in range(len(m.noise_stds))]
    claims.append(claim_loss_converges(config, m))
    return decide(claims)
