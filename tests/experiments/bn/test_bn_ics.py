import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import load_digits
from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import bn_ics, study
from replab.nn.normalized_mlp import Member, NormalizedMLP



@pytest.fixture(scope="module")
def quick():
    config = bn_ics.Config.quick()
    return config, bn_ics.run(config)


def test_quick_run_yields_every_table_figure_claim_and_scalar(quick):
    config, result = quick
    assert load("bn-ics") is bn_ics
    assert set(result.figures) == {"curves", "layer_input", "shift"} == set(result.captions)
    assert [(c.id, c.kind) for c in result.claims] == [
        ("bn-benefit-survives-shift", "finding"), ("noise-increases-shift", "check"), ("bn-reduces-shift", "finding")]
    assert [t.title for t in result.tables] == ["Injected covariate shift on MNIST"]
    assert [row[0] for row in result.tables[0].rows] == ["without BN", "BN", "noisy BN"]
    assert set(result.scalars) == {f"mnist/{cell}" for cell in bn_ics.CELLS}
    (section,) = result.metrics["datasets"]
    n_records = config.steps // config.record_every
    assert np.asarray(section["curves"]).shape == (len(bn_ics.CELLS), config.n_seeds, n_records)
    assert np.asarray(section["probe_unit_mean"]).shape == (len(bn_ics.CELLS), config.n_seeds, n_records)
    times = [point[2] for point in result.scalars["mnist/noisy"]["accuracy/test_mean"]]
    assert len(times) == n_records and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in section  # when it ran is TensorBoard's, not a metric
    for name in ("final_accuracy", "mean_wander", "std_wander", "shift", "inference_shift"):
        assert np.asarray(section[name]).shape == (len(bn_ics.CELLS), config.n_seeds)
    shift = dict(zip(bn_ics.CELLS, section["shift"]))
    # The injected noise (shift up to ±1, scale up to 2×) dwarfs how far BN's own γ, β move in a few hundred steps.
    assert min(shift["noisy"]) > 5 * max(shift["batch"])
    # With batch statistics and no noise, every unit's mean over the probe is its β, which starts at 0 and moves slowly.
    assert np.abs(section["probe_unit_mean"][bn_ics.CELLS.index("batch")]).max() < 0.2
    assert result.quick and all(c.base.quick and c.base.datasets == ("MNIST",) for c in result.claims)
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


# --- claims on hand-built measurements ----------------------------------------------------------------------

INFO = study.DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (100.0,), 1.0, 1.0)


def measurements(final, shift=None, inference_shift=None):
    """final, shift, inference_shift: (cells, seeds) in CELLS order."""
    final = np.asarray(final, float)
    n = final.shape[1]
    shift = np.asarray(shift if shift is not None else [[0.02] * n, [0.03] * n, [0.5] * n], float)
    inference_shift = np.asarray(inference_shift if inference_shift is not None else shift, float)
    steps = np.asarray([100, 200])
    curves = np.repeat(final[..., None], 2, axis=-1)
    d = bn_ics.DatasetMeasurements(INFO, steps, 100, final, curves, np.full(final.shape, -1), shift / 2, shift / 2,
                                   shift, inference_shift, np.zeros((3, n, 2)), np.ones((3, n, 2)))
    return bn_ics.IcsMeasurements((d,))


def judged(final, **kwargs):
    config = bn_ics.Config(n_seeds=len(final[0]), datasets=("mnist", "fashion-mnist"))
    return {c.id: c for c in bn_ics.judge(config, measurements(final, **kwargs))}


NONE = [0.50, 0.52, 0.49, 0.51, 0.50]
BN = [0.80, 0.83, 0.81, 0.80, 0.82]


@pytest.mark.parametrize("noisy, expected", [
    ([0.78, 0.80, 0.79, 0.77, 0.80], "holds"),      # keeps nearly all of BN's +0.31
    ([0.52, 0.53, 0.50, 0.53, 0.51], "fails"),      # keeps almost none of it
    ([0.70, 0.62, 0.58, 0.72, 0.66], "inconclusive"),  # about half, noisily
])
def test_benefit_survives_when_noisy_bn_keeps_more_than_the_fraction(noisy, expected):
    claim = judged([NONE, BN, noisy])["bn-benefit-survives-shift"]
    assert claim.kind == "finding" and claim.verdict == expected
    assert [t.label for t in claim.tests] == ["MNIST: BN − baseline", "MNIST: noisy BN − baseline − 0.5 × (BN − baseline)"]
    assert claim.base.skipped == ("Fashion-MNIST",)


