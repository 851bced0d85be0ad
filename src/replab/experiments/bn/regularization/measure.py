"""bn-regularization's measurements: the trained populations, the gaps, batch noise and batch-size runs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.regularization.config import Config
from replab.nn.losses import accuracy, softmax_cross_entropy
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS


def cells(config: Config) -> list[Member]:
    """Model-major: every Dropout rate without BN, then every rate with BN; then BN without Dropout once per rate
    of bn_learning_rates."""
    return [Member(model, weight_std=config.weight_std, dropout=rate)
            for model in MODELS for rate in config.dropout_rates] + [
        Member("batch", weight_std=config.weight_std) for _ in config.bn_learning_rates]


def cell_rates(config: Config) -> list[float]:
    return [config.learning_rate] * (len(MODELS) * len(config.dropout_rates)) + list(config.bn_learning_rates)


def bn_rate_indices(config: Config, rate_index: int) -> list[int]:
    """Members of BN without Dropout at (learning_rate, *bn_learning_rates)[rate_index]."""
    if rate_index == 0:
        return member_indices(config, "batch", 0)
    cell = len(MODELS) * len(config.dropout_rates) + rate_index - 1
    return [cell * config.n_seeds + s for s in range(config.n_seeds)]


def batch_plan(config: Config, m: int, scaled: bool | None = None) -> tuple[int, float, int]:
    """(steps, learning rate, record interval) at batch size m: the same examples seen as `steps` at `batch_size`;
    the rate scaled with m (scaled, default: config.scale_learning_rate) or fixed."""
    scaled = config.scale_learning_rate if scaled is None else scaled
    rate = config.learning_rate * m / config.batch_size if scaled else config.learning_rate
    steps = config.steps * config.batch_size // m
    return steps, rate, min(steps, max(1, round(config.record_every * config.batch_size / m)))


def member_indices(config: Config, model: str, rate_index: int) -> list[int]:
    cell = MODELS.index(model) * len(config.dropout_rates) + rate_index
    return [cell * config.n_seeds + s for s in range(config.n_seeds)]




# --- measurements ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """One cell (a network at one Dropout rate or batch size) over its seeds."""

    test_accuracy: np.ndarray   # (seeds,) whole test set
    train_accuracy: np.ndarray  # (seeds,) first train_eval_size training images
    test_loss: np.ndarray
    train_loss: np.ndarray
    diverged_seeds: int
    test_curves: np.ndarray     # (seeds, records) on eval_size test images
    train_curves: np.ndarray    # (seeds, records) on eval_size training images
    train_loss_curves: np.ndarray | None = None
    """(seeds, records) cross-entropy on the same training images; the gaps are matched on it."""

    @property
    def gap(self) -> np.ndarray:
        return self.train_accuracy - self.test_accuracy

    @property
    def loss_gap(self) -> np.ndarray:
        return self.test_loss - self.train_loss


@dataclass(frozen=True)
class Matched:
    """Per seed, both networks' accuracy gap where their training loss first falls to the same level."""

    level: np.ndarray  # (seeds,) training cross-entropy
    none: np.ndarray   # gap without BN
    batch: np.ndarray  # gap with BN

    @property
    def narrowing(self) -> np.ndarray:
        return self.none - self.batch


@dataclass(frozen=True)
class Noise:
    """Per seed, how a BN network's outputs vary over random partitions of the pool into mini-batches of m."""

    logit_std: np.ndarray
    probability_std: np.ndarray
    flip_rate: np.ndarray


@dataclass(frozen=True)
class BatchRun:
    """Both networks (no Dropout) trained at one batch size with the same examples seen."""

    batch_size: int
    steps: int
    learning_rate: float
    record_steps: np.ndarray
    none: Scores
    batch: Scores
    noise: Noise
    """The BN network's batch noise at its own batch size."""
    matched: Matched
    scaled: bool = True
    """Whether the learning rate was scaled with the batch size (false: the same rate at every batch size)."""


@dataclass(frozen=True)
class Tuned:
    """bn-matches-dropout's two sides, each chosen on held-out training images: BN without Dropout at its best
    learning rate, the network without BN at its best Dropout rate (at learning_rate)."""

    bn_rate: float
    bn_validation: np.ndarray       # (BN rates, seeds) validation accuracy
    bn: Scores
    dropout_rate: float
    none_validation: np.ndarray     # (Dropout rates, seeds)
    none: Scores
    validation_images: int


