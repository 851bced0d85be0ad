"""The regression measurements: the data each seed draws, and population training against an independent NumPy
implementation of gradient descent."""

import numpy as np
import pytest

from replab.experiments import regression
from replab.experiments.regression.measure import data_seed, grid, make_splits
from replab.nn.mlp import init_mlp


def numpy_gradient_descent(x, y, weights, learning_rate, epochs):
    """Full-batch gradient descent on a ReLU MLP with hand-derived backprop, in float64 NumPy."""
    weights = [(w.astype(np.float64), b.astype(np.float64)) for w, b in weights]
    for _ in range(epochs):
        activations, pre = [x], []
        for index, (w, b) in enumerate(weights):
            z = activations[-1] @ w + b
            pre.append(z)
            activations.append(z if index == len(weights) - 1 else np.maximum(z, 0))
        delta = 2 * (activations[-1] - y) / len(x)
        grads = []
        for index in reversed(range(len(weights))):
            w, _ = weights[index]
            grads.append((activations[index].T @ delta, delta.sum(axis=0, keepdims=True)))
            if index:
                delta = (delta @ w.T) * (pre[index - 1] > 0)
        grads.reverse()
        weights = [(w - learning_rate * gw, b - learning_rate * gb) for (w, b), (gw, gb) in zip(weights, grads)]
    return weights


def numpy_forward(weights, x):
    for index, (w, b) in enumerate(weights):
        x = x @ w + b
        if index < len(weights) - 1:
            x = np.maximum(x, 0)
    return x


@pytest.mark.slow
@pytest.mark.parametrize("model", ["shallow", "deep"])
def test_population_training_matches_an_independent_numpy_implementation(model):
    """Plain gradient descent (optimizer=sgd), the sine target at the highest noise, seed 0, against float64 NumPy."""
    config = regression.Config(n_test=200, epochs=200, n_seeds=2, record_every=10, optimizer="sgd", targets=("sine",),
                               noise_stds=(0.1, 0.5), quick=True)
    result = regression.run(config)
    split = make_splits(config)[2]  # sine, σ = 0.5, first seed
    params = init_mlp(config.layer_sizes(model), population=1, seed=[data_seed(config, 0)],
                         weight_init=config.weight_init)
    initial = [(w.numpy()[0], b.numpy()[0]) for w, b in params]
    trained = numpy_gradient_descent(split.x_train.astype(np.float64), split.y_train.astype(np.float64),
                                     initial, config.learning_rate, config.epochs)
    excess = float(np.mean((numpy_forward(trained, split.x_test.astype(np.float64)) - np.sin(3 * split.x_test)) ** 2))
    train_mse = float(np.mean((numpy_forward(trained, split.x_train.astype(np.float64)) - split.y_train) ** 2))
    level = result.metrics["levels"]["sine"]["0.5"][model]
    assert level["excess_risk"][0] == pytest.approx(excess, rel=2e-3)
    assert level["train_mse"][0] == pytest.approx(train_mse, rel=2e-3)


def test_each_seed_has_its_own_data_and_the_truth_is_noise_free():
    config = regression.Config.quick()
    splits = make_splits(config)
    cells = grid(config)
    first, second = splits[cells.member(0, 0)], splits[cells.member(0, 1)]
    assert not np.array_equal(first.x_train, second.x_train)
    for split, (target, noise) in zip(splits, cells.members()):
        truth = 3 * split.x_test if target == "line" else np.sin(3 * split.x_test)
        assert split.f_test == pytest.approx(truth, abs=1e-6)
        assert np.std(split.y_test - split.f_test) == pytest.approx(noise, rel=0.25)
    # the same seed index draws the same inputs in every cell (paired comparisons)
    assert np.array_equal(splits[cells.member(0, 1)].x_train, splits[cells.member(len(cells.cells) - 1, 1)].x_train)
