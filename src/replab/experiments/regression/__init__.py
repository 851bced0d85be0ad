"""A small network in low-level TensorFlow fitting noisy data, and what a second hidden layer buys.

Two targets — the seed's line y = 3x and the nonlinear y = sin 3x, where depth can matter — at three noise
levels. Every (target, noise level, seed) triple is one member of a population: each architecture trains all of
its networks at once in one compiled graph, full batch. Seed s draws the same x, the same standard-normal noise
(scaled by σ) and the same initial weights for both architectures and every target and noise level, so the
comparisons between them are paired by seed; each seed has its own data and its own initial weights.

Fit is judged by the excess risk, the mean squared distance between the learned function and the TRUE function
on held-out inputs (test MSE on noisy targets is that plus σ², and the noise of the draw).

`measure.py` trains and measures, `judge.py` decides the claims, `present.py` writes the notes, tables and figures.
"""

from replab.experiments.base import runner
from replab.experiments.regression.config import Config

NAME = "regression"
TITLE = "A small low-level TensorFlow network on noisy y = 3x and y = sin 3x: what does a second hidden layer buy?"
QUESTION = ("A network of one hidden layer of 10 ReLU units, written with tf.Variable and tf.GradientTape, fits "
            "y = 3x + noise and y = sin 3x + noise. Does it reach the true function, and does a second hidden layer "
            "fit better — on the line at high noise, and on the nonlinear target at each noise level — judged by "
            "the excess risk against the true function on held-out inputs?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
