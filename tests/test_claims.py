import json

import numpy as np
import pytest

from replab import stats
from replab.claims import Claim, EvidenceBase, Stability, check, decide, finding, verdict_counts

BETTER = np.array([0.90, 0.91, 0.92, 0.90, 0.93])
WORSE = BETTER - np.array([0.02, 0.03, 0.02, 0.025, 0.03])


def faster(*tests, base=EvidenceBase()):
    return finding("c", "A beats B", effect="A − B", direction="greater", tests=tests, evidence="e", base=base)


def test_a_finding_is_pending_until_decided_and_then_round_trips_through_json():
    claim = faster(stats.paired(BETTER, WORSE, "MNIST"))
    assert claim.verdict is None
    with pytest.raises(ValueError, match="never decided"):
        claim.to_dict()
    [decided] = decide([claim])
    assert decided.verdict == "holds" and decided.tests[0].p_adjusted is not None
    again = Claim.from_dict(json.loads(json.dumps(decided.to_dict())))
    assert again.verdict == "holds" and again.tests[0].p_adjusted == pytest.approx(decided.tests[0].p_adjusted)


def test_benjamini_hochberg_spans_every_finding_of_the_run():
    weak = np.array([0.02, -0.01, 0.03, 0.0, 0.025, -0.005, 0.03, 0.01])
    alone = decide([faster(stats.one_sample(weak, "x"))])[0]
    crowd = decide([faster(stats.one_sample(weak, "x"))] +
                   [faster(stats.one_sample(np.array([0.1, -0.1, 0.05, -0.05]), f"n{i}")) for i in range(5)])[0]
    assert crowd.tests[0].p_adjusted > alone.tests[0].p_adjusted


def test_a_claim_on_two_datasets_needs_both_and_records_the_missing_one():
    both = decide([faster(stats.paired(BETTER, WORSE, "MNIST"), stats.paired(WORSE, BETTER, "Fashion-MNIST"))])[0]
    assert both.verdict == "fails"
    base = EvidenceBase(datasets=("MNIST",), skipped=("Fashion-MNIST",), seeds=5)
    partial = decide([faster(stats.paired(BETTER, WORSE, "MNIST"), base=base)])[0]
    assert "1 of 2 datasets" in partial.to_dict()["base_text"] and "Fashion-MNIST missing" in partial.base.describe()


def test_an_untestable_comparison_is_inconclusive_and_says_why():
    claim = decide([faster(stats.unavailable("99/1", "only 2 positives in the test set"))])[0]
    assert claim.verdict == "inconclusive" and "only 2 positives" in claim.reason


def test_checks_are_counted_apart_from_findings():
    claims = decide([faster(stats.paired(BETTER, WORSE, "MNIST")), check("k", "a theorem", passed=True, evidence="")])
    assert verdict_counts(claims) == {"holds": 1, "fails": 0, "inconclusive": 0}
    assert verdict_counts(claims, "check") == {"holds": 1, "fails": 0, "inconclusive": 0}
    assert claims[1].headline == "check holds"


def test_a_quick_base_is_described_as_a_smoke_test():
    assert "smoke test" in EvidenceBase(seeds=3, quick=True).describe()


def test_stability_flags_a_verdict_that_changes_between_seed_sets():
    stability = Stability((0, 1, 2), ("holds", "holds", "inconclusive"))
    assert not stability.stable and stability.agreement == pytest.approx(2 / 3)
    assert "UNSTABLE" in stability.describe()


def test_a_claim_rejects_an_unknown_verdict_kind_or_a_finding_without_tests():
    with pytest.raises(ValueError, match="verdict"):
        Claim("c", "s", "probably", "e")
    with pytest.raises(ValueError, match="kind"):
        Claim("c", "s", "holds", "e", kind="hunch")
    with pytest.raises(ValueError, match="needs at least one test"):
        finding("c", "s", effect="", direction="greater", tests=[])


def test_an_untestable_comparison_does_not_enter_benjamini_hochberg():
    weak = np.array([0.02, -0.01, 0.03, 0.0, 0.025, -0.005, 0.03, 0.01])
    alone = decide([faster(stats.one_sample(weak, "x"))])[0]
    beside = decide([faster(stats.one_sample(weak, "x")), faster(stats.unavailable("y", "no data"))])[0]
    assert beside.tests[0].p_adjusted == pytest.approx(alone.tests[0].p_adjusted)


def test_a_verdict_next_to_its_threshold_is_marked_a_close_call():
    rng = np.random.default_rng(5)
    for _ in range(200):
        values = rng.normal(0.3, 1.0, 20)
        claim = decide([faster(stats.one_sample(values, "x"))])[0]
        p = claim.tests[0].p_adjusted
        assert claim.close_call == (0.025 <= p < 0.1)
        assert claim.to_dict()["close_call"] == claim.close_call


def test_too_few_seeds_for_a_unanimous_sign_test_is_given_as_the_reason():
    claim = decide([faster(stats.paired([2.0, 2.0, 2.0], [1.0, 1.0, 1.0], "MNIST"))])[0]
    assert claim.verdict == "inconclusive"
    assert "with 3 seeds even unanimous agreement has p = 0.25" in claim.reason and "at least 6 seeds" in claim.reason
    assert decide([faster(stats.paired([2.0] * 6, [1.0] * 6, "MNIST"))])[0].verdict == "holds"


def test_an_evidence_base_names_what_it_counts():
    base = EvidenceBase(datasets=("AND", "OR"), skipped=("XOR",), unit="gate")
    assert "AND, OR (2 of 3 gates; XOR missing)" in base.describe()
    assert EvidenceBase.from_dict(base.to_dict()) == base


def test_a_claim_that_holds_is_as_close_to_its_threshold_as_its_weakest_test():
    strong = stats.paired(BETTER, WORSE, "MNIST")
    rng = np.random.default_rng(2)
    for _ in range(500):
        weak = stats.one_sample(rng.normal(0.5, 1.0, 20), "Fashion-MNIST")
        claim = decide([faster(strong, weak)])[0]
        if claim.verdict == "holds" and claim.tests[1].p_adjusted > 0.025:
            break
    assert claim.closest_p == pytest.approx(max(t.p_adjusted for t in claim.tests)) and claim.close_call
