import dataclasses

import numpy as np
import pytest

from replab.experiments.bn.norms.config import Config
from replab.experiments.bn.norms.judge import judge
from replab.experiments.bn.norms.measure import DatasetResult, KindResult, Measurements, Timing
from replab.experiments.bn.study import DatasetInfo

CLAIMS = ["norms-train-faster", "bn-best-or-tied", "batch-free-match-bn"]

# --- judge() on hand-built measurements ----------------------------------------------------------------------------

SEEDS = 6
J1 = np.array([-1.0, -0.5, 0.0, 0.2, 0.5, 0.8])
J2 = np.array([0.5, -1.0, 0.8, -0.5, 0.2, 0.0])
AROUND = np.array([-1.0, 1.0, 0.0, 0.4, -0.4, 0.0])
"""Zero-mean per-seed noise; AROUND is symmetric, so a value + c·AROUND sits exactly on the null."""
CONFIG = dataclasses.replace(Config.quick(), n_seeds=SEEDS)
BN_FINAL = 0.95 + 0.001 * J2
HOLDS = {"none": (0.80 + 0.01 * J1, 0.50 + 0.01 * J1), "batch": (BN_FINAL, 0.85 + 0.01 * J2),
         "layer": (0.95 + 0.001 * J1, 0.80 + 0.01 * J2)}
"""kind -> (final accuracy, accuracy averaged over the curve), per seed."""


def dataset(name="mnist", **changes):
    kinds = {}
    for kind, (final, curve) in {**HOLDS, **changes}.items():
        kinds[kind] = KindResult(np.asarray(final, float), np.asarray(curve, float)[:, None] * np.ones(3),
                                 np.asarray(final, float), np.full(SEEDS, -1), None)
    info = DatasetInfo(name, "hand-built", 100, 100, True, 100, (1.0,), 1.0, 1.0)
    return DatasetResult(info, np.array([100, 200, 300]), kinds, 0.95, 0.93)


TIMING = Timing("mnist", 50, 3, SEEDS, {"none": 1.0, "batch": 1.5, "layer": 1.2},
                {"none": 1.0, "batch": 1.5, "layer": 1.2})


def verdicts(*datasets, config=CONFIG):
    claims = judge(config, Measurements(tuple(datasets), TIMING))
    assert [c.id for c in claims] == CLAIMS
    return {c.id: c for c in claims}


@pytest.mark.parametrize("claim_id, layer, expected", [
    ("norms-train-faster", HOLDS["layer"], "holds"),
    ("norms-train-faster", (HOLDS["layer"][0], 0.40 + 0.01 * J2), "fails"),             # slower than none
    ("norms-train-faster", (HOLDS["layer"][0], 0.50 + 0.01 * J1 + 0.001 * AROUND), "fails"),  # within the tie
    ("norms-train-faster", (HOLDS["layer"][0], 0.50 + 0.01 * J1 + 0.05 * AROUND), "inconclusive"),
    ("bn-best-or-tied", HOLDS["layer"], "holds"),
    ("bn-best-or-tied", (0.97 + 0.001 * J1, HOLDS["layer"][1]), "fails"),
    ("bn-best-or-tied", (BN_FINAL + 0.005 + 0.003 * AROUND, HOLDS["layer"][1]), "inconclusive"),
    ("batch-free-match-bn", HOLDS["layer"], "holds"),
    ("batch-free-match-bn", (BN_FINAL - 0.03 + 0.001 * J1, HOLDS["layer"][1]), "fails"),
    ("batch-free-match-bn", (BN_FINAL - 0.005 + 0.003 * AROUND, HOLDS["layer"][1]), "inconclusive"),
])
def test_each_finding_reaches_holds_fails_and_inconclusive(claim_id, layer, expected):
    claim = verdicts(dataset(layer=layer))[claim_id]
    assert claim.verdict == expected, claim.tests


def test_one_test_per_kind_and_dataset_and_a_missing_dataset_is_recorded():
    config = dataclasses.replace(CONFIG, datasets=("mnist", "fashion-mnist"))
    both = verdicts(dataset("mnist"), dataset("fashion-mnist", layer=(BN_FINAL - 0.03 + 0.001 * J1,
                                                                     HOLDS["layer"][1])), config=config)
    free = both["batch-free-match-bn"]
    assert [t.label for t in free.tests] == ["MNIST: LayerNorm − BN", "Fashion-MNIST: LayerNorm − BN"]
    assert [t.verdict for t in free.tests] == ["holds", "fails"] and free.verdict == "fails"
    one = verdicts(dataset("mnist"), config=config)["bn-best-or-tied"]
    assert one.base.skipped == ("Fashion-MNIST",) and "1 of 2 datasets" in one.base.describe()


def test_without_batchnorm_only_the_speed_claim_is_made():
    config = dataclasses.replace(CONFIG, kinds=("none", "layer"))
    d = dataset()
    d = dataclasses.replace(d, kinds={k: v for k, v in d.kinds.items() if k != "batch"})
    claims = judge(config, Measurements((d,), TIMING))
    assert [c.id for c in claims] == ["norms-train-faster"] and claims[0].verdict == "holds"
