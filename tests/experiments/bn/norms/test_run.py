import dataclasses
import json

import numpy as np
import pytest
import scipy.stats

import replab.experiments.bn.norms as package
from replab.experiments import load
from replab.experiments.bn.norms.measure import DatasetResult, KindResult, Measurements, Timing
from replab.experiments.bn.norms.present import BENCHMARK_ROW, benchmark_note, kinds_table
from replab.experiments.bn.study import DatasetInfo
from tests.experiments.bn.norms.test_judge import CLAIMS


def rebuilt(result) -> Measurements:
    """The measurements the run judged and presented, rebuilt from its metrics (every field but the record times,
    which are TensorBoard's)."""
    metrics = result.metrics

    def arrays(fields: dict) -> dict:
        return {key: np.asarray(value) if isinstance(value, list) else value for key, value in fields.items()}

    datasets = tuple(
        DatasetResult(DatasetInfo(**{**d["info"], "steps_per_second": tuple(d["info"]["steps_per_second"])}),
                      np.asarray(d["steps"]), {kind: KindResult(**arrays(r)) for kind, r in d["kinds"].items()},
                      d["best_mean_accuracy"], d["target_accuracy"])
        for d in metrics["datasets"])
    return Measurements(datasets, Timing(**metrics["timing"]), tuple(metrics["skip_notes"]))


@pytest.fixture
def quick(quick_run):
    """The session's quick run of norms, with the measurements it judged."""
    config, result = quick_run("norms")
    return config, rebuilt(result), result


@pytest.mark.slow
def test_quick_run_yields_every_table_figure_claim_and_scalar(quick):
    config, m, result = quick
    assert load("norms") is package
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


@pytest.mark.slow
def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.datasets == ("MNIST",) and c.base.seeds == config.n_seeds
               for c in result.claims)


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_fashion_mnist_is_compared_with_the_official_mlp_benchmark(quick):
    config, m, result = quick
    (d,) = m.datasets
    fashion = dataclasses.replace(d, info=dataclasses.replace(d.info, dataset="fashion-mnist"))
    table = kinds_table(config, fashion, m.timing)
    assert table.rows[-1][:3] == [BENCHMARK_ROW, "", "0.871"]
    (note,) = benchmark_note(config, (fashion,))
    assert "0.871" in note
    assert benchmark_note(config, m.datasets) == []  # MNIST only: no comparison
    assert all(row[0] != BENCHMARK_ROW for row in result.tables[0].rows)
