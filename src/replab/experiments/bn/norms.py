"""BN study 5, other normalisations: how do BN's successors compare with it and with no normalisation at all?

Figure 1's sigmoid MLP with each of seven treatments of its hidden layers' pre-activations: none, BatchNorm,
Batch Renormalization, LayerNorm, RMSNorm, WeightNorm and GroupNorm (over groups of units). Every (kind, seed)
is one member of one population per dataset, so all of them see the same mini-batches and seed s of every kind
starts from the same weights. Time per step is measured apart, by short runs that train one kind at a time.

measure → judge → present: `measure` trains and times, `judge` decides three findings with `replab.stats` (paired
over seeds, one test per dataset and kind), `present` draws the tables and figures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from replab import nn, stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.data.mnist import Digits
from replab.experiments import base
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.batchnorm import first_step_reaching
from replab.experiments.bn.norms_config import Config
from replab.nn.normalized_mlp import NORM_LABELS, NORMS, Member, NormalizedMLP, forward

NAME = "norms"
TITLE = "BN study 5 — other normalisations: BatchNorm against its successors and against none"
QUESTION = ("With the same network, data, learning rate and seeds, how do no normalisation, BatchNorm, Batch "
            "Renormalization, LayerNorm, RMSNorm, WeightNorm and GroupNorm compare in accuracy over training, final "
            "accuracy and time per step?")

BATCH_FREE = ("layer", "rms", "weight", "group")
"""Kinds whose output for an example does not depend on the rest of its mini-batch."""
COLOURS = {kind: f"C{i}" for i, kind in enumerate(NORMS)}
BENCHMARK_ROW = "MLPClassifier (Fashion-MNIST's official benchmark)"


def cells(config: Config) -> tuple[list[Member], list[float]]:
    """Kind-major, rate-minor: cell k·rates + r is kind k at learning rate r (each kind one contiguous block)."""
    members = [Member(kind, weight_std=config.weight_std) for kind in config.kinds for _ in config.learning_rates]
    return members, [float(r) for kind in config.kinds for r in config.learning_rates]


# --- measurements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindResult:
    """One normalisation on one dataset, over its seeds."""

    final_accuracy: np.ndarray   # (seeds,) whole test set
    curves: np.ndarray           # (seeds, records) on the first eval_size test images
    train_accuracy: np.ndarray   # (seeds,)
    diverged_at: np.ndarray      # (seeds,) step or −1
    steps_to_target: int | None
    """The first record step where the seed-mean curve reaches the dataset's target accuracy (None: never)."""
    learning_rate: float = 0.0
    """The kind's own best rate (highest mean validation accuracy), at which every field above is measured."""
    validation_by_rate: np.ndarray = None  # type: ignore[assignment]
    """(rates, seeds) final validation accuracy at every rate of the grid."""

    @property
    def curve_mean(self) -> np.ndarray:
        """Per seed: accuracy averaged over the record points (how fast it trains)."""
        return self.curves.mean(axis=1)

    @property
    def final_accuracy_mean(self) -> float:
        return float(self.final_accuracy.mean())


@dataclass(frozen=True)
class Dataset(study.NamedByInfo):
    info: study.DatasetInfo
    steps: np.ndarray
    kinds: dict[str, KindResult]
    best_mean_accuracy: float
    target_accuracy: float
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=base.WHEN_MEASURED)  # (R,) wall times


@dataclass(frozen=True)
class Timing:
    dataset: str
    steps: int
    rounds: int
    networks: int
    ms_per_step: dict[str, float]
    ratio_to_none: dict[str, float]


