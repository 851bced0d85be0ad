import dataclasses
import json

import numpy as np
import pytest
import scipy.stats
from matplotlib.figure import Figure

from replab.data.mnist import Digits
from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import bn_gradients
from replab.experiments.bn import study as bnstudy

CLAIMS = ["bn-jacobian-near-one", "bn-jacobian-closer-to-one", "bn-jacobian-isometry", "bn-gradients-keep-size",
          "bn-gradients-more-even"]


@pytest.fixture(scope="module")
def quick():
    """One quick run through run(), keeping the measurements it judged."""
    config = bn_gradients.Config.quick()
    captured = {}
    measure = bn_gradients.measure

    def spy(config, progress):
        captured["m"] = measure(config, progress)
        return captured["m"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bn_gradients, "measure", spy)
        result = bn_gradients.run(config)
    return config, captured["m"], result


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
    for model in bn_gradients.MODELS:
        net = d.network(model)
        for key in bn_gradients.SUMMARIES:
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


def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    for claim in result.claims:
        assert claim.base.quick and claim.base.seeds == config.n_seeds and claim.base.datasets == ("MNIST",)
        assert "smoke test" in claim.base.describe()


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


def test_bn_jacobians_are_nearer_one_than_the_baselines_at_initialisation(quick):
    """At step 0 the baseline's gradient shrinks by ~4× per layer (σ' ≤ 1/4, weights of std 0.1), BN's does not."""
    _, m, _ = quick
    (d,) = m.datasets
    base_rms, bn_rms = d.none.jacobians.rms[:, :, 0], d.batch.jacobians.rms[:, :, 0]
    assert np.all(base_rms < 0.5) and np.all((bn_rms > 0.5) & (bn_rms < 2))
    base = d.none.activation_gradients[:, 0]
    assert np.all(base[:, 0] < base[:, 1]) and np.all(base[:, 1] < base[:, 2])


# --- judge() on hand-built measurements ----------------------------------------------------------------------------

SEEDS = 6
JITTER = np.array([-1.0, -0.5, 0.0, 0.2, 0.5, 0.8])
"""Per-seed noise with mean 0 (so a value + c·JITTER has mean exactly the value)."""
POINTS = 4
CONFIG = dataclasses.replace(bn_gradients.Config.quick(), n_seeds=SEEDS)


def spectrum(shape, **per_seed):
    """A Spectrum whose fields are 1 except the given per-seed values, broadcast over layers and points."""
    fields = {key: np.ones(shape) for key in bn_gradients.SUMMARIES}
    for key, values in per_seed.items():
        values = np.asarray(values, float)
        fields[key] = np.broadcast_to(values[None, :, None] if len(shape) == 3 else values, shape).copy()
    return bn_gradients.Spectrum(**fields)


def network(within, rms, distance, spread):
    gradients = np.ones((SEEDS, POINTS, 3))
    gradients[..., 2] = np.asarray(spread, float)[:, None]  # max/min over the hidden layers = spread
    return bn_gradients.Network(
        test_accuracy=np.full(SEEDS, 0.9), diverged_seeds=0,
        jacobians=spectrum((2, SEEDS, POINTS), within=within, rms=rms, mean_abs_log=distance),
        input_start=spectrum((SEEDS,)), input_end=spectrum((SEEDS,)),
        activation_gradients=gradients, weight_gradients=np.ones((SEEDS, POINTS, 4)),
        histogram_start=np.zeros((3, 55), int), histogram_end=np.zeros((3, 55), int))


HOLDS = dict(within=0.95 + 0.01 * JITTER, rms=1.0 + 0.05 * JITTER, distance=0.5 + 0.05 * JITTER,
             spread=1.2 + 0.05 * JITTER)
BASELINE = dict(within=0.1 + 0.01 * JITTER, rms=0.2 + 0.01 * JITTER, distance=2.0 + 0.1 * JITTER,
                spread=10.0 + JITTER)


def dataset(name="mnist", **bn_changes):
    info = bnstudy.DatasetInfo(name, "hand-built", 100, 100, True, 100, (1.0,), 1.0, 1.0)
    return bn_gradients.Dataset(info, np.arange(POINTS) * 100, (2, 3), network(**BASELINE),
                                network(**{**HOLDS, **bn_changes}))


def verdicts(*datasets, config=CONFIG):
    claims = bn_gradients.judge(config, bn_gradients.Measurements(tuple(datasets)))
    assert [c.id for c in claims] == CLAIMS
    return {c.id: c for c in claims}


AROUND = np.array([-1.0, 1.0, 0.0, 0.4, -0.4, 0.0])
"""Zero-mean spread, symmetric: a mean exactly at the null."""


