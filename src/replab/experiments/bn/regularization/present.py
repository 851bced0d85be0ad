"""bn-regularization's notes, tables, figures and TensorBoard scalars."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.regularization.config import Config
from replab.experiments.bn.regularization.measure import COLOURS, LABELS, MODELS, Dataset, Measurements


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (train/test gap, Dropout grid, batch noise), the figures with their captions and the notes."""
    return Presentation(
        tables=[t for d in m.datasets for t in (gap_table(config, d), noise_table(config, d), batch_table(config, d))],
        figures={"gap": gap_figure(config, m.datasets), "noise": noise_figure(config, m.datasets),
                 "batch_size": batch_size_figure(config, m.datasets), "curves": curves_figure(config, m.datasets)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(config, m.datasets),
        captions={
            "gap": "Final train − test accuracy and test accuracy without and with BN at each Dropout rate, with the "
                   "gap where both networks reach the same training loss.",
            "noise": "How much a trained BN network's outputs vary with the other examples of its mini-batch, "
                     "against the mini-batch size.",
            "batch_size": "Final gap without and with BN, and BN's narrowing of it at matched training loss, "
                          "against the training batch size.",
            "curves": "Test and training accuracy over training for each Dropout rate, without and with BN.",
        },
    )




def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skip_notes)
    subset = (f"at most {config.max_train:,} training images, so that the networks can overfit" if config.max_train
              else "all training images")
    out.append(
        f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
        f"{config.weight_std:g}, plain SGD at rate {config.learning_rate:g}, batch {config.batch_size}, "
        f"{config.steps:,} steps) without and with BN and with Dropout {', '.join(config.rate_labels)} on the hidden "
        "units; "
        f"{config.n_seeds} seeds; {subset}.")
    largest = max(config.noise_batch_sizes)
    shrink = np.sqrt((config.noise_pool - largest) / (config.noise_pool - 1))
    out.append(
        "The network without BN has no batch noise at all: its training-mode output for an example does not depend on "
        "the other examples, so only the BN networks are measured; the measurement leaves their moving averages "
        f"untouched. Mini-batch mates come from the pool of {config.noise_pool:,} images, without replacement, so at "
        f"m = {largest} the spread of a batch mean is {shrink:.2f}× what an unlimited supply of images would give.")
    plans = "; ".join(f"batch {b.batch_size}: {b.steps:,} steps at rate {b.learning_rate:g}"
                      for b in m.datasets[0].batch_runs) if m.datasets else ""
    out.append(f"Batch-size comparison (no Dropout, equal examples seen): {plans}.")
    if m.datasets and m.datasets[0].other_rule_runs:
        other = "; ".join(f"batch {b.batch_size}: rate {b.learning_rate:g}" for b in m.datasets[0].other_rule_runs)
        out.append(f"The same batch sizes under the other rule ({other}): with a fixed rate a smaller batch also takes "
                   "more, noisier steps; with a scaled rate SGD's noise scale (rate/batch) stays the same.")
    for d in m.datasets:
        if d.tuned is not None:
            t = d.tuned
            out.append(f"{d.label}, bn-matches-dropout: chosen on {t.validation_images:,} held-out training images — "
                       f"BN without Dropout at rate {t.bn_rate:g} (validation accuracy by rate "
                       + ", ".join(f"{r:g}: {v:.4f}" for r, v in zip((config.learning_rate, *config.bn_learning_rates),
                                                                     t.bn_validation.mean(axis=1)))
                       + f"), the network without BN at Dropout {t.dropout_rate:g}.")
    return out


def gap_table(config: Config, d: Dataset) -> Table:
    rows = []
    for model in MODELS:
        best_index = d.best_rate_index(model)
        for r, s in enumerate(d.rates(model)):
            matched = study.pm(getattr(d.matched, model)) if r == 0 else ""
            best = "yes" if r == best_index else ""
            rows.append([LABELS[model], config.rate_labels[r], study.pm(s.train_accuracy),
                         study.pm(s.test_accuracy), study.pm(s.gap), study.pm(s.loss_gap, 3), matched, best])
    return Table(f"Train/test gap on {d.label}",
                 ["network", "Dropout", "train accuracy", "test accuracy", "accuracy gap", "loss gap",
                  "gap at matched training loss", "best rate"], rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds after {config.steps:,} steps on "
                         f"{d.info.n_train:,} training images; train = first "
                         f"{min(config.train_eval_size, d.info.n_train):,} training "
                         f"images, test = all {d.info.n_test:,}, inference mode. Loss gap = test − train "
                         f"cross-entropy. Matched: where both networks' training loss first falls to "
                         f"{study.pm(d.matched.level)} (curves on {config.eval_size:,} images).")


