"""Figure 1's measurements: per dataset, every cell × model × seed; `measure` trains one population per dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from replab.data.mnist import load_digits
from replab.errors import UserError, require
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.figure1.config import (
    DATASET_LABELS,
    MODELS,
    PLATEAU_FRACTION,
    READINGS,
    TARGET_FRACTION,
    Config,
)
from replab.experiments.bn.figure1.train import per_cell, train

SPREAD_FLOOR = 1e-6
"""A unit whose mean 15–85 spread over training is below this has no scale to normalise its drift by (NaN)."""


@dataclass(frozen=True)
class DatasetRun(base.Measurements):
    """One dataset's population. Axes: cell (rate-major over config.cells), model (0 baseline, 1 BN), seed, record."""

    dataset: str
    source: str
    n_train: int                    # training examples per seed (after its validation split)
    n_validation: int
    n_test: int
    binary: bool
    per_seed_test: bool
    cells: tuple[tuple[float, float], ...]
    paper_cell: int
    steps: np.ndarray               # (R,) from 0
    accuracy: np.ndarray            # (C, 2, S, R) on eval_size test examples; BN with moving averages
    loss: np.ndarray                # (C, 2, S, R) training mini-batch loss (NaN at step 0)
    sigmoid_input: np.ndarray       # (C, 2, S, R, 3, F) 15/50/85th percentiles over the probe batch, training mode
    test_accuracy: np.ndarray       # (C, 2, S) the whole test set at the end
    validation_accuracy: np.ndarray  # (C, 2, S) the seed's validation split at the end
    population_accuracy: np.ndarray  # (C, S) BN networks with Algorithm 2's population statistics
    diverged_at: np.ndarray         # (C, 2, S) step or −1
    record_every: int
    eval_size: int
    probe_size: int
    probe_unit: int
    population_batches: int
    steps_per_second: float
    train_seconds: float
    compile_seconds: float
    record_times: np.ndarray = field(default_factory=lambda: np.zeros(0), metadata=base.WHEN_MEASURED)  # (R,)

    @property
    def label(self) -> str:
        return DATASET_LABELS.get(self.dataset, self.dataset)

    @property
    def n_seeds(self) -> int:
        return int(self.accuracy.shape[2])

    @property
    def plateau(self) -> np.ndarray:
        """(C, 2, S) mean test accuracy over the last PLATEAU_FRACTION of the record points after step 0."""
        return plateau(self.accuracy[..., 1:])

    @property
    def tuned_cells(self) -> tuple[int, int]:
        """Each network's own best cell: the highest mean validation accuracy over seeds (never the test set)."""
        mean = np.nan_to_num(self.validation_accuracy.mean(axis=2), nan=-1.0)  # (C, 2)
        return int(np.argmax(mean[:, 0])), int(np.argmax(mean[:, 1]))

    def pair(self, reading: str) -> tuple[int, int]:
        """(baseline's cell, BN's cell) of a reading."""
        require(reading in READINGS, f"reading must be one of {', '.join(READINGS)}, got {reading!r}")
        return (self.paper_cell, self.paper_cell) if reading == "paper" else self.tuned_cells

    @property
    def never_reached(self) -> int:
        return int(self.steps[-1]) + self.record_every

    def target(self, cells: tuple[int, int]) -> np.ndarray:
        """(S,) TARGET_FRACTION of the lower of the two plateaus of each seed (a curve that is not a number has no
        plateau; the other's sets the target)."""
        return TARGET_FRACTION * np.fmin(self.plateau[cells[0], 0], self.plateau[cells[1], 1])

    def steps_to_target(self, cells: tuple[int, int]) -> np.ndarray:
        """(2, S) first record step after step 0 at which each curve reaches its seed's target (never: the budget
        + one record interval)."""
        target = self.target(cells)
        curves = (self.accuracy[cells[0], 0], self.accuracy[cells[1], 1])
        return np.array([[first_step_reaching(self.steps[1:], curves[m][s, 1:], target[s]) or self.never_reached
                          for s in range(self.n_seeds)] for m in range(2)], np.int64)

    @property
    def log_step_auc(self) -> np.ndarray:
        """(C, 2, S) mean test accuracy over log(step) from the first record to the last (trapezoids): a speed
        reading that needs no plateau."""
        x = np.log(self.steps[1:].astype(float))
        y = self.accuracy[..., 1:]
        if x.size < 2:
            return y[..., -1]
        return np.trapezoid(y, x, axis=-1) / (x[-1] - x[0])

    @property
    def drift(self) -> np.ndarray:
        """(C, 2, S, 2, F) per unit: max − min over training (from step 0) of its median (index 0) and of its
        15–85 spread (index 1), each divided by the unit's mean 15–85 spread over training."""
        median = self.sigmoid_input[..., 1, :]
        spread = self.sigmoid_input[..., 2, :] - self.sigmoid_input[..., 0, :]  # (C, 2, S, R, F)
        scale = spread.mean(axis=3)
        scale = np.where(scale > SPREAD_FLOOR, scale, np.nan)
        return np.stack([np.ptp(median, axis=3) / scale, np.ptp(spread, axis=3) / scale], axis=3)

    @property
    def unit_drift(self) -> np.ndarray:
        """(C, 2, S, 2) per seed, the median over every unit of the last hidden layer of `drift`."""
        drift = self.drift
        finite = np.isfinite(drift).any(axis=-1)
        out = np.full(drift.shape[:-1], np.nan)
        out[finite] = np.nanmedian(drift[finite], axis=-1)
        return out

    def to_metrics(self) -> dict[str, Any]:
        """result.json's metrics for this dataset; the full percentile array stays out (the probed unit's goes in)."""
        per_model = lambda values: {model: values[:, m] for m, model in enumerate(MODELS)}  # noqa: E731
        unit_drift = self.unit_drift
        readings = {}
        for reading in READINGS:
            cells = self.pair(reading)
            steps_to = self.steps_to_target(cells)
            readings[reading] = {
                "cells": {"baseline": self.cells[cells[0]], "bn": self.cells[cells[1]]},
                "test_accuracy": {"baseline": self.test_accuracy[cells[0], 0], "bn": self.test_accuracy[cells[1], 1]},
                "target": self.target(cells), "steps_to_target": {"baseline": steps_to[0], "bn": steps_to[1]},
                "speedup_per_seed": steps_to[0] / steps_to[1],
                "drift": {"baseline": unit_drift[cells[0], 0], "bn": unit_drift[cells[1], 1]},
            }
        return base.to_jsonable({
            "dataset": self.dataset, "source": self.source, "n_train": self.n_train,
            "n_validation": self.n_validation, "n_test": self.n_test, "binary": self.binary,
            "per_seed_test": self.per_seed_test, "cells": self.cells, "paper_cell": self.paper_cell,
            "tuned_cells": {"baseline": self.tuned_cells[0], "bn": self.tuned_cells[1]},
            "steps": self.steps, "record_every": self.record_every,
            "accuracy": per_model(self.accuracy),  # [cell][seed][record]
            "loss": per_model(self.loss),
            "sigmoid_input": per_model(self.sigmoid_input[..., self.probe_unit]),  # [cell][seed][record][15/50/85]
            "test_accuracy": per_model(self.test_accuracy), "validation_accuracy": per_model(self.validation_accuracy),
            "population_accuracy": self.population_accuracy, "plateau": per_model(self.plateau),
            "log_step_auc": per_model(self.log_step_auc),
            "drift": {"median": per_model(unit_drift[..., 0]), "spread": per_model(unit_drift[..., 1])},
            "readings": readings, "diverged": per_model((self.diverged_at >= 0).sum(axis=-1)),
            "eval_size": self.eval_size, "probe_size": self.probe_size, "probe_unit": self.probe_unit,
            "population_batches": self.population_batches, "steps_per_second": self.steps_per_second,
            "train_seconds": self.train_seconds, "compile_seconds": self.compile_seconds,
        })


