"""BN study 6, internal covariate shift: does BN still help when the shift it is said to remove is put back?

A variant of Santurkar et al. (2018)'s test: after every BN layer, add a random shift and scale per unit that
changes at every step ("noisy BN"; Santurkar et al. draw i.i.d. noise per example and unit from a distribution whose
mean and variance change every step — here one shift and one scale per unit and step move the whole batch), so the next layer's input distribution moves all the time. If BN worked by reducing internal
covariate shift (Ioffe & Szegedy's explanation), noisy BN should lose BN's benefit. Three cells — no
normalisation, BN, noisy BN — over several seeds are one population per dataset: the same mini-batches, and seed s
of every cell starts from the same weights. Besides accuracy, the shift itself is measured: the per-unit mean and
standard deviation of the last hidden layer's sigmoid inputs (noise included) over a fixed set of training images,
at every record point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab.claims import Claim, judge
from replab.data.mnist import Digits
from replab.errors import check_positive_int, require
from replab.experiments.bn import study
from replab.experiments.bn.batchnorm import first_step_reaching
from replab.experiments.base import Progress, Result, Table, no_progress
from replab.nn.normalized_mlp import Member, NormalizedMLP, Options, forward

NAME = "bn-ics"
TITLE = "BN study 6 — internal covariate shift: does BN's benefit survive injected shift (Santurkar et al. 2018)?"
QUESTION = ("If a random shift and scale that changes every step is injected after each BN layer, so that layer "
            "inputs move more than without BN, does the network keep BN's advantage over no normalisation?")

CELLS = ("none", "batch", "noisy")
LABELS = {"none": "without BN", "batch": "BN", "noisy": "noisy BN"}
COLOURS = {"none": "C0", "batch": "C3", "noisy": "C2"}
NOISE_STEP_OFFSET = 1_000_000_000
"""The measurement draws its injected noise from steps far beyond training's, so it never reuses a training draw."""


@dataclass(frozen=True)
class Config(study.StudyConfig):
    learning_rate: float = 0.1
    """A rate where BN clearly speeds training up on both datasets (a probe at 2,000 steps: MNIST ~0.81 without,
    ~0.88 with BN; Fashion-MNIST ~0.71 against ~0.84); at 0.5 the two end up close on this MNIST."""
    steps: int = 2000
    record_every: int = 100
    n_seeds: int = 5
    shift_range: float = 1.0
    """Injected shift per unit and step: uniform in [−shift_range, shift_range]."""
    scale_range: float = 2.0
    """Injected scale per unit and step: log-uniform in [1/scale_range, scale_range]."""
    probe_size: int = 1000
    """Training images over which the sigmoid inputs' per-unit mean and std are measured (the first ones)."""
    probe_unit: int = 0
    """The last hidden layer's unit drawn in the layer-input figure."""
    keep_fraction: float = 0.5
    """Noisy BN keeps BN's benefit if its gain over no normalisation is at least this fraction of BN's gain."""
    target_within: float = 0.02
    """Steps to target: the first record point where a cell's mean accuracy reaches (best final − target_within)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_seeds >= 2, f"n_seeds must be at least 2 to judge differences between cells, got {self.n_seeds}")
        require(0 < self.shift_range <= 100, f"shift_range must lie in (0, 100], got {self.shift_range}")
        require(1 < self.scale_range <= 100, f"scale_range must lie in (1, 100], got {self.scale_range}")
        check_positive_int("probe_size", self.probe_size, minimum=2)
        require(0 <= self.probe_unit < self.hidden[-1],
                f"probe_unit must be a unit of the last hidden layer (0 to {self.hidden[-1] - 1}), got {self.probe_unit}")
        require(0 < self.keep_fraction <= 1, f"keep_fraction must lie in (0, 1], got {self.keep_fraction}")
        require(0 < self.target_within < 1, f"target_within must lie in (0, 1), got {self.target_within}")
        require(self.steps // self.record_every >= 2,
                f"record_every ({self.record_every}) must leave at least two record points in {self.steps} steps, "
                "to see the distribution move")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**study.QUICK, probe_size=500)

    @property
    def options(self) -> Options:
        return Options(shift_range=self.shift_range, scale_range=self.scale_range)


def cells(config: Config) -> list[Member]:
    return [Member("none", weight_std=config.weight_std), Member("batch", weight_std=config.weight_std),
            Member("batch", weight_std=config.weight_std, shift_noise=True)]


def layer_input_moments(config: Config) -> study.MetricsFactory:
    """Extra metric for train_cells: per-unit (mean, std) of the last hidden layer's sigmoid inputs, (K, 2, F).

    Measured as training sees them: batch statistics for BN, and a fresh draw of the injected noise at every
    record point, over the same first probe_size training images each time.
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

        return {"layer_input": moments}

    return factory


