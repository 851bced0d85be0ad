"""Claims: one statement each, with a verdict computed from a run's measurements."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Verdict = Literal["holds", "fails", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("holds", "fails", "inconclusive")


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    verdict: Verdict
    evidence: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Claim":
        return cls(**{key: data[key] for key in ("id", "statement", "verdict", "evidence")})


def judge(claim_id: str, statement: str, holds: bool | None, evidence: str) -> Claim:
    """A claim whose verdict is `holds` if `holds` is True, `fails` if False, `inconclusive` if None."""
    verdict: Verdict = "inconclusive" if holds is None else ("holds" if holds else "fails")
    return Claim(claim_id, statement, verdict, evidence)


def verdict_counts(claims: list[Claim]) -> dict[str, int]:
    return {verdict: sum(claim.verdict == verdict for claim in claims) for verdict in VERDICTS}
