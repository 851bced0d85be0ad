import dataclasses

import numpy as np
import pytest

from replab.experiments.bn import study as bnstudy
from replab.experiments.bn.gradients.config import Config
from replab.experiments.bn.gradients.judge import judge
from replab.experiments.bn.gradients.measure import SUMMARIES, Dataset, Measurements, Network, Spectrum

CLAIMS = ["bn-jacobian-near-one", "bn-jacobian-closer-to-one", "bn-jacobian-isometry", "bn-gradients-keep-size",
          "bn-gradients-more-even"]

SEEDS = 6
JITTER = np.array([-1.0, -0.5, 0.0, 0.2, 0.5, 0.8])
"""Per-seed noise with mean 0 (so a value + c·JITTER has mean exactly the value)."""
POINTS = 4
CONFIG = dataclasses.replace(Config.quick(), n_seeds=SEEDS)


def spectrum(shape, **per_seed):
    """A Spectrum whose fields are 1 except the given per-seed values, broadcast over layers and points."""
    fields = {key: np.ones(shape) for key in SUMMARIES}
    for key, values in per_seed.items():
        values = np.asarray(values, float)
        fields[key] = np.broadcast_to(values[None, :, None] if len(shape) == 3 else values, shape).copy()
    return Spectrum(**fields)


def network(within, rms, distance, spread):
    gradients = np.ones((SEEDS, POINTS, 3))
    gradients[..., 2] = np.asarray(spread, float)[:, None]  # max/min over the hidden layers = spread
    return Network(
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
    return Dataset(info, np.arange(POINTS) * 100, (2, 3), network(**BASELINE), network(**{**HOLDS, **bn_changes}))


def verdicts(*datasets, config=CONFIG):
    claims = judge(config, Measurements(tuple(datasets)))
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