def run(config: Config, progress: Progress = no_progress) -> Result:
    datasets, skipped = study.load_datasets(config)
    sections = []
    for i, digits in enumerate(datasets):
        progress(i, len(datasets), f"{digits.dataset}: {len(CELLS)} cells × {config.n_seeds} seeds")
        trained = study.train_cells(config, digits, cells(config), options=config.options,
                                    extra_metrics=layer_input_moments(config))
        sections.append(summarize(config, digits, trained))
    progress(len(datasets), len(datasets), "done")
    return Result(
        metrics={"datasets": sections},
        tables=[cells_table(config, s) for s in sections],
        figures={"curves": curves_figure(config, sections), "layer_input": layer_input_figure(config, sections),
                 "shift": shift_figure(config, sections)},
        claims=judge_claims(config, sections),
        notes=notes(config, sections, skipped),
        scalars=tensorboard_scalars(config, sections),
    )


# --- measurements ------------------------------------------------------------------------------------------


def shift_measures(moments: np.ndarray) -> dict[str, np.ndarray]:
    """How far each member's layer-input distribution wanders over training; moments (R, K, 2, F) -> (K,) each.

    mean_wander: per unit, the std over record points of the input's mean, averaged over units; std_wander the
    same for the input's std; shift: per unit √(var over time of the mean + var over time of the std), averaged.
    """
    spread = moments.std(axis=0)  # (K, 2, F)
    return {"mean_wander": spread[:, 0].mean(axis=-1), "std_wander": spread[:, 1].mean(axis=-1),
            "shift": np.sqrt(np.square(spread).sum(axis=1)).mean(axis=-1)}


def summarize(config: Config, digits: Digits, trained: study.Trained) -> dict:
    n = config.n_seeds
    final = study.per_cell(trained.test_accuracy, n)                   # (cells, seeds)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1)    # (cells, seeds, R)
    moments = trained.metrics["layer_input"]                            # (R, K, 2, F)
    shifts = {name: study.per_cell(values, n) for name, values in shift_measures(moments).items()}
    unit = moments[:, :, :, config.probe_unit]                          # (R, K, 2)
    steps = trained.steps
    best = float(final.mean(axis=1).max())
    target = best - config.target_within
    section = {
        **study.dataset_section(config, digits, trained),
        "steps": steps.tolist(), "probe_images": min(config.probe_size, digits.n_train),
        "best_mean_accuracy": best, "target_accuracy": target, "cells": {},
    }
    for c, cell in enumerate(CELLS):
        members = slice(c * n, (c + 1) * n)
        section["cells"][cell] = {
            "final_accuracy": final[c].tolist(),
            "curve_mean": curves[c].mean(axis=1).tolist(),
            "curves": curves[c].tolist(),
            "steps_to_target": first_step_reaching(steps, curves[c].mean(axis=0), target),
            "diverged_at": study.per_cell(trained.diverged_at, n)[c].tolist(),
            **{name: values[c].tolist() for name, values in shifts.items()},
            "probe_unit_mean": unit[:, members, 0].T.tolist(),  # [seed][record]
            "probe_unit_std": unit[:, members, 1].T.tolist(),
        }
    return section


# --- claims --------------------------------------------------------------------------------------------------


def per_seed(section: dict, cell: str, measure: str) -> np.ndarray:
    return np.asarray(section["cells"][cell][measure], float)


def benefit_verdict(config: Config, bn_gain: np.ndarray, noisy_gain: np.ndarray) -> bool | None:
    """None when BN has no measurable benefit; else does noisy BN keep keep_fraction of it, and beat the baseline?"""
    if study.better(bn_gain) is not True:
        return None
    return bool(study.better(noisy_gain) is True and noisy_gain.mean() >= config.keep_fraction * bn_gain.mean())


def judge_claims(config: Config, sections: list[dict]) -> list[Claim]:
    return [survives_claim(config, sections), more_shift_claim(config, sections), bn_less_shift_claim(config, sections)]


def kept_text(bn_gain: np.ndarray, noisy_gain: np.ndarray) -> str:
    if bn_gain.mean() == 0:
        return "no BN gain to keep"
    return f"kept {noisy_gain.mean() / bn_gain.mean():.0%} of BN's gain"


