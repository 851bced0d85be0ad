"""Batch Normalization, Figure 1 of Ioffe & Szegedy (2015): an MNIST MLP with and without BN.

A 784-100-100-100-10 sigmoid network trained by plain SGD on mini-batches of 60, once as the paper's baseline and
once with BN on every hidden layer (z = g(BN(Wu)), the layer bias dropped: β replaces it). The network is the BN
study's `replab.nn.normalized_mlp.NormalizedMLP` (kinds "none" and "batch"). Both networks, for every seed, are
members of one population trained in ONE compiled graph (one ``nn.fit`` call), laid out by ``nn.population.Grid``:
members 0..n−1 are baselines, members n..2n−1 the BN networks. Member s and n+s start from the same weights and
see the same mini-batches in the same order; each seed has its own initial weights AND its own batch order (the
training set is fed through a per-seed permutation of example indices), so seeds are independent replications.

measure → judge → present: `measure` trains and returns `Measurements`, `judge` turns them into three findings
decided by `replab.stats` (paired over seeds), `present` draws Figure 1 and its tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn, stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.data.mnist import Digits, check_data_dir, load_digits
from replab.errors import check_at_most, check_finite, check_positive_int, require
from replab.experiments import base
from replab.experiments.base import ExperimentConfig, Presentation, Progress, Result, Table, compose, no_progress
from replab.nn.layers import dense
from replab.nn.norms import moments, unbiased
from replab.nn.normalized_mlp import Member, NormalizedMLP, Options, effective_weight, forward, normalize_layer
from replab.nn.population import Grid

NAME = "batchnorm"
TITLE = "Batch Normalization on an MNIST MLP: Figure 1 of Ioffe & Szegedy (2015)"
QUESTION = ("Does Batch Normalization make a 3-hidden-layer sigmoid network on MNIST train faster and reach higher "
            "test accuracy, and does it keep the distribution of a sigmoid's input stable during training?")

MODELS = ("baseline", "bn")
KINDS = {"baseline": "none", "bn": "batch"}
"""Each model's NormalizedMLP kind."""
LABELS = {"baseline": "without BN", "bn": "with BN"}
COLOURS = {"baseline": "C0", "bn": "C3"}
DATASET_LABELS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
PERCENTILES = (15.0, 50.0, 85.0)
TABLE_STEPS = (5_000, 10_000, 20_000, 30_000)
# Figure 1(a) of the paper, read off the plot (shared/reference/batchnorm-paper.md): step -> (with BN, without BN).
PAPER_ACCURACY = {5_000: (0.956, 0.787), 10_000: (0.966, 0.926), 20_000: (0.974, 0.963),
                  30_000: (0.978, 0.968), "end": (0.982, 0.972)}
PAPER_END_STEP = 50_000
TARGET_FRACTION = 0.95
"""bn-faster: steps to reach this fraction of the lower of the two final plateaus (per seed)."""
PLATEAU_FRACTION = 0.1
"""A final plateau is the mean test accuracy over the last 10% of record points (at least one)."""
DATA_ORDER_STREAM = 1
"""Mixed with a seed to draw that seed's permutation of the training set (its batch order)."""
MAX_RECORDS = 2_000


