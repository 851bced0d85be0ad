import copy
import dataclasses

import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments import load
from replab.experiments.bn import norms
from replab.experiments.bn import study as bnstudy
from replab.nn.normalized_mlp import NORMS, blocks_of
from tests.helpers import paired_t_verdict



@pytest.fixture(scope="module")
def quick():
    config = norms.Config.quick()
    return config, norms.run(config)


def test_quick_run_yields_every_table_figure_claim_and_scalar(quick):
    config, result = quick
    assert load("norms") is norms
    assert set(result.figures) == {"curves", "final_accuracy", "time_per_step"}
    assert [c.id for c in result.claims] == ["norms-train-faster", "bn-best-or-tied", "batch-free-match-bn"]
    assert [t.title for t in result.tables] == ["Normalisations on MNIST"]
    assert [row[0] for row in result.tables[0].rows] == ["no normalisation", "BatchNorm", "LayerNorm"]
    assert set(result.scalars) == {f"mnist/{kind}" for kind in config.kinds}
    (section,) = result.metrics["datasets"]
    n_records = config.steps // config.record_every
    assert section["steps"] == [config.record_every * (r + 1) for r in range(n_records)]
    for kind in config.kinds:
        m = section["kinds"][kind]
        assert np.asarray(m["curves"]).shape == (config.n_seeds, n_records)
        assert all(0 <= a <= 1 for a in m["final_accuracy"] + m["curve_mean"] + m["train_accuracy"])
        assert m["diverged_at"] == [-1] * config.n_seeds
    assert min(section["kinds"]["batch"]["final_accuracy"]) > 0.5  # BN learns in a few hundred steps
    timing = result.metrics["timing"]
    assert set(timing["ms_per_step"]) == set(config.kinds) and all(ms > 0 for ms in timing["ms_per_step"].values())
    assert timing["ratio_to_none"]["none"] == 1.0


def all_of(verdicts):
    return False if False in verdicts else (True if all(v is True for v in verdicts) else None)


def expected_verdicts(config, section):
    """The three verdicts, re-derived from the recorded per-seed numbers with plain numpy."""
    final = {k: np.asarray(section["kinds"][k]["final_accuracy"]) for k in config.kinds}
    curve = {k: np.asarray(section["kinds"][k]["curves"]).mean(axis=1) for k in config.kinds}
    tie = config.tie_within

    def gain(d):  # above 0, else below the tie tolerance, else unclear
        return True if paired_t_verdict(d) is True else (False if paired_t_verdict(d, tie) is False else None)

    faster = all_of([gain(curve[k] - curve["none"]) for k in config.kinds if k != "none"])
    above_bn = [paired_t_verdict(final[k] - final["batch"], tie) for k in config.kinds if k != "batch"]
    bn_best = False if True in above_bn else (True if all(v is False for v in above_bn) else None)
    free = [k for k in ("layer", "rms", "weight", "group") if k in config.kinds]
    match = all_of([paired_t_verdict(final[k] - final["batch"], -config.tie_within) for k in free])
    verdict = {True: "holds", False: "fails", None: "inconclusive"}
    return {"norms-train-faster": verdict[faster], "bn-best-or-tied": verdict[bn_best],
            "batch-free-match-bn": verdict[match]}


def test_verdicts_follow_from_the_measurements(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    assert {c.id: c.verdict for c in result.claims} == expected_verdicts(config, section)
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


def test_steps_to_target_is_the_first_record_where_the_mean_curve_reaches_it(quick):
    config, result = quick
    (section,) = result.metrics["datasets"]
    best = max(np.mean(section["kinds"][k]["final_accuracy"]) for k in config.kinds)
    assert section["target_accuracy"] == pytest.approx(best - config.target_within)
    for kind in config.kinds:
        mean_curve = np.asarray(section["kinds"][kind]["curves"]).mean(axis=0)
        hits = np.flatnonzero(mean_curve >= section["target_accuracy"])
        expected = section["steps"][hits[0]] if hits.size else None
        assert section["kinds"][kind]["steps_to_target"] == expected


def test_fashion_mnist_is_compared_with_the_official_mlp_benchmark(quick):
    config, result = quick
    fashion = copy.deepcopy(result.metrics["datasets"][0])
    fashion["dataset"] = "fashion-mnist"
    table = norms.kinds_table(config, fashion, result.metrics["timing"])
    assert table.rows[-1][:2] == [norms.BENCHMARK_ROW, "0.871"]
    (note,) = norms.benchmark_note(config, [fashion])
    assert "0.871" in note
    assert norms.benchmark_note(config, result.metrics["datasets"]) == []  # MNIST only: no comparison
    assert all(row[0] != norms.BENCHMARK_ROW for row in result.tables[0].rows)


def test_the_default_population_holds_all_seven_kinds_in_contiguous_blocks():
    config = norms.Config()
    members = bnstudy.population(norms.cells(config), config.n_seeds)
    blocks = blocks_of(members)
    assert [b.norm for b in blocks] == list(NORMS)
    assert all(b.stop - b.start == config.n_seeds for b in blocks)
    assert config.options.renorm_ramp_steps == config.steps // 4
    assert config.options.groups == config.groups


def test_bad_settings_are_refused_with_one_sentence():
    for bad in ({"kinds": ("batch", "layer")}, {"kinds": ("none", "cheese")}, {"kinds": ("none", "batch", "batch")},
                {"groups": 3}, {"renorm_ramp_fraction": 1.5}, {"target_within": 0.0}, {"tie_within": -0.1},
                {"timing_steps": 5}, {"timing_rounds": 0}, {"steps": 0}, {"n_seeds": 1}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(norms.Config(), **bad)
        assert "\n" not in str(error.value)
    assert dataclasses.replace(norms.Config(), kinds=("none", "weight"), groups=3).groups == 3  # no GroupNorm: any
