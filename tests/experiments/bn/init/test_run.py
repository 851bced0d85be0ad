import numpy as np
import pytest


@pytest.fixture
def quick(quick_run):
    return quick_run("bn-init")


@pytest.mark.slow
def test_quick_run_yields_figures_tables_claims_and_scalars(quick):
    config, result = quick
    assert set(result.figures) == {"final_accuracy", "curves"} == set(result.captions)
    assert [(c.id, c.kind) for c in result.claims] == [("bn-init-resilient", "finding"), ("bn-scale-invariant", "check")]
    assert [t.title for t in result.tables] == ["Initial weight scale on MNIST"]
    assert len(result.scalars) == 2 * len(config.scales)
    (section,) = result.metrics["datasets"]
    assert np.asarray(section["final_accuracy"]).shape == (2, len(config.scales), config.n_seeds)
    times = [point[2] for point in result.scalars[f"mnist/batch/scale{config.scales[0]:g}"]["accuracy/test_mean"]]
    assert len(times) == len(section["steps"]) and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in section  # when it ran is TensorBoard's, not a metric
    assert result.quick and all(c.base.quick and c.base.datasets == ("MNIST",) for c in result.claims)


@pytest.mark.slow
def test_scale_invariance_is_measured_not_assumed(quick):
    config, result = quick
    section = result.metrics["datasets"][0]
    relative = np.asarray(section["relative_difference"]).max(axis=1)
    ratio = np.asarray(section["gradient_ratio"]).mean(axis=1)
    one = config.scales.index(1.0)
    assert relative[one] == 0 and ratio[one] == pytest.approx(1)
    # Where Var[aWu] ≫ ε the identity holds closely (scale 10); where it is below ε (scale 0.01) it breaks.
    ten, hundredth = config.scales.index(10.0), config.scales.index(0.01)
    assert relative[ten] < 0.01 and ratio[ten] == pytest.approx(0.1, rel=0.01)
    assert relative[hundredth] > 0.1
    assert {c.id: c.verdict for c in result.claims}["bn-scale-invariant"] == "holds"
