import dataclasses
import json

import numpy as np
import pytest
import scipy.stats

from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import norms
from replab.experiments.bn import study as bnstudy
from replab.nn.normalized_mlp import NORMS, blocks_of

CLAIMS = ["norms-train-faster", "bn-best-or-tied", "batch-free-match-bn"]


@pytest.fixture(scope="module")
def quick():
    """One quick run through run(), keeping the measurements it judged."""
    config = norms.Config.quick()
    captured = {}
    measure = norms.measure

    def spy(config, progress):
        captured["m"] = measure(config, progress)
        return captured["m"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(norms, "measure", spy)
        result = norms.run(config)
    return config, captured["m"], result


def test_quick_run_yields_every_table_figure_claim_and_scalar(quick):
    config, m, result = quick
    assert load("norms") is norms
    assert set(result.figures) == {"curves", "final_accuracy", "time_per_step"} == set(result.captions)
    assert [c.id for c in result.claims] == CLAIMS and all(c.kind == "finding" for c in result.claims)
    assert [t.title for t in result.tables] == ["Normalisations on MNIST"]
    json.dumps(result.metrics, allow_nan=False)  # result.json can hold the metrics and the claims
    json.dumps([c.to_dict() for c in result.claims])
    assert [row[0] for row in result.tables[0].rows] == ["no normalisation", "BatchNorm", "LayerNorm"]
    assert set(result.scalars) == {f"mnist/{kind}" for kind in config.kinds}
    (d,) = m.datasets
    n_records = config.steps // config.record_every
    assert d.steps.tolist() == [config.record_every * (r + 1) for r in range(n_records)]
    for kind in config.kinds:
        r = d.kinds[kind]
        assert r.curves.shape == (config.n_seeds, n_records)
        assert all(0 <= a <= 1 for a in [*r.final_accuracy, *r.curve_mean, *r.train_accuracy])
        assert r.diverged_at.tolist() == [-1] * config.n_seeds
    assert d.kinds["batch"].final_accuracy.min() > 0.5  # BN learns in a few hundred steps
    timing = m.timing
    assert set(timing.ms_per_step) == set(config.kinds) and all(ms > 0 for ms in timing.ms_per_step.values())
    assert timing.ratio_to_none["none"] == 1.0
    metrics = result.metrics
    assert set(metrics["datasets"][0]["kinds"]) == set(config.kinds) and "ms_per_step" in metrics["timing"]
    times = [point[2] for point in result.scalars["mnist/batch"]["accuracy/test_mean"]]
    assert len(times) == n_records and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in metrics["datasets"][0]  # TensorBoard's, not a metric


def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.datasets == ("MNIST",) and c.base.seeds == config.n_seeds
               for c in result.claims)


def test_the_tests_are_the_per_seed_comparisons_the_claims_describe(quick):
    """Each test re-derived from the recorded per-seed numbers with plain numpy and scipy."""
    config, m, result = quick
    (d,) = m.datasets
    final = {k: d.kinds[k].final_accuracy for k in config.kinds}
    curve = {k: d.kinds[k].curves.mean(axis=1) for k in config.kinds}
    tie = config.tie_within
    claims = {c.id: c for c in result.claims}

    faster = claims["norms-train-faster"].tests
    assert [t.label for t in faster] == ["MNIST: BatchNorm", "MNIST: LayerNorm"]
    for test, kind in zip(faster, ("batch", "layer")):
        assert test.effect == pytest.approx((curve[kind] - curve["none"]).mean()) and test.margin == tie
        assert test.p_greater == pytest.approx(
            scipy.stats.ttest_rel(curve[kind], curve["none"], alternative="greater").pvalue)
    best = claims["bn-best-or-tied"].tests
    for test, kind in zip(best, ("none", "layer")):
        assert test.null == -tie and test.effect == pytest.approx((final["batch"] - final[kind]).mean())
        assert test.p_greater == pytest.approx(
            scipy.stats.ttest_1samp(final["batch"] - final[kind], -tie, alternative="greater").pvalue)
    (free,) = claims["batch-free-match-bn"].tests
    assert free.null == -tie and free.effect == pytest.approx((final["layer"] - final["batch"]).mean())
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


def test_steps_to_target_is_the_first_record_where_the_mean_curve_reaches_it(quick):
    config, m, _ = quick
    (d,) = m.datasets
    best = max(np.mean(d.kinds[k].final_accuracy) for k in config.kinds)
    assert d.target_accuracy == pytest.approx(best - config.target_within)
    for kind in config.kinds:
        mean_curve = d.kinds[kind].curves.mean(axis=0)
        hits = np.flatnonzero(mean_curve >= d.target_accuracy)
        expected = int(d.steps[hits[0]]) if hits.size else None
        assert d.kinds[kind].steps_to_target == expected


def test_fashion_mnist_is_compared_with_the_official_mlp_benchmark(quick):
    config, m, result = quick
    (d,) = m.datasets
    fashion = dataclasses.replace(d, info=dataclasses.replace(d.info, dataset="fashion-mnist"))
    table = norms.kinds_table(config, fashion, m.timing)
    assert table.rows[-1][:3] == [norms.BENCHMARK_ROW, "", "0.871"]
    (note,) = norms.benchmark_note(config, (fashion,))
    assert "0.871" in note
    assert norms.benchmark_note(config, m.datasets) == []  # MNIST only: no comparison
    assert all(row[0] != norms.BENCHMARK_ROW for row in result.tables[0].rows)