@dataclass(frozen=True)
class Config(ExperimentConfig):
    dataset: Literal["mnist", "fashion-mnist"] = "mnist"
    data_dir: str = ""
    """A folder with the four IDX files (or mnist.npz); empty: search the usual places (see data.mnist)."""
    binarize: bool = True
    """The paper (§4.1) feeds 'a 28x28 binary image': pixels thresholded at 0.5."""
    hidden: tuple[int, ...] = (100, 100, 100)
    weight_std: float = 0.1
    """Std of the Gaussian initial weights: 'small random Gaussian values'. 0.1 puts the first layer's Wu at
    std ≈ 1.2 for binary digits (~150 lit pixels), inside the sigmoid's working range."""
    learning_rate: float = 0.5
    """Plain SGD; the paper gives no rate, the public reproduction used 0.5."""
    batch_size: int = 60
    steps: int = 50_000
    record_every: int = 500
    n_seeds: int = 3
    """Independent replications (own initial weights and own batch order); every claim is a paired test over them."""
    probe_size: int = 1000
    """Test images over which the sigmoid-input percentiles are taken (the first probe_size of the test set)."""
    probe_unit: int = 0
    """Which sigmoid of the last hidden layer Figure 1(b, c) follows (the claim uses every unit)."""
    bn_momentum: float = 0.99
    bn_epsilon: float = 1e-3
    population_batches: int = 0
    """Training mini-batches for Algorithm 2's population statistics after training; 0: one full epoch."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.dataset in ("mnist", "fashion-mnist"),
                f"dataset must be 'mnist' or 'fashion-mnist', got {self.dataset!r}")
        require(isinstance(self.binarize, bool), f"binarize must be true or false, got {self.binarize!r}")
        require(isinstance(self.hidden, tuple) and 1 <= len(self.hidden) <= 10
                and all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 4096 for w in self.hidden),
                f"hidden must list one to ten layer widths from 1 to 4096, got {self.hidden}")
        check_finite("weight_std", self.weight_std, 0, 10)
        require(self.weight_std > 0, f"weight_std must lie in (0, 10], got {self.weight_std}")
        check_finite("learning_rate", self.learning_rate)
        require(0 < self.learning_rate < 100, f"learning_rate must lie in (0, 100), got {self.learning_rate}")
        check_positive_int("batch_size", self.batch_size, minimum=2, maximum=10_000)
        check_positive_int("steps", self.steps, maximum=1_000_000)
        check_positive_int("record_every", self.record_every)
        require(self.record_every <= self.steps, f"record_every ({self.record_every}) exceeds steps ({self.steps})")
        check_at_most("record points (steps / record_every)", -(-self.steps // self.record_every), MAX_RECORDS)
        check_positive_int("n_seeds", self.n_seeds, maximum=100)
        check_positive_int("probe_size", self.probe_size, minimum=10, maximum=10_000)
        require(isinstance(self.probe_unit, int) and 0 <= self.probe_unit < self.hidden[-1],
                f"probe_unit must be a unit of the last hidden layer, 0 to {self.hidden[-1] - 1}, got {self.probe_unit}")
        check_finite("bn_momentum", self.bn_momentum)
        require(0 <= self.bn_momentum < 1, f"bn_momentum must lie in [0, 1), got {self.bn_momentum}")
        check_finite("bn_epsilon", self.bn_epsilon)
        require(0 < self.bn_epsilon < 1, f"bn_epsilon must lie in (0, 1), got {self.bn_epsilon}")
        check_positive_int("population_batches", self.population_batches, minimum=0, maximum=100_000)
        if self.data_dir:
            check_data_dir(self.data_dir)

    @classmethod
    def quick(cls) -> "Config":
        """A smoke test: 1,500 steps, 2 seeds (a paired test over 2 seeds has one degree of freedom: its verdicts
        are rarely anything but inconclusive, and never stand for a full run's)."""
        return cls(steps=1500, record_every=250, n_seeds=2, probe_size=200, population_batches=20, quick=True)

    @property
    def layer_sizes(self) -> list[int]:
        return [784, *self.hidden, 10]

    @property
    def grid(self) -> Grid:
        """Baselines then BN networks, n_seeds each (member c·n_seeds + s)."""
        return Grid.of(MODELS, self.n_seeds, self.seed)


# --- the network: NormalizedMLP, plus what Figure 1 measures on it ---------------------------------------


def build_network(config: Config, bn_members: bool = True) -> NormalizedMLP:
    """Figure 1's population on the study's network: baselines ("none") then BN networks ("batch"); with
    bn_members=False every member is a baseline (member s and n+s are then the same network)."""
    grid = config.grid
    kinds = [KINDS[model] if bn_members else "none" for model in grid.members()]
    members = [Member(norm=kind, weight_std=config.weight_std) for kind in kinds]
    options = Options(momentum=config.bn_momentum, epsilon=config.bn_epsilon)
    return NormalizedMLP(config.layer_sizes, members, grid.member_seeds(), options)


def batch_orders(config: Config, n_train: int) -> np.ndarray:
    """(K, n_train) int32: member k reads the training set through its seed's own permutation, so each seed has its
    own batch order while the baseline and BN network of a seed (members s and n+s) see the same batches."""
    grid = config.grid
    orders = [np.random.default_rng([grid.seed_of(s), DATA_ORDER_STREAM]).permutation(n_train)
              for s in range(config.n_seeds)]
    return np.stack([orders[s] for _ in grid.cells for s in range(config.n_seeds)]).astype(np.int32)


def last_sigmoid_input(net: NormalizedMLP, x, training: bool = False):
    """The input to the last hidden layer's sigmoids (K, B, F); inference mode uses the moving averages."""
    return forward(net, x, training=training, update_averages=False)[1][-1]


def batch_statistics(net: NormalizedMLP, x):
    """Per hidden layer, the (mean, biased variance) of BN's input Wu over batch x in a training-mode pass,
    without touching the moving averages."""
    statistics, h = [], x
    for layer in range(net.hidden_count):
        z = dense(h, effective_weight(net, layer))
        statistics.append(moments(z))
        h = tf.sigmoid(normalize_layer(net, layer, z, True, None, False))
    return statistics


def percentiles(values, qs=PERCENTILES, axis=1):
    """numpy's default ('linear') percentiles along `axis`, in TensorFlow; stacked on a new axis 1."""
    n = int(values.shape[axis])
    ordered = tf.sort(values, axis=axis)
    out = []
    for q in qs:
        position = q / 100.0 * (n - 1)
        low, high = int(np.floor(position)), int(np.ceil(position))
        fraction = position - low
        below, above = tf.gather(ordered, low, axis=axis), tf.gather(ordered, high, axis=axis)
        out.append(below + fraction * (above - below))
    return tf.stack(out, axis=1)


# --- training ------------------------------------------------------------------------------------------


@dataclass
class Training:
    steps: np.ndarray              # (R,)
    loss: np.ndarray               # (R, K)
    accuracy: np.ndarray           # (R, K) test accuracy, BN members with moving averages
    sigmoid_input: np.ndarray      # (R, K, 3, F) 15/50/85th percentiles over the probe set, every last-layer unit
    final_accuracy_population: np.ndarray  # (K,) BN members with Algorithm 2's statistics
    diverged_at: np.ndarray        # (K,)
    steps_per_second: float
    train_seconds: float
    compile_seconds: float
    population_batches: int


def population_batch_count(config: Config, n_train: int) -> int:
    return config.population_batches or n_train // config.batch_size


def train(config: Config, digits: Digits, bn_members: bool = True) -> Training:
    net = build_network(config, bn_members)
    params = net.params
    images = tf.constant(digits.x_train, tf.float32)
    orders = batch_orders(config, digits.n_train)
    labels = digits.y_train[orders]  # (K, N): member k's labels in its seed's order
    x_test, y_test = tf.constant(digits.x_test), tf.constant(digits.y_test)
    probe = tf.constant(digits.x_test[: config.probe_size])

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, tf.gather(images, xb), training=True)  # xb (K, B): example indices per member
        return nn.softmax_cross_entropy(logits, yb)

    @tf.function(jit_compile=True)
    def test_accuracy():
        return nn.accuracy(forward(net, x_test, training=False)[0], y_test)

    @tf.function(jit_compile=True)
    def sigmoid_input():
        return percentiles(last_sigmoid_input(net, probe))

    history = nn.fit(loss_fn, params, nn.SGD(params, config.learning_rate), orders, labels, steps=config.steps,
                     batch_size=config.batch_size, record_every=config.record_every, per_member_data=True,
                     metrics={"accuracy": test_accuracy, "sigmoid_input": sigmoid_input}, seed=config.seed)
    batches, final_population = population_accuracy(config, net, digits)
    return Training(history.steps, history.loss, history.metrics["accuracy"], history.metrics["sigmoid_input"],
                    final_population, history.diverged_at, history.steps_per_second,
                    history.wall_time - history.compile_time, history.compile_time, batches)


