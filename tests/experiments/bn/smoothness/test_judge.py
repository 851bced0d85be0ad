import numpy as np

from replab.experiments.bn.smoothness.config import Config
from replab.experiments.bn.smoothness.judge import judge
from replab.experiments.bn.smoothness.measure import DatasetResult, Measurements
from replab.experiments.bn.study import DatasetInfo

INFO = DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (1.0,), 1.0, 1.0)


def landscape(none, bn, diverged=None):
    shape = (2, len(none), 3)
    values = np.broadcast_to(np.stack([none, bn])[..., None], shape).astype(float)
    diverged = np.full(shape[:2], -1) if diverged is None else np.asarray(diverged)
    return DatasetResult(INFO, np.asarray([100, 200, 300]), values, values, values, values, values,
                         np.full(shape[:2], 0.9), diverged)


def verdicts(d):
    config = Config(n_seeds=6)
    return {c.verdict for c in judge(config, Measurements((d,)))}


def test_smaller_with_bn_holds_larger_fails_equal_noise_inconclusive():
    rng = np.random.default_rng(0)
    noise = np.exp(0.05 * rng.standard_normal(6))
    assert verdicts(landscape(1.0 * noise, 0.3 * noise[::-1])) == {"holds"}
    assert verdicts(landscape(0.3 * noise, 1.0 * noise[::-1])) == {"fails"}
    assert verdicts(landscape(noise, np.exp(0.05 * rng.standard_normal(6)))) == {"inconclusive"}
    diverged = np.full((2, 6), -1)
    diverged[1, 0] = 10
    assert verdicts(landscape(noise, 0.3 * noise, diverged)) == {"inconclusive"}
