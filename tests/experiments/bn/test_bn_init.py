import dataclasses

import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments.bn import bn_init, study
from replab.experiments.base import apply_overrides

INFO = study.DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (100.0,), 1.0, 1.0)
SCALES = (0.01, 1.0, 10.0)


@pytest.fixture(scope="module")
def quick():
    config = bn_init.Config.quick()
    return config, bn_init.run(config)


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


# --- claims on hand-built measurements ----------------------------------------------------------------------


def measurements(spread_none, spread_bn, relative=None, ratio=None, variance=(1e-5, 1.0, 100.0)):
    """Final accuracy 0.9 at scale 1 and 0.9 − spread at the other scales, per seed."""
    spread = np.asarray([spread_none, spread_bn], float)                  # (2, seeds)
    n = spread.shape[1]
    final = np.repeat((0.9 - spread)[:, None, :], len(SCALES), axis=1)
    final[:, SCALES.index(1.0)] = 0.9
    steps = np.asarray([100, 200])
    curves = np.repeat(final[..., None], 2, axis=-1)
    scales = np.asarray(SCALES)[:, None]
    relative = np.zeros((len(SCALES), n)) if relative is None else np.asarray(relative, float)
    ratio = np.repeat(1 / scales, n, axis=1) if ratio is None else np.asarray(ratio, float)
    d = bn_init.DatasetMeasurements(INFO, steps, final, curves, np.full(final.shape, -1), relative, ratio,
                                    np.asarray(variance, float))
    return bn_init.InitMeasurements(np.asarray(SCALES), (d,))


def config(n_seeds=4, **kwargs):
    return bn_init.Config(scales=SCALES, n_seeds=n_seeds, **kwargs)


def claims(cfg, m):
    return {c.id: c for c in bn_init.judge(cfg, m)}


@pytest.mark.parametrize("spread_none, spread_bn, expected", [
    ([0.6, 0.5, 0.7, 0.65], [0.1, 0.15, 0.05, 0.1], "holds"),
    ([0.1, 0.15, 0.05, 0.1], [0.6, 0.5, 0.7, 0.65], "fails"),
    ([0.3, 0.1, 0.5, 0.2], [0.2, 0.4, 0.1, 0.3], "inconclusive"),
])
def test_resilience_is_a_paired_test_of_spreads_over_seeds(spread_none, spread_bn, expected):
    claim = claims(config(), measurements(spread_none, spread_bn))["bn-init-resilient"]
    assert claim.kind == "finding" and claim.verdict == expected
    assert claim.tests[0].label == "MNIST" and claim.tests[0].n == 4


def test_scale_invariance_is_a_check_that_passes_and_fails():
    ok = claims(config(), measurements([0.5] * 4, [0.1] * 4))["bn-scale-invariant"]
    assert ok.kind == "check" and ok.verdict == "holds"
    broken = np.zeros((3, 4))
    broken[2] = 0.05  # 5% change at scale 10, where Var[aWu] ≫ ε
    bad = claims(config(), measurements([0.5] * 4, [0.1] * 4, relative=broken))["bn-scale-invariant"]
    assert bad.verdict == "fails"
    # The ε-limited scale 0.01 may break the identity without failing the check.
    limited = np.zeros((3, 4))
    limited[0] = 0.8
    assert claims(config(), measurements([0.5] * 4, [0.1] * 4, relative=limited))["bn-scale-invariant"].verdict == "holds"
    wrong_gradient = np.repeat(np.asarray([[100.0], [1.0], [0.5]]), 4, axis=1)
    assert claims(config(), measurements([0.5] * 4, [0.1] * 4, ratio=wrong_gradient))["bn-scale-invariant"].verdict == "fails"
    nothing = claims(config(), measurements([0.5] * 4, [0.1] * 4, variance=(1e-5, 1.0, 1e-3)))["bn-scale-invariant"]
    assert nothing.verdict == "fails" and "nothing could be checked" in nothing.evidence


def test_a_missing_dataset_is_recorded_as_skipped():
    found = claims(config(datasets=("mnist", "fashion-mnist")), measurements([0.5] * 4, [0.1] * 4))
    assert all(c.base.skipped == ("Fashion-MNIST",) and c.base.seeds == 4 for c in found.values())


def test_presentation_draws_from_hand_built_measurements():
    shown = bn_init.present(config(), measurements([0.5] * 4, [0.1] * 4))
    assert [t.title for t in shown.tables] == ["Initial weight scale on MNIST"] and len(shown.tables[0].rows) == 3
    assert set(shown.figures) == set(shown.captions)


@pytest.mark.parametrize("setting, message", [
    ({"scales": "0.1,10"}, "scales must include 1"),
    ({"scales": "1,0.1"}, "scales must be two to 16 increasing"),
])
def test_bad_settings_are_refused(setting, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(bn_init.Config(), setting)


def test_non_finite_settings_are_refused():
    with pytest.raises(ConfigError, match="invariance_tolerance must be a finite number"):
        dataclasses.replace(bn_init.Config(), invariance_tolerance=float("inf"))
    with pytest.raises(ConfigError, match="scales must be two to 16 increasing"):
        dataclasses.replace(bn_init.Config(), scales=(1.0, float("nan")))
