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


def _init_normalization_state(holder, population, features, momentum, epsilon, dtype, name):
    """Give a batch-statistics holder its γ, β and moving averages, all (K, 1, F); returns that shape."""
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}.")
    if epsilon <= 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}.")
    shape = (int(population), 1, int(features))
    holder.momentum, holder.epsilon = float(momentum), float(epsilon)
    holder.gamma = tf.Variable(tf.ones(shape, dtype), name=f"{name}_gamma")
    holder.beta = tf.Variable(tf.zeros(shape, dtype), name=f"{name}_beta")
    holder.moving_mean = tf.Variable(tf.zeros(shape, dtype), trainable=False, name=f"{name}_moving_mean")
    holder.moving_variance = tf.Variable(tf.ones(shape, dtype), trainable=False, name=f"{name}_moving_variance")
    return shape


class BatchNorm:
    """State of one BN layer over K networks and F features.

    Trainable: γ (ones) and β (zeros), shape (K, 1, F). Not trainable: the moving averages
    (updated by ``__call__`` in training mode) and Algorithm 2's population statistics (set by
    ``set_population_statistics``). The moving variance averages the unbiased batch variance,
    so both inference estimates target the same quantity.
    """

    def __init__(self, population, features, momentum=0.99, epsilon=1e-3, dtype=tf.float32, name="bn"):
        shape = _init_normalization_state(self, population, features, momentum, epsilon, dtype, name)
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


# --- Later normalisation layers (reference/batchnorm-paper.md, "Later work to compare against") ---
#
# Same conventions: x is (K, B, F); γ, β and statistics are (K, 1, F); a weight is (K, in, out).


def feature_moments(x):
    """Mean and biased variance over the features of each example (axis -1), keeping that axis."""
    return moments(x, axis=-1)


def layer_norm(x, gamma, beta, epsilon):
    """Layer Norm (Ba et al. 2016): normalise each example over its features; same at train and test."""
    mean, variance = feature_moments(x)
    return normalize(x, mean, variance, gamma, beta, epsilon)


def rms_norm(x, gamma, epsilon):
    """RMSNorm (Zhang & Sennrich 2019): γ · x/√(mean(x², features) + ε); no re-centering, no β."""
    return gamma * x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + epsilon)


def group_norm(x, gamma, beta, groups, epsilon):
    """Group Norm (Wu & He 2018) over units: the F features split into `groups` contiguous groups of
    F/groups; mean and variance per example per group. groups=1 is Layer Norm; groups=F normalises
    each unit on its own. γ, β stay per unit."""
    features, groups = int(x.shape[-1]), int(groups)
    if groups < 1 or features % groups:
        raise ValueError(f"groups must be a positive divisor of the {features} features, got {groups}.")
    grouped_shape = tf.concat([tf.shape(x)[:-1], [groups, features // groups]], axis=0)
    mean, variance = feature_moments(tf.reshape(x, grouped_shape))
    x_hat = tf.reshape((tf.reshape(x, grouped_shape) - mean) * tf.math.rsqrt(variance + epsilon), tf.shape(x))
    return gamma * x_hat + beta


def weight_norm(v, g):
    """Weight Norm (Salimans & Kingma 2016): w = g · v/‖v‖, the norm over the input axis of a
    (K, in, out) weight, so ‖w[k, :, j]‖ = g[k, 0, j] for every output unit j; g is (K, 1, out)."""
    return g * v * tf.math.rsqrt(tf.reduce_sum(tf.square(v), axis=-2, keepdims=True))


def renorm_corrections(mean, variance, moving_mean, moving_variance, r_max, d_max, epsilon):
    """Batch Renorm's r = clip(σ_B/σ, 1/r_max, r_max) and d = clip((μ_B − μ)/σ, −d_max, d_max), both
    without gradient; σ_B = √(σ²_B + ε) and σ = √(moving variance + ε)."""
    r_max, d_max = tf.cast(r_max, variance.dtype), tf.cast(d_max, variance.dtype)
    batch_std = tf.sqrt(variance + epsilon)
    moving_std = tf.sqrt(moving_variance + epsilon)
    r = tf.clip_by_value(batch_std / moving_std, 1.0 / r_max, r_max)
    d = tf.clip_by_value((mean - moving_mean) / moving_std, -d_max, d_max)
    return tf.stop_gradient(r), tf.stop_gradient(d)


def batch_renorm(x, gamma, beta, moving_mean, moving_variance, r_max, d_max, epsilon):
    """Batch Renorm (Ioffe 2017), training mode: x̂ = (x − μ_B)/σ_B · r + d, y = γx̂ + β.
    r_max=1, d_max=0 is Batch Norm. Returns (y, batch mean, biased batch variance)."""
    mean, variance = moments(x)
    r, d = renorm_corrections(mean, variance, moving_mean, moving_variance, r_max, d_max, epsilon)
    x_hat = (x - mean) * tf.math.rsqrt(variance + epsilon) * r + d
    return gamma * x_hat + beta, mean, variance


class BatchRenorm:
    """State of one Batch Renorm layer over K networks and F features.

    Trainable: γ (ones) and β (zeros), shape (K, 1, F). Not trainable: the moving mean and the
    moving (biased) variance, which both r, d and inference use, so r → 1 and d → 0 when the batch
    statistics settle; and r_max, d_max as variables so a compiled loop can ramp them up (the paper
    starts from 1 and 0, i.e. plain Batch Norm). The paper averages σ; this averages σ².
    """

    def __init__(self, population, features, r_max=3.0, d_max=5.0, momentum=0.99, epsilon=1e-3,
                 dtype=tf.float32, name="brn"):
        if r_max < 1 or d_max < 0:
            raise ValueError(f"r_max must be at least 1 and d_max at least 0, got {r_max} and {d_max}.")
        _init_normalization_state(self, population, features, momentum, epsilon, dtype, name)
        self.r_max = tf.Variable(tf.constant(r_max, dtype), trainable=False, name=f"{name}_r_max")
        self.d_max = tf.Variable(tf.constant(d_max, dtype), trainable=False, name=f"{name}_d_max")

    @property
    def trainable(self):
        return [self.gamma, self.beta]

    def __call__(self, x, training):
        """Training: renormalise the batch, then update the moving averages.
        Inference: normalise with the moving averages."""
        if training:
            y, mean, variance = batch_renorm(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                                             self.r_max, self.d_max, self.epsilon)
            momentum = tf.cast(self.momentum, mean.dtype)
            self.moving_mean.assign(moving_average(self.moving_mean, mean, momentum))
            self.moving_variance.assign(moving_average(self.moving_variance, variance, momentum))
            return y
        return normalize(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, self.epsilon)
