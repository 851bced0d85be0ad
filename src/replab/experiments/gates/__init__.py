"""Which logic gates can logistic regression and an RBF SVC learn, and why?

Each gate is four points. A linear program decides whether a line separates them and, when none
does, returns a certificate (the theorem of the alternative) that proves it; the models' training
accuracies are then compared with that verdict.

Nothing here is sampled: the four rows are the whole truth table, the solvers are deterministic, and training
accuracy is measured on those same rows. Every claim is therefore a check (an exact computation, or a theorem
such as the LP's certificate), never a statistical finding.

`separability.py` holds the LP, `measure.py` the fits and grids, `judge.py` the claims and `present.py` the notes,
tables and figures.
"""

from __future__ import annotations

from replab.experiments.base import Progress, Result, compose, no_progress
from replab.experiments.gates.judge import judge
from replab.experiments.gates.measure import (INPUTS, LOGISTIC_MODELS, MODELS, PLOT_RANGE, Measurements, SeedFit,
                                              build_models, measure, model_labels, region_grid, seed_fit, truth_table)
from replab.experiments.gates.present import decision_regions_figure, present, separating_lines_figure
from replab.experiments.gates.separability import (Separability, infeasibility_certificate, separability,
                                                   separating_hyperplane)
from replab.experiments.gates_config import GATES, Config

NAME = "gates"
TITLE = "Logic gates: which can logistic regression and an RBF SVC learn, and why"
QUESTION = (
    "Which of the logic gates AND, OR, NAND, NOR, XOR and XNOR can logistic regression and an RBF "
    "support-vector classifier learn from their four-row truth tables? A linear program proves, gate by "
    "gate, whether a separating line exists, which explains the answer."
)


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Measure every gate (LPs and fits), judge the five checks, and present tables, figures and notes."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))


__all__ = ["NAME", "TITLE", "QUESTION", "GATES", "Config", "Measurements", "run", "measure", "judge", "present",
           "INPUTS", "MODELS", "LOGISTIC_MODELS", "PLOT_RANGE", "SeedFit", "Separability", "build_models",
           "decision_regions_figure", "infeasibility_certificate", "model_labels", "region_grid", "seed_fit",
           "separability", "separating_hyperplane", "separating_lines_figure", "truth_table"]
