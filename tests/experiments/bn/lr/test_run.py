import numpy as np
import pytest

import replab.experiments.bn.lr as package
from replab.experiments import load
from replab.experiments.bn.lr.measure import MODELS


@pytest.fixture
def quick(quick_run):
    return quick_run("bn-lr")


@pytest.mark.slow
def test_quick_run_yields_figures_tables_claims_and_scalars(quick):
    config, result = quick
    assert set(result.figures) == {"final_accuracy", "curves"}
    assert set(result.captions) == set(result.figures)
    assert [c.id for c in result.claims] == ["bn-higher-learning-rates", "bn-lr-faster"]
    assert all(c.kind == "finding" and c.verdict in ("holds", "fails", "inconclusive") for c in result.claims)
    assert [t.title for t in result.tables] == ["Learning-rate grid on MNIST"]
    assert len(result.tables[0].rows) == len(config.learning_rates)
    assert len(result.scalars) == 2 * len(config.learning_rates)
    (section,) = result.metrics["datasets"]
    final = np.asarray(section["final_accuracy"])
    assert final.shape == (len(MODELS), len(config.learning_rates), config.n_seeds)
    assert np.all((final >= 0) & (final <= 1))
    times = [point[2] for point in result.scalars[f"mnist/batch/lr{config.learning_rates[0]:g}"]["accuracy/test_mean"]]
    assert len(times) == len(section["steps"]) and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in section  # when it ran is TensorBoard's, not a metric
    # With BN the network learns at every rate of the quick grid but the largest; without BN it does not at lr 10.
    assert final[1, :3].mean(axis=-1).min() > 0.6
    assert final[0, 2].mean() < 0.2
    assert load("bn-lr") is package


@pytest.mark.slow
def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.datasets == ("MNIST",) and c.base.seeds == config.n_seeds
               for c in result.claims)
