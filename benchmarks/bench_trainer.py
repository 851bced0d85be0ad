"""How fast is replab's compiled trainer? Compared with a naive eager loop and with Keras.

Two workloads, each trained three ways with the same data and optimizer:
  (a) regression net 1-10-1 ReLU, full batch of 100 points, SGD lr 0.01, mean squared error;
  (b) MLP 784-100-100-100-10 sigmoid, batch 60, SGD lr 0.5, cross-entropy, random MNIST-shaped data.
Speeds are steps per second after warm-up (tracing and compiling excluded for everyone);
replab's compile time is printed separately. Prints only; never part of `make test`.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (reference implementation; benchmarks may use it)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from replab.nn.losses import mean_squared_error, softmax_cross_entropy
from replab.nn.mlp import init_mlp, mlp_forward
from replab.nn.optim import SGD
from replab.nn.train import fit

REGRESSION = {"sizes": [1, 10, 1], "activation": "relu", "points": 100, "learning_rate": 0.01}
MNIST_MLP = {"sizes": [784, 100, 100, 100, 10], "activation": "sigmoid", "batch": 60, "learning_rate": 0.5}


def regression_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(REGRESSION["points"], 1)).astype(np.float32)
    y = (np.sin(3 * x) + 0.1 * rng.normal(size=x.shape)).astype(np.float32)
    return x, y


def mnist_shaped_data(n=12000):
    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int32)
    return x, y


def regression_loss(params, xb, yb, step=None):
    return mean_squared_error(mlp_forward(params, xb, REGRESSION["activation"]), yb)


def mnist_loss(params, xb, yb, step=None):
    return softmax_cross_entropy(mlp_forward(params, xb, MNIST_MLP["activation"]), yb)


def eager_steps_per_second(loss_fn, sizes, learning_rate, x, y, batch, steps):
    """The naive way: a Python loop, a GradientTape per step, assign_sub per variable."""
    params = init_mlp(sizes, seed=0)
    variables = tf.nest.flatten(params)
    x, y = tf.constant(x), tf.constant(y)

    def one_step(i):
        start = (i * batch) % (int(x.shape[0]) - batch + 1)
        xb, yb = x[start : start + batch], y[start : start + batch]
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(loss_fn(params, xb, yb))
        for variable, grad in zip(variables, tape.gradient(loss, variables)):
            variable.assign_sub(learning_rate * grad)

    for i in range(5):
        one_step(i)
    start = time.perf_counter()
    for i in range(steps):
        one_step(i)
    return steps / (time.perf_counter() - start)


def replab_fit(loss_fn, sizes, learning_rate, x, y, batch, steps, population=1, jit_compile=True):
    params = init_mlp(sizes, population=population, seed=0)
    history = fit(
        loss_fn, params, SGD(params, learning_rate), x, y,
        steps=steps, batch_size=batch, record_every=max(1, steps // 10), jit_compile=jit_compile,
    )
    return history


def keras_steps_per_second(sizes, activation, learning_rate, loss, x, y, batch, steps):
    """Keras Sequential + model.fit with default compile settings, timed after a warm-up fit."""
    layers = [keras.layers.Dense(n, activation=activation) for n in sizes[1:-1]]
    model = keras.Sequential([keras.Input((sizes[0],)), *layers, keras.layers.Dense(sizes[-1])])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=loss)
    steps_per_epoch = int(x.shape[0]) // batch
    model.fit(x, y, batch_size=batch, epochs=1, steps_per_epoch=min(steps_per_epoch, 20), verbose=0)
    epochs = max(1, steps // steps_per_epoch)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0)
    return epochs * steps_per_epoch / (time.perf_counter() - start)


def report(title, eager, compiled, keras_speed):
    print(f"\n{title}")
    print(f"  eager GradientTape loop : {eager:10.0f} steps/s")
    print(f"  replab fit (compiled)   : {compiled.steps_per_second:10.0f} steps/s   (compile {compiled.compile_time:.1f} s)")
    print(f"  Keras model.fit         : {keras_speed:10.0f} steps/s")
    print(f"  compiled / eager = {compiled.steps_per_second / eager:6.1f}x    compiled / Keras = {compiled.steps_per_second / keras_speed:6.1f}x")


def main():
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores")

    x, y = regression_data()
    points = REGRESSION["points"]
    eager = eager_steps_per_second(regression_loss, REGRESSION["sizes"], REGRESSION["learning_rate"], x, y, points, 300)
    compiled = replab_fit(regression_loss, REGRESSION["sizes"], REGRESSION["learning_rate"], x, y, None, 20000)
    keras_speed = keras_steps_per_second(
        REGRESSION["sizes"], REGRESSION["activation"], REGRESSION["learning_rate"], "mse", x, y, points, 300
    )
    report("(a) regression 1-10-1 ReLU, full batch of 100, SGD 0.01", eager, compiled, keras_speed)

    x, y = mnist_shaped_data()
    batch, rate, sizes = MNIST_MLP["batch"], MNIST_MLP["learning_rate"], MNIST_MLP["sizes"]
    eager = eager_steps_per_second(mnist_loss, sizes, rate, x, y, batch, 200)
    compiled = replab_fit(mnist_loss, sizes, rate, x, y, batch, 3000)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    keras_speed = keras_steps_per_second(sizes, MNIST_MLP["activation"], rate, cross_entropy, x, y, batch, 3000)
    report("(b) MLP 784-100-100-100-10 sigmoid, batch 60, SGD 0.5", eager, compiled, keras_speed)

    print("\nreplab fit variants on (b):")
    without_xla = replab_fit(mnist_loss, sizes, rate, x, y, batch, 1500, jit_compile=False)
    print(f"  K=1 without XLA         : {without_xla.steps_per_second:10.0f} steps/s")
    pair = replab_fit(mnist_loss, sizes, rate, x, y, batch, 2000, population=2)
    print(f"  K=2 population with XLA : {pair.steps_per_second:10.0f} steps/s"
          f"  -> 50,000 steps for both nets in about {50000 / pair.steps_per_second:.0f} s")


if __name__ == "__main__":
    main()
