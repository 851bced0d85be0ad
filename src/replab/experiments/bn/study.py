"""What the six studies of the Batch Normalization study share: settings, data, population training, evidence bases.

Every study trains *cells* (one setting: a normalisation, a learning rate, an initial scale, a dropout rate…)
over `n_seeds` seeds. All cells × seeds of a study are members of one ``NormalizedMLP`` population trained by one
``nn.fit`` call: the mini-batch is drawn once per step and shared, and the members of seed s of every cell start
from the same unit-Gaussian draw (scaled by the cell's weight std), so cells are compared pairwise.
Member index = cell · n_seeds + seed (replab.nn.population.Grid). Claims are decided by replab.stats; every study
builds its claims' EvidenceBase with `evidence_base`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import cluster
from replab.claims import EvidenceBase
from replab.data.mnist import Digits, load_digits
from replab.errors import UserError, require
from replab.experiments.base import ExperimentConfig
from replab.experiments.bn.config import DATASET_LABELS, StudyConfig
from replab.nn.losses import accuracy as nn_accuracy
from replab.nn.losses import softmax_cross_entropy
from replab.nn.normalized_mlp import Member, NormalizedMLP, Options, forward
from replab.nn.optim import SGD
from replab.nn.population import Grid
from replab.nn.train import fit as nn_fit

MODELS = ("none", "batch")
"""The two networks most studies compare: Figure 1's baseline and its BN version (NormalizedMLP kinds)."""
LABELS = {"none": "without BN", "batch": "with BN"}
COLOURS = {"none": "C0", "batch": "C3"}
FASHION_MLP_BENCHMARK = 0.871
"""Fashion-MNIST's official benchmark: scikit-learn's MLPClassifier, best test accuracy 0.871."""


# --- data ------------------------------------------------------------------------------------------------------


def load_datasets(config: StudyConfig) -> tuple[list[Digits], list[str]]:
    """The datasets to run, and a note for each one skipped because it is not installed."""
    loaded, notes = [], []
    for name in config.datasets:
        try:
            digits = load_digits(name, data_dir=(config.data_dir or None) if name == "mnist" else None,
                                 seed=config.seed, binarize=config.binarize_mnist and name == "mnist")
        except UserError as error:
            if name != "fashion-mnist":
                raise
            notes.append(f"Fashion-MNIST skipped: {error}")
            continue
        require(config.batch_size <= digits.n_train,
                f"batch_size ({config.batch_size}) exceeds the {digits.n_train} training examples of {name}")
        loaded.append(digits)
    require(loaded, "none of the requested datasets is available: " + " ".join(notes))
    return loaded, notes


@dataclass(frozen=True)
class DatasetUnit:
    """One dataset's share of a study, as a unit of work: `measure(config, digits)` returns its numpy measurements."""

    config: ExperimentConfig
    digits: Digits
    measure: Callable


def measure_unit(unit: DatasetUnit):
    return unit.measure(unit.config, unit.digits)


def per_dataset(config: ExperimentConfig, datasets: list[Digits], measure: Callable, progress, what: str) -> list:
    """measure(config, digits) for every dataset, each a unit on the cluster executor (in-process unless the run
    has --cluster): the datasets train on different nodes and give the same numbers as here. The data travel with
    the unit, so a worker needs no dataset of its own."""
    names = ", ".join(DATASET_LABELS.get(d.dataset, d.dataset) for d in datasets)
    progress(0, len(datasets), f"{what} on {names}")
    return cluster.executor().map(measure_unit, [DatasetUnit(config, digits, measure) for digits in datasets],
                                  progress=lambda done, total, text: progress(done, total, f"{what}: {text}"),
                                  describe=lambda unit: f"{what}, {unit.digits.dataset}")


def dataset_section(config: StudyConfig, digits: Digits, *trained: "Trained") -> dict:
    """What every study records about a dataset and how fast its populations trained."""
    return {
        "dataset": digits.dataset, "source": digits.source, "n_train": digits.n_train, "n_test": digits.n_test,
        "binary": bool(config.binarize_mnist and digits.dataset == "mnist"),
        "eval_images": min(config.eval_size, digits.n_test),
        "steps_per_second": [t.steps_per_second for t in trained],
        "train_seconds": float(sum(t.train_seconds for t in trained)),
        "compile_seconds": float(sum(t.compile_seconds for t in trained)),
    }


@dataclass(frozen=True)
class DatasetInfo:
    """What every study records about a dataset and how fast its populations trained (typed dataset_section)."""

    dataset: str
    source: str
    n_train: int
    n_test: int
    binary: bool
    eval_images: int
    steps_per_second: tuple[float, ...]
    train_seconds: float
    compile_seconds: float

    @property
    def label(self) -> str:
        return DATASET_LABELS[self.dataset]


