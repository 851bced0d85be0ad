"""Weight initialisers.

Every random initialiser takes an explicit seed and draws with
``tf.random.stateless_*``, so the same seed always gives the same numbers.
A seed is an int or a pair of ints; :func:`mlp.init_mlp` uses pairs
``(member_seed, tensor_index)`` so each tensor of each member gets its own stream.

Shapes may carry a leading population dimension K; fan-in and fan-out are read
from the last two dimensions, so ``(K, n_in, n_out)`` scales like ``(n_in, n_out)``.
"""

import math

import tensorflow as tf

# Named explicitly: the default ("auto_select") may pick a different generator under XLA.
ALGORITHM = "philox"
PLAYGROUND_WEIGHT_RANGE = 0.5
PLAYGROUND_BIAS = 0.1


def stateless_seed(seed):
    """Turn an int or a pair of ints into the shape-[2] seed stateless ops expect."""
    if isinstance(seed, (tuple, list)):
        if len(seed) != 2:
            raise ValueError(f"A seed pair must hold two integers, got {seed!r}.")
        return tf.constant([int(seed[0]), int(seed[1])], dtype=tf.int64)
    return tf.constant([int(seed), 0], dtype=tf.int64)


def fans(shape):
    """(fan_in, fan_out) of a weight shape; a vector counts as its own fan-in and fan-out."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[-2], shape[-1]


def gaussian(shape, std, seed, dtype=tf.float32):
    return std * tf.random.stateless_normal(shape, seed=stateless_seed(seed), dtype=dtype, alg=ALGORITHM)


def uniform(shape, limit, seed, dtype=tf.float32):
    return tf.random.stateless_uniform(
        shape, seed=stateless_seed(seed), minval=-limit, maxval=limit, dtype=dtype, alg=ALGORITHM
    )


def glorot_uniform(shape, seed, dtype=tf.float32):
    fan_in, fan_out = fans(shape)
    return uniform(shape, math.sqrt(6.0 / (fan_in + fan_out)), seed, dtype)


def glorot_normal(shape, seed, dtype=tf.float32):
    fan_in, fan_out = fans(shape)
    return gaussian(shape, math.sqrt(2.0 / (fan_in + fan_out)), seed, dtype)


def he_normal(shape, seed, dtype=tf.float32):
    fan_in, _ = fans(shape)
    return gaussian(shape, math.sqrt(2.0 / fan_in), seed, dtype)


def playground_weights(shape, seed, dtype=tf.float32):
    """TensorFlow Playground: every weight starts U(-0.5, 0.5)."""
    return uniform(shape, PLAYGROUND_WEIGHT_RANGE, seed, dtype)


def playground_bias(shape, seed=None, dtype=tf.float32):
    """TensorFlow Playground: every bias starts at 0.1 (the seed is ignored)."""
    return tf.fill(shape, tf.constant(PLAYGROUND_BIAS, dtype))


def zeros(shape, seed=None, dtype=tf.float32):
    return tf.zeros(shape, dtype)


INITIALIZERS = {
    "gaussian": gaussian,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_normal": he_normal,
    "playground": playground_weights,
    "playground_bias": playground_bias,
    "zeros": zeros,
}


def initializer(name, **options):
    """A callable ``(shape, seed, dtype) -> tensor`` for a name, e.g. ``initializer("gaussian", std=0.01)``.

    A callable passes through unchanged, so callers may hand in their own.
    """
    if callable(name):
        return name
    if name not in INITIALIZERS:
        known = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"Unknown initialiser {name!r}; choose one of: {known}.")
    if name == "gaussian" and "std" not in options:
        raise ValueError("The gaussian initialiser needs a standard deviation: initializer('gaussian', std=...).")
    function = INITIALIZERS[name]

    def initialise(shape, seed, dtype=tf.float32):
        return function(shape, seed=seed, dtype=dtype, **options)

    return initialise
