"""BN study 6, internal covariate shift: does BN still help when the shift it is said to remove is put back?

A variant of Santurkar et al. (2018)'s test: after every BN layer, add a random shift and scale per unit that
changes at every step ("noisy BN"; Santurkar et al. draw i.i.d. noise per example and unit from a distribution whose
mean and variance change every step — here one shift and one scale per unit and step move the whole batch), so the next layer's input distribution moves all the time. If BN worked by reducing internal
covariate shift (Ioffe & Szegedy's explanation), noisy BN should lose BN's benefit. Three cells — no
normalisation, BN, noisy BN — over several seeds are one population per dataset: the same mini-batches, and seed s
of every cell starts from the same weights. Besides accuracy, the shift itself is measured: the per-unit mean and
standard deviation of the last hidden layer's sigmoid inputs (noise included) over a fixed set of training images,
at every record point, as training sees them (batch statistics) and in inference mode (moving averages, no noise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import stats
from replab.claims import Claim, check, decide, finding
from replab.data.mnist import Digits
from replab.experiments.bn import study
from replab.experiments.bn.batchnorm import first_step_reaching
from replab.experiments.bn.bn_ics_config import Config
from replab.experiments import base
from replab.experiments.base import WHEN_MEASURED, Presentation, Progress, Result, Table, compose, no_progress
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

NAME = "bn-ics"
TITLE = "BN study 6 — internal covariate shift: does BN's benefit survive injected shift (Santurkar et al. 2018)?"
QUESTION = ("If a random shift and scale that changes every step is injected after each BN layer, so that layer "
            "inputs move more than without BN, does the network keep BN's advantage over no normalisation?")

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
class DatasetMeasurements:
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
class IcsMeasurements(base.Measurements):
    datasets: tuple[DatasetMeasurements, ...]
    skipped: tuple[str, ...] = ()
    """A note per requested dataset that is not installed."""


def measure(config: Config, progress: Progress = no_progress) -> IcsMeasurements:
    """Train the baseline, BN and noisy BN on every available dataset (one population per dataset) and measure how
    much each layer's input distribution moves; computes, never writes files.
    """
    datasets, skipped = study.load_datasets(config)
    measured = study.per_dataset(config, datasets, train_and_measure, progress,
                                 f"{len(CELLS)} cells × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return IcsMeasurements(tuple(measured), tuple(skipped))


def train_and_measure(config: Config, digits: Digits) -> DatasetMeasurements:
    trained = study.train_cells(config, digits, cells(config), options=config.options,
                                extra_metrics=layer_input_moments(config))
    return measure_dataset(config, digits, trained)


def measure_dataset(config: Config, digits: Digits, trained: study.Trained) -> DatasetMeasurements:
    n = config.n_seeds
    moments = trained.metrics["layer_input"]                            # (R, K, 2, F)
    shifts = {name: study.per_cell(values, n) for name, values in shift_measures(moments).items()}
    inference = study.per_cell(shift_measures(trained.metrics["layer_input_inference"])["shift"], n)
    unit = np.moveaxis(moments[:, :, :, config.probe_unit], 0, -1)    # (K, 2, R)
    unit = unit.reshape(len(CELLS), n, 2, -1)
    return DatasetMeasurements(
        study.dataset_info(config, digits, trained), np.asarray(trained.steps), min(config.probe_size, digits.n_train),
        np.asarray(study.per_cell(trained.test_accuracy, n), float),
        np.asarray(np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1), float),
        np.asarray(study.per_cell(trained.diverged_at, n), int),
        shifts["mean_wander"], shifts["std_wander"], shifts["shift"], inference,
        np.asarray(unit[:, :, 0], float), np.asarray(unit[:, :, 1], float), trained.record_times)


def target_accuracy(config: Config, d: DatasetMeasurements) -> float:
    return float(d.final_accuracy.mean(axis=1).max()) - config.target_within


def steps_to_target(config: Config, d: DatasetMeasurements) -> list[int | None]:
    target = target_accuracy(config, d)
    return [first_step_reaching(d.steps, d.curves[c].mean(axis=0), target) for c in range(len(CELLS))]


# --- claims --------------------------------------------------------------------------------------------------


def judge(config: Config, m: IcsMeasurements) -> list[Claim]:
    """Injected shift is a manipulation check; BN's reduced shift (in inference mode) and its gain surviving the
    shift are findings paired over seeds, decided together (`claims.decide`).
    """
    base = study.evidence_base(config, m.datasets)
    return decide([survives_claim(config, m, base), more_shift_claim(config, m, base),
                   bn_less_shift_claim(config, m, base)])


def kept_text(bn_gain: np.ndarray, noisy_gain: np.ndarray) -> str:
    if bn_gain.mean() == 0:
        return "no BN gain to keep"
    return f"kept {noisy_gain.mean() / bn_gain.mean():.0%} of BN's gain"


def survives_claim(config: Config, m: IcsMeasurements, base) -> Claim:
    tests, evidence = [], []
    k = config.keep_fraction
    for d in m.datasets:
        none, bn, noisy = d.final_accuracy
        bn_gain, noisy_gain = bn - none, noisy - none
        tests += [stats.paired(bn, none, f"{d.info.label}: BN − baseline"),
                  stats.paired(noisy_gain, k * bn_gain, f"{d.info.label}: noisy BN − baseline − {k:g} × (BN − baseline)")]
        evidence.append(
            f"{d.info.label}: final accuracy without BN {study.pm(none)}, BN {study.pm(bn)}, noisy BN {study.pm(noisy)}; "
            f"BN − baseline {bn_gain.mean():+.4f}, noisy BN − baseline {noisy_gain.mean():+.4f}, "
            f"{kept_text(bn_gain, noisy_gain)}")
    return finding(
        "bn-benefit-survives-shift",
        "BN's benefit survives injected, time-varying shift and scale after every BN layer: noisy BN still beats no "
        f"normalisation by more than {k:g} of BN's margin (so reducing internal covariate shift is not what makes BN "
        "work)",
        effect=f"per dataset, two paired differences of final test accuracy over seeds: BN − baseline (BN has a benefit "
               f"to keep), and (noisy BN − baseline) − {k:g} × (BN − baseline) (noisy BN keeps more than {k:g} of it)",
        direction="greater", tests=tests, base=base,
        evidence="; ".join(evidence) + f". Paired over {config.n_seeds} seeds after {config.steps:,} steps at learning "
        f"rate {config.learning_rate:g}; holds only if both tests hold on every dataset.")


def shift_values(d: DatasetMeasurements, values: np.ndarray) -> str:
    return ", ".join(f"{LABELS[c]} {study.pm(values[i], 3)}" for i, c in enumerate(CELLS))


def more_shift_claim(config: Config, m: IcsMeasurements, base) -> Claim:
    passed, evidence = bool(m.datasets), []
    for d in m.datasets:
        noisy = d.shift[d.cell("noisy")]
        others = np.concatenate([d.shift[d.cell("none")], d.shift[d.cell("batch")]])
        separated = bool(noisy.min() > others.max())
        passed = passed and separated
        evidence.append(f"{d.info.label}: shift {shift_values(d, d.shift)}; noisy BN's smallest {noisy.min():.3f} "
                        f"{'>' if separated else '≤'} the others' largest {others.max():.3f}")
    return check(
        "noise-increases-shift",
        "With the injected noise, the distribution of the last hidden layer's sigmoid inputs moves more than with BN "
        "and more than without BN (a manipulation check: the test really puts covariate shift back)",
        passed=passed, base=base,
        evidence="; ".join(evidence) + f". Shift: per unit, √(variance over the record points of the mean + the same "
        f"of the std) of its input over the first {m.datasets[0].probe_images if m.datasets else config.probe_size:,} "
        "training images, averaged over units, as training sees it "
        "(noise included). Passes if, on every dataset, every noisy-BN seed moves more than every seed of the other "
        "two cells: the noise is the manipulation, so it must separate them.")


def bn_less_shift_claim(config: Config, m: IcsMeasurements, base) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        none, bn = d.inference_shift[d.cell("none")], d.inference_shift[d.cell("batch")]
        tests.append(stats.paired(none, bn, d.info.label))
        evidence.append(f"{d.info.label}: inference-mode shift {shift_values(d, d.inference_shift)} (as training "
                        f"sees it: without BN {study.pm(d.shift[0], 3)}, BN {study.pm(d.shift[1], 3)})")
    return finding(
        "bn-reduces-shift",
        "Plain BN reduces internal covariate shift: in inference mode, the last hidden layer's sigmoid inputs move "
        "less over training than without BN (Ioffe & Szegedy's Figure 1(b, c))",
        effect="baseline − BN shift of the last hidden layer's input in inference mode, per seed",
        direction="greater", tests=tests, base=base,
        evidence="; ".join(evidence) + f". Shift as in noise-increases-shift, but computed in inference mode: BN "
        "normalises with its moving averages, so the probe's per-unit moments are not β and γ by construction (as "
        f"they are with batch statistics) but what the network as used sees. Paired over {config.n_seeds} seeds, one "
        "test per dataset.")


# --- presentation ------------------------------------------------------------------------------------------


def present(config: Config, m: IcsMeasurements) -> Presentation:
    """A table per dataset (accuracy and measured shift per model), the figures with their captions, the notes and
    the TensorBoard series.
    """
    return Presentation(
        tables=[cells_table(config, d) for d in m.datasets],
        figures={"curves": curves_figure(config, m), "layer_input": layer_input_figure(config, m),
                 "shift": shift_figure(config, m)},
        notes=notes(config, m), scalars=tensorboard_scalars(config, m),
        captions={"curves": "Test-accuracy curves without BN, with BN and with noisy BN: mean over seeds and the "
                            "min–max band.",
                  "layer_input": "One unit of the last hidden layer: the mean ± std of its sigmoid input over the probe "
                                 "images during training, as training sees it, for seed 0 of each cell.",
                  "shift": "How far the last hidden layer's input distribution wanders over training in each cell, "
                           "as training sees it (bars: mean over seeds; dots: seeds)."})


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train no normalisation, BN and noisy BN on each dataset as one population, judge the claims, present."""
    config = config or Config()
    m = measure(config, progress)
    return compose(config, m, judge(config, m), present(config, m))


