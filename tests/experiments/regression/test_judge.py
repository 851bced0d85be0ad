"""The regression findings judged on hand-built measurements (nothing is trained): each reaches holds, fails
and inconclusive."""

import numpy as np
import pytest

from replab.experiments import regression
from replab.experiments.regression.judge import judge
from replab.experiments.regression.measure import Measurements

CONFIG = regression.Config(n_seeds=5, noise_stds=(0.1, 0.5))
NOISE = (0.1, 0.5)
EPOCHS = np.arange(0, 101, 10)
TARGETS = ("line", "sine")


def hand_built(shallow_low=None, shallow_high=None, deep_high=None, end_change=(0.001, 0.001), diverged=0,
               sine_gain=0.01):
    """Measurements (excess risks) with the given per-seed values on the line, the deep net better on the sine by
    `sine_gain`, and a train loss that changes by `end_change` (per architecture, times a little spread) between
    90% and 100% of training."""
    rng = np.random.default_rng(0)
    S, R = CONFIG.n_seeds, len(EPOCHS)
    excess = np.empty((2, 2, 2, S))
    excess[0, 0, 0] = shallow_low if shallow_low is not None else 0.001 + 0.0001 * rng.standard_normal(S)
    excess[1, 0, 0] = excess[0, 0, 0]
    excess[0, 0, 1] = shallow_high if shallow_high is not None else 0.05 + 0.01 * rng.standard_normal(S)
    excess[1, 0, 1] = deep_high if deep_high is not None else excess[0, 0, 1] - 0.03 + 0.005 * rng.standard_normal(S)
    excess[0, 1] = 0.03 + 0.002 * rng.standard_normal((2, S))
    excess[1, 1] = excess[0, 1] - sine_gain + 0.002 * rng.standard_normal((2, S))
    curve = np.ones((2, R, 2, 2, S))
    for a, change in enumerate(end_change):
        curve[a, -1] = 1 - change * (1 + 0.2 * rng.standard_normal((2, 2, S)))
    diverged_at = -np.ones((2, 2, 2, S), int)
    diverged_at.reshape(-1)[:diverged] = 50
    floor = np.array(NOISE)[None, None, :, None] ** 2
    return Measurements(
        targets=TARGETS, noise_stds=np.array(NOISE), parameters=np.array([31, 141]), epochs=EPOCHS, train_curve=curve,
        excess_curve=curve.copy(), train_mse=(excess + floor) * 0.9, test_mse=excess + floor, excess=excess,
        diverged_at=diverged_at, curve_x=np.linspace(-1, 1, 5), curve_y=np.zeros((2, 2, 2, S, 5)),
        data_x=np.zeros((2, 2, 4)), data_y=np.zeros((2, 2, 4)), steps_per_second=np.array([100.0, 90.0]))


def verdict(measurements, claim_id):
    return {c.id: c for c in judge(CONFIG, measurements)}[claim_id]


def test_the_expected_outcome_holds_everywhere():
    claims = judge(CONFIG, hand_built())
    assert [(c.id, c.kind, c.verdict) for c in claims] == [
        ("shallow-fits-low-noise", "finding", "holds"), ("deeper-fits-noisier-better", "finding", "holds"),
        ("deeper-better-sine-noise-0.1", "finding", "holds"), ("deeper-better-sine-noise-0.5", "finding", "holds"),
        ("loss-converges", "finding", "holds")]


@pytest.mark.parametrize("values, expected", [
    ([0.001, 0.002, 0.000, 0.001, 0.002], "holds"),       # (excess + σ²)/σ² about 1.1, well below 1.5
    ([0.020, 0.021, 0.019, 0.022, 0.020], "fails"),       # about 3
    ([0.0042, 0.0000, 0.0090, 0.0020, 0.0058], "inconclusive"),  # mean 1.42: a knife-edge is not a verdict
])
def test_shallow_fits_low_noise(values, expected):
    assert verdict(hand_built(shallow_low=np.array(values)), "shallow-fits-low-noise").verdict == expected


@pytest.mark.parametrize("shallow, deep, expected", [
    ([0.050, 0.060, 0.040, 0.070, 0.050], [0.010, 0.020, 0.010, 0.030, 0.000], "holds"),
    ([0.010, 0.020, 0.010, 0.030, 0.000], [0.050, 0.060, 0.040, 0.070, 0.050], "fails"),
    ([0.050, 0.060, 0.040, 0.070, 0.050], [0.060, 0.040, 0.050, 0.060, 0.050], "inconclusive"),
])
def test_deeper_fits_noisier_better(shallow, deep, expected):
    m = hand_built(shallow_high=np.array(shallow), deep_high=np.array(deep))
    claim = verdict(m, "deeper-fits-noisier-better")
    assert claim.verdict == expected
    assert claim.tests[0].effect == pytest.approx(np.mean(np.subtract(shallow, deep)))


@pytest.mark.parametrize("gain, expected", [(0.01, "holds"), (-0.01, "fails"), (0.0, "inconclusive")])
def test_deeper_better_on_the_nonlinear_target_is_judged_per_noise_level(gain, expected):
    claims = {c.id: c for c in judge(CONFIG, hand_built(sine_gain=gain))}
    for noise in NOISE:
        claim = claims[f"deeper-better-sine-noise-{noise:g}"]
        assert claim.verdict == expected and len(claim.tests) == 1


@pytest.mark.parametrize("changes, diverged, expected", [
    ((0.001, 0.002), 0, "holds"),
    ((0.001, 0.05), 0, "fails"),        # the deep net is still moving by 5% at the end
    ((0.001, 0.01), 0, "inconclusive"),  # right at the 1% bound
    ((0.001, 0.002), 1, "inconclusive"),  # a diverged network has no end to converge to
])
def test_loss_converges(changes, diverged, expected):
    claim = verdict(hand_built(end_change=changes, diverged=diverged), "loss-converges")
    assert claim.verdict == expected
    assert [t.label for t in claim.tests] == ["shallow", "deep"]
    if diverged:
        assert "diverged" in claim.reason


def test_evidence_base_and_metrics_on_hand_built_measurements():
    claims = judge(regression.Config(n_seeds=5, quick=True), hand_built())
    assert all(c.base.quick and c.base.seeds == 5 for c in claims)
    metrics = hand_built().to_metrics()
    assert metrics["parameters"] == {"shallow": 31, "deep": 141}
    assert set(metrics["levels"]) == {"line", "sine"} and set(metrics["levels"]["sine"]) == {"0.1", "0.5"}
    assert len(metrics["levels"]["line"]["0.5"]["deep"]["excess_risk"]) == 5
