import numpy as np

from replab.experiments.bn.practice.config import Config
from replab.experiments.bn.practice.judge import judge
from replab.experiments.bn.practice.measure import Grid, Measurements
from replab.experiments.bn.study import DatasetInfo

RATES = (0.1, 1.0, 10.0)


def grid(val, test=None, diverged=None):
    val = np.asarray(val, float)
    test = val if test is None else np.asarray(test, float)
    diverged = np.full(val.shape, -1) if diverged is None else np.asarray(diverged)
    return Grid("fashion-mnist", "cnn", np.asarray([100]), val, test, val[..., None], diverged, (10, 10), 1.0)


def measurements(g):
    info = DatasetInfo("fashion-mnist", "hand-built", 1000, 500, False, 500, (1.0,), 1.0, 1.0)
    return Measurements((info,), (g,), (200,))


def config():
    return Config(learning_rates=RATES, n_seeds=6, steps=100, record_every=100)


def verdicts(g):
    return {c.id: c.verdict for c in judge(config(), measurements(g))}


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
    claims = judge(config(), measurements(grid(same, diverged=diverged)))
    assert all(c.verdict == "inconclusive" and not c.tests[0].available for c in claims)
