"""bn-smoothness' notes, table per dataset, figure of the landscape over training and TensorBoard scalars (the
experiment: `replab.experiments.bn.smoothness`)."""

from __future__ import annotations

from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.smoothness.config import Config
from replab.experiments.bn.smoothness.judge import QUANTITIES, QUANTITY_LABELS
from replab.experiments.bn.smoothness.measure import DatasetResult, Measurements
from replab.experiments.bn.study import COLOURS, LABELS, MODELS

# --- presentation ------------------------------------------------------------------------------------------------


def present(config: Config, m: Measurements) -> Presentation:
    return Presentation(
        tables=[table(config, d) for d in m.datasets],
        figures={"landscape": figure(config, m)},
        notes=notes(config, m),
        scalars={f"{d.dataset}/{model}": {f"landscape/{q}": base.scalar_points(d.steps, getattr(d, q)[i].mean(0),
                                                                         study.fit_times(d.record_times, i))
                                          for q in QUANTITIES}
                 for d in m.datasets for i, model in enumerate(MODELS)},
        captions={"landscape": "Loss variation, gradient predictiveness and effective β-smoothness along the gradient "
                               "at each checkpoint, without and with BN (mean and min–max band over seeds, log scale)."})


def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skipped)
    out.append("The three quantities are not invariant to the scale of the weights, and BN makes the loss invariant to "
               "the scale of the weights before it, so a smaller value with BN can also come from larger weights; "
               "Santurkar et al. report them as measured, and so does this experiment. The probe batch is fixed (the "
               "same images at every checkpoint), where Santurkar et al. use the current training batch.")
    return out


def table(config: Config, d: DatasetResult) -> Table:
    rows = []
    for r, step in enumerate(d.steps):
        row = [int(step)]
        for q in (*QUANTITIES, "probe_loss"):
            values = getattr(d, q)
            row += [f"{values[0, :, r].mean():.4g}", f"{values[1, :, r].mean():.4g}"]
        rows.append(row)
    columns = ["step"] + [f"{name} {LABELS[model]}" for name in ("loss variation", "gradient change",
                                                                  "β-smoothness", "probe loss") for model in MODELS]
    return Table(f"Loss landscape along the gradient on {d.label}", columns, rows,
                 caption=f"Mean over {config.n_seeds} seeds; final test accuracy without BN "
                         f"{study.pm(d.test_accuracy[0])}, with BN {study.pm(d.test_accuracy[1])}.")


def figure(config: Config, m: Measurements) -> Figure:
    fig = Figure(figsize=(5.0 * len(m.datasets), 9.0))
    grid = fig.subplots(3, len(m.datasets), squeeze=False)
    for column, d in enumerate(m.datasets):
        for row, q in enumerate(QUANTITIES):
            ax = grid[row][column]
            values = getattr(d, q)
            for i, model in enumerate(MODELS):
                ax.plot(d.steps, values[i].mean(0), "o-", color=COLOURS[model], label=LABELS[model])
                ax.fill_between(d.steps, values[i].min(0), values[i].max(0), color=COLOURS[model], alpha=0.15)
            ax.set_yscale("log")
            ax.set_xlabel("training step")
            ax.set_title(f"{d.label}: {QUANTITY_LABELS[q]}", fontsize=9)
            ax.legend(fontsize=8)
    fig.suptitle(f"Along the gradient, η = {', '.join(f'{v:g}' for v in config.etas)}; {config.n_seeds} seeds",
                 fontsize=10)
    fig.tight_layout()
    return fig
