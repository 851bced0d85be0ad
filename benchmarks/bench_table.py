"""Issue 12's table: replab's trainer against the strongest anchors, side by side in one process, as ratios.

Rows (each prints the issue's "today" figure, measured on a quiet machine before the speed work, and today's
measurement here): the Figure-1 MLP 784-100×3-10 sigmoid with and without BN (batch 60, one network); a population
of 6 such networks (3 seeds × {BN, plain}, each on its own data order, as the BN experiment trains them); the
spiral search's Playground populations (this file's old batched-matmul forward, the fused forward computing every
member whole, and the current one computing each group of one activation and depth alone, same run); the float32
matmul peak, the MLP's matmuls alone (the ceiling of its shapes) and the fraction of the peak each replab row
reaches; the commands that train nothing, timed as a user runs them; and a gates --quick run's figure saving
against its wall time.

Anchors, when installed: Keras `fit` with jit_compile=True and steps_per_execution=500; PyTorch eager and
torch.compile (a line says when PyTorch is missing). Every rate is the best of REPEATS interleaved bursts after a
warm-up, so a busy machine slows all contenders alike; the main ratios also print their range over the rounds,
each round's two rates measured back to back; the 1-minute load average is printed. Prints only.

Usage: python benchmarks/bench_table.py [--quick]
"""

import dataclasses
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import replab.nn.playground as playground  # noqa: E402
from replab.nn.layers import dense
from replab.nn.losses import softmax_cross_entropy
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward
from replab.nn.optim import SGD
from replab.nn.playground import (
    forward_order,
    init_playground_network,
    mask_tensors,
    network_masks,
    pad_features,
    playground_optimizer,
    playground_training_loss,
)
from replab.nn.train import StepLoop

QUICK = "--quick" in sys.argv
REPEATS = 3
SIZES = [784, 100, 100, 100, 10]
BATCH, RATE = 60, 0.5
BURST = 300 if QUICK else 1000  # steps per timed burst (MLP rows)
TODAY = {  # the table, quiet machine, before this work
    "list": 6.5, "--help": 0.4, "figures_share": 4.4 / 7.0,
    "bn": 2531, "plain": 2737, "pop6": 2934, "spiral_mix": 9560, "spiral_88": 17700,
    "torch_bn": 1176, "torch_compile_bn": 1241, "keras_bn": 476, "torch_plain": 1615,
}


def load():
    return os.getloadavg()[0]


def mnist_shaped(n=12000):
    rng = np.random.default_rng(0)
    return (rng.random((n, 784)) > 0.8).astype(np.float32), rng.integers(0, 10, n).astype(np.int32)


def flops_per_step(sizes=SIZES, batch=BATCH):
    """Dense layers: forward, weight gradient and (except the first layer) input gradient, 2·B·in·out each."""
    products = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 4 * batch * sum(products) + 2 * batch * sum(products[1:])


