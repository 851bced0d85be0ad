import json

import numpy as np
import pytest
from scipy import stats

from replab.experiments import regression
from replab.experiments.regression.measure import MODELS
from replab.nn.train import record_schedule
from replab.runs import save_run


@pytest.fixture
def quick(quick_run):
    return quick_run("regression")


@pytest.mark.slow
def test_quick_run_yields_every_figure_table_claim_and_log(quick):
    config, result = quick
    assert set(result.figures) == {"architectures", "loss_curves", "fits"}
    assert [claim.id for claim in result.claims] == [
        "shallow-fits-low-noise", "deeper-fits-noisier-better", "deeper-better-sine-noise-0.1",
        "deeper-better-sine-noise-0.3", "deeper-better-sine-noise-0.5", "loss-converges"]
    assert [table.title for table in result.tables][0] == "Networks"
    assert len(result.scalars) == 2 * len(config.targets) * len(config.noise_stds) * config.n_seeds
    assert result.metrics["parameters"] == {"shallow": 31, "deep": 141}
    shallow, deep = ([point[2] for point in result.scalars[f"sine/noise{config.noise_stds[0]:g}/{model}/seed0"][
        "loss/train"]] for model in MODELS)
    records = len(record_schedule(config.epochs, config.record_every))
    assert len(shallow) == len(deep) == records and all(isinstance(t, float) and t > 1e9 for t in shallow + deep)
    assert shallow == sorted(shallow) and deep == sorted(deep)
    assert deep[0] > shallow[-1]  # each architecture's series has its own fit's times: deep trains after shallow
    assert "record_times" not in json.dumps(result.metrics)  # when it ran is TensorBoard's, not a metric


@pytest.mark.slow
def test_verdicts_follow_from_the_measurements(quick):
    """The line's verdicts re-derived with scipy from the excess risks: one-sided tests, Benjamini–Hochberg over
    every p-value of the run."""
    config, result = quick
    claims = {claim.id: claim for claim in result.claims}
    line = result.metrics["levels"]["line"]
    low, high = line[f"{config.noise_stds[0]:g}"], line[f"{config.noise_stds[-1]:g}"]
    floor = config.noise_stds[0] ** 2
    ratios = (np.array(low["shallow"]["excess_risk"]) + floor) / floor
    fits = stats.ttest_1samp(ratios, config.close_factor)
    assert claims["shallow-fits-low-noise"].tests[0].effect == pytest.approx(ratios.mean())
    assert claims["shallow-fits-low-noise"].tests[0].p_less == pytest.approx(
        stats.ttest_1samp(ratios, config.close_factor, alternative="less").pvalue)
    deeper = np.subtract(high["shallow"]["excess_risk"], high["deep"]["excess_risk"])
    assert claims["deeper-fits-noisier-better"].tests[0].effect == pytest.approx(deeper.mean())
    assert claims["deeper-fits-noisier-better"].tests[0].p_greater == pytest.approx(
        stats.ttest_rel(high["shallow"]["excess_risk"], high["deep"]["excess_risk"], alternative="greater").pvalue)
    assert fits.pvalue >= 0
    assert all(claim.kind == "finding" for claim in result.claims)
    assert all(claim.verdict in ("holds", "fails", "inconclusive") for claim in result.claims)


@pytest.mark.slow
def test_quick_run_is_marked_quick_end_to_end(quick):
    config, result = quick
    assert config.quick and result.quick
    assert all(claim.base.quick and claim.base.seeds == config.n_seeds for claim in result.claims)


@pytest.mark.slow
def test_the_run_is_deterministic(quick):
    config, result = quick
    again = regression.run(config)
    assert again.metrics["levels"] == result.metrics["levels"]


@pytest.mark.slow
def test_saved_run_has_tensorboard_event_files(quick, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config, result = quick
    path = save_run(tmp_path, regression.NAME, regression.TITLE, regression.QUESTION, config, result, wall_time_s=1)
    log_dir = path / "tensorboard" / "sine" / f"noise{config.noise_stds[0]:g}" / "shallow" / "seed0"
    events = EventAccumulator(str(log_dir))
    events.Reload()
    assert "loss/train" in events.Tags()["tensors"] + events.Tags()["scalars"]
