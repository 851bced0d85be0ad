import numpy as np
import pytest

import replab.experiments.bn.practice as package
from replab.experiments import BN_STUDY, load
from replab.experiments.bn.study import MODELS


@pytest.fixture
def quick(quick_run):
    return quick_run("bn-practice")


@pytest.mark.slow
def test_quick_run_end_to_end(quick):
    config, result = quick
    assert load("bn-practice") is package and "bn-practice" in BN_STUDY
    assert [c.id for c in result.claims] == ["practice-bn-higher-rates", "practice-bn-more-accurate-tuned"]
    assert all(c.verdict in ("holds", "fails", "inconclusive") and c.base.quick for c in result.claims)
    assert [t.label for t in result.claims[0].tests] == ["MNIST: ReLU MLP", "MNIST: CNN"]
    assert set(result.figures) == set(result.captions) == {"grid"}
    grid = result.metrics["grids"][0]
    assert np.asarray(grid["test_accuracy"]).shape == (2, len(config.learning_rates), config.n_seeds)
    none, bn = ([point[2] for point in result.scalars[f"mnist/{grid['architecture']}/{model}/lr"
                                                      f"{config.learning_rates[0]:g}"]["accuracy/validation_mean"]]
                for model in MODELS)
    assert len(bn) == len(grid["steps"]) and all(isinstance(t, float) and t > 1e9 for t in none + bn)
    assert none == sorted(none) and bn == sorted(bn) and "record_times" not in grid  # TensorBoard's, not a metric
    assert bn[0] > none[-1]  # each network's series has its own fit's times: with BN trains after without