def population_accuracy(config: Config, net: NormalizedMLP, digits: Digits) -> tuple[int, np.ndarray]:
    """Algorithm 2 after training: average the batch statistics of M training mini-batches (a fixed shuffle of
    the training set), with the m/(m−1) correction of the variance, and score the test set with them in place of
    the moving averages (restored afterwards). Returns (M, accuracy per member)."""
    m = config.batch_size
    x_train = digits.x_train
    count = min(population_batch_count(config, len(x_train)), len(x_train) // m)
    order = np.random.default_rng(config.seed + 1).permutation(len(x_train))[: count * m]
    batches = tf.constant(x_train[order].reshape(count, m, -1))
    signature = [(tf.TensorSpec([net.population, 1, w], tf.float32),) * 2 for w in config.hidden]
    stacked = tf.function(lambda: tf.map_fn(lambda xb: batch_statistics(net, xb), batches,
                                            fn_output_signature=signature))()
    saved = [(mean.numpy(), variance.numpy()) for mean, variance in zip(net.moving_means, net.moving_variances)]
    for layer, (means, variances) in enumerate(stacked):
        net.moving_means[layer].assign(tf.reduce_mean(means, axis=0))
        net.moving_variances[layer].assign(unbiased(tf.reduce_mean(variances, axis=0), m))
    accuracy = nn.accuracy(forward(net, tf.constant(digits.x_test), training=False)[0],
                           tf.constant(digits.y_test)).numpy()
    for layer, (mean, variance) in enumerate(saved):
        net.moving_means[layer].assign(mean)
        net.moving_variances[layer].assign(variance)
    return count, accuracy


# --- measurements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurements(base.Measurements):
    """What one run measured. Model axis first (0: baseline, 1: BN), then seed, then record point."""

    dataset: str
    source: str
    n_train: int
    n_test: int
    binarize: bool
    steps: np.ndarray               # (R,) updates done at each record point
    accuracy: np.ndarray            # (2, S, R) test accuracy; BN networks with their moving averages
    loss: np.ndarray                # (2, S, R) training mini-batch loss
    sigmoid_input: np.ndarray       # (2, S, R, 3, F) 15/50/85th percentiles over the probe images, every unit of
    #                                 the last hidden layer, inference mode (moving averages)
    final_accuracy_population: np.ndarray  # (S,) BN networks with Algorithm 2's population statistics
    diverged_at: np.ndarray         # (2, S) step or −1
    record_every: int
    probe_unit: int
    probe_size: int
    population_batches: int
    steps_per_second: float
    train_seconds: float
    compile_seconds: float

    @property
    def n_seeds(self) -> int:
        return int(self.accuracy.shape[1])

    @property
    def label(self) -> str:
        return DATASET_LABELS.get(self.dataset, self.dataset)

    @property
    def final_accuracy(self) -> np.ndarray:
        """(2, S) test accuracy at the last step."""
        return self.accuracy[:, :, -1]

    @property
    def plateau(self) -> np.ndarray:
        """(2, S) mean test accuracy over the last PLATEAU_FRACTION of record points (at least one)."""
        return plateau(self.accuracy)

    @property
    def target(self) -> np.ndarray:
        """(S,) bn-faster's target per seed: TARGET_FRACTION of the lower of the seed's two plateaus (a network whose
        accuracy is not a number has no plateau; the other's sets the target)."""
        return TARGET_FRACTION * np.fmin(*self.plateau)

    @property
    def never_reached(self) -> int:
        """Step count given to a curve that never reaches its target: the step budget + one record interval."""
        return int(self.steps[-1]) + self.record_every

    @property
    def steps_to_target(self) -> np.ndarray:
        """(2, S) first record step at which each curve reaches its seed's target (never: `never_reached`). With
        finite accuracies both curves always reach it (each plateau is a mean of the curve's own last records and
        the target lies below both); only a curve that is not a number never does."""
        return np.array([[first_step_reaching(self.steps, self.accuracy[m, s], self.target[s]) or self.never_reached
                          for s in range(self.n_seeds)] for m in range(2)], np.int64)

    @property
    def drift(self) -> np.ndarray:
        """(2, S, 2, F) max − min over training of each unit's median (index 0) and 15–85 spread (index 1)."""
        median = self.sigmoid_input[:, :, :, 1, :]
        spread = self.sigmoid_input[:, :, :, 2, :] - self.sigmoid_input[:, :, :, 0, :]
        return np.stack([np.ptp(median, axis=2), np.ptp(spread, axis=2)], axis=2)

    @property
    def unit_drift(self) -> np.ndarray:
        """(2, S, 2) per seed, the median over all units of the last hidden layer of `drift`."""
        return np.median(self.drift, axis=-1)

    def to_metrics(self) -> dict[str, Any]:
        """result.json's metrics. The full (2, S, R, 3, F) percentile array stays out (too large); the probed
        unit's percentiles and every unit's drift go in."""
        per_model = lambda values: {model: values[m] for m, model in enumerate(MODELS)}  # noqa: E731
        drift = self.drift
        steps_to = self.steps_to_target
        return base.to_jsonable({
            "dataset": self.dataset, "source": self.source, "n_train": self.n_train, "n_test": self.n_test,
            "binarize": self.binarize, "steps": self.steps, "record_every": self.record_every,
            "accuracy": per_model(self.accuracy),  # [seed][record]
            "loss": per_model(self.loss),
            "sigmoid_input": per_model(self.sigmoid_input[:, :, :, :, self.probe_unit]),  # [seed][record][15/50/85]
            "probe_unit": self.probe_unit, "probe_size": self.probe_size,
            "final_accuracy": per_model(self.final_accuracy),
            "final_accuracy_mean": per_model(self.final_accuracy.mean(axis=1)),
            "final_accuracy_population_stats": self.final_accuracy_population,
            "final_accuracy_population_stats_mean": float(self.final_accuracy_population.mean()),
            "accuracy_difference": self.final_accuracy[1] - self.final_accuracy[0],
            "plateau": per_model(self.plateau), "target": self.target,
            "steps_to_target": per_model(steps_to), "speedup_per_seed": steps_to[0] / steps_to[1],
            "never_reached_steps": self.never_reached,
            "drift": {model: {"median": drift[m, :, 0], "spread": drift[m, :, 1],  # [seed][unit]
                              "median_over_units": self.unit_drift[m, :, 0],
                              "spread_over_units": self.unit_drift[m, :, 1]} for m, model in enumerate(MODELS)},
            "diverged": per_model((self.diverged_at >= 0).sum(axis=1)),
            "population_batches": self.population_batches, "steps_per_second": self.steps_per_second,
            "train_seconds": self.train_seconds, "compile_seconds": self.compile_seconds,
        })


def plateau(accuracy: np.ndarray) -> np.ndarray:
    """Mean over the last PLATEAU_FRACTION of record points (axis −1), at least one."""
    count = max(1, int(round(PLATEAU_FRACTION * accuracy.shape[-1])))
    return accuracy[..., -count:].mean(axis=-1)


def first_step_reaching(steps: np.ndarray, curve: np.ndarray, target: float) -> int | None:
    reached = np.flatnonzero(curve >= target)
    return int(steps[reached[0]]) if reached.size else None


def per_model(config: Config, values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Member axis `axis` (c·n_seeds + s) -> two leading axes (model, seed)."""
    cells = config.grid.per_cell(np.moveaxis(np.asarray(values), axis, -1))  # (..., 2, S)
    return np.moveaxis(np.moveaxis(cells, -1, 0), -1, 0)  # (2, S, ...)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train every seed's baseline and BN network as one population and record Figure 1's measurements."""
    progress(0, 2, f"loading {config.dataset}")
    digits = load_digits(config.dataset, data_dir=config.data_dir or None, seed=config.seed, binarize=config.binarize)
    require(config.probe_size <= digits.n_test,
            f"probe_size ({config.probe_size}) exceeds the {digits.n_test} test examples")
    require(config.batch_size <= digits.n_train,
            f"batch_size ({config.batch_size}) exceeds the {digits.n_train} training examples")
    progress(1, 2, f"training {config.n_seeds} baseline + {config.n_seeds} BN networks for {config.steps:,} steps")
    t = train(config, digits)
    progress(2, 2, "done")
    return Measurements(
        dataset=digits.dataset, source=digits.source, n_train=digits.n_train, n_test=digits.n_test,
        binarize=config.binarize, steps=np.asarray(t.steps, np.int64),
        accuracy=per_model(config, t.accuracy).astype(float), loss=per_model(config, t.loss).astype(float),
        sigmoid_input=per_model(config, t.sigmoid_input, axis=1).astype(float),
        final_accuracy_population=per_model(config, t.final_accuracy_population)[1].astype(float),
        diverged_at=per_model(config, t.diverged_at), record_every=config.record_every,
        probe_unit=config.probe_unit, probe_size=config.probe_size, population_batches=t.population_batches,
        steps_per_second=float(t.steps_per_second), train_seconds=float(t.train_seconds),
        compile_seconds=float(t.compile_seconds))


# --- claims ---------------------------------------------------------------------------------------------


def _values(values, digits: int = 4, sign: bool = False) -> str:
    return ", ".join(f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}" for v in values)


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Three findings, each a paired test over seeds (a seed's baseline and BN network share initial weights and
    batches), decided together by the one rule of `replab.stats`."""
    evidence_base = EvidenceBase(datasets=(m.label,), seeds=m.n_seeds, examples=m.n_test, quick=config.quick)
    # examples: test images scored per network (the probe images for the drift claim)
    seeds = f"{m.n_seeds} seed{'s' if m.n_seeds != 1 else ''}"
    final = m.final_accuracy
    difference = final[1] - final[0]
    accuracy = finding(
        "bn-higher-accuracy",
        "The network with Batch Normalization reaches a higher final test accuracy than the same network without it",
        effect="BN − baseline test accuracy at the last step, mean over seeds (paired by seed)", direction="greater",
        tests=[stats.paired(final[1], final[0], m.label)],
        evidence=f"after {int(m.steps[-1]):,} steps on {m.n_test:,} {m.label} test images, test accuracy with BN "
                 f"{final[1].mean():.4f} (seeds: {_values(final[1])}; with Algorithm 2's population statistics "
                 f"{m.final_accuracy_population.mean():.4f}), without BN {final[0].mean():.4f} (seeds: "
                 f"{_values(final[0])}); BN − baseline per seed {_values(difference, sign=True)}, paired t-test over "
                 f"{seeds}. Paper: 0.982 vs 0.972.",
        base=evidence_base)

    steps_to = m.steps_to_target
    never = (steps_to == m.never_reached)
    ratio = steps_to[0] / steps_to[1]
    faster = finding(
        "bn-faster",
        f"With Batch Normalization the network reaches {TARGET_FRACTION:.0%} of its final accuracy in fewer steps "
        f"(N× fewer, N > 1)",
        effect=f"mean over seeds of ln(steps without BN / steps with BN) to reach {TARGET_FRACTION:.0%} of the lower "
               f"of that seed's two final plateaus; > 0: BN is faster, exp(effect) is N",
        direction="greater",
        tests=[stats.paired(np.log(steps_to[0]), np.log(steps_to[1]), m.label)],
        evidence=f"per seed, target = {TARGET_FRACTION:.0%} of the lower of the two final plateaus (mean test "
                 f"accuracy over the last {PLATEAU_FRACTION:.0%} of record points): {_values(m.target)}; first "
                 f"record step reaching it without BN {', '.join(f'{v:,}' for v in steps_to[0])}, with BN "
                 f"{', '.join(f'{v:,}' for v in steps_to[1])}; N per seed {_values(ratio, 2)}, geometric mean "
                 f"{np.exp(np.log(ratio).mean()):.2f}× over {seeds} (resolution {m.record_every:,} steps). A curve "
                 f"that never reaches its target counts as the step budget + one record interval "
                 f"({m.never_reached:,}): {int(never[0].sum())} without BN, {int(never[1].sum())} with BN.",
        base=evidence_base)

    drift = m.unit_drift  # (2, S, 2)
    units = m.sigmoid_input.shape[-1]
    stable = finding(
        "bn-stable-inputs",
        "With Batch Normalization the distribution of the last hidden layer's sigmoid inputs is more stable during "
        "training (their median and their 15th–85th spread drift less)",
        effect="BN − baseline drift (max − min over training, median over the layer's units) of the median and of "
               "the 15–85 spread of each unit's input, mean over seeds (paired by seed); < 0: BN drifts less",
        direction="less",
        tests=[stats.paired(drift[1, :, 0], drift[0, :, 0], f"{m.label}: median"),
               stats.paired(drift[1, :, 1], drift[0, :, 1], f"{m.label}: 15–85 spread")],
        evidence=f"over all {units} units of the last hidden layer and {m.probe_size} test images, in inference mode "
                 f"(BN with its moving averages), per seed the median over units of each unit's drift: median drift "
                 f"with BN {_values(drift[1, :, 0], 3)} vs without {_values(drift[0, :, 0], 3)}; spread drift with BN "
                 f"{_values(drift[1, :, 1], 3)} vs without {_values(drift[0, :, 1], 3)} (sigmoid-input units). A "
                 f"finding, not a check: BN pins a unit's training-batch mean and std to β and γ, but β and γ are "
                 f"learned and free to move, and the probe is scored with moving averages on test images.",
        base=replace(evidence_base, examples=m.probe_size))
    return decide([accuracy, faster, stable])


# --- presentation --------------------------------------------------------------------------------------------


def present(config: Config, m: Measurements) -> Presentation:
    return Presentation(
        tables=[accuracy_table(config, m), speed_table(m), stability_table(m)],
        figures={"test_accuracy": accuracy_figure(config, m), "sigmoid_input": sigmoid_input_figure(config, m)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(m),
        captions={
            "test_accuracy": f"Test accuracy over training with and without BN (mean and min–max over {m.n_seeds} "
                             f"seeds), against the values read off the paper's Figure 1(a).",
            "sigmoid_input": f"The 15th, 50th and 85th percentiles over {m.probe_size} test images of the input to "
                             f"sigmoid {m.probe_unit} of the last hidden layer, without BN (b) and with BN (c).",
        })


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train Figure 1's networks (measure), decide the three findings (judge), draw the figure (present)."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))


def notes(config: Config, m: Measurements) -> list[str]:
    final_mean = m.final_accuracy.mean(axis=1)
    return [
        f"Data: {m.dataset} from {m.source}: {m.n_train:,} training and {m.n_test:,} test examples, "
        f"{'binarised at 0.5 (the paper feeds binary images)' if m.binarize else 'grey levels in [0, 1]'}.",
        f"Network {'-'.join(map(str, config.layer_sizes))} (the BN study's NormalizedMLP), sigmoid hidden units, "
        f"Gaussian initial weights with std {config.weight_std:g}, plain SGD with learning rate "
        f"{config.learning_rate:g}, mini-batches of {config.batch_size}, {config.steps:,} steps, softmax "
        f"cross-entropy. BN before each hidden sigmoid, hidden biases dropped; ε = {config.bn_epsilon:g}, "
        f"moving-average momentum {config.bn_momentum:g}.",
        f"All {2 * m.n_seeds} networks ({m.n_seeds} seeds × with/without BN) trained as one population in one "
        f"compiled graph: {m.steps_per_second:.0f} steps/s, {m.train_seconds:.1f} s of training "
        f"(+{m.compile_seconds:.1f} s compiling). Each seed has its own initial weights and its own batch order; a "
        f"seed's two networks start from the same weights and see the same mini-batches, so every claim is a "
        f"paired test over seeds.",
        f"Test accuracy and sigmoid inputs are measured in inference mode with the moving averages; after training, "
        f"Algorithm 2's population statistics over {m.population_batches} training mini-batches give "
        f"{m.final_accuracy_population.mean():.4f} (moving averages: {final_mean[1]:.4f}).",
    ]


def table_rows(m: Measurements) -> list[tuple[int, object]]:
    steps = [int(s) for s in m.steps]
    rows = [(steps.index(s), s) for s in TABLE_STEPS if s in steps and s != steps[-1]]
    return rows + [(len(steps) - 1, "end")]


def accuracy_table(config: Config, m: Measurements) -> Table:
    rows = []
    for index, key in table_rows(m):
        paper = PAPER_ACCURACY.get(key, (None, None))
        cells = [f"{m.accuracy[i, :, index].mean():.4f} ± {m.accuracy[i, :, index].std():.4f}" for i in (1, 0)]
        rows.append([int(m.steps[index]), cells[0], paper[0], cells[1], paper[1]])
    return Table("Test accuracy against Figure 1(a)",
                 ["step", "with BN (here)", "with BN (paper)", "without BN (here)", "without BN (paper)"], rows,
                 caption=f"Mean ± std over {m.n_seeds} seeds on {m.dataset} ({m.n_test:,} test examples); paper "
                         f"values read off its plot; its last row is step 50,000.")


def speed_table(m: Measurements) -> Table:
    steps_to = m.steps_to_target
    rows = [[s, float(m.plateau[0, s]), float(m.plateau[1, s]), float(m.target[s]), int(steps_to[0, s]),
             int(steps_to[1, s]), float(steps_to[0, s] / steps_to[1, s])] for s in range(m.n_seeds)]
    return Table(f"Steps to {TARGET_FRACTION:.0%} of the lower final plateau",
                 ["seed", "plateau without BN", "plateau with BN", "target", "steps without BN", "steps with BN", "N"],
                 rows, caption=f"Plateau: mean test accuracy over the last {PLATEAU_FRACTION:.0%} of record points; "
                               f"a curve that never reaches its target counts {m.never_reached:,} steps.")


def stability_table(m: Measurements) -> Table:
    drift = m.drift[:, :, :, m.probe_unit]  # (2, S, 2)
    rows = [[LABELS[model], s, *(float(v) for v in (m.unit_drift[i, s, 0], m.unit_drift[i, s, 1], drift[i, s, 0],
                                                    drift[i, s, 1]))]
            for i, model in enumerate(MODELS) for s in range(m.n_seeds)]
    return Table("Drift of the sigmoid's input over training",
                 ["network", "seed", "median drift (all units)", "spread drift (all units)",
                  f"median drift (unit {m.probe_unit})", f"spread drift (unit {m.probe_unit})"], rows,
                 caption="Drift = max − min over training; spread = 85th − 15th percentile over the probe images; "
                         "'all units' is the median over the last hidden layer's units.")


def accuracy_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(6, 4.2))
    ax = figure.subplots()
    steps = np.asarray(m.steps)
    for i, model in ((1, "bn"), (0, "baseline")):
        curves = m.accuracy[i]
        ax.plot(steps, curves.mean(axis=0), color=COLOURS[model], label=LABELS[model])
        ax.fill_between(steps, curves.min(axis=0), curves.max(axis=0), color=COLOURS[model], alpha=0.2)
    paper_steps = [s for s in (*TABLE_STEPS, PAPER_END_STEP) if s <= steps[-1]]
    for index, model in enumerate(("bn", "baseline")):
        values = [PAPER_ACCURACY["end" if s == PAPER_END_STEP else s][index] for s in paper_steps]
        ax.plot(paper_steps, values, "o", mfc="none", color=COLOURS[model], label=f"paper, {LABELS[model]}")
    ax.set_ylim(max(float(m.accuracy.min()), 0.7) - 0.01, 1.0)
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"(a) Test accuracy; mean and min–max over {m.n_seeds} seeds")
    ax.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    return figure


def sigmoid_input_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(10, 4))
    axes = figure.subplots(1, 2, sharey=True)
    steps = np.asarray(m.steps)
    for i, (ax, model, letter) in enumerate(zip(axes, MODELS, "bc")):
        series = m.sigmoid_input[i, :, :, :, m.probe_unit]  # (S, R, 3)
        for q_index, (q, style) in enumerate(zip(PERCENTILES, ("--", "-", "--"))):
            ax.plot(steps, series[:, :, q_index].mean(axis=0), style, color="k", lw=1.2, label=f"{q:.0f}th percentile")
            ax.fill_between(steps, series[:, :, q_index].min(axis=0), series[:, :, q_index].max(axis=0), color="k",
                            alpha=0.12)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(f"({letter}) {LABELS[model]}")
        ax.set_xlabel("training step")
    axes[0].set_ylabel(f"input to sigmoid {m.probe_unit} of the last hidden layer")
    axes[0].legend(fontsize=8)
    figure.suptitle(f"15th, 50th, 85th percentiles over {m.probe_size} test images (mean; band: min–max over seeds)")
    figure.tight_layout()
    return figure


def tensorboard_scalars(m: Measurements) -> dict:
    scalars: dict = {}
    steps = [int(s) for s in m.steps]
    for i, model in enumerate(MODELS):
        for seed in range(m.n_seeds):
            unit = m.sigmoid_input[i, seed, :, :, m.probe_unit]
            scalars[f"{model}/seed{seed}"] = {
                "accuracy/test": list(zip(steps, m.accuracy[i, seed].tolist())),
                "loss/train_batch": list(zip(steps, m.loss[i, seed].tolist())),
                **{f"sigmoid_input/p{q:.0f}": list(zip(steps, unit[:, k].tolist())) for k, q in enumerate(PERCENTILES)},
            }
    return scalars
