"""BN study 3, gradient propagation: does Batch Normalization keep the layer Jacobians near 1 and gradients even?

§3.3 conjectures that with normalised inputs to consecutive layers, the map between them, linearised as ẑ = J x̂ with
unit covariances, has J Jᵀ = I: every singular value of J is 1, so backpropagation keeps gradient sizes. For Figure 1's
sigmoid network without and with BN this study measures, on one fixed probe batch of training images,

* the layer Jacobians J_l = ∂a_l/∂a_{l−1} between the inputs a_l of consecutive layers' sigmoids (BN's output with BN,
  Wu + b without), per example, with BN's statistics held at the probe batch's values (see nn.jacobians), and their
  singular values, at initialisation and at every record point; J_1 (from the pixels, not a normalised input) only at
  the start and the end;
* the training-mode loss gradients ‖∂L/∂a_l‖ and ‖∂L/∂W_l‖ at every layer, over training.

Both networks are members of one population per dataset (same mini-batches; seed s of both starts from the same weights).
The step-0 measurements come from a twin population built from the same seeds, since nn.fit records after training steps.

measure → judge → present: `measure` trains and probes, `judge` turns the per-seed summaries into findings decided
by `replab.stats` (one test per dataset, over seeds), `present` draws the tables and figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments import base
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.bn_gradients_config import Config
from replab.nn.jacobians import gradient_norms, layer_singular_values
from replab.nn.normalized_mlp import Member, NormalizedMLP

NAME = "bn-gradients"
TITLE = "BN study 3 — gradient propagation: does Batch Normalization keep layer Jacobians near 1 and gradients even?"
QUESTION = ("Over training, what are the singular values of each layer's Jacobian between consecutive sigmoid inputs, "
            "and how does the size of the loss gradient change from layer to layer, without and with Batch "
            "Normalization? Does BN keep the singular values close to 1 and the gradients the same size across layers, "
            "as §3.3 conjectures?")

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
class Dataset:
    info: study.DatasetInfo
    """Source, sizes, training time."""
    steps: np.ndarray                  # (points,) step 0 and every record point
    jacobian_layers: tuple[int, ...]   # 2..L
    none: Network
    batch: Network
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=base.WHEN_MEASURED)  # (points,)
    """Wall time of each point (step 0: when training started), for TensorBoard."""

    @property
    def dataset(self) -> str:
        return self.info.dataset

    @property
    def label(self) -> str:
        return study.dataset_label(self.info)

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


# --- presentation ------------------------------------------------------------------------------------------


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (Jacobian spectra per dataset, gradient norms per layer), the figures with their captions, the notes
    and the TensorBoard gradient series.
    """
    return Presentation(
        tables=[spectrum_table(config, d) for d in m.datasets] + [gradient_table(config, m.datasets)],
        figures={"gradient_norms": gradient_figure(config, m.datasets),
                 "singular_values": histogram_figure(config, m.datasets),
                 "spectrum_over_training": spectrum_figure(config, m.datasets)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(m.datasets),
        captions={
            "gradient_norms": "Loss-gradient norms at each layer's sigmoid input and weights over training, without "
                              "(dashed) and with (solid) BN, on a fixed probe batch.",
            "singular_values": "Histograms of the layer Jacobians' singular values at the start and the end of "
                               "training, without and with BN, against the band within the factor of 1.",
            "spectrum_over_training": "Median, 10–90th percentile band and RMS of the hidden-to-hidden Jacobians' "
                                      "singular values over training, without and with BN.",
        },
    )


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Measure both networks' Jacobian spectra and gradient norms, judge §3.3's conjecture over seeds, present."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))


def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skip_notes)
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, plain SGD at rate {config.learning_rate:g}, batch {config.batch_size}, "
               f"{config.steps:,} steps) without and with BN, {config.n_seeds} seeds each, trained as one population.")
    out.append("J_l = ∂a_l/∂a_{l−1}, where a_l is the input to layer l's sigmoids (BN's output γx̂ + β with BN, Wu + b "
               "without) — the vectors whose consecutive pairs §3.3's argument is about. It is taken per example, with "
               "BN's mean and variance frozen at the probe batch's values (BN then is a fixed affine map, so J_l = "
               "diag(γ/σ_B)·Wᵀ·diag(σ'(a_{l−1})); the examples' coupling through the batch statistics is left out). "
               "J_1 is from the pixels, which are not normalised, so it is reported at the start and the end only and "
               "kept out of the claims.")
    out.append("The RMS singular value √(mean σ²) is the factor by which J_lᵀ scales a gradient pointing in a random "
               "direction, on average: it is what decides whether gradients keep their size. Singular values of a "
               "random square matrix spread over [0, 2×] their RMS (the quarter-circle law), so even a well-scaled "
               "layer has some small ones; the fraction within the factor and the condition number show that spread.")
    out.append("Gradient norms are the real training-mode gradients of the mean cross-entropy on the probe batch "
               "(through BN's batch statistics), computed without updating the moving averages.")
    return out


