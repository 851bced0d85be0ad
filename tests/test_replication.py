import json

import pytest

from replab.errors import ConfigError
from replab.replication import replicate, seed_set_configs
from replab.runs import load_run, save_run
from tests.helpers import TinyConfig, TinyExperiment


def test_seed_sets_are_consecutive_seeds_and_bounded():
    assert [c.seed for c in seed_set_configs(TinyConfig(seed=4), 3)] == [4, 5, 6]
    with pytest.raises(ConfigError, match="--replicate must be an integer from 1 to"):
        seed_set_configs(TinyConfig(), 0)
    with pytest.raises(ConfigError, match="largest seed"):
        seed_set_configs(TinyConfig(seed=2**31 - 1), 2)


def test_replicate_records_each_sets_verdict_and_flags_a_changing_one(tmp_path):
    result = replicate(TinyExperiment, TinyConfig(), 3)
    finding, check = result.claims
    assert finding.stability.verdicts == ("holds", "inconclusive", "inconclusive")  # seeds 0, 1, 2 (see helpers)
    assert not finding.stability.stable and finding.stability.agreement == pytest.approx(1 / 3)
    assert check.stability.stable
    path = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), result, wall_time_s=1.0)
    saved = load_run(path).result
    assert saved["claims"][0]["stability"]["verdicts"] == ["holds", "inconclusive", "inconclusive"]
    assert saved["metrics"]["replication"]["seeds"] == [0, 1, 2]
    assert len(saved["metrics"]["replication"]["claims"]["tiny"]) == 3
    json.dumps(saved, allow_nan=False)


def test_a_quick_run_is_marked_quick_in_the_result_and_every_claim(tmp_path):
    result = TinyExperiment.run(TinyConfig(quick=True))
    path = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(quick=True), result, wall_time_s=1.0)
    record = load_run(path)
    assert record.result["quick"] is True and record.config["quick"] is True
    assert all(claim["base"]["quick"] for claim in record.result["claims"])
