"""The statistics layer against scipy on known data, and BH and TOST on textbook examples."""

import math

import numpy as np
import pytest
import scipy.stats

from replab import stats

A = np.array([0.981, 0.979, 0.984, 0.978, 0.982, 0.980])
B = np.array([0.972, 0.975, 0.970, 0.974, 0.971, 0.976])


def test_paired_matches_scipy_ttest_rel_and_its_interval():
    test = stats.paired(A, B, "MNIST")
    reference = scipy.stats.ttest_rel(A, B)
    assert test.effect == pytest.approx((A - B).mean())
    assert test.p_two_sided == pytest.approx(reference.pvalue)
    assert test.p_greater == pytest.approx(scipy.stats.ttest_rel(A, B, alternative="greater").pvalue)
    interval = reference.confidence_interval(0.95)
    assert (test.ci_low, test.ci_high) == pytest.approx((interval.low, interval.high))
    assert test.n == 6 and test.method == "paired t"


def test_wilcoxon_on_request_matches_scipy():
    test = stats.paired(A, B, "MNIST", method="wilcoxon")
    assert test.p_greater == pytest.approx(scipy.stats.wilcoxon(A - B, alternative="greater").pvalue)
    assert test.effect == pytest.approx(np.median(A - B))


def test_one_sample_against_a_null_value():
    values = np.array([0.503, 0.497, 0.501, 0.499, 0.502])
    test = stats.one_sample(values, "x", null=0.5)
    assert test.p_two_sided == pytest.approx(scipy.stats.ttest_1samp(values, 0.5).pvalue)
    assert test.ci_low < 0.5 < test.ci_high


def test_proportion_is_an_exact_binomial_test_with_a_wilson_interval():
    test = stats.proportion(24, 30, "spiral", null=0.5)
    assert test.p_greater == pytest.approx(scipy.stats.binomtest(24, 30, 0.5, alternative="greater").pvalue)
    # Wilson's interval for 24/30 (textbook formula)
    p, n, z = 0.8, 30, scipy.stats.norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (test.ci_low, test.ci_high) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert stats.wilson(24, 30) == pytest.approx((test.ci_low, test.ci_high))


def test_tost_textbook_example():
    # Lakens (2017): equivalence of a mean to 0 within ±margin is shown when both one-sided tests reject
    rng = np.random.default_rng(3)
    close = rng.normal(0.0, 0.1, 50)
    assert stats.tost(close, margin=0.1) < 0.05
    assert stats.tost(close + 0.2, margin=0.1) > 0.5
    lower = scipy.stats.ttest_1samp(close, -0.1, alternative="greater").pvalue
    upper = scipy.stats.ttest_1samp(close, 0.1, alternative="less").pvalue
    assert stats.tost(close, 0.1) == pytest.approx(max(lower, upper))


def test_benjamini_hochberg_textbook_example():
    # Benjamini & Hochberg (1995) style: p-values and their step-up adjusted values
    p = [0.01, 0.04, 0.03, 0.005]
    expected = [0.02, 0.04, 0.04, 0.02]
    assert stats.benjamini_hochberg(p) == pytest.approx(expected)
    assert stats.benjamini_hochberg([]).size == 0


def test_values_without_spread_fall_back_to_an_exact_sign_test():
    test = stats.paired([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], "all equal")
    assert test.p_greater == pytest.approx(0.125) and "sign test" in test.method
    assert stats.paired([1.0, 1.0], [1.0, 1.0], "no effect").p_two_sided == 1.0


def test_too_few_values_cannot_be_tested():
    test = stats.paired([1.0], [0.0], "one seed")
    assert not test.available and "at least 2" in test.note


def test_bootstrap_interval_covers_the_estimate_and_p_values_follow_the_distribution():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 0.2, 40), rng.normal(0.5, 0.2, 40)
    test = stats.bootstrap((a, b), lambda x, y: np.mean(x - y), "boot", seed=1)
    assert test.ci_low < test.effect < test.ci_high
    assert test.p_greater < 0.01 < test.p_less


@pytest.mark.parametrize("direction, effect, margin, expected", [
    ("greater", 0.3, None, "holds"),
    ("greater", -0.3, None, "fails"),
    ("greater", 0.0, None, "inconclusive"),
    ("greater", 0.0, 0.5, "fails"),     # equivalence to no effect shown within the margin
    ("less", -0.3, None, "holds"),
    ("equal", 0.0, 0.5, "holds"),
    ("equal", 2.0, 0.5, "fails"),
    ("equal", 0.5, 0.5, "inconclusive"),   # on the margin: neither inside nor beyond
])
def test_the_verdict_rule(direction, effect, margin, expected):
    rng = np.random.default_rng(11)
    values = effect + rng.normal(0, 1, 200) * 0.1
    values = values - values.mean() + effect
    test = stats.one_sample(values, "x", margin=margin)
    adjusted = stats.adjusted(test, direction, stats.decision_p_values(test, direction))
    assert stats.test_verdict(adjusted, direction) == expected


def test_combined_verdict_is_a_conjunction():
    assert stats.combined_verdict(["holds", "holds"]) == "holds"
    assert stats.combined_verdict(["holds", "inconclusive"]) == "inconclusive"
    assert stats.combined_verdict(["holds", "fails"]) == "fails"


def test_the_rule_sentence_is_generated_from_the_same_constants():
    assert "95%" in stats.rule_sentence() and "p < 0.05" in stats.rule_sentence()
    assert "90%" in stats.rule_sentence(0.1)


def test_an_exact_computation_decides_with_certainty():
    inside = stats.exact("AND", 0.0, null=0.0, margin=0.125)
    beyond = stats.exact("AND", -0.25, null=0.0, margin=0.125)
    for test, expected in ((inside, "holds"), (beyond, "fails")):
        decided = stats.adjusted(test, "equal", stats.decision_p_values(test, "equal"))
        assert stats.test_verdict(decided, "equal") == expected
    assert stats.exact("x", 2.0, null=1.0).p_greater == 0.0
