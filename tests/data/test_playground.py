"""Playground datasets against the formulas of tensorflow/playground src/dataset.ts, the split and the features."""

import math
import subprocess
import sys

import numpy as np
import pytest

from replab.data.playground import (
    DATASETS,
    DEFAULT_FEATURES,
    FEATURES,
    PlaygroundData,
    circle,
    features,
    gauss,
    make_dataset,
    noise_from_slider,
    shuffle_split,
    spiral,
    xor,
)
from replab.errors import ConfigError

NOISES = [0.0, 0.1, 0.25, 0.5]


def rng(seed=0):
    return np.random.default_rng(seed)


def spiral_formula(n):
    """The noiseless spiral, point by point, straight from the Playground's loop."""
    rows = []
    for delta, label in ((0.0, 1.0), (math.pi, -1.0)):
        for i in range(n):
            r = i / n * 5
            t = 1.75 * i / n * 2 * math.pi + delta
            rows.append((r * math.sin(t), r * math.cos(t), label))
    rows = np.array(rows)
    return rows[:, :2], rows[:, 2]


# --- spiral -----------------------------------------------------------------------------------------------------

def test_spiral_matches_the_formula_point_by_point_without_noise():
    points, labels = spiral(500, 0.0, rng())
    expected_points, expected_labels = spiral_formula(250)
    np.testing.assert_allclose(points, expected_points, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(labels, expected_labels)


def test_spiral_radius_and_angle_are_recovered_exactly_for_both_classes():
    n = 250
    points, labels = spiral(2 * n, 0.0, rng())
    i = np.arange(n)
    for block, delta in ((slice(0, n), 0.0), (slice(n, 2 * n), math.pi)):
        x, y = points[block, 0], points[block, 1]
        np.testing.assert_allclose(np.hypot(x, y), 5 * i / n, rtol=0, atol=1e-12)
        # x = r·sin t, y = r·cos t, so t = atan2(x, y); compare on the circle (i = 0 has r = 0, no angle).
        recovered = np.arctan2(x[1:], y[1:])
        expected = 1.75 * 2 * np.pi * i[1:] / n + delta
        np.testing.assert_allclose(np.angle(np.exp(1j * (recovered - expected))), 0.0, atol=1e-9)
    assert (labels[:n] == 1).all() and (labels[n:] == -1).all()


@pytest.mark.parametrize("noise", NOISES)
def test_spiral_classes_are_balanced_exactly(noise):
    _, labels = spiral(500, noise, rng())
    assert (labels == 1).sum() == 250 and (labels == -1).sum() == 250


@pytest.mark.parametrize("noise", [0.1, 0.5])
def test_spiral_noise_moves_each_coordinate_by_at_most_noise(noise):
    points, _ = spiral(500, noise, rng(3))
    clean, _ = spiral_formula(250)
    moved = np.abs(points - clean)
    assert moved.max() <= noise
    assert moved.max() > 0.8 * noise  # noise is actually used, over the whole U(-1, 1) range
    assert (points - clean).min() < -0.8 * noise


# --- circle -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("noise", NOISES)
def test_circle_radii_lie_in_the_disc_and_the_ring(noise):
    points, _ = circle(500, noise, rng(1))
    radius = np.hypot(points[:, 0], points[:, 1])
    assert radius[:250].min() >= 0 and radius[:250].max() < 2.5   # U(0, 0.5·5)
    assert radius[250:].min() >= 3.5 and radius[250:].max() <= 5.0  # U(0.7·5, 5)
    assert radius[:250].max() > 2.3 and radius[250:].min() < 3.7  # the whole ranges are used


def test_circle_labels_without_noise_are_inside_plus_outside_minus():
    points, labels = circle(500, 0.0, rng(2))
    radius = np.hypot(points[:, 0], points[:, 1])
    np.testing.assert_array_equal(labels, np.where(radius < 2.5, 1.0, -1.0))
    assert (labels[:250] == 1).all() and (labels[250:] == -1).all()


@pytest.mark.parametrize("noise", [0.1, 0.25, 0.5])
def test_circle_noise_flips_only_labels_near_the_boundary(noise):
    points, labels = circle(500, noise, rng(4))
    radius = np.hypot(points[:, 0], points[:, 1])
    # The hidden moved copy is at most 5·noise·√2 away, so farther points keep the noiseless label.
    far = np.abs(radius - 2.5) > 5 * noise * math.sqrt(2)
    np.testing.assert_array_equal(labels[far], np.where(radius[far] < 2.5, 1.0, -1.0))
    assert set(np.unique(labels)) <= {-1.0, 1.0}
    if noise >= 0.25:
        assert (labels != np.where(radius < 2.5, 1.0, -1.0)).any()


# --- xor --------------------------------------------------------------------------------------------------------

def test_xor_points_are_padded_away_from_the_axes():
    points, _ = xor(500, 0.0, rng(5))
    assert np.abs(points).min() >= 0.3 and np.abs(points).max() <= 5.3
    assert len(points) == 500
    # all four quadrants are populated
    quadrants = {(bool(a), bool(b)) for a, b in points > 0}
    assert len(quadrants) == 4


def test_xor_label_is_the_sign_of_x_times_y_without_noise():
    points, labels = xor(500, 0.0, rng(6))
    np.testing.assert_array_equal(labels, np.where(points[:, 0] * points[:, 1] >= 0, 1.0, -1.0))


@pytest.mark.parametrize("noise", [0.1, 0.5])
def test_xor_noise_flips_only_labels_near_the_axes(noise):
    points, labels = xor(500, noise, rng(7))
    far = (np.abs(points) > 5 * noise).all(axis=1)
    rule = np.where(points[:, 0] * points[:, 1] >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(labels[far], rule[far])
    assert (labels != rule).any()


# --- gauss ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("noise", NOISES)
def test_gauss_means_and_variance(noise):
    points, labels = gauss(20_000, noise, rng(8))
    positive, negative = points[labels == 1], points[labels == -1]
    assert len(positive) == len(negative) == 10_000
    np.testing.assert_allclose(positive.mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(negative.mean(axis=0), [-2, -2], atol=0.1)
    variance = 0.5 + (4 - 0.5) * noise / 0.5
    np.testing.assert_allclose(positive.var(axis=0), variance, rtol=0.06)
    np.testing.assert_allclose(negative.var(axis=0), variance, rtol=0.06)


def test_gauss_default_size_is_balanced():
    _, labels = gauss(500, 0.2, rng())
    assert (labels == 1).sum() == 250 and (labels == -1).sum() == 250


# --- make_dataset and the split ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(DATASETS))
def test_make_dataset_shapes_types_and_split_sizes(name):
    data = make_dataset(name, noise=0.2)
    assert isinstance(data, PlaygroundData)
    assert data.x_train.shape == (250, 2) and data.x_test.shape == (250, 2)
    assert data.y_train.shape == (250,) and data.y_test.shape == (250,)
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        assert array.dtype == np.float32
        assert not array.flags.writeable
    labels = np.concatenate([data.y_train, data.y_test])
    assert set(np.unique(labels)) <= {-1.0, 1.0}
    assert (data.name, data.noise, data.train_ratio, data.seed) == (name, 0.2, 0.5, 0)


@pytest.mark.parametrize("ratio, n_train", [(0.1, 50), (0.3, 150), (0.5, 250), (0.7, 350), (0.9, 450), (0.333, 166)])
def test_split_index_is_floor_of_n_times_ratio(ratio, n_train):
    data = make_dataset("spiral", train_ratio=ratio)
    assert len(data.x_train) == n_train and len(data.x_test) == 500 - n_train


def test_split_loses_and_duplicates_no_point():
    data = make_dataset("spiral", noise=0.0, train_ratio=0.3, seed=11)
    points = np.concatenate([data.x_train, data.x_test])
    labels = np.concatenate([data.y_train, data.y_test])
    expected_points, expected_labels = spiral_formula(250)
    def rows(points, labels):
        return [(round(float(a), 5), round(float(b), 5), float(c)) for (a, b), c in zip(points, labels)]

    expected, got = set(rows(expected_points, expected_labels)), rows(points, labels)
    assert len(got) == len(set(got)) == 500
    assert set(got) == expected
    assert (labels == 1).sum() == 250 and (labels == -1).sum() == 250


def test_split_is_shuffled_not_stratified_by_order():
    data = make_dataset("spiral", seed=0)
    # Unshuffled, the first half would be the whole +1 class.
    assert 0 < (data.y_train == 1).sum() < 250
    assert (data.y_train == 1).sum() + (data.y_test == 1).sum() == 250


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_data_other_seed_other_data(name):
    a, b = make_dataset(name, noise=0.3, seed=5), make_dataset(name, noise=0.3, seed=5)
    c = make_dataset(name, noise=0.3, seed=6)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)


def test_make_dataset_points_match_the_generator_in_float32():
    data = make_dataset("spiral", noise=0.5, seed=9)
    generator = np.random.default_rng(9)
    points, labels = spiral(500, 0.5, generator)
    x_train, y_train, x_test, y_test = shuffle_split(points, labels, 0.5, generator)
    np.testing.assert_array_equal(data.x_train, x_train.astype(np.float32))
    np.testing.assert_array_equal(data.y_test, y_test.astype(np.float32))


def test_shuffle_split_keeps_points_with_their_labels():
    points = np.arange(20, dtype=float).reshape(10, 2)
    labels = points[:, 0]
    x_train, y_train, x_test, y_test = shuffle_split(points, labels, 0.4, rng())
    assert len(x_train) == 4 and len(x_test) == 6
    np.testing.assert_array_equal(x_train[:, 0], y_train)
    np.testing.assert_array_equal(x_test[:, 0], y_test)
    assert sorted(np.concatenate([y_train, y_test])) == sorted(labels)


# --- features ---------------------------------------------------------------------------------------------------

def test_features_match_the_formulas():
    points = make_dataset("gauss", noise=0.5, seed=3).x_train
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    table = features(points, FEATURES)
    assert table.shape == (250, 7) and table.dtype == np.float32
    expected = np.stack([x, y, x * x, y * y, x * y, np.sin(x), np.sin(y)], axis=1)
    np.testing.assert_allclose(table, expected, rtol=1e-6, atol=1e-6)


def test_features_follow_the_requested_order_and_default_to_x_y():
    points = np.array([[1.0, 2.0], [-3.0, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(features(points, ["sinY", "xTimesY", "x"]),
                               [[math.sin(2.0), 2.0, 1.0], [math.sin(0.5), -1.5, -3.0]], rtol=1e-6)
    np.testing.assert_array_equal(features(points), points)
    assert DEFAULT_FEATURES == ("x", "y")
    assert FEATURES == ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")


@pytest.mark.parametrize("names, fragment", [
    (["x", "cosX"], "unknown Playground feature 'cosX'"),
    ("x", "list of names"),
    ([], "list of names"),
    (["x", "x"], "once"),
])
def test_features_reject_bad_names(names, fragment):
    with pytest.raises(ConfigError, match=fragment):
        features(np.zeros((3, 2)), names)


def test_features_reject_bad_points():
    with pytest.raises(ConfigError, match=r"shape \(N, 2\)"):
        features(np.zeros((3, 3)), ["x"])


# --- validation -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, fragment", [
    ({"name": "spirals"}, "unknown Playground dataset 'spirals'; choose one of circle, xor, gauss, spiral"),
    ({"name": None}, "unknown Playground dataset"),
    ({"noise": 25}, r"slider 25 is 0.25"),
    ({"noise": -0.1}, "noise must be"),
    ({"noise": 0.51}, "noise must be"),
    ({"noise": float("nan")}, "noise must be"),
    ({"noise": True}, "noise must be"),
    ({"train_ratio": 0}, "train_ratio must lie strictly between 0 and 1"),
    ({"train_ratio": 1.0}, "train_ratio must"),
    ({"train_ratio": 50}, "train_ratio must"),
    ({"train_ratio": 0.001}, "leaves no training or no test point"),
    ({"n_points": 2}, "n_points must be an even whole number of at least 4"),
    ({"n_points": 501}, "n_points must"),
    ({"n_points": 500.0}, "n_points must"),
    ({"seed": -1}, "seed must"),
    ({"seed": 1.5}, "seed must"),
])
def test_make_dataset_rejects_bad_settings_with_one_sentence(kwargs, fragment):
    kwargs = {"name": "spiral", **kwargs}
    with pytest.raises(ConfigError, match=fragment) as caught:
        make_dataset(**kwargs)
    message = str(caught.value)
    assert message.endswith(".") and "\n" not in message


def test_small_and_edge_settings_work():
    data = make_dataset("xor", n_points=4, noise=0.5, train_ratio=0.5, seed=0)
    assert len(data.x_train) == 2 and len(data.x_test) == 2
    assert make_dataset("circle", noise=0, seed=np.int64(3)).seed == 3


def test_noise_from_slider():
    assert noise_from_slider(0) == 0.0
    assert noise_from_slider(25) == 0.25
    assert noise_from_slider(50) == 0.5
    with pytest.raises(ConfigError, match="slider goes from 0 to 50"):
        noise_from_slider(60)


def test_data_layer_imports_no_tensorflow_nor_higher_layers():
    code = ("import sys, replab.data.playground; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'tensorflow' "
            "or m.startswith(('replab.nn', 'replab.experiments'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