def survives_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        base, bn, noisy = (per_seed(s, cell, "final_accuracy") for cell in CELLS)
        bn_gain, noisy_gain = bn - base, noisy - base
        verdict = benefit_verdict(config, bn_gain, noisy_gain)
        verdicts.append(verdict)
        evidence.append(
            f"{study.dataset_label(s)}: final accuracy without BN {study.pm(base)}, BN {study.pm(bn)}, "
            f"noisy BN {study.pm(noisy)}; "
            f"BN − baseline {bn_gain.mean():+.4f} (SE {study.standard_error(bn_gain):.4f}), noisy BN − baseline "
            f"{noisy_gain.mean():+.4f} (SE {study.standard_error(noisy_gain):.4f}), {kept_text(bn_gain, noisy_gain)} → "
            + ("BN shows no measurable benefit here" if verdict is None else ("kept" if verdict else "lost")))
    return judge(
        "bn-benefit-survives-shift",
        "BN's benefit survives injected, time-varying shift and scale after every BN layer: noisy BN still beats no "
        "normalisation by a large part of BN's margin (so reducing internal covariate shift is not what makes BN work)",
        study.combine(verdicts),
        "; ".join(evidence) + f". Paired over {config.n_seeds} seeds after {config.steps:,} steps at learning rate "
        f"{config.learning_rate:g}. Holds if, on every dataset, noisy BN − baseline is above 0 by more than t standard "
        f"errors and at least {config.keep_fraction:g} × (BN − baseline); inconclusive where BN itself is not above the "
        "baseline by t standard errors.")


def shift_comparison(section: dict, higher: str, lower: str) -> tuple[bool | None, str]:
    d = per_seed(section, higher, "shift") - per_seed(section, lower, "shift")
    verdict = study.better(d)
    return verdict, (f"{LABELS[higher]} − {LABELS[lower]} {d.mean():+.3f} (SE {study.standard_error(d):.3f})")


def shift_values(section: dict) -> str:
    return ", ".join(f"{LABELS[c]} {study.pm(per_seed(section, c, 'shift'), 3)}" for c in CELLS)


def more_shift_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        over_bn, text_bn = shift_comparison(s, "noisy", "batch")
        over_none, text_none = shift_comparison(s, "noisy", "none")
        verdicts.append(study.combine([over_bn, over_none]))
        evidence.append(f"{study.dataset_label(s)}: shift {shift_values(s)}; {text_bn}; {text_none}")
    return judge(
        "noise-increases-shift",
        "With the injected noise, the distribution of the last hidden layer's sigmoid inputs moves more than with BN "
        "and more than without BN (the test really puts covariate shift back)",
        study.combine(verdicts),
        "; ".join(evidence) + f". Shift: per unit, √(variance over the {len(sections[0]['steps'])} record points of "
        "the "
        f"mean + the same of the std) of its input over the first {sections[0]['probe_images']:,} training images, averaged over "
        "units, noise included. Holds if noisy BN's is higher than both by more than t standard errors on every dataset.")


def bn_less_shift_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        less, text = shift_comparison(s, "none", "batch")
        verdicts.append(less)
        evidence.append(f"{study.dataset_label(s)}: {text}")
    return judge(
        "bn-reduces-shift",
        "Plain BN reduces internal covariate shift: the last hidden layer's sigmoid inputs move less than without BN "
        "(Ioffe & Szegedy's Figure 1(b, c))",
        study.combine(verdicts),
        "; ".join(evidence) + f" (shift as in noise-increases-shift; {config.n_seeds} paired seeds). Holds if the "
        "baseline's shift exceeds BN's by more than t standard errors on every dataset. Measured as training sees it, "
        "with batch statistics over the probe images, so BN's per-unit mean there is β and its std γ·σ/√(σ² + ε) by "
        "construction: what moves is γ and β, which is exactly how Algorithm 1 removes the shift.")


# --- notes, tables and figures -------------------------------------------------------------------------------


def notes(config: Config, sections: list[dict], skipped: list[str]) -> list[str]:
    out = [study.data_note(s) for s in sections] + skipped + [study.significance_note(config.n_seeds)]
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, batch {config.batch_size}, plain SGD at learning rate {config.learning_rate:g}, "
               f"{config.steps:,} steps); {config.n_seeds} seeds; the {len(CELLS) * config.n_seeds} networks of a dataset "
               "train as one population on the same mini-batches.")
    out.append(f"Noisy BN: after each BN layer (γx̂ + β), every unit's output is multiplied by a scale drawn "
               f"log-uniformly from [1/{config.scale_range:g}, {config.scale_range:g}] and shifted by a draw from "
               f"U(−{config.shift_range:g}, {config.shift_range:g}), redrawn at every training step and for every "
               "network; at test time no noise is added (the moving averages are those of the clean BN output).")
    out.append("Shift measurement: at each record point, the last hidden layer's sigmoid inputs for the first "
               f"{sections[0]['probe_images']:,} training images, computed as in training (batch statistics, a fresh noise draw), "
               "give each unit a mean and a std; how much these wander over the record points is the shift. It "
               "measures the movement of a layer's input distribution, not Santurkar et al.'s gradient-based ICS.")
    return out


