"""Figure 1's population: every cell (learning rate × initial std) × {baseline, BN} × seed in one compiled graph.

Member index = ((cell · 2) + model) · n_seeds + seed (``nn.population.Grid`` over (rate, std, model) cells). Seed s
of every cell and of both networks starts from the same unit-Gaussian draw (scaled by the cell's std), trains on
the same examples of its own split in the same order, and is scored on the same test examples: every comparison
is paired by seed, and seeds differ in data split, batch order and initial weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from replab.data.mnist import Digits
from replab.experiments.bn.figure1.config import KINDS, MODELS, PERCENTILES, Config
from replab.experiments.bn.figure1.data import Splits, seed_splits
from replab.nn.layers import dense
from replab.nn.losses import accuracy as nn_accuracy
from replab.nn.losses import softmax_cross_entropy
from replab.nn.normalized_mlp import Member, NormalizedMLP, Options, effective_weight, forward, normalize_layer
from replab.nn.norms import moments, unbiased
from replab.nn.optim import SGD
from replab.nn.population import Grid
from replab.nn.train import fit

EVAL_CHUNK = 500


def grid(config: Config) -> Grid:
    """(rate, std, model) cells × seeds: member ((c · 2) + m) · n_seeds + s."""
    return Grid.of([(rate, std, model) for rate, std in config.cells for model in MODELS], config.n_seeds,
                   config.seed)


def build_network(config: Config, bn_members: bool = True) -> NormalizedMLP:
    """The population on the BN study's network; with bn_members=False every member is a baseline (a seed's two
    networks of a cell are then the same network)."""
    g = grid(config)
    members = [Member(norm=KINDS[model] if bn_members else "none", weight_std=std) for _, std, model in g.members()]
    return NormalizedMLP(config.layer_sizes, members, g.member_seeds(),
                         Options(momentum=config.bn_momentum, epsilon=config.bn_epsilon))


def member_rates(config: Config) -> np.ndarray:
    """(K,) float32: every member's learning rate."""
    return np.array([rate for rate, _, _ in grid(config).members()], np.float32)


def member_rows(config: Config, per_seed: np.ndarray) -> np.ndarray:
    """(S, n) per-seed rows -> (K, n): member k gets its seed's row."""
    return np.asarray(per_seed)[np.tile(np.arange(config.n_seeds), len(grid(config).cells))]


def batch_orders(config: Config, splits: Splits) -> np.ndarray:
    """(K, n_train) int32: member k reads the pool through its seed's training indices, in its seed's order."""
    return member_rows(config, splits.train).astype(np.int32)


def last_sigmoid_input(net: NormalizedMLP, x, training: bool = True):
    """The input to the last hidden layer's sigmoids (K, B, F). Training mode (the default) normalises BN members
    with the batch's own statistics, as in every training step, without touching the moving averages."""
    return forward(net, x, training=training, update_averages=False)[1][-1]


def batch_statistics(net: NormalizedMLP, x):
    """Per hidden layer, the (mean, biased variance) of BN's input Wu over batch x in a training-mode pass,
    without touching the moving averages."""
    statistics, h = [], x
    for layer in range(net.hidden_count):
        z = dense(h, effective_weight(net, layer))
        statistics.append(moments(z))
        h = tf.sigmoid(normalize_layer(net, layer, z, True, None, False))
    return statistics


def percentiles(values, qs=PERCENTILES, axis=1):
    """numpy's default ('linear') percentiles along `axis`, in TensorFlow; stacked on a new axis 1."""
    n = int(values.shape[axis])
    ordered = tf.sort(values, axis=axis)
    out = []
    for q in qs:
        position = q / 100.0 * (n - 1)
        low, high = int(np.floor(position)), int(np.ceil(position))
        fraction = position - low
        below, above = tf.gather(ordered, low, axis=axis), tf.gather(ordered, high, axis=axis)
        out.append(below + fraction * (above - below))
    return tf.stack(out, axis=1)


@dataclass
class Training:
    """One dataset's population, as numpy; the member axis is last."""

    steps: np.ndarray              # (R,) starting at 0 (before the first update)
    loss: np.ndarray               # (R, K) training mini-batch loss (NaN at step 0)
    accuracy: np.ndarray           # (R, K) accuracy on eval_size test examples, BN with moving averages
    sigmoid_input: np.ndarray      # (R, K, 3, F) 15/50/85th percentiles over the probe batch, training mode
    test_accuracy: np.ndarray      # (K,) the whole test set, at the end
    validation_accuracy: np.ndarray  # (K,) the seed's validation split, at the end
    population_accuracy: np.ndarray  # (K,) test set, BN members with Algorithm 2's statistics
    diverged_at: np.ndarray        # (K,)
    steps_per_second: float
    train_seconds: float
    compile_seconds: float
    population_batches: int
    splits: Splits
    record_times: np.ndarray       # (R,) wall time (seconds since the epoch) of each record, for TensorBoard


