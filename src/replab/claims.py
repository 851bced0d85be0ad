"""Claims: one statement each from the question or the paper, decided by a run's own measurements.

A **finding** is an empirical question. Its tests (one per dataset, gate or arm, from `replab.stats`) are decided
together with every other finding of the run by `decide`, which applies the one verdict rule of `replab.stats`.
A **check** is true by construction, by a theorem or as a manipulation check; it is reported apart and never
counted in the headline numbers.

    claims = decide([
        finding("bn-faster", "BN reaches 95% of the lower plateau in fewer steps", effect="baseline − BN steps",
                direction="greater", tests=[stats.paired(base_steps, bn_steps, "MNIST")], evidence="…", base=base),
        check("bn-identity", "BN((aW)u) = BN(Wu)", passed=error < 1e-5, evidence=f"largest error {error:.1e}"),
    ])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Literal

from replab import stats
from replab.stats import Direction, Test

Verdict = Literal["holds", "fails", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("holds", "fails", "inconclusive")
Kind = Literal["finding", "check"]
KINDS: tuple[Kind, ...] = ("finding", "check")


@dataclass(frozen=True)
class EvidenceBase:
    """What a claim rests on: the datasets it was judged on and those asked for but missing, seeds, examples."""

    datasets: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    seeds: int | None = None
    examples: int | None = None
    """Examples per arm (test points scored per seed, trials per rate), where that is what limits the test."""
    quick: bool = False
    unit: str = "dataset"
    """What `datasets` lists: 'dataset', or e.g. 'gate' where a claim is judged gate by gate."""

    @property
    def partial(self) -> bool:
        return bool(self.skipped)

    def describe(self) -> str:
        parts = []
        if self.datasets or self.skipped:
            asked = len(self.datasets) + len(self.skipped)
            names = ", ".join(self.datasets) or "none"
            parts.append(f"{names} ({len(self.datasets)} of {asked} {self.unit}{'s' if asked != 1 else ''}"
                         + (f"; {', '.join(self.skipped)} missing)" if self.skipped else ")"))
        if self.seeds is not None:
            parts.append(f"{self.seeds} seed{'s' if self.seeds != 1 else ''}")
        if self.examples is not None:
            parts.append(f"{self.examples:,} examples per arm")
        if self.quick:
            parts.append("smoke test (--quick)")
        return " · ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self) | {"datasets": list(self.datasets), "skipped": list(self.skipped)}

    @classmethod
    def from_dict(cls, data: dict) -> "EvidenceBase":
        return cls(tuple(data.get("datasets") or ()), tuple(data.get("skipped") or ()), data.get("seeds"),
                   data.get("examples"), bool(data.get("quick", False)), str(data.get("unit") or "dataset"))


@dataclass(frozen=True)
class Stability:
    """A claim's verdicts on independent seed sets (`--replicate N`); the first is the run's own."""

    seeds: tuple[int, ...]
    verdicts: tuple[str, ...]

    @property
    def agreement(self) -> float:
        return sum(v == self.verdicts[0] for v in self.verdicts) / len(self.verdicts)

    @property
    def stable(self) -> bool:
        return len(set(self.verdicts)) == 1

    def describe(self) -> str:
        counts = {v: self.verdicts.count(v) for v in dict.fromkeys(self.verdicts)}
        tally = ", ".join(f"{n} {v}" for v, n in counts.items())
        return f"{'stable' if self.stable else 'UNSTABLE'} over {len(self.verdicts)} seed sets ({tally})"

    def to_dict(self) -> dict:
        return {"seeds": list(self.seeds), "verdicts": list(self.verdicts), "agreement": self.agreement,
                "stable": self.stable}

    @classmethod
    def from_dict(cls, data: dict) -> "Stability":
        return cls(tuple(data["seeds"]), tuple(data["verdicts"]))


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    verdict: Verdict | None
    """None until `decide` has judged a finding."""
    evidence: str
    kind: Kind = "finding"
    effect: str = ""
    """What the tests' effect measures, with its sign, e.g. 'BN − baseline test accuracy'."""
    direction: Direction = "greater"
    tests: tuple[Test, ...] = ()
    base: EvidenceBase = field(default_factory=EvidenceBase)
    reason: str = ""
    """Why the verdict is inconclusive when the data cannot support one (filled by `decide`)."""
    stability: Stability | None = None

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.direction not in stats.DIRECTIONS:
            raise ValueError(f"direction must be one of {stats.DIRECTIONS}, got {self.direction!r}")
        if self.kind == "finding" and not self.tests:
            raise ValueError(f"finding '{self.id}' needs at least one test")

    @property
    def headline(self) -> str:
        """'holds', 'fails', 'inconclusive', 'check holds' / 'check fails'."""
        return f"check {self.verdict}" if self.kind == "check" else str(self.verdict)

    @property
    def closest_p(self) -> float | None:
        """The adjusted p-value that decided the verdict (the knife-edge to watch), for findings: a claim that holds
        is as weak as its weakest test (the largest deciding p), one that fails as its strongest failing test (the
        smallest), an inconclusive one is as close to a verdict as its closest test."""
        deciding = [(t.verdict, stats.deciding_p(t, self.direction)) for t in self.tests if t.available]
        deciding = [(verdict, p) for verdict, p in deciding if p is not None]
        if not deciding:
            return None
        if self.verdict == "holds":
            return max(p for _, p in deciding)
        if self.verdict == "fails":
            return min(p for verdict, p in deciding if verdict == "fails")
        return min(p for _, p in deciding)

    @property
    def close_call(self) -> bool:
        """A verdict next to its threshold: the deciding adjusted p-value lies within a factor of 2 of α
        (α/2 ≤ p < 2α), so another seed set may well decide it the other way."""
        p = self.closest_p
        return self.kind == "finding" and p is not None and stats.ALPHA / 2 <= p < 2 * stats.ALPHA

    def to_dict(self) -> dict:
        if self.verdict is None:
            raise ValueError(f"finding '{self.id}' was never decided; pass the claims through claims.decide")
        return {"id": self.id, "statement": self.statement, "verdict": self.verdict, "evidence": self.evidence,
                "kind": self.kind, "effect": self.effect, "direction": self.direction,
                "tests": [t.to_dict() for t in self.tests], "base": self.base.to_dict(),
                "base_text": self.base.describe(), "reason": self.reason, "close_call": self.close_call,
                "deciding_p": self.closest_p,
                "stability": self.stability.to_dict() if self.stability else None}

    @classmethod
    def from_dict(cls, data: dict) -> "Claim":
        return cls(data["id"], data["statement"], data["verdict"], data.get("evidence", ""),
                   data.get("kind", "finding"), data.get("effect", ""), data.get("direction", "greater"),
                   tuple(Test.from_dict(t) for t in data.get("tests") or ()),
                   EvidenceBase.from_dict(data.get("base") or {}), data.get("reason", ""),
                   Stability.from_dict(data["stability"]) if data.get("stability") else None)

    def _repr_html_(self) -> str:
        from replab.display import claim_html

        return claim_html(self.to_dict())


