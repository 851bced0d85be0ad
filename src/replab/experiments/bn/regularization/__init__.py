"""BN study 4, regularisation: does Batch Normalization narrow the train/test gap and make Dropout unnecessary (§3.4)?

Three measurements per dataset:

- Train/test gap. Figure 1's network without and with BN, each with Dropout rates 0, 0.2 and 0.5 on its hidden
  units, on every training image by default (the issue asks for full Fashion-MNIST; `max_train` caps it). Gap = training accuracy − test
  accuracy, both in inference mode; also the loss gap. BN fits faster, and a network that has fitted further has a
  larger gap whatever its regularisation, so BN's gap is judged where both networks first reach the same training
  accuracy (read off the accuracy curves), not only at the end.
- Batch noise. §3.4: with BN a training example's output depends on the rest of its mini-batch. For the trained BN
  networks (no Dropout), each draw partitions a pool of training images at random into mini-batches of size m, as an
  epoch of training does, and runs every mini-batch in training mode (batch statistics, Dropout off, moving averages
  untouched). How much an example's logits, its probability of its usual class and its predicted class vary over
  the draws is the noise BN injects, measured for several m.
- Mini-batch size. Both networks (no Dropout) trained at several batch sizes with the same number of examples seen
  and, by default, the learning rate scaled with the batch so that SGD's own noise scale (rate/batch) stays the same;
  the network without BN is the control for everything that is not BN.

All cells × seeds of one batch size form one population trained by one `nn.fit` call: they see the same mini-batches
and seed s of every cell starts from the same weights, so cells are compared seed by seed.

measure → judge → present: `measure.py` trains and measures, `judge.py` decides the findings with `replab.stats`
(paired over seeds, one test per dataset) and the batch-noise check, `present.py` draws the tables and figures; this
package is the experiment the registry names.
"""

from replab.experiments.base import runner
from replab.experiments.bn.regularization.config import Config

NAME = "bn-regularization"
TITLE = "BN study 4 — regularisation: does Batch Normalization narrow the train/test gap and replace Dropout?"
QUESTION = ("Without and with Batch Normalization, and with Dropout 0, 0.2 and 0.5, how far apart are training and "
            "test accuracy; how much does a training example's output vary with the other examples in its "
            "mini-batch; and how does the mini-batch size change that noise and the gap?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
