"""TensorFlow Playground's four classification datasets and its seven input features.

Each generator is one short pure function, a transcription of tensorflow/playground `src/dataset.ts`
(classifySpiralData, classifyCircleData, classifyXORData, classifyTwoGaussData). It takes the number
of points, the noise and a NumPy `Generator`, and returns `(points, labels)` in the Playground's
order: float64 points of shape (N, 2), labels in {-1, +1}, the +1 class first where there are two
blocks. `make_dataset` then shuffles once with the same generator and splits by the ratio of training
data, as the Playground's `generateData` does.

Noise is the Playground's *stored fraction*: the "Noise" slider shows 0..50 and the Playground calls
the generators with `slider / 100`, so `noise` here lies in [0, 0.5] (`noise_from_slider(25)` gives
0.25). Each dataset uses it differently, exactly as the Playground does:

- spiral: every coordinate moves by U(-1, 1)·noise (at most ±0.5 at the top of the slider);
- circle and xor: the *stored point is noise-free*; noise U(-5, 5)·noise per coordinate moves a
  hidden copy of the point, and the label is computed on that copy, so noise flips the labels of
  points near the boundary instead of moving points;
- gauss: noise sets the variance of both Gaussians, linearly from 0.5 (noise 0) to 4 (noise 0.5).

Randomness: the Playground draws from `Math.random` re-seeded by seedrandom; that stream cannot be
reproduced here, so the same Playground seed does not give the same points. We draw from
`numpy.random.default_rng(seed)`: the distributions are the Playground's, the samples are not, and the
same seed always gives the same data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from replab.errors import ConfigError, check_seed, is_integer, require

N_POINTS = 500
"""Points in every Playground classification set (NUM_SAMPLES_CLASSIFY)."""
MAX_NOISE = 0.5
"""Top of the noise slider (50) as the fraction the generators receive."""
TRAIN_RATIO = 0.5
"""Default "ratio of training data" (percTrainData = 50)."""

SPIRAL_RADIUS = 5.0
SPIRAL_TURNS = 1.75
CIRCLE_RADIUS = 5.0
XOR_HALF_WIDTH = 5.0
XOR_PADDING = 0.3
GAUSS_CENTRE = 2.0
GAUSS_VARIANCE = (0.5, 4.0)
"""Variance of both Gaussians at noise 0 and at noise 0.5 (linear in between)."""

DataGenerator = Callable[[int, float, np.random.Generator], "tuple[np.ndarray, np.ndarray]"]


def spiral(n_points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals, n = n_points/2 points each (classifySpiralData).

    For i in 0..n-1: r = 5·i/n, t = 1.75·2π·i/n + δ, x = r·sin t + U(-1,1)·noise,
    y = r·cos t + U(-1,1)·noise; class +1 has δ = 0, class -1 has δ = π.
    """
    n = n_points // 2
    i = np.arange(n, dtype=np.float64)
    r = SPIRAL_RADIUS * i / n
    blocks = []
    for delta in (0.0, math.pi):
        t = SPIRAL_TURNS * 2.0 * math.pi * i / n + delta
        clean = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        blocks.append(clean + rng.uniform(-1.0, 1.0, size=(n, 2)) * noise)
    return np.concatenate(blocks), np.repeat([1.0, -1.0], n)