TABLE_SUMMARIES = ("rms", "geometric_mean", "median", "largest", "within", "mean_abs_log", "condition")


def spectrum_table(config: Config, d: Dataset) -> Table:
    rows = []
    for model in MODELS:
        net = d.network(model)
        for layer in range(1, len(config.hidden) + 1):
            for when, point in (("start", 0), ("end", -1)):
                if layer == 1:
                    summary = net.input_start if when == "start" else net.input_end
                    values = {key: getattr(summary, key) for key in TABLE_SUMMARIES}
                else:
                    values = {key: getattr(net.jacobians, key)[layer - 2][:, point] for key in TABLE_SUMMARIES}
                rows.append([LABELS[model], f"J_{layer}", when, *(float(np.mean(values[key])) for key in TABLE_SUMMARIES),
                             float(np.mean(net.activation_gradients[:, point, layer - 1])),
                             float(np.mean(net.weight_gradients[:, point, layer - 1]))])
    f = config.close_factor
    columns = ["network", "Jacobian", "when", "RMS σ", "geometric mean σ", "median σ", "mean σ_max",
               f"fraction in [1/{f:g}, {f:g}]", "mean |ln σ|", "median σ_max/σ_min", "‖∂L/∂a_l‖", "‖∂L/∂W_l‖"]
    return Table(f"Layer Jacobians and gradients on {d.label}", columns, rows,
                 caption=f"Means over {config.n_seeds} seeds; start = step 0, end = step {int(d.steps[-1]):,}. "
                         f"J_l = ∂a_l/∂a_(l−1) over {config.probe_size} probe images (J_1 from the pixels); "
                         "gradients of the mean loss on that batch at layer l.")


def gradient_table(config: Config, datasets: tuple[Dataset, ...]) -> Table:
    rows = []
    for d in datasets:
        for model in MODELS:
            spread = gradient_spread(d, model)
            weight = gradient_spread(d, model, "weight")
            net = d.network(model)
            rows.append([d.label, LABELS[model], study.pm(spread[:, 0], 2), study.pm(spread[:, -1], 2),
                         study.pm(np.exp(np.log(spread).mean(axis=1)), 2), study.pm(weight[:, 0], 2),
                         study.pm(weight[:, -1], 2), study.pm(net.test_accuracy), net.diverged_seeds])
    columns = ["dataset", "network", "‖∂L/∂a_l‖ max/min at start", "at end", "geometric mean over training",
               "‖∂L/∂W_l‖ max/min at start", "at end", "final test accuracy", "diverged seeds"]
    return Table("Gradient size across the hidden layers", columns, rows,
                 caption=f"max/min over the {len(config.hidden)} hidden layers (W: their weights, the output layer "
                         f"excluded); mean ± std over {config.n_seeds} seeds.")


def layer_colour(layer: int) -> str:
    return f"C{(layer + 1) % 10}"


def gradient_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.5))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    for column, d in enumerate(datasets):
        for row, kind in enumerate(("activation", "weight")):
            ax = grid[row][column]
            for model, style in zip(MODELS, ("--", "-")):
                norms = getattr(d.network(model), f"{kind}_gradients")  # (seeds, points, layers)
                geometric = np.exp(np.log(norms).mean(axis=0))
                for layer in range(norms.shape[-1]):
                    ax.plot(d.steps, geometric[:, layer], style, color=layer_colour(layer),
                            label=f"layer {layer + 1}, {LABELS[model]}")
            ax.set_yscale("log")
            ax.set_xlabel("training step")
            ax.set_ylabel("‖∂L/∂a_l‖" if kind == "activation" else "‖∂L/∂W_l‖")
            where = "sigmoid input" if kind == "activation" else "weights"
            ax.set_title(f"{d.label}: gradient at each layer's {where}", fontsize=10)
            ax.legend(fontsize=6, ncol=2)
    figure.suptitle(f"Gradient norms on a fixed batch of {config.probe_size} training images (geometric mean over "
                    f"{config.n_seeds} seeds)\n(dashed: without BN, solid: with BN)", fontsize=10)
    figure.tight_layout()
    return figure


