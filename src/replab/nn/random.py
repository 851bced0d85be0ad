"""Random numbers that are the same with and without XLA: an integer hash (Chris Wellons' lowbias32) on int64
tensors, giving each epoch's batch permutation and keyed uniform draws (dropout masks, injected shift).

tf.random's stateless ops draw different numbers under XLA, and a run must not depend on whether it was compiled.
"""

from __future__ import annotations

import tensorflow as tf

UINT32 = 0xFFFFFFFF
_and, _xor = tf.bitwise.bitwise_and, tf.bitwise.bitwise_xor
_left, _right = tf.bitwise.left_shift, tf.bitwise.right_shift


def _int64(value):
    return tf.constant(value, tf.int64)


def multiply_uint32(x, constant):
    """(x * constant) mod 2**32 on int64 tensors, in 16-bit halves so nothing overflows."""
    low, high = _and(x, _int64(0xFFFF)), _right(x, _int64(16))
    high_part = _left(_and(high * constant, _int64(0xFFFF)), _int64(16))
    return _and(low * constant + high_part, _int64(UINT32))


def hash_uint32(x):
    """Chris Wellons' lowbias32 integer hash on int64 tensors holding values below 2**32."""
    x = _xor(x, _right(x, _int64(16)))
    x = multiply_uint32(x, _int64(0x7FEB352D))
    x = _xor(x, _right(x, _int64(15)))
    x = multiply_uint32(x, _int64(0x846CA68B))
    return _xor(x, _right(x, _int64(16)))


def epoch_permutation(seed, epoch, n):
    """A fresh permutation of range(n) for each epoch, fixed by (seed, epoch).

    Built from an integer hash rather than tf.random: stateless random ops draw
    different numbers under XLA, and a run must not depend on whether it was compiled.
    """
    seed_hash = hash_uint32(_int64(seed & UINT32))
    stream = hash_uint32(_and(tf.cast(epoch, tf.int64) + seed_hash, _int64(UINT32)))
    index = tf.range(n, dtype=tf.int64)
    keys = hash_uint32(_xor(index, stream))  # both steps are bijections on 32 bits: no ties
    return tf.argsort(keys)


def hashed_uniform(shape, *keys):
    """float32 uniform numbers in [0, 1) of `shape`, fixed by the integer keys (e.g. seed, layer, purpose, step).

    Like epoch_permutation, built from the integer hash rather than tf.random, so the numbers are the same with and
    without XLA; each key enters through its own hash, so keys that differ anywhere give unrelated streams.
    """
    stream = _int64(0)
    for key in keys:
        stream = hash_uint32(_and(hash_uint32(stream) + tf.cast(key, tf.int64), _int64(UINT32)))
    index = tf.reshape(tf.range(tf.reduce_prod(shape), dtype=tf.int64), shape)
    bits = hash_uint32(_xor(hash_uint32(index), stream))
    return tf.cast(_right(bits, _int64(8)), tf.float32) / float(2**24)
