import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import load_digits
from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.base import apply_overrides, compose
from replab.experiments.bn import batchnorm


@pytest.fixture(scope="module")
def quick():
    config = batchnorm.Config.quick()
    measurements = batchnorm.measure(config)
    result = compose(config, measurements, batchnorm.judge(config, measurements), batchnorm.present(config, measurements))
    return config, measurements, result


def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, m, result = quick
    assert set(result.figures) == {"test_accuracy", "sigmoid_input"} == set(result.captions)
    assert [c.id for c in result.claims] == ["bn-higher-accuracy", "bn-faster", "bn-stable-inputs"]
    assert all(c.kind == "finding" and c.verdict in ("holds", "fails", "inconclusive") for c in result.claims)
    assert [t.title for t in result.tables] == ["Test accuracy against Figure 1(a)",
                                                "Steps to 95% of the lower final plateau",
                                                "Drift of the sigmoid's input over training"]
    assert len(result.scalars) == 2 * config.n_seeds
    assert "accuracy/test" in result.scalars["bn/seed0"]
    metrics = result.metrics
    assert metrics["steps"][-1] == config.steps and len(metrics["steps"]) == config.steps // config.record_every
    assert metrics["n_train"] + metrics["n_test"] > 0 and metrics["source"] in result.notes[0]
    for model in batchnorm.MODELS:
        curves = np.asarray(metrics["accuracy"][model])
        assert curves.shape == (config.n_seeds, len(metrics["steps"]))
        assert np.all((curves > 0.5) & (curves <= 1))  # both networks learn
        assert np.asarray(metrics["sigmoid_input"][model]).shape == (config.n_seeds, len(metrics["steps"]), 3)
        assert np.asarray(metrics["drift"][model]["median"]).shape == (config.n_seeds, config.hidden[-1])
    assert m.sigmoid_input.shape == (2, config.n_seeds, len(metrics["steps"]), 3, config.hidden[-1])
    # Algorithm 2's statistics give a working network too.
    assert min(metrics["final_accuracy_population_stats"]) > 0.5
    assert load("batchnorm") is batchnorm


def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.seeds == config.n_seeds and c.base.datasets == ("MNIST",)
               for c in result.claims)


def test_run_composes_measure_judge_present():
    config = dataclasses.replace(batchnorm.Config.quick(), steps=40, record_every=20, probe_size=20,
                                 population_batches=2, n_seeds=2)
    result = batchnorm.run(config)
    assert result.quick and [c.id for c in result.claims] == ["bn-higher-accuracy", "bn-faster", "bn-stable-inputs"]


def test_claims_are_paired_tests_of_the_recorded_numbers(quick):
    """Each finding's effect, re-derived from result.json's metrics with plain numpy."""
    config, _, result = quick
    metrics = result.metrics
    steps = np.asarray(metrics["steps"])
    acc = {m: np.asarray(metrics["accuracy"][m]) for m in batchnorm.MODELS}
    claims = {c.id: c for c in result.claims}

    difference = acc["bn"][:, -1] - acc["baseline"][:, -1]
    assert claims["bn-higher-accuracy"].tests[0].effect == pytest.approx(difference.mean())
    assert claims["bn-higher-accuracy"].direction == "greater"

    count = max(1, round(0.1 * len(steps)))
    target = 0.95 * np.minimum(acc["baseline"][:, -count:].mean(axis=1), acc["bn"][:, -count:].mean(axis=1))
    reach = {m: np.array([steps[np.nonzero(acc[m][s] >= target[s])[0][0]] for s in range(config.n_seeds)])
             for m in batchnorm.MODELS}
    faster = claims["bn-faster"].tests[0]
    assert faster.effect == pytest.approx(np.log(reach["baseline"] / reach["bn"]).mean())
    assert claims["bn-faster"].direction == "greater"

    drift = {m: (np.median(np.asarray(metrics["drift"][m]["median"]), axis=1),
                 np.median(np.asarray(metrics["drift"][m]["spread"]), axis=1)) for m in batchnorm.MODELS}
    median_test, spread_test = claims["bn-stable-inputs"].tests
    assert median_test.effect == pytest.approx((drift["bn"][0] - drift["baseline"][0]).mean())
    assert spread_test.effect == pytest.approx((drift["bn"][1] - drift["baseline"][1]).mean())
    assert claims["bn-stable-inputs"].direction == "less"
    # The probed unit's recorded percentiles give its drift too.
    probe = np.asarray(metrics["sigmoid_input"]["bn"])[:, :, 1]
    np.testing.assert_allclose(np.ptp(probe, axis=1), np.asarray(metrics["drift"]["bn"]["median"])[:, config.probe_unit])
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)
        assert all(t.n == config.n_seeds and math.isfinite(t.p_two_sided) for t in claim.tests)