@dataclass(frozen=True)
class Measurements(base.Measurements):
    datasets: tuple[Dataset, ...]
    timing: Timing
    skip_notes: tuple[str, ...] = ()


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train every kind on every available dataset as one population, then time one kind at a time."""
    datasets, skip_notes = study.load_datasets(config)
    total = len(datasets) + 1
    results = study.per_dataset(config, datasets, train_and_summarize, progress,
                                f"{len(config.kinds)} normalisations × {config.n_seeds} seeds")
    progress(len(datasets), total, "time per step, one normalisation at a time")
    timing = measure_times(config, datasets[0])  # here, not on a cluster: the times compare kinds on one machine
    progress(total, total, "done")
    return Measurements(tuple(results), timing, tuple(skip_notes))


def train_and_summarize(config: Config, digits: Digits) -> Dataset:
    train, x_val, y_val = split_validation(digits, config.validation_size)
    members, rates = cells(config)
    trained = study.train_cells(config, train, members, learning_rates=rates, options=config.options)
    validation, _ = study.evaluate(trained.net, x_val, y_val)
    return summarize(config, train, trained, validation)


def split_validation(digits: Digits, size: int):
    """The digits without their last `size` training images (at most a fifth), and those images and labels."""
    size = min(size, digits.n_train // 5)
    keep = digits.n_train - size
    return (dataclasses.replace(digits, x_train=digits.x_train[:keep], y_train=digits.y_train[:keep]),
            digits.x_train[keep:], digits.y_train[keep:])


def best_rate(validation: np.ndarray, diverged: np.ndarray) -> int:
    """Of (rates, seeds): the rate with the highest mean validation accuracy among rates where no seed diverged
    (all rates if every one has a diverged seed)."""
    ok = ~(diverged >= 0).any(axis=-1)
    means = validation.mean(axis=-1)
    return int(np.argmax(np.where(ok, means, -np.inf) if ok.any() else means))


def summarize(config: Config, digits: Digits, trained: study.Trained, validation: np.ndarray) -> Dataset:
    n, r = config.n_seeds, len(config.learning_rates)
    shape = (len(config.kinds), r, n)
    final = study.per_cell(trained.test_accuracy, n).astype(float).reshape(shape)          # (kinds, rates, seeds)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1).astype(float).reshape(*shape, -1)
    train = study.per_cell(trained.train_accuracy, n).astype(float).reshape(shape)
    diverged = study.per_cell(trained.diverged_at, n).reshape(shape)
    val = study.per_cell(validation, n).astype(float).reshape(shape)
    chosen = [best_rate(val[c], diverged[c]) for c in range(len(config.kinds))]
    steps = np.asarray(trained.steps)
    best = float(max(final[c, chosen[c]].mean() for c in range(len(config.kinds))))
    target = best - config.target_within
    kinds = {kind: KindResult(final[c, b], curves[c, b], train[c, b], diverged[c, b],
                              first_step_reaching(steps, curves[c, b].mean(axis=0), target),
                              float(config.learning_rates[b]), val[c])
             for c, (kind, b) in enumerate(zip(config.kinds, chosen))}
    return Dataset(study.dataset_info(config, digits, trained), steps, kinds, best, target, trained.record_times)


def step_loop(config: Config, digits: Digits, kind: str) -> nn.StepLoop:
    """nn.fit's own step loop for n_seeds networks of one kind, compiled once, to time in bursts."""
    n = config.n_seeds
    net = NormalizedMLP(config.layer_sizes, [Member(kind, weight_std=config.weight_std)] * n,
                        [study.member_seed(config, s) for s in range(n)], config.options)
    params = net.params

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, xb, training=True, step=step, seed=config.seed)
        return nn.softmax_cross_entropy(logits, yb)

    return nn.StepLoop(loss_fn, params, nn.SGD(params, np.full(n, config.learning_rate, np.float32)), digits.x_train,
                       digits.y_train, batch_size=config.batch_size, seed=config.seed)


def measure_times(config: Config, digits: Digits) -> Timing:
    """ms per step for each kind and its ratio to no normalisation; the network's shapes, not the data, set it.

    The kinds take turns, burst after burst, so a change in the machine's load falls on all of them alike; each
    kind's time is its median burst.
    """
    loops = {kind: step_loop(config, digits, kind) for kind in config.kinds}
    seconds = {kind: [] for kind in config.kinds}
    for _ in range(config.timing_rounds):
        for kind, loop in loops.items():
            seconds[kind].append(loop.run(config.timing_steps))
    ms = {kind: 1000.0 * float(np.median(s)) / config.timing_steps for kind, s in seconds.items()}
    return Timing(digits.dataset, config.timing_steps, config.timing_rounds, config.n_seeds, ms,
                  {kind: ms[kind] / ms["none"] for kind in config.kinds})


# --- claims --------------------------------------------------------------------------------------------------


def differences(d: Dataset, kind: str, other: str, measure_name: str = "final_accuracy") -> np.ndarray:
    """Per-seed `measure_name` of `kind` minus that of `other` (paired: the same seed's weights and batches)."""
    return getattr(d.kinds[kind], measure_name) - getattr(d.kinds[other], measure_name)


def fmt_difference(values: np.ndarray) -> str:
    return f"{values.mean():+.4f} (std {values.std(ddof=1):.4f})" if values.size > 1 else f"{values.mean():+.4f}"