def evaluate(net: NormalizedMLP, pool, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(K,) accuracy of each member on its own examples `rows` (K, n) of the pool, inference mode, in chunks."""

    @tf.function
    def hits(index, y):
        logits = forward(net, tf.gather(pool, index), training=False)[0]
        return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int64), y), tf.float32), axis=1)

    total = np.zeros(net.population)
    for start in range(0, rows.shape[1], EVAL_CHUNK):
        index = rows[:, start:start + EVAL_CHUNK]
        total += hits(tf.constant(index), tf.constant(labels[index])).numpy()
    return total / rows.shape[1]


def train(config: Config, digits: Digits, bn_members: bool = True) -> Training:
    splits = seed_splits(config, digits)
    net = build_network(config, bn_members)
    params = net.params
    pool = tf.constant(splits.images)
    orders = batch_orders(config, splits)
    labels = splits.labels[orders]
    test_rows = member_rows(config, splits.test)
    eval_rows = test_rows[:, : min(config.eval_size, test_rows.shape[1])]
    eval_index, eval_labels = tf.constant(eval_rows), tf.constant(splits.labels[eval_rows])
    probe_index = tf.constant(test_rows[:, : config.probe_size])

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, tf.gather(pool, xb), training=True)  # xb (K, B): pool indices per member
        return softmax_cross_entropy(logits, yb)

    @tf.function(jit_compile=True)
    def test_accuracy():
        return nn_accuracy(forward(net, tf.gather(pool, eval_index), training=False)[0], eval_labels)

    @tf.function(jit_compile=True)
    def sigmoid_input():
        return percentiles(last_sigmoid_input(net, tf.gather(pool, probe_index)))

    start = {"accuracy": test_accuracy().numpy(), "sigmoid_input": sigmoid_input().numpy()}  # step 0
    started = time.time()
    history = fit(loss_fn, params, SGD(params, member_rates(config)), orders, labels, steps=config.steps,
                     batch_size=config.batch_size, record_every=config.record_every, per_member_data=True,
                     metrics={"accuracy": test_accuracy, "sigmoid_input": sigmoid_input}, seed=config.seed)
    with_start = {name: np.concatenate([start[name][None], history.metrics[name]]) for name in start}
    loss = np.concatenate([np.full((1, net.population), np.nan), history.loss])
    test = evaluate(net, pool, splits.labels, test_rows)
    validation = evaluate(net, pool, splits.labels, member_rows(config, splits.validation))
    batches, population = population_accuracy(config, net, pool, splits, orders, test_rows)
    return Training(np.concatenate([[0], history.steps]).astype(np.int64), loss, with_start["accuracy"],
                    with_start["sigmoid_input"], test, validation, population, history.diverged_at,
                    history.steps_per_second, history.wall_time - history.compile_time, history.compile_time,
                    batches, splits, np.concatenate([[started], history.record_times]))


def population_accuracy(config: Config, net: NormalizedMLP, pool, splits: Splits, orders: np.ndarray,
                        test_rows: np.ndarray) -> tuple[int, np.ndarray]:
    """Algorithm 2 after training: average the batch statistics of M mini-batches of each member's own training
    examples, with the m/(m−1) correction of the variance, and score the test set with them in place of the moving
    averages (restored afterwards). Returns (M, accuracy per member)."""
    m = config.batch_size
    count = min(config.population_batches, orders.shape[1] // m)
    batches = tf.constant(np.transpose(orders[:, : count * m].reshape(net.population, count, m), (1, 0, 2)))
    signature = [(tf.TensorSpec([net.population, 1, w], tf.float32),) * 2 for w in config.hidden]
    stacked = tf.function(lambda: tf.map_fn(lambda index: batch_statistics(net, tf.gather(pool, index)), batches,
                                            fn_output_signature=signature))()
    saved = [(mean.numpy(), variance.numpy()) for mean, variance in zip(net.moving_means, net.moving_variances)]
    for layer, (means, variances) in enumerate(stacked):
        net.moving_means[layer].assign(tf.reduce_mean(means, axis=0))
        net.moving_variances[layer].assign(unbiased(tf.reduce_mean(variances, axis=0), m))
    accuracy = evaluate(net, pool, splits.labels, test_rows)
    for layer, (mean, variance) in enumerate(saved):
        net.moving_means[layer].assign(mean)
        net.moving_variances[layer].assign(variance)
    return count, accuracy


def per_cell(config: Config, values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Member axis `axis` -> three leading axes (cell, model, seed)."""
    cells = grid(config).per_cell(np.moveaxis(np.asarray(values), axis, -1))  # (..., C·2, S)
    cells = cells.reshape(*cells.shape[:-2], len(config.cells), len(MODELS), config.n_seeds)
    return np.moveaxis(cells, (-3, -2, -1), (0, 1, 2))