def matmul_peak(n=2048, repeats=10):
    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
    product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    product(a, b).numpy()
    best = 1e9
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            product(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 * repeats / best


def matmul_chain(population, steps=BURST):
    """The MLP's matmuls alone (forward, weight and input gradients of every layer, an SGD update, no activations,
    no BN, no data): the ceiling these shapes allow on this machine, in one XLA loop like replab's trainer."""
    rng = np.random.default_rng(0)
    weights = [tf.Variable(rng.normal(0, 0.01, (population, a, b)).astype(np.float32))
               for a, b in zip(SIZES[:-1], SIZES[1:])]
    x = tf.constant(rng.random((population, BATCH, SIZES[0]), np.float32))
    upstream = tf.constant(rng.normal(0, 1, (population, BATCH, SIZES[-1])).astype(np.float32))

    def step(i):
        hidden = [x]
        for w in weights:
            hidden.append(tf.matmul(hidden[-1], w))
        delta = upstream
        for layer in reversed(range(len(weights))):
            gradient = tf.matmul(hidden[layer], delta, transpose_a=True)
            if layer:
                delta = tf.matmul(delta, weights[layer], transpose_b=True)
            weights[layer].assign_sub(1e-6 * gradient)
        return i + 1

    loop = tf.function(lambda n: tf.while_loop(lambda i: i < n, step, [0]), jit_compile=True)
    loop(tf.constant(10))

    def timer():
        start = time.perf_counter()
        loop(tf.constant(steps))[0].numpy()
        return steps * population, time.perf_counter() - start

    return timer


class Rates(dict):
    """name -> best rate over the rounds, keeping every round's rates for paired ratios."""

    def __init__(self, rounds):
        super().__init__({name: max(r[name] for r in rounds) for name in rounds[0]})
        self.rounds = rounds

    def paired(self, a, b):
        """' (paired rounds: lo–hi)': the range of a's rate over b's within each round, where both met the same
        machine state; the best rates' ratio alone can pair a lucky burst with an unlucky one."""
        ratios = sorted(r[a] / r[b] for r in self.rounds)
        return f" (paired rounds: {ratios[0]:.2f}–{ratios[-1]:.2f}x)"


def best_rate(timers, rounds=REPEATS):
    """timers: name -> callable returning (units done, seconds). Interleaved rounds; best rate per name (Rates)."""
    history = []
    for _ in range(rounds):
        history.append({})
        for name, timer in timers.items():
            units, seconds = timer()
            history[-1][name] = units / seconds
    return Rates(history)


# --- replab ----------------------------------------------------------------------------------------------


def replab_mlp(norms, x, y):
    """A StepLoop over NormalizedMLP members with these norms; each member walks its own data order."""
    k = len(norms)
    net = NormalizedMLP(SIZES, [Member(norm=n) for n in norms], seeds=list(range(k)))
    images = tf.constant(x)
    rng = np.random.default_rng(1)
    orders = np.stack([rng.permutation(len(x)) for _ in range(k)]).astype(np.int32)
    labels = y[orders]

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, tf.gather(images, xb), training=True)
        return softmax_cross_entropy(logits, yb)

    loop = StepLoop(loss_fn, net.params, SGD(net.params, RATE), orders, labels, batch_size=BATCH,
                       per_member_data=True)
    loop.run(BURST)
    return lambda: (BURST * k, loop.run(BURST))


def old_masked_forward(params, x, masks):
    """The Playground forward before issue 12: one batched tf.matmul per layer."""
    h = x * masks.input_mask[:, None, :]
    for layer, (w, b) in enumerate(params[:-1]):
        a = playground.mixed_activation(dense(h, w, b), masks.activation, masks.activations_used)
        a = a * masks.unit_mask[:, layer, None, :]
        h = tf.where(masks.layer_on[:, layer, None, None], a, h)
    w, b = params[-1]
    return tf.tanh(dense(h, w, b))[..., 0]


