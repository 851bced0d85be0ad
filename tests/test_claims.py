import pytest

from replab.claims import Claim, judge, verdict_counts


@pytest.mark.parametrize("holds, verdict", [(True, "holds"), (False, "fails"), (None, "inconclusive")])
def test_judge_maps_measurement_to_verdict(holds, verdict):
    claim = judge("c", "statement", holds, "x = 1")
    assert claim.verdict == verdict
    assert Claim.from_dict(claim.to_dict()) == claim


def test_a_claim_rejects_an_unknown_verdict():
    with pytest.raises(ValueError, match="verdict"):
        Claim("c", "s", "probably", "e")


def test_verdict_counts():
    claims = [judge("a", "s", True, ""), judge("b", "s", True, ""), judge("c", "s", None, "")]
    assert verdict_counts(claims) == {"holds": 2, "fails": 0, "inconclusive": 1}
