"""bn-practice's tables, grid figure, notes and TensorBoard scalars."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.practice.config import Config
from replab.experiments.bn.practice.judge import best_rate_index
from replab.experiments.bn.practice.measure import Grid, Measurements
from replab.experiments.bn.study import COLOURS, LABELS, MODELS
from replab.nn.conv import ARCHITECTURE_LABELS


def present(config: Config, m: Measurements) -> Presentation:
    return Presentation(
        tables=[grid_table(config, g) for g in m.grids],
        figures={"grid": grid_figure(config, m)},
        notes=notes(config, m),
        scalars={f"{g.dataset}/{g.architecture}/{MODELS[i]}/lr{rate:g}":
                 {"accuracy/validation_mean": base.scalar_points(g.steps, g.curves[i, r].mean(0), study.fit_times(g.record_times, i))}
                 for g in m.grids for i in range(2) for r, rate in enumerate(config.learning_rates)},
        captions={"grid": "Test accuracy against the learning rate, ReLU MLP and CNN, without and with BN (mean ± std "
                          "over seeds; × a seed diverged; dotted: each network's best rate on validation)."})


def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(i) for i in m.info] + list(m.skipped)
    out.append(f"ReLU MLP 784-{'-'.join(map(str, config.hidden))}-10 and CNN (3×3 convolutions of "
               f"{' and '.join(map(str, config.channels))} channels, each followed by 2×2 max pooling, then dense to "
               f"10), He-normal initial weights, plain SGD; with BN, the hidden biases are replaced by BN's β and the "
               f"moving averages (momentum {config.bn_momentum:g}) are used at test time. Parameters per network: "
               + "; ".join(f"{ARCHITECTURE_LABELS[g.architecture]} {g.parameters[0]:,} / {g.parameters[1]:,}"
                           for g in m.grids[:len(config.architectures)]) + " (without / with BN).")
    out.append("Divergence: a NaN or Inf in the loss, gradients or weights (the member is then frozen). A ReLU network "
               "at too high a rate may also stall at chance without diverging; either way the rate is not good.")
    return out


def grid_table(config: Config, g: Grid) -> Table:
    rows = []
    best = [best_rate_index(g, i) for i in range(2)]
    for r, rate in enumerate(config.learning_rates):
        row = [rate]
        for i in range(2):
            row += [study.pm(g.validation_accuracy[i, r]), study.pm(g.test_accuracy[i, r]),
                    int((g.diverged_at[i, r] >= 0).sum()), "best" if best[i] == r else ""]
        rows.append(row)
    columns = ["learning rate"] + [f"{c} {LABELS[model]}" for model in MODELS
                                   for c in ("validation accuracy", "test accuracy", "diverged seeds", "chosen")]
    return Table(f"Learning rates, {g.label}", columns, rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds after {config.steps:,} steps; chosen = highest mean "
                         f"validation accuracy; {g.train_seconds:.1f} s of training for both networks.")


def grid_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(5.0 * len(m.grids), 4.0))
    axes = figure.subplots(1, len(m.grids), squeeze=False)[0]
    rates = np.asarray(config.learning_rates)
    for ax, g in zip(axes, m.grids):
        for i, model in enumerate(MODELS):
            acc = g.test_accuracy[i]
            ax.errorbar(rates, acc.mean(-1), yerr=acc.std(-1, ddof=1), marker="o", capsize=3, color=COLOURS[model],
                        label=LABELS[model])
            crashed = rates[(g.diverged_at[i] >= 0).any(-1)]
            ax.plot(crashed, [0.05] * len(crashed), "x", color=COLOURS[model], ms=9)
            if (b := best_rate_index(g, i)) is not None:
                ax.axvline(rates[b], color=COLOURS[model], ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("learning rate (plain SGD)")
        ax.set_ylabel("final test accuracy")
        ax.set_title(g.label, fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
    figure.suptitle(f"After {config.steps:,} steps of {config.batch_size}, {config.n_seeds} seeds", fontsize=10)
    figure.tight_layout()
    return figure
