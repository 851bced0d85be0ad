"""Figure 1's findings on hand-built measurements: each reaches holds, fails and inconclusive, nothing trained."""

import dataclasses

import numpy as np
import pytest

from replab.experiments.bn.figure1.config import Config
from replab.experiments.bn.figure1.judge import judge
from replab.experiments.bn.figure1.measure import DatasetRun, Measurements

SEEDS, RECORDS, UNITS, EVERY = 6, 10, 4, 100
STEPS = np.arange(0, RECORDS + 1) * EVERY  # from step 0
JITTER = np.array([0.9, 1.1, 1.0, 0.8, 1.2, 1.05])
CELLS = ((0.1, 0.01), (0.5, 0.1))  # cell 0 is the paper-like cell
CONFIG = Config(n_seeds=SEEDS, learning_rates=(0.1, 0.5), weight_stds=(0.01, 0.1),
                paper_learning_rate=0.1, paper_weight_std=0.01)


def curves(finals, reach):
    """(S, R) accuracy curves: 0.1 until step reach[s], then finals[s]; so a curve's plateau is finals[s] and it
    first reaches 95% of any lower plateau at reach[s]."""
    finals, reach = np.broadcast_to(finals, SEEDS), np.broadcast_to(reach, SEEDS)
    return np.where(STEPS[None, :] >= reach[:, None], finals[:, None], 0.1)


def percentiles(median_drift, spread_drift):
    """(S, R, 3, F) percentiles whose median moves by median_drift[s] and whose 15–85 spread by spread_drift[s]
    around a mean spread of 2 (so the normalised drifts are half the raw ones)."""
    ramp = np.linspace(-0.5, 0.5, RECORDS + 1)[None, :, None]
    median = np.broadcast_to(median_drift, SEEDS)[:, None, None] * ramp + np.zeros((1, 1, UNITS))
    spread = 2 + np.broadcast_to(spread_drift, SEEDS)[:, None, None] * ramp + np.zeros((1, 1, UNITS))
    return np.stack([median - spread / 2, median, median + spread / 2], axis=2)


def cell(final_gain=0.01 * JITTER, reach=(600, 200 * JITTER), drift=((1.0, 1.0), (0.5 * JITTER, 0.5 * JITTER)),
         level=0.95):
    base_final = level + 0.002 * np.arange(SEEDS)
    accuracy = np.stack([curves(base_final, reach[0]), curves(base_final + np.asarray(final_gain), reach[1])])
    return accuracy, np.stack([percentiles(*drift[0]), percentiles(*drift[1])])


def run(paper=None, other=None, validation=None, dataset="mnist"):
    """Defaults: BN better, faster and more stable on every seed in both cells; cell 1 is every network's best on
    validation (so the tuned reading compares cell 1 with cell 1)."""
    paper = paper or cell()
    other = other or cell(level=0.96)
    accuracy = np.stack([paper[0], other[0]])
    validation = np.stack([accuracy[0, :, :, -1], accuracy[1, :, :, -1]]) if validation is None else validation
    return DatasetRun(
        dataset=dataset, source="hand-built", n_train=1000, n_validation=100, n_test=1000, binary=dataset == "mnist",
        per_seed_test=False, cells=CELLS, paper_cell=0, steps=STEPS, accuracy=accuracy,
        loss=np.ones(accuracy.shape), sigmoid_input=np.stack([paper[1], other[1]]),
        test_accuracy=accuracy[..., -1], validation_accuracy=validation, population_accuracy=accuracy[:, 1, :, -1],
        diverged_at=-np.ones((2, 2, SEEDS), int), record_every=EVERY, eval_size=500, probe_size=100, probe_unit=0,
        population_batches=10, steps_per_second=1.0, train_seconds=1.0, compile_seconds=1.0)


def measurements(*runs, skipped=()):
    return Measurements(runs or (run(),), tuple(skipped), tuple(f"{s} skipped" for s in skipped))


