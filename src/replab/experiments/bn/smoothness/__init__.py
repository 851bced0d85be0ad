"""Santurkar et al. (2018)'s explanation: does BN make the loss landscape smoother along the gradient?

"How Does Batch Normalization Help Optimization?" argues that BN works not by reducing internal covariate shift
but by making the loss and its gradient change more slowly: at checkpoints during training they step from the
current weights θ along the gradient g = ∇L(θ) by several step sizes η and measure (their Figure 4)

    loss variation            max_η L(θ − ηg) − min_η L(θ − ηg)          (η = 0 included)
    gradient predictiveness   max_η ‖∇L(θ − ηg) − ∇L(θ)‖                  (ℓ2 over every trained number)
    effective β-smoothness    max_η ‖∇L(θ − ηg) − ∇L(θ)‖ / ‖ηg‖

all three smaller with BN. Here: a ReLU MLP (784-100-100-100-10, He initialisation) without and with BN trained at
the same learning rate with plain SGD; at every record point the three quantities are computed on a fixed probe
batch of training images (BN in training mode on that batch, its moving averages untouched), for η = the
learning rate × each factor in `eta_factors`. Seed s of both networks starts from the same weights and sees the
same batches, so the networks are compared seed by seed (log10 of each quantity averaged over the checkpoints).

measure → judge → present: `measure` trains both populations and records the landscape (measure.py), `judge`
decides three findings with `replab.stats` (paired over seeds, one test per dataset; judge.py), `present` draws them
over training (present.py); the settings are in config.py, and this package is the experiment the registry names.
"""

from replab.experiments.base import runner
from replab.experiments.bn.smoothness.config import Config

NAME = "bn-smoothness"
TITLE = "BN study — Santurkar et al. 2018: does BN smooth the loss landscape along the gradient?"
QUESTION = ("Along the gradient direction, at checkpoints during training, do the loss and its gradient vary less "
            "with BN than without — the smoothness Santurkar et al. (2018) offer as BN's real mechanism?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
