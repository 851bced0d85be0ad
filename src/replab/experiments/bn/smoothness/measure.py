"""bn-smoothness' measurements: both networks trained seed by seed, and the loss landscape along the gradient on a
fixed probe batch at every checkpoint (the experiment: `replab.experiments.bn.smoothness`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.smoothness.config import Config
from replab.nn.conv import ReluNet, forward
from replab.nn.losses import accuracy as nn_accuracy
from replab.nn.losses import softmax_cross_entropy
from replab.nn.optim import SGD
from replab.nn.train import History, fit

# --- measurements -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetResult:
    """One dataset: (model, seed, checkpoint) arrays, model 0 without BN, 1 with BN."""

    info: study.DatasetInfo
    steps: np.ndarray               # (R,) checkpoints
    loss_variation: np.ndarray      # (2, seeds, R)
    gradient_change: np.ndarray
    beta_smoothness: np.ndarray
    gradient_norm: np.ndarray
    probe_loss: np.ndarray          # (2, seeds, R) loss on the probe batch at θ
    test_accuracy: np.ndarray       # (2, seeds)
    diverged_at: np.ndarray         # (2, seeds)
    record_times: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), metadata=base.WHEN_MEASURED)
    """(2, R) wall time of each checkpoint, per model (each network is its own fit), for TensorBoard."""

    @property
    def dataset(self) -> str:
        return self.info.dataset

    @property
    def label(self) -> str:
        return self.info.label

    def per_seed(self, quantity: str) -> np.ndarray:
        """(2, seeds): log10 of the quantity averaged over the checkpoints."""
        return np.log10(np.maximum(getattr(self, quantity), 1e-30)).mean(axis=-1)


@dataclass(frozen=True)
class Measurements(base.Measurements):
    datasets: tuple[DatasetResult, ...]
    skipped: tuple[str, ...] = ()


def member_norm(tensors) -> tf.Tensor:
    """‖·‖₂ per member over every tensor (member axis first)."""
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(t), axis=list(range(1, len(t.shape)))) for t in tensors]))


def landscape_metric(net: ReluNet, x_probe, y_probe, etas) -> callable:
    """A zero-argument function returning (K, 3·E + 2): per member the loss at θ − ηg for every η, the gradient
    change for every η, ‖Δg‖/‖ηg‖ for every η, the loss at θ and ‖g‖ — all on the probe batch, BN in training mode
    without touching its moving averages."""
    x, y = tf.constant(x_probe), tf.constant(y_probe.astype(np.int64))

    def loss_and_gradient(values):
        with tf.GradientTape() as tape:
            tape.watch(values)
            losses = softmax_cross_entropy(forward(net, x, training=True, params=values, update_averages=False), y)
            total = tf.reduce_sum(losses)
        return losses, tape.gradient(total, values)

    @tf.function
    def landscape():
        here = [tf.identity(p) for p in net.params]
        loss0, grad0 = loss_and_gradient(here)
        norm0 = member_norm(grad0)
        losses, changes, betas = [], [], []
        for eta in etas:
            moved = [p - float(eta) * g for p, g in zip(here, grad0)]
            loss, grad = loss_and_gradient(moved)
            change = member_norm([a - b for a, b in zip(grad, grad0)])
            losses.append(loss)
            changes.append(change)
            betas.append(change / tf.maximum(float(eta) * norm0, 1e-12))
        return tf.stack([*losses, *changes, *betas, loss0, norm0], axis=1)

    return landscape


def measure_dataset(config: Config, digits) -> DatasetResult:
    n, e = config.n_seeds, len(config.eta_factors)
    seeds = [study.member_seed(config, s) for s in range(n)]
    rng = np.random.default_rng([config.seed, 7])
    probe = rng.choice(digits.n_train, size=min(config.probe_size, digits.n_train), replace=False)
    parts, histories = [], []
    for bn in (False, True):
        net = ReluNet("mlp", bn=bn, seeds=seeds, hidden=config.hidden, momentum=config.bn_momentum)
        params = net.params

        def loss_fn(params, xb, yb, step, net=net):
            return softmax_cross_entropy(forward(net, xb, training=True), yb)

        history = fit(loss_fn, params, SGD(params, np.full(n, config.learning_rate, np.float32)),
                      digits.x_train, digits.y_train, steps=config.steps, batch_size=config.batch_size,
                      record_every=config.record_every, seed=config.seed,
                      metrics={"landscape": landscape_metric(net, digits.x_train[probe], digits.y_train[probe],
                                                             config.etas)})
        values = np.moveaxis(history.metrics["landscape"], 0, -1).astype(float)   # (K, 3E+2, R)
        losses, loss0 = values[:, :e], values[:, 3 * e]
        everything = np.concatenate([losses, loss0[:, None]], axis=1)
        accuracy = nn_accuracy(forward(net, tf.constant(digits.x_test), training=False),
                               tf.constant(digits.y_test.astype(np.int64))).numpy()
        parts.append(dict(loss_variation=everything.max(1) - everything.min(1),
                          gradient_change=values[:, e:2 * e].max(1), beta_smoothness=values[:, 2 * e:3 * e].max(1),
                          gradient_norm=values[:, 3 * e + 1], probe_loss=loss0, test_accuracy=accuracy,
                          diverged_at=history.diverged_at))
        histories.append(history)
    stacked = {key: np.stack([p[key] for p in parts]) for key in parts[0]}
    return DatasetResult(study.dataset_info(config, digits, *[_Timed(h) for h in histories]),
                         np.asarray(histories[0].steps), **stacked,
                         record_times=np.stack([h.record_times for h in histories]))


@dataclass
class _Timed:
    """What study.dataset_info reads off a training run."""

    history: History

    @property
    def steps_per_second(self) -> float:
        return float(self.history.steps_per_second)

    @property
    def train_seconds(self) -> float:
        return float(self.history.wall_time - self.history.compile_time)

    @property
    def compile_seconds(self) -> float:
        return float(self.history.compile_time)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    datasets, skipped = study.load_datasets(config)
    out = study.per_dataset(config, datasets, measure_dataset, progress, f"without and with BN × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return Measurements(tuple(out), tuple(skipped))
