"""Batch Normalization, Figure 1 of Ioffe & Szegedy (2015): an MNIST MLP with and without BN, over its free settings.

A 784-100-100-100-10 sigmoid network trained by plain SGD on mini-batches of 60, as the paper's baseline and with
BN on every hidden layer (z = g(BN(Wu)), the layer bias dropped: β replaces it), on the BN study's
`replab.nn.normalized_mlp.NormalizedMLP`. The paper fixes neither the learning rate nor the initial weight scale,
and the answers depend on both, so the experiment runs a grid (learning rate × initial weight std), every cell with
and without BN, ≥ 10 seeds per cell — every cell × model × seed of a dataset one member of ONE population trained in
one compiled graph. Each seed has its own data split, batch order and initial weights (`figure1_data`), shared by
every cell and both networks of the seed, so every comparison is paired by seed. MNIST (binary, the paper's input)
and Fashion-MNIST (grey levels) by default; Fashion-MNIST is skipped loudly where it cannot be had.

Each claim is read twice: at the paper-like cell (the slow baseline the paper shows) and with each network at its
own tuned cell (best validation accuracy). measure → judge → present live in figure1_measure, figure1_judge and
figure1_present; this module is the experiment the registry names.
"""

from __future__ import annotations

from replab.experiments.base import Progress, Result, compose, no_progress
from replab.experiments.bn.figure1_config import (COLOURS, DATASET_LABELS, DATASETS, KINDS, LABELS, MODELS,  # noqa: F401
                                                  PAPER_ACCURACY, PERCENTILES, PLATEAU_FRACTION, READINGS,
                                                  TARGET_FRACTION, Config)
from replab.experiments.bn.figure1_data import Splits, seed_splits, stratified_split  # noqa: F401
from replab.experiments.bn.figure1_judge import judge  # noqa: F401
from replab.experiments.bn.figure1_measure import (DatasetRun, Measurements, first_step_reaching, measure,  # noqa: F401
                                                   measure_dataset, plateau)
from replab.experiments.bn.figure1_present import present  # noqa: F401
from replab.experiments.bn.figure1_train import (Training, batch_orders, batch_statistics, build_network,  # noqa: F401
                                                 grid, last_sigmoid_input, member_rates, member_rows, per_cell,
                                                 percentiles, population_accuracy, train)

NAME = "batchnorm"
TITLE = "Batch Normalization on an MNIST MLP: Figure 1 of Ioffe & Szegedy (2015)"
QUESTION = ("Does Batch Normalization make a 3-hidden-layer sigmoid network on MNIST train faster and reach higher "
            "test accuracy, and does it keep the distribution of a sigmoid's input stable during training — at the "
            "paper's slow-baseline setting and with each network at its own tuned setting?")


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train Figure 1's grid on every dataset (measure), decide the six findings (judge), draw the figures (present)."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))