def dataset_info(config: StudyConfig, digits: Digits, *trained: "Trained") -> DatasetInfo:
    """dataset_section as a frozen dataclass, for a study's Measurements."""
    s = dataset_section(config, digits, *trained)
    return DatasetInfo(s["dataset"], s["source"], s["n_train"], s["n_test"], s["binary"], s["eval_images"],
                       tuple(float(v) for v in s["steps_per_second"]), s["train_seconds"], s["compile_seconds"])


def _dataset_name(section) -> str:
    if isinstance(section, str):
        return section
    if isinstance(section, dict):
        return section["dataset"]
    return section.dataset


def dataset_label(section) -> str:
    """'MNIST' / 'Fashion-MNIST' for a section (dict or DatasetInfo-like with `.dataset`) or a dataset name."""
    return DATASET_LABELS[_dataset_name(section)]


class NamedByInfo:
    """The `dataset` name and display `label` of a study's per-dataset record, which holds its DatasetInfo as `info`."""

    @property
    def dataset(self) -> str:
        return self.info.dataset

    @property
    def label(self) -> str:
        return dataset_label(self.info)


def evidence_base(config: StudyConfig, sections, *, examples: int | None = None,
                  seeds: int | None = None) -> EvidenceBase:
    """The one EvidenceBase of a BN study's claims: the datasets judged (one per section, by label), the datasets the
    config asked for that were skipped because not installed, the seeds (config.n_seeds unless given) and quick.

    `sections` may be section dicts, objects with a `.dataset` attribute (DatasetInfo, a study's per-dataset
    measurements) or dataset names."""
    judged = [_dataset_name(s) for s in sections]
    return EvidenceBase(datasets=tuple(DATASET_LABELS[d] for d in judged),
                        skipped=tuple(DATASET_LABELS[d] for d in config.datasets if d not in judged),
                        seeds=config.n_seeds if seeds is None else seeds, examples=examples,
                        quick=config.quick)


def data_note(section) -> str:
    s = section if isinstance(section, dict) else section.__dict__
    pixels = "binary pixels (the paper's §4.1)" if s["binary"] else "grey levels in [0, 1]"
    return (f"{dataset_label(section)} from {s['source']}: {s['n_train']:,} training and "
            f"{s['n_test']:,} test images, {pixels}; training took {s['train_seconds']:.1f} s "
            f"(+{s['compile_seconds']:.1f} s compiling).")


# --- training a population of cells -------------------------------------------------------------------------


def grid(config: StudyConfig, cells) -> Grid:
    """The study's cells × config.n_seeds as one population (replab.nn.population.Grid): member c·n_seeds + s is
    cell c, seed s, whose seed derives from config.seed."""
    return Grid.of(cells, config.n_seeds, config.seed)


def member_seed(config: StudyConfig, seed_index: int) -> int:
    """The seed of seed index s, the same for every cell (Grid.seed_of)."""
    return Grid.of([None], config.n_seeds, config.seed).seed_of(seed_index)


def population(cells: list[Member], n_seeds: int) -> list[Member]:
    """Cell-major: member c·n_seeds + s is cell c, seed s (Grid.members)."""
    return Grid.of(cells, n_seeds).members()


@dataclass
class Trained:
    """One population's training, as numpy; the member axis is last."""

    steps: np.ndarray                # (R,)
    loss: np.ndarray                 # (R, K) mini-batch loss
    accuracy: np.ndarray             # (R, K) accuracy on the first eval_size test images
    test_accuracy: np.ndarray        # (K,) whole test set, at the end
    test_loss: np.ndarray            # (K,)
    train_accuracy: np.ndarray       # (K,) first train_eval_size training images, inference mode
    train_loss: np.ndarray           # (K,)
    diverged_at: np.ndarray          # (K,) step or −1
    steps_per_second: float
    train_seconds: float
    compile_seconds: float
    metrics: dict = field(default_factory=dict)
    net: NormalizedMLP | None = None
    record_times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (R,) wall time of each record
    started: float = 0.0             # wall time just before training, for a step-0 record measured before fit

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    def times_from_start(self) -> np.ndarray:
        """(R + 1,) record times behind a step-0 record measured before training, stamped when training started."""
        return np.concatenate([[self.started], self.record_times])


