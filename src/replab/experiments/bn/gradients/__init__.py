"""BN study 3, gradient propagation: does Batch Normalization keep the layer Jacobians near 1 and gradients even?

§3.3 conjectures that with normalised inputs to consecutive layers, the map between them, linearised as ẑ = J x̂ with
unit covariances, has J Jᵀ = I: every singular value of J is 1, so backpropagation keeps gradient sizes. For Figure 1's
sigmoid network without and with BN this study measures, on one fixed probe batch of training images,

* the layer Jacobians J_l = ∂a_l/∂a_{l−1} between the inputs a_l of consecutive layers' sigmoids (BN's output with BN,
  Wu + b without), per example, with BN's statistics held at the probe batch's values (see nn.jacobians), and their
  singular values, at initialisation and at every record point; J_1 (from the pixels, not a normalised input) only at
  the start and the end;
* the training-mode loss gradients ‖∂L/∂a_l‖ and ‖∂L/∂W_l‖ at every layer, over training.

Both networks are members of one population per dataset (same mini-batches; seed s of both starts from the same weights).
The step-0 measurements come from a twin population built from the same seeds, since nn.fit records after training steps.

measure → judge → present: `measure.py` trains and probes, `judge.py` turns the per-seed summaries into findings
decided by `replab.stats` (one test per dataset, over seeds), `present.py` draws the tables and figures.
"""

from replab.experiments.base import runner
from replab.experiments.bn.gradients.config import Config

NAME = "bn-gradients"
TITLE = "BN study 3 — gradient propagation: does Batch Normalization keep layer Jacobians near 1 and gradients even?"
QUESTION = ("Over training, what are the singular values of each layer's Jacobian between consecutive sigmoid inputs, "
            "and how does the size of the loss gradient change from layer to layer, without and with Batch "
            "Normalization? Does BN keep the singular values close to 1 and the gradients the same size across layers, "
            "as §3.3 conjectures?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
