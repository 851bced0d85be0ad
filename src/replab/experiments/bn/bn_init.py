"""BN study 2, initialisation scale: is Batch Normalization resilient to the scale of the initial weights (§3.3)?

The Figure 1 network starts from Gaussian weights with std = scale × the default, for scales around 1, without and with
BN. Seed s of every cell starts from the same unit-Gaussian draw, only multiplied by the cell's std, so the cells differ
in scale and nothing else. Besides the accuracy after training, §3.3's mechanism is measured at initialisation:
BN((aW)u) = BN(Wu), and ∂BN((aW)u)/∂(aW) = (1/a)·∂BN(Wu)/∂W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn
from replab.claims import Claim, judge
from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments.bn import study
from replab.experiments.base import Progress, Result, Table, no_progress
from replab.nn.normalized_mlp import Member, NormalizedMLP, Options, forward

NAME = "bn-init"
TITLE = "BN study 2 — initialisation scale: is Batch Normalization resilient to the scale of the initial weights?"
QUESTION = ("With the initial weights' std multiplied by 0.01, 0.1, 1 and 10, how well do the Figure 1 network and "
            "its BN version train, and does BN's output really not depend on the weights' scale?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS
BN_EPSILON = Options().epsilon
EPSILON_FACTOR = 100.0
"""§3.3's identity BN((aW)u) = BN(Wu) ignores ε; it is judged only where Var[aWu] ≥ EPSILON_FACTOR · ε."""


