"""Batch Normalization, Figure 1 of Ioffe & Szegedy (2015): an MNIST MLP with and without BN, over its free settings.

A 784-100-100-100-10 sigmoid network trained by plain SGD on mini-batches of 60, as the paper's baseline and with
BN on every hidden layer (z = g(BN(Wu)), the layer bias dropped: β replaces it), on the BN study's
`replab.nn.normalized_mlp.NormalizedMLP`. The paper fixes neither the learning rate nor the initial weight scale,
and the answers depend on both, so the experiment runs a grid (learning rate × initial weight std), every cell with
and without BN, ≥ 10 seeds per cell — every cell × model × seed of a dataset one member of ONE population trained in
one compiled graph. Each seed has its own data split, batch order and initial weights (`data.py`), shared by
every cell and both networks of the seed, so every comparison is paired by seed. MNIST (binary, the paper's input)
and Fashion-MNIST (grey levels) by default; Fashion-MNIST is skipped loudly where it cannot be had.

Each claim is read twice: at the paper-like cell (the slow baseline the paper shows) and with each network at its
own tuned cell (best validation accuracy). measure → judge → present live in measure.py (training in
train.py), judge.py and present.py.
"""

from replab.experiments.base import runner
from replab.experiments.bn.figure1.config import Config

NAME = "batchnorm"
TITLE = "Batch Normalization on an MNIST MLP: Figure 1 of Ioffe & Szegedy (2015)"
QUESTION = ("Does Batch Normalization make a 3-hidden-layer sigmoid network on MNIST train faster and reach higher "
            "test accuracy, and does it keep the distribution of a sigmoid's input stable during training — at the "
            "paper's slow-baseline setting and with each network at its own tuned setting?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
