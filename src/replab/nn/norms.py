"""Batch Normalization (Ioffe & Szegedy 2015) for populations of networks.

The maths lives in small functions; ``BatchNorm`` only holds state (the d2l split).

* ``batch_norm`` is Algorithm 1: per-feature mean and biased variance over the batch axis
  (axis -2: x is (B, F) for one network or (K, B, F) for a population), x̂ = (x − μ)/√(σ² + ε),
  y = γx̂ + β. It also returns (μ, σ²) for bookkeeping.
* ``normalize`` is inference: the same affine map with fixed statistics.
* ``population_statistics`` is Algorithm 2's estimate from many training mini-batches of size m:
  E[x] = mean of the batch means, Var[x] = m/(m−1) · mean of the (biased) batch variances.
* ``moving_average`` is the usual practical substitute, updated at every training step.

γ, β and every statistic carry the population axis K first: shape (K, 1, F).
"""

import tensorflow as tf

STATISTICS = ("moving", "population")


def moments(x, axis=-2):
    """Per-feature mean and biased variance over the batch axis, keeping that axis (size 1)."""
    mean = tf.reduce_mean(x, axis=axis, keepdims=True)
    variance = tf.reduce_mean(tf.square(x - mean), axis=axis, keepdims=True)
    return mean, variance


def normalize(x, mean, variance, gamma, beta, epsilon):
    """γ (x − mean)/√(variance + ε) + β: one fixed affine map per feature."""
    return gamma * (x - mean) * tf.math.rsqrt(variance + epsilon) + beta


def batch_norm(x, gamma, beta, epsilon, axis=-2):
    """Algorithm 1 on the batch in x; returns (y, batch mean, biased batch variance)."""
    mean, variance = moments(x, axis)
    return normalize(x, mean, variance, gamma, beta, epsilon), mean, variance


def unbiased(variance, batch_size):
    """m/(m−1) · σ²_B: the unbiased estimate from a biased variance over m examples."""
    m = tf.cast(batch_size, variance.dtype)
    return variance * m / (m - 1.0)


def moving_average(average, value, momentum):
    """momentum · average + (1 − momentum) · value (Keras' convention: momentum near 1)."""
    return momentum * average + (1.0 - momentum) * value


def population_statistics(batch_means, batch_variances, batch_size, axis=0):
    """Algorithm 2: (E[x], Var[x]) from per-batch means and biased variances stacked on `axis`."""
    mean = tf.reduce_mean(batch_means, axis=axis)
    variance = unbiased(tf.reduce_mean(batch_variances, axis=axis), batch_size)
    return mean, variance


class BatchNorm:
    """State of one BN layer over K networks and F features.

    Trainable: γ (ones) and β (zeros), shape (K, 1, F). Not trainable: the moving averages
    (updated by ``__call__`` in training mode) and Algorithm 2's population statistics (set by
    ``set_population_statistics``). The moving variance averages the unbiased batch variance,
    so both inference estimates target the same quantity.
    """

    def __init__(self, population, features, momentum=0.99, epsilon=1e-3, dtype=tf.float32, name="bn"):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}.")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive, got {epsilon}.")
        shape = (int(population), 1, int(features))
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.gamma = tf.Variable(tf.ones(shape, dtype), name=f"{name}_gamma")
        self.beta = tf.Variable(tf.zeros(shape, dtype), name=f"{name}_beta")
        self.moving_mean = tf.Variable(tf.zeros(shape, dtype), trainable=False, name=f"{name}_moving_mean")
        self.moving_variance = tf.Variable(tf.ones(shape, dtype), trainable=False, name=f"{name}_moving_variance")
        self.population_mean = tf.Variable(tf.zeros(shape, dtype), trainable=False, name=f"{name}_population_mean")
        self.population_variance = tf.Variable(tf.ones(shape, dtype), trainable=False,
                                               name=f"{name}_population_variance")

    @property
    def trainable(self):
        return [self.gamma, self.beta]

    def __call__(self, x, training, statistics="moving"):
        """Training: normalise with the batch's statistics and update the moving averages.
        Inference: normalise with the moving averages or the population statistics."""
        if training:
            y, mean, variance = batch_norm(x, self.gamma, self.beta, self.epsilon)
            self.update_moving_averages(mean, variance, int(x.shape[-2]))
            return y
        mean, variance = self.inference_statistics(statistics)
        return normalize(x, mean, variance, self.gamma, self.beta, self.epsilon)

    def update_moving_averages(self, mean, variance, batch_size):
        momentum = tf.cast(self.momentum, mean.dtype)
        self.moving_mean.assign(moving_average(self.moving_mean, mean, momentum))
        self.moving_variance.assign(moving_average(self.moving_variance, unbiased(variance, batch_size), momentum))

    def inference_statistics(self, statistics="moving"):
        if statistics not in STATISTICS:
            raise ValueError(f"statistics must be one of {STATISTICS}, got {statistics!r}.")
        if statistics == "moving":
            return self.moving_mean, self.moving_variance
        return self.population_mean, self.population_variance

    def set_population_statistics(self, batch_means, batch_variances, batch_size):
        """Store Algorithm 2's estimate from per-batch statistics stacked on axis 0: (M, K, 1, F)."""
        mean, variance = population_statistics(batch_means, batch_variances, batch_size)
        self.population_mean.assign(mean)
        self.population_variance.assign(variance)
