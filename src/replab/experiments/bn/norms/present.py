"""norms' notes, tables, figures and TensorBoard scalars (the experiment: norms/__init__.py)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.norms.config import Config
from replab.experiments.bn.norms.measure import DatasetResult, Measurements, Timing
from replab.nn.normalized_mlp import NORM_LABELS, NORMS

COLOURS = {kind: f"C{i}" for i, kind in enumerate(NORMS)}
BENCHMARK_ROW = "MLPClassifier (Fashion-MNIST's official benchmark)"


def present(config: Config, m: Measurements) -> Presentation:
    """A table per dataset (accuracy and time per step of each kind), the figures with their captions and the notes."""
    return Presentation(
        tables=[kinds_table(config, d, m.timing) for d in m.datasets],
        figures={"curves": curves_figure(config, m.datasets), "final_accuracy": accuracy_figure(config, m.datasets),
                 "time_per_step": timing_figure(config, m.timing)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(config, m.datasets),
        captions={
            "curves": "Test accuracy over training for each normalisation (mean and min–max band over seeds), with "
                      "the target accuracy.",
            "final_accuracy": "Final test accuracy of each normalisation, mean ± std with one dot per seed.",
            "time_per_step": "Milliseconds per training step of each normalisation, and its ratio to no "
                             "normalisation's.",
        },
    )


def benchmark_note(config: Config, datasets: tuple[DatasetResult, ...]) -> list[str]:
    fashion = [d for d in datasets if d.dataset == "fashion-mnist"]
    if not fashion:
        return []
    d = fashion[0]
    above = [NORM_LABELS[k] for k, r in d.kinds.items() if r.final_accuracy_mean > study.FASHION_MLP_BENCHMARK]
    best = max(d.kinds, key=lambda k: d.kinds[k].final_accuracy_mean)
    last = int(d.steps[-1])
    return [f"Fashion-MNIST's official benchmark scores scikit-learn's MLPClassifier (ReLU, one hidden layer of 100) at "
            f"{study.FASHION_MLP_BENCHMARK:.3f} test accuracy. Here the best kind, "
            f"{NORM_LABELS[best]}, reaches {d.kinds[best].final_accuracy_mean:.4f} after {last:,} "
            f"steps of {config.batch_size} ({last * config.batch_size / d.info.n_train:.1f} epochs) with a "
            f"sigmoid network; above the benchmark: {', '.join(above) or 'none'}."]


def settings_notes(config: Config) -> list[str]:
    """How the kinds in this run are set up."""
    options, kinds = config.options, config.kinds
    out = []
    if "group" in kinds:
        out.append(f"GroupNorm uses {config.groups} groups of units.")
    if "renorm" in kinds:
        out.append(f"Batch Renorm relaxes from plain BN to r_max {options.renorm_r_max:g}, d_max "
                   f"{options.renorm_d_max:g} over the first {options.renorm_ramp_steps:,} steps.")
    if "weight" in kinds:
        out.append("WeightNorm's gain starts at ‖v‖, so it starts from the same effective weights as the others.")
    batch = [NORM_LABELS[k] for k in ("batch", "renorm") if k in kinds]
    if batch:
        out.append(f"{' and '.join(batch)} use moving averages (momentum {options.momentum:g}) at test time.")
    return out


def notes(config: Config, m: Measurements) -> list[str]:
    timing = m.timing
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skip_notes)
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, batch {config.batch_size}, plain SGD, {config.steps:,} steps) with "
               f"{', '.join(NORM_LABELS[k] for k in config.kinds)}; {config.n_seeds} seeds; every kind at every "
               f"learning rate {', '.join(f'{r:g}' for r in config.learning_rates)}, all "
               f"{len(config.kinds) * len(config.learning_rates) * config.n_seeds} networks of a dataset trained as "
               "one population. Each kind is judged at its own best rate, chosen on held-out training images (the "
               "test images never choose): " + " | ".join(
                   f"{d.label}: " + ", ".join(f"{NORM_LABELS[k]} {r.learning_rate:g}" for k, r in d.kinds.items())
                   for d in m.datasets) + ".")
    out.append(" ".join(settings_notes(config)))
    out.append(f"Time per step: training's own compiled step loop for {timing.networks} networks of one kind "
               f"(compiling excluded) on {study.dataset_label(timing.dataset)}; the kinds take turns for "
               f"{timing.rounds} bursts of {timing.steps} steps and each keeps its median burst. On a shared "
               "machine differences of ±10% are within timing noise.")
    return out + benchmark_note(config, m.datasets)


def kinds_table(config: Config, d: DatasetResult, timing: Timing) -> Table:
    rows = []
    for kind in config.kinds:
        r = d.kinds[kind]
        rows.append([NORM_LABELS[kind], f"{r.learning_rate:g}", study.pm(r.final_accuracy), study.pm(r.curve_mean),
                     study.pm(r.train_accuracy), fmt_steps(r.steps_to_target),
                     int((r.diverged_at >= 0).sum()), round(timing.ms_per_step[kind], 3),
                     round(timing.ratio_to_none[kind], 2)])
    if d.dataset == "fashion-mnist":
        rows.append([BENCHMARK_ROW, "", f"{study.FASHION_MLP_BENCHMARK:.3f}"] + [""] * 6)
    columns = ["normalisation", "own best rate", "final test accuracy", "accuracy averaged over training", "training accuracy",
               "steps to target", "diverged seeds", "ms per step", "time ÷ none"]
    return Table(f"Normalisations on {d.label}", columns, rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds; final accuracy on the {d.info.n_test:,} test "
                         f"images, the curve on the first {d.info.eval_images:,}; training accuracy on the first "
                         f"{min(config.train_eval_size, d.info.n_train):,} training images; target "
                         f"{d.target_accuracy:.4f} (best mean final − {config.target_within:g}). Time per step "
                         "measured once for all datasets.")


def fmt_steps(steps) -> str:
    return "never" if steps is None else f"{steps:,}"


def curves_figure(config: Config, datasets: tuple[DatasetResult, ...]) -> Figure:
    figure, axes = study.dataset_axes(len(datasets), sharey=True)
    for ax, d in zip(axes, datasets):
        curves = {NORM_LABELS[k]: d.kinds[k].curves for k in config.kinds}
        colours = {NORM_LABELS[k]: COLOURS[k] for k in config.kinds}
        study.curves_figure(d.steps, curves, d.label, ylabel=f"test accuracy ({d.info.eval_images:,} images)", ax=ax,
                            colours=colours)
        ax.axhline(d.target_accuracy, color="grey", lw=0.8, ls="--")
        if d.dataset == "fashion-mnist":
            ax.axhline(study.FASHION_MLP_BENCHMARK, color="k", lw=0.8, ls=":")
    figure.suptitle(f"Mean over {config.n_seeds} seeds (band: min–max); dashed = target"
                    + ("; dotted = Fashion-MNIST's MLPClassifier benchmark" if any(
                        d.dataset == "fashion-mnist" for d in datasets) else ""), fontsize=10)
    figure.tight_layout()
    return figure


def accuracy_figure(config: Config, datasets: tuple[DatasetResult, ...]) -> Figure:
    figure, axes = study.dataset_axes(len(datasets))
    x = np.arange(len(config.kinds))
    for ax, d in zip(axes, datasets):
        finals = [d.kinds[k].final_accuracy for k in config.kinds]
        ax.bar(x, [f.mean() for f in finals], yerr=[f.std(ddof=1) if f.size > 1 else 0 for f in finals], capsize=3,
               color=[COLOURS[k] for k in config.kinds])
        for i, f in enumerate(finals):
            ax.plot(np.full(f.size, x[i]), f, "k.", ms=4)
        if d.dataset == "fashion-mnist":
            ax.axhline(study.FASHION_MLP_BENCHMARK, color="k", lw=0.8, ls=":", label="MLPClassifier benchmark")
            ax.legend(fontsize=8, loc="lower right")
        shown = [f.min() for f in finals] + [f.max() for f in finals]
        if d.dataset == "fashion-mnist":
            shown.append(study.FASHION_MLP_BENCHMARK)
        ax.set_ylim(max(0.0, min(shown) - 0.05), min(1.0, max(shown) + 0.02))
        ax.set_xticks(x, [NORM_LABELS[k] for k in config.kinds], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("final test accuracy")
        ax.set_title(d.label, fontsize=10)
    figure.suptitle(f"After {config.steps:,} steps: mean ± std (dots: seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def timing_figure(config: Config, timing: Timing) -> Figure:
    figure = Figure(figsize=(6, 3.5))
    ax = figure.subplots()
    x = np.arange(len(config.kinds))
    ax.bar(x, [timing.ms_per_step[k] for k in config.kinds], color=[COLOURS[k] for k in config.kinds])
    for i, k in enumerate(config.kinds):
        ax.text(x[i], timing.ms_per_step[k], f"{timing.ratio_to_none[k]:.2f}×", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [NORM_LABELS[k] for k in config.kinds], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("ms per training step")
    ax.margins(y=0.12)
    ax.set_title(f"{timing.networks} networks of one kind, median of {timing.rounds} bursts of "
                 f"{timing.steps} steps\n(label: time ÷ no normalisation's)", fontsize=9)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, datasets: tuple[DatasetResult, ...]) -> dict:
    return {f"{d.dataset}/{kind}": {"accuracy/test_mean": base.scalar_points(d.steps, d.kinds[kind].curves.mean(axis=0),
                                                                       d.record_times)}
            for d in datasets for kind in config.kinds}