@pytest.mark.parametrize("claim_id, changes, expected", [
    ("bn-jacobian-near-one", {}, "holds"),
    ("bn-jacobian-near-one", dict(within=0.2 + 0.01 * JITTER), "fails"),
    ("bn-jacobian-near-one", dict(within=0.5 + 0.05 * AROUND), "inconclusive"),  # the knife-edge: 50% of 50%
    ("bn-jacobian-near-one", dict(rms=4.0 + 0.1 * JITTER), "fails"),             # most within, but RMS 4× too big
    ("bn-jacobian-isometry", {}, "holds"),
    ("bn-jacobian-isometry", dict(within=0.6 + 0.01 * JITTER), "fails"),
    ("bn-jacobian-isometry", dict(within=0.9 + 0.05 * AROUND), "inconclusive"),
    ("bn-jacobian-closer-to-one", {}, "holds"),
    ("bn-jacobian-closer-to-one", dict(distance=3.0 + 0.1 * JITTER), "fails"),
    ("bn-jacobian-closer-to-one", dict(distance=2.0 + 0.1 * JITTER + 0.3 * AROUND), "inconclusive"),
    ("bn-gradients-keep-size", {}, "holds"),
    ("bn-gradients-keep-size", dict(spread=5.0 + 0.1 * JITTER), "fails"),
    ("bn-gradients-keep-size", dict(spread=2.0 * np.exp(0.2 * AROUND)), "inconclusive"),
    ("bn-gradients-more-even", {}, "holds"),
    ("bn-gradients-more-even", dict(spread=20.0 + JITTER), "fails"),
    ("bn-gradients-more-even", dict(spread=(10.0 + JITTER) * np.exp(0.5 * AROUND)), "inconclusive"),
])
def test_each_finding_reaches_holds_fails_and_inconclusive(claim_id, changes, expected):
    claim = verdicts(dataset(**changes))[claim_id]
    assert claim.verdict == expected, claim.tests


def test_a_claim_asked_on_two_datasets_holds_only_on_both_and_records_a_missing_one():
    config = dataclasses.replace(CONFIG, datasets=("mnist", "fashion-mnist"))
    both = verdicts(dataset("mnist"), dataset("fashion-mnist", within=0.5 + 0.05 * AROUND), config=config)
    near = both["bn-jacobian-near-one"]
    assert [t.label.split(":")[0] for t in near.tests] == ["MNIST", "MNIST", "Fashion-MNIST", "Fashion-MNIST"]
    assert near.verdict == "inconclusive" and both["bn-jacobian-closer-to-one"].verdict == "holds"
    one = verdicts(dataset("mnist"), config=config)["bn-jacobian-closer-to-one"]
    assert one.base.datasets == ("MNIST",) and one.base.skipped == ("Fashion-MNIST",)
    assert "1 of 2 datasets" in one.base.describe() and one.base.quick


def test_hand_built_measurements_present_without_training():
    m = bn_gradients.Measurements((dataset(),))
    presentation = bn_gradients.present(CONFIG, m)
    assert set(presentation.figures) == set(presentation.captions)
    assert len(presentation.tables) == 2
    assert m.to_metrics()["datasets"][0]["batch"]["test_accuracy"] == [0.9] * SEEDS


# --- the pieces -----------------------------------------------------------------------------------------------------


def test_spectrum_summary_on_known_singular_values():
    values = np.array([[[4.0, 1.0, 0.25], [2.0, 2.0, 0.5]]])  # one member, two examples
    summary = bn_gradients.spectrum_summary(values, factor=2.0)
    assert summary["rms"][0] == pytest.approx(np.sqrt((16 + 1 + 1 / 16 + 4 + 4 + 1 / 4) / 6))
    assert summary["geometric_mean"][0] == pytest.approx(2 ** (1 / 6))
    assert summary["median"][0] == pytest.approx(1.5)
    assert summary["largest"][0] == pytest.approx(3.0)
    assert summary["within"][0] == pytest.approx(4 / 6)
    assert summary["mean_abs_log"][0] == pytest.approx((2 * np.log(4) + 3 * np.log(2)) / 6)
    assert summary["condition"][0] == pytest.approx((16 + 4) / 2)


def test_the_step_zero_twin_is_the_population_train_cells_starts_from():
    config = dataclasses.replace(bn_gradients.Config.quick(), eval_size=10, train_eval_size=10)
    rng = np.random.default_rng(0)
    digits = Digits(rng.random((100, 784), np.float32), rng.integers(0, 10, 100), rng.random((20, 784), np.float32),
                    rng.integers(0, 10, 20), "random", "mnist")
    captured = {}

    class Stop(Exception):
        pass

    def capture(net, _digits):  # train_cells asks for its metrics before the first step
        captured["weights"] = [w.numpy() for w, _ in net.layers]
        captured["norms"] = [m.norm for m in net.members]
        raise Stop

    with pytest.raises(Stop):
        bnstudy.train_cells(config, digits, bn_gradients.cells(config), extra_metrics=capture)
    twin = bn_gradients.initial_net(config)
    assert [m.norm for m in twin.members] == captured["norms"] == ["none"] * 3 + ["batch"] * 3
    for (w, _), expected in zip(twin.layers, captured["weights"]):
        np.testing.assert_array_equal(w.numpy(), expected)


def test_quick_is_quick_and_a_saved_config_replays():
    config = bn_gradients.Config.quick()
    assert config.quick and bn_gradients.Config.from_dict(dataclasses.asdict(config)) == config
    assert not bn_gradients.Config().quick


@pytest.mark.parametrize("change", [dict(hidden=(100,)), dict(probe_size=1), dict(probe_size=5000),
                                    dict(close_factor=1.0), dict(close_factor=float("inf")),
                                    dict(close_factor=float("nan")), dict(isometry_fraction=0.5),
                                    dict(isometry_fraction=1.0), dict(isometry_fraction=1.5),
                                    dict(quick="yes")])
def test_bad_settings_are_refused_with_a_config_error(change):
    with pytest.raises(ConfigError):
        bn_gradients.Config(**change)
