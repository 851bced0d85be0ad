"""BN where it is used in practice: a ReLU MLP and a small CNN, without and with BN, across a learning-rate grid.

The paper's headline — BN lets a network train at much higher learning rates — is tested elsewhere on Figure 1's
sigmoid MLP. Practitioners rely on it in ReLU networks and convolutional networks, so this experiment asks it
there: a ReLU MLP (784-128-128-10) and a small CNN (two 3×3 convolutions of 4 and 8 channels by default, 8 and 16 in the paper profile, each followed by
2×2 max pooling, then a dense layer), both He-initialised, trained with plain SGD at every rate of a grid, without
BN and with BN before every ReLU (per unit for the MLP, per channel over (N, H, W) for the CNN; Ioffe & Szegedy
§3.2). Seed s of both networks starts from the same weights and sees the same mini-batches.

Rates are chosen on a validation split held out of the training images, never on the test images the claims are
judged on: a rate is *good* for a seed if it did not diverge and its final validation accuracy is within
`good_within` of that seed's best rate; a network's *best* rate has the highest mean validation accuracy.

measure → judge → present: `measure` trains (one population per network, dataset and architecture; measure.py),
`judge` decides two findings with `replab.stats` (paired over seeds, one test per dataset and architecture;
judge.py), `present` draws the grid (present.py); the settings are in config.py. This package is the experiment the
registry names.
"""

from replab.experiments.base import runner
from replab.experiments.bn.practice.config import Config

NAME = "bn-practice"
TITLE = "BN in practice — ReLU MLP and CNN: does BN let them train at higher learning rates?"
QUESTION = ("In the networks practitioners use BN in — a ReLU MLP and a small CNN on Fashion-MNIST — does BN widen "
            "the range of learning rates that train well, and is the network with BN more accurate when each network "
            "trains at its own best rate?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
