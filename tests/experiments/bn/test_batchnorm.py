import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import load_digits
from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import batchnorm
from replab.experiments.base import apply_overrides


@pytest.fixture(scope="module")
def quick():
    config = batchnorm.Config.quick()
    return config, batchnorm.run(config)


def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, result = quick
    assert set(result.figures) == {"test_accuracy", "sigmoid_input"}
    assert [c.id for c in result.claims] == ["bn-higher-accuracy", "bn-faster", "bn-stable-inputs"]
    assert [t.title for t in result.tables] == ["Test accuracy against Figure 1(a)", "Drift of the sigmoid's input over training"]
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
    # Algorithm 2's statistics give a working network too.
    assert min(metrics["final_accuracy_population_stats"]) > 0.5
    assert load("batchnorm") is batchnorm


def expected_verdicts(config, metrics):
    """The three verdicts, re-derived from the recorded curves with plain numpy."""
    steps = np.asarray(metrics["steps"])
    acc = {m: np.asarray(metrics["accuracy"][m]) for m in ("baseline", "bn")}
    diff = acc["bn"][:, -1] - acc["baseline"][:, -1]
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    if diff.mean() <= 0:
        accuracy = "fails"
    else:
        accuracy = "holds" if (diff > 0).all() and diff.mean() > 2 * se else "inconclusive"

    base_mean, bn_mean = acc["baseline"].mean(axis=0), acc["bn"].mean(axis=0)
    target = base_mean[-1]
    bn_hits = np.nonzero(bn_mean >= target)[0]
    if len(bn_hits) == 0:
        faster = "fails"
    else:
        n_times = steps[np.nonzero(base_mean >= target)[0][0]] / steps[bn_hits[0]]
        faster = "holds" if n_times > 1 else "fails"

    drifts = {}
    for m in ("baseline", "bn"):
        p = np.asarray(metrics["sigmoid_input"][m])  # (seeds, R, 3)
        median, spread = p[:, :, 1], p[:, :, 2] - p[:, :, 0]
        drifts[m] = (np.ptp(median, axis=1).mean(), np.ptp(spread, axis=1).mean())
    smaller = [drifts["bn"][i] < drifts["baseline"][i] for i in range(2)]
    stable = "holds" if all(smaller) else ("fails" if not any(smaller) else "inconclusive")
    return {"bn-higher-accuracy": accuracy, "bn-faster": faster, "bn-stable-inputs": stable}


def test_verdicts_follow_from_the_measurements(quick):
    config, result = quick
    expected = expected_verdicts(config, result.metrics)
    assert {c.id: c.verdict for c in result.claims} == expected
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


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
                {"weight_std": 0.0}, {"n_seeds": 0}, {"batch_size": 1}, {"bn_momentum": 1.0}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(batchnorm.Config(), **bad)
        assert str(error.value).count(".") <= 2 and "\n" not in str(error.value)
