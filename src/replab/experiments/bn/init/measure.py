"""bn-init's measurements: the scale grid trained without and with BN, and §3.3's scale identity at initialisation,
per seed (the experiment: __init__.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments import base
from replab.experiments.base import WHEN_MEASURED, Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.init.config import Config
from replab.nn.layers import dense
from replab.nn.losses import softmax_cross_entropy
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

MODELS = study.MODELS


def cells(config: Config) -> list[Member]:
    """Model-major: every scale without BN, then every scale with BN."""
    return [Member(model, weight_std=config.weight_std * scale) for model in MODELS for scale in config.scales]


@dataclass(frozen=True)
class DatasetResult:
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
class Measurements(base.Measurements):
    scales: np.ndarray
    datasets: tuple[DatasetResult, ...]
    skipped: tuple[str, ...] = ()
    """A note per requested dataset that is not installed."""


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
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
    return Measurements(np.asarray(config.scales, float), tuple(measured), tuple(skipped))


def train_and_measure(config: Config, digits: Digits) -> DatasetResult:
    at_init = initial_response(config, digits)
    return measure_dataset(config, digits, study.train_cells(config, digits, cells(config)), at_init)


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
        loss = tf.reduce_sum(softmax_cross_entropy(logits, y))
    gradient = study.per_cell(tf.norm(tape.gradient(loss, first_weight), axis=[1, 2]).numpy(), config.n_seeds)
    output = study.per_cell(np.moveaxis(pre[0].numpy(), 0, -1), config.n_seeds)  # (B, F, scales, seeds)
    variance = study.per_cell(tf.math.reduce_variance(dense(x, first_weight), axis=1).numpy().mean(axis=-1),
                              config.n_seeds)  # (scales, seeds): mean over units of Var_batch[aWu]
    reference = config.scales.index(1.0)
    difference = np.abs(output - output[:, :, reference:reference + 1]).max(axis=(0, 1))
    relative = difference / np.abs(output[:, :, reference]).max(axis=(0, 1))  # (scales, seeds)
    return {"relative_difference": relative, "gradient_ratio": gradient / gradient[reference],
            "input_variance": variance.mean(axis=-1)}


# --- measurements -------------------------------------------------------------------------------------------


def measure_dataset(config: Config, digits: Digits, trained: study.Trained, at_init: dict) -> DatasetResult:
    n, shape = config.n_seeds, (len(MODELS), len(config.scales), config.n_seeds)
    final = study.per_cell(trained.test_accuracy, n).reshape(shape)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1).reshape(*shape, -1)
    diverged = study.per_cell(trained.diverged_at, n).reshape(shape)
    return DatasetResult(study.dataset_info(config, digits, trained), np.asarray(trained.steps),
                               np.asarray(final, float), np.asarray(curves, float), np.asarray(diverged, int),
                               np.asarray(at_init["relative_difference"], float),
                               np.asarray(at_init["gradient_ratio"], float),
                               np.asarray(at_init["input_variance"], float), trained.record_times)