# --- judge() on hand-built measurements ----------------------------------------------------------------------------

SEEDS = 6
J1 = np.array([-1.0, -0.5, 0.0, 0.2, 0.5, 0.8])
J2 = np.array([0.5, -1.0, 0.8, -0.5, 0.2, 0.0])
AROUND = np.array([-1.0, 1.0, 0.0, 0.4, -0.4, 0.0])
"""Zero-mean per-seed noise; AROUND is symmetric, so a value + c·AROUND sits exactly on the null."""
CONFIG = dataclasses.replace(norms.Config.quick(), n_seeds=SEEDS)
BN_FINAL = 0.95 + 0.001 * J2
HOLDS = {"none": (0.80 + 0.01 * J1, 0.50 + 0.01 * J1), "batch": (BN_FINAL, 0.85 + 0.01 * J2),
         "layer": (0.95 + 0.001 * J1, 0.80 + 0.01 * J2)}
"""kind -> (final accuracy, accuracy averaged over the curve), per seed."""


def dataset(name="mnist", **changes):
    kinds = {}
    for kind, (final, curve) in {**HOLDS, **changes}.items():
        kinds[kind] = norms.KindResult(np.asarray(final, float), np.asarray(curve, float)[:, None] * np.ones(3),
                                       np.asarray(final, float), np.full(SEEDS, -1), None)
    info = bnstudy.DatasetInfo(name, "hand-built", 100, 100, True, 100, (1.0,), 1.0, 1.0)
    return norms.Dataset(info, np.array([100, 200, 300]), kinds, 0.95, 0.93)


TIMING = norms.Timing("mnist", 50, 3, SEEDS, {"none": 1.0, "batch": 1.5, "layer": 1.2},
                      {"none": 1.0, "batch": 1.5, "layer": 1.2})


def verdicts(*datasets, config=CONFIG):
    claims = norms.judge(config, norms.Measurements(tuple(datasets), TIMING))
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
    claims = norms.judge(config, norms.Measurements((d,), TIMING))
    assert [c.id for c in claims] == ["norms-train-faster"] and claims[0].verdict == "holds"


def test_hand_built_measurements_present_without_training():
    m = norms.Measurements((dataset(),), TIMING)
    presentation = norms.present(CONFIG, m)
    assert set(presentation.figures) == set(presentation.captions) and len(presentation.tables) == 1
    assert m.to_metrics()["timing"]["ms_per_step"]["batch"] == 1.5


# --- the pieces -----------------------------------------------------------------------------------------------------


def test_the_default_population_holds_all_seven_kinds_in_contiguous_blocks():
    config = norms.Config()
    cells, rates = norms.cells(config)
    members = bnstudy.population(cells, config.n_seeds)
    blocks = blocks_of(members)
    assert [b.norm for b in blocks] == list(NORMS)
    assert all(b.stop - b.start == config.n_seeds * len(config.learning_rates) for b in blocks)
    assert rates == list(config.learning_rates) * len(NORMS)
    assert config.options.renorm_ramp_steps == config.steps // 4
    assert config.options.groups == config.groups


def test_each_kind_is_judged_at_its_own_rate_chosen_on_validation_never_on_a_diverged_rate():
    validation = np.array([[0.8, 0.8], [0.9, 0.9], [0.95, 0.95]])
    diverged = np.array([[-1, -1], [-1, -1], [-1, 40]])
    assert norms.best_rate(validation, diverged) == 1
    digits = bnstudy.load_datasets(norms.Config.quick())[0][0]
    train, x_val, _ = norms.split_validation(digits, 500)
    assert train.n_train + len(x_val) == digits.n_train
    np.testing.assert_array_equal(x_val, digits.x_train[train.n_train:])


def test_quick_is_quick_and_a_saved_config_replays():
    config = norms.Config.quick()
    assert config.quick and not norms.Config().quick
    assert norms.Config.from_dict(dataclasses.asdict(config)) == config


def test_bad_settings_are_refused_with_one_sentence():
    for bad in ({"kinds": ("batch", "layer")}, {"kinds": ("none", "cheese")}, {"kinds": ("none", "batch", "batch")},
                {"groups": 3}, {"groups": 10**6}, {"renorm_ramp_fraction": 1.5},
                {"renorm_ramp_fraction": float("nan")}, {"target_within": 0.0}, {"target_within": float("inf")},
                {"tie_within": -0.1}, {"tie_within": 0.0}, {"timing_steps": 5}, {"timing_steps": 10**7},
                {"timing_rounds": 0}, {"timing_rounds": 1000}, {"steps": 0}, {"n_seeds": 1}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(norms.Config(), **bad)
        assert "\n" not in str(error.value)
    assert dataclasses.replace(norms.Config(), kinds=("none", "weight"), groups=3).groups == 3  # no GroupNorm: any
