"""bn-ics' notes, tables, figures and TensorBoard scalars (the experiment: this package's __init__.py)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.figure1.measure import first_step_reaching
from replab.experiments.bn.ics.config import Config
from replab.experiments.bn.ics.measure import CELLS, COLOURS, LABELS, DatasetResult, Measurements


def present(config: Config, m: Measurements) -> Presentation:
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


# --- notes, tables and figures -------------------------------------------------------------------------------


def notes(config: Config, m: Measurements) -> list[str]:
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


def target_accuracy(config: Config, d: DatasetResult) -> float:
    return float(d.final_accuracy.mean(axis=1).max()) - config.target_within


def steps_to_target(config: Config, d: DatasetResult) -> list[int | None]:
    target = target_accuracy(config, d)
    return [first_step_reaching(d.steps, d.curves[c].mean(axis=0), target) for c in range(len(CELLS))]


def cells_table(config: Config, d: DatasetResult) -> Table:
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


def curves_figure(config: Config, m: Measurements) -> Figure:
    figure, axes = study.dataset_axes(len(m.datasets), sharey=True)
    for ax, d in zip(axes, m.datasets):
        curves = {LABELS[c]: d.curves[i] for i, c in enumerate(CELLS)}
        study.curves_figure(d.steps, curves, d.info.label, ylabel=f"test accuracy ({d.info.eval_images:,} images)",
                            ax=ax, colours={LABELS[c]: COLOURS[c] for c in CELLS})
    figure.suptitle(f"Learning rate {config.learning_rate:g}: mean over {config.n_seeds} seeds (band: min–max)",
                    fontsize=10)
    figure.tight_layout()
    return figure


def layer_input_figure(config: Config, m: Measurements) -> Figure:
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


def shift_figure(config: Config, m: Measurements) -> Figure:
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


def tensorboard_scalars(config: Config, m: Measurements) -> dict:
    scalars = {}
    for d in m.datasets:
        for c, cell in enumerate(CELLS):
            scalars[f"{d.dataset}/{cell}"] = {
                "accuracy/test_mean": base.scalar_points(d.steps, d.curves[c].mean(axis=0), d.record_times),
                f"layer_input/unit{config.probe_unit}_mean_seed0":
                    base.scalar_points(d.steps, d.probe_unit_mean[c, 0], d.record_times),
            }
    return scalars
