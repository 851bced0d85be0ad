import dataclasses

import numpy as np
import pytest
from matplotlib.figure import Figure

from replab.data.mnist import Digits
from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import bn_gradients
from replab.experiments.bn import study as bnstudy
from tests.helpers import VERDICT_WORDS, paired_t_verdict


CLAIMS = ["bn-jacobian-near-one", "bn-jacobian-closer-to-one", "bn-jacobian-isometry", "bn-gradients-keep-size",
          "bn-gradients-more-even"]


@pytest.fixture(scope="module")
def quick():
    config = bn_gradients.Config.quick()
    return config, bn_gradients.run(config)


def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, result = quick
    assert load("bn-gradients") is bn_gradients
    assert set(result.figures) == {"gradient_norms", "singular_values", "spectrum_over_training"}
    assert all(isinstance(figure, Figure) for figure in result.figures.values())
    assert [c.id for c in result.claims] == CLAIMS
    assert [t.title for t in result.tables] == ["Layer Jacobians and gradients on MNIST", "Gradient size across the hidden layers"]
    assert len(result.tables[0].rows) == 2 * 3 * 2 and len(result.tables[1].rows) == 2
    assert set(result.scalars) == {"mnist/none", "mnist/batch"}
    assert "gradient/activation_layer1" in result.scalars["mnist/batch"]
    assert "jacobian/rms_sv_J2" in result.scalars["mnist/none"]

    (section,) = result.metrics["datasets"]
    assert section["steps"] == [0, 100, 200, 300] and section["jacobian_layers"] == [2, 3]
    points, seeds, probe = len(section["steps"]), config.n_seeds, config.probe_size
    for model in bn_gradients.MODELS:
        m = section["models"][model]
        assert len(m["jacobians"]) == 2
        for summary in m["jacobians"]:
            assert set(summary) == set(bn_gradients.SUMMARIES)
            assert np.asarray(summary["rms"]).shape == (seeds, points)
        assert np.asarray(m["input_jacobian"]["end"]["median"]).shape == (seeds,)
        assert np.asarray(m["activation_gradients"]).shape == (seeds, points, 3)
        assert np.asarray(m["weight_gradients"]).shape == (seeds, points, 4)
        assert np.all(np.asarray(m["activation_gradients"]) > 0)
        for when in ("start", "end"):  # every singular value of every layer lands in some bin
            assert [sum(counts) for counts in m["histograms"][when]] == [seeds * probe * 100] * 3
        assert np.all(np.asarray(m["test_accuracy"]) > 0.3)  # both networks learn something in 300 steps


def better(differences):
    return VERDICT_WORDS[paired_t_verdict(differences)]


def expected_verdicts(config, section):
    """The five verdicts, re-derived from the recorded summaries with plain numpy."""
    f = config.close_factor

    def jacobians(model, key):  # (layers, seeds, points)
        return np.array([layer[key] for layer in section["models"][model]["jacobians"]])

    def spread(model):  # (seeds, points)
        norms = np.array(section["models"][model]["activation_gradients"])
        return norms.max(axis=-1) / norms.min(axis=-1)

    rms, within = jacobians("batch", "rms").mean(axis=1), jacobians("batch", "within").mean(axis=1)
    near = rms.min() >= 1 / f and rms.max() <= f and within.min() >= 0.5
    distance = {m: jacobians(m, "mean_abs_log").mean(axis=(0, 2)) for m in ("none", "batch")}
    even = {m: np.log(spread(m)).mean(axis=1) for m in ("none", "batch")}
    return {
        "bn-jacobian-near-one": "holds" if near else "fails",
        "bn-jacobian-closer-to-one": better(distance["none"] - distance["batch"]),
        "bn-jacobian-isometry": "holds" if within.min() >= config.isometry_fraction else "fails",
        "bn-gradients-keep-size": "holds" if spread("batch").mean(axis=0).max() <= f else "fails",
        "bn-gradients-more-even": better(even["none"] - even["batch"]),
    }


def test_verdicts_follow_from_the_measurements(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    assert {c.id: c.verdict for c in result.claims} == expected_verdicts(config, section)
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


def test_bn_jacobians_are_nearer_one_than_the_baselines_at_initialisation(quick):
    """At step 0 the baseline's gradient shrinks by ~4× per layer (σ' ≤ 1/4, weights of std 0.1), BN's does not."""
    _, result = quick
    (section,) = result.metrics["datasets"]
    for layer in range(2):
        base_rms = np.asarray(section["models"]["none"]["jacobians"][layer]["rms"])[:, 0]
        bn_rms = np.asarray(section["models"]["batch"]["jacobians"][layer]["rms"])[:, 0]
        assert np.all(base_rms < 0.5) and np.all((bn_rms > 0.5) & (bn_rms < 2))
    base = np.asarray(section["models"]["none"]["activation_gradients"])[:, 0]
    assert np.all(base[:, 0] < base[:, 1]) and np.all(base[:, 1] < base[:, 2])


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


@pytest.mark.parametrize("change", [dict(hidden=(100,)), dict(probe_size=1), dict(close_factor=1.0),
                                    dict(isometry_fraction=0.5), dict(isometry_fraction=1.5)])
def test_bad_settings_are_refused_with_a_config_error(change):
    with pytest.raises(ConfigError):
        bn_gradients.Config(**change)
