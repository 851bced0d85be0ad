"""The hash RNG: the same numbers with and without XLA, fixed by their keys."""

import numpy as np
import tensorflow as tf

from replab.nn.random import hashed_uniform


def test_hashed_uniform_is_uniform_fixed_by_its_keys_and_the_same_under_xla():
    u = hashed_uniform([4, 50, 100], 0, 0, 2, 5).numpy()
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - 12 ** -0.5) < 0.01
    np.testing.assert_array_equal(u, hashed_uniform([4, 50, 100], 0, 0, 2, 5).numpy())
    compiled = tf.function(lambda step: hashed_uniform([4, 50, 100], 0, 0, 2, step), jit_compile=True)
    np.testing.assert_array_equal(compiled(tf.constant(5)).numpy(), u)
    for other in ((0, 1, 2, 5), (0, 0, 2, 15), (1, 0, 2, 5)):  # another layer, step or seed: an unrelated stream
        assert abs(np.corrcoef(u.ravel(), hashed_uniform([4, 50, 100], *other).numpy().ravel())[0, 1]) < 0.03
