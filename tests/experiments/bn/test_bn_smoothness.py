import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments import BN_STUDY, load
from replab.experiments.bn import bn_smoothness, study

INFO = study.DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (1.0,), 1.0, 1.0)


@pytest.fixture(scope="module")
def quick():
    config = bn_smoothness.Config.quick()
    return config, bn_smoothness.run(config)


def test_quick_run_end_to_end(quick):
    config, result = quick
    assert load("bn-smoothness") is bn_smoothness and "bn-smoothness" in BN_STUDY
    assert [c.id for c in result.claims] == ["bn-smoother-loss", "bn-predictive-gradients", "bn-smaller-beta"]
    assert all(c.verdict in ("holds", "fails", "inconclusive") and c.base.quick for c in result.claims)
    (d,) = result.metrics["datasets"]
    variation = np.asarray(d["loss_variation"])
    assert variation.shape == (2, config.n_seeds, config.steps // config.record_every)
    assert np.all(variation >= 0) and np.all(np.asarray(d["beta_smoothness"]) > 0)
    none, bn = ([point[2] for point in result.scalars[f"mnist/{model}"]["landscape/beta_smoothness"]]
                for model in bn_smoothness.MODELS)
    assert len(bn) == len(d["steps"]) and all(isinstance(t, float) and t > 1e9 for t in none + bn)
    assert none == sorted(none) and bn == sorted(bn) and "record_times" not in d  # TensorBoard's, not a metric
    assert bn[0] > none[-1]  # each network's series has its own fit's times: with BN trains after without


def landscape(none, bn, diverged=None):
    shape = (2, len(none), 3)
    values = np.broadcast_to(np.stack([none, bn])[..., None], shape).astype(float)
    diverged = np.full(shape[:2], -1) if diverged is None else np.asarray(diverged)
    return bn_smoothness.Landscape(INFO, np.asarray([100, 200, 300]), values, values, values, values, values,
                                   np.full(shape[:2], 0.9), diverged)


def verdicts(d):
    config = bn_smoothness.Config(n_seeds=6)
    return {c.verdict for c in bn_smoothness.judge(config, bn_smoothness.Measurements((d,)))}


def test_smaller_with_bn_holds_larger_fails_equal_noise_inconclusive():
    rng = np.random.default_rng(0)
    noise = np.exp(0.05 * rng.standard_normal(6))
    assert verdicts(landscape(1.0 * noise, 0.3 * noise[::-1])) == {"holds"}
    assert verdicts(landscape(0.3 * noise, 1.0 * noise[::-1])) == {"fails"}
    assert verdicts(landscape(noise, np.exp(0.05 * rng.standard_normal(6)))) == {"inconclusive"}
    diverged = np.full((2, 6), -1)
    diverged[1, 0] = 10
    assert verdicts(landscape(noise, 0.3 * noise, diverged)) == {"inconclusive"}


def test_bad_settings_are_one_sentence():
    with pytest.raises(ConfigError, match="eta_factors"):
        bn_smoothness.Config(eta_factors=(2.0, 1.0))
    with pytest.raises(ConfigError, match="probe_size"):
        bn_smoothness.Config(probe_size=1)
