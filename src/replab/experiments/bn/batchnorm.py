"""Batch Normalization, Figure 1 of Ioffe & Szegedy (2015): an MNIST MLP with and without BN.

A 784-100-100-100-10 sigmoid network trained by plain SGD on mini-batches of 60, once as the paper's
baseline and once with BN on every hidden layer (z = g(BN(Wu)), the layer bias dropped: β replaces it).
Both networks, for every seed, are members of one population trained in ONE compiled graph (one
``nn.fit`` call): members 0..n−1 are baselines, members n..2n−1 the BN networks, member s and n+s
start from the same weights, and every member sees the same mini-batches in the same order because
the batch is drawn once per step and shared by all members.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn
from replab.claims import Claim, judge
from replab.data.mnist import Digits, load_digits
from replab.errors import check_positive_int, check_seed, require
from replab.experiments.base import Progress, Result, Table, no_progress

NAME = "batchnorm"
TITLE = "Batch Normalization on an MNIST MLP: Figure 1 of Ioffe & Szegedy (2015)"
QUESTION = ("Does Batch Normalization make a 3-hidden-layer sigmoid network on MNIST train faster and reach higher "
            "test accuracy, and does it keep the distribution of a sigmoid's input stable during training?")

MODELS = ("baseline", "bn")
LABELS = {"baseline": "without BN", "bn": "with BN"}
PERCENTILES = (15.0, 50.0, 85.0)
TABLE_STEPS = (5_000, 10_000, 20_000, 30_000)
# Figure 1(a) of the paper, read off the plot (shared/reference/batchnorm-paper.md): step -> (with BN, without BN).
PAPER_ACCURACY = {5_000: (0.956, 0.787), 10_000: (0.966, 0.926), 20_000: (0.974, 0.963),
                  30_000: (0.978, 0.968), "end": (0.982, 0.972)}
PAPER_END_STEP = 50_000


@dataclass(frozen=True)
class Config:
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
    probe_size: int = 1000
    """Test images over which the sigmoid-input percentiles are taken (the first probe_size of the test set)."""
    probe_unit: int = 0
    """Which sigmoid of the last hidden layer Figure 1(b, c) follows."""
    bn_momentum: float = 0.99
    bn_epsilon: float = 1e-3
    population_batches: int = 0
    """Training mini-batches for Algorithm 2's population statistics after training; 0: one full epoch."""
    seed: int = 0

    def __post_init__(self) -> None:
        check_seed(self.seed)
        require(self.dataset in ("mnist", "fashion-mnist"),
                f"dataset must be 'mnist' or 'fashion-mnist', got {self.dataset!r}")
        require(isinstance(self.binarize, bool), f"binarize must be true or false, got {self.binarize!r}")
        require(len(self.hidden) >= 1 and all(isinstance(w, int) and w >= 1 for w in self.hidden),
                f"hidden must list one or more positive layer widths, got {self.hidden}")
        require(0 < self.weight_std <= 10, f"weight_std must lie in (0, 10], got {self.weight_std}")
        require(0 < self.learning_rate < 100, f"learning_rate must lie in (0, 100), got {self.learning_rate}")
        check_positive_int("batch_size", self.batch_size, minimum=2)
        check_positive_int("steps", self.steps)
        check_positive_int("record_every", self.record_every)
        require(self.record_every <= self.steps, f"record_every ({self.record_every}) exceeds steps ({self.steps})")
        check_positive_int("n_seeds", self.n_seeds)
        check_positive_int("probe_size", self.probe_size, minimum=10)
        require(isinstance(self.probe_unit, int) and 0 <= self.probe_unit < self.hidden[-1],
                f"probe_unit must be a unit of the last hidden layer, 0 to {self.hidden[-1] - 1}, got {self.probe_unit}")
        require(0 <= self.bn_momentum < 1, f"bn_momentum must lie in [0, 1), got {self.bn_momentum}")
        require(0 < self.bn_epsilon < 1, f"bn_epsilon must lie in (0, 1), got {self.bn_epsilon}")
        check_positive_int("population_batches", self.population_batches, minimum=0)
        require(not self.data_dir or Path(self.data_dir).expanduser().exists(),
                f"data_dir {self.data_dir} does not exist; pass a folder holding the four IDX files or mnist.npz")

    @classmethod
    def quick(cls) -> "Config":
        return cls(steps=1500, record_every=250, n_seeds=2, probe_size=200, population_batches=20)

    @property
    def layer_sizes(self) -> list[int]:
        return [784, *self.hidden, 10]