def evidence_base(config: Config, m: Measurements) -> EvidenceBase:
    return study.evidence_base(config, m.datasets)


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Up to three findings, one test per dataset and kind, paired over seeds, decided together."""
    claims = [train_faster_claim(config, m)]
    if "batch" in config.kinds:
        claims.append(bn_best_claim(config, m))
        batch_free = [k for k in BATCH_FREE if k in config.kinds]
        if batch_free:
            claims.append(batch_free_claim(config, m, batch_free))
    return decide(claims)


def train_faster_claim(config: Config, m: Measurements) -> Claim:
    tie = config.tie_within
    tests, evidence = [], []
    others = [k for k in config.kinds if k != "none"]
    for d in m.datasets:
        for k in others:
            tests.append(stats.paired(d.kinds[k].curve_mean, d.kinds["none"].curve_mean,
                                      f"{d.label}: {NORM_LABELS[k]}", margin=tie))
        evidence.append(f"{d.label}: " + "; ".join(
            f"{NORM_LABELS[k]} {fmt_difference(differences(d, k, 'none', 'curve_mean'))}" for k in others))
    records = len(m.datasets[0].steps) if m.datasets else 0
    return finding(
        "norms-train-faster",
        "Every normalisation trains faster than none: its test accuracy averaged over the training curve is higher",
        effect="accuracy averaged over the training curve, kind − no normalisation, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence=f"Per seed, accuracy on the first {config.eval_size:,} test images (all, if fewer) averaged over the "
        f"{records} record points (every {config.record_every} steps of {config.steps:,}), kind minus no "
        f"normalisation, mean (std) over {config.n_seeds} paired seeds: " + " | ".join(evidence) + ". One test per "
        f"kind and dataset; a gain within ±{tie:g} is negligible (the equivalence margin), so a kind shown to be "
        "that close to no normalisation counts against the claim.")


def bn_best_claim(config: Config, m: Measurements) -> Claim:
    tie = config.tie_within
    rivals = [k for k in config.kinds if k != "batch"]
    tests, evidence = [], []
    for d in m.datasets:
        for k in rivals:
            tests.append(stats.one_sample(differences(d, "batch", k), f"{d.label}: BN − {NORM_LABELS[k]}", null=-tie))
        order = sorted(config.kinds, key=lambda k: -d.kinds[k].final_accuracy_mean)
        evidence.append(f"{d.label}: BatchNorm ranks {order.index('batch') + 1} of {len(order)} by mean final "
                        f"accuracy; " + "; ".join(f"BN − {NORM_LABELS[k]} {fmt_difference(differences(d, 'batch', k))}"
                                                   for k in rivals))
    return finding(
        "bn-best-or-tied",
        f"BatchNorm reaches the best final test accuracy of the {len(config.kinds)} normalisations compared, or ties "
        f"with the best: no other kind is more accurate by more than the tie tolerance {tie:g}",
        effect=f"final test accuracy of BatchNorm − of each other kind, per seed, against −{tie:g} (non-inferiority)",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence=" | ".join(evidence) + f". Paired over {config.n_seeds} seeds; one test per rival and dataset: holds "
        f"if BN is shown above every rival − {tie:g}, fails if some rival is shown more than {tie:g} above BN.")


def batch_free_claim(config: Config, m: Measurements, batch_free: list[str]) -> Claim:
    tie = config.tie_within
    tests, evidence = [], []
    for d in m.datasets:
        for k in batch_free:
            tests.append(stats.one_sample(differences(d, k, "batch"), f"{d.label}: {NORM_LABELS[k]} − BN", null=-tie))
        evidence.append(f"{d.label}: " + "; ".join(
            f"{NORM_LABELS[k]} − BN {fmt_difference(differences(d, k, 'batch'))}" for k in batch_free))
    return finding(
        "batch-free-match-bn",
        f"The normalisations that do not depend on the mini-batch ({', '.join(NORM_LABELS[k] for k in batch_free)}) "
        f"match BatchNorm's final test accuracy: none falls more than the tie tolerance {tie:g} below it",
        effect=f"final test accuracy of each batch-free kind − of BatchNorm, per seed, against −{tie:g} "
               "(non-inferiority)",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence=" | ".join(evidence) + f". Paired over {config.n_seeds} seeds; one test per kind and dataset: holds "
        f"if every batch-free kind is shown above BN − {tie:g}, fails if one is shown below it.")


# --- presentation ----------------------------------------------------------------------------------------------


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


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train and time every normalisation, judge the comparisons over seeds, present."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))


def benchmark_note(config: Config, datasets: tuple[Dataset, ...]) -> list[str]:
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


def kinds_table(config: Config, d: Dataset, timing: Timing) -> Table:
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


def curves_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
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


def accuracy_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
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


def tensorboard_scalars(config: Config, datasets: tuple[Dataset, ...]) -> dict:
    return {f"{d.dataset}/{kind}": {"accuracy/test_mean": base.scalar_points(d.steps, d.kinds[kind].curves.mean(axis=0),
                                                                       d.record_times)}
            for d in datasets for kind in config.kinds}