def evaluate(net: NormalizedMLP, x: np.ndarray, y: np.ndarray, chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy (K,), mean cross-entropy (K,)) in inference mode, in chunks so memory stays small."""

    @tf.function
    def score(xb, yb):
        logits, _ = forward(net, xb, training=False)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.broadcast_to(yb, tf.shape(logits)[:2]),
                                                                logits=logits)
        hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int64), yb), tf.float32)
        return tf.reduce_sum(hits, axis=1), tf.reduce_sum(losses, axis=1)

    hits, losses = np.zeros(net.population), np.zeros(net.population)
    for start in range(0, len(y), chunk):
        h, l = score(tf.constant(x[start:start + chunk]), tf.constant(y[start:start + chunk].astype(np.int64)))
        hits += h.numpy()
        losses += l.numpy()
    return hits / len(y), losses / len(y)


MetricsFactory = Callable[[NormalizedMLP, Digits], dict]
"""net, digits -> {name: zero-argument callable returning a tensor}: extra measurements at every record point."""


def train_cells(config: StudyConfig, digits: Digits, cells: list[Member], *, learning_rates=None,
                batch_size: int | None = None, steps: int | None = None, record_every: int | None = None,
                options: Options = Options(), extra_metrics: MetricsFactory | None = None) -> Trained:
    """Train every cell for every seed as one population; learning_rates holds one rate per cell (default: the
    config's rate for all); batch_size, steps and record_every default to the config's."""
    cells_grid = grid(config, cells)
    net = NormalizedMLP(config.layer_sizes, cells_grid.members(), cells_grid.member_seeds(), options)
    rates = np.repeat(np.asarray(learning_rates if learning_rates is not None else [config.learning_rate] * len(cells),
                                 np.float32), config.n_seeds)
    batch_size = batch_size or config.batch_size
    steps = steps or config.steps
    record_every = record_every or config.record_every
    x_eval = tf.constant(digits.x_test[: config.eval_size])
    y_eval = tf.constant(digits.y_test[: config.eval_size].astype(np.int64))
    params = net.params

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, xb, training=True, step=step, seed=config.seed)
        return softmax_cross_entropy(logits, yb)

    @tf.function
    def test_accuracy():
        return nn_accuracy(forward(net, x_eval, training=False)[0], y_eval)

    metrics = {"accuracy": test_accuracy, **(extra_metrics(net, digits) if extra_metrics else {})}
    started = time.time()
    history = nn_fit(loss_fn, params, SGD(params, rates), digits.x_train, digits.y_train, steps=steps,
                     batch_size=batch_size, record_every=min(record_every, steps), metrics=metrics,
                     seed=config.seed)
    test_accuracy_final, test_loss = evaluate(net, digits.x_test, digits.y_test)
    n_train = min(config.train_eval_size, digits.n_train)
    train_accuracy, train_loss = evaluate(net, digits.x_train[:n_train], digits.y_train[:n_train])
    extra = {name: value for name, value in history.metrics.items() if name != "accuracy"}
    return Trained(history.steps, history.loss, history.metrics["accuracy"], test_accuracy_final, test_loss,
                   train_accuracy, train_loss, history.diverged_at, history.steps_per_second,
                   history.wall_time - history.compile_time, history.compile_time, extra, net,
                   history.record_times, started)


def no_times() -> np.ndarray:
    """The record times of measurements that carry none (hand-built ones): an empty (0,) array."""
    return np.zeros(0)


def fit_times(record_times: np.ndarray, fit: int) -> np.ndarray:
    """(R,) the record times of one fit from a (fits, R) array; empty where none were recorded (hand-built)."""
    return record_times[fit] if record_times.size else no_times()


# --- per-cell values over seeds ------------------------------------------------------------------------------------


def per_cell(values: np.ndarray, n_seeds: int) -> np.ndarray:
    """(..., K) -> (..., cells, seeds) (Grid.per_cell, for a population of K = cells · n_seeds members)."""
    values = np.asarray(values)
    cells = values.shape[-1] // n_seeds
    require(cells * n_seeds == values.shape[-1], f"{values.shape[-1]} members do not split into {n_seeds} seeds")
    return Grid.of(range(cells), n_seeds).per_cell(values)


def mean_std(values) -> tuple[float, float]:
    values = np.asarray(values, float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def pm(values, digits: int = 4) -> str:
    """'mean ± std' over seeds."""
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


# --- figures --------------------------------------------------------------------------------------------------


def curves_figure(steps, curves: dict[str, np.ndarray], title: str, ylabel: str = "test accuracy",
                  ax=None, colours=None) -> Figure | None:
    """Mean and min–max band over seeds for each labelled (seeds, R) curve array."""
    figure = None
    if ax is None:
        figure = Figure(figsize=(6, 4))
        ax = figure.subplots()
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values)
        colour = (colours or {}).get(label, f"C{i % 10}")
        ax.plot(steps, values.mean(axis=0), color=colour, label=label)
        ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=colour, alpha=0.15)
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    if figure is not None:
        figure.tight_layout()
    return figure


def dataset_axes(n: int, width: float = 5.5, height: float = 4.0, **kwargs):
    """A figure with one column of axes per dataset."""
    figure = Figure(figsize=(width * n, height))
    axes = figure.subplots(1, n, squeeze=False, **kwargs)[0]
    return figure, list(axes)