def verdicts(m, config=CONFIG):
    return {c.id: c.verdict for c in judge(config, m)}


IDS = ["bn-higher-accuracy", "bn-faster", "bn-stable-inputs",
       "bn-higher-accuracy-tuned", "bn-faster-tuned", "bn-stable-inputs-tuned"]


def test_all_six_hold_when_bn_is_better_faster_and_more_stable_on_every_seed():
    claims = judge(CONFIG, measurements())
    assert [c.id for c in claims] == IDS
    assert all(c.kind == "finding" and c.verdict == "holds" for c in claims)


@pytest.mark.parametrize("gain, verdict", [(0.01 * JITTER, "holds"), (-0.01 * JITTER, "fails"),
                                           (0.01 * np.array([1, -1, 0.5, -0.6, 0.2, -0.1]), "inconclusive")])
def test_bn_higher_accuracy_at_the_paper_cell(gain, verdict):
    v = verdicts(measurements(run(paper=cell(final_gain=gain))))
    assert v["bn-higher-accuracy"] == verdict and v["bn-higher-accuracy-tuned"] == "holds"


@pytest.mark.parametrize("reach, verdict", [((600, 200 * JITTER), "holds"), ((200 * JITTER, 600), "fails"),
                                            ((400, np.array([200, 600, 300, 500, 400, 400])), "inconclusive")])
def test_bn_faster_at_the_paper_cell(reach, verdict):
    assert verdicts(measurements(run(paper=cell(reach=reach))))["bn-faster"] == verdict


@pytest.mark.parametrize("drift, verdict", [
    (((1.0, 1.0), (0.5 * JITTER, 0.5 * JITTER)), "holds"),
    (((0.5 * JITTER, 0.5 * JITTER), (1.0, 1.0)), "fails"),
    (((1.0, 1.0), (0.5 * JITTER, 1 + 0.1 * np.array([1, -1, 0.5, -0.6, 0.2, -0.1]))), "inconclusive"),
    (((1.0, 1.0), (0.5 * JITTER, 1.5 * JITTER)), "fails"),  # median steadier but the spread drifts more
])
def test_bn_stable_inputs_at_the_paper_cell(drift, verdict):
    assert verdicts(measurements(run(paper=cell(drift=drift))))["bn-stable-inputs"] == verdict


def test_a_claim_holds_only_if_it_holds_on_both_datasets():
    fashion = run(paper=cell(final_gain=-0.01 * JITTER), dataset="fashion-mnist")
    v = verdicts(measurements(run(), fashion))
    assert v["bn-higher-accuracy"] == "fails" and v["bn-faster"] == "holds"
    claim = judge(CONFIG, measurements(run(), fashion))[0]
    assert [t.label.split(":")[0] for t in claim.tests] == ["MNIST", "Fashion-MNIST"]


def test_one_seed_is_inconclusive_with_a_reason():
    r = run()
    one = dataclasses.replace(
        r, accuracy=r.accuracy[:, :, :1], sigmoid_input=r.sigmoid_input[:, :, :1], loss=r.loss[:, :, :1],
        test_accuracy=r.test_accuracy[:, :, :1], validation_accuracy=r.validation_accuracy[:, :, :1],
        population_accuracy=r.population_accuracy[:, :1], diverged_at=r.diverged_at[:, :, :1])
    claims = judge(dataclasses.replace(CONFIG, n_seeds=1), measurements(one))
    assert all(c.verdict == "inconclusive" and "at least 2" in c.reason for c in claims)


def test_evidence_base_lists_a_skipped_dataset():
    config = dataclasses.replace(CONFIG, quick=True)
    claims = judge(config, measurements(run(), skipped=("Fashion-MNIST",)))
    assert all(c.base.datasets == ("MNIST",) and c.base.skipped == ("Fashion-MNIST",) and c.base.seeds == SEEDS
               and c.base.quick and c.base.partial for c in claims)
    assert "Fashion-MNIST missing" in claims[0].base.describe()