@dataclass(frozen=True)
class Dataset(study.NamedByInfo):
    info: study.DatasetInfo
    steps: np.ndarray                 # record points of the main population
    none: tuple[Scores, ...]          # per Dropout rate
    batch: tuple[Scores, ...]
    matched: Matched                  # no Dropout, batch_size
    noise_sizes: tuple[int, ...]
    noise: tuple[Noise, ...]          # per noise batch size
    batch_runs: tuple[BatchRun, ...]  # per batch size
    other_rule_runs: tuple[BatchRun, ...] = ()
    """Per batch size, under the other learning-rate rule (both_rate_rules)."""
    tuned: Tuned | None = None
    record_times: np.ndarray = field(default_factory=study.no_times, metadata=base.WHEN_MEASURED)
    """Wall time of each record point of the main population, for TensorBoard."""

    def rates(self, model: str) -> tuple[Scores, ...]:
        return getattr(self, model)

    def best_rate_index(self, model: str) -> int:
        """The Dropout rate with the highest mean test accuracy (the lower rate on a tie)."""
        return int(np.argmax([np.mean(r.test_accuracy) for r in self.rates(model)]))

    def noise_by_size(self, measure: str = "logit_std") -> np.ndarray:
        """(noise batch sizes, seeds)."""
        return np.array([getattr(n, measure) for n in self.noise])


