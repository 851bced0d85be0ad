import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import Digits
from replab.errors import ConfigError
from replab.experiments.bn import bn_regularization as reg
from replab.experiments import load
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward
from tests.helpers import VERDICT_WORDS, paired_t_verdict


@pytest.fixture(scope="module")
def quick():
    config = reg.Config.quick()
    return config, reg.run(config)


def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, result = quick
    assert set(result.figures) == {"gap", "noise", "batch_size", "curves"}
    assert [c.id for c in result.claims] == ["bn-narrows-gap", "bn-replaces-dropout", "bn-matches-dropout",
                                             "smaller-batches-noisier", "small-batch-bn-regularizes-more"]
    assert [t.title for t in result.tables] == ["Train/test gap on MNIST", "Batch noise of the BN network on MNIST",
                                                "Mini-batch size on MNIST"]
    (section,) = result.metrics["datasets"]
    records = len(section["steps"])
    assert section["steps"][-1] == config.steps and records == config.steps // config.record_every
    for model in reg.MODELS:
        rates = section["models"][model]["dropout"]
        assert len(rates) == len(config.dropout_rates)
        for scores in rates:
            assert np.asarray(scores["test_curves"]).shape == (config.n_seeds, records)
            assert np.asarray(scores["train_curves"]).shape == (config.n_seeds, records)
            np.testing.assert_allclose(scores["gap"], np.subtract(scores["train_accuracy"], scores["test_accuracy"]))
    assert max(section["models"]["batch"]["dropout"][0]["test_accuracy"]) > 0.5  # BN learns within 300 steps
    assert [b["batch_size"] for b in section["batch_sizes"]] == list(config.batch_sizes)
    assert set(section["noise"]) == {str(m) for m in config.noise_batch_sizes}
    assert {"mnist/batch/dropout0", "mnist/none/dropout0.5", "mnist/batch/noise"} <= set(result.scalars)
    assert load("bn-regularization") is reg


