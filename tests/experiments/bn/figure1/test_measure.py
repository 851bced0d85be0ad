"""Figure 1's measurements: a missing dataset is skipped loudly (a tiny run), and DatasetRun's readings — the target,
the steps to it, the drift, the tuned cells — on hand-built runs."""

import dataclasses

import numpy as np
import pytest

import replab.experiments.bn.figure1.measure as figure1_measure
from replab.errors import UserError
from replab.experiments.bn.figure1.judge import judge
from replab.experiments.bn.figure1.measure import measure
from replab.experiments.bn.figure1.present import present
from tests.experiments.bn.figure1.test_judge import (
    CONFIG,
    EVERY,
    JITTER,
    RECORDS,
    SEEDS,
    STEPS,
    cell,
    measurements,
    run,
    verdicts,
)
from tests.experiments.bn.figure1.test_train import tiny


@pytest.mark.slow
def test_missing_fashion_mnist_is_skipped_loudly(monkeypatch):
    real = figure1_measure.load_digits

    def load(name, **kwargs):
        if name == "fashion-mnist":
            raise UserError("Fashion-MNIST not found; run `replab data fetch fashion-mnist`.")
        return real(name, **kwargs)

    monkeypatch.setattr(figure1_measure, "load_digits", load)
    config = tiny(datasets=("mnist", "fashion-mnist"))
    m = measure(config)
    assert [run.dataset for run in m.runs] == ["mnist"] and m.skipped == ("Fashion-MNIST",)
    claims = judge(config, m)
    assert all(c.base.skipped == ("Fashion-MNIST",) for c in claims)
    notes = present(config, m).notes
    assert notes[0].startswith("FASHION-MNIST SKIPPED") and "replab data fetch" in notes[0]
    assert m.to_metrics()["skipped"] == ["Fashion-MNIST"]


def test_faster_is_per_seed_against_the_lower_plateau():
    r = run(paper=cell(final_gain=np.full(SEEDS, -0.3)))  # BN plateaus far lower: the target is 95% of BN's plateau
    np.testing.assert_allclose(r.target((0, 0)), 0.95 * r.plateau[0, 1])
    np.testing.assert_array_equal(r.steps_to_target((0, 0))[1], np.ceil(200 * JITTER / EVERY) * EVERY)


def test_step_zero_never_counts_as_reaching_the_target():
    accuracy = run().accuracy.copy()
    accuracy[..., 0] = 1.0  # even a perfect score before any update is not "reached in 0 steps"
    r = dataclasses.replace(run(), accuracy=accuracy)
    assert r.steps_to_target((0, 0)).min() >= EVERY


def test_a_curve_that_never_reaches_counts_the_budget_plus_one_record_interval():
    accuracy = run().accuracy.copy()
    accuracy[0, 1, 0] = np.nan  # seed 0's BN network at the paper cell produced no number
    r = dataclasses.replace(run(), accuracy=accuracy)
    assert r.never_reached == STEPS[-1] + EVERY
    steps_to = r.steps_to_target((0, 0))
    assert steps_to[1, 0] == STEPS[-1] + EVERY and steps_to[0, 0] == 600 and np.isfinite(r.target((0, 0))).all()


def test_drift_is_normalised_by_the_spread_and_uses_every_unit():
    r = run()
    np.testing.assert_allclose(r.unit_drift[0, 0], 0.5)  # raw drift 1 against a mean spread of 2
    inputs = r.sigmoid_input.copy()
    inputs[0, 1, :, :, :, 1:] *= 10  # BN: the median moves ten times as much in every unit but the probed one …
    # … while every spread grows tenfold too, so the normalised drift is unchanged: a shift is judged against width
    np.testing.assert_allclose(dataclasses.replace(r, sigmoid_input=inputs).unit_drift, r.unit_drift)
    inputs = r.sigmoid_input.copy()
    inputs[0, 1, :, :, 1, 1:] += 5 * np.linspace(0, 1, RECORDS + 1)[None, :, None]  # medians of units 1.. drift
    assert verdicts(measurements(dataclasses.replace(r, sigmoid_input=inputs)))["bn-stable-inputs"] == "fails"


def test_the_tuned_cells_are_chosen_on_validation_never_on_test():
    r = run()
    assert r.tuned_cells == (1, 1) and r.pair("tuned") == (1, 1) and r.pair("paper") == (0, 0)
    validation = r.validation_accuracy.copy()
    validation[0, 0] += 0.5  # the baseline looks best at cell 0 on validation; its test accuracy is unchanged
    r = dataclasses.replace(r, validation_accuracy=validation)
    assert r.tuned_cells == (0, 1)
    claim = {c.id: c for c in judge(CONFIG, measurements(r))}["bn-higher-accuracy-tuned"]
    expected = r.test_accuracy[1, 1] - r.test_accuracy[0, 0]
    assert claim.tests[0].effect == pytest.approx(expected.mean())
    assert "baseline lr 0.1, std 0.01 vs BN lr 0.5, std 0.1" in claim.tests[0].label