# --- the network: state in a small class, maths in functions -------------------------------------------


class Network:
    """K = 2·n_seeds MLPs: weights (W, b) per layer, a BatchNorm per hidden layer, and which members use BN.

    Every member holds b, γ and β; the mask decides which are used (a baseline's γ, β and a BN net's
    hidden biases get zero gradients and never change).
    """

    def __init__(self, config: Config, bn_members: bool = True):
        n = config.n_seeds
        self.population = 2 * n
        seeds = [member_seed(config, s) for s in range(n)] * 2  # member s and n+s start from the same weights
        weights = nn.initializer("gaussian", std=config.weight_std)
        self.layers = nn.init_mlp(config.layer_sizes, population=self.population, seed=seeds,
                                  weight_init=weights, bias_init="zeros")
        self.norms = [nn.BatchNorm(self.population, width, config.bn_momentum, config.bn_epsilon, name=f"bn{i}")
                      for i, width in enumerate(config.hidden)]
        uses_bn = np.array([False] * n + [bn_members] * n)
        self.uses_bn = tf.constant(uses_bn.reshape(-1, 1, 1))

    @property
    def params(self) -> list[tf.Variable]:
        return [v for pair in self.layers for v in pair] + [v for norm in self.norms for v in norm.trainable]


def member_seed(config: Config, seed_index: int) -> int:
    return config.seed * 1000 + seed_index


def hidden_input(network: Network, layer: int, x, mode: str):
    """The input to layer `layer`'s sigmoids: Wu + b for baselines, BN(Wu) for BN members.

    mode "train" normalises with the batch's statistics (and updates the moving averages);
    "moving" or "population" with those inference statistics.
    """
    w, b = network.layers[layer]
    z = nn.dense(x, w)
    norm = network.norms[layer]
    normalised = norm(z, training=True) if mode == "train" else norm(z, training=False, statistics=mode)
    return tf.where(network.uses_bn, normalised, z + b)


def forward(network: Network, x, mode: str):
    """(logits (K, B, 10), input to the last hidden layer's sigmoids (K, B, F))."""
    pre = None
    for layer in range(len(network.norms)):
        pre = hidden_input(network, layer, x, mode)
        x = tf.sigmoid(pre)
    w, b = network.layers[-1]
    return nn.dense(x, w, b), pre


def batch_statistics(network: Network, x):
    """Per hidden layer, the (mean, biased variance) of BN's input over batch x in a training-mode pass,
    without touching the moving averages."""
    statistics = []
    for layer, norm in enumerate(network.norms):
        w, b = network.layers[layer]
        z = nn.dense(x, w)
        y, mean, variance = nn.batch_norm(z, norm.gamma, norm.beta, norm.epsilon)
        statistics.append((mean, variance))
        x = tf.sigmoid(tf.where(network.uses_bn, y, z + b))
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
    network = Network(config, bn_members)
    params = network.params
    x_test, y_test = tf.constant(digits.x_test), tf.constant(digits.y_test)
    probe = tf.constant(digits.x_test[: config.probe_size])

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(network, xb, "train")
        return nn.softmax_cross_entropy(logits, yb)

    @tf.function(jit_compile=True)
    def test_accuracy():
        return nn.accuracy(forward(network, x_test, "moving")[0], y_test)

    @tf.function(jit_compile=True)
    def sigmoid_input():
        return percentiles(forward(network, probe, "moving")[1])

    history = nn.fit(loss_fn, params, nn.SGD(params, config.learning_rate), digits.x_train, digits.y_train,
                     steps=config.steps, batch_size=config.batch_size, record_every=config.record_every,
                     metrics={"accuracy": test_accuracy, "sigmoid_input": sigmoid_input}, seed=config.seed)
    batches = set_population_statistics(config, network, digits.x_train)
    final_population = nn.accuracy(forward(network, x_test, "population")[0], y_test).numpy()
    return Training(history.steps, history.loss, history.metrics["accuracy"], history.metrics["sigmoid_input"],
                    final_population, history.diverged_at, history.steps_per_second,
                    history.wall_time - history.compile_time, history.compile_time, batches)


