"""bn-lr's measurements: final accuracy, accuracy curves and divergence of every (network, rate, seed) of the
learning-rate grid, per dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from replab.data.mnist import Digits
from replab.experiments import base
from replab.experiments.base import WHEN_MEASURED, Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.lr.config import Config
from replab.nn.normalized_mlp import Member

MODELS = study.MODELS


def cells(config: Config) -> tuple[list[Member], list[float]]:
    """Model-major: every rate without BN, then every rate with BN."""
    members = [Member(model, weight_std=config.weight_std) for model in MODELS for _ in config.learning_rates]
    return members, list(config.learning_rates) * len(MODELS)


# --- measurements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetResult:
    """One dataset's learning-rate grid; axes (model, rate, seed[, record])."""

    info: study.DatasetInfo
    steps: np.ndarray              # (R,) record points
    final_accuracy: np.ndarray     # (2, rates, seeds) whole test set
    curves: np.ndarray             # (2, rates, seeds, R) accuracy on the first eval_size test images
    diverged_at: np.ndarray        # (2, rates, seeds) step or −1
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=WHEN_MEASURED)  # (R,) wall times

    @property
    def dataset(self) -> str:
        return self.info.dataset


@dataclass(frozen=True)
class Measurements(base.Measurements):
    learning_rates: np.ndarray     # (rates,)
    datasets: tuple[DatasetResult, ...]
    skipped: tuple[str, ...] = ()
    """A note per requested dataset that is not installed."""


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train the baseline and the BN network at every learning rate on every available dataset, as one population
    per dataset; computes, never writes files.
    """
    datasets, skipped = study.load_datasets(config)
    measured = study.per_dataset(config, datasets, train_and_measure, progress,
                                 f"{2 * len(config.learning_rates)} cells × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return Measurements(np.asarray(config.learning_rates, float), tuple(measured), tuple(skipped))


def train_and_measure(config: Config, digits: Digits) -> DatasetResult:
    members, rates = cells(config)
    return measure_dataset(config, digits, study.train_cells(config, digits, members, learning_rates=rates))


def measure_dataset(config: Config, digits: Digits, trained: study.Trained) -> DatasetResult:
    n, shape = config.n_seeds, (len(MODELS), len(config.learning_rates), config.n_seeds)
    final = study.per_cell(trained.test_accuracy, n).reshape(shape)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1).reshape(*shape, -1)
    diverged = study.per_cell(trained.diverged_at, n).reshape(shape)
    return DatasetResult(study.dataset_info(config, digits, trained), np.asarray(trained.steps),
                               np.asarray(final, float), np.asarray(curves, float), np.asarray(diverged, int),
                               trained.record_times)
