import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from replab.experiments.bn.figure1.config import KINDS, Config
from replab.experiments.bn.figure1.train import (
    batch_statistics,
    build_network,
    grid,
    last_sigmoid_input,
    member_rates,
    percentiles,
)
from replab.experiments.bn.figure1.train import train as batchnorm_train
from tests.experiments.bn.figure1.test_data import fake_digits


def tiny(**changes):
    """One cell, two seeds, a few steps: for tests of the design, not of the science."""
    settings = dict(datasets=("mnist",), learning_rates=(0.5,), weight_stds=(0.1,), paper_learning_rate=0.5,
                    paper_weight_std=0.1, steps=40, record_every=20, n_seeds=2, eval_size=50, probe_size=20,
                    population_batches=2, quick=True)
    return Config(**{**settings, **changes})


@pytest.mark.slow
def test_a_seeds_networks_see_the_same_batches_and_start_from_the_same_weights():
    # With BN off for every member, a seed's two networks of a cell are the same network on the same batches:
    # their curves coincide exactly, which they can only do if the batches agree; seeds differ.
    config = tiny()
    training = batchnorm_train(config, fake_digits(), bn_members=False)
    n = config.n_seeds
    np.testing.assert_array_equal(training.loss[1:, :n], training.loss[1:, n:])
    np.testing.assert_array_equal(training.accuracy[:, :n], training.accuracy[:, n:])
    assert not np.array_equal(training.loss[1:, 0], training.loss[1:, 1])
    assert np.isnan(training.loss[0]).all() and training.steps[0] == 0


def test_the_population_lays_out_cells_models_and_seeds():
    from replab.nn.normalized_mlp import NormalizedMLP

    config = dataclasses.replace(Config.quick(), n_seeds=2)
    net = build_network(config)
    assert isinstance(net, NormalizedMLP) and net.population == config.population
    members = grid(config).members()
    assert [m.norm for m in net.members] == [KINDS[model] for _, _, model in members]
    np.testing.assert_array_equal(member_rates(config), np.float32([rate for rate, _, _ in members]))
    w0 = net.layers[0][0].numpy()
    stds = np.array([std for _, std, _ in members])
    unit = w0 / stds[:, None, None]
    for k in range(net.population):  # seed s of every cell and model: the same unit draw, scaled by the cell's std
        np.testing.assert_allclose(unit[k], unit[k % config.n_seeds], rtol=1e-5)
    assert not np.allclose(unit[0], unit[1])
    assert abs(w0[-1].std() - stds[-1]) < 0.01


def test_the_probe_is_taken_in_training_mode():
    config = tiny()
    net = build_network(config)
    x = tf.constant(np.random.default_rng(0).random((200, 784)).astype(np.float32))
    z = last_sigmoid_input(net, x).numpy()  # BN members: the probe batch's own statistics (γ 1, β 0)
    bn = [k for k, m in enumerate(net.members) if m.norm == "batch"]
    np.testing.assert_allclose(z[bn].mean(axis=1), 0, atol=1e-4)
    std = z[bn].std(axis=1)  # 1 up to ε: var / (var + ε) for the layer's small input variance
    assert np.all((std > 0.9) & (std < 1 + 1e-4))
    inference = last_sigmoid_input(net, x, training=False).numpy()
    assert not np.allclose(inference[bn], z[bn])  # the moving averages (0, 1) would give another distribution


def test_batch_statistics_are_the_moments_of_each_layers_input():
    config = tiny(hidden=(5, 4), n_seeds=1)
    net = build_network(config)
    x = tf.constant(np.random.default_rng(0).random((30, 784)).astype(np.float32))
    (mean, variance), _ = batch_statistics(net, x)
    z = np.einsum("bi,kio->kbo", x.numpy(), net.layers[0][0].numpy())
    np.testing.assert_allclose(mean.numpy()[:, 0], z.mean(axis=1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(variance.numpy()[:, 0], z.var(axis=1), rtol=1e-4, atol=1e-5)


def test_percentiles_match_numpy():
    values = np.random.default_rng(0).normal(size=(2, 37, 4)).astype(np.float32)
    got = percentiles(tf.constant(values)).numpy()  # (K, 3, F)
    np.testing.assert_allclose(got, np.percentile(values, [15, 50, 85], axis=1).transpose(1, 0, 2), rtol=1e-5,
                               atol=1e-6)
