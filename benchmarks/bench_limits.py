"""What limits the MLP and spiral rows of bench_table.py: each piece of replab's step turned off in turn, side by side.

Every variant is replab's own trainer (nn.StepLoop) with one piece of its step replaced while the step is traced,
so the rest of the compiled loop is unchanged; all variants are timed in one process, best of interleaved bursts.
The pieces are what replab promises a user, not waste:

- divergence check: a member whose update is not finite is frozen at its last finite values (optim.apply's
  finiteness sums and selects);
- per-epoch permutation: every epoch a fresh order from an integer hash and a sort (the same under XLA or not);
- batch gather: the mini-batch taken from the data by those indices;
- the Playground's L1/L2 step with its dead weights (spiral), and the unit masks that give each member its shape.

The turned-off variants compute something else, so they are limits, never a replacement. "core" is the spiral's
[8, 8] forward, gradient and plain SGD alone, with no masks, data or checks: the ceiling of those shapes under XLA.
Prints only.

Usage: python benchmarks/bench_limits.py [--quick]
"""

import contextlib
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import bench_table as bt  # noqa: E402
import replab.nn.optim as optim  # noqa: E402
import replab.nn.playground as pg  # noqa: E402
import replab.nn.train as train  # noqa: E402

original_grouped_forward = pg.grouped_forward


def no_divergence_check():
    return {(optim, "finite_per_member"): lambda tensors: tf.ones([tensors[0].shape[0]], tf.bool),
            (optim, "keep_where"): lambda members, new, old: new}


def no_permutation():
    return {(train, "next_permutation"): lambda plan, step, permutation: permutation}


def fixed_batch():
    def first_rows(plan, x, y, step, permutation):
        return x[:, :plan.batch_size], y[:, :plan.batch_size]

    return {**no_permutation(), (train, "take_batch"): first_rows}


def plain_sgd():
    return {(pg.PlaygroundSGD, "update"): lambda self, param, grad, slots, rate: (param - rate * grad, tuple(slots))}


def no_unit_masks():
    def grouped_forward(params, h, unit_mask, groups):
        return original_grouped_forward(params, h, tf.ones_like(unit_mask), groups)

    return {(pg, "grouped_forward"): grouped_forward}


@contextlib.contextmanager
def patched(changes):
    saved = {key: getattr(*key) for key in changes}
    try:
        for (owner, name), value in changes.items():
            setattr(owner, name, value)
        yield
    finally:
        for (owner, name), value in saved.items():
            setattr(owner, name, value)


def variants(build, pieces):
    """name -> timer, each built (and traced) with its pieces replaced."""
    timers = {}
    for name, changes in pieces.items():
        with patched(changes):
            timers[name] = build()
    return timers


def print_rates(rates, unit, anchor=None):
    base = rates["replab"]
    for name, rate in rates.items():
        extra = f"   {rate / rates[anchor]:.2f}x {anchor}" if anchor and name != anchor else ""
        print(f"  {name:<44} {rate:>10,.0f} {unit}  {rate / base:.2f}x replab{extra}")


def spiral_core(population, epochs):
    """The [8, 8] tanh networks' forward, gradient and plain SGD update alone, in one XLA loop."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(-1, 1, (population, 10, 8)).astype(np.float32))
    y = tf.constant(np.sign(rng.uniform(-1, 1, (population, 10))).astype(np.float32))
    params = [tf.Variable(rng.uniform(-0.5, 0.5, (population, a, b)).astype(np.float32)) for a, b in
              ((8, 8), (8, 8), (8, 1))] + [tf.Variable(np.full((population, 1, b), 0.1, np.float32)) for b in (8, 8, 1)]

    def loss():
        h = x
        for w, b in zip(params[:3], params[3:]):
            h = tf.tanh(pg.small_dense(h, w, b))
        return tf.reduce_sum(tf.square(h[..., 0] - y))

    @tf.function(jit_compile=True)
    def loop(steps):
        def step(i):
            with tf.GradientTape() as tape:
                total = loss()
            for param, grad in zip(params, tape.gradient(total, params)):
                param.assign_sub(0.03 * grad)
            return i + 1

        return tf.while_loop(lambda i: i < steps, step, [tf.constant(0)])

    steps = 25 * epochs
    loop(tf.constant(steps))

    def timer():
        start = time.perf_counter()
        loop(tf.constant(steps))[0].numpy()
        return population * epochs, time.perf_counter() - start

    return timer


def main():
    quick = "--quick" in sys.argv
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, load average {os.getloadavg()}")
    x, y = bt.mnist_shaped()
    for norm, label, torch_bn in (("none", "plain", False), ("batch", "BN", True)):
        print(f"\nFigure-1 MLP, {label}, batch 60, one network (steps/s)  (load {bt.load():.1f})")
        timers = variants(lambda: bt.replab_mlp([norm], x, y), {
            "replab": {}, "no divergence check": no_divergence_check(), "no per-epoch permutation": no_permutation(),
            "fixed batch (no permutation, no gather)": fixed_batch(),
            "all three off": {**no_divergence_check(), **fixed_batch()}})
        timers["matmuls alone"] = bt.matmul_chain(1)
        torch = bt.torch_timers(x, y, torch_bn, False)
        anchor = None
        if torch:
            timers["PyTorch eager"] = torch["PyTorch eager"]
            anchor = "PyTorch eager"
        else:
            print("  PyTorch is not installed: no anchor column")
        print_rates(bt.best_rate(timers), "steps/s", anchor)

    population = 400 if quick else 1600
    for mix, label in ((True, "bench_spiral mix"), (False, "[8, 8] tanh")):
        print(f"\nSpiral {label}, K={population}, batch 10, 25 steps per epoch (network-epochs/s)  "
              f"(load {bt.load():.1f})")
        members = bt.spiral_members(mix, population)
        timers = variants(lambda: bt.spiral_loop(members, pg.masked_forward, 4), {
            "replab": {}, "no divergence check": no_divergence_check(), "no L1/L2 step (plain SGD)": plain_sgd(),
            "no unit masks": no_unit_masks(),
            "all three off": {**no_divergence_check(), **plain_sgd(), **no_unit_masks()}})
        if not mix:
            timers["core: forward, gradient, SGD alone"] = spiral_core(population, 4)
        print_rates(bt.best_rate(timers), "network-epochs/s")
    print(f"\nfinished; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