def test_equal_examples_seen_at_every_batch_size(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    for batch in section["batch_sizes"]:
        m = batch["batch_size"]
        assert batch["steps"] * m == config.steps * config.batch_size
        assert batch["learning_rate"] == pytest.approx(config.learning_rate * m / config.batch_size)
        assert batch["record_steps"][-1] == batch["steps"]
    same = section["batch_sizes"][config.batch_sizes.index(config.batch_size)]
    assert same["batch"]["test_accuracy"] == section["models"]["batch"]["dropout"][0]["test_accuracy"]


# --- the verdicts, re-derived from the recorded numbers with plain numpy -------------------------------------------


def verdict_word(verdict):
    return VERDICT_WORDS[verdict]


def matched_narrowing(base, bn):
    """Gap without BN − gap with BN where both training curves first reach the highest level both reach."""
    out = []
    for seed in range(len(base["train_curves"])):
        level = min(np.max(base["train_curves"][seed]), np.max(bn["train_curves"][seed]))
        gaps = []
        for scores in (base, bn):
            train, test = np.asarray(scores["train_curves"][seed]), np.asarray(scores["test_curves"][seed])
            i = np.nonzero(train >= level)[0][0]
            if i == 0 or train[i] == train[i - 1]:
                at_level = test[i]
            else:
                at_level = np.interp(level, train[i - 1:i + 1], test[i - 1:i + 1])
            gaps.append(level - at_level)
        out.append(gaps[0] - gaps[1])
    return np.array(out)


def expected_verdicts(config, section):
    models = section["models"]
    gap = paired_t_verdict(matched_narrowing(models["none"]["dropout"][0], models["batch"]["dropout"][0]))

    def best(model, nonzero):
        means = [np.mean(r["test_accuracy"]) for r in models[model]["dropout"]]
        return (1 + int(np.argmax(means[1:]))) if nonzero else int(np.argmax(means))

    def gain(model):
        rates = models[model]["dropout"]
        return paired_t_verdict(np.subtract(rates[best(model, True)]["test_accuracy"], rates[0]["test_accuracy"]))

    if gain("none") is not True:
        dropout = None
    else:
        dropout = gain("batch") is not True or best("batch", False) < best("none", False)

    matches = paired_t_verdict(np.subtract(models["batch"]["dropout"][0]["test_accuracy"],
                                         models["none"]["dropout"][best("none", False)]["test_accuracy"]))

    noise = np.array([section["noise"][str(m)]["logit_std"] for m in config.noise_batch_sizes])
    if (np.diff(noise, axis=0) < 0).all():
        noisier = True
    else:
        noisier = None if (np.diff(noise.mean(axis=1)) < 0).all() else False

    small, large = section["batch_sizes"][0], section["batch_sizes"][-1]
    batch = paired_t_verdict(matched_narrowing(small["none"], small["batch"])
                           - matched_narrowing(large["none"], large["batch"]))
    return {"bn-narrows-gap": verdict_word(gap), "bn-replaces-dropout": verdict_word(dropout),
            "bn-matches-dropout": verdict_word(matches), "smaller-batches-noisier": verdict_word(noisier),
            "small-batch-bn-regularizes-more": verdict_word(batch)}


def test_verdicts_follow_from_the_measurements(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    assert {c.id: c.verdict for c in result.claims} == expected_verdicts(config, section)
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


def test_batch_noise_shrinks_with_the_mini_batch_in_the_quick_run(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    noise = np.array([section["noise"][str(m)]["logit_std"] for m in config.noise_batch_sizes])
    assert (noise > 0).all()
    # The batch mean's standard error falls like 1/√m; the logits' spread follows it closely.
    slope = np.polyfit(np.log(config.noise_batch_sizes), np.log(noise.mean(axis=1)), 1)[0]
    assert -0.8 < slope < -0.3


# --- the pieces -----------------------------------------------------------------------------------------------------


def toy_digits(n=480, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 784)) < 0.2).astype(np.float32)
    y = rng.integers(0, 10, n)
    return Digits(x, y, x[:20], y[:20], "random", "mnist")


def test_only_the_bn_network_output_depends_on_its_mini_batch():
    config = dataclasses.replace(reg.Config.quick(), noise_pool=480, noise_draws=3)
    net = NormalizedMLP(config.layer_sizes, [Member("none"), Member("batch")], [0, 0])
    digits = toy_digits()
    plain = reg.batch_noise(net, [0], digits, [4], config)[4]
    noise = reg.batch_noise(net, [1], digits, (4, 15, 60), config)
    normalised = {m: noise[m]["logit_std"][0] for m in (4, 15, 60)}
    assert plain["logit_std"][0] < 1e-5 and plain["flip_rate"][0] == 0
    assert normalised[4] > normalised[15] > normalised[60] > 1e-3


def test_batch_logits_normalise_each_mini_batch_separately():
    net = NormalizedMLP([784, 8, 8, 10], [Member("batch"), Member("none")], [1, 2])
    batches = toy_digits().x_train[:12].reshape(3, 4, 784)
    got = reg.batch_logits_function(net)(tf.constant(batches)).numpy()  # (G, K, m, C)
    for g in range(3):
        expected = forward(net, tf.constant(batches[g]), training=True, update_averages=False, stochastic=False)[0]
        np.testing.assert_allclose(got[g], expected.numpy(), rtol=1e-5, atol=1e-5)


def test_subpopulation_copies_the_chosen_members_weights_and_averages():
    net = NormalizedMLP([784, 8, 8, 10], [Member("none"), Member("batch"), Member("batch")], [3, 4, 5])
    for mean in net.moving_means:
        mean.assign(tf.random.stateless_normal(mean.shape, seed=[0, 1]))
    sub = reg.subpopulation(net, [2, 1])
    x = tf.constant(toy_digits().x_train[:16])
    full = forward(net, x, training=False)[0].numpy()
    np.testing.assert_allclose(forward(sub, x, training=False)[0].numpy(), full[[2, 1]], rtol=1e-6, atol=1e-6)


def test_noise_statistics_on_known_logits():
    # 4 draws, 2 examples, 1 member, 3 classes. Example 0 never changes; example 1's class 0 logit moves.
    logits = np.zeros((4, 2, 1, 3), np.float32)
    logits[:, 0, 0] = [3.0, 0.0, 0.0]
    logits[:, 1, 0, 0] = [2.0, 2.0, 2.0, -2.0]
    stats = reg.noise_statistics(logits)
    std = np.std([2.0, 2.0, 2.0, -2.0], ddof=1)
    assert stats["logit_std"][0] == pytest.approx((0 + std / 3) / 2)
    assert stats["flip_rate"][0] == pytest.approx(1 / 8)  # example 1 leaves its usual class 0 in one draw of four
    p = np.exp([2.0, 2.0, 2.0, -2.0]) / (np.exp([2.0, 2.0, 2.0, -2.0]) + 2)
    assert stats["probability_std"][0] == pytest.approx(np.std(p, ddof=1) / 2, rel=1e-5)


def test_test_accuracy_at_a_training_level_interpolates_the_first_crossing():
    train, test = [0.5, 0.8, 1.0, 0.9, 1.0], [0.4, 0.7, 0.8, 0.75, 0.85]
    assert reg.accuracy_at_training_level(train, test, 0.9) == pytest.approx(0.75)
    assert reg.accuracy_at_training_level(train, test, 1.0) == pytest.approx(0.8)
    assert reg.accuracy_at_training_level(train, test, 0.3) == pytest.approx(0.4)


def test_batch_plans_see_the_same_examples_with_or_without_a_scaled_rate():
    config = reg.Config()
    assert reg.batch_plan(config, 15) == (12_000, pytest.approx(0.125), 400)
    assert reg.batch_plan(config, 240) == (750, pytest.approx(2.0), 25)
    unscaled = dataclasses.replace(config, scale_learning_rate=False)
    assert reg.batch_plan(unscaled, 240)[:2] == (750, config.learning_rate)


def test_settings_are_validated_with_one_sentence():
    config = reg.Config()
    assert config.steps * config.batch_size % 15 == 0 and config.noise_pool % 240 == 0
    for bad in ({"dropout_rates": (0.2, 0.5)}, {"dropout_rates": (0.0, 1.0)}, {"dropout_rates": (0.0,)},
                {"batch_sizes": (15, 240)}, {"batch_sizes": (60, 7)}, {"steps": 3001},
                {"noise_batch_sizes": (4,)}, {"noise_pool": 2000}, {"noise_draws": 1}, {"max_train": 50}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(config, **bad)
        assert "\n" not in str(error.value) and str(error.value).count(". ") == 0
