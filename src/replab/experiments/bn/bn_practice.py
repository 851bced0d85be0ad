"""BN where it is used in practice: a ReLU MLP and a small CNN, without and with BN, across a learning-rate grid.

The paper's headline — BN lets a network train at much higher learning rates — is tested elsewhere on Figure 1's
sigmoid MLP. Practitioners rely on it in ReLU networks and convolutional networks, so this experiment asks it
there: a ReLU MLP (784-128-128-10) and a small CNN (two 3×3 convolutions of 4 and 8 channels by default, 8 and 16 in the paper profile, each followed by
2×2 max pooling, then a dense layer), both He-initialised, trained with plain SGD at every rate of a grid, without
BN and with BN before every ReLU (per unit for the MLP, per channel over (N, H, W) for the CNN; Ioffe & Szegedy
§3.2). Seed s of both networks starts from the same weights and sees the same mini-batches.

Rates are chosen on a validation split held out of the training images, never on the test images the claims are
judged on: a rate is *good* for a seed if it did not diverge and its final validation accuracy is within
`good_within` of that seed's best rate; a network's *best* rate has the highest mean validation accuracy.

measure → judge → present: `measure` trains (one population per network, dataset and architecture), `judge`
decides two findings with `replab.stats` (paired over seeds, one test per dataset and architecture), `present`
draws the grid.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import cluster, nn, stats
from replab.claims import Claim, decide, finding
from replab.data.mnist import Digits
from replab.experiments import base
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.bn_practice_config import Config
from replab.nn.conv import ARCHITECTURE_LABELS, ReluNet, forward

NAME = "bn-practice"
TITLE = "BN in practice — ReLU MLP and CNN: does BN let them train at higher learning rates?"
QUESTION = ("In the networks practitioners use BN in — a ReLU MLP and a small CNN on Fashion-MNIST — does BN widen "
            "the range of learning rates that train well, and is the network with BN more accurate when each network "
            "trains at its own best rate?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS


# --- measurements ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """One architecture on one dataset: (model, rate, seed) arrays, model 0 without BN, 1 with BN."""

    dataset: str
    architecture: str
    steps: np.ndarray             # (R,) record points
    validation_accuracy: np.ndarray   # (2, rates, seeds) on the whole validation split
    test_accuracy: np.ndarray     # (2, rates, seeds) on the whole test set
    curves: np.ndarray            # (2, rates, seeds, R) validation accuracy on its first eval_size images
    diverged_at: np.ndarray       # (2, rates, seeds) step or −1
    parameters: tuple[int, int]   # trainable numbers of one network without and with BN
    train_seconds: float
    record_times: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), metadata=base.WHEN_MEASURED)
    """(2, R) wall time of each record point, per model (each network is its own fit), for TensorBoard."""

    @property
    def label(self) -> str:
        return f"{study.DATASET_LABELS[self.dataset]}: {ARCHITECTURE_LABELS[self.architecture]}"


@dataclass(frozen=True)
class Measurements(base.Measurements):
    info: tuple[study.DatasetInfo, ...]
    grids: tuple[Grid, ...]
    validation_images: tuple[int, ...]
    skipped: tuple[str, ...] = ()

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(i.dataset for i in self.info)


def split_validation(digits: Digits, size: int) -> tuple[Digits, np.ndarray, np.ndarray]:
    """The digits without their last `size` training images (at most a fifth), and those images and labels."""
    size = min(size, digits.n_train // 5)
    keep = digits.n_train - size
    return (dataclasses.replace(digits, x_train=digits.x_train[:keep], y_train=digits.y_train[:keep]),
            digits.x_train[keep:], digits.y_train[keep:])


def evaluate(net: ReluNet, x: np.ndarray, y: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Accuracy (K,) in inference mode, in chunks."""

    @tf.function
    def hits(xb, yb):
        logits = forward(net, xb, training=False)
        return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int64), yb), tf.float32), axis=1)

    total = np.zeros(net.population)
    for start in range(0, len(y), chunk):
        total += hits(tf.constant(x[start:start + chunk]), tf.constant(y[start:start + chunk].astype(np.int64))).numpy()
    return total / len(y)