def spiral_members(mix, population):
    """bench_spiral.py's candidate mix (1–3 layers of 2–8 units, tanh/relu) or all [8, 8] tanh."""
    if mix:
        shapes = [(w,) * d for d in (1, 2, 3) for w in (2, 4, 6, 8)]
        return [(shapes[i % len(shapes)], ("tanh", "relu")[(i // len(shapes)) % 2]) for i in range(population)]
    return [((8, 8), "tanh")] * population


def spiral_loop(members, forward_fn, epochs_per_burst, runs=True, sort_key=None, groups=None):
    """A StepLoop over Playground members. runs=True sorts them as the spiral search does (by activation, deepest
    first) so each group sharing an activation and a depth is computed alone; runs=False computes every member whole
    and masks. sort_key and groups (members -> masks.groups) replace the search's order and groups, for other
    forwards."""
    if sort_key is not None:
        members = sorted(members, key=sort_key)
    elif runs:
        members = [members[k] for k in forward_order([a for _, a in members], [len(h) for h, _ in members])]
    width, depth, k = 8, max(len(h) for h, _ in members), len(members)
    rng = np.random.default_rng(0)
    x = pad_features(rng.uniform(-6, 6, (k, 250, 2)).astype(np.float32), width)
    y = np.sign(rng.uniform(-1, 1, (k, 250))).astype(np.float32)
    masks = mask_tensors(network_masks([[0, 1]] * k, [h for h, _ in members], width, depth),
                            [a for _, a in members])
    if not runs:
        masks = dataclasses.replace(masks, groups=None)
    if groups is not None:
        masks = dataclasses.replace(masks, groups=groups(members))
    params = init_playground_network(width, depth, list(range(k)))
    optimizer = playground_optimizer(params, [0.03] * k, ["L2"] * k, [0.001] * k)
    saved, playground.masked_forward = playground.masked_forward, forward_fn
    try:
        loop = StepLoop(playground_training_loss(masks), params, optimizer, x, y, batch_size=10,
                           batch_order="sequential", per_member_data=True)
    finally:
        playground.masked_forward = saved
    steps = 25 * epochs_per_burst
    loop.run(steps)
    return lambda: (k * epochs_per_burst, loop.run(steps))


# --- anchors ----------------------------------------------------------------------------------------------


def keras_fit(x, y, with_bn):
    try:
        import keras
    except ImportError:
        return None
    layers = [keras.Input((784,))]
    for width in SIZES[1:-1]:
        layers += ([keras.layers.Dense(width, use_bias=False), keras.layers.BatchNormalization(),
                    keras.layers.Activation("sigmoid")] if with_bn else [keras.layers.Dense(width, activation="sigmoid")])
    model = keras.Sequential(layers + [keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(RATE), jit_compile=True, steps_per_execution=500,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    steps_per_epoch = len(x) // BATCH  # 200
    model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
    epochs = max(1, BURST // steps_per_epoch)

    def timer():
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
        return epochs * steps_per_epoch, time.perf_counter() - start

    return timer


def torch_timers(x, y, with_bn, with_compile):
    """PyTorch eager (and torch.compile) with the better of 1 thread and all cores: on a busy machine its OpenMP
    threads spin against the other processes and one thread is several times faster, so both are tried."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def model():
        layers, n_in = [], 784
        for width in SIZES[1:-1]:
            layers += ([torch.nn.Linear(n_in, width, bias=False), torch.nn.BatchNorm1d(width, momentum=0.01, eps=1e-3)]
                       if with_bn else [torch.nn.Linear(n_in, width)])
            layers.append(torch.nn.Sigmoid())
            n_in = width
        return torch.nn.Sequential(*layers, torch.nn.Linear(n_in, 10))

    def make(compiled):
        net = model()
        opt = torch.optim.SGD(net.parameters(), lr=RATE)
        run = torch.compile(net) if compiled else net
        loss_fn = torch.nn.CrossEntropyLoss()
        state = {"order": torch.randperm(len(xt)), "i": 0}

        def steps(n):
            for _ in range(n):
                i = state["i"] % (len(xt) // BATCH)
                if i == 0:
                    state["order"] = torch.randperm(len(xt))
                index = state["order"][i * BATCH:(i + 1) * BATCH]
                opt.zero_grad(set_to_none=True)
                loss_fn(run(xt[index]), yt[index]).backward()
                opt.step()
                state["i"] += 1

        started = time.perf_counter()
        steps(20)
        compile_seconds = time.perf_counter() - started

        def timer():
            best = None
            for threads in sorted({1, os.cpu_count() or 1}):
                torch.set_num_threads(threads)
                start = time.perf_counter()
                steps(BURST)
                seconds = time.perf_counter() - start
                best = seconds if best is None else min(best, seconds)
            return BURST, best

        return timer, compile_seconds

    torch.set_num_threads(1)
    timers = {"PyTorch eager": make(False)[0]}
    if not with_compile:
        print("  torch.compile: skipped (compiling takes 20-70 s here; run without --quick, BN row only)")
        return timers
    try:
        timers["torch.compile"], seconds = make(True)
        print(f"  (torch.compile compiled in {seconds:.0f} s)")
    except Exception as error:  # noqa: BLE001 — an anchor that cannot run is reported, not fatal
        print(f"  torch.compile unavailable here: {str(error).splitlines()[0][:120]}")
    return timers


# --- command line and saving -----------------------------------------------------------------------------

TIMED_COMMAND = """
import sys, time
start = time.perf_counter()
from replab.cli import main
try:
    main(sys.argv[1:])
finally:  # --help exits through SystemExit
    print(f"@@ {time.perf_counter() - start:.3f} {'tensorflow' in sys.modules}", file=sys.stderr)
"""


def timed_command(args):
    """(seconds from interpreter start to exit, whether TensorFlow got imported) of `replab ARGS`, best of 3."""
    import subprocess

    best, imported = math.inf, None
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", TIMED_COMMAND, *args], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        marker = [line for line in done.stderr.splitlines() if line.startswith("@@ ")]
        imported = marker[-1].split()[2] == "True" if marker else None
        best = min(best, seconds)
    return best, imported


def command_rows():
    """The commands that train nothing, timed end to end as a user runs them, and a gates --quick run's figure
    saving against its compute."""
    import tempfile
    from pathlib import Path

    from replab.experiments import gates
    from replab.figures import write_figures
    from replab.runs import save_run

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        config = gates.Config.quick()
        start = time.perf_counter()
        result = gates.run(config)
        compute = time.perf_counter() - start
        start = time.perf_counter()
        path = save_run(out, "gates", gates.TITLE, gates.QUESTION, config, result, compute)
        saving = time.perf_counter() - start
        start = time.perf_counter()
        write_figures(out / "figures-again", result.figures)
        figures = time.perf_counter() - start
        panels_only = {name: without_data(figure) for name, figure in gates.run(config).figures.items()}
        start = time.perf_counter()
        write_figures(out / "panels-only", panels_only)
        panels = time.perf_counter() - start
        print(f"\nCommands that train nothing (interpreter start to exit, best of 3)  (load {load():.1f})")
        for args in (["--help"], ["list"], ["config", "spiral"], ["config", "bn-lr"], ["show", str(path)],
                     ["runs", "--out", str(out)], ["report", "--out", str(out)]):
            seconds, imported = timed_command(args)
            label = "replab " + " ".join(a if a.startswith("-") or "/" not in a else "RUN" for a in args[:2])
            row(label, TODAY.get(args[0]), seconds, "s", f"   TensorFlow imported: {imported} (target < 1 s, no TensorFlow)")
        cli_seconds, _ = timed_command(["run", "gates", "--quick", "--out", str(out / "cli")])
        print(f"\nSaving gates --quick: `replab run gates --quick` takes {cli_seconds:.2f} s from start to exit; in "
              f"process its compute takes {compute:.2f} s, saving the run {saving:.2f} s, of which its "
              f"{len(result.figures)} figures {figures:.2f} s = {figures / cli_seconds:.0%} of the command's wall time "
              f"(today {TODAY['figures_share']:.0%}; target ≤ 10%)")
        print(f"  the same figures with their data removed (panels, titles, ticks and labels only) take {panels:.2f} s "
              f"= {panels / cli_seconds:.0%}: matplotlib's floor for these {sum(len(f.axes) for f in panels_only.values())}"
              f" panels")


def without_data(figure):
    """The figure with every plotted artist removed: what its panels, titles, ticks and labels alone cost to save."""
    for ax in figure.axes:
        for artist in [*ax.collections, *ax.lines, *ax.images, *ax.texts, *ax.patches]:
            artist.remove()
    return figure


# --- the table --------------------------------------------------------------------------------------------


def row(label, today, now, unit, extra=""):
    digits = 2 if unit == "s" else 0
    today_text = f"{today:>9,.{digits}f}" if today else f"{'—':>9}"
    print(f"  {label:44s} today {today_text}   now {now:>9,.{digits}f} {unit}{extra}")


def mlp_rows(x, y, peak, flops):
    for with_bn, key in ((True, "bn"), (False, "plain")):
        print(f"\nFigure-1 MLP 784-100x3-10 sigmoid {'with BN' if with_bn else 'without BN'}, batch 60, one network"
              f"  (load {load():.1f})")
        timers = {"replab": replab_mlp(["batch" if with_bn else "none"], x, y)}
        keras_timer = keras_fit(x, y, with_bn)
        if keras_timer is None:
            print("  Keras not installed: its anchor is skipped")
        else:
            timers["Keras fit (XLA, steps_per_execution=500)"] = keras_timer
        torch = torch_timers(x, y, with_bn, with_compile=with_bn and not QUICK)
        if torch is None:
            print("  PyTorch not installed (pip install torch): its anchors are skipped")
        else:
            timers.update(torch)
        rates = best_rate(timers)
        today_anchor = {"PyTorch eager": TODAY[f"torch_{key}"], "torch.compile": TODAY.get(f"torch_compile_{key}"),
                        "Keras fit (XLA, steps_per_execution=500)": TODAY.get(f"keras_{key}")}
        row("replab nn.fit", TODAY[key], rates["replab"], "steps/s",
            f"   {flops * rates['replab'] / peak:.0%} of the matmul peak (target 40%)")
        for name, rate in rates.items():
            if name != "replab":
                row(name, today_anchor.get(name), rate, "steps/s", f"   replab / this = {rates['replab'] / rate:.2f}x"
                    + rates.paired("replab", name) + ("  (target 2.5x)" if name == "PyTorch eager" else ""))
        yield key, rates["replab"]


def main():
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, load average {os.getloadavg()}")
    print(f"GPUs visible to TensorFlow: {len(tf.config.list_physical_devices('GPU'))}")
    x, y = mnist_shaped()
    peak = matmul_peak()
    flops = flops_per_step()
    print(f"float32 matmul peak (2048² tf.matmul): {peak / 1e9:.0f} GFLOP/s (issue: 358 on a quiet machine); "
          f"the MLP costs {flops / 1e6:.1f} MFLOP per network per step in its dense layers")

    dict(mlp_rows(x, y, peak, flops))

    print(f"\nPopulation of 6 (3 seeds x {{BN, plain}}, own data orders)  (load {load():.1f})")
    rates = best_rate({"pop6": replab_mlp(["none", "batch"] * 3, x, y), "bn": replab_mlp(["batch"], x, y),
                       "chain1": matmul_chain(1), "chain6": matmul_chain(6)})
    row("replab, network-steps/s", TODAY["pop6"], rates["pop6"], "network-steps/s",
        f"   = {rates['pop6'] / rates['bn']:.2f}x{rates.paired('pop6', 'bn')} one BN network's {rates['bn']:,.0f} "
        "(target 4x); "
        f"{flops * rates['pop6'] / peak:.0%} of the peak")
    print("  the ceiling of these shapes: the matmuls alone (no activations, BN or data), same XLA loop")
    row("matmuls alone, one network", None, rates["chain1"], "network-steps/s",
        f"   {flops * rates['chain1'] / peak:.0%} of the peak; replab's BN network reaches "
        f"{rates['bn'] / rates['chain1']:.0%} of it")
    row("matmuls alone, 6 networks", None, rates["chain6"], "network-steps/s",
        f"   = {rates['chain6'] / rates['chain1']:.2f}x one network's matmuls: the most a population of 6 can gain; "
        f"4x one BN network would need {4 * flops * rates['bn'] / 1e9:.0f} GFLOP/s (peak {peak / 1e9:.0f})")

    print(f"\nSpiral Playground populations, batch 10, 25 steps per epoch  (load {load():.1f})")
    population = 400 if QUICK else 1600
    for mix, key, label in ((True, "spiral_mix", "bench_spiral mix"), (False, "spiral_88", "[8, 8] tanh")):
        members = spiral_members(mix, population)
        epochs = 4 if QUICK else 10
        rates = best_rate({"old": spiral_loop(members, old_masked_forward, epochs, runs=False),
                           "masked": spiral_loop(members, playground.masked_forward, epochs, runs=False),
                           "new": spiral_loop(members, playground.masked_forward, epochs)})
        row(f"{label}, K={population}, old batched matmul", TODAY[key], rates["old"], "network-epochs/s")
        row(f"{label}, K={population}, fused, every member whole", TODAY[key], rates["masked"], "network-epochs/s",
            f"   = {rates['masked'] / rates['old']:.2f}x the old forward here")
        row(f"{label}, K={population}, current (groups)", TODAY[key], rates["new"], "network-epochs/s",
            f"   = {rates['new'] / rates['old']:.2f}x{rates.paired('new', 'old')} the old forward here "
            "(target 150,000)")
    command_rows()
    print(f"\nfinished; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
