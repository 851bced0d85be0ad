"""What limits the MLP and spiral rows of bench_table.py: each piece of replab's step turned off in turn, side by side.

Every variant is replab's own trainer (nn.StepLoop) with one piece of its step replaced while the step is traced,
so the rest of the compiled loop is unchanged; all variants are timed in one process, best of interleaved bursts.
The pieces are what replab promises a user, not waste:

- divergence check: a member whose update is not finite is frozen at its last finite values (the trainer's test
  of every parameter once per burst, and the select that keeps frozen members as they are at every step);
- per-epoch permutation: every epoch a fresh order from an integer hash and a sort (the same under XLA or not);
- batch gather: the mini-batch taken from the data by those indices;
- the Playground's L1/L2 step with its dead weights (spiral), and the unit masks that give each member its shape.

The turned-off variants compute something else, so they are limits, never a replacement. "core" is the spiral's
[8, 8] forward, gradient and plain SGD alone, with no masks, data or checks: the ceiling of those shapes under XLA.

Why less work can be slower on the spiral (plain SGD, or a dead-weight mask that is not rewritten): a weight's
gradient is the concatenation of its groups' gradients (grouped_forward's tf.split). When the update is its only
consumer, XLA fuses that reduction and the concatenation into the elementwise update, which then runs about half as
fast (seen in the optimised HLO: the gradient's own fusion disappears into the update's). The dead mask's update
is a second consumer, so replab's step keeps the gradient as its own fusion. The "scatter" variant assembles the
gradient with scatters instead, which XLA does not fuse into its consumer, and recovers the speed. "one set of
variables per group" is a hand-written loop (not replab) in which every group owns its variables, so no gradient
is ever concatenated: what restructuring the population that way could give. Prints only.

Usage: python benchmarks/bench_limits.py [--quick]
"""

import contextlib
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_table as bt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import replab.nn.optim as optim  # noqa: E402
import replab.nn.playground as pg  # noqa: E402
import replab.nn.train as train  # noqa: E402

original_grouped_forward = pg.grouped_forward
original_update = pg.PlaygroundSGD.update


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


def dead_mask_unwritten():
    """The mix has no L1 member, so no weight can die: leave the dead-weight mask as it is (the same numbers)."""
    def update(self, param, grad, slots, rate):
        new, _ = original_update(self, param, grad, slots, rate)
        return new, tuple(slots)

    return {(pg.PlaygroundSGD, "update"): update}


def scatter_split(tensor, sizes, axis=0):
    """tf.split along axis 0 whose gradient is built by scatters into zeros instead of one concatenation."""
    @tf.custom_gradient
    def split(tensor):
        def gradient(*pieces):
            total, start = tf.zeros_like(tensor), 0
            for piece, size in zip(pieces, sizes):
                if piece is not None:
                    total = tf.tensor_scatter_nd_update(total, tf.range(start, start + size)[:, None], piece)
                start += size
            return total

        return tf.split(tensor, sizes, axis=0), gradient

    return list(split(tensor)) if axis == 0 else tf.split(tensor, sizes, axis=axis)


class _ScatterSplitTF:
    """tensorflow as grouped_forward sees it, with scatter_split for tf.split."""

    split = staticmethod(scatter_split)

    def __getattr__(self, name):
        return getattr(tf, name)


def scatter_gradients():
    return {(pg, "tf"): _ScatterSplitTF()}


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

    def step(i):
        with tf.GradientTape() as tape:
            total = loss()
        for param, grad in zip(params, tape.gradient(total, params)):
            param.assign_sub(0.03 * grad)

    return epochs_timer(step, population, epochs)


def epochs_timer(step, population, epochs):
    """A timer for `epochs` Playground epochs (25 steps each) of step() in one XLA while loop, compiled here."""
    @tf.function(jit_compile=True)
    def loop(steps):
        def body(i):
            step(i)
            return i + 1

        return tf.while_loop(lambda i: i < steps, body, [tf.constant(0)])

    steps = 25 * epochs
    loop(tf.constant(steps))

    def timer():
        start = time.perf_counter()
        loop(tf.constant(steps))[0].numpy()
        return population * epochs, time.perf_counter() - start

    return timer