def circle(n_points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A disc inside a ring (classifyCircleData; the Playground's default dataset).

    n_points/2 points with r ~ U(0, 0.5·5) and n_points/2 with r ~ U(0.7·5, 5), angle ~ U(0, 2π),
    x = r·sin(angle), y = r·cos(angle). The label is +1 if the point moved by U(-5, 5)·noise in each
    coordinate lies within 0.5·5 of the centre, else -1; the stored point is the unmoved one.
    """
    n = n_points // 2
    r = np.concatenate([rng.uniform(0.0, 0.5 * CIRCLE_RADIUS, n),
                        rng.uniform(0.7 * CIRCLE_RADIUS, CIRCLE_RADIUS, n)])
    angle = rng.uniform(0.0, 2.0 * math.pi, 2 * n)
    points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    moved = points + rng.uniform(-CIRCLE_RADIUS, CIRCLE_RADIUS, size=points.shape) * noise
    labels = np.where(np.hypot(moved[:, 0], moved[:, 1]) < 0.5 * CIRCLE_RADIUS, 1.0, -1.0)
    return points, labels


def xor(n_points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants (classifyXORData).

    x, y ~ U(-5, 5), each pushed 0.3 away from its axis (+0.3 if > 0, else -0.3). The label is +1 if
    x·y >= 0 for the point moved by U(-5, 5)·noise in each coordinate, else -1; the stored point is
    the unmoved one.
    """
    points = rng.uniform(-XOR_HALF_WIDTH, XOR_HALF_WIDTH, size=(n_points, 2))
    points += np.where(points > 0, XOR_PADDING, -XOR_PADDING)
    moved = points + rng.uniform(-XOR_HALF_WIDTH, XOR_HALF_WIDTH, size=points.shape) * noise
    labels = np.where(moved[:, 0] * moved[:, 1] >= 0, 1.0, -1.0)
    return points, labels


def gauss(n_points: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs (classifyTwoGaussData).

    n_points/2 points around (2, 2) labelled +1 and n_points/2 around (-2, -2) labelled -1, each
    coordinate normal with variance lerp(0.5, 4) over noise in [0, 0.5], i.e. 0.5 + 7·noise (standard
    deviation its square root, as the Playground's normalRandom uses).
    """
    n = n_points // 2
    low, high = GAUSS_VARIANCE
    std = math.sqrt(low + (high - low) * noise / MAX_NOISE)
    points = np.concatenate([rng.normal(GAUSS_CENTRE, std, size=(n, 2)),
                             rng.normal(-GAUSS_CENTRE, std, size=(n, 2))])
    return points, np.repeat([1.0, -1.0], n)


DATASETS: dict[str, DataGenerator] = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral}
"""The Playground's classification datasets by their Playground names, in its menu order."""

# The seven input features: the Playground's own keys (as in its URLs, e.g. `&sinX=true`).
FEATURES = ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")
"""Feature names in the Playground's order: X1, X2, X1², X2², X1·X2, sin(X1), sin(X2)."""
FEATURE_LABELS = {"x": "X1", "y": "X2", "xSquared": "X1²", "ySquared": "X2²", "xTimesY": "X1·X2",
                  "sinX": "sin(X1)", "sinY": "sin(X2)"}
"""How the Playground labels each feature on screen."""
DEFAULT_FEATURES = ("x", "y")
"""The features switched on in a fresh Playground."""

_FEATURE_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "xSquared": lambda x, y: x * x,
    "ySquared": lambda x, y: y * y,
    "xTimesY": lambda x, y: x * y,
    "sinX": lambda x, y: np.sin(x),
    "sinY": lambda x, y: np.sin(y),
}


def features(points: np.ndarray, names: Sequence[str] = DEFAULT_FEATURES) -> np.ndarray:
    """The chosen input features of (N, 2) points, raw (not normalised), as (N, len(names)) float32.

    Names come from FEATURES; an unknown, repeated or missing name raises ConfigError.
    """
    require(isinstance(names, Sequence) and not isinstance(names, str) and len(names) > 0,
            f"features must be a list of names from {', '.join(FEATURES)}, got {names!r}.")
    unknown = [name for name in names if name not in _FEATURE_FUNCTIONS]
    if unknown:
        raise ConfigError(f"unknown Playground feature {unknown[0]!r}; choose from {', '.join(FEATURES)}.")
    require(len(set(names)) == len(names), f"each feature may be chosen once, got {list(names)}.")
    points = np.asarray(points, dtype=np.float64)
    require(points.ndim == 2 and points.shape[1] == 2, f"points must have shape (N, 2), got {points.shape}.")
    x, y = points[:, 0], points[:, 1]
    return np.stack([_FEATURE_FUNCTIONS[name](x, y) for name in names], axis=1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class PlaygroundData:
    """One generated Playground dataset, shuffled and split.

    Points are (N, 2) float32 (x, y); labels are (N,) float32 in {-1, +1}. The arrays are read-only.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    noise: float
    train_ratio: float
    seed: int


def noise_from_slider(value: float) -> float:
    """The noise fraction the Playground uses for its slider value 0..50 (value / 100)."""
    require(isinstance(value, Real) and not isinstance(value, bool) and 0 <= value <= 100 * MAX_NOISE,
            f"the Playground's noise slider goes from 0 to {100 * MAX_NOISE:g}, got {value!r}.")
    return value / 100


def shuffle_split(points: np.ndarray, labels: np.ndarray, train_ratio: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle once, then the first floor(N·train_ratio) points train and the rest test (not stratified)."""
    order = rng.permutation(len(points))
    points, labels = points[order], labels[order]
    cut = _split_index(len(points), train_ratio)
    return points[:cut], labels[:cut], points[cut:], labels[cut:]


def make_dataset(name: str, n_points: int = N_POINTS, noise: float = 0.0, train_ratio: float = TRAIN_RATIO,
                 seed: int = 0) -> PlaygroundData:
    """Generate Playground dataset `name` (circle, xor, gauss, spiral), shuffle it and split it.

    noise is the Playground's fraction in [0, 0.5] (its slider value / 100); train_ratio in (0, 1) is
    its "ratio of training data". One `default_rng(seed)` draws the points and then the shuffle.
    """
    require(isinstance(name, str) and name in DATASETS,
            f"unknown Playground dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    require(is_integer(n_points) and n_points >= 4 and n_points % 2 == 0,
            f"n_points must be an even whole number of at least 4 (half per class), got {n_points!r}.")
    require(_is_real(noise) and 0 <= noise <= MAX_NOISE,
            f"noise must be a fraction between 0 and {MAX_NOISE} (the Playground's slider value / 100, "
            f"so slider 25 is 0.25), got {noise!r}.")
    require(_is_real(train_ratio) and 0 < train_ratio < 1,
            f"train_ratio must lie strictly between 0 and 1, got {train_ratio!r}.")
    cut = _split_index(n_points, train_ratio)
    require(0 < cut < n_points, f"train_ratio {train_ratio} leaves no training or no test point "
                                f"out of {n_points}; choose a ratio nearer 0.5 or more points.")
    check_seed(seed)

    rng = np.random.default_rng(int(seed))
    points, labels = DATASETS[name](int(n_points), float(noise), rng)
    parts = [_frozen(array) for array in shuffle_split(points, labels, float(train_ratio), rng)]
    return PlaygroundData(*parts, name=name, noise=float(noise), train_ratio=float(train_ratio), seed=int(seed))


def _split_index(n: int, train_ratio: float) -> int:
    # The Playground computes floor(N * percent / 100); the tiny epsilon keeps e.g. 500 * 0.7 at 350.
    return math.floor(n * train_ratio + 1e-9)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float32)
    array.flags.writeable = False
    return array


def _is_real(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)