@dataclass(frozen=True)
class Measurements(base.Measurements):
    runs: tuple[DatasetRun, ...]
    skipped: tuple[str, ...]
    """Datasets asked for but not available."""
    skip_notes: tuple[str, ...]

    def to_metrics(self) -> dict[str, Any]:
        return {"datasets": [run.to_metrics() for run in self.runs], "skipped": list(self.skipped),
                "skip_notes": list(self.skip_notes)}


def plateau(accuracy: np.ndarray) -> np.ndarray:
    """Mean over the last PLATEAU_FRACTION of record points (axis −1), at least one."""
    count = max(1, int(round(PLATEAU_FRACTION * accuracy.shape[-1])))
    return accuracy[..., -count:].mean(axis=-1)


def first_step_reaching(steps: np.ndarray, curve: np.ndarray, target: float) -> int | None:
    reached = np.flatnonzero(curve >= target)
    return int(steps[reached[0]]) if reached.size else None


def measure_dataset(config: Config, digits) -> DatasetRun:
    t = train(config, digits)
    return DatasetRun(
        dataset=digits.dataset, source=digits.source, n_train=int(t.splits.train.shape[1]),
        n_validation=int(t.splits.validation.shape[1]), n_test=int(t.splits.test.shape[1]),
        binary=bool(config.binarize_mnist and digits.dataset == "mnist"), per_seed_test=t.splits.per_seed_test,
        cells=tuple(config.cells), paper_cell=config.paper_cell, steps=np.asarray(t.steps, np.int64),
        accuracy=per_cell(config, t.accuracy).astype(float), loss=per_cell(config, t.loss).astype(float),
        sigmoid_input=per_cell(config, t.sigmoid_input, axis=1).astype(float),
        test_accuracy=per_cell(config, t.test_accuracy).astype(float),
        validation_accuracy=per_cell(config, t.validation_accuracy).astype(float),
        population_accuracy=per_cell(config, t.population_accuracy)[:, 1].astype(float),
        diverged_at=per_cell(config, t.diverged_at), record_every=config.record_every,
        eval_size=min(config.eval_size, int(t.splits.test.shape[1])), probe_size=config.probe_size,
        probe_unit=config.probe_unit, population_batches=t.population_batches,
        steps_per_second=float(t.steps_per_second), train_seconds=float(t.train_seconds),
        compile_seconds=float(t.compile_seconds), record_times=t.record_times)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """One population per dataset (every cell × model × seed); Fashion-MNIST skipped loudly when missing."""
    loaded, skipped, notes = [], [], []
    total = len(config.datasets)
    for i, name in enumerate(config.datasets):
        progress(i, total, f"loading {DATASET_LABELS[name]}")
        try:
            loaded.append(load_digits(name, data_dir=(config.data_dir or None) if name == "mnist" else None,
                                      seed=config.seed, binarize=config.binarize_mnist and name == "mnist"))
        except UserError as error:
            if name != "fashion-mnist":
                raise
            skipped.append(DATASET_LABELS[name])
            notes.append(f"FASHION-MNIST SKIPPED — every claim below rests on the other datasets only: {error}")
    require(loaded, "none of the requested datasets is available: " + " ".join(notes))
    runs = study.per_dataset(config, loaded, measure_dataset, progress,
                             f"{config.population} networks ({len(config.cells)} cells × 2 × {config.n_seeds} seeds), "
                             f"{config.steps:,} steps")
    progress(len(loaded), len(loaded), "done")
    return Measurements(tuple(runs), tuple(skipped), tuple(notes))