def noise_table(config: Config, d: Dataset) -> Table:
    rows = []
    for size, n in zip(d.noise_sizes, d.noise):
        rows.append([size, study.pm(n.logit_std), study.pm(n.probability_std),
                     f"{100 * np.mean(n.flip_rate):.2f}% ± {100 * np.std(n.flip_rate, ddof=1):.2f}%"])
    return Table(f"Batch noise of the BN network on {d.label}",
                 ["mini-batch size m", "logit std", "std of the usual class's probability",
                  "predicted class changes"], rows,
                 caption=f"BN networks trained at batch {config.batch_size} without Dropout; {config.noise_draws} "
                         f"random partitions of {config.noise_pool:,} training images into mini-batches of m, "
                         "training-mode "
                         f"forward; mean ± std over {config.n_seeds} seeds.")


def batch_table(config: Config, d: Dataset) -> Table:
    rows = []
    for b in (*d.batch_runs, *d.other_rule_runs):
        rows.append([b.batch_size, f"{b.learning_rate:g}", f"{b.steps:,}",
                     study.pm(b.none.test_accuracy), study.pm(b.batch.test_accuracy),
                     study.pm(b.none.gap), study.pm(b.batch.gap), study.pm(b.matched.narrowing),
                     study.pm(b.noise.logit_std)])
    return Table(f"Mini-batch size on {d.label}",
                 ["batch size", "learning rate", "steps", "test accuracy without BN", "test accuracy with BN",
                  "final gap without BN", "final gap with BN", "gap narrowing by BN at matched training loss",
                  "BN logit std at its batch size"], rows,
                 caption=f"No Dropout; {config.steps * config.batch_size:,} examples seen at every batch size; "
                         f"mean ± std over {config.n_seeds} seeds.")


