"""Synthetic datasets: noisy regression targets (a line, a sine) and imbalanced binary classification."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def noisy_line(n_train: int, n_test: int, noise_std: float, seed: int, slope: float = 3.0) -> Split:
    """x ~ U(-1, 1), y = slope·x + N(0, noise_std²); column vectors, float32.

    The test set draws fresh x and noise from the same distribution, so its MSE measures fit to the
    function, with the noise floor noise_std² as the best any model can do.
    """
    rng = np.random.default_rng(seed)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1.0, 1.0, size=(n, 1))
        y = slope * x + rng.normal(0.0, noise_std, size=(n, 1))
        return x.astype(np.float32), y.astype(np.float32)

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return Split(x_train, y_train, x_test, y_test)


TARGETS = {
    "line": lambda x: 3.0 * x,
    "sine": lambda x: np.sin(3.0 * x),
}
"""The regression targets by name: y = 3x (the seed's) and y = sin 3x (nonlinear: about one period on [−1, 1])."""


@dataclass(frozen=True)
class RegressionSplit(Split):
    f_test: np.ndarray
    """The true function at the test inputs (no noise): excess risk is measured against it."""


def noisy_target(target: str, n_train: int, n_test: int, noise_std: float, seed: int) -> RegressionSplit:
    """x ~ U(-1, 1), y = f(x) + N(0, noise_std²) for f = TARGETS[target]; column vectors, float32.

    The same seed draws the same x and the same standard-normal noise for every target and noise level, so
    comparisons across them are paired. f_test holds f at the test inputs, the noise-free truth.
    """
    function = TARGETS[target]
    rng = np.random.default_rng(seed)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = rng.uniform(-1.0, 1.0, size=(n, 1))
        f = function(x)
        y = f + noise_std * rng.normal(0.0, 1.0, size=(n, 1))
        return x.astype(np.float32), y.astype(np.float32), f.astype(np.float32)

    x_train, y_train, _ = draw(n_train)
    x_test, y_test, f_test = draw(n_test)
    return RegressionSplit(x_train, y_train, x_test, y_test, f_test)


def imbalanced_classification(n_samples: int, negative_share: float, test_size: float, seed: int,
                              flip_y: float = 0.01) -> Split:
    """make_classification with the positive class (1) as the minority, split stratified.

    `weights=[w]` gives class 0 the share w, so negative_share=0.99 makes positives about 1%
    (flip_y re-labels that fraction at random, which moves the prevalence slightly toward 50%).
    """
    x, y = make_classification(n_samples=n_samples, weights=[negative_share], flip_y=flip_y, random_state=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    return Split(x_train, y_train, x_test, y_test)