def set_population_statistics(config: Config, network: Network, x_train: np.ndarray) -> int:
    """Algorithm 2 after training: average the batch statistics of M training mini-batches (a fixed
    shuffle of the training set), with the m/(m−1) correction of the variance."""
    m = config.batch_size
    count = min(population_batch_count(config, len(x_train)), len(x_train) // m)
    order = np.random.default_rng(config.seed + 1).permutation(len(x_train))[: count * m]
    batches = tf.constant(x_train[order].reshape(count, m, -1))
    signature = [(tf.TensorSpec([network.population, 1, w], tf.float32),) * 2 for w in config.hidden]
    stacked = tf.function(lambda: tf.map_fn(lambda xb: batch_statistics(network, xb), batches,
                                            fn_output_signature=signature))()
    for norm, (means, variances) in zip(network.norms, stacked):
        norm.set_population_statistics(means, variances, m)
    return count


# --- the run ---------------------------------------------------------------------------------------------


def run(config: Config, progress: Progress = no_progress) -> Result:
    progress(0, 3, f"loading {config.dataset}")
    digits = load_digits(config.dataset, data_dir=config.data_dir or None, seed=config.seed, binarize=config.binarize)
    require(config.probe_size <= digits.n_test,
            f"probe_size ({config.probe_size}) exceeds the {digits.n_test} test examples")
    require(config.batch_size <= digits.n_train,
            f"batch_size ({config.batch_size}) exceeds the {digits.n_train} training examples")
    progress(1, 3, f"training {config.n_seeds} baseline + {config.n_seeds} BN networks for {config.steps:,} steps")
    training = train(config, digits)
    progress(2, 3, "judging claims")
    summary = summarize(config, digits, training)
    progress(3, 3, "done")
    return Result(
        metrics=summary,
        tables=[accuracy_table(config, summary), stability_table(summary)],
        figures={"test_accuracy": accuracy_figure(config, summary), "sigmoid_input": sigmoid_input_figure(config, summary)},
        claims=judge_claims(config, summary),
        notes=notes(config, summary),
        scalars=tensorboard_scalars(config, training),
    )


# --- measurements --------------------------------------------------------------------------------------------


def split_members(config: Config, values: np.ndarray, axis: int = -1) -> dict[str, np.ndarray]:
    """Member axis -> {'baseline': first n, 'bn': last n} (seeds in order)."""
    values = np.moveaxis(np.asarray(values), axis, -1)
    n = config.n_seeds
    return {"baseline": np.moveaxis(values[..., :n], -1, axis), "bn": np.moveaxis(values[..., n:], -1, axis)}


def drift(series: np.ndarray) -> dict[str, np.ndarray]:
    """For series (R, ...) over training: range (max − min) and total variation (sum of |steps|)."""
    return {"range": series.max(axis=0) - series.min(axis=0),
            "total_variation": np.abs(np.diff(series, axis=0)).sum(axis=0)}


def stability(sigmoid_input: np.ndarray, unit: int) -> dict:
    """Drift of the median and of the spread (85th − 15th) of sigmoid inputs; sigmoid_input (R, n, 3, F)."""
    median, spread = sigmoid_input[:, :, 1, :], sigmoid_input[:, :, 2, :] - sigmoid_input[:, :, 0, :]
    out = {}
    for name, series in (("median", median), ("spread", spread)):
        d = drift(series)  # (n, F)
        out[name] = {
            "range": d["range"][:, unit].tolist(), "range_mean": float(d["range"][:, unit].mean()),
            "total_variation": d["total_variation"][:, unit].tolist(),
            "total_variation_mean": float(d["total_variation"][:, unit].mean()),
            "range_all_units_median": float(np.median(d["range"])),
        }
    return out


def first_step_reaching(steps: np.ndarray, curve: np.ndarray, target: float) -> int | None:
    reached = np.flatnonzero(curve >= target)
    return int(steps[reached[0]]) if reached.size else None


def speedup(steps: np.ndarray, baseline: np.ndarray, bn: np.ndarray) -> dict:
    """BN's speed-up to the baseline's final accuracy, on mean-over-seed curves baseline, bn (R,)."""
    target = float(baseline[-1])
    baseline_steps, bn_steps = first_step_reaching(steps, baseline, target), first_step_reaching(steps, bn, target)
    factor = None if bn_steps is None else baseline_steps / bn_steps
    return {"target": target, "baseline_steps": baseline_steps, "bn_steps": bn_steps, "factor": factor}


def summarize(config: Config, digits: Digits, training: Training) -> dict:
    accuracy = split_members(config, training.accuracy)
    inputs = split_members(config, training.sigmoid_input, axis=1)
    final = {model: accuracy[model][-1] for model in MODELS}
    final_population = split_members(config, training.final_accuracy_population)
    difference = final["bn"] - final["baseline"]
    per_seed = [speedup(training.steps, accuracy["baseline"][:, s], accuracy["bn"][:, s]) for s in range(config.n_seeds)]
    summary = {
        "dataset": digits.dataset, "source": digits.source, "n_train": digits.n_train, "n_test": digits.n_test,
        "binarize": config.binarize, "weight_std": config.weight_std, "learning_rate": config.learning_rate,
        "steps": training.steps.tolist(),
        "accuracy": {model: accuracy[model].T.tolist() for model in MODELS},  # [seed][record]
        "sigmoid_input": {model: inputs[model][:, :, :, config.probe_unit].transpose(1, 0, 2).tolist()
                          for model in MODELS},  # [seed][record][15/50/85]
        "final_accuracy": {model: final[model].tolist() for model in MODELS},
        "final_accuracy_mean": {model: float(final[model].mean()) for model in MODELS},
        "final_accuracy_population_stats": final_population["bn"].tolist(),
        "final_accuracy_population_stats_mean": float(final_population["bn"].mean()),
        "accuracy_difference": difference.tolist(),
        "speedup": speedup(training.steps, accuracy["baseline"].mean(axis=1), accuracy["bn"].mean(axis=1)),
        "speedup_per_seed": [s["factor"] for s in per_seed],
        "stability": {model: stability(inputs[model], config.probe_unit) for model in MODELS},
        "diverged": {model: int((split_members(config, training.diverged_at)[model] >= 0).sum()) for model in MODELS},
        "steps_per_second": training.steps_per_second, "train_seconds": training.train_seconds,
        "compile_seconds": training.compile_seconds, "population_batches": training.population_batches,
    }
    return summary


def accuracy_verdict(difference: np.ndarray, n_test: int, final_bn: np.ndarray) -> tuple[bool | None, float]:
    """holds: BN better in every seed and the mean gain exceeds 2 standard errors; fails: not better on
    average; else inconclusive. The standard error is over seeds (or, for one seed, the binomial error of
    a difference of two test accuracies)."""
    mean = float(difference.mean())
    if len(difference) > 1:
        error = float(difference.std(ddof=1) / np.sqrt(len(difference)))
    else:
        p = float(final_bn.mean())
        error = float(np.sqrt(2 * p * (1 - p) / n_test))
    if mean <= 0:
        return False, error
    return (True if (difference > 0).all() and mean > 2 * error else None), error


def judge_claims(config: Config, summary: dict) -> list[Claim]:
    final = {model: np.asarray(summary["final_accuracy"][model]) for model in MODELS}
    difference = np.asarray(summary["accuracy_difference"])
    holds, error = accuracy_verdict(difference, summary["n_test"], final["bn"])
    seeds = f"{config.n_seeds} seed{'s' if config.n_seeds > 1 else ''}"
    claims = [judge(
        "bn-higher-accuracy",
        "The network with Batch Normalization reaches a higher final test accuracy than the same network without it",
        holds,
        f"after {config.steps:,} steps, test accuracy with BN {final['bn'].mean():.4f} (seeds: "
        f"{', '.join(f'{v:.4f}' for v in final['bn'])}; with Algorithm 2's population statistics "
        f"{summary['final_accuracy_population_stats_mean']:.4f}), without BN {final['baseline'].mean():.4f} "
        f"(seeds: {', '.join(f'{v:.4f}' for v in final['baseline'])}); BN − baseline per seed "
        f"{', '.join(f'{v:+.4f}' for v in difference)}, mean {difference.mean():+.4f} ± {error:.4f} (standard error) "
        f"over {seeds}; holds if BN is better in every seed by a mean above 2 standard errors, fails if not better "
        f"on average. Paper: 0.982 vs 0.972.")]

    s = summary["speedup"]
    factor = s["factor"]
    per_seed = ", ".join("never" if f is None else f"{f:.1f}×" for f in summary["speedup_per_seed"])
    if factor is None:
        evidence = f"the BN network's mean accuracy never reached the baseline's final {s['target']:.4f}"
    else:
        evidence = (f"the baseline (mean over {seeds}) first reaches its final accuracy {s['target']:.4f} at step "
                    f"{s['baseline_steps']:,}, the BN network at step {s['bn_steps']:,}: N = {factor:.1f}×")
    claims.append(judge(
        "bn-faster",
        "With Batch Normalization the network reaches the baseline's final accuracy in N× fewer steps (N > 1)",
        factor is not None and factor > 1,
        f"{evidence} (per seed: {per_seed}; resolution {config.record_every} steps; holds if N > 1).")
    )

    st = summary["stability"]
    median_smaller = st["bn"]["median"]["range_mean"] < st["baseline"]["median"]["range_mean"]
    spread_smaller = st["bn"]["spread"]["range_mean"] < st["baseline"]["spread"]["range_mean"]
    verdict = True if median_smaller and spread_smaller else (False if not (median_smaller or spread_smaller) else None)
    claims.append(judge(
        "bn-stable-inputs",
        "With Batch Normalization the distribution of a last-hidden-layer sigmoid's input is more stable during "
        "training (its median and its 15th–85th spread drift less)",
        verdict,
        f"unit {config.probe_unit}, over {config.probe_size} test images, max − min over training, mean over {seeds}: "
        f"median drift with BN {st['bn']['median']['range_mean']:.3f} vs without {st['baseline']['median']['range_mean']:.3f}; "
        f"spread (85th − 15th) drift with BN {st['bn']['spread']['range_mean']:.3f} vs without "
        f"{st['baseline']['spread']['range_mean']:.3f}; total variation of the median "
        f"{st['bn']['median']['total_variation_mean']:.3f} vs {st['baseline']['median']['total_variation_mean']:.3f}; "
        f"median over all {config.hidden[-1]} units of the median drift {st['bn']['median']['range_all_units_median']:.3f} "
        f"vs {st['baseline']['median']['range_all_units_median']:.3f}. Holds if BN drifts less on both, fails if on "
        f"neither, else inconclusive."))
    return claims


def notes(config: Config, summary: dict) -> list[str]:
    return [
        f"Data: {summary['dataset']} from {summary['source']}: {summary['n_train']:,} training and "
        f"{summary['n_test']:,} test examples, {'binarised at 0.5 (the paper feeds binary images)' if config.binarize else 'grey levels in [0, 1]'}.",
        f"Network {'-'.join(map(str, config.layer_sizes))}, sigmoid hidden units, Gaussian initial weights with std "
        f"{config.weight_std:g}, plain SGD with learning rate {config.learning_rate:g}, mini-batches of {config.batch_size}, "
        f"{config.steps:,} steps, softmax cross-entropy. BN before each hidden sigmoid, hidden biases dropped; "
        f"ε = {config.bn_epsilon:g}, moving-average momentum {config.bn_momentum:g}.",
        f"All {2 * config.n_seeds} networks ({config.n_seeds} seeds × with/without BN) trained as one population in one "
        f"compiled graph: {summary['steps_per_second']:.0f} steps/s, {summary['train_seconds']:.1f} s of training "
        f"(+{summary['compile_seconds']:.1f} s compiling). Each seed's two networks start from the same weights and "
        f"see the same mini-batches.",
        f"Test accuracy and sigmoid inputs are measured in inference mode with the moving averages; after training, "
        f"Algorithm 2's population statistics over {summary['population_batches']} training mini-batches give "
        f"{summary['final_accuracy_population_stats_mean']:.4f} (moving averages: {summary['final_accuracy_mean']['bn']:.4f}).",
    ]


# --- tables and figures ----------------------------------------------------------------------------------


def table_rows(config: Config, summary: dict) -> list[tuple[int, object]]:
    steps = summary["steps"]
    rows = [(steps.index(s), s) for s in TABLE_STEPS if s in steps and s != steps[-1]]
    return rows + [(len(steps) - 1, "end")]


def accuracy_table(config: Config, summary: dict) -> Table:
    accuracy = {model: np.asarray(summary["accuracy"][model]) for model in MODELS}  # (seeds, R)
    rows = []
    for index, key in table_rows(config, summary):
        paper = PAPER_ACCURACY.get(key, (None, None))
        step = summary["steps"][index]
        cells = [f"{accuracy[m][:, index].mean():.4f} ± {accuracy[m][:, index].std():.4f}" for m in ("bn", "baseline")]
        rows.append([step, cells[0], paper[0], cells[1], paper[1]])
    return Table("Test accuracy against Figure 1(a)",
                 ["step", "with BN (here)", "with BN (paper)", "without BN (here)", "without BN (paper)"], rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds on {summary['dataset']} ({summary['n_test']:,} test "
                         f"examples); paper values read off its plot; its last row is step 50,000.")


def stability_table(summary: dict) -> Table:
    rows = []
    for model in MODELS:
        st = summary["stability"][model]
        rows.append([LABELS[model], st["median"]["range_mean"], st["median"]["total_variation_mean"],
                     st["spread"]["range_mean"], st["spread"]["total_variation_mean"],
                     st["median"]["range_all_units_median"]])
    return Table("Drift of the sigmoid's input over training",
                 ["network", "median: max − min", "median: total variation", "spread: max − min",
                  "spread: total variation", "median drift, all units (median)"], rows,
                 caption="Spread = 85th − 15th percentile over the probe images; mean over seeds for the probed unit.")


def accuracy_figure(config: Config, summary: dict) -> Figure:
    figure = Figure(figsize=(6, 4.2))
    ax = figure.subplots()
    steps = np.asarray(summary["steps"])
    for model, colour in (("bn", "C3"), ("baseline", "C0")):
        curves = np.asarray(summary["accuracy"][model])
        ax.plot(steps, curves.mean(axis=0), color=colour, label=LABELS[model])
        ax.fill_between(steps, curves.min(axis=0), curves.max(axis=0), color=colour, alpha=0.2)
    paper_steps = [s for s in (*TABLE_STEPS, PAPER_END_STEP) if s <= steps[-1]]
    for index, (model, colour) in enumerate((("bn", "C3"), ("baseline", "C0"))):
        values = [PAPER_ACCURACY["end" if s == PAPER_END_STEP else s][index] for s in paper_steps]
        ax.plot(paper_steps, values, "o", mfc="none", color=colour, label=f"paper, {LABELS[model]}")
    low = min(np.asarray(summary["accuracy"][m]).min() for m in MODELS)
    ax.set_ylim(max(low, 0.7) - 0.01, 1.0)
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"(a) Test accuracy; mean and min–max over {config.n_seeds} seeds")
    ax.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    return figure


def sigmoid_input_figure(config: Config, summary: dict) -> Figure:
    figure = Figure(figsize=(10, 4))
    axes = figure.subplots(1, 2, sharey=True)
    steps = np.asarray(summary["steps"])
    for ax, model, letter in zip(axes, MODELS, "bc"):
        series = np.asarray(summary["sigmoid_input"][model])  # (seeds, R, 3)
        for i, (q, style) in enumerate(zip(PERCENTILES, ("--", "-", "--"))):
            ax.plot(steps, series[:, :, i].mean(axis=0), style, color="k", lw=1.2, label=f"{q:.0f}th percentile")
            ax.fill_between(steps, series[:, :, i].min(axis=0), series[:, :, i].max(axis=0), color="k", alpha=0.12)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(f"({letter}) {LABELS[model]}")
        ax.set_xlabel("training step")
    axes[0].set_ylabel(f"input to sigmoid {config.probe_unit} of the last hidden layer")
    axes[0].legend(fontsize=8)
    figure.suptitle(f"15th, 50th, 85th percentiles over {config.probe_size} test images (mean; band: min–max over seeds)")
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, training: Training) -> dict:
    scalars: dict = {}
    steps = training.steps.tolist()
    for k in range(2 * config.n_seeds):
        model, seed = MODELS[k // config.n_seeds], k % config.n_seeds
        unit = training.sigmoid_input[:, k, :, config.probe_unit]
        scalars[f"{model}/seed{seed}"] = {
            "accuracy/test": list(zip(steps, training.accuracy[:, k].tolist())),
            "loss/train_batch": list(zip(steps, training.loss[:, k].tolist())),
            **{f"sigmoid_input/p{q:.0f}": list(zip(steps, unit[:, i].tolist())) for i, q in enumerate(PERCENTILES)},
        }
    return scalars
