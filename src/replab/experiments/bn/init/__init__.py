"""BN study 2, initialisation scale: is Batch Normalization resilient to the scale of the initial weights (§3.3)?

The Figure 1 network starts from Gaussian weights with std = scale × the default, for scales around 1, without and with
BN. Seed s of every cell starts from the same unit-Gaussian draw, only multiplied by the cell's std, so the cells differ
in scale and nothing else. Besides the accuracy after training, §3.3's mechanism is measured at initialisation:
BN((aW)u) = BN(Wu), and ∂BN((aW)u)/∂(aW) = (1/a)·∂BN(Wu)/∂W.

measure → judge → present: `measure` trains the scale grid and probes the identity at initialisation (measure.py),
`judge` decides resilience (one test per dataset, paired over seeds, by `replab.stats`) and checks the identity
(judge.py), `present` draws the tables and figures (present.py); the settings are in config.py, and this module is
the experiment the registry names.
"""

from replab.experiments.base import runner
from replab.experiments.bn.init.config import Config

NAME = "bn-init"
TITLE = "BN study 2 — initialisation scale: is Batch Normalization resilient to the scale of the initial weights?"
QUESTION = ("With the initial weights' std multiplied by 0.01, 0.1, 1 and 10, how well do the Figure 1 network and "
            "its BN version train, and does BN's output really not depend on the weights' scale?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
