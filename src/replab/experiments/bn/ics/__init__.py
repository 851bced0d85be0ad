"""BN study 6, internal covariate shift: does BN still help when the shift it is said to remove is put back?

A variant of Santurkar et al. (2018)'s test: after every BN layer, add a random shift and scale per unit that
changes at every step ("noisy BN"; Santurkar et al. draw i.i.d. noise per example and unit from a distribution whose
mean and variance change every step — here one shift and one scale per unit and step move the whole batch), so the
next layer's input distribution moves all the time. If BN worked by reducing internal covariate shift (Ioffe &
Szegedy's explanation), noisy BN should lose BN's benefit. Three cells — no normalisation, BN, noisy BN — over
several seeds are one population per dataset: the same mini-batches, and seed s of every cell starts from the same
weights. Besides accuracy, the shift itself is measured: the per-unit mean and standard deviation of the last
hidden layer's sigmoid inputs (noise included) over a fixed set of training images, at every record point, as
training sees them (batch statistics) and in inference mode (moving averages, no noise).

measure → judge → present: `measure` trains the three cells and measures the shift (measure.py), `judge` decides
the findings and the manipulation check, paired over seeds (judge.py), `present` draws the tables and figures
(present.py); the settings are in config.py, and this package is the experiment the registry names.
"""

from replab.experiments.base import runner
from replab.experiments.bn.ics.config import Config

NAME = "bn-ics"
TITLE = "BN study 6 — internal covariate shift: does BN's benefit survive injected shift (Santurkar et al. 2018)?"
QUESTION = ("If a random shift and scale that changes every step is injected after each BN layer, so that layer "
            "inputs move more than without BN, does the network keep BN's advantage over no normalisation?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
