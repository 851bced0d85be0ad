"""bn-gradients' measurements: layer Jacobian spectra and gradient norms over training, per seed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.gradients.config import Config
from replab.nn.jacobians import gradient_norms, layer_singular_values
from replab.nn.normalized_mlp import Member, NormalizedMLP

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS
SUMMARIES = ("rms", "geometric_mean", "median", "q10", "q90", "largest", "within", "mean_abs_log", "condition")
HISTOGRAM_EDGES = np.linspace(-4.0, 1.5, 56)
"""Bins of log10 σ for the singular-value histograms."""
RESOLUTION = float(np.finfo(np.float32).eps)
"""The SVD runs in float32: a singular value below σ_max × this is numerically zero and is counted as that bound."""
MOST = 0.5
"""'Most of the singular values': the null a fraction within the factor is tested against."""




# --- measurements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spectrum:
    """Summaries of singular values (see `spectrum_summary`); each array has the shape of what was summarised."""

    rms: np.ndarray
    geometric_mean: np.ndarray
    median: np.ndarray
    q10: np.ndarray
    q90: np.ndarray
    largest: np.ndarray
    within: np.ndarray
    mean_abs_log: np.ndarray
    condition: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, factor: float) -> "Spectrum":
        return cls(**spectrum_summary(values, factor))


@dataclass(frozen=True)
class Network:
    """One network (without or with BN) on one dataset, over its seeds."""

    test_accuracy: np.ndarray          # (seeds,)
    diverged_seeds: int
    jacobians: Spectrum                # layers 2..L: (layers, seeds, points)
    input_start: Spectrum              # J_1 at step 0: (seeds,)
    input_end: Spectrum                # J_1 at the last step: (seeds,)
    activation_gradients: np.ndarray   # ‖∂L/∂a_l‖: (seeds, points, L)
    weight_gradients: np.ndarray       # ‖∂L/∂W_l‖: (seeds, points, L + 1)
    histogram_start: np.ndarray        # log10 σ counts per layer J_1..J_L at step 0: (L, bins)
    histogram_end: np.ndarray          # (L, bins)


@dataclass(frozen=True)
class Dataset(study.NamedByInfo):
    info: study.DatasetInfo
    """Source, sizes, training time."""
    steps: np.ndarray                  # (points,) step 0 and every record point
    jacobian_layers: tuple[int, ...]   # 2..L
    none: Network
    batch: Network
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=base.WHEN_MEASURED)  # (points,)
    """Wall time of each point (step 0: when training started), for TensorBoard."""

    def network(self, model: str) -> Network:
        return getattr(self, model)


@dataclass(frozen=True)
class Measurements(base.Measurements):
    datasets: tuple[Dataset, ...]
    skip_notes: tuple[str, ...] = ()
    """Why a requested dataset was skipped (not installed)."""
    histogram_edges_log10: np.ndarray = field(default_factory=HISTOGRAM_EDGES.copy)


def cells(config: Config) -> list[Member]:
    return [Member(model, weight_std=config.weight_std) for model in MODELS]


def probe_batch(config: Config, digits: Digits) -> tuple[tf.Tensor, tf.Tensor]:
    return (tf.constant(digits.x_train[: config.probe_size]),
            tf.constant(digits.y_train[: config.probe_size].astype(np.int64)))


def probe_metrics(net: NormalizedMLP, x, y) -> dict:
    """What nn.fit records at every record point: the singular values of the hidden-to-hidden Jacobians joined on
    the last axis (K, B, Σ n_l), and the gradient norms on the probe batch, ‖∂L/∂a_l‖ then ‖∂L/∂W_l‖ (K, 2L + 1)."""
    layers = list(range(1, net.hidden_count))
    return {"singular_values": lambda: tf.concat(layer_singular_values(net, x, layers), axis=-1),
            "gradients": lambda: tf.concat(gradient_norms(net, x, y), axis=1)}


def initial_net(config: Config) -> NormalizedMLP:
    """The population train_cells builds, before training: the same members from the same seeds."""
    members = study.population(cells(config), config.n_seeds)
    seeds = [study.member_seed(config, s) for _ in MODELS for s in range(config.n_seeds)]
    return NormalizedMLP(config.layer_sizes, members, seeds)


@dataclass
class Measured:
    """Probe measurements as numpy, the member axis first: singular values at every point of the hidden-to-hidden
    layers (points, K, B, Σ n_l) and of every layer at the start and the end [(K, B, n_l)], gradients (points, K, 2L + 1)."""

    trained: study.Trained
    steps: list[int]
    singular_values: np.ndarray
    gradients: np.ndarray
    start: list[np.ndarray]
    end: list[np.ndarray]


def split_layers(values: np.ndarray, widths: list[int]) -> list[np.ndarray]:
    return np.split(values, np.cumsum(widths)[:-1], axis=-1)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train both networks on every available dataset and probe their Jacobians and gradients."""
    datasets, skip_notes = study.load_datasets(config)
    for digits in datasets:
        require(config.probe_size <= digits.n_train,
                f"probe_size ({config.probe_size}) exceeds the {digits.n_train} training examples of {digits.dataset}")
    results = study.per_dataset(config, datasets, train_and_summarize, progress,
                                f"{len(MODELS)} cells × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return Measurements(tuple(results), tuple(skip_notes), HISTOGRAM_EDGES.copy())


def train_and_summarize(config: Config, digits: Digits) -> "Dataset":
    return summarize(config, digits, measure_dataset(config, digits))


def measure_dataset(config: Config, digits: Digits) -> Measured:
    x, y = probe_batch(config, digits)
    twin = initial_net(config)
    start = [s.numpy() for s in layer_singular_values(twin, x)]
    start_gradients = tf.concat(gradient_norms(twin, x, y), axis=1).numpy()
    trained = study.train_cells(config, digits, cells(config),
                                extra_metrics=lambda net, _digits: probe_metrics(net, x, y))
    hidden_start = np.concatenate(start[1:], axis=-1)
    singular_values = np.concatenate([hidden_start[None], trained.metrics["singular_values"]], axis=0)
    gradients = np.concatenate([start_gradients[None], trained.metrics["gradients"]], axis=0)
    widths = [s.shape[-1] for s in start[1:]]
    end = [layer_singular_values(trained.net, x, [0])[0].numpy(), *split_layers(singular_values[-1], widths)]
    return Measured(trained, [0, *trained.steps.tolist()], singular_values, gradients, start, end)


def spectrum_summary(values: np.ndarray, factor: float) -> dict[str, np.ndarray]:
    """Summaries of singular values (..., B, n), largest first, over each probe batch's examples and values: arrays
    of shape (...).

    rms: √(mean σ²), the average gain ‖Jᵀg‖/‖g‖ of a gradient g in a random direction; geometric_mean: exp mean ln σ;
    largest: mean over examples of σ_max; within: the fraction in [1/factor, factor]; mean_abs_log: mean |ln σ| (0 iff
    all are 1); condition: the median over examples of σ_max/σ_min. Values below float32 resolution are floored there
    (see RESOLUTION)."""
    s = np.asarray(values, np.float64)
    s = np.maximum(s, np.maximum(s[..., :1] * RESOLUTION, np.finfo(np.float32).tiny))
    logs = np.log(s)
    pooled = s.reshape(*s.shape[:-2], -1)
    return {
        "rms": np.sqrt(np.mean(s**2, axis=(-2, -1))),
        "geometric_mean": np.exp(logs.mean(axis=(-2, -1))),
        "median": np.median(pooled, axis=-1),
        "q10": np.quantile(pooled, 0.1, axis=-1),
        "q90": np.quantile(pooled, 0.9, axis=-1),
        "largest": s[..., 0].mean(axis=-1),
        "within": np.mean((s >= 1 / factor) & (s <= factor), axis=(-2, -1)),
        "mean_abs_log": np.abs(logs).mean(axis=(-2, -1)),
        "condition": np.median(s[..., 0] / s[..., -1], axis=-1),
    }


def log10_histogram(values: np.ndarray) -> np.ndarray:
    logs = np.log10(np.maximum(values, np.finfo(np.float32).tiny))
    counts, _ = np.histogram(logs.clip(HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1]), HISTOGRAM_EDGES)
    return counts