def finding(claim_id: str, statement: str, *, effect: str, direction: Direction, tests: Iterable[Test],
            evidence: str = "", base: EvidenceBase = EvidenceBase()) -> Claim:
    """An empirical claim, judged later by `decide` together with the run's other findings."""
    return Claim(claim_id, statement, None, evidence, "finding", effect, direction, tuple(tests), base)


def check(claim_id: str, statement: str, *, passed: bool, evidence: str,
          base: EvidenceBase = EvidenceBase()) -> Claim:
    """A claim true by construction, by a theorem or as a manipulation check: holds if `passed`."""
    return Claim(claim_id, statement, "holds" if passed else "fails", evidence, "check", base=base)


def decide(claims: list[Claim], alpha: float = stats.ALPHA) -> list[Claim]:
    """Every finding's verdict by the one rule of `replab.stats`, with Benjamini–Hochberg over all of them."""
    findings = [(i, c) for i, c in enumerate(claims) if c.kind == "finding"]
    p_values = [p for _, c in findings for t in c.tests for p in stats.decision_p_values(t, c.direction)]
    adjusted_all = list(stats.benjamini_hochberg(p_values))
    decided = list(claims)
    for i, claim in findings:
        tests = []
        for test in claim.tests:
            count = len(stats.decision_p_values(test, claim.direction))
            test = stats.adjusted(test, claim.direction, adjusted_all[:count])
            del adjusted_all[:count]
            tests.append(replace(test, verdict=stats.test_verdict(test, claim.direction, alpha)))
        verdict = stats.combined_verdict([t.verdict for t in tests])
        reasons = [f"{t.label}: {t.note}" for t in tests if t.note]
        reasons += [f"{t.label}: every seed gave the same value, and with {t.n} seeds even unanimous agreement has "
                    f"p = {2 * 0.5 ** t.n:.3g} ≥ {alpha:g} (an exact sign test needs at least "
                    f"{stats.seeds_for_sign_test(alpha)} seeds)"
                    for t in tests if "sign test" in t.method and 2 * 0.5 ** t.n >= alpha]
        decided[i] = replace(claim, verdict=verdict, tests=tuple(tests),
                             reason="; ".join(reasons) if verdict == "inconclusive" else "")
    return decided


def verdict_counts(claims: list[Claim], kind: Kind = "finding") -> dict[str, int]:
    """How many claims of `kind` hold, fail or are inconclusive."""
    return {verdict: sum(c.kind == kind and c.verdict == verdict for c in claims) for verdict in VERDICTS}


def count_dicts(claims: list[dict[str, Any]], kind: Kind = "finding") -> dict[str, int]:
    """verdict_counts for claims read back from a result.json."""
    return {verdict: sum(c.get("kind", "finding") == kind and c.get("verdict") == verdict for c in claims)
            for verdict in VERDICTS}

