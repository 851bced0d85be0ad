"""BN study 5, other normalisations: how do BN's successors compare with it and with no normalisation at all?

Figure 1's sigmoid MLP with each of seven treatments of its hidden layers' pre-activations: none, BatchNorm,
Batch Renormalization, LayerNorm, RMSNorm, WeightNorm and GroupNorm (over groups of units). Every (kind, seed)
is one member of one population per dataset, so all of them see the same mini-batches and seed s of every kind
starts from the same weights. Time per step is measured apart, by short runs that train one kind at a time.

measure → judge → present: `measure` trains and times (measure.py), `judge` decides three findings with
`replab.stats` (paired over seeds, one test per dataset and kind; judge.py), `present` draws the tables and figures
(present.py); the settings are in config.py. This module is the experiment the registry names.
"""

from replab.experiments.base import runner
from replab.experiments.bn.norms.config import Config

NAME = "norms"
TITLE = "BN study 5 — other normalisations: BatchNorm against its successors and against none"
QUESTION = ("With the same network, data, learning rate and seeds, how do no normalisation, BatchNorm, Batch "
            "Renormalization, LayerNorm, RMSNorm, WeightNorm and GroupNorm compare in accuracy over training, final "
            "accuracy and time per step?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
