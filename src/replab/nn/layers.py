"""Dense layer and activations, for one network or a stacked population.

Population convention: a leading dimension K indexes independent networks.
``dense`` relies on ``tf.matmul`` broadcasting, so the same code serves

* one network:       x (B, in)            @ w (in, out)      + b (out,)
* a population:      x (K, B, in)         @ w (K, in, out)   + b (K, 1, out) or (K, out)
* shared inputs:     x (B, in)            @ w (K, in, out)   -> (K, B, out)
"""

import tensorflow as tf


def dense(x, w, b=None):
    y = tf.matmul(x, w)
    if b is None:
        return y
    if len(w.shape) == 3 and len(b.shape) == 2:
        b = b[:, tf.newaxis, :]
    return y + b


def linear(x):
    return x


ACTIVATIONS = {
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "sigmoid": tf.sigmoid,
    "linear": linear,
}


def activation(name):
    """The activation function called ``name``; a callable passes through unchanged."""
    if callable(name):
        return name
    if name not in ACTIVATIONS:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"Unknown activation {name!r}; choose one of: {known}.")
    return ACTIVATIONS[name]
