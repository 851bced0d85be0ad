"""bn-ics' measurements: the three cells trained as one population per dataset, their accuracy and how far
the last hidden layer's input distribution moves (the experiment: this package's __init__.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab.data.mnist import Digits
from replab.experiments import base
from replab.experiments.base import WHEN_MEASURED, Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.ics.config import Config
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

CELLS = ("none", "batch", "noisy")
LABELS = {"none": "without BN", "batch": "BN", "noisy": "noisy BN"}
COLOURS = {"none": "C0", "batch": "C3", "noisy": "C2"}
NOISE_STEP_OFFSET = 1_000_000_000
"""The measurement draws its injected noise from steps far beyond training's, so it never reuses a training draw."""


def cells(config: Config) -> list[Member]:
    return [Member("none", weight_std=config.weight_std), Member("batch", weight_std=config.weight_std),
            Member("batch", weight_std=config.weight_std, shift_noise=True)]


def layer_input_moments(config: Config) -> study.MetricsFactory:
    """Extra metrics for train_cells: per-unit (mean, std) of the last hidden layer's sigmoid inputs, (K, 2, F).

    layer_input: as training sees them, batch statistics for BN and a fresh draw of the injected noise at every
    record point; layer_input_inference: in inference mode (BN's moving averages, no noise). Both over the same
    first probe_size training images each time.
    """

    def factory(net: NormalizedMLP, digits: Digits) -> dict:
        probe = tf.constant(digits.x_train[: min(config.probe_size, digits.n_train)])
        draws = tf.Variable(tf.constant(0, tf.int64), trainable=False, name="noise_draws")

        def moments():
            draws.assign_add(1)
            _, inputs = forward(net, probe, training=True, step=NOISE_STEP_OFFSET + draws, seed=config.seed,
                                update_averages=False)
            mean, variance = tf.nn.moments(inputs[-1], axes=[1])  # over the probe images: (K, F)
            return tf.stack([mean, tf.sqrt(variance)], axis=1)

        def inference_moments():
            _, inputs = forward(net, probe, training=False)
            mean, variance = tf.nn.moments(inputs[-1], axes=[1])
            return tf.stack([mean, tf.sqrt(variance)], axis=1)

        return {"layer_input": moments, "layer_input_inference": inference_moments}

    return factory


# --- measurements ------------------------------------------------------------------------------------------


def shift_measures(moments: np.ndarray) -> dict[str, np.ndarray]:
    """How far each member's layer-input distribution wanders over training; moments (R, K, 2, F) -> (K,) each.

    mean_wander: per unit, the std over record points of the input's mean, averaged over units; std_wander the
    same for the input's std; shift: per unit √(var over time of the mean + var over time of the std), averaged.
    """
    spread = moments.std(axis=0)  # (K, 2, F)
    return {"mean_wander": spread[:, 0].mean(axis=-1), "std_wander": spread[:, 1].mean(axis=-1),
            "shift": np.sqrt(np.square(spread).sum(axis=1)).mean(axis=-1)}


@dataclass(frozen=True)
class DatasetResult:
    """One dataset's three cells (CELLS order) over seeds."""

    info: study.DatasetInfo
    steps: np.ndarray              # (R,)
    probe_images: int
    final_accuracy: np.ndarray     # (cells, seeds) whole test set
    curves: np.ndarray             # (cells, seeds, R) first eval_size test images
    diverged_at: np.ndarray        # (cells, seeds) step or −1
    mean_wander: np.ndarray        # (cells, seeds) as training sees the layer input (see shift_measures)
    std_wander: np.ndarray         # (cells, seeds)
    shift: np.ndarray              # (cells, seeds)
    inference_shift: np.ndarray    # (cells, seeds) the same shift in inference mode (moving averages, no noise)
    probe_unit_mean: np.ndarray    # (cells, seeds, R) probe_unit's input mean, as training sees it
    probe_unit_std: np.ndarray     # (cells, seeds, R)
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=WHEN_MEASURED)  # (R,) wall times

    @property
    def dataset(self) -> str:
        return self.info.dataset

    def cell(self, name: str) -> int:
        return CELLS.index(name)


@dataclass(frozen=True)
class Measurements(base.Measurements):
    datasets: tuple[DatasetResult, ...]
    skipped: tuple[str, ...] = ()
    """A note per requested dataset that is not installed."""


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train the baseline, BN and noisy BN on every available dataset (one population per dataset) and measure how
    much each layer's input distribution moves; computes, never writes files.
    """
    datasets, skipped = study.load_datasets(config)
    measured = study.per_dataset(config, datasets, train_and_measure, progress,
                                 f"{len(CELLS)} cells × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return Measurements(tuple(measured), tuple(skipped))


def train_and_measure(config: Config, digits: Digits) -> DatasetResult:
    trained = study.train_cells(config, digits, cells(config), options=config.options,
                                extra_metrics=layer_input_moments(config))
    return measure_dataset(config, digits, trained)


def measure_dataset(config: Config, digits: Digits, trained: study.Trained) -> DatasetResult:
    n = config.n_seeds
    moments = trained.metrics["layer_input"]                            # (R, K, 2, F)
    shifts = {name: study.per_cell(values, n) for name, values in shift_measures(moments).items()}
    inference = study.per_cell(shift_measures(trained.metrics["layer_input_inference"])["shift"], n)
    unit = np.moveaxis(moments[:, :, :, config.probe_unit], 0, -1)    # (K, 2, R)
    unit = unit.reshape(len(CELLS), n, 2, -1)
    return DatasetResult(
        study.dataset_info(config, digits, trained), np.asarray(trained.steps), min(config.probe_size, digits.n_train),
        np.asarray(study.per_cell(trained.test_accuracy, n), float),
        np.asarray(np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1), float),
        np.asarray(study.per_cell(trained.diverged_at, n), int),
        shifts["mean_wander"], shifts["std_wander"], shifts["shift"], inference,
        np.asarray(unit[:, :, 0], float), np.asarray(unit[:, :, 1], float), trained.record_times)
