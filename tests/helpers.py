"""A tiny stand-in experiment result for testing the run store and the report."""

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from replab import stats
from replab.claims import EvidenceBase, check, decide, finding
from replab.experiments.base import ExperimentConfig, Result, Table


@dataclass(frozen=True)
class TinyConfig(ExperimentConfig):
    label: str = "plain"


def tiny_claims(text: str = "plain", seed: int = 0, quick: bool = False):
    """A finding whose per-seed differences depend on the seed (so its verdict can change between seed sets)
    and a check."""
    differences = np.random.default_rng(seed).normal(0.01, 0.02, 5)
    base = EvidenceBase(datasets=("MNIST",), skipped=("Fashion-MNIST",), seeds=5, quick=quick)
    return decide([
        finding("tiny", f"statement {text}", effect="A − B", direction="greater",
                tests=[stats.one_sample(differences, "MNIST")], evidence=f"evidence {text}", base=base),
        check("tiny-check", f"check {text}", passed=True, evidence="by construction", base=base),
    ])


def tiny_result(text: str = "plain") -> Result:
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [0, 1], label=text)
    return Result(
        metrics={"accuracy": 0.75, "label": text},
        tables=[Table(text, ["column", text], [[text, 1.23456789], ["b", None]], caption=text)],
        figures={"line": figure},
        claims=tiny_claims(text),
        notes=[f"note {text}"],
    )


class TinyExperiment:
    """A stand-in experiment module: NAME, TITLE, QUESTION, Config and run, as the registry's modules have."""

    NAME = "tiny"
    TITLE = "Tiny"
    QUESTION = "Is it tiny?"
    Config = TinyConfig

    @staticmethod
    def run(config: TinyConfig, progress=None) -> Result:
        result = tiny_result(config.label)
        result.claims = tiny_claims(config.label, seed=config.seed, quick=config.quick)
        result.quick = config.quick
        return result
