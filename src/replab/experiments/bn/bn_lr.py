"""BN study 1, learning rate: does Batch Normalization train well at learning rates where the baseline fails?

A log grid of plain-SGD learning rates for Figure 1's sigmoid MLP without and with BN. Every (network, rate, seed)
is one member of one population per dataset, so all of them see the same mini-batches; seed s of every cell
starts from the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from replab import stats
from replab.claims import Claim, decide, finding
from replab.data.mnist import Digits
from replab.experiments.bn import study
from replab.experiments.bn.batchnorm import first_step_reaching
from replab.experiments.bn.bn_lr_config import Config
from replab.experiments import base
from replab.experiments.base import WHEN_MEASURED, Presentation, Progress, Result, Table, compose, no_progress
from replab.nn.normalized_mlp import Member

NAME = "bn-lr"
TITLE = "BN study 1 — learning rate: does Batch Normalization allow higher learning rates?"
QUESTION = ("Over a log grid of learning rates, where does the Figure 1 sigmoid network train well without and "
            "with Batch Normalization, how fast does each reach a target accuracy, and which rates diverge?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS


def cells(config: Config) -> tuple[list[Member], list[float]]:
    """Model-major: every rate without BN, then every rate with BN."""
    members = [Member(model, weight_std=config.weight_std) for model in MODELS for _ in config.learning_rates]
    return members, list(config.learning_rates) * len(MODELS)


# --- measurements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetMeasurements:
    """One dataset's learning-rate grid; axes (model, rate, seed[, record])."""

    info: study.DatasetInfo
    steps: np.ndarray              # (R,) record points
    final_accuracy: np.ndarray     # (2, rates, seeds) whole test set
    curves: np.ndarray             # (2, rates, seeds, R) accuracy on the first eval_size test images
    diverged_at: np.ndarray        # (2, rates, seeds) step or −1
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=WHEN_MEASURED)  # (R,) wall times

    @property
    def dataset(self) -> str:
        return self.info.dataset


@dataclass(frozen=True)
class LrMeasurements(base.Measurements):
    learning_rates: np.ndarray     # (rates,)
    datasets: tuple[DatasetMeasurements, ...]
    skipped: tuple[str, ...] = ()
    """A note per requested dataset that is not installed."""


def measure(config: Config, progress: Progress = no_progress) -> LrMeasurements:
    """Train the baseline and the BN network at every learning rate on every available dataset, as one population
    per dataset; computes, never writes files.
    """
    datasets, skipped = study.load_datasets(config)
    measured = study.per_dataset(config, datasets, train_and_measure, progress,
                                 f"{2 * len(config.learning_rates)} cells × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return LrMeasurements(np.asarray(config.learning_rates, float), tuple(measured), tuple(skipped))


def train_and_measure(config: Config, digits: Digits) -> DatasetMeasurements:
    members, rates = cells(config)
    return measure_dataset(config, digits, study.train_cells(config, digits, members, learning_rates=rates))


def measure_dataset(config: Config, digits: Digits, trained: study.Trained) -> DatasetMeasurements:
    n, shape = config.n_seeds, (len(MODELS), len(config.learning_rates), config.n_seeds)
    final = study.per_cell(trained.test_accuracy, n).reshape(shape)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1).reshape(*shape, -1)
    diverged = study.per_cell(trained.diverged_at, n).reshape(shape)
    return DatasetMeasurements(study.dataset_info(config, digits, trained), np.asarray(trained.steps),
                               np.asarray(final, float), np.asarray(curves, float), np.asarray(diverged, int),
                               trained.record_times)


# --- what the measurements say ----------------------------------------------------------------------------


def intact(d: DatasetMeasurements) -> np.ndarray:
    """(model, rate): no seed diverged."""
    return ~(d.diverged_at >= 0).any(axis=-1)


