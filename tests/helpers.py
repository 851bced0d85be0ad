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
