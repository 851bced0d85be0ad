"""The spiral's quick run end to end: every figure, table and claim, marked quick, success counts and replicate seeds
that follow from the run, and the finalists' TensorBoard series."""

import pytest

from replab.experiments import EXPERIMENTS, load, spiral
from replab.experiments.spiral.config import REPLICATE_SEED_OFFSET
from replab.seeds import derived_seed


@pytest.fixture
def quick(quick_run):
    """The session's quick run of spiral: (config, result)."""
    return quick_run("spiral")


@pytest.mark.slow
def test_quick_run_yields_every_figure_table_and_claim(quick):
    config, result = quick
    assert "spiral" in EXPERIMENTS and load("spiral") is spiral
    assert set(result.figures) == {"decision_regions", "pareto", "search_scores", "loss_curves"}
    assert set(result.captions) == set(result.figures)
    assert [c.id for c in result.claims] == ["seed-2x8-solves", "smallest-solution", "search-covers-smaller",
                                            "sine-features-shrink"]
    assert [c.kind for c in result.claims] == ["finding", "finding", "check", "finding"]
    assert [t.title for t in result.tables][0] == "What was searched"
    shown = result.metrics["replication"]
    assert any(label.startswith("seed's 2 × 2") for label in shown)
    assert any("smallest" in label for label in shown)
    assert result.metrics["candidates_trained"] == sum(result.metrics["status_counts"].values())
    assert all(entry["playground_link"].startswith("https://playground.tensorflow.org/#")
               for entry in shown.values())
    check = result.metrics["pruning_check"]
    assert check["rerun"] == min(config.pruning_sample, result.metrics["status_counts"]["pruned"])


@pytest.mark.slow
def test_quick_run_is_marked_quick_end_to_end(quick):
    config, result = quick
    assert config.quick and result.quick
    assert all(claim.base.quick for claim in result.claims)
    assert all(claim.base.datasets == ("gauss",) for claim in result.claims)


@pytest.mark.slow
def test_success_counts_follow_from_the_final_test_losses(quick):
    config, result = quick
    for entry in result.metrics["replication"].values():
        assert entry["replicates"] == config.replicates == len(entry["final_test_loss"])
        assert entry["successes"] == sum(loss <= config.target_loss for loss in entry["final_test_loss"])
    claims = {c.id: c for c in result.claims}
    seed = next(v for k, v in result.metrics["replication"].items() if k.startswith("seed's"))
    (test,) = claims["seed-2x8-solves"].tests
    assert test.n == config.replicates and test.effect == seed["successes"] / config.replicates
    assert test.null == config.success_null and test.method.startswith("exact binomial")


@pytest.mark.slow
def test_replicate_seeds_are_fresh(quick):
    config, result = quick
    search_seeds = {derived_seed(config.seed, s) for s in range(config.n_seeds)}
    replicate_seeds = set(result.metrics["replicate_seeds"])
    assert len(replicate_seeds) == config.replicates and not replicate_seeds & search_seeds
    assert min(replicate_seeds) == derived_seed(config.seed, REPLICATE_SEED_OFFSET)


@pytest.mark.slow
def test_finalists_get_tensorboard_series_stamped_when_measured_and_their_settings(quick, tmp_path):
    from tensorboard.plugins.hparams import metadata as hparams_metadata

    from replab.tensorboard import write_tensorboard
    from tests.test_tensorboard import _hparams_data, _load

    config, result = quick
    finalists = len(result.metrics["replication"])
    assert sorted(result.scalars) == sorted(f"finalist{i}" for i in range(finalists))
    series = result.scalars["finalist0"]["loss/test_mean"]
    epochs = [point[0] for point in series]
    assert epochs[-1] == config.epoch_budget and epochs == sorted(epochs)
    times = [point[2] for point in series]
    assert all(isinstance(t, float) and t > 1e9 for t in times) and times == sorted(times)
    assert "record_times" not in str(sorted(result.metrics))  # when it ran is not a measurement
    first = result.hparams["finalist0"]
    assert {"features", "hidden", "activation", "learning_rate", "batch_size", "role", "success_rate"} <= set(first)
    write_tensorboard(tmp_path, result.scalars, hparams=result.hparams)
    logged = _load(tmp_path / "finalist0").Scalars("loss/test_mean")
    assert [e.wall_time for e in logged] == times
    start = _hparams_data(_load(tmp_path / "finalist0"))[hparams_metadata.SESSION_START_INFO_TAG].session_start_info
    assert start.hparams["role"].string_value == result.hparams["finalist0"]["role"]