def histogram_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    hidden = len(config.hidden)
    columns = [(d, when) for d in datasets for when in ("start", "end")]
    figure = Figure(figsize=(3.6 * len(columns), 2.6 * hidden))
    grid = figure.subplots(hidden, len(columns), squeeze=False, sharex=True)
    centres = (HISTOGRAM_EDGES[:-1] + HISTOGRAM_EDGES[1:]) / 2
    width = HISTOGRAM_EDGES[1] - HISTOGRAM_EDGES[0]
    f = config.close_factor
    for c, (d, when) in enumerate(columns):
        for layer in range(hidden):
            ax = grid[layer][c]
            ax.axvspan(-np.log10(f), np.log10(f), color="grey", alpha=0.12)
            ax.axvline(0.0, color="grey", lw=0.8)
            for model in MODELS:
                net = d.network(model)
                counts = (net.histogram_start if when == "start" else net.histogram_end)[layer].astype(float)
                ax.step(centres, counts / max(counts.sum() * width, 1), where="mid", color=COLOURS[model],
                        label=LABELS[model])
            step = 0 if when == "start" else int(d.steps[-1])
            ax.set_title(f"{d.label}, J_{layer + 1}, step {step:,}", fontsize=9)
            if layer == hidden - 1:
                ax.set_xlabel("log10 singular value (below −4 counted at −4)")
            if c == 0:
                ax.set_ylabel("density")
            ax.legend(fontsize=6)
    figure.suptitle(f"Singular values of the layer Jacobians over {config.probe_size} probe images and "
                    f"{config.n_seeds} seeds\n(shaded: within a factor {f:g} of 1; J_1 is from the pixels)", fontsize=10)
    figure.tight_layout()
    return figure


def spectrum_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure, axes = study.dataset_axes(len(datasets), height=4.8)
    f = config.close_factor
    for ax, d in zip(axes, datasets):
        ax.axhspan(1 / f, f, color="grey", alpha=0.12)
        for model, style in zip(MODELS, ("--", "-")):
            spectrum = d.network(model).jacobians
            for i, layer in enumerate(d.jacobian_layers):
                colour = layer_colour(layer - 1)
                median = np.exp(np.log(spectrum.median[i]).mean(axis=0))
                ax.plot(d.steps, median, style, color=colour, label=f"J_{layer} median, {LABELS[model]}")
                ax.fill_between(d.steps, spectrum.q10[i].mean(axis=0), spectrum.q90[i].mean(axis=0),
                                color=colour, alpha=0.07)
                ax.plot(d.steps, spectrum.rms[i].mean(axis=0), style, color=colour, lw=0.8, marker=".",
                        label=f"J_{layer} RMS, {LABELS[model]}")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("singular value of J_l")
        ax.set_title(f"{d.label}: median (band 10–90th percentile) and RMS", fontsize=10)
        ax.legend(fontsize=6, ncol=2)
    figure.suptitle(f"Hidden-to-hidden Jacobian spectra over training\n(dashed: without BN, solid: with BN; shaded: "
                    f"within a factor {f:g} of 1)", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(datasets: tuple[Dataset, ...]) -> dict:
    """Seed means per network: gradient norms per layer and the hidden-to-hidden Jacobians' RMS and median σ."""
    scalars = {}
    for d in datasets:
        for model in MODELS:
            net, tags = d.network(model), {}
            for kind in ("activation", "weight"):
                norms = np.exp(np.log(getattr(net, f"{kind}_gradients")).mean(axis=0))  # (points, layers)
                for layer in range(norms.shape[-1]):
                    tags[f"gradient/{kind}_layer{layer + 1}"] = base.scalar_points(d.steps, norms[:, layer], d.record_times)
            for i, layer in enumerate(d.jacobian_layers):
                for key in ("rms", "median"):
                    values = getattr(net.jacobians, key)[i].mean(axis=0)
                    tags[f"jacobian/{key}_sv_J{layer}"] = base.scalar_points(d.steps, values, d.record_times)
            scalars[f"{d.dataset}/{model}"] = tags
    return scalars