def per_group_loop(members, epochs):
    """The mix trained as replab trains it (Playground L2 step with per-member rates and dead-weight masks, the
    divergence check, sequential batches of 10), but hand-written with one set of variables per group of members
    sharing an activation and a depth: no tf.split, so no gradient is concatenated."""
    members = [members[k] for k in pg.forward_order([a for _, a in members], [len(h) for h, _ in members])]
    layer_on = np.array([[layer < len(h) for layer in range(3)] for h, _ in members])
    rng = np.random.default_rng(0)
    x = pg.pad_features(rng.uniform(-6, 6, (len(members), 250, 2)).astype(np.float32), 8)
    y = np.sign(rng.uniform(-1, 1, (len(members), 250))).astype(np.float32)
    groups = [group_state(members, start, stop, activation, depth, x, y)
              for start, stop, activation, depth in pg.member_groups(layer_on, [a for _, a in members])]

    def step(i):
        for group in groups:
            group_step(group, i)

    return epochs_timer(step, len(members), epochs)


def group_state(members, start, stop, activation, depth, x, y):
    size = stop - start
    params = [t for layer in pg.stack_members([pg.initial_weights(8, depth, k) for k in range(start, stop)])
              for t in layer]
    units = np.zeros((size, depth, 8), np.float32)
    for i, (hidden, _) in enumerate(members[start:stop]):
        for layer, width in enumerate(hidden):
            units[i, layer, :width] = 1

    def rate(value):
        return tf.reshape(tf.constant(np.full(size, value, np.float32)), [-1, 1, 1])

    return {"activation": pg.ACTIVATIONS[activation], "depth": depth, "params": params,
            "dead": [tf.Variable(tf.zeros_like(p)) for p in params], "units": tf.constant(units),
            "inputs": tf.constant(np.array([1, 1, 0, 0, 0, 0, 0, 0], np.float32)),
            "x": tf.constant(x[start:stop]), "y": tf.constant(y[start:stop]),
            "learning_rate": rate(0.03), "l1": rate(0.0), "l2": rate(0.001)}


def group_step(group, i):
    batch = (i * 10 + tf.range(10)) % 250
    xb, yb = tf.gather(group["x"], batch, axis=1) * group["inputs"], tf.gather(group["y"], batch, axis=1)
    params = group["params"]
    with tf.GradientTape() as tape:
        h = xb
        for layer in range(group["depth"]):
            z = pg.small_dense(h, params[2 * layer], params[2 * layer + 1])
            h = group["activation"](z) * group["units"][:, layer, None, :]
        losses = tf.reduce_mean(0.5 * tf.square(tf.tanh(pg.small_dense(h, params[-2], params[-1]))[..., 0] - yb), -1)
        total = tf.reduce_sum(losses)
    grads = tape.gradient(total, params)
    finite, proposals = tf.math.is_finite(losses), []
    for index, (param, grad, dead) in enumerate(zip(params, grads, group["dead"])):
        if index % 2 == 0:  # weights: the Playground's L2/L1 step
            new, new_dead = pg.playground_sgd_update(param, grad, dead, group["learning_rate"], group["l1"],
                                                     group["l2"])
        else:
            new, new_dead = param - group["learning_rate"] * grad, dead
        proposals.append((param, new, dead, new_dead))
        finite = finite & optim.finite_per_member([new, new_dead])
    for param, new, dead, new_dead in proposals:
        param.assign(optim.keep_where(finite, new, param))
        dead.assign(optim.keep_where(finite, new_dead, dead))


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
            "all three off": {**no_divergence_check(), **plain_sgd(), **no_unit_masks()},
            "dead-weight mask not rewritten (no L1 here)": dead_mask_unwritten(),
            "same, group gradients assembled by scatter": {**dead_mask_unwritten(), **scatter_gradients()},
            "all three off, gradients by scatter": {**no_divergence_check(), **plain_sgd(), **no_unit_masks(),
                                                    **scatter_gradients()}})
        if mix:
            timers["one set of variables per group (hand loop)"] = per_group_loop(members, 4)
        if not mix:
            timers["core: forward, gradient, SGD alone"] = spiral_core(population, 4)
        print_rates(bt.best_rate(timers), "network-epochs/s")
    print(f"\nfinished; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
