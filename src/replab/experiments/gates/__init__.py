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

from replab.experiments.base import runner
from replab.experiments.gates.config import Config

NAME = "gates"
TITLE = "Logic gates: which can logistic regression and an RBF SVC learn, and why"
QUESTION = (
    "Which of the logic gates AND, OR, NAND, NOR, XOR and XNOR can logistic regression and an RBF "
    "support-vector classifier learn from their four-row truth tables? A linear program proves, gate by "
    "gate, whether a separating line exists, which explains the answer."
)

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
