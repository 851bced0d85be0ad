import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import Digits
from replab.experiments.bn import study as bnstudy
from replab.experiments.bn.regularization.config import Config
from replab.experiments.bn.regularization.measure import (
    Scores,
    accuracy_at_training_level,
    batch_logits_function,
    batch_noise,
    batch_plan,
    batch_size_run,
    matched_gaps,
    noise_statistics,
    subpopulation,
)
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

# --- the pieces -----------------------------------------------------------------------------------------------------


def toy_digits(n=480, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 784)) < 0.2).astype(np.float32)
    y = rng.integers(0, 10, n)
    return Digits(x, y, x[:20], y[:20], "random", "mnist")


@pytest.mark.slow
def test_only_the_bn_network_output_depends_on_its_mini_batch():
    config = dataclasses.replace(Config.quick(), noise_pool=480, noise_draws=3)
    net = NormalizedMLP(config.layer_sizes, [Member("none"), Member("batch")], [0, 0])
    digits = toy_digits()
    plain = batch_noise(net, [0], digits, [4], config)[4]
    noise = batch_noise(net, [1], digits, (4, 15, 60), config)
    normalised = {m: noise[m].logit_std[0] for m in (4, 15, 60)}
    assert plain.logit_std[0] < 1e-5 and plain.flip_rate[0] == 0
    assert normalised[4] > normalised[15] > normalised[60] > 1e-3


@pytest.mark.slow
def test_batch_logits_normalise_each_mini_batch_separately():
    net = NormalizedMLP([784, 8, 8, 10], [Member("batch"), Member("none")], [1, 2])
    batches = toy_digits().x_train[:12].reshape(3, 4, 784)
    got = batch_logits_function(net)(tf.constant(batches)).numpy()  # (G, K, m, C)
    for g in range(3):
        expected = forward(net, tf.constant(batches[g]), training=True, update_averages=False, stochastic=False)[0]
        np.testing.assert_allclose(got[g], expected.numpy(), rtol=1e-5, atol=1e-5)


def test_subpopulation_copies_the_chosen_members_weights_and_averages():
    net = NormalizedMLP([784, 8, 8, 10], [Member("none"), Member("batch"), Member("batch")], [3, 4, 5])
    for mean in net.moving_means:
        mean.assign(tf.random.stateless_normal(mean.shape, seed=[0, 1]))
    sub = subpopulation(net, [2, 1])
    x = tf.constant(toy_digits().x_train[:16])
    full = forward(net, x, training=False)[0].numpy()
    np.testing.assert_allclose(forward(sub, x, training=False)[0].numpy(), full[[2, 1]], rtol=1e-6, atol=1e-6)


def test_noise_statistics_on_known_logits():
    # 4 draws, 2 examples, 1 member, 3 classes. Example 0 never changes; example 1's class 0 logit moves.
    logits = np.zeros((4, 2, 1, 3), np.float32)
    logits[:, 0, 0] = [3.0, 0.0, 0.0]
    logits[:, 1, 0, 0] = [2.0, 2.0, 2.0, -2.0]
    noise = noise_statistics(logits)
    std = np.std([2.0, 2.0, 2.0, -2.0], ddof=1)
    assert noise.logit_std[0] == pytest.approx((0 + std / 3) / 2)
    assert noise.flip_rate[0] == pytest.approx(1 / 8)  # example 1 leaves its usual class 0 in one draw of four
    p = np.exp([2.0, 2.0, 2.0, -2.0]) / (np.exp([2.0, 2.0, 2.0, -2.0]) + 2)
    assert noise.probability_std[0] == pytest.approx(np.std(p, ddof=1) / 2, rel=1e-5)


def test_test_accuracy_at_a_training_level_interpolates_the_first_crossing():
    train, test = [0.5, 0.8, 1.0, 0.9, 1.0], [0.4, 0.7, 0.8, 0.75, 0.85]
    assert accuracy_at_training_level(train, test, 0.9) == pytest.approx(0.75)
    assert accuracy_at_training_level(train, test, 1.0) == pytest.approx(0.8)
    assert accuracy_at_training_level(train, test, 0.3) == pytest.approx(0.4)


def test_batch_plans_see_the_same_examples_with_or_without_a_scaled_rate():
    config = Config()
    assert batch_plan(config, 15) == (12_000, pytest.approx(0.125), 400)
    assert batch_plan(config, 240) == (750, pytest.approx(2.0), 25)
    unscaled = dataclasses.replace(config, scale_learning_rate=False)
    assert batch_plan(unscaled, 240)[:2] == (750, config.learning_rate)


# --- fair comparisons -----------------------------------------------------------------------------------------------


def test_gaps_are_matched_on_training_loss_even_when_both_networks_reach_full_training_accuracy():
    full = np.ones((1, 4))
    plain = Scores(np.zeros(1), np.ones(1), np.zeros(1), np.zeros(1), 0, np.array([[0.5, 0.7, 0.8, 0.8]]), full,
                       np.array([[1.0, 0.4, 0.2, 0.1]]))
    bn = Scores(np.zeros(1), np.ones(1), np.zeros(1), np.zeros(1), 0, np.array([[0.6, 0.8, 0.85, 0.9]]), full,
                    np.array([[0.8, 0.3, 0.05, 0.01]]))
    matched = matched_gaps(plain, bn)
    # The lowest loss both reach is 0.1 (the baseline's last point); BN reaches it between its records 1 and 2.
    assert matched.level.tolist() == [0.1]
    assert matched.none == pytest.approx([1 - 0.8])
    assert matched.batch == pytest.approx([1 - (0.8 + (0.3 - 0.1) / (0.3 - 0.05) * 0.05)])


def test_a_smaller_batch_records_at_its_own_interval_even_past_the_configs_steps(monkeypatch):
    """At batch 15 a 600-step config trains 2,400 steps and records every 4 × record_every: more than config.steps,
    which must not be mistaken for a bad setting (it once stopped `--profile paper --set steps=600` mid-run)."""
    config = dataclasses.replace(Config(), steps=600, record_every=300, batch_sizes=(15, 60, 240))
    calls = []

    class Stop(Exception):
        pass

    def spy(config, digits, cells, **settings):
        calls.append(settings)
        raise Stop

    monkeypatch.setattr(bnstudy, "train_cells", spy)
    with pytest.raises(Stop):
        batch_size_run(config, None, 15, main=None)
    assert (calls[0]["steps"], calls[0]["record_every"], calls[0]["batch_size"]) == (2400, 1200, 15)
