import numpy as np
import pytest

from replab.experiments.bn.lr.config import Config
from replab.experiments.bn.lr.judge import fastest_per_seed, judge
from replab.experiments.bn.lr.measure import DatasetResult, Measurements
from replab.experiments.bn.study import DatasetInfo

INFO = DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (100.0,), 1.0, 1.0)
RATES = (0.1, 1.0, 10.0)


def measurements(largest, crossing, diverged=None, steps=(100, 200, 300, 400)):
    """largest[model][seed]: the largest rate that trains well (0.9 up to it, chance above); crossing[model][seed]:
    the record index where every rate's curve jumps from 0.1 to 0.9 (len(steps): never)."""
    largest, crossing = np.asarray(largest, float), np.asarray(crossing)
    rates = np.asarray(RATES)[None, :, None]
    final = np.where(rates <= largest[:, None, :], 0.9, 0.1)
    index = np.arange(len(steps))
    curves = np.where(index[None, None, None, :] >= crossing[:, None, :, None], 0.9, 0.1)
    curves = np.broadcast_to(curves, (*final.shape, len(steps))).copy()
    if diverged is None:
        diverged = np.full(final.shape, -1)
    d = DatasetResult(INFO, np.asarray(steps), final, curves, np.asarray(diverged))
    return Measurements(np.asarray(RATES), (d,))


def config(n_seeds=6, **kwargs):
    return Config(learning_rates=RATES, n_seeds=n_seeds, steps=400, record_every=100, **kwargs)


def verdicts(cfg, m):
    return {c.id: c.verdict for c in judge(cfg, m)}


NEVER = 4
CROSS = dict(faster=[[3, 3, 2, 3, 3, 2], [1, 0, 1, 1, 0, 1]],
             slower=[[1, 0, 1, 1, 0, 1], [3, 3, 2, 3, 3, 2]],
             mixed=[[1, 2, 1, 2, 1, 3], [2, 1, 2, 1, 3, 1]])
LARGEST = dict(higher=[[1, 0.1, 1, 1, 0.1, 1], [10] * 6],
               lower=[[10] * 6, [1, 0.1, 1, 1, 0.1, 1]],
               mixed=[[1, 10, 0.1, 10, 1, 1], [10, 1, 1, 0.1, 10, 1]])


@pytest.mark.parametrize("largest, expected", [("higher", "holds"), ("lower", "fails"), ("mixed", "inconclusive")])
def test_higher_learning_rates_is_a_paired_test_over_seeds(largest, expected):
    assert verdicts(config(), measurements(LARGEST[largest], CROSS["mixed"]))["bn-higher-learning-rates"] == expected


def test_a_constant_ratio_over_three_seeds_is_not_enough_evidence():
    # The old rule compared one ratio of means with 1 and flipped between 3.3× and 10× with the seed; now a
    # ratio of 10× on each of 3 seeds is an exact sign test (p = 1/8): inconclusive, on 8 seeds it holds.
    m = measurements([[1] * 3, [10] * 3], [[2] * 3, [1] * 3])
    assert verdicts(config(3), m)["bn-higher-learning-rates"] == "inconclusive"
    m = measurements([[1] * 8, [10] * 8], [[2] * 8, [1] * 8])
    assert verdicts(config(8), m)["bn-higher-learning-rates"] == "holds"


@pytest.mark.parametrize("crossing, expected", [("faster", "holds"), ("slower", "fails"), ("mixed", "inconclusive")])
def test_lr_faster_compares_steps_to_target_per_seed(crossing, expected):
    assert verdicts(config(), measurements(LARGEST["mixed"], CROSS[crossing]))["bn-lr-faster"] == expected


def test_a_seed_that_never_reaches_the_target_is_censored_one_record_past_the_budget():
    cfg = config()
    m = measurements(LARGEST["mixed"], [[NEVER] * 6, [1, 0, 1, 1, 0, 1]])
    fastest = fastest_per_seed(cfg, m.datasets[0])
    assert fastest[0].tolist() == [500.0] * 6 and fastest[1].tolist() == [200, 100, 200, 200, 100, 200]
    assert verdicts(cfg, m)["bn-lr-faster"] == "holds"
    # The target sits below the best mean curve's end, so some cell always reaches it unless every member diverged.
    crashed = measurements(LARGEST["mixed"], CROSS["faster"], diverged=np.full((2, len(RATES), 6), 10))
    claims = {c.id: c for c in judge(cfg, crashed)}
    assert claims["bn-lr-faster"].verdict == "inconclusive"
    assert "neither network reaches the target" in claims["bn-lr-faster"].reason


def test_a_seed_where_every_rate_diverged_makes_the_rate_claim_unavailable():
    diverged = np.full((2, len(RATES), 6), -1)
    diverged[0, :, 2] = 50
    claim = judge(config(), measurements(LARGEST["higher"], CROSS["faster"], diverged))[0]
    assert claim.verdict == "inconclusive" and "every rate diverged" in claim.reason


def test_a_missing_dataset_is_recorded_as_skipped():
    claims = judge(config(datasets=("mnist", "fashion-mnist")), measurements(LARGEST["higher"], CROSS["faster"]))
    assert all(c.base.datasets == ("MNIST",) and c.base.skipped == ("Fashion-MNIST",) for c in claims)
    assert "1 of 2 datasets" in claims[0].base.describe()
