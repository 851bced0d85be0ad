import numpy as np
import pytest

import replab.experiments.bn.smoothness as package
from replab.experiments import BN_STUDY, load
from replab.experiments.bn.study import MODELS


@pytest.fixture
def quick(quick_run):
    return quick_run("bn-smoothness")


@pytest.mark.slow
def test_quick_run_end_to_end(quick):
    config, result = quick
    assert load("bn-smoothness") is package and "bn-smoothness" in BN_STUDY
    assert [c.id for c in result.claims] == ["bn-smoother-loss", "bn-predictive-gradients", "bn-smaller-beta"]
    assert all(c.verdict in ("holds", "fails", "inconclusive") and c.base.quick for c in result.claims)
    (d,) = result.metrics["datasets"]
    variation = np.asarray(d["loss_variation"])
    assert variation.shape == (2, config.n_seeds, config.steps // config.record_every)
    assert np.all(variation >= 0) and np.all(np.asarray(d["beta_smoothness"]) > 0)
    none, bn = ([point[2] for point in result.scalars[f"mnist/{model}"]["landscape/beta_smoothness"]]
                for model in MODELS)
    assert len(bn) == len(d["steps"]) and all(isinstance(t, float) and t > 1e9 for t in none + bn)
    assert none == sorted(none) and bn == sorted(bn) and "record_times" not in d  # TensorBoard's, not a metric
    assert bn[0] > none[-1]  # each network's series has its own fit's times: with BN trains after without