def good_rates(config: Config, d: DatasetMeasurements) -> np.ndarray:
    """(model, rate) on the means over seeds: no seed diverged and the mean within good_within of the model's best."""
    ok = intact(d)
    means = np.where(ok, d.final_accuracy.mean(axis=-1), -np.inf)
    best = means.max(axis=-1, keepdims=True)
    return ok & (means >= best - config.good_within)


def largest_good_rate(config: Config, d: DatasetMeasurements) -> list[float | None]:
    good = good_rates(config, d)
    rates = np.asarray(config.learning_rates)
    return [float(rates[g].max()) if g.any() else None for g in good]


def largest_good_rate_per_seed(config: Config, d: DatasetMeasurements) -> np.ndarray:
    """(model, seed): the largest rate that trained well for that seed (no divergence, final accuracy within
    good_within of the seed's own best rate); NaN where every rate of the seed diverged."""
    alive = d.diverged_at < 0
    accuracy = np.where(alive, d.final_accuracy, -np.inf)            # (model, rate, seed)
    best = accuracy.max(axis=1, keepdims=True)
    good = alive & (accuracy >= best - config.good_within)
    rates = np.asarray(config.learning_rates, float)[None, :, None]
    largest = np.where(good, rates, -np.inf).max(axis=1)
    return np.where(np.isfinite(largest), largest, np.nan)


def target_accuracy(config: Config, d: DatasetMeasurements) -> float:
    """The best final point of a mean-over-seeds curve among cells where no seed diverged, − target_within."""
    last = d.curves.mean(axis=2)[..., -1]
    ok = intact(d)
    return float((last[ok].max() if ok.any() else last.max()) - config.target_within)


def steps_to_target(config: Config, d: DatasetMeasurements) -> list[list[int | None]]:
    """(model, rate): the first record point where the mean-over-seeds curve reaches the target (None: never or
    a seed diverged)."""
    target, ok, mean = target_accuracy(config, d), intact(d), d.curves.mean(axis=2)
    return [[first_step_reaching(d.steps, mean[m, r], target) if ok[m, r] else None
             for r in range(len(config.learning_rates))] for m in range(len(MODELS))]


def fastest_per_seed(config: Config, d: DatasetMeasurements) -> np.ndarray:
    """(model, seed): over the rates where the seed did not diverge, the fewest steps its own curve needs to reach
    the target; a seed that never reaches it counts as steps + record_every (one record point past the budget)."""
    target = target_accuracy(config, d)
    censored = config.steps + config.record_every
    reached = d.curves >= target                                      # (model, rate, seed, R)
    first = np.where(reached.any(axis=-1), d.steps[np.argmax(reached, axis=-1)], censored)
    first = np.where(d.diverged_at < 0, first, censored)
    return first.min(axis=1).astype(float)


def ratio_text(config: Config, d: DatasetMeasurements) -> str:
    base, bn = largest_good_rate(config, d)
    if base is not None and bn is not None:
        return f"{bn / base:.3g}×"
    return "∞ (no good rate without BN)" if bn is not None else ("n/a (no good rate with BN)" if base is not None else "n/a")


# --- claims ----------------------------------------------------------------------------------------------------