# --- notes, tables and figures -------------------------------------------------------------------------------


def notes(config: Config, m: IcsMeasurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skipped)
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, batch {config.batch_size}, plain SGD at learning rate {config.learning_rate:g}, "
               f"{config.steps:,} steps); {config.n_seeds} seeds; the {len(CELLS) * config.n_seeds} networks of a dataset "
               "train as one population on the same mini-batches.")
    out.append(f"Noisy BN: after each BN layer (γx̂ + β), every unit's output is multiplied by a scale drawn "
               f"log-uniformly from [1/{config.scale_range:g}, {config.scale_range:g}] and shifted by a draw from "
               f"U(−{config.shift_range:g}, {config.shift_range:g}), redrawn at every training step and for every "
               "network; at test time no noise is added (the moving averages are those of the clean BN output).")
    probe = m.datasets[0].probe_images if m.datasets else config.probe_size
    out.append("Shift measurement: at each record point, the last hidden layer's sigmoid inputs for the first "
               f"{probe:,} training images give each unit a mean and a std; how much these wander over the record "
               "points is the shift. As training sees it (batch statistics, a fresh noise draw) BN's per-unit mean "
               "and std are β and γ·σ/√(σ² + ε) by construction, so bn-reduces-shift is judged in inference mode "
               "(moving averages, no noise). It measures the movement of a layer's input distribution, not Santurkar "
               "et al.'s gradient-based ICS.")
    return out