def cells_table(config: Config, section: dict) -> Table:
    rows = []
    for cell in CELLS:
        m = section["cells"][cell]
        rows.append([LABELS[cell], study.pm(m["final_accuracy"]), study.pm(m["curve_mean"]),
                     "never" if m["steps_to_target"] is None else f"{m['steps_to_target']:,}",
                     study.pm(m["mean_wander"], 3), study.pm(m["std_wander"], 3), study.pm(m["shift"], 3)])
    return Table(f"Injected covariate shift on {study.dataset_label(section)}",
                 ["network", "final test accuracy", "accuracy averaged over training", "steps to target",
                  "wander of the unit mean", "wander of the unit std", "shift"], rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds; final accuracy on the {section['n_test']:,} test "
                         f"images, the curve on the first {section['eval_images']:,}; target "
                         f"{section['target_accuracy']:.4f}. Wander: "
                         "std over the record points of each unit's input mean (or std), averaged over the last hidden "
                         "layer's units; shift combines the two.")


def curves_figure(config: Config, sections: list[dict]) -> Figure:
    figure, axes = study.dataset_axes(len(sections), sharey=True)
    for ax, s in zip(axes, sections):
        curves = {LABELS[c]: np.asarray(s["cells"][c]["curves"]) for c in CELLS}
        study.curves_figure(s["steps"], curves, study.dataset_label(s),
                            ylabel=f"test accuracy ({s['eval_images']:,} images)", ax=ax,
                            colours={LABELS[c]: COLOURS[c] for c in CELLS})
    figure.suptitle(f"Learning rate {config.learning_rate:g}: mean over {config.n_seeds} seeds (band: min–max)",
                    fontsize=10)
    figure.tight_layout()
    return figure


def layer_input_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(4.2 * len(CELLS), 3.3 * len(sections)))
    grid = figure.subplots(len(sections), len(CELLS), squeeze=False, sharey="row")
    for row, s in zip(grid, sections):
        for ax, cell in zip(row, CELLS):
            mean = np.asarray(s["cells"][cell]["probe_unit_mean"][0])
            std = np.asarray(s["cells"][cell]["probe_unit_std"][0])
            ax.plot(s["steps"], mean, color=COLOURS[cell], label="mean")
            ax.fill_between(s["steps"], mean - std, mean + std, color=COLOURS[cell], alpha=0.2, label="± std")
            ax.set_title(f"{study.dataset_label(s)}, {LABELS[cell]}: shift "
                         f"{np.mean(s['cells'][cell]['shift']):.2f}", fontsize=9)
            ax.set_xlabel("training step")
            ax.set_ylabel(f"input to sigmoid {config.probe_unit}")
            ax.legend(fontsize=7)
    figure.suptitle(f"One unit of the last hidden layer over the first {sections[0]['probe_images']:,} training images, seed 0 "
                    "(as training sees it: batch statistics, injected noise)", fontsize=10)
    figure.tight_layout()
    return figure


def shift_figure(config: Config, sections: list[dict]) -> Figure:
    figure, axes = study.dataset_axes(len(sections), width=4.5, height=3.5)
    x = np.arange(len(CELLS))
    for ax, s in zip(axes, sections):
        values = [per_seed(s, c, "shift") for c in CELLS]
        ax.bar(x, [v.mean() for v in values], color=[COLOURS[c] for c in CELLS], alpha=0.8)
        for i, v in enumerate(values):
            ax.plot(np.full(v.size, x[i]), v, "k.", ms=4)
        ax.set_xticks(x, [LABELS[c] for c in CELLS])
        ax.set_ylabel("shift of the last hidden layer's input")
        ax.set_title(study.dataset_label(s), fontsize=10)
    figure.suptitle("How far the sigmoid inputs' distribution wanders over training (bars: mean; dots: seeds)",
                    fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, sections: list[dict]) -> dict:
    scalars = {}
    for s in sections:
        for cell in CELLS:
            m = s["cells"][cell]
            scalars[f"{s['dataset']}/{cell}"] = {
                "accuracy/test_mean": list(zip(s["steps"], np.mean(m["curves"], axis=0).tolist())),
                f"layer_input/unit{config.probe_unit}_mean_seed0": list(zip(s["steps"], m["probe_unit_mean"][0])),
            }
    return scalars
