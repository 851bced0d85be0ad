"""Figure 1's findings on hand-built measurements: each reaches holds, fails and inconclusive, nothing trained."""

import numpy as np
import pytest

from replab.experiments.bn import batchnorm

SEEDS, RECORDS, UNITS, EVERY = 6, 10, 4, 100
STEPS = np.arange(1, RECORDS + 1) * EVERY
JITTER = np.array([0.9, 1.1, 1.0, 0.8, 1.2, 1.05])


def curves(finals, reach):
    """(S, R) accuracy curves: 0.5 until step reach[s], then finals[s]; so a curve's plateau is finals[s] and it
    first reaches 95% of any lower plateau at reach[s]."""
    finals, reach = np.broadcast_to(finals, SEEDS), np.broadcast_to(reach, SEEDS)
    return np.where(STEPS[None, :] >= reach[:, None], finals[:, None], 0.5)


def percentiles(median_drift, spread_drift):
    """(S, R, 3, F) percentiles whose median moves by median_drift[s] and whose 15–85 spread by spread_drift[s]."""
    ramp = np.linspace(0, 1, RECORDS)[None, :, None]
    median = np.broadcast_to(median_drift, SEEDS)[:, None, None] * ramp + np.zeros((1, 1, UNITS))
    spread = 2 + np.broadcast_to(spread_drift, SEEDS)[:, None, None] * ramp + np.zeros((1, 1, UNITS))
    return np.stack([median - spread / 2, median, median + spread / 2], axis=2)


def measurements(final_gain=0.01 * JITTER, reach=(600, 200 * JITTER), drift=((1.0, 1.0), (0.5 * JITTER, 0.5 * JITTER))):
    """Defaults: BN better, faster and more stable on every seed, with spread across seeds."""
    base_final = 0.95 + 0.002 * np.arange(SEEDS)
    accuracy = np.stack([curves(base_final, reach[0]), curves(base_final + np.asarray(final_gain), reach[1])])
    sigmoid_input = np.stack([percentiles(*drift[0]), percentiles(*drift[1])])
    return batchnorm.Measurements(
        dataset="mnist", source="hand-built", n_train=1000, n_test=1000, binarize=True, steps=STEPS,
        accuracy=accuracy, loss=np.ones((2, SEEDS, RECORDS)), sigmoid_input=sigmoid_input,
        final_accuracy_population=accuracy[1, :, -1], diverged_at=-np.ones((2, SEEDS), int), record_every=EVERY,
        probe_unit=0, probe_size=100, population_batches=10, steps_per_second=1.0, train_seconds=1.0,
        compile_seconds=1.0)


def verdicts(m, config=None):
    config = config or batchnorm.Config(n_seeds=SEEDS, quick=False)
    return {c.id: c.verdict for c in batchnorm.judge(config, m)}


def test_all_three_hold_when_bn_is_better_faster_and_more_stable_on_every_seed():
    assert verdicts(measurements()) == {"bn-higher-accuracy": "holds", "bn-faster": "holds", "bn-stable-inputs": "holds"}


@pytest.mark.parametrize("gain, verdict", [(0.01 * JITTER, "holds"), (-0.01 * JITTER, "fails"),
                                           (0.01 * np.array([1, -1, 0.5, -0.6, 0.2, -0.1]), "inconclusive")])
def test_bn_higher_accuracy(gain, verdict):
    assert verdicts(measurements(final_gain=gain))["bn-higher-accuracy"] == verdict


@pytest.mark.parametrize("reach, verdict", [((600, 200 * JITTER), "holds"), ((200 * JITTER, 600), "fails"),
                                            ((400, np.array([200, 600, 300, 500, 400, 400])), "inconclusive")])
def test_bn_faster(reach, verdict):
    assert verdicts(measurements(reach=reach))["bn-faster"] == verdict


def test_bn_faster_is_per_seed_against_the_lower_plateau():
    m = measurements(final_gain=np.full(SEEDS, -0.2))  # BN plateaus far lower: the target is 95% of BN's plateau
    np.testing.assert_allclose(m.target, 0.95 * m.plateau[1])
    np.testing.assert_array_equal(m.steps_to_target[1], np.ceil(200 * JITTER / EVERY) * EVERY)


def test_a_curve_that_never_reaches_counts_the_budget_plus_one_record_interval():
    m = measurements()
    accuracy = m.accuracy.copy()
    accuracy[1, 0] = np.nan  # seed 0's BN network produced no number: it never reaches the baseline's target
    m = type(m)(**{**m.__dict__, "accuracy": accuracy})
    assert m.never_reached == STEPS[-1] + EVERY
    assert m.steps_to_target[1, 0] == STEPS[-1] + EVERY and m.steps_to_target[0, 0] == 600
    assert np.isfinite(m.target).all()


@pytest.mark.parametrize("drift, verdict", [
    (((1.0, 1.0), (0.5 * JITTER, 0.5 * JITTER)), "holds"),
    (((0.5 * JITTER, 0.5 * JITTER), (1.0, 1.0)), "fails"),
    (((1.0, 1.0), (0.5 * JITTER, 1 + 0.1 * np.array([1, -1, 0.5, -0.6, 0.2, -0.1]))), "inconclusive"),
    (((1.0, 1.0), (0.5 * JITTER, 1.5 * JITTER)), "fails"),  # median steadier but the spread drifts more
])
def test_bn_stable_inputs(drift, verdict):
    assert verdicts(measurements(drift=drift))["bn-stable-inputs"] == verdict


def test_stable_inputs_uses_every_unit():
    m = measurements()
    inputs = m.sigmoid_input.copy()
    inputs[1, :, :, :, 1:] *= 10  # BN: every unit but the probed one drifts ten times as much
    m = type(m)(**{**m.__dict__, "sigmoid_input": inputs})
    assert verdicts(m)["bn-stable-inputs"] == "fails"


def test_one_seed_is_inconclusive_with_a_reason():
    m = measurements()
    one = type(m)(**{**m.__dict__, "accuracy": m.accuracy[:, :1], "sigmoid_input": m.sigmoid_input[:, :1],
                     "final_accuracy_population": m.final_accuracy_population[:1], "diverged_at": m.diverged_at[:, :1]})
    claims = batchnorm.judge(batchnorm.Config(n_seeds=1), one)
    assert all(c.verdict == "inconclusive" and "at least 2" in c.reason for c in claims)


def test_evidence_base_records_dataset_seeds_and_quick():
    claims = batchnorm.judge(batchnorm.Config(n_seeds=SEEDS, quick=True), measurements())
    assert all(c.base.datasets == ("MNIST",) and c.base.seeds == SEEDS and c.base.quick and not c.base.skipped
               for c in claims)
    assert all(c.kind == "finding" for c in claims)


def test_presentation_draws_from_hand_built_measurements():
    config = batchnorm.Config(n_seeds=SEEDS, steps=1000, record_every=100)
    presentation = batchnorm.present(config, measurements())
    assert set(presentation.figures) == set(presentation.captions) == {"test_accuracy", "sigmoid_input"}
    assert len(presentation.tables) == 3 and presentation.notes
    metrics = measurements().to_metrics()
    assert metrics["steps_to_target"]["baseline"] == [600] * SEEDS and "sigmoid_input" in metrics