@dataclass(frozen=True)
class Config(study.StudyConfig):
    scales: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
    """Multipliers of weight_std (the default std 0.1, so stds 0.001 … 1)."""
    steps: int = 2000
    record_every: int = 100
    invariance_tolerance: float = 0.01
    """BN((aW)u) = BN(Wu) counts as holding at a scale if the relative difference is below this."""
    probe_size: int = 60
    """Training images in the probe batch for the measurements at initialisation."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.scales) >= 2 and all(s > 0 for s in self.scales) and list(self.scales) == sorted(set(self.scales)),
                f"scales must be two or more increasing positive multipliers, got {self.scales}")
        require(1.0 in self.scales, f"scales must include 1 (the default std), got {self.scales}")
        require(all(self.weight_std * s <= 10 for s in self.scales),
                f"weight_std × the largest scale must stay at most 10, got {self.weight_std * max(self.scales):g}")
        require(0 < self.invariance_tolerance < 1, f"invariance_tolerance must lie in (0, 1), got {self.invariance_tolerance}")
        require(isinstance(self.probe_size, int) and 2 <= self.probe_size <= 10_000,
                f"probe_size must be an integer from 2 to 10,000, got {self.probe_size}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**study.QUICK)


def cells(config: Config) -> list[Member]:
    """Model-major: every scale without BN, then every scale with BN."""
    return [Member(model, weight_std=config.weight_std * scale) for model in MODELS for scale in config.scales]


def run(config: Config, progress: Progress = no_progress) -> Result:
    datasets, skipped = study.load_datasets(config)
    for digits in datasets:
        require(config.probe_size <= digits.n_train,
                f"probe_size ({config.probe_size}) exceeds the {digits.n_train:,} training images of {digits.dataset}")
    sections = []
    for i, digits in enumerate(datasets):
        progress(i, len(datasets), f"{digits.dataset}: {2 * len(config.scales)} cells × {config.n_seeds} seeds")
        at_init = initial_response(config, digits)
        trained = study.train_cells(config, digits, cells(config))
        sections.append(summarize(config, digits, trained, at_init))
    progress(len(datasets), len(datasets), "done")
    return Result(
        metrics={"datasets": sections},
        tables=[scale_table(config, s) for s in sections],
        figures={"final_accuracy": accuracy_figure(config, sections), "curves": curves_figure(config, sections)},
        claims=judge_claims(config, sections),
        notes=notes(config, sections, skipped),
        scalars={f"{s['dataset']}/{model}/scale{scale:g}": {"accuracy/test_mean": list(zip(s["steps"], curve))}
                 for s in sections for model in MODELS
                 for scale, curve in zip(config.scales, s["models"][model]["curves_mean"])},
    )


# --- §3.3 at initialisation ---------------------------------------------------------------------------------


def initial_response(config: Config, digits: Digits) -> dict:
    """§3.3's identity, measured at initialisation on one training batch: BN networks at the default std, where only
    the FIRST layer's weights are multiplied by each scale a. Relative to a = 1: the change of that layer's BN output
    (0 if BN((aW)u) = BN(Wu)) and the ratio of its weight-gradient norms (1/a if the gradient shrinks as 1/a)."""
    members = study.population([Member("batch", weight_std=config.weight_std)] * len(config.scales), config.n_seeds)
    seeds = [study.member_seed(config, s) for _ in config.scales for s in range(config.n_seeds)]
    net = NormalizedMLP(config.layer_sizes, members, seeds)
    first_weight = net.layers[0][0]
    first_weight.assign(first_weight * np.repeat(np.asarray(config.scales, np.float32), config.n_seeds)[:, None, None])
    x = tf.constant(digits.x_train[: config.probe_size])
    y = tf.constant(digits.y_train[: config.probe_size])
    with tf.GradientTape() as tape:
        logits, pre = forward(net, x, training=True, update_averages=False, stochastic=False)
        loss = tf.reduce_sum(nn.softmax_cross_entropy(logits, y))
    gradient = study.per_cell(tf.norm(tape.gradient(loss, first_weight), axis=[1, 2]).numpy(), config.n_seeds)
    output = study.per_cell(np.moveaxis(pre[0].numpy(), 0, -1), config.n_seeds)  # (B, F, scales, seeds)
    variance = study.per_cell(tf.math.reduce_variance(nn.dense(x, first_weight), axis=1).numpy().mean(axis=-1),
                              config.n_seeds)  # (scales, seeds): mean over units of Var_batch[aWu]
    reference = config.scales.index(1.0)
    difference = np.abs(output - output[:, :, reference:reference + 1]).max(axis=(0, 1))
    relative = difference / np.abs(output[:, :, reference]).max(axis=(0, 1))  # (scales, seeds)
    return {"relative_difference": relative.tolist(), "gradient_ratio": (gradient / gradient[reference]).tolist(),
            "expected_gradient_ratio": [1.0 / s for s in config.scales], "input_variance": variance.mean(axis=-1).tolist()}


# --- measurements -------------------------------------------------------------------------------------------


def summarize(config: Config, digits: Digits, trained: study.Trained, at_init: dict) -> dict:
    n, scales = config.n_seeds, list(config.scales)
    final = study.per_cell(trained.test_accuracy, n).reshape(len(MODELS), len(scales), n)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1).reshape(len(MODELS), len(scales), n, -1)
    diverged = study.per_cell(trained.diverged_at, n).reshape(len(MODELS), len(scales), n)
    section = {**study.dataset_section(config, digits, trained), "steps": trained.steps.tolist(),
               "at_init": at_init, "models": {}}
    for m, model in enumerate(MODELS):
        means = final[m].mean(axis=-1)
        section["models"][model] = {
            "final_accuracy": final[m].tolist(),
            "final_accuracy_mean": means.tolist(),
            "final_accuracy_std": (final[m].std(axis=-1, ddof=1) if n > 1 else np.zeros(len(scales))).tolist(),
            "curves_mean": curves[m].mean(axis=1).tolist(),
            "diverged_seeds": (diverged[m] >= 0).sum(axis=-1).tolist(),
            "best": float(means.max()), "worst": float(means.min()), "spread": float(means.max() - means.min()),
        }
    return section


def judge_claims(config: Config, sections: list[dict]) -> list[Claim]:
    verdicts, evidence = [], []
    for s in sections:
        base, bn = s["models"]["none"], s["models"]["batch"]
        per_seed = {model: np.ptp(np.asarray(s["models"][model]["final_accuracy"]), axis=0) for model in MODELS}
        verdicts.append(study.better(per_seed["none"] - per_seed["batch"]))
        accuracies = "; ".join(f"×{scale:g}: {bn['final_accuracy_mean'][i]:.4f} vs {base['final_accuracy_mean'][i]:.4f}"
                               for i, scale in enumerate(config.scales))
        evidence.append(f"{study.dataset_label(s)}: spread (best − worst scale) of the final accuracy with "
                        f"BN {study.pm(per_seed['batch'])}, without {study.pm(per_seed['none'])} (mean final accuracy "
                        f"with vs without BN per scale: {accuracies})")
    claims = [judge(
        "bn-init-resilient",
        "Batch Normalization makes training more resilient to the scale of the initial weights (§3.3): its final "
        "accuracy changes less across scales than the baseline's",
        study.combine(verdicts),
        "; ".join(evidence) + f". Spreads per seed, mean ± std over {config.n_seeds} seeds, after {config.steps:,} "
        "steps. Holds if, on every dataset, BN's spread is smaller by more than t standard errors of the paired "
        "difference; fails if larger by as much on some dataset; else inconclusive.")]

    verdicts, evidence = [], []
    for s in sections:
        relative = np.asarray(s["at_init"]["relative_difference"]).max(axis=-1)
        ratio = np.asarray(s["at_init"]["gradient_ratio"]).mean(axis=-1)
        expected = np.asarray(s["at_init"]["expected_gradient_ratio"])
        gradient_error = np.abs(ratio / expected - 1)
        holding = (relative < config.invariance_tolerance) & (gradient_error < config.invariance_tolerance)
        judged = (np.asarray(s["at_init"]["input_variance"]) >= EPSILON_FACTOR * BN_EPSILON) & (np.asarray(config.scales) != 1)
        verdicts.append(bool(holding[judged].all()) if judged.any() else None)
        evidence.append(f"{study.dataset_label(s)}: " + "; ".join(
            f"×{scale:g}{'' if judged[i] or scale == 1 else ' (ε-limited, not judged)'}: Var[aWu] "
            f"{s['at_init']['input_variance'][i]:.3g}, output differs by {relative[i]:.2%}, gradient × {ratio[i]:.4g} "
            f"(1/a = {expected[i]:.4g})" for i, scale in enumerate(config.scales)))
    claims.append(judge(
        "bn-scale-invariant",
        "A BN layer's output does not depend on the scale a of its weights, BN((aW)u) = BN(Wu), and its weight "
        "gradient shrinks as 1/a (§3.3)",
        study.combine(verdicts),
        "; ".join(evidence) + f". Measured at initialisation on a batch of {config.probe_size} training images, with "
        f"only the first layer's weights scaled (its BN output relative to a = 1, max over seeds; its weight-gradient "
        f"norm relative to a = 1, mean over seeds). The identity ignores BN's ε (1e-3), so it is judged at the scales "
        f"where Var[aWu] ≥ {EPSILON_FACTOR:g}ε: holds if both are within {config.invariance_tolerance:.0%} of it there "
        "(fails if not; inconclusive if no scale qualifies). At the ε-limited scales the numbers show how far ε "
        "breaks it."))
    return claims


def notes(config: Config, sections: list[dict], skipped: list[str]) -> list[str]:
    stds = ", ".join(f"{config.weight_std * s:g}" for s in config.scales)
    return [study.data_note(s) for s in sections] + skipped + [study.significance_note(config.n_seeds),
        f"Initial weight stds {stds} (scales {', '.join(f'{s:g}' for s in config.scales)} × {config.weight_std:g}), every "
        f"layer; plain SGD at {config.learning_rate:g}, batch {config.batch_size}, {config.steps:,} steps, "
        f"{config.n_seeds} seeds; all {2 * len(config.scales) * config.n_seeds} networks of a dataset trained as one "
        "population. The output layer is scaled too, so BN's network output at initialisation still grows with the scale.",
    ]


# --- tables and figures ---------------------------------------------------------------------------------------


def scale_table(config: Config, section: dict) -> Table:
    rows = []
    at_init = section["at_init"]
    for i, scale in enumerate(config.scales):
        row = [scale, config.weight_std * scale]
        for model in MODELS:
            m = section["models"][model]
            row += [study.pm(m["final_accuracy"][i]), m["diverged_seeds"][i]]
        row += [float(np.max(at_init["relative_difference"][i])), float(np.mean(at_init["gradient_ratio"][i])), 1 / scale]
        rows.append(row)
    columns = ["scale", "weight std"] + [f"{c} {LABELS[m]}" for m in MODELS for c in ("final accuracy", "diverged seeds")]
    columns += ["BN output change at init", "BN gradient ratio at init", "1/scale"]
    return Table(f"Initial weight scale on {study.dataset_label(section)}", columns, rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds on the {section['n_test']:,} test images. The last two "
                         "BN columns scale only the first layer's weights at initialisation and compare with scale 1: §3.3's "
                         "identity gives 0 and 1/scale.")


def accuracy_figure(config: Config, sections: list[dict]) -> Figure:
    figure, axes = study.dataset_axes(len(sections))
    stds = np.asarray(config.scales) * config.weight_std
    for ax, s in zip(axes, sections):
        for model in MODELS:
            m = s["models"][model]
            ax.errorbar(stds, m["final_accuracy_mean"], yerr=m["final_accuracy_std"], marker="o", capsize=3,
                        color=COLOURS[model], label=f"{LABELS[model]} (spread {m['spread']:.3f})")
        ax.axvline(config.weight_std, color="grey", lw=0.8, ls=":", label="default std")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("std of the initial Gaussian weights")
        ax.set_ylabel("final test accuracy")
        ax.set_title(study.dataset_label(s), fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
    figure.suptitle(f"Final accuracy after {config.steps:,} steps (mean ± std over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def curves_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(5.5 * len(sections), 7.5))
    grid = figure.subplots(2, len(sections), squeeze=False, sharey=True)
    for column, s in enumerate(sections):
        for row, model in enumerate(MODELS):
            curves = {f"std {config.weight_std * scale:g}": [c] for scale, c in
                      zip(config.scales, s["models"][model]["curves_mean"])}
            study.curves_figure(s["steps"], curves, f"{study.dataset_label(s)}, {LABELS[model]}",
                                ylabel=f"test accuracy ({s['eval_images']:,} images)", ax=grid[row][column])
    figure.suptitle(f"Mean accuracy curves over {config.n_seeds} seeds", fontsize=10)
    figure.tight_layout()
    return figure