def train_population(config: Config, digits: Digits, x_val, y_val, architecture: str, bn: bool):
    """Every rate × seed of one network as one population: member r·n_seeds + s is rate r, seed s."""
    n, rates = config.n_seeds, config.learning_rates
    seeds = [study.member_seed(config, s) for s in range(n)] * len(rates)
    net = ReluNet(architecture, bn=bn, seeds=seeds, hidden=config.hidden, channels=config.channels,
                  momentum=config.bn_momentum)
    params = net.params
    x_eval = tf.constant(x_val[: config.eval_size])
    y_eval = tf.constant(y_val[: config.eval_size].astype(np.int64))

    def loss_fn(params, xb, yb, step):
        return nn.softmax_cross_entropy(forward(net, xb, training=True), yb)

    @tf.function
    def validation_accuracy():
        return nn.accuracy(forward(net, x_eval, training=False), y_eval)

    history = nn.fit(loss_fn, params, nn.SGD(params, np.repeat(np.asarray(rates, np.float32), n)), digits.x_train,
                     digits.y_train, steps=config.steps, batch_size=config.batch_size,
                     record_every=config.record_every, metrics={"accuracy": validation_accuracy}, seed=config.seed,
                     jit_compile=architecture != "cnn")  # XLA's CPU convolutions are slower than TensorFlow's own
    shape = (len(rates), n)
    return (history, evaluate(net, x_val, y_val).reshape(shape), evaluate(net, digits.x_test, digits.y_test).reshape(shape),
            np.moveaxis(history.metrics["accuracy"], 0, -1).reshape(*shape, -1),
            history.diverged_at.reshape(shape), net.parameter_count())


@dataclass(frozen=True)
class PopulationUnit:
    """One population (a dataset's architecture, with or without BN, every rate × seed) as a unit of work."""

    config: Config
    train: Digits
    x_val: np.ndarray
    y_val: np.ndarray
    architecture: str
    bn: bool


