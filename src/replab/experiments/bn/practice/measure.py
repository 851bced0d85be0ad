"""bn-practice's measurements: each architecture without and with BN trained over the rate grid, one population per
network, dataset and architecture, with rates to be chosen on a held-out validation split."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab import cluster
from replab.data.mnist import Digits
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.config import DATASET_LABELS
from replab.experiments.bn.practice.config import Config
from replab.experiments.bn.study import LABELS, MODELS
from replab.nn.conv import ARCHITECTURE_LABELS, ReluNet, forward
from replab.nn.losses import accuracy as nn_accuracy
from replab.nn.losses import softmax_cross_entropy
from replab.nn.optim import SGD
from replab.nn.train import fit

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
        return f"{DATASET_LABELS[self.dataset]}: {ARCHITECTURE_LABELS[self.architecture]}"


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
        return softmax_cross_entropy(forward(net, xb, training=True), yb)

    @tf.function
    def validation_accuracy():
        return nn_accuracy(forward(net, x_eval, training=False), y_eval)

    history = fit(loss_fn, params, SGD(params, np.repeat(np.asarray(rates, np.float32), n)), digits.x_train,
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
