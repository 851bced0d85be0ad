import dataclasses

import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import bn_lr
from replab.experiments.base import apply_overrides


@pytest.fixture(scope="module")
def quick():
    config = bn_lr.Config.quick()
    return config, bn_lr.run(config)


def test_quick_run_yields_figures_tables_claims_and_scalars(quick):
    config, result = quick
    assert set(result.figures) == {"final_accuracy", "curves"}
    assert [c.id for c in result.claims] == ["bn-higher-learning-rates", "bn-lr-faster"]
    assert [t.title for t in result.tables] == ["Learning-rate grid on MNIST"]
    assert len(result.tables[0].rows) == len(config.learning_rates)
    assert len(result.scalars) == 2 * len(config.learning_rates)
    (section,) = result.metrics["datasets"]
    for model in bn_lr.MODELS:
        final = np.asarray(section["models"][model]["final_accuracy"])
        assert final.shape == (len(config.learning_rates), config.n_seeds)
        assert np.all((final >= 0) & (final <= 1))
    # With BN the network learns at every rate of the quick grid but the largest; without BN it does not at lr 10.
    assert min(section["models"]["batch"]["final_accuracy_mean"][:3]) > 0.6
    assert section["models"]["none"]["final_accuracy_mean"][2] < 0.2
    assert load("bn-lr") is bn_lr


def expected_verdicts(config, section):
    """Both verdicts, re-derived from the per-seed numbers with plain numpy."""
    rates = np.asarray(config.learning_rates)
    final = {m: np.asarray(section["models"][m]["final_accuracy"]) for m in bn_lr.MODELS}
    diverged = {m: np.asarray(section["models"][m]["diverged_at"]) >= 0 for m in bn_lr.MODELS}
    means = {m: np.where(diverged[m].any(axis=1), np.nan, final[m].mean(axis=1)) for m in bn_lr.MODELS}
    good = {m: np.nan_to_num(means[m], nan=-1) >= np.nanmax(means[m]) - config.good_within for m in bn_lr.MODELS}
    largest = {m: rates[good[m]].max() if good[m].any() else None for m in bn_lr.MODELS}
    if largest["batch"] is None:
        higher = "inconclusive" if largest["none"] is None else "fails"
    else:
        only_bn = (good["batch"] & ~good["none"]).any()
        higher = "holds" if only_bn and (largest["none"] is None or largest["batch"] > largest["none"]) else "fails"

    steps = np.asarray(section["steps"])
    curves = {m: np.asarray(section["models"][m]["curves_mean"]) for m in bn_lr.MODELS}  # (rates, R)
    intact = {m: ~diverged[m].any(axis=1) for m in bn_lr.MODELS}
    target = max(curves[m][intact[m], -1].max() for m in bn_lr.MODELS) - config.target_within
    fewest = {}
    for m in bn_lr.MODELS:
        hits = [steps[np.argmax(c >= target)] for c in curves[m][intact[m]] if (c >= target).any()]
        fewest[m] = min(hits) if hits else None
    if fewest["batch"] is None and fewest["none"] is None:
        faster = "inconclusive"
    else:
        faster = "holds" if fewest["batch"] is not None and (fewest["none"] is None or fewest["batch"] < fewest["none"]) else "fails"
    return {"bn-higher-learning-rates": higher, "bn-lr-faster": faster}


def test_verdicts_follow_from_the_measurements(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    assert {c.id: c.verdict for c in result.claims} == expected_verdicts(config, section)


def test_every_member_of_a_cell_learns_from_its_own_rate():
    # The same seed at two rates must give different networks: the per-member rates reach the optimizer.
    config = dataclasses.replace(bn_lr.Config.quick(), learning_rates=(0.1, 0.2), steps=50, record_every=50)
    result = bn_lr.run(config)
    final = result.metrics["datasets"][0]["models"]["batch"]["final_accuracy"]
    assert final[0] != final[1]


@pytest.mark.parametrize("setting, message", [
    ({"learning_rates": "1,0.1"}, "learning_rates must be two or more increasing"),
    ({"learning_rates": "0.1"}, "learning_rates must be two or more increasing"),
    ({"datasets": "cifar"}, "datasets must list mnist and/or fashion-mnist"),
    ({"good_within": "2"}, "good_within must lie in"),
    ({"data_dir": "/no/such/folder"}, "does not exist"),
])
def test_bad_settings_are_refused_with_one_sentence(setting, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(bn_lr.Config(), setting)