def train_unit(unit: PopulationUnit):
    return train_population(unit.config, unit.train, unit.x_val, unit.y_val, unit.architecture, unit.bn)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Every architecture without and with BN over the rate grid on every dataset: each population a unit on the
    cluster executor (in-process unless --cluster), gathered in order."""
    datasets, skipped = study.load_datasets(config)
    splits = [split_validation(digits, config.validation_size) for digits in datasets]
    units = [PopulationUnit(config, train, x_val, y_val, architecture, bn) for train, x_val, y_val in splits
             for architecture in config.architectures for bn in (False, True)]
    total = len(units)
    progress(0, total, f"{total} populations of {len(config.learning_rates)} rates × {config.n_seeds} seeds")
    trained = iter(cluster.executor().map(
        train_unit, units, progress=progress,
        describe=lambda u: f"bn-practice {u.train.dataset}, {ARCHITECTURE_LABELS[u.architecture]} "
                           f"{LABELS[MODELS[u.bn]]}"))
    infos, grids, validation = [], [], []
    for train, x_val, y_val in splits:
        validation.append(len(y_val))
        histories = []
        for architecture in config.architectures:
            parts = [next(trained), next(trained)]
            histories += [p[0] for p in parts]
            grids.append(Grid(train.dataset, architecture, np.asarray(parts[0][0].steps),
                              *(np.stack([p[i] for p in parts]).astype(float if i < 4 else int) for i in range(1, 5)),
                              (parts[0][5], parts[1][5]),
                              float(sum(p[0].wall_time - p[0].compile_time for p in parts)),
                              np.stack([p[0].record_times for p in parts])))
        infos.append(study.DatasetInfo(train.dataset, train.source, train.n_train, train.n_test,
                                       bool(config.binarize_mnist and train.dataset == "mnist"),
                                       min(config.eval_size, len(y_val)),
                                       tuple(float(h.steps_per_second) for h in histories),
                                       float(sum(h.wall_time - h.compile_time for h in histories)),
                                       float(sum(h.compile_time for h in histories))))
    progress(total, total, "done")
    return Measurements(tuple(infos), tuple(grids), tuple(validation), tuple(skipped))


# --- what the measurements say -------------------------------------------------------------------------------------


def largest_good_rate_per_seed(config: Config, g: Grid) -> np.ndarray:
    """(model, seed): the largest rate whose validation accuracy is within good_within of the seed's best rate and
    did not diverge; NaN where every rate diverged."""
    alive = g.diverged_at < 0
    accuracy = np.where(alive, g.validation_accuracy, -np.inf)
    best = accuracy.max(axis=1, keepdims=True)
    good = alive & (accuracy >= best - config.good_within)
    largest = np.where(good, np.asarray(config.learning_rates, float)[None, :, None], -np.inf).max(axis=1)
    return np.where(np.isfinite(largest), largest, np.nan)


def best_rate_index(g: Grid, model: int) -> int | None:
    """The rate with the highest mean validation accuracy among rates where no seed diverged (None: none)."""
    ok = ~(g.diverged_at[model] >= 0).any(axis=-1)
    if not ok.any():
        return None
    return int(np.argmax(np.where(ok, g.validation_accuracy[model].mean(axis=-1), -np.inf)))


def tuned_test_accuracy(g: Grid, model: int) -> np.ndarray | None:
    index = best_rate_index(g, model)
    return None if index is None else g.test_accuracy[model, index]


def judge(config: Config, m: Measurements) -> list[Claim]:
    base_ = study.evidence_base(config, m.datasets)
    rates_tests, rates_evidence, tuned_tests, tuned_evidence = [], [], [], []
    for g in m.grids:
        largest = largest_good_rate_per_seed(config, g)
        if np.isnan(largest).any():
            rates_tests.append(stats.unavailable(g.label, "every rate diverged for some seed, so it has no good rate"))
        else:
            rates_tests.append(stats.paired(np.log10(largest[1]), np.log10(largest[0]), g.label))
        rates_evidence.append(f"{g.label}: largest good rate per seed without BN "
                              f"{', '.join(f'{r:g}' for r in largest[0])}, with BN {', '.join(f'{r:g}' for r in largest[1])}")
        plain, bn = tuned_test_accuracy(g, 0), tuned_test_accuracy(g, 1)
        if plain is None or bn is None:
            tuned_tests.append(stats.unavailable(g.label, "one network diverged at every rate"))
            continue
        tuned_tests.append(stats.paired(bn, plain, g.label))
        tuned_evidence.append(f"{g.label}: without BN at rate {config.learning_rates[best_rate_index(g, 0)]:g} "
                              f"{study.pm(plain)}, with BN at rate {config.learning_rates[best_rate_index(g, 1)]:g} "
                              f"{study.pm(bn)}")
    protocol = (f" Plain SGD, batch {config.batch_size}, {config.steps:,} steps, rates "
                f"{', '.join(f'{r:g}' for r in config.learning_rates)}; {config.n_seeds} seeds, paired (seed s of both "
                f"networks starts from the same weights and sees the same batches); rates chosen on "
                f"{', '.join(f'{v:,}' for v in m.validation_images)} held-out training images, never on the test set.")
    claims = [
        finding("practice-bn-higher-rates",
                "In a ReLU MLP and a small CNN, BN trains well at higher learning rates: its largest good rate is "
                "higher than the network's without BN",
                effect="log10(largest good rate with BN) − log10(without BN), per seed, in decades",
                direction="greater", tests=rates_tests, base=base_,
                evidence="; ".join(rates_evidence) + f". Good: no divergence and validation accuracy within "
                f"{config.good_within:g} of the seed's best rate." + protocol),
        finding("practice-bn-more-accurate-tuned",
                "Each at its own best learning rate, the network with BN reaches a higher test accuracy than the "
                "network without BN",
                effect="test accuracy with BN − without BN, each at its best rate, per seed", direction="greater",
                tests=tuned_tests, base=base_,
                evidence="; ".join(tuned_evidence) + ". Best rate: highest mean validation accuracy among rates where "
                "no seed diverged." + protocol),
    ]
    return decide(claims)


# --- presentation -----------------------------------------------------------------------------------------------


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


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train both architectures without and with BN over the rate grid, judge, present."""
    config = config or Config()
    m = measure(config, progress)
    return compose(config, m, judge(config, m), present(config, m))


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
