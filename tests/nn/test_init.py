"""Initialisers reproduce from their seed; MLP populations match single networks member by member."""

import numpy as np
import pytest
import tensorflow as tf

from replab.nn.init import (
    gaussian,
    glorot_normal,
    glorot_uniform,
    he_normal,
    initializer,
    playground_bias,
    playground_weights,
)
from replab.nn.mlp import init_mlp, mlp_forward, parameter_count


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_normal", "playground"])
def test_initialisers_reproduce_from_their_seed(name):
    init = initializer(name)
    a, b, c = init((30, 20), 7), init((30, 20), 7), init((30, 20), 8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_initialiser_scales_use_the_last_two_dimensions():
    glorot = glorot_uniform((4, 300, 100), seed=0).numpy()
    assert np.abs(glorot).max() <= np.sqrt(6 / 400)
    np.testing.assert_allclose(he_normal((4, 400, 100), seed=0).numpy().std(), np.sqrt(2 / 400), rtol=0.02)
    np.testing.assert_allclose(glorot_normal((400, 100), seed=0).numpy().std(), np.sqrt(2 / 500), rtol=0.02)
    np.testing.assert_allclose(gaussian((400, 100), 0.01, seed=0).numpy().std(), 0.01, rtol=0.02)
    playground = playground_weights((400, 100), seed=0).numpy()
    assert -0.5 <= playground.min() and playground.max() <= 0.5
    np.testing.assert_array_equal(playground_bias((2, 3)).numpy(), np.full((2, 3), 0.1, np.float32))


def test_unknown_initialiser_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown initialiser"):
        initializer("ones")


def test_population_members_equal_single_networks_with_their_seed():
    population = init_mlp([3, 5, 2], population=3, seed=[10, 11, 12], bias_init="playground")
    for k, seed in enumerate([10, 11, 12]):
        single = init_mlp([3, 5, 2], population=1, seed=seed, bias_init="playground")
        for (w, b), (w1, b1) in zip(population, single):
            np.testing.assert_array_equal(w.numpy()[k], w1.numpy()[0])
            np.testing.assert_array_equal(b.numpy()[k], b1.numpy()[0])
    assert population[0][0].shape == (3, 3, 5) and population[0][1].shape == (3, 1, 5)


def test_mlp_forward_shapes_and_parameter_count():
    params = init_mlp([784, 100, 100, 100, 10], population=2, seed=0)
    assert parameter_count([784, 100, 100, 100, 10]) == 784 * 100 + 100 + 2 * (100 * 100 + 100) + 100 * 10 + 10
    assert sum(int(np.prod(v.shape[1:])) for v in tf.nest.flatten(params)) == parameter_count([784, 100, 100, 100, 10])
    out = mlp_forward(params, tf.zeros([7, 784]), "sigmoid")
    assert out.shape == (2, 7, 10)
