import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import load_digits
from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import bn_ics
from replab.nn.normalized_mlp import Member, NormalizedMLP
from tests.helpers import paired_t_verdict



@pytest.fixture(scope="module")
def quick():
    config = bn_ics.Config.quick()
    return config, bn_ics.run(config)


def test_quick_run_yields_every_table_figure_claim_and_scalar(quick):
    config, result = quick
    assert load("bn-ics") is bn_ics
    assert set(result.figures) == {"curves", "layer_input", "shift"}
    assert [c.id for c in result.claims] == ["bn-benefit-survives-shift", "noise-increases-shift", "bn-reduces-shift"]
    assert [t.title for t in result.tables] == ["Injected covariate shift on MNIST"]
    assert [row[0] for row in result.tables[0].rows] == ["without BN", "BN", "noisy BN"]
    assert set(result.scalars) == {f"mnist/{cell}" for cell in bn_ics.CELLS}
    (section,) = result.metrics["datasets"]
    n_records = config.steps // config.record_every
    for cell in bn_ics.CELLS:
        m = section["cells"][cell]
        assert np.asarray(m["curves"]).shape == (config.n_seeds, n_records)
        assert np.asarray(m["probe_unit_mean"]).shape == (config.n_seeds, n_records)
        assert all(len(m[name]) == config.n_seeds for name in ("final_accuracy", "mean_wander", "std_wander", "shift"))
    # The injected noise (shift up to ±1, scale up to 2×) dwarfs how far BN's own γ, β move in a few hundred steps.
    assert min(section["cells"]["noisy"]["shift"]) > 5 * max(section["cells"]["batch"]["shift"])
    # With batch statistics and no noise, every unit's mean over the probe is its β, which starts at 0 and moves slowly.
    assert np.abs(section["cells"]["batch"]["probe_unit_mean"]).max() < 0.2


def expected_verdicts(config, section):
    """The three verdicts, re-derived from the recorded per-seed numbers with plain numpy."""
    get = lambda cell, measure: np.asarray(section["cells"][cell][measure])  # noqa: E731
    bn_gain = get("batch", "final_accuracy") - get("none", "final_accuracy")
    noisy_gain = get("noisy", "final_accuracy") - get("none", "final_accuracy")
    if paired_t_verdict(bn_gain) is not True:
        survives = "inconclusive"
    elif paired_t_verdict(noisy_gain) is True and noisy_gain.mean() >= config.keep_fraction * bn_gain.mean():
        survives = "holds"
    else:
        survives = "fails"
    more = [paired_t_verdict(get("noisy", "shift") - get(other, "shift")) for other in ("batch", "none")]
    more_shift = "fails" if False in more else ("holds" if more == [True, True] else "inconclusive")
    less = paired_t_verdict(get("none", "shift") - get("batch", "shift"))
    return {"bn-benefit-survives-shift": survives, "noise-increases-shift": more_shift,
            "bn-reduces-shift": {True: "holds", False: "fails", None: "inconclusive"}[less]}


def test_verdicts_follow_from_the_measurements(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    assert {c.id: c.verdict for c in result.claims} == expected_verdicts(config, section)
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


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
