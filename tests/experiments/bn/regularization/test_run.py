import json

import numpy as np
import pytest
import scipy.stats

from replab.experiments import load
from replab.experiments.bn import regularization as reg
from replab.experiments.bn.regularization.measure import MODELS
from replab.experiments.bn.regularization.measure import measure as reg_measure
from tests.experiments.bn.regularization.test_judge import CLAIMS


@pytest.fixture(scope="module")
def quick():
    """One quick run through run(), keeping the measurements it judged."""
    config = reg.Config.quick()
    captured = {}
    measure = reg_measure

    def spy(config, progress):
        captured["m"] = measure(config, progress)
        return captured["m"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("replab.experiments.bn.regularization.measure.measure", spy)
        result = reg.run(config)
    return config, captured["m"], result


@pytest.mark.slow
def test_quick_run_yields_every_figure_table_claim_and_scalar(quick):
    config, m, result = quick
    assert set(result.figures) == {"gap", "noise", "batch_size", "curves"} == set(result.captions)
    assert [c.id for c in result.claims] == CLAIMS
    json.dumps(result.metrics, allow_nan=False)  # result.json can hold the metrics and the claims
    json.dumps([c.to_dict() for c in result.claims])
    assert [c.kind for c in result.claims] == ["finding", "finding", "finding", "check", "finding"]
    assert [t.title for t in result.tables] == ["Train/test gap on MNIST", "Batch noise of the BN network on MNIST",
                                                "Mini-batch size on MNIST"]
    (d,) = m.datasets
    records = len(d.steps)
    assert d.steps[-1] == config.steps and records == config.steps // config.record_every
    for model in MODELS:
        rates = d.rates(model)
        assert len(rates) == len(config.dropout_rates)
        for scores in rates:
            assert scores.test_curves.shape == (config.n_seeds, records)
            assert scores.train_curves.shape == (config.n_seeds, records)
            np.testing.assert_allclose(scores.gap, scores.train_accuracy - scores.test_accuracy)
    assert d.batch[0].test_accuracy.max() > 0.5  # BN learns within 300 steps
    assert [b.batch_size for b in d.batch_runs] == list(config.batch_sizes)
    assert d.noise_sizes == config.noise_batch_sizes and len(d.noise) == len(config.noise_batch_sizes)
    assert {"mnist/batch/dropout0", "mnist/none/dropout0.5", "mnist/batch/noise"} <= set(result.scalars)
    assert load("bn-regularization") is reg
    (section,) = result.metrics["datasets"]
    assert len(section["none"]) == len(config.dropout_rates) and "logit_std" in section["noise"][0]
    times = [point[2] for point in result.scalars["mnist/batch/dropout0"]["accuracy/gap_mean"]]
    assert len(times) == len(section["steps"]) and all(isinstance(t, float) and t > 1e9 for t in times)
    assert times == sorted(times) and "record_times" not in section  # when it ran is TensorBoard's, not a metric
    assert all(len(point) == 2 for point in result.scalars["mnist/batch/noise"]["noise/logit_std_by_batch_size"])


@pytest.mark.slow
def test_a_quick_run_is_marked_quick_end_to_end(quick):
    config, _, result = quick
    assert config.quick and result.quick
    assert all(c.base.quick and c.base.datasets == ("MNIST",) and c.base.seeds == config.n_seeds
               for c in result.claims)


@pytest.mark.slow
def test_equal_examples_seen_at_every_batch_size(quick):
    config, m, _ = quick
    (d,) = m.datasets
    for batch in d.batch_runs:
        size = batch.batch_size
        assert batch.steps * size == config.steps * config.batch_size
        assert batch.learning_rate == pytest.approx(config.learning_rate * size / config.batch_size)
        assert batch.record_steps[-1] == batch.steps
    same = d.batch_runs[config.batch_sizes.index(config.batch_size)]
    np.testing.assert_array_equal(same.batch.test_accuracy, d.batch[0].test_accuracy)


# --- the tests, re-derived from the recorded numbers with plain numpy and scipy -------------------------------------


def matched_narrowing(base, bn):
    """Gap without BN − gap with BN where both training-loss curves first fall to the lowest level both reach."""
    out = []
    for seed in range(len(base.train_curves)):
        level = max(np.min(base.train_loss_curves[seed]), np.min(bn.train_loss_curves[seed]))
        gaps = []
        for scores in (base, bn):
            loss = scores.train_loss_curves[seed]
            i = np.nonzero(loss <= level)[0][0]
            at = []
            for curve in (scores.train_curves[seed], scores.test_curves[seed]):
                if i == 0 or loss[i] == loss[i - 1]:
                    at.append(curve[i])
                else:  # np.interp needs increasing x: the loss falls, so interpolate on its negative
                    at.append(np.interp(-level, -loss[i - 1:i + 1], curve[i - 1:i + 1]))
            gaps.append(at[0] - at[1])
        out.append(gaps[0] - gaps[1])
    return np.array(out)


def paired_p(a, b):
    return scipy.stats.ttest_rel(a, b, alternative="greater").pvalue


@pytest.mark.slow
def test_the_tests_are_the_per_seed_statistics_the_claims_describe(quick):
    config, m, result = quick
    (d,) = m.datasets
    claims = {c.id: c for c in result.claims}
    (gap,) = claims["bn-narrows-gap"].tests
    narrowing = matched_narrowing(d.none[0], d.batch[0])
    assert gap.effect == pytest.approx(narrowing.mean())
    np.testing.assert_allclose(d.matched.narrowing, narrowing, atol=1e-12)
    assert gap.p_greater == pytest.approx(paired_p(d.matched.none, d.matched.batch))

    def gain(rates):
        means = [np.mean(r.test_accuracy) for r in rates]
        return rates[1 + int(np.argmax(means[1:]))].test_accuracy - rates[0].test_accuracy

    (dropout,) = claims["bn-replaces-dropout"].tests
    assert dropout.effect == pytest.approx((gain(d.none) - gain(d.batch)).mean())
    (matches,) = claims["bn-matches-dropout"].tests
    assert matches.effect == pytest.approx((d.tuned.bn.test_accuracy - d.tuned.none.test_accuracy).mean())
    bn_rates = (config.learning_rate, *config.bn_learning_rates)
    assert d.tuned.bn_rate == bn_rates[int(np.argmax(d.tuned.bn_validation.mean(axis=1)))]
    assert d.tuned.dropout_rate == config.dropout_rates[int(np.argmax(d.tuned.none_validation.mean(axis=1)))]

    noise = np.array([n.logit_std for n in d.noise]).mean(axis=1)
    assert claims["smaller-batches-noisier"].verdict == ("holds" if (np.diff(noise) < 0).all() else "fails")

    tests = claims["small-batch-bn-regularizes-more"].tests
    assert len(tests) == 2 and [r.scaled for r in d.other_rule_runs] == [False] * len(config.batch_sizes)
    for runs, test in zip((d.batch_runs, d.other_rule_runs), tests):
        small, large = runs[0], runs[-1]
        expected = matched_narrowing(small.none, small.batch) - matched_narrowing(large.none, large.batch)
        assert test.effect == pytest.approx(expected.mean())
    for claim in result.claims:
        assert any(ch.isdigit() for ch in claim.evidence)


@pytest.mark.slow
def test_batch_noise_shrinks_with_the_mini_batch_in_the_quick_run(quick):
    config, m, _ = quick
    (d,) = m.datasets
    noise = d.noise_by_size()
    assert (noise > 0).all()
    # The batch mean's standard error falls like 1/√m; the logits' spread follows it closely.
    slope = np.polyfit(np.log(config.noise_batch_sizes), np.log(noise.mean(axis=1)), 1)[0]
    assert -0.8 < slope < -0.3
