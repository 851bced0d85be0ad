"""How fast does the batchnorm experiment train? Against Keras, and against the machine's matmul peak.

Workload: MLP 784-100-100-100-10 sigmoid, batch 60, plain SGD lr 0.5, softmax cross-entropy, on random
binary MNIST-shaped data; BN (Dense without bias + BatchNormalization) before each hidden sigmoid.
  (1) one cell's unit of work: one seed's baseline AND BN network, 50,000 steps. replab trains both as one
      K=2 population in one graph (experiments.bn.batchnorm.train on a one-cell grid); Keras trains two models
      one after the other, so its rate for the pair is 1 / (1/rate_bn + 1/rate_plain). Then the default
      protocol's population: 6 cells (lr × std) × 2 × 10 seeds = 120 networks per dataset.
  (2) the BN network alone: replab nn.fit on K=1 with nn.BatchNorm against Keras model.fit.
Speeds are steps per second after warm-up (compiling excluded for both). Also prints the fraction of the
float32 matmul peak (a large tf.matmul measured here) that replab's training reaches, counting the dense
layers' FLOPs exactly. Prints only; never part of `make test`.
"""

import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (reference implementation; benchmarks may use it)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from replab.data.mnist import Digits
from replab.experiments.bn import figure1 as batchnorm
from replab.experiments.bn.figure1.train import train
from replab.nn.init import initializer
from replab.nn.layers import dense
from replab.nn.losses import softmax_cross_entropy
from replab.nn.mlp import init_mlp
from replab.nn.norms import BatchNorm
from replab.nn.optim import SGD
from replab.nn.train import fit

SIZES = [784, 100, 100, 100, 10]
BATCH, RATE = 60, 0.5


def data(n=12000):
    rng = np.random.default_rng(0)
    x = (rng.random((n, 784)) > 0.8).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


def training_flops_per_step(sizes=SIZES, batch=BATCH):
    """Dense layers only: forward 2·B·in·out, weight gradient 2·B·in·out, input gradient 2·B·in·out
    (not for the first layer: the images need no gradient)."""
    products = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return 4 * batch * sum(products) + 2 * batch * sum(products[1:])


def matmul_peak(n=2048, repeats=20):
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    product(a, b).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        product(a, b).numpy()
    return 2 * n ** 3 * repeats / (time.perf_counter() - start)


def keras_steps_per_second(x, y, with_bn, steps):
    layers = [keras.Input((784,))]
    for width in SIZES[1:-1]:
        if with_bn:
            layers += [keras.layers.Dense(width, use_bias=False), keras.layers.BatchNormalization(),
                       keras.layers.Activation("sigmoid")]
        else:
            layers += [keras.layers.Dense(width, activation="sigmoid")]
    model = keras.Sequential(layers + [keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=BATCH, epochs=1, steps_per_epoch=20, verbose=0)
    steps_per_epoch = len(x) // BATCH
    epochs = max(1, steps // steps_per_epoch)
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
    return epochs * steps_per_epoch / (time.perf_counter() - start)


def replab_pair(x, y, steps, config=None):
    """One seed, one cell (lr 0.5, std 0.1) unless a config is given."""
    config = config or batchnorm.Config(learning_rates=(RATE,), weight_stds=(0.1,), paper_learning_rate=RATE,
                                        paper_weight_std=0.1, n_seeds=1)
    config = dataclasses.replace(config, steps=steps, record_every=min(500, steps), population_batches=10)
    digits = Digits(x[:-1000], y[:-1000], x[-1000:], y[-1000:], "random", "mnist")
    return train(config, digits)


def replab_bn_only(x, y, steps):
    params = init_mlp(SIZES, seed=0, weight_init=initializer("gaussian", std=0.1))
    norms = [BatchNorm(1, width) for width in SIZES[1:-1]]
    variables = [w for w, _ in params[:-1]] + list(params[-1]) + [v for norm in norms for v in norm.trainable]

    def loss_fn(variables, xb, yb, step):
        h = xb
        for (w, _), norm in zip(params[:-1], norms):
            h = tf.sigmoid(norm(dense(h, w), training=True))
        return softmax_cross_entropy(dense(h, *params[-1]), yb)

    return fit(loss_fn, variables, SGD(variables, RATE), x, y, steps=steps, batch_size=BATCH,
                  record_every=500)


def main():
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores")
    x, y = data()
    peak = matmul_peak()
    flops = training_flops_per_step()
    print(f"float32 matmul peak (2048² tf.matmul): {peak / 1e9:.1f} GFLOP/s; "
          f"training: {flops / 1e6:.1f} MFLOP per network per step (dense layers)")

    keras_bn = keras_steps_per_second(x, y, True, 2000)
    keras_plain = keras_steps_per_second(x, y, False, 2000)
    keras_pair = 1 / (1 / keras_bn + 1 / keras_plain)

    pair = replab_pair(x, y, 10000)
    print("\n(1) baseline + BN network, one seed (the experiment's unit of work)")
    print(f"  replab, one K=2 graph    : {pair.steps_per_second:8.0f} steps/s  (compile {pair.compile_seconds:.1f} s)"
          f"  -> 50,000 steps in {50000 / pair.steps_per_second:.0f} s")
    print(f"  Keras, two model.fit     : {keras_pair:8.0f} steps/s  (BN {keras_bn:.0f}, plain {keras_plain:.0f})"
          f"  -> 50,000 steps in {50000 / keras_pair:.0f} s")
    print(f"  replab / Keras = {pair.steps_per_second / keras_pair:.1f}x;  "
          f"{2 * flops * pair.steps_per_second / peak:.0%} of the matmul peak")

    default = batchnorm.Config()
    grid = replab_pair(x, y, 500, default)
    k = default.population
    print(f"  default protocol ({len(default.cells)} cells × 2 × {default.n_seeds} seeds, K={k}): "
          f"{grid.steps_per_second:.1f} steps/s -> {default.steps:,} steps in {default.steps / grid.steps_per_second:.0f} s "
          f"per dataset; {k * flops * grid.steps_per_second / peak:.0%} of the matmul peak")

    alone = replab_bn_only(x, y, 10000)
    print("\n(2) the BN network alone")
    print(f"  replab nn.fit K=1        : {alone.steps_per_second:8.0f} steps/s")
    print(f"  Keras model.fit          : {keras_bn:8.0f} steps/s")
    print(f"  replab / Keras = {alone.steps_per_second / keras_bn:.1f}x;  "
          f"{flops * alone.steps_per_second / peak:.0%} of the matmul peak")


if __name__ == "__main__":
    main()
