import dataclasses

import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import bn_lr, study
from replab.experiments.base import apply_overrides

INFO = study.DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (100.0,), 1.0, 1.0)
RATES = (0.1, 1.0, 10.0)


@pytest.fixture(scope="module")
def quick():
    config = bn_lr.Config.quick()
    return config, bn_lr.run(config)


def test_quick_run_yields_figures_tables_claims_and_scalars(quick):
    config, result = quick
    assert set(result.figures) == {"final_accuracy", "curves"}
    assert set(result.captions) == set(result.figures)
    assert [c.id for c in result.claims] == ["bn-higher-learning-rates", "bn-lr-faster"]
    assert all(c.kind == "finding" and c.verdict in ("holds", "fails", "inconclusive") for c in result.claims)
    assert [t.title for t in result.tables] == ["Learning-rate grid on MNIST"]
    assert len(result.tables[0].rows) == len(config.learning_rates)
    assert len(result.scalars) == 2 * len(config.learning_rates)
    (section,) = result.metrics["datasets"]
    final = np.asarray(section["final_accuracy"])
    assert final.shape == (len(bn_lr.MODELS), len(config.learning_rates), config.n_seeds)
    assert np.all((final >= 0) & (final <= 1))
    times = [point[2] for point in result.scalars[f"mnist/batch/lr{config.learning_rates[0]:g}"]["accuracy/test_mean"]]
    assert len(times) == len(section["steps"]) and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in section  # when it ran is TensorBoard's, not a metric
    # With BN the network learns at every rate of the quick grid but the largest; without BN it does not at lr 10.
    assert final[1, :3].mean(axis=-1).min() > 0.6
    assert final[0, 2].mean() < 0.2
    assert load("bn-lr") is bn_lr


def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.datasets == ("MNIST",) and c.base.seeds == config.n_seeds
               for c in result.claims)


def test_every_member_of_a_cell_learns_from_its_own_rate():
    # The same seed at two rates must give different networks: the per-member rates reach the optimizer.
    config = dataclasses.replace(bn_lr.Config.quick(), learning_rates=(0.1, 0.2), steps=50, record_every=50)
    result = bn_lr.run(config)
    final = np.asarray(result.metrics["datasets"][0]["final_accuracy"])
    assert final[1, 0].tolist() != final[1, 1].tolist()


# --- claims on hand-built measurements ----------------------------------------------------------------------


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
    d = bn_lr.DatasetMeasurements(INFO, np.asarray(steps), final, curves, np.asarray(diverged))
    return bn_lr.LrMeasurements(np.asarray(RATES), (d,))


def config(n_seeds=6, **kwargs):
    return bn_lr.Config(learning_rates=RATES, n_seeds=n_seeds, steps=400, record_every=100, **kwargs)


def verdicts(cfg, m):
    return {c.id: c.verdict for c in bn_lr.judge(cfg, m)}


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
    fastest = bn_lr.fastest_per_seed(cfg, m.datasets[0])
    assert fastest[0].tolist() == [500.0] * 6 and fastest[1].tolist() == [200, 100, 200, 200, 100, 200]
    assert verdicts(cfg, m)["bn-lr-faster"] == "holds"
    # The target sits below the best mean curve's end, so some cell always reaches it unless every member diverged.
    crashed = measurements(LARGEST["mixed"], CROSS["faster"], diverged=np.full((2, len(RATES), 6), 10))
    claims = {c.id: c for c in bn_lr.judge(cfg, crashed)}
    assert claims["bn-lr-faster"].verdict == "inconclusive"
    assert "neither network reaches the target" in claims["bn-lr-faster"].reason


def test_a_seed_where_every_rate_diverged_makes_the_rate_claim_unavailable():
    diverged = np.full((2, len(RATES), 6), -1)
    diverged[0, :, 2] = 50
    claim = bn_lr.judge(config(), measurements(LARGEST["higher"], CROSS["faster"], diverged))[0]
    assert claim.verdict == "inconclusive" and "every rate diverged" in claim.reason


def test_a_missing_dataset_is_recorded_as_skipped():
    claims = bn_lr.judge(config(datasets=("mnist", "fashion-mnist")), measurements(LARGEST["higher"], CROSS["faster"]))
    assert all(c.base.datasets == ("MNIST",) and c.base.skipped == ("Fashion-MNIST",) for c in claims)
    assert "1 of 2 datasets" in claims[0].base.describe()


def test_presentation_draws_from_hand_built_measurements():
    cfg, m = config(), measurements(LARGEST["higher"], CROSS["faster"])
    shown = bn_lr.present(cfg, m)
    assert [t.title for t in shown.tables] == ["Learning-rate grid on MNIST"]
    assert shown.tables[0].rows[2][4] == "no" and shown.tables[0].rows[2][8] == "yes"  # lr 10: good only with BN
    assert bn_lr.largest_good_rate(cfg, m.datasets[0]) == [0.1, 10.0]  # on the means: lr 1 is good on 4 of 6 seeds only


@pytest.mark.parametrize("setting, message", [
    ({"learning_rates": "1,0.1"}, "learning_rates must be two to 32 increasing"),
    ({"learning_rates": "0.1"}, "learning_rates must be two to 32 increasing"),
    ({"datasets": "cifar"}, "datasets must list mnist and/or fashion-mnist"),
    ({"good_within": "2"}, "good_within must lie in"),
    ({"n_seeds": "1000"}, "n_seeds must be at most 100"),
    ({"data_dir": "/no/such/folder"}, "does not exist"),
])
def test_bad_settings_are_refused_with_one_sentence(setting, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(bn_lr.Config(), setting)


def test_non_finite_margins_are_refused():
    for name in ("good_within", "target_within"):
        with pytest.raises(ConfigError, match=f"{name} must be a finite number"):
            dataclasses.replace(bn_lr.Config(), **{name: float("nan")})
    with pytest.raises(ConfigError, match="learning_rates must be two to 32 increasing"):
        dataclasses.replace(bn_lr.Config(), learning_rates=(0.1, float("inf")))
