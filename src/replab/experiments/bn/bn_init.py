"""BN study 2, initialisation scale: is Batch Normalization resilient to the scale of the initial weights (§3.3)?

The Figure 1 network starts from Gaussian weights with std = scale × the default, for scales around 1, without and with
BN. Seed s of every cell starts from the same unit-Gaussian draw, only multiplied by the cell's std, so the cells differ
in scale and nothing else. Besides the accuracy after training, §3.3's mechanism is measured at initialisation:
BN((aW)u) = BN(Wu), and ∂BN((aW)u)/∂(aW) = (1/a)·∂BN(Wu)/∂W.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn
from replab import stats
from replab.claims import Claim, check, decide, finding
from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments.bn import study
from replab.experiments.bn.bn_init_config import Config
from replab.experiments import base
from replab.experiments.base import WHEN_MEASURED, Presentation, Progress, Result, Table, compose, no_progress
from replab.nn.normalized_mlp import Member, NormalizedMLP, Options, forward

NAME = "bn-init"
TITLE = "BN study 2 — initialisation scale: is Batch Normalization resilient to the scale of the initial weights?"
QUESTION = ("With the initial weights' std multiplied by 0.01, 0.1, 1 and 10, how well do the Figure 1 network and "
            "its BN version train, and does BN's output really not depend on the weights' scale?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS
BN_EPSILON = Options().epsilon
EPSILON_FACTOR = 100.0
"""§3.3's identity BN((aW)u) = BN(Wu) ignores ε; it is judged only where Var[aWu] ≥ EPSILON_FACTOR · ε."""


def cells(config: Config) -> list[Member]:
    """Model-major: every scale without BN, then every scale with BN."""
    return [Member(model, weight_std=config.weight_std * scale) for model in MODELS for scale in config.scales]


@dataclass(frozen=True)
class DatasetMeasurements:
    """One dataset's scale grid; axes (model, scale, seed[, record]), and §3.3's identity at initialisation."""

    info: study.DatasetInfo
    steps: np.ndarray                 # (R,)
    final_accuracy: np.ndarray        # (2, scales, seeds) whole test set
    curves: np.ndarray                # (2, scales, seeds, R) first eval_size test images
    diverged_at: np.ndarray           # (2, scales, seeds) step or −1
    relative_difference: np.ndarray   # (scales, seeds) first BN layer's output change relative to a = 1
    gradient_ratio: np.ndarray        # (scales, seeds) its weight-gradient norm relative to a = 1
    input_variance: np.ndarray        # (scales,) mean over units and seeds of Var_batch[aWu]
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=WHEN_MEASURED)  # (R,) wall times

    @property
    def dataset(self) -> str:
        return self.info.dataset


@dataclass(frozen=True)
class InitMeasurements(base.Measurements):
    scales: np.ndarray
    datasets: tuple[DatasetMeasurements, ...]
    skipped: tuple[str, ...] = ()
    """A note per requested dataset that is not installed."""


def measure(config: Config, progress: Progress = no_progress) -> InitMeasurements:
    """Train the baseline and the BN network from every initial scale on every available dataset (one population per
    dataset), and check §3.3's scale identity at initialisation; never writes files.
    """
    datasets, skipped = study.load_datasets(config)
    for digits in datasets:
        require(config.probe_size <= digits.n_train,
                f"probe_size ({config.probe_size}) exceeds the {digits.n_train:,} training images of {digits.dataset}")
    measured = study.per_dataset(config, datasets, train_and_measure, progress,
                                 f"{2 * len(config.scales)} cells × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return InitMeasurements(np.asarray(config.scales, float), tuple(measured), tuple(skipped))


def train_and_measure(config: Config, digits: Digits) -> DatasetMeasurements:
    at_init = initial_response(config, digits)
    return measure_dataset(config, digits, study.train_cells(config, digits, cells(config)), at_init)


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train the scale grid without and with BN on each dataset, measure §3.3's identity at initialisation, judge."""
    config = config or Config()
    m = measure(config, progress)
    return compose(config, m, judge(config, m), present(config, m))


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
    return {"relative_difference": relative, "gradient_ratio": gradient / gradient[reference],
            "input_variance": variance.mean(axis=-1)}


# --- measurements -------------------------------------------------------------------------------------------


def measure_dataset(config: Config, digits: Digits, trained: study.Trained, at_init: dict) -> DatasetMeasurements:
    n, shape = config.n_seeds, (len(MODELS), len(config.scales), config.n_seeds)
    final = study.per_cell(trained.test_accuracy, n).reshape(shape)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1).reshape(*shape, -1)
    diverged = study.per_cell(trained.diverged_at, n).reshape(shape)
    return DatasetMeasurements(study.dataset_info(config, digits, trained), np.asarray(trained.steps),
                               np.asarray(final, float), np.asarray(curves, float), np.asarray(diverged, int),
                               np.asarray(at_init["relative_difference"], float),
                               np.asarray(at_init["gradient_ratio"], float),
                               np.asarray(at_init["input_variance"], float), trained.record_times)


def spreads(d: DatasetMeasurements) -> np.ndarray:
    """(model, seed): best − worst final accuracy over the scales."""
    return np.ptp(d.final_accuracy, axis=1)