def summarize(config: Config, digits: Digits, measured: Measured) -> Dataset:
    n, hidden = config.n_seeds, len(config.hidden)
    widths = [s.shape[-1] for s in measured.start[1:]]
    spectra = [np.moveaxis(v, 0, 1) for v in split_layers(measured.singular_values, widths)]  # (K, points, B, n)
    gradients = np.moveaxis(measured.gradients, 0, 1)  # (K, points, 2L + 1)
    trained = measured.trained
    networks = {}
    for m, model in enumerate(MODELS):
        members = slice(m * n, (m + 1) * n)
        per_layer = [spectrum_summary(values[members], config.close_factor) for values in spectra]
        networks[model] = Network(
            test_accuracy=trained.test_accuracy[members].astype(float),
            diverged_seeds=int((trained.diverged_at[members] >= 0).sum()),
            jacobians=Spectrum(**{key: np.stack([layer[key] for layer in per_layer]) for key in SUMMARIES}),
            input_start=Spectrum.of(measured.start[0][members], config.close_factor),
            input_end=Spectrum.of(measured.end[0][members], config.close_factor),
            activation_gradients=gradients[members, :, :hidden].astype(float),
            weight_gradients=gradients[members, :, hidden:].astype(float),
            histogram_start=np.stack([log10_histogram(values[members]) for values in measured.start]),
            histogram_end=np.stack([log10_histogram(values[members]) for values in measured.end]),
        )
    return Dataset(study.dataset_info(config, digits, trained), np.asarray(measured.steps),
                   tuple(range(2, hidden + 1)), networks["none"], networks["batch"], trained.times_from_start())