def test_judge_is_pure(quick):
    config, m, result = quick
    assert [c.verdict for c in batchnorm.judge(config, m)] == [c.verdict for c in result.claims]


def test_baseline_and_bn_members_see_the_same_batches_and_start_from_the_same_weights():
    # With BN switched off for every member, member s and member n + s are the same network trained on
    # the same batches: their curves must coincide exactly, which they can only do if the batches agree.
    config = dataclasses.replace(batchnorm.Config.quick(), steps=120, record_every=40, probe_size=50,
                                 population_batches=2)
    digits = load_digits("mnist", seed=0, binarize=True)
    training = batchnorm.train(config, digits, bn_members=False)
    n = config.n_seeds
    np.testing.assert_array_equal(training.loss[:, :n], training.loss[:, n:])
    np.testing.assert_array_equal(training.accuracy[:, :n], training.accuracy[:, n:])
    assert not np.array_equal(training.loss[:, 0], training.loss[:, 1])  # different seeds differ


def test_each_seed_has_its_own_batch_order_shared_by_its_two_networks():
    config = dataclasses.replace(batchnorm.Config.quick(), n_seeds=3)
    orders = batchnorm.batch_orders(config, 500)
    n = config.n_seeds
    assert orders.shape == (2 * n, 500)
    np.testing.assert_array_equal(orders[:n], orders[n:])
    assert all(sorted(row) == list(range(500)) for row in orders)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    np.testing.assert_array_equal(orders, batchnorm.batch_orders(config, 500))  # seeded
    other = batchnorm.batch_orders(dataclasses.replace(config, seed=1), 500)
    assert not np.array_equal(orders[0], other[0])


def test_the_network_is_the_studies_normalized_mlp():
    from replab.nn.normalized_mlp import NormalizedMLP

    config = dataclasses.replace(batchnorm.Config.quick(), n_seeds=2)
    net = batchnorm.build_network(config)
    assert isinstance(net, NormalizedMLP)
    assert [m.norm for m in net.members] == ["none", "none", "batch", "batch"]
    w0 = net.layers[0][0].numpy()
    np.testing.assert_array_equal(w0[0], w0[2])  # seed s of both models: the same initial weights
    assert abs(w0[0].std() - config.weight_std) < 0.01


def test_batch_statistics_are_the_moments_of_each_layers_input():
    config = dataclasses.replace(batchnorm.Config.quick(), n_seeds=1, hidden=(5, 4))
    net = batchnorm.build_network(config)
    x = tf.constant(np.random.default_rng(0).random((30, 784)).astype(np.float32))
    (mean, variance), _ = batchnorm.batch_statistics(net, x)
    z = np.einsum("bi,kio->kbo", x.numpy(), net.layers[0][0].numpy())
    np.testing.assert_allclose(mean.numpy()[:, 0], z.mean(axis=1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(variance.numpy()[:, 0], z.var(axis=1), rtol=1e-4, atol=1e-5)


def test_percentiles_match_numpy():
    values = np.random.default_rng(0).normal(size=(2, 37, 4)).astype(np.float32)
    got = batchnorm.percentiles(tf.constant(values)).numpy()  # (K, 3, F)
    expected = np.percentile(values, [15, 50, 85], axis=1).transpose(1, 0, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_settings_parse_and_bad_values_are_refused_with_one_sentence():
    config = apply_overrides(batchnorm.Config(), {"dataset": "fashion-mnist", "binarize": "false"})
    assert config.dataset == "fashion-mnist" and config.binarize is False
    with pytest.raises(ConfigError, match="dataset"):
        apply_overrides(batchnorm.Config(), {"dataset": "cifar"})
    for bad in ({"steps": 0}, {"record_every": 100_000}, {"learning_rate": -1.0}, {"probe_unit": 100},
                {"weight_std": 0.0}, {"n_seeds": 0}, {"batch_size": 1}, {"bn_momentum": 1.0},
                {"steps": 10_000_000}, {"n_seeds": 1000}, {"hidden": (100_000,)}, {"batch_size": 1_000_000},
                {"probe_size": 1_000_000}, {"weight_std": float("nan")}, {"learning_rate": float("inf")},
                {"bn_epsilon": float("nan")}, {"record_every": 1}, {"seed": -1}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(batchnorm.Config(), **bad)
        assert str(error.value).count(".") <= 2 and "\n" not in str(error.value)


def test_quick_config_is_marked_and_replays_from_its_dict():
    from replab.experiments.base import config_to_dict

    config = batchnorm.Config.quick()
    assert config.quick and not batchnorm.Config().quick
    assert batchnorm.Config.from_dict(config_to_dict(config)) == config
