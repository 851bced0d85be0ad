"""A tiny stand-in experiment result for testing the run store and the report."""

from dataclasses import dataclass

from matplotlib.figure import Figure

from replab.claims import judge
from replab.experiments.base import Result, Table


@dataclass(frozen=True)
class TinyConfig:
    seed: int = 0
    label: str = "plain"


def tiny_result(text: str = "plain") -> Result:
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [0, 1], label=text)
    return Result(
        metrics={"accuracy": 0.75, "label": text},
        tables=[Table(text, ["column", text], [[text, 1.23456789], ["b", None]], caption=text)],
        figures={"line": figure},
        claims=[judge("tiny", f"statement {text}", True, f"evidence {text}")],
        notes=[f"note {text}"],
    )


def paired_t_verdict(differences, margin: float = 0.0):
    """The BN study's significance rule, re-derived with scipy's one-sample t-test: True if the per-seed differences'
    mean is above `margin` at p < 0.05 (two-sided), False if below it, None if neither; no spread: the sign decides."""
    import numpy as np
    import scipy.stats

    d = np.asarray(differences, float) - margin
    if d.std(ddof=1) == 0:
        return None if d.mean() == 0 else bool(d.mean() > 0)
    if scipy.stats.ttest_1samp(d, 0.0).pvalue >= 0.05:
        return None
    return bool(d.mean() > 0)


VERDICT_WORDS = {True: "holds", False: "fails", None: "inconclusive"}
