"""Losses, penalties and accuracy for populations of networks.

Axis 0 is always the population axis K (use K=1 for a single network): every
function here reduces over all other axes and returns shape (K,). Targets and
labels may carry the K axis or be shared by all members (then they broadcast).
"""

import tensorflow as tf


def _non_member_axes(values):
    return list(range(1, values.shape.rank))


def per_member_mean(values):
    return tf.reduce_mean(values, axis=_non_member_axes(values))


def per_member_sum(values):
    return tf.reduce_sum(values, axis=_non_member_axes(values))


def mean_squared_error(predictions, targets):
    targets = tf.cast(targets, predictions.dtype)
    return per_member_mean(tf.square(predictions - targets))


def playground_loss(predictions, targets):
    """TensorFlow Playground's loss: the mean over points of 0.5 * (output - label)^2."""
    targets = tf.cast(targets, predictions.dtype)
    return per_member_mean(0.5 * tf.square(predictions - targets))


def _labels_like(logits, labels):
    """Integer labels (B,) or (K, B) broadcast to the (K, B) that logits (K, B, C) need."""
    return tf.broadcast_to(tf.cast(labels, tf.int32), tf.shape(logits)[:-1])


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of logits (K, B, C) against integer class labels (B,) or (K, B)."""
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=_labels_like(logits, labels), logits=logits
    )
    return per_member_mean(per_example)


def accuracy(logits, labels):
    """Fraction of examples whose largest logit is the labelled class, per member."""
    predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
    hits = tf.cast(tf.equal(predicted, _labels_like(logits, labels)), logits.dtype)
    return per_member_mean(hits)


def sign_accuracy(predictions, labels):
    """Accuracy for +-1 labels read from the sign of one output (TensorFlow Playground style)."""
    labels = tf.cast(labels, predictions.dtype)
    hits = tf.cast(tf.equal(tf.sign(predictions), tf.sign(labels)), predictions.dtype)
    return per_member_mean(hits)


def l1_penalty(weights):
    """Sum of |w| over the given tensors, per member. Pass only the tensors to regularise."""
    return tf.add_n([per_member_sum(tf.abs(w)) for w in tf.nest.flatten(weights)])


def l2_penalty(weights):
    """0.5 * sum of w^2 per member, so its gradient is w (Playground's w -= lr * rate * w)."""
    return tf.add_n([per_member_sum(0.5 * tf.square(w)) for w in tf.nest.flatten(weights)])
