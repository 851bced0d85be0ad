import numpy as np
import pytest

import replab.experiments.bn.ics as package
from replab.experiments import load
from replab.experiments.bn.ics.measure import CELLS


@pytest.fixture
def quick(quick_run):
    return quick_run("bn-ics")


@pytest.mark.slow
def test_quick_run_yields_every_table_figure_claim_and_scalar(quick):
    config, result = quick
    assert load("bn-ics") is package
    assert set(result.figures) == {"curves", "layer_input", "shift"} == set(result.captions)
    assert [(c.id, c.kind) for c in result.claims] == [
        ("bn-benefit-survives-shift", "finding"), ("noise-increases-shift", "check"), ("bn-reduces-shift", "finding")]
    assert [t.title for t in result.tables] == ["Injected covariate shift on MNIST"]
    assert [row[0] for row in result.tables[0].rows] == ["without BN", "BN", "noisy BN"]
    assert set(result.scalars) == {f"mnist/{cell}" for cell in CELLS}
    (section,) = result.metrics["datasets"]
    n_records = config.steps // config.record_every
    assert np.asarray(section["curves"]).shape == (len(CELLS), config.n_seeds, n_records)
    assert np.asarray(section["probe_unit_mean"]).shape == (len(CELLS), config.n_seeds, n_records)
    times = [point[2] for point in result.scalars["mnist/noisy"]["accuracy/test_mean"]]
    assert len(times) == n_records and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in section  # when it ran is TensorBoard's, not a metric
    for name in ("final_accuracy", "mean_wander", "std_wander", "shift", "inference_shift"):
        assert np.asarray(section[name]).shape == (len(CELLS), config.n_seeds)
    shift = dict(zip(CELLS, section["shift"]))
    # The injected noise (shift up to ±1, scale up to 2×) dwarfs how far BN's own γ, β move in a few hundred steps.
    assert min(shift["noisy"]) > 5 * max(shift["batch"])
    # With batch statistics and no noise, every unit's mean over the probe is its β, which starts at 0 and moves slowly.
    assert np.abs(section["probe_unit_mean"][CELLS.index("batch")]).max() < 0.2
    assert result.quick and all(c.base.quick and c.base.datasets == ("MNIST",) for c in result.claims)
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)