def judged_scales(config: Config, d: DatasetMeasurements) -> np.ndarray:
    """(scales,): where §3.3's identity can be checked, Var[aWu] ≥ EPSILON_FACTOR · ε, other than a = 1."""
    return (d.input_variance >= EPSILON_FACTOR * BN_EPSILON) & (np.asarray(config.scales) != 1)


def identity_errors(config: Config, d: DatasetMeasurements) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scales,) each: output change (max over seeds), gradient ratio (mean over seeds), |ratio · a − 1|."""
    relative = d.relative_difference.max(axis=-1)
    ratio = d.gradient_ratio.mean(axis=-1)
    return relative, ratio, np.abs(ratio * np.asarray(config.scales) - 1)


# --- claims ----------------------------------------------------------------------------------------------------


def judge(config: Config, m: InitMeasurements) -> list[Claim]:
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


# --- presentation -----------------------------------------------------------------------------------------


def present(config: Config, m: InitMeasurements) -> Presentation:
    """A table per dataset (final accuracy per scale and model), the final-accuracy and training-curve figures with
    their captions, and the notes.
    """
    return Presentation(
        tables=[scale_table(config, d) for d in m.datasets],
        figures={"final_accuracy": accuracy_figure(config, m), "curves": curves_figure(config, m)},
        notes=notes(config, m),
        scalars={f"{d.dataset}/{model}/scale{scale:g}": {
            "accuracy/test_mean": base.scalar_points(d.steps, d.curves[i, j].mean(axis=0), d.record_times)}
            for d in m.datasets for i, model in enumerate(MODELS) for j, scale in enumerate(config.scales)},
        captions={"final_accuracy": "Final test accuracy against the initial weights' std without and with BN, mean ± "
                                    "std over seeds, with each network's spread over the scales in the legend.",
                  "curves": "Mean test-accuracy curves over seeds for every initial scale, without BN (top) and with "
                            "BN (bottom)."})


def notes(config: Config, m: InitMeasurements) -> list[str]:
    stds = ", ".join(f"{config.weight_std * s:g}" for s in config.scales)
    return [study.data_note(d.info) for d in m.datasets] + list(m.skipped) + [
        f"Initial weight stds {stds} (scales {', '.join(f'{s:g}' for s in config.scales)} × {config.weight_std:g}), every "
        f"layer; plain SGD at {config.learning_rate:g}, batch {config.batch_size}, {config.steps:,} steps, "
        f"{config.n_seeds} seeds; all {2 * len(config.scales) * config.n_seeds} networks of a dataset trained as one "
        "population. The output layer is scaled too, so BN's network output at initialisation still grows with the scale.",
    ]


# --- tables and figures ---------------------------------------------------------------------------------------


def scale_table(config: Config, d: DatasetMeasurements) -> Table:
    relative, ratio, _ = identity_errors(config, d)
    diverged = (d.diverged_at >= 0).sum(axis=-1)
    rows = []
    for i, scale in enumerate(config.scales):
        row = [scale, config.weight_std * scale]
        for j, _ in enumerate(MODELS):
            row += [study.pm(d.final_accuracy[j, i]), int(diverged[j, i])]
        row += [float(relative[i]), float(ratio[i]), 1 / scale]
        rows.append(row)
    columns = ["scale", "weight std"] + [f"{c} {LABELS[m]}" for m in MODELS for c in ("final accuracy", "diverged seeds")]
    columns += ["BN output change at init", "BN gradient ratio at init", "1/scale"]
    return Table(f"Initial weight scale on {d.info.label}", columns, rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds on the {d.info.n_test:,} test images. The last two "
                         "BN columns scale only the first layer's weights at initialisation and compare with scale 1: §3.3's "
                         "identity gives 0 and 1/scale.")


def accuracy_figure(config: Config, m: InitMeasurements) -> Figure:
    figure, axes = study.dataset_axes(len(m.datasets))
    stds = np.asarray(config.scales) * config.weight_std
    for ax, d in zip(axes, m.datasets):
        for i, model in enumerate(MODELS):
            means = d.final_accuracy[i].mean(axis=-1)
            ax.errorbar(stds, means, yerr=d.final_accuracy[i].std(axis=-1, ddof=1), marker="o", capsize=3,
                        color=COLOURS[model], label=f"{LABELS[model]} (spread {np.ptp(means):.3f})")
        ax.axvline(config.weight_std, color="grey", lw=0.8, ls=":", label="default std")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("std of the initial Gaussian weights")
        ax.set_ylabel("final test accuracy")
        ax.set_title(d.info.label, fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
    figure.suptitle(f"Final accuracy after {config.steps:,} steps (mean ± std over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def curves_figure(config: Config, m: InitMeasurements) -> Figure:
    figure = Figure(figsize=(5.5 * len(m.datasets), 7.5))
    grid = figure.subplots(2, len(m.datasets), squeeze=False, sharey=True)
    for column, d in enumerate(m.datasets):
        for row, model in enumerate(MODELS):
            curves = {f"std {config.weight_std * scale:g}": d.curves[row, j].mean(axis=0, keepdims=True)
                      for j, scale in enumerate(config.scales)}
            study.curves_figure(d.steps, curves, f"{d.info.label}, {LABELS[model]}",
                                ylabel=f"test accuracy ({d.info.eval_images:,} images)", ax=grid[row][column])
    figure.suptitle(f"Mean accuracy curves over {config.n_seeds} seeds", fontsize=10)
    figure.tight_layout()
    return figure