def cells_table(config: Config, d: DatasetMeasurements) -> Table:
    rows = []
    reach = steps_to_target(config, d)
    for c, cell in enumerate(CELLS):
        rows.append([LABELS[cell], study.pm(d.final_accuracy[c]), study.pm(d.curves[c].mean(axis=-1)),
                     "never" if reach[c] is None else f"{reach[c]:,}", study.pm(d.mean_wander[c], 3),
                     study.pm(d.std_wander[c], 3), study.pm(d.shift[c], 3), study.pm(d.inference_shift[c], 3)])
    return Table(f"Injected covariate shift on {d.info.label}",
                 ["network", "final test accuracy", "accuracy averaged over training", "steps to target",
                  "wander of the unit mean", "wander of the unit std", "shift", "shift in inference mode"], rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds; final accuracy on the {d.info.n_test:,} test "
                         f"images, the curve on the first {d.info.eval_images:,}; target "
                         f"{target_accuracy(config, d):.4f}. Wander: std over the record points of each unit's input "
                         "mean (or std), averaged over the last hidden layer's units, as training sees it; shift "
                         "combines the two; the last column is the same shift in inference mode.")


def curves_figure(config: Config, m: IcsMeasurements) -> Figure:
    figure, axes = study.dataset_axes(len(m.datasets), sharey=True)
    for ax, d in zip(axes, m.datasets):
        curves = {LABELS[c]: d.curves[i] for i, c in enumerate(CELLS)}
        study.curves_figure(d.steps, curves, d.info.label, ylabel=f"test accuracy ({d.info.eval_images:,} images)",
                            ax=ax, colours={LABELS[c]: COLOURS[c] for c in CELLS})
    figure.suptitle(f"Learning rate {config.learning_rate:g}: mean over {config.n_seeds} seeds (band: min–max)",
                    fontsize=10)
    figure.tight_layout()
    return figure