@dataclass(frozen=True)
class Measurements(base.Measurements):
    datasets: tuple[Dataset, ...]
    skip_notes: tuple[str, ...] = ()


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train every cell on every available dataset, measure the batch noise and the batch-size runs."""
    datasets, skip_notes = study.load_datasets(config)
    datasets = [training_subset(digits, config.max_train) for digits in datasets]
    for digits in datasets:
        require(max(config.batch_sizes) <= digits.n_train and config.noise_pool <= digits.n_train,
                f"noise_pool ({config.noise_pool}) and the largest batch size ({max(config.batch_sizes)}) must not "
                f"exceed the {digits.n_train:,} training images of {digits.dataset}")
    results = study.per_dataset(config, datasets, measure_dataset, progress,
                                f"{len(cells(config))} cells × {config.n_seeds} seeds, then batch sizes "
                                f"{', '.join(map(str, config.batch_sizes))}")
    progress(len(datasets), len(datasets), "done")
    return Measurements(tuple(results), tuple(skip_notes))


def measure_dataset(config: Config, digits: Digits) -> Dataset:
    """One dataset: the dropout × BN cells, the batch noise of the trained BN network, and the batch-size runs."""
    digits, x_val, y_val = split_validation(digits, config.validation_size)
    main = study.train_cells(config, digits, cells(config), learning_rates=cell_rates(config),
                             extra_metrics=train_accuracy_metric(config))
    noise = batch_noise(main.net, member_indices(config, "batch", 0), digits, config.noise_batch_sizes, config)
    runs, others, extra = [], [], []
    for m in config.batch_sizes:
        run_m, trained = batch_size_run(config, digits, m, main)
        runs.append(run_m)
        extra += [trained] if trained is not main else []
        if config.both_rate_rules:
            run_o, trained = batch_size_run(config, digits, m, main, scaled=not config.scale_learning_rate)
            others.append(run_o)
            extra += [trained] if trained is not main else []
    info = study.dataset_info(config, digits, main, *extra)
    none = tuple(final_scores(main, member_indices(config, "none", r)) for r in range(len(config.dropout_rates)))
    batch = tuple(final_scores(main, member_indices(config, "batch", r)) for r in range(len(config.dropout_rates)))
    return Dataset(info, main.steps.copy(), none, batch, matched_gaps(none[0], batch[0]),
                   tuple(config.noise_batch_sizes), tuple(noise[m] for m in config.noise_batch_sizes),
                   tuple(runs), tuple(others), tuned_sides(config, main, x_val, y_val), main.record_times)


def split_validation(digits: Digits, size: int):
    """The digits without their last `size` training images (at most a fifth), and those images and labels."""
    size = min(size, digits.n_train // 5)
    keep = digits.n_train - size
    return (dataclasses.replace(digits, x_train=digits.x_train[:keep], y_train=digits.y_train[:keep]),
            digits.x_train[keep:], digits.y_train[keep:])


def tuned_sides(config: Config, main: study.Trained, x_val, y_val) -> Tuned:
    """BN's best rate and the baseline's best Dropout rate, both by mean validation accuracy."""
    validation, _ = study.evaluate(main.net, x_val, y_val)
    rates = (config.learning_rate, *config.bn_learning_rates)
    bn_val = np.array([validation[bn_rate_indices(config, r)] for r in range(len(rates))], float)
    none_val = np.array([validation[member_indices(config, "none", r)] for r in range(len(config.dropout_rates))],
                        float)
    diverged = np.array([(main.diverged_at[bn_rate_indices(config, r)] >= 0).any() for r in range(len(rates))])
    bn_best = int(np.argmax(np.where(~diverged, bn_val.mean(axis=1), -np.inf))) if (~diverged).any() else 0
    none_best = int(np.argmax(none_val.mean(axis=1)))
    return Tuned(float(rates[bn_best]), bn_val, final_scores(main, bn_rate_indices(config, bn_best)),
                 float(config.dropout_rates[none_best]), none_val,
                 final_scores(main, member_indices(config, "none", none_best)), len(y_val))


def training_subset(digits: Digits, max_train: int) -> Digits:
    if not max_train or digits.n_train <= max_train:
        return digits
    return dataclasses.replace(digits, x_train=digits.x_train[:max_train], y_train=digits.y_train[:max_train])


def train_accuracy_metric(config: Config) -> study.MetricsFactory:
    """Accuracy on the first eval_size training images (inference mode) at every record point: the gap over time."""

    def factory(net: NormalizedMLP, digits: Digits) -> dict:
        x = tf.constant(digits.x_train[: config.eval_size])
        y = tf.constant(digits.y_train[: config.eval_size].astype(np.int64))

        @tf.function
        def train_accuracy():
            return accuracy(forward(net, x, training=False)[0], y)

        @tf.function
        def train_loss():
            return softmax_cross_entropy(forward(net, x, training=False)[0], y)

        return {"train_accuracy": train_accuracy, "train_loss": train_loss}

    return factory


def subpopulation(net: NormalizedMLP, members: list[int]) -> NormalizedMLP:
    """A population of the given members only, with their trained weights and moving averages."""
    sub = NormalizedMLP(net.layer_sizes, [net.members[k] for k in members], list(range(len(members))), net.options)
    index = tf.constant(members)
    for target, source in zip(state_of(sub), state_of(net)):
        target.assign(tf.gather(source, index))
    return sub


def state_of(net: NormalizedMLP) -> list[tf.Variable]:
    return net.params + net.moving_means + net.moving_variances


def batch_logits_function(net: NormalizedMLP):
    """x (G, m, 784) -> logits (G, K, m, 10) of G separate mini-batches, each normalised with its own statistics,
    compiled once for every G and m."""

    # Not tf.vectorized_map: it crashes the process on the slices of variables that members without BN use.
    @tf.function(input_signature=[tf.TensorSpec([None, None, net.layer_sizes[0]], tf.float32)])
    def batch_logits(x_batches):
        return tf.map_fn(lambda batch: forward(net, batch, training=True, update_averages=False, stochastic=False)[0],
                         x_batches, parallel_iterations=16)

    return batch_logits


def batch_noise(net: NormalizedMLP, members: list[int], digits: Digits, sizes, config: Config) -> dict:
    """For each mini-batch size m in `sizes`: how the outputs of the pool's examples vary over random partitions of
    the pool into mini-batches of m."""
    batch_logits = batch_logits_function(subpopulation(net, members))
    pool = digits.x_train[: config.noise_pool]
    noise = {}
    for m in sizes:
        rng = np.random.default_rng([config.seed, m])
        logits = np.empty((config.noise_draws, len(pool), len(members), int(net.layer_sizes[-1])), np.float32)
        for draw in range(config.noise_draws):
            order = rng.permutation(len(pool))
            out = batch_logits(tf.constant(pool[order].reshape(-1, m, pool.shape[1]))).numpy()  # (G, K, m, C)
            logits[draw, order] = np.moveaxis(out, 1, 2).reshape(len(pool), len(members), -1)
        noise[m] = noise_statistics(logits)
    return noise


def noise_statistics(logits: np.ndarray) -> Noise:
    """From logits (draws, examples, members, classes), per member: the std over draws of a logit (mean over
    examples and classes), of the probability of the example's majority class, and how often the predicted class
    is not the majority class."""
    predicted = logits.argmax(-1)  # (D, N, K)
    votes = (predicted[..., None] == np.arange(logits.shape[-1])).sum(axis=0)  # (N, K, C)
    majority = votes.argmax(-1)  # (N, K)
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    probability = shifted / shifted.sum(-1, keepdims=True)
    index = np.broadcast_to(majority[None, ..., None], (*predicted.shape, 1))
    usual = np.take_along_axis(probability, index, -1)[..., 0]  # (D, N, K)
    return Noise(logit_std=logits.std(axis=0, ddof=1).mean(axis=(0, 2)).astype(float),
                 probability_std=usual.std(axis=0, ddof=1).mean(axis=0).astype(float),
                 flip_rate=(predicted != majority[None]).mean(axis=(0, 1)).astype(float))


def batch_size_run(config: Config, digits: Digits, m: int, main: study.Trained,
                   scaled: bool | None = None) -> tuple[BatchRun, study.Trained]:
    """Both networks (no Dropout) trained at batch size m, and the BN network's noise at m; the population they
    belong to (the main one at batch_size)."""
    scaled = config.scale_learning_rate if scaled is None else scaled
    steps, rate, record_every = batch_plan(config, m, scaled)
    if m == config.batch_size:
        trained, rows = main, [member_indices(config, model, 0) for model in MODELS]
    else:
        trained = study.train_cells(config, digits, [Member(model, weight_std=config.weight_std) for model in MODELS],
                                    learning_rates=[rate] * len(MODELS), batch_size=m, steps=steps,
                                    record_every=record_every,
                                    extra_metrics=train_accuracy_metric(config))
        rows = [[c * config.n_seeds + s for s in range(config.n_seeds)] for c in range(len(MODELS))]
    none, batch = (final_scores(trained, members) for members in rows)
    noise = batch_noise(trained.net, rows[MODELS.index("batch")], digits, [m], config)[m]
    return BatchRun(m, steps, float(rate), trained.steps.copy(), none, batch, noise, matched_gaps(none, batch),
                    scaled), trained


def final_scores(trained: study.Trained, members: list[int]) -> Scores:
    """Final accuracies and losses per seed, and each seed's accuracy curves (seeds × record points)."""
    return Scores(test_accuracy=trained.test_accuracy[members].astype(float),
                  train_accuracy=trained.train_accuracy[members].astype(float),
                  test_loss=trained.test_loss[members].astype(float),
                  train_loss=trained.train_loss[members].astype(float),
                  diverged_seeds=int((trained.diverged_at[members] >= 0).sum()),
                  test_curves=trained.accuracy[:, members].T.astype(float),
                  train_curves=trained.metrics["train_accuracy"][:, members].T.astype(float),
                  train_loss_curves=trained.metrics["train_loss"][:, members].T.astype(float))


