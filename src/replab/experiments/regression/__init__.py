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

from __future__ import annotations

from replab.experiments.base import Progress, Result, compose, no_progress
from replab.experiments.regression.judge import judge, relative_change_at_end
from replab.experiments.regression.measure import (LINEAR_TARGET, MODELS, Measurements, Training, data_seed, grid,
                                                   make_optimizer, make_splits, measure, train_population)
from replab.experiments.regression.present import present
from replab.experiments.regression_config import TARGET_LABELS, Config

NAME = "regression"
TITLE = "A small low-level TensorFlow network on noisy y = 3x and y = sin 3x: what does a second hidden layer buy?"
QUESTION = ("A network of one hidden layer of 10 ReLU units, written with tf.Variable and tf.GradientTape, fits "
            "y = 3x + noise and y = sin 3x + noise. Does it reach the true function, and does a second hidden layer "
            "fit better — on the line at high noise, and on the nonlinear target at each noise level — judged by "
            "the excess risk against the true function on held-out inputs?")


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train both architectures on every target, noise level and seed, judge the findings, present the fits."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))


__all__ = ["NAME", "TITLE", "QUESTION", "Config", "Measurements", "run", "measure", "judge", "present",
           "LINEAR_TARGET", "MODELS", "TARGET_LABELS", "Training", "data_seed", "grid", "make_optimizer",
           "make_splits", "relative_change_at_end", "train_population"]