def judge(config: Config, m: LrMeasurements) -> list[Claim]:
    """The study's findings, one test per dataset paired over seeds, decided together (`claims.decide`)."""
    base = study.evidence_base(config, m.datasets)
    tests, evidence = [], []
    for d in m.datasets:
        label = d.info.label
        largest = largest_good_rate_per_seed(config, d)
        if np.isnan(largest).any():
            tests.append(stats.unavailable(label, "every rate diverged for some seed, so it has no good rate"))
        else:
            tests.append(stats.paired(np.log10(largest[1]), np.log10(largest[0]), label))
        evidence.append(
            f"{label}: largest good rate per seed without BN {', '.join(f'{r:g}' for r in largest[0])}, with BN "
            f"{', '.join(f'{r:g}' for r in largest[1])} (on the means over seeds: ratio {ratio_text(config, d)}); "
            f"mean accuracy at the largest rate {config.learning_rates[-1]:g}: without BN "
            f"{d.final_accuracy[0, -1].mean():.4f}, with BN {d.final_accuracy[1, -1].mean():.4f}")
    claims = [finding(
        "bn-higher-learning-rates",
        "Batch Normalization trains well at learning rates where the baseline fails: its largest good learning rate is "
        "higher",
        effect="log10(BN's largest good rate) − log10(the baseline's), per seed, in decades of learning rate",
        direction="greater", tests=tests, base=base,
        evidence="; ".join(evidence) + f". A rate is good for a seed if it did not diverge and its final test accuracy "
        f"is within {config.good_within:g} of that seed's best rate; paired over {config.n_seeds} seeds, "
        f"{config.steps:,} steps, one test per dataset. On a grid the per-seed ratio takes few values, so with few seeds "
        "a constant ratio is decided by an exact sign test.")]

    tests, evidence = [], []
    for d in m.datasets:
        label = d.info.label
        fastest = fastest_per_seed(config, d)
        if (fastest > config.steps).all():
            tests.append(stats.unavailable(label, "neither network reaches the target on any seed"))
        else:
            tests.append(stats.paired(fastest[0], fastest[1], label))
        evidence.append(f"{label}: target {target_accuracy(config, d):.4f} (the best final mean curve − "
                        f"{config.target_within:g}) on the first {d.info.eval_images:,} test images; fewest steps per "
                        f"seed over the rates without BN {', '.join(f'{s:,.0f}' for s in fastest[0])}, with BN "
                        f"{', '.join(f'{s:,.0f}' for s in fastest[1])}")
    claims.append(finding(
        "bn-lr-faster",
        "At its best learning rate, the network with BN reaches a target accuracy in fewer steps than the baseline at "
        "its best",
        effect="baseline − BN steps to the target (each at its fastest rate), per seed", direction="greater",
        tests=tests, base=base,
        evidence="; ".join(evidence) + f". Accuracy recorded every {config.record_every} steps; a seed that never "
        f"reaches the target counts as {config.steps + config.record_every:,} steps (one record point past the "
        f"budget); paired over {config.n_seeds} seeds, one test per dataset."))
    return decide(claims)


def fmt_rate(rate) -> str:
    return "none" if rate is None else f"{rate:g}"


def fmt_accuracy(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def fmt_steps(steps) -> str:
    return "never" if steps is None else f"{steps:,}"


# --- presentation ------------------------------------------------------------------------------------------


def present(config: Config, m: LrMeasurements) -> Presentation:
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


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train the learning-rate grid without and with BN on each dataset, judge the claims, present the grid."""
    config = config or Config()
    m = measure(config, progress)
    return compose(config, m, judge(config, m), present(config, m))


def notes(config: Config, m: LrMeasurements) -> list[str]:
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


def grid_table(config: Config, d: DatasetMeasurements) -> Table:
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


def good_thresholds(config: Config, d: DatasetMeasurements) -> list[float | None]:
    ok = intact(d)
    means = d.final_accuracy.mean(axis=-1)
    return [float(means[i][ok[i]].max() - config.good_within) if ok[i].any() else None for i in range(len(MODELS))]


def accuracy_figure(config: Config, m: LrMeasurements) -> Figure:
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


def curves_figure(config: Config, m: LrMeasurements) -> Figure:
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


def tensorboard_scalars(config: Config, m: LrMeasurements) -> dict:
    scalars = {}
    for d in m.datasets:
        mean = d.curves.mean(axis=2)
        for i, model in enumerate(MODELS):
            for r, rate in enumerate(config.learning_rates):
                scalars[f"{d.dataset}/{model}/lr{rate:g}"] = {
                    "accuracy/test_mean": base.scalar_points(d.steps, mean[i, r], d.record_times)}
    return scalars