def accuracy_at_training_level(train_curve, test_curve, level: float) -> float:
    """Test accuracy when the training accuracy first reaches `level`, linear between record points."""
    train_curve, test_curve = np.asarray(train_curve, float), np.asarray(test_curve, float)
    i = int(np.argmax(train_curve >= level))
    if i == 0 or train_curve[i] == train_curve[i - 1]:
        return float(test_curve[i])
    weight = (level - train_curve[i - 1]) / (train_curve[i] - train_curve[i - 1])
    return float(test_curve[i - 1] + weight * (test_curve[i] - test_curve[i - 1]))


def value_at_loss_level(loss_curve, value_curve, level: float) -> float:
    """value_curve where loss_curve first falls to `level`, linear between record points."""
    loss_curve, value_curve = np.asarray(loss_curve, float), np.asarray(value_curve, float)
    i = int(np.argmax(loss_curve <= level))
    if i == 0 or loss_curve[i] == loss_curve[i - 1]:
        return float(value_curve[i])
    weight = (loss_curve[i - 1] - level) / (loss_curve[i - 1] - loss_curve[i])
    return float(value_curve[i - 1] + weight * (value_curve[i] - value_curve[i - 1]))


def matched_gaps(plain: Scores, bn: Scores) -> Matched:
    """Per seed, both networks' accuracy gap (train − test, interpolated) when their training loss first falls to
    the same level: the lowest level both reach (curves on eval_size training and test images). Matching on the loss
    rather than the accuracy keeps the comparison away from 100% training accuracy, where accuracy stops moving but
    the fit goes on."""
    levels, gaps = [], {"none": [], "batch": []}
    for seed in range(len(plain.train_curves)):
        level = float(max(np.nanmin(plain.train_loss_curves[seed]), np.nanmin(bn.train_loss_curves[seed])))
        levels.append(level)
        for model, scores in (("none", plain), ("batch", bn)):
            loss = np.where(np.isfinite(scores.train_loss_curves[seed]), scores.train_loss_curves[seed], np.inf)
            train = value_at_loss_level(loss, scores.train_curves[seed], level)
            test = value_at_loss_level(loss, scores.test_curves[seed], level)
            gaps[model].append(train - test)
    return Matched(np.asarray(levels), np.asarray(gaps["none"]), np.asarray(gaps["batch"]))