def test_without_a_bn_benefit_there_is_nothing_to_keep():
    flat = [0.50, 0.53, 0.48, 0.52, 0.49]
    claim = judged([NONE, flat, flat])["bn-benefit-survives-shift"]
    assert claim.verdict == "inconclusive" and claim.tests[0].verdict == "inconclusive"


@pytest.mark.parametrize("inference, expected", [
    ([[0.30, 0.32, 0.29, 0.31, 0.30], [0.05, 0.06, 0.05, 0.04, 0.05], [0.05] * 5], "holds"),
    ([[0.05, 0.06, 0.05, 0.04, 0.05], [0.30, 0.32, 0.29, 0.31, 0.30], [0.3] * 5], "fails"),
    ([[0.10, 0.20, 0.05, 0.15, 0.10], [0.15, 0.10, 0.12, 0.08, 0.14], [0.1] * 5], "inconclusive"),
])
def test_bn_reduces_shift_is_judged_in_inference_mode(inference, expected):
    # As training sees it, BN's per-unit moments are β and γ: its training-mode shift is left small in every case.
    claim = judged([NONE, BN, BN], inference_shift=inference)["bn-reduces-shift"]
    assert claim.kind == "finding" and claim.verdict == expected


def test_noise_increases_shift_is_a_manipulation_check():
    assert judged([NONE, BN, BN])["noise-increases-shift"].verdict == "holds"
    overlapping = [[0.02] * 5, [0.03] * 5, [0.5, 0.5, 0.02, 0.5, 0.5]]
    claim = judged([NONE, BN, BN], shift=overlapping)["noise-increases-shift"]
    assert claim.kind == "check" and claim.verdict == "fails"


def test_presentation_draws_from_hand_built_measurements():
    shown = bn_ics.present(bn_ics.Config(n_seeds=5), measurements([NONE, BN, BN]))
    assert [row[0] for row in shown.tables[0].rows] == ["without BN", "BN", "noisy BN"]
    assert set(shown.figures) == {"curves", "layer_input", "shift"}


def test_shift_measures_are_the_wander_of_each_units_mean_and_std():
    records = np.zeros((4, 2, 2, 3))         # (R, K, mean/std, F)
    records[:, 0, 0, 0] = [1, -1, 1, -1]     # member 0, unit 0: mean wanders with std 1
    records[:, 1, 1, 2] = [0, 2, 0, 2]       # member 1, unit 2: std wanders with std 1
    records[:, 1, 0, 2] = [3, 3, 3, 3]       # a constant offset does not move
    measures = bn_ics.shift_measures(records)
    np.testing.assert_allclose(measures["mean_wander"], [1 / 3, 0])
    np.testing.assert_allclose(measures["std_wander"], [0, 1 / 3])
    np.testing.assert_allclose(measures["shift"], [1 / 3, 1 / 3])
    records[:, 1, 0, 2] = [0, 2, 0, 2]       # both moving: √(1 + 1) for that unit
    np.testing.assert_allclose(bn_ics.shift_measures(records)["shift"], [1 / 3, np.sqrt(2) / 3])


def test_the_measurement_redraws_the_noise_for_noisy_members_only():
    config = dataclasses.replace(bn_ics.Config.quick(), probe_size=50)
    digits = load_digits("mnist", seed=0, binarize=True)
    net = NormalizedMLP(config.layer_sizes, [Member("batch"), Member("batch", shift_noise=True)], [0, 0],
                        config.options)
    measure = tf.function(bn_ics.layer_input_moments(config)(net, digits)["layer_input"])
    first, second = measure().numpy(), measure().numpy()  # (K, mean/std, F)
    np.testing.assert_allclose(first[0], second[0])
    np.testing.assert_allclose(first[0, 0], 0, atol=1e-5)  # BN with β = 0: zero mean over the probe
    assert np.abs(first[1] - second[1]).mean() > 0.1
    # The noisy member is the clean one moved by a shift in [−1, 1] and scaled by a factor in [1/2, 2] per unit.
    scale = first[1, 1] / first[0, 1]
    assert np.all((scale >= 0.5 - 1e-4) & (scale <= 2 + 1e-4))
    shift = first[1, 0] - scale * first[0, 0]
    assert np.all(np.abs(shift) <= 1 + 1e-4)


def test_bad_settings_are_refused_with_one_sentence():
    for bad in ({"n_seeds": 1}, {"shift_range": 0.0}, {"scale_range": 1.0}, {"probe_size": 1}, {"probe_unit": 100},
                {"keep_fraction": 0.0}, {"target_within": 1.0}, {"steps": 100, "record_every": 100}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(bn_ics.Config(), **bad)
        assert "\n" not in str(error.value)
