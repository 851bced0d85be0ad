import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments import BN_STUDY, load
from replab.experiments.bn import bn_practice, study

RATES = (0.1, 1.0, 10.0)


@pytest.fixture(scope="module")
def quick():
    config = bn_practice.Config.quick()
    return config, bn_practice.run(config)


def test_quick_run_end_to_end(quick):
    config, result = quick
    assert load("bn-practice") is bn_practice and "bn-practice" in BN_STUDY
    assert [c.id for c in result.claims] == ["practice-bn-higher-rates", "practice-bn-more-accurate-tuned"]
    assert all(c.verdict in ("holds", "fails", "inconclusive") and c.base.quick for c in result.claims)
    assert [t.label for t in result.claims[0].tests] == ["MNIST: ReLU MLP", "MNIST: CNN"]
    assert set(result.figures) == set(result.captions) == {"grid"}
    grid = result.metrics["grids"][0]
    assert np.asarray(grid["test_accuracy"]).shape == (2, len(config.learning_rates), config.n_seeds)
    none, bn = ([point[2] for point in result.scalars[f"mnist/{grid['architecture']}/{model}/lr"
                                                      f"{config.learning_rates[0]:g}"]["accuracy/validation_mean"]]
                for model in bn_practice.MODELS)
    assert len(bn) == len(grid["steps"]) and all(isinstance(t, float) and t > 1e9 for t in none + bn)
    assert none == sorted(none) and bn == sorted(bn) and "record_times" not in grid  # TensorBoard's, not a metric
    assert bn[0] > none[-1]  # each network's series has its own fit's times: with BN trains after without


def test_rates_are_chosen_on_held_out_training_images_not_the_test_set():
    digits = study.load_datasets(bn_practice.Config.quick())[0][0]
    train, x_val, y_val = bn_practice.split_validation(digits, 500)
    assert train.n_train + len(y_val) == digits.n_train and len(y_val) == min(500, digits.n_train // 5)
    np.testing.assert_array_equal(x_val, digits.x_train[train.n_train:])


def grid(val, test=None, diverged=None):
    val = np.asarray(val, float)
    test = val if test is None else np.asarray(test, float)
    diverged = np.full(val.shape, -1) if diverged is None else np.asarray(diverged)
    return bn_practice.Grid("fashion-mnist", "cnn", np.asarray([100]), val, test, val[..., None], diverged,
                            (10, 10), 1.0)


def measurements(g):
    info = study.DatasetInfo("fashion-mnist", "hand-built", 1000, 500, False, 500, (1.0,), 1.0, 1.0)
    return bn_practice.Measurements((info,), (g,), (200,))


def config():
    return bn_practice.Config(learning_rates=RATES, n_seeds=6, steps=100, record_every=100)


def verdicts(g):
    return {c.id: c.verdict for c in bn_practice.judge(config(), measurements(g))}


def test_bn_training_well_at_ten_times_the_rate_and_more_accurate_holds():
    rng = np.random.default_rng(0)
    plain = np.stack([0.85 + 0.002 * rng.standard_normal(6), np.full(6, 0.3), np.full(6, 0.1)])
    bn = np.stack([0.86 + 0.002 * rng.standard_normal(6), 0.88 + 0.002 * rng.standard_normal(6), np.full(6, 0.1)])
    assert verdicts(grid(np.stack([plain, bn]))) == {"practice-bn-higher-rates": "holds",
                                                     "practice-bn-more-accurate-tuned": "holds"}


def test_bn_worse_at_the_same_rates_fails():
    rng = np.random.default_rng(1)
    plain = np.stack([0.85 + 0.002 * rng.standard_normal(6), 0.86 + 0.002 * rng.standard_normal(6), np.full(6, 0.1)])
    bn = np.stack([0.80 + 0.002 * rng.standard_normal(6), np.full(6, 0.2), np.full(6, 0.1)])
    assert verdicts(grid(np.stack([plain, bn]))) == {"practice-bn-higher-rates": "fails",
                                                     "practice-bn-more-accurate-tuned": "fails"}


def test_noise_without_a_difference_is_inconclusive_and_a_fully_diverged_network_is_unavailable():
    rng = np.random.default_rng(2)
    same = 0.85 + 0.01 * rng.standard_normal((2, 3, 6))
    assert set(verdicts(grid(same)).values()) == {"inconclusive"}
    diverged = np.full((2, 3, 6), -1)
    diverged[0] = 5
    claims = bn_practice.judge(config(), measurements(grid(same, diverged=diverged)))
    assert all(c.verdict == "inconclusive" and not c.tests[0].available for c in claims)


def test_bad_settings_are_one_sentence():
    with pytest.raises(ConfigError, match="architectures"):
        bn_practice.Config(architectures=("rnn",))
    with pytest.raises(ConfigError, match="learning_rates"):
        bn_practice.Config(learning_rates=(1.0, 0.1))
    assert bn_practice.Config.from_profile("paper").steps == 3000
