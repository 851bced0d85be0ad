"""bn-lr's notes, tables, figures and TensorBoard scalars."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.figure1.measure import first_step_reaching
from replab.experiments.bn.lr.config import Config
from replab.experiments.bn.lr.judge import good_rates, intact, largest_good_rate, ratio_text, target_accuracy
from replab.experiments.bn.lr.measure import MODELS, DatasetResult, Measurements

LABELS, COLOURS = study.LABELS, study.COLOURS


def steps_to_target(config: Config, d: DatasetResult) -> list[list[int | None]]:
    """(model, rate): the first record point where the mean-over-seeds curve reaches the target (None: never or
    a seed diverged)."""
    target, ok, mean = target_accuracy(config, d), intact(d), d.curves.mean(axis=2)
    return [[first_step_reaching(d.steps, mean[m, r], target) if ok[m, r] else None
             for r in range(len(config.learning_rates))] for m in range(len(MODELS))]


def fmt_rate(rate) -> str:
    return "none" if rate is None else f"{rate:g}"


def fmt_accuracy(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def fmt_steps(steps) -> str:
    return "never" if steps is None else f"{steps:,}"


# --- presentation ------------------------------------------------------------------------------------------


def present(config: Config, m: Measurements) -> Presentation:
    """A table per dataset (final accuracy per rate and model), the final-accuracy and training-curve figures with
    their captions, and the notes.
    """
    return Presentation(
        tables=[grid_table(config, d) for d in m.datasets],
        figures={"final_accuracy": accuracy_figure(config, m), "curves": curves_figure(config, m)},
        notes=notes(config, m), scalars=tensorboard_scalars(config, m),
        captions={"final_accuracy": "Final test accuracy against the learning rate without and with BN, mean ± std "
                                    "over seeds, with each network's largest good rate marked.",
                  "curves": "Mean test-accuracy curves over seeds at every learning rate, without BN (top) and with "
                            "BN (bottom), against the target accuracy."})


def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skipped)
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, batch {config.batch_size}, plain SGD, {config.steps:,} steps) without and with BN; "
               f"learning rates {', '.join(f'{r:g}' for r in config.learning_rates)}; {config.n_seeds} seeds; all "
               f"{2 * len(config.learning_rates) * config.n_seeds} networks of a dataset trained as one population ("
               + ", ".join(f"{d.info.steps_per_second[0]:.0f} steps/s on {d.info.label}" for d in m.datasets)
               + ").")
    out.append("Divergence means a NaN or Inf in the loss, gradients or weights (that member is then frozen). A sigmoid "
               "network rarely produces one: at too high a rate its units saturate and it stays at chance (~0.10), "
               "which counts as not training well.")
    return out


def grid_table(config: Config, d: DatasetResult) -> Table:
    good, reach = good_rates(config, d), steps_to_target(config, d)
    diverged = (d.diverged_at >= 0).sum(axis=-1)
    rows = []
    for r, rate in enumerate(config.learning_rates):
        row = [rate]
        for i, _ in enumerate(MODELS):
            row += [study.pm(d.final_accuracy[i, r]), fmt_steps(reach[i][r]), int(diverged[i, r]),
                    "yes" if good[i, r] else "no"]
        rows.append(row)
    columns = ["learning rate"] + [f"{c} {LABELS[model]}" for model in MODELS
                                   for c in ("final accuracy", "steps to target", "diverged seeds", "good")]
    thresholds = good_thresholds(config, d)
    return Table(f"Learning-rate grid on {d.info.label}", columns, rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds on the {d.info.n_test:,} test images; target "
                         f"{target_accuracy(config, d):.4f}; good: no divergence and mean within {config.good_within:g} "
                         f"of the network's own best (without BN ≥ {fmt_accuracy(thresholds[0])}, with BN ≥ "
                         f"{fmt_accuracy(thresholds[1])}). Largest good rate ratio (BN / baseline): "
                         f"{ratio_text(config, d)}.")


def good_thresholds(config: Config, d: DatasetResult) -> list[float | None]:
    ok = intact(d)
    means = d.final_accuracy.mean(axis=-1)
    return [float(means[i][ok[i]].max() - config.good_within) if ok[i].any() else None for i in range(len(MODELS))]


def accuracy_figure(config: Config, m: Measurements) -> Figure:
    figure, axes = study.dataset_axes(len(m.datasets))
    rates = np.asarray(config.learning_rates)
    for ax, d in zip(axes, m.datasets):
        largest, thresholds = largest_good_rate(config, d), good_thresholds(config, d)
        for i, model in enumerate(MODELS):
            final = d.final_accuracy[i]
            ax.errorbar(rates, final.mean(axis=-1), yerr=final.std(axis=-1, ddof=1), marker="o", capsize=3,
                        color=COLOURS[model], label=LABELS[model])
            crashed = rates[(d.diverged_at[i] >= 0).any(axis=-1)]
            ax.plot(crashed, [0.05] * len(crashed), "x", color=COLOURS[model], ms=9)
            if largest[i] is not None:
                ax.axvline(largest[i], color=COLOURS[model], ls=":", lw=1)
                ax.axhline(thresholds[i], color=COLOURS[model], lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("learning rate (plain SGD)")
        ax.set_ylabel("final test accuracy")
        ax.set_title(f"{d.info.label}: ratio of largest good rates {ratio_text(config, d)}", fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
    figure.suptitle(f"Final accuracy after {config.steps:,} steps (mean ± std over {config.n_seeds} seeds; × = a seed "
                    "diverged; dashed = within the 'trains well' margin of the network's best; dotted = largest good "
                    "rate)", fontsize=10)
    figure.tight_layout()
    return figure


def curves_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(5.5 * len(m.datasets), 7.5))
    grid = figure.subplots(2, len(m.datasets), squeeze=False, sharey=True)
    cmap = __import__("matplotlib").colormaps["viridis"]
    for column, d in enumerate(m.datasets):
        mean = d.curves.mean(axis=2)
        for row, model in enumerate(MODELS):
            ax = grid[row][column]
            for r, rate in enumerate(config.learning_rates):
                colour = cmap(r / max(len(config.learning_rates) - 1, 1))
                ax.plot(d.steps, mean[row, r], color=colour, label=f"lr {rate:g}")
            ax.axhline(target_accuracy(config, d), color="grey", lw=0.8, ls="--")
            ax.set_title(f"{d.info.label}, {LABELS[model]}", fontsize=10)
            ax.set_xlabel("training step")
            ax.set_ylabel(f"test accuracy ({d.info.eval_images:,} images)")
            ax.legend(fontsize=7, ncol=2)
    figure.suptitle(f"Mean accuracy curves over {config.n_seeds} seeds; dashed = target", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, m: Measurements) -> dict:
    scalars = {}
    for d in m.datasets:
        mean = d.curves.mean(axis=2)
        for i, model in enumerate(MODELS):
            for r, rate in enumerate(config.learning_rates):
                scalars[f"{d.dataset}/{model}/lr{rate:g}"] = {
                    "accuracy/test_mean": base.scalar_points(d.steps, mean[i, r], d.record_times)}
    return scalars
