"""bn-init's notes, tables, figures and TensorBoard scalars (the experiment: __init__.py)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.init.config import Config
from replab.experiments.bn.init.judge import identity_errors
from replab.experiments.bn.init.measure import MODELS, DatasetResult, Measurements

LABELS, COLOURS = study.LABELS, study.COLOURS


def present(config: Config, m: Measurements) -> Presentation:
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


def notes(config: Config, m: Measurements) -> list[str]:
    stds = ", ".join(f"{config.weight_std * s:g}" for s in config.scales)
    return [study.data_note(d.info) for d in m.datasets] + list(m.skipped) + [
        f"Initial weight stds {stds} (scales {', '.join(f'{s:g}' for s in config.scales)} × {config.weight_std:g}), every "
        f"layer; plain SGD at {config.learning_rate:g}, batch {config.batch_size}, {config.steps:,} steps, "
        f"{config.n_seeds} seeds; all {2 * len(config.scales) * config.n_seeds} networks of a dataset trained as one "
        "population. The output layer is scaled too, so BN's network output at initialisation still grows with the scale.",
    ]


# --- tables and figures ---------------------------------------------------------------------------------------


def scale_table(config: Config, d: DatasetResult) -> Table:
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


def accuracy_figure(config: Config, m: Measurements) -> Figure:
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


def curves_figure(config: Config, m: Measurements) -> Figure:
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
