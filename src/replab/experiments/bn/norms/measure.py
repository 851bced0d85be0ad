"""norms' measurements: every normalisation trained as one population per dataset at every rate of the grid, each
judged at its own best rate chosen on held-out training images, and the time per step of each kind
(the experiment: norms/__init__.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from replab.data.mnist import Digits
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.figure1.measure import first_step_reaching
from replab.experiments.bn.norms.config import Config
from replab.nn.losses import softmax_cross_entropy
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward
from replab.nn.optim import SGD
from replab.nn.train import StepLoop


def cells(config: Config) -> tuple[list[Member], list[float]]:
    """Kind-major, rate-minor: cell k·rates + r is kind k at learning rate r (each kind one contiguous block)."""
    members = [Member(kind, weight_std=config.weight_std) for kind in config.kinds for _ in config.learning_rates]
    return members, [float(r) for kind in config.kinds for r in config.learning_rates]


# --- measurements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindResult:
    """One normalisation on one dataset, over its seeds."""

    final_accuracy: np.ndarray   # (seeds,) whole test set
    curves: np.ndarray           # (seeds, records) on the first eval_size test images
    train_accuracy: np.ndarray   # (seeds,)
    diverged_at: np.ndarray      # (seeds,) step or −1
    steps_to_target: int | None
    """The first record step where the seed-mean curve reaches the dataset's target accuracy (None: never)."""
    learning_rate: float = 0.0
    """The kind's own best rate (highest mean validation accuracy), at which every field above is measured."""
    validation_by_rate: np.ndarray = None  # type: ignore[assignment]
    """(rates, seeds) final validation accuracy at every rate of the grid."""

    @property
    def curve_mean(self) -> np.ndarray:
        """Per seed: accuracy averaged over the record points (how fast it trains)."""
        return self.curves.mean(axis=1)

    @property
    def final_accuracy_mean(self) -> float:
        return float(self.final_accuracy.mean())


@dataclass(frozen=True)
class DatasetResult(study.NamedByInfo):
    info: study.DatasetInfo
    steps: np.ndarray
    kinds: dict[str, KindResult]
    best_mean_accuracy: float
    target_accuracy: float
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=base.WHEN_MEASURED)  # (R,) wall times


@dataclass(frozen=True)
class Timing:
    dataset: str
    steps: int
    rounds: int
    networks: int
    ms_per_step: dict[str, float]
    ratio_to_none: dict[str, float]


@dataclass(frozen=True)
class Measurements(base.Measurements):
    datasets: tuple[DatasetResult, ...]
    timing: Timing
    skip_notes: tuple[str, ...] = ()


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train every kind on every available dataset as one population, then time one kind at a time."""
    datasets, skip_notes = study.load_datasets(config)
    total = len(datasets) + 1
    results = study.per_dataset(config, datasets, train_and_summarize, progress,
                                f"{len(config.kinds)} normalisations × {config.n_seeds} seeds")
    progress(len(datasets), total, "time per step, one normalisation at a time")
    timing = measure_times(config, datasets[0])  # here, not on a cluster: the times compare kinds on one machine
    progress(total, total, "done")
    return Measurements(tuple(results), timing, tuple(skip_notes))


def train_and_summarize(config: Config, digits: Digits) -> DatasetResult:
    train, x_val, y_val = split_validation(digits, config.validation_size)
    members, rates = cells(config)
    trained = study.train_cells(config, train, members, learning_rates=rates, options=config.options)
    validation, _ = study.evaluate(trained.net, x_val, y_val)
    return summarize(config, train, trained, validation)


def split_validation(digits: Digits, size: int):
    """The digits without their last `size` training images (at most a fifth), and those images and labels."""
    size = min(size, digits.n_train // 5)
    keep = digits.n_train - size
    return (dataclasses.replace(digits, x_train=digits.x_train[:keep], y_train=digits.y_train[:keep]),
            digits.x_train[keep:], digits.y_train[keep:])


def best_rate(validation: np.ndarray, diverged: np.ndarray) -> int:
    """Of (rates, seeds): the rate with the highest mean validation accuracy among rates where no seed diverged
    (all rates if every one has a diverged seed)."""
    ok = ~(diverged >= 0).any(axis=-1)
    means = validation.mean(axis=-1)
    return int(np.argmax(np.where(ok, means, -np.inf) if ok.any() else means))


def summarize(config: Config, digits: Digits, trained: study.Trained, validation: np.ndarray) -> DatasetResult:
    n, r = config.n_seeds, len(config.learning_rates)
    shape = (len(config.kinds), r, n)
    final = study.per_cell(trained.test_accuracy, n).astype(float).reshape(shape)          # (kinds, rates, seeds)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1).astype(float).reshape(*shape, -1)
    train = study.per_cell(trained.train_accuracy, n).astype(float).reshape(shape)
    diverged = study.per_cell(trained.diverged_at, n).reshape(shape)
    val = study.per_cell(validation, n).astype(float).reshape(shape)
    chosen = [best_rate(val[c], diverged[c]) for c in range(len(config.kinds))]
    steps = np.asarray(trained.steps)
    best = float(max(final[c, chosen[c]].mean() for c in range(len(config.kinds))))
    target = best - config.target_within
    kinds = {kind: KindResult(final[c, b], curves[c, b], train[c, b], diverged[c, b],
                              first_step_reaching(steps, curves[c, b].mean(axis=0), target),
                              float(config.learning_rates[b]), val[c])
             for c, (kind, b) in enumerate(zip(config.kinds, chosen))}
    return DatasetResult(study.dataset_info(config, digits, trained), steps, kinds, best, target, trained.record_times)


def step_loop(config: Config, digits: Digits, kind: str) -> StepLoop:
    """nn.fit's own step loop for n_seeds networks of one kind, compiled once, to time in bursts."""
    n = config.n_seeds
    net = NormalizedMLP(config.layer_sizes, [Member(kind, weight_std=config.weight_std)] * n,
                        [study.member_seed(config, s) for s in range(n)], config.options)
    params = net.params

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, xb, training=True, step=step, seed=config.seed)
        return softmax_cross_entropy(logits, yb)

    return StepLoop(loss_fn, params, SGD(params, np.full(n, config.learning_rate, np.float32)), digits.x_train,
                    digits.y_train, batch_size=config.batch_size, seed=config.seed)


def measure_times(config: Config, digits: Digits) -> Timing:
    """ms per step for each kind and its ratio to no normalisation; the network's shapes, not the data, set it.

    The kinds take turns, burst after burst, so a change in the machine's load falls on all of them alike; each
    kind's time is its median burst.
    """
    loops = {kind: step_loop(config, digits, kind) for kind in config.kinds}
    seconds = {kind: [] for kind in config.kinds}
    for _ in range(config.timing_rounds):
        for kind, loop in loops.items():
            seconds[kind].append(loop.run(config.timing_steps))
    ms = {kind: 1000.0 * float(np.median(s)) / config.timing_steps for kind, s in seconds.items()}
    return Timing(digits.dataset, config.timing_steps, config.timing_rounds, config.n_seeds, ms,
                  {kind: ms[kind] / ms["none"] for kind in config.kinds})