def gap_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.0))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    x = np.arange(len(config.dropout_rates))
    width = 0.38
    for column, d in enumerate(datasets):
        for row, (key, ylabel) in enumerate((("gap", "train − test accuracy"), ("test_accuracy", "test accuracy"))):
            ax = grid[row][column]
            for i, model in enumerate(MODELS):
                values = [getattr(s, key) for s in d.rates(model)]
                ax.bar(x + (i - 0.5) * width, [np.mean(v) for v in values], width, capsize=3,
                       yerr=[np.std(v, ddof=1) for v in values], color=COLOURS[model], label=LABELS[model])
                if key == "gap":
                    ax.plot(x[0] + (i - 0.5) * width, np.mean(getattr(d.matched, model)), "D", color="k", mfc="white",
                            label="at matched training loss" if i == 0 else None)
            ax.set_xticks(x, [f"Dropout {r}" for r in config.rate_labels])
            ax.set_ylabel(ylabel)
            if key == "test_accuracy":
                low = min(float(s.test_accuracy.min()) for model in MODELS for s in d.rates(model))
                ax.set_ylim(max(0.0, low - 0.03), 1.0)
            ax.set_title(f"{d.label}: {ylabel}", fontsize=10)
            ax.legend(fontsize=8)
    figure.suptitle(f"After {config.steps:,} steps (mean ± std over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def noise_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.0))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    sizes = np.asarray(config.noise_batch_sizes)
    for column, d in enumerate(datasets):
        for row, (measure_name, ylabel) in enumerate((("logit_std", "logit std over mini-batches"),
                                                      ("flip_rate", "share of draws changing the predicted class"))):
            ax = grid[row][column]
            values = d.noise_by_size(measure_name)
            ax.plot(sizes, values.mean(axis=1), "o-", color=COLOURS["batch"],
                    label=f"BN trained at batch {config.batch_size}")
            ax.fill_between(sizes, values.min(axis=1), values.max(axis=1), color=COLOURS["batch"], alpha=0.15)
            own_sizes = [b.batch_size for b in d.batch_runs]
            own = [float(np.mean(getattr(b.noise, measure_name))) for b in d.batch_runs]
            ax.plot(own_sizes, own, "s", color="k", mfc="none", label="BN trained and measured at that batch size")
            if measure_name == "logit_std":
                reference = values.mean(axis=1)[0] * np.sqrt(sizes[0] / sizes)
                ax.plot(sizes, reference, ":", color="grey", label="∝ 1/√m")
                ax.set_yscale("log")
                low, high = min(values.min(), *own), max(values.max(), *own)
                powers = 2.0 ** np.arange(np.floor(np.log2(low)), np.ceil(np.log2(high)) + 1)
                ax.set_yticks(powers, [f"{p:g}" for p in powers])
            log_batch_axis(ax, sorted({*sizes.tolist(), *own_sizes}))
            ax.set_xlabel("mini-batch size m")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{d.label}: {ylabel}", fontsize=10)
            ax.legend(fontsize=7)
    figure.suptitle(f"Batch noise: {config.noise_draws} random partitions of {config.noise_pool:,} training images\n"
                    f"(band: min–max over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def batch_size_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.0))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    for column, d in enumerate(datasets):
        sizes = [b.batch_size for b in d.batch_runs]
        top, bottom = grid[0][column], grid[1][column]
        for model in MODELS:
            errorbar(top, sizes, [getattr(b, model).gap for b in d.batch_runs], COLOURS[model], LABELS[model])
        errorbar(bottom, sizes, [b.matched.narrowing for b in d.batch_runs], "k",
                 "gap without BN − with BN, at matched training loss")
        bottom.axhline(0, color="grey", lw=0.8)
        top.set_ylabel("final train − test accuracy")
        bottom.set_ylabel("gap narrowing by BN")
        for ax in (top, bottom):
            log_batch_axis(ax, sizes)
            ax.set_xlabel("training batch size")
            ax.set_title(f"{d.label}: {ax.get_ylabel()}", fontsize=10)
            ax.legend(fontsize=8)
    scaling = "rate ∝ batch size" if config.scale_learning_rate else f"rate {config.learning_rate:g}"
    figure.suptitle(f"No Dropout, {config.steps * config.batch_size:,} examples seen, {scaling}\n"
                    f"(mean ± std over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def log_batch_axis(ax, sizes) -> None:
    ax.set_xscale("log")
    ax.set_xticks(list(sizes), [str(m) for m in sizes])
    ax.minorticks_off()


def errorbar(ax, x, values, colour, name) -> None:
    """Mean ± std over seeds of each entry of `values`."""
    ax.errorbar(x, [np.mean(v) for v in values], yerr=[np.std(v, ddof=1) for v in values], marker="o", capsize=3,
                color=colour, label=name)


def curves_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.5))
    grid = figure.subplots(2, len(datasets), squeeze=False, sharey=True)
    cmap = matplotlib.colormaps["viridis"]
    for column, d in enumerate(datasets):
        for row, model in enumerate(MODELS):
            ax = grid[row][column]
            for r, s in enumerate(d.rates(model)):
                colour = cmap(r / max(len(config.dropout_rates) - 1, 1))
                ax.plot(d.steps, s.test_curves.mean(axis=0), color=colour,
                        label=f"Dropout {config.rate_labels[r]}: test")
                ax.plot(d.steps, s.train_curves.mean(axis=0), color=colour, ls="--", label="train")
            ax.set_title(f"{d.label}, {LABELS[model]}", fontsize=10)
            ax.set_xlabel("training step")
            ax.set_ylabel("accuracy")
            ax.legend(fontsize=7, ncol=2)
    figure.suptitle(f"Mean accuracy over {config.n_seeds} seeds on {config.eval_size:,} test (solid) and training\n"
                    "(dashed) images, inference mode", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, datasets: tuple[Dataset, ...]) -> dict:
    scalars = {}
    for d in datasets:
        for model in MODELS:
            for r, s in enumerate(d.rates(model)):
                test, train = s.test_curves.mean(axis=0), s.train_curves.mean(axis=0)
                scalars[f"{d.dataset}/{model}/dropout{config.rate_labels[r]}"] = {
                    "accuracy/test_mean": base.scalar_points(d.steps, test, d.record_times),
                    "accuracy/train_mean": base.scalar_points(d.steps, train, d.record_times),
                    "accuracy/gap_mean": base.scalar_points(d.steps, train - test, d.record_times),
                }
        noise = d.noise_by_size().mean(axis=1)
        scalars[f"{d.dataset}/batch/noise"] = {
            "noise/logit_std_by_batch_size": [(int(size), float(v)) for size, v in zip(d.noise_sizes, noise)]}
    return scalars
