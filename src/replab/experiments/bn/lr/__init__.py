"""BN study 1, learning rate: does Batch Normalization train well at learning rates where the baseline fails?

A log grid of plain-SGD learning rates for Figure 1's sigmoid MLP without and with BN. Every (network, rate, seed)
is one member of one population per dataset, so all of them see the same mini-batches; seed s of every cell
starts from the same weights.

measure → judge → present: `measure` trains the grid and records final accuracies, curves and divergences
(measure.py), `judge` turns the per-seed largest good rates and steps to the target into findings decided by
`replab.stats` (judge.py), `present` draws the tables and figures (present.py); the settings are in config.py.
"""

from replab.experiments.base import runner
from replab.experiments.bn.lr.config import Config

NAME = "bn-lr"
TITLE = "BN study 1 — learning rate: does Batch Normalization allow higher learning rates?"
QUESTION = ("Over a log grid of learning rates, where does the Figure 1 sigmoid network train well without and "
            "with Batch Normalization, how fast does each reach a target accuracy, and which rates diverge?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