def layer_input_figure(config: Config, m: IcsMeasurements) -> Figure:
    figure = Figure(figsize=(4.2 * len(CELLS), 3.3 * len(m.datasets)))
    grid = figure.subplots(len(m.datasets), len(CELLS), squeeze=False, sharey="row")
    for row, d in zip(grid, m.datasets):
        for c, (ax, cell) in enumerate(zip(row, CELLS)):
            mean, std = d.probe_unit_mean[c, 0], d.probe_unit_std[c, 0]
            ax.plot(d.steps, mean, color=COLOURS[cell], label="mean")
            ax.fill_between(d.steps, mean - std, mean + std, color=COLOURS[cell], alpha=0.2, label="± std")
            ax.set_title(f"{d.info.label}, {LABELS[cell]}: shift {d.shift[c].mean():.2f}", fontsize=9)
            ax.set_xlabel("training step")
            ax.set_ylabel(f"input to sigmoid {config.probe_unit}")
            ax.legend(fontsize=7)
    probe = m.datasets[0].probe_images if m.datasets else config.probe_size
    figure.suptitle(f"One unit of the last hidden layer over the first {probe:,} training images, seed 0 "
                    "(as training sees it: batch statistics, injected noise)", fontsize=10)
    figure.tight_layout()
    return figure


def shift_figure(config: Config, m: IcsMeasurements) -> Figure:
    figure, axes = study.dataset_axes(len(m.datasets), width=4.5, height=3.5)
    x = np.arange(len(CELLS))
    for ax, d in zip(axes, m.datasets):
        ax.bar(x, d.shift.mean(axis=1), color=[COLOURS[c] for c in CELLS], alpha=0.8)
        for i, v in enumerate(d.shift):
            ax.plot(np.full(v.size, x[i]), v, "k.", ms=4)
        ax.set_xticks(x, [LABELS[c] for c in CELLS])
        ax.set_ylabel("shift of the last hidden layer's input")
        ax.set_title(d.info.label, fontsize=10)
    figure.suptitle("How far the sigmoid inputs' distribution wanders over training (bars: mean; dots: seeds)",
                    fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, m: IcsMeasurements) -> dict:
    scalars = {}
    for d in m.datasets:
        for c, cell in enumerate(CELLS):
            scalars[f"{d.dataset}/{cell}"] = {
                "accuracy/test_mean": base.scalar_points(d.steps, d.curves[c].mean(axis=0), d.record_times),
                f"layer_input/unit{config.probe_unit}_mean_seed0":
                    base.scalar_points(d.steps, d.probe_unit_mean[c, 0], d.record_times),
            }
    return scalars
