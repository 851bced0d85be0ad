import json

import numpy as np
import pytest
import scipy.stats
from matplotlib.figure import Figure

from replab.experiments import load
from replab.experiments.bn import gradients as bn_gradients
from replab.experiments.bn.gradients.measure import MODELS, SUMMARIES
from replab.experiments.bn.gradients.measure import measure as bn_gradients_measure
from tests.experiments.bn.gradients.test_judge import CLAIMS


@pytest.fixture(scope="module")
def quick():
    """One quick run through run(), keeping the measurements it judged."""
    config = bn_gradients.Config.quick()
    captured = {}
    measure = bn_gradients_measure

    def spy(config, progress):
        captured["m"] = measure(config, progress)
        return captured["m"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("replab.experiments.bn.gradients.measure.measure", spy)
        result = bn_gradients.run(config)
    return config, captured["m"], result


@pytest.mark.slow
def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, m, result = quick
    assert load("bn-gradients") is bn_gradients
    assert set(result.figures) == {"gradient_norms", "singular_values", "spectrum_over_training"}
    assert set(result.captions) == set(result.figures)
    json.dumps(result.metrics, allow_nan=False)  # result.json can hold the metrics and the claims
    json.dumps([c.to_dict() for c in result.claims])
    assert all(isinstance(figure, Figure) for figure in result.figures.values())
    assert [c.id for c in result.claims] == CLAIMS
    assert all(c.kind == "finding" and c.verdict in ("holds", "fails", "inconclusive") for c in result.claims)
    assert [t.title for t in result.tables] == ["Layer Jacobians and gradients on MNIST", "Gradient size across the hidden layers"]
    assert len(result.tables[0].rows) == 2 * 3 * 2 and len(result.tables[1].rows) == 2
    assert set(result.scalars) == {"mnist/none", "mnist/batch"}
    assert "gradient/activation_layer1" in result.scalars["mnist/batch"]
    assert "jacobian/rms_sv_J2" in result.scalars["mnist/none"]
    times = [point[2] for point in result.scalars["mnist/batch"]["jacobian/rms_sv_J2"]]  # step 0: training starts
    assert len(times) == len(m.datasets[0].steps) and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in result.metrics["datasets"][0]  # TensorBoard's, not a metric

    (d,) = m.datasets
    assert d.steps.tolist() == [0, 100, 200, 300] and d.jacobian_layers == (2, 3)
    points, seeds, probe = len(d.steps), config.n_seeds, config.probe_size
    for model in MODELS:
        net = d.network(model)
        for key in SUMMARIES:
            assert getattr(net.jacobians, key).shape == (2, seeds, points)
        assert net.input_end.median.shape == (seeds,)
        assert net.activation_gradients.shape == (seeds, points, 3)
        assert net.weight_gradients.shape == (seeds, points, 4)
        assert np.all(net.activation_gradients > 0)
        for histogram in (net.histogram_start, net.histogram_end):  # every singular value lands in some bin
            assert histogram.sum(axis=1).tolist() == [seeds * probe * 100] * 3
        assert np.all(net.test_accuracy > 0.3)  # both networks learn something in 300 steps
    (section,) = result.metrics["datasets"]
    assert np.asarray(section["batch"]["jacobians"]["rms"]).shape == (2, seeds, points)


@pytest.mark.slow
def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    for claim in result.claims:
        assert claim.base.quick and claim.base.seeds == config.n_seeds and claim.base.datasets == ("MNIST",)
        assert "smoke test" in claim.base.describe()


@pytest.mark.slow
def test_the_tests_are_the_per_seed_statistics_the_claims_describe(quick):
    """Each finding's test re-derived from the measurements with plain numpy and scipy."""
    config, m, result = quick
    (d,) = m.datasets
    claims = {c.id: c for c in result.claims}
    f = config.close_factor
    within = d.batch.jacobians.within.min(axis=(0, 2))
    near = claims["bn-jacobian-near-one"].tests
    assert near[0].effect == pytest.approx(within.mean()) and near[0].null == 0.5
    assert near[0].p_greater == pytest.approx(scipy.stats.ttest_1samp(within, 0.5, alternative="greater").pvalue)
    worst_rms = np.abs(np.log(d.batch.jacobians.rms)).max(axis=(0, 2))
    assert near[1].effect == pytest.approx(np.log(f) - worst_rms.mean())

    distance = {model: d.network(model).jacobians.mean_abs_log.mean(axis=(0, 2)) for model in ("none", "batch")}
    (closer,) = claims["bn-jacobian-closer-to-one"].tests
    assert closer.effect == pytest.approx((distance["none"] - distance["batch"]).mean())
    assert closer.p_greater == pytest.approx(
        scipy.stats.ttest_rel(distance["none"], distance["batch"], alternative="greater").pvalue)

    (isometry,) = claims["bn-jacobian-isometry"].tests
    assert isometry.effect == pytest.approx(within.mean()) and isometry.null == config.isometry_fraction

    def spread(model):  # (seeds, points)
        norms = d.network(model).activation_gradients
        return norms.max(axis=-1) / norms.min(axis=-1)

    (keep,) = claims["bn-gradients-keep-size"].tests
    assert keep.effect == pytest.approx(np.log(spread("batch")).max(axis=1).mean())
    assert keep.null == pytest.approx(np.log(f))
    (even,) = claims["bn-gradients-more-even"].tests
    assert even.effect == pytest.approx((np.log(spread("none")).mean(axis=1) - np.log(spread("batch")).mean(axis=1)).mean())
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


@pytest.mark.slow
def test_bn_jacobians_are_nearer_one_than_the_baselines_at_initialisation(quick):
    """At step 0 the baseline's gradient shrinks by ~4× per layer (σ' ≤ 1/4, weights of std 0.1), BN's does not."""
    _, m, _ = quick
    (d,) = m.datasets
    base_rms, bn_rms = d.none.jacobians.rms[:, :, 0], d.batch.jacobians.rms[:, :, 0]
    assert np.all(base_rms < 0.5) and np.all((bn_rms > 0.5) & (bn_rms < 2))
    base = d.none.activation_gradients[:, 0]
    assert np.all(base[:, 0] < base[:, 1]) and np.all(base[:, 1] < base[:, 2])
