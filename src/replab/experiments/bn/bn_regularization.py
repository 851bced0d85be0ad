"""BN study 4, regularisation: does Batch Normalization narrow the train/test gap and make Dropout unnecessary (§3.4)?

Three measurements per dataset:

- Train/test gap. Figure 1's network without and with BN, each with Dropout rates 0, 0.2 and 0.5 on its hidden
  units, on every training image by default (the issue asks for full Fashion-MNIST; `max_train` caps it). Gap = training accuracy − test
  accuracy, both in inference mode; also the loss gap. BN fits faster, and a network that has fitted further has a
  larger gap whatever its regularisation, so BN's gap is judged where both networks first reach the same training
  accuracy (read off the accuracy curves), not only at the end.
- Batch noise. §3.4: with BN a training example's output depends on the rest of its mini-batch. For the trained BN
  networks (no Dropout), each draw partitions a pool of training images at random into mini-batches of size m, as an
  epoch of training does, and runs every mini-batch in training mode (batch statistics, Dropout off, moving averages
  untouched). How much an example's logits, its probability of its usual class and its predicted class vary over
  the draws is the noise BN injects, measured for several m.
- Mini-batch size. Both networks (no Dropout) trained at several batch sizes with the same number of examples seen
  and, by default, the learning rate scaled with the batch so that SGD's own noise scale (rate/batch) stays the same;
  the network without BN is the control for everything that is not BN.

All cells × seeds of one batch size form one population trained by one `nn.fit` call: they see the same mini-batches
and seed s of every cell starts from the same weights, so cells are compared seed by seed.

measure → judge → present: `measure` trains and measures, `judge` decides the findings with `replab.stats` (paired
over seeds, one test per dataset) and the batch-noise check, `present` draws the tables and figures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import matplotlib
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn, stats
from replab.claims import Claim, EvidenceBase, check, decide, finding
from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments import base
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.bn_regularization_config import Config
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

NAME = "bn-regularization"
TITLE = "BN study 4 — regularisation: does Batch Normalization narrow the train/test gap and replace Dropout?"
QUESTION = ("Without and with Batch Normalization, and with Dropout 0, 0.2 and 0.5, how far apart are training and "
            "test accuracy; how much does a training example's output vary with the other examples in its "
            "mini-batch; and how does the mini-batch size change that noise and the gap?")

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
class Dataset:
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

    @property
    def dataset(self) -> str:
        return self.info.dataset

    @property
    def label(self) -> str:
        return study.dataset_label(self.info)

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
            return nn.accuracy(forward(net, x, training=False)[0], y)

        @tf.function
        def train_loss():
            return nn.softmax_cross_entropy(forward(net, x, training=False)[0], y)

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


# --- claims ------------------------------------------------------------------------------------------------------


def evidence_base(config: Config, m: Measurements) -> EvidenceBase:
    return study.evidence_base(config, m.datasets)


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Four findings paired over seeds (one test per dataset) and the batch-noise check, decided together."""
    return decide([gap_claim(config, m), dropout_claim(config, m), bn_versus_dropout_claim(config, m),
                   noise_claim(config, m), batch_gap_claim(config, m)])


def gap_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        plain, bn, matched = d.none[0], d.batch[0], d.matched
        tests.append(stats.paired(matched.none, matched.batch, d.label))
        evidence.append(
            f"{d.label}: at the same training loss ({fmt_list(matched.level, '')} per seed) the accuracy gap is "
            f"{study.pm(matched.none)} without BN and {study.pm(matched.batch)} with BN, narrowing per seed "
            f"{fmt_list(matched.narrowing)}; at the end, gap without BN {study.pm(plain.gap)} (train "
            f"{study.pm(plain.train_accuracy)}, test {study.pm(plain.test_accuracy)}), with BN "
            f"{study.pm(bn.gap)} (train {study.pm(bn.train_accuracy)}, test {study.pm(bn.test_accuracy)}), "
            f"loss gap {study.pm(plain.loss_gap, 3)} vs {study.pm(bn.loss_gap, 3)}")
    return finding(
        "bn-narrows-gap",
        "Batch Normalization narrows the gap between training and test accuracy (no Dropout in either network)",
        effect="train − test accuracy without BN − with BN, where both first reach the same training loss, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". {config.steps:,} steps at batch {config.batch_size}, {config.n_seeds} "
        "seeds, paired. A network that has fitted its training data further has a larger gap whatever its "
        "regularisation, and BN fits faster, so the two are compared where their training loss (cross-entropy on the "
        f"first {config.eval_size:,} training images, inference mode, every {config.record_every} steps) first falls "
        "to the lowest level both reach, both accuracies interpolated there — the loss, not the accuracy, because "
        "both networks reach 100% training accuracy on a small training set while their fit still differs.")


def best_nonzero_rate(rates: tuple[Scores, ...]) -> int:
    """The nonzero Dropout rate with the highest mean test accuracy."""
    return 1 + int(np.argmax([np.mean(r.test_accuracy) for r in rates[1:]]))


def dropout_gain(rates: tuple[Scores, ...]) -> np.ndarray:
    """Per seed: test accuracy at the best nonzero Dropout rate − at rate 0."""
    return rates[best_nonzero_rate(rates)].test_accuracy - rates[0].test_accuracy


def dropout_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    labels = config.rate_labels
    for d in m.datasets:
        gain_plain, gain_bn = dropout_gain(d.none), dropout_gain(d.batch)
        tests.append(stats.paired(gain_plain, gain_bn, d.label))
        per_model = []
        for model, gain in (("none", gain_plain), ("batch", gain_bn)):
            rates = d.rates(model)
            accuracies = ", ".join(f"{labels[r]}: {np.mean(s.test_accuracy):.4f}" for r, s in enumerate(rates))
            per_model.append(f"{LABELS[model]} test accuracy by Dropout rate {accuracies} (best "
                             f"{labels[d.best_rate_index(model)]}; gain of rate {labels[best_nonzero_rate(rates)]} "
                             f"over none {study.pm(gain)})")
        evidence.append(f"{d.label}: " + "; ".join(per_model))
    return finding(
        "bn-replaces-dropout",
        "In a batch-normalised network Dropout can be removed or reduced (§3.4): Dropout improves the test accuracy "
        "of the network with BN less than that of the network without BN",
        effect="Dropout's gain in test accuracy (best nonzero rate − no Dropout) without BN − with BN, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". {config.n_seeds} seeds, {config.steps:,} steps, paired; each network's "
        "best nonzero rate is the one with the highest mean test accuracy. Whether BN alone is as good as Dropout "
        "alone is bn-matches-dropout.")


def bn_versus_dropout(d: Dataset) -> np.ndarray:
    """Per seed: test accuracy of BN without Dropout − of the network without BN at its best Dropout rate."""
    return d.batch[0].test_accuracy - d.none[d.best_rate_index("none")].test_accuracy


def bn_versus_dropout_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d in m.datasets:
        if d.tuned is None:  # measurements without the tuned sides: BN at learning_rate, best Dropout rate on test
            best = d.best_rate_index("none")
            bn, plain, bn_rate, dropout = d.batch[0], d.none[best], config.learning_rate, config.rate_labels[best]
        else:
            bn, plain, bn_rate, dropout = d.tuned.bn, d.tuned.none, d.tuned.bn_rate, f"{d.tuned.dropout_rate:g}"
        tests.append(stats.paired(bn.test_accuracy, plain.test_accuracy, d.label))
        evidence.append(f"{d.label}: BN without Dropout at its best learning rate {bn_rate:g} "
                        f"{study.pm(bn.test_accuracy)}, without BN at its best Dropout rate {dropout} (learning rate "
                        f"{config.learning_rate:g}) {study.pm(plain.test_accuracy)}; difference per seed "
                        f"{fmt_list(bn.test_accuracy - plain.test_accuracy)}")
    rates = ", ".join(f"{r:g}" for r in (config.learning_rate, *config.bn_learning_rates))
    return finding(
        "bn-matches-dropout",
        "Batch Normalization does Dropout's job: BN without Dropout, at its own best learning rate, is more accurate "
        "than the network without BN at its best Dropout rate",
        effect="test accuracy of BN without Dropout (own best rate) − of the network without BN at its best Dropout "
               "rate, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + f". Test accuracy after {config.steps:,} steps, {config.n_seeds} seeds, paired; "
        f"BN's rate chosen from {rates} and the baseline's Dropout rate from {', '.join(config.rate_labels)}, each by "
        f"mean validation accuracy on {config.validation_size:,} held-out training images (at most a fifth), never "
        "on the test images.")


def strictly_decreasing(values) -> bool:
    return bool(np.all(np.diff(np.asarray(values, float)) < 0))


def log_slope(sizes, values) -> float:
    """Slope of log(values) against log(sizes): −0.5 if the noise shrinks like the batch mean's standard error."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def noise_claim(config: Config, m: Measurements) -> Claim:
    passed, evidence = [], []
    sizes = np.asarray(config.noise_batch_sizes)
    for d in m.datasets:
        noise = d.noise_by_size()  # (sizes, seeds)
        decreasing = [strictly_decreasing(seed) for seed in noise.T]
        passed.append(bool(noise.min() > 0) and strictly_decreasing(noise.mean(axis=1)))
        flips = d.noise_by_size("flip_rate").mean(axis=1)
        slopes = [log_slope(sizes, seed) for seed in noise.T]
        evidence.append(
            f"{d.label}: logit std over draws at m = "
            + ", ".join(f"{size}: {v:.4f}" for size, v in zip(sizes, noise.mean(axis=1)))
            + f"; log-log slope {study.pm(slopes, 2)} (−0.5 for 1/√m); predicted class differs from the example's usual "
            + "one in " + ", ".join(f"{100 * f:.2f}%" for f in flips)
            + f" of draws; strictly decreasing for {sum(decreasing)} of {len(decreasing)} seeds")
    return check(
        "smaller-batches-noisier",
        "With BN, a training example's output depends on the rest of its mini-batch, and the smaller the mini-batch "
        "the more it varies",
        passed=bool(passed) and all(passed), base=evidence_base(config, m),
        evidence="; ".join(evidence) + ". A check, not a finding: the batch mean and variance are averages over m "
        "examples, so their spread shrinks like 1/√m (the central limit theorem). Passes if the logit std (mean over "
        "seeds) is positive and strictly decreases with m on every dataset. The trained BN networks (no Dropout, "
        f"batch {config.batch_size}); each of {config.noise_draws} draws splits {config.noise_pool:,} training images "
        "at random into mini-batches of m and runs each in training mode (Dropout off); std over draws per example "
        "and logit, averaged.")


def batch_gap_claim(config: Config, m: Measurements) -> Claim:
    tests, evidence = [], []
    for d, runs, rule in [(d, runs, rule) for d in m.datasets
                          for runs, rule in ((d.batch_runs, "main"), (d.other_rule_runs, "other")) if runs]:
        small, large = runs[0], runs[-1]
        arm = "learning rate scaled with the batch" if small.scaled else "the same learning rate"
        label = d.label if not d.other_rule_runs else f"{d.label}, {arm}"
        tests.append(stats.paired(small.matched.narrowing, large.matched.narrowing, label))
        difference = small.matched.narrowing - large.matched.narrowing
        rows = ", ".join(f"{b.batch_size}: {study.pm(b.matched.narrowing)}" for b in runs)
        gaps = ", ".join(f"{b.batch_size}: {np.mean(b.batch.gap):.4f} vs {np.mean(b.none.gap):.4f}"
                         for b in runs)
        evidence.append(f"{label}: gap narrowing by BN at the same training loss, batch {rows}; smallest − "
                        f"largest batch {study.pm(difference)}; final gap with vs without BN {gaps}")
    scaling = ("learning rate scaled with the batch size" if config.scale_learning_rate else "the same learning rate")
    if config.both_rate_rules:
        scaling = ("learning rate scaled with the batch size and, apart, the same learning rate at every batch size "
                   "(one test per dataset and rule)")
    return finding(
        "small-batch-bn-regularizes-more",
        "BN narrows the train/test gap more at smaller mini-batches, where its batch noise is larger",
        effect=f"gap narrowing by BN at batch {config.batch_sizes[0]} − at batch {config.batch_sizes[-1]}, per seed",
        direction="greater", tests=tests, base=evidence_base(config, m),
        evidence="; ".join(evidence) + ". Networks without Dropout trained at batch sizes "
        f"{', '.join(map(str, config.batch_sizes))} with the same {config.steps * config.batch_size:,} examples seen "
        f"and the {scaling}; {config.n_seeds} seeds, paired. Narrowing = gap without BN − gap with BN where both "
        "first reach the same training loss (as in bn-narrows-gap).")


def fmt_list(values, sign: str = "+") -> str:
    return "[" + ", ".join(f"{v:{sign}.4f}" for v in values) + "]"


# --- presentation ------------------------------------------------------------------------------------------------


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (train/test gap, Dropout grid, batch noise), the figures with their captions and the notes."""
    return Presentation(
        tables=[t for d in m.datasets for t in (gap_table(config, d), noise_table(config, d), batch_table(config, d))],
        figures={"gap": gap_figure(config, m.datasets), "noise": noise_figure(config, m.datasets),
                 "batch_size": batch_size_figure(config, m.datasets), "curves": curves_figure(config, m.datasets)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(config, m.datasets),
        captions={
            "gap": "Final train − test accuracy and test accuracy without and with BN at each Dropout rate, with the "
                   "gap where both networks reach the same training loss.",
            "noise": "How much a trained BN network's outputs vary with the other examples of its mini-batch, "
                     "against the mini-batch size.",
            "batch_size": "Final gap without and with BN, and BN's narrowing of it at matched training loss, "
                          "against the training batch size.",
            "curves": "Test and training accuracy over training for each Dropout rate, without and with BN.",
        },
    )


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train, measure the gaps, batch noise and batch-size runs, judge §3.4's claims over seeds, present."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))


def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skip_notes)
    subset = (f"at most {config.max_train:,} training images, so that the networks can overfit" if config.max_train
              else "all training images")
    out.append(
        f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
        f"{config.weight_std:g}, plain SGD at rate {config.learning_rate:g}, batch {config.batch_size}, "
        f"{config.steps:,} steps) without and with BN and with Dropout {', '.join(config.rate_labels)} on the hidden "
        "units; "
        f"{config.n_seeds} seeds; {subset}.")
    largest = max(config.noise_batch_sizes)
    shrink = np.sqrt((config.noise_pool - largest) / (config.noise_pool - 1))
    out.append(
        "The network without BN has no batch noise at all: its training-mode output for an example does not depend on "
        "the other examples, so only the BN networks are measured; the measurement leaves their moving averages "
        f"untouched. Mini-batch mates come from the pool of {config.noise_pool:,} images, without replacement, so at "
        f"m = {largest} the spread of a batch mean is {shrink:.2f}× what an unlimited supply of images would give.")
    plans = "; ".join(f"batch {b.batch_size}: {b.steps:,} steps at rate {b.learning_rate:g}"
                      for b in m.datasets[0].batch_runs) if m.datasets else ""
    out.append(f"Batch-size comparison (no Dropout, equal examples seen): {plans}.")
    if m.datasets and m.datasets[0].other_rule_runs:
        other = "; ".join(f"batch {b.batch_size}: rate {b.learning_rate:g}" for b in m.datasets[0].other_rule_runs)
        out.append(f"The same batch sizes under the other rule ({other}): with a fixed rate a smaller batch also takes "
                   "more, noisier steps; with a scaled rate SGD's noise scale (rate/batch) stays the same.")
    for d in m.datasets:
        if d.tuned is not None:
            t = d.tuned
            out.append(f"{d.label}, bn-matches-dropout: chosen on {t.validation_images:,} held-out training images — "
                       f"BN without Dropout at rate {t.bn_rate:g} (validation accuracy by rate "
                       + ", ".join(f"{r:g}: {v:.4f}" for r, v in zip((config.learning_rate, *config.bn_learning_rates),
                                                                     t.bn_validation.mean(axis=1)))
                       + f"), the network without BN at Dropout {t.dropout_rate:g}.")
    return out


def gap_table(config: Config, d: Dataset) -> Table:
    rows = []
    for model in MODELS:
        best_index = d.best_rate_index(model)
        for r, s in enumerate(d.rates(model)):
            matched = study.pm(getattr(d.matched, model)) if r == 0 else ""
            best = "yes" if r == best_index else ""
            rows.append([LABELS[model], config.rate_labels[r], study.pm(s.train_accuracy),
                         study.pm(s.test_accuracy), study.pm(s.gap), study.pm(s.loss_gap, 3), matched, best])
    return Table(f"Train/test gap on {d.label}",
                 ["network", "Dropout", "train accuracy", "test accuracy", "accuracy gap", "loss gap",
                  "gap at matched training loss", "best rate"], rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds after {config.steps:,} steps on "
                         f"{d.info.n_train:,} training images; train = first "
                         f"{min(config.train_eval_size, d.info.n_train):,} training "
                         f"images, test = all {d.info.n_test:,}, inference mode. Loss gap = test − train "
                         f"cross-entropy. Matched: where both networks' training loss first falls to "
                         f"{study.pm(d.matched.level)} (curves on {config.eval_size:,} images).")


def noise_table(config: Config, d: Dataset) -> Table:
    rows = []
    for size, n in zip(d.noise_sizes, d.noise):
        rows.append([size, study.pm(n.logit_std), study.pm(n.probability_std),
                     f"{100 * np.mean(n.flip_rate):.2f}% ± {100 * np.std(n.flip_rate, ddof=1):.2f}%"])
    return Table(f"Batch noise of the BN network on {d.label}",
                 ["mini-batch size m", "logit std", "std of the usual class's probability",
                  "predicted class changes"], rows,
                 caption=f"BN networks trained at batch {config.batch_size} without Dropout; {config.noise_draws} "
                         f"random partitions of {config.noise_pool:,} training images into mini-batches of m, "
                         "training-mode "
                         f"forward; mean ± std over {config.n_seeds} seeds.")


def batch_table(config: Config, d: Dataset) -> Table:
    rows = []
    for b in (*d.batch_runs, *d.other_rule_runs):
        rows.append([b.batch_size, f"{b.learning_rate:g}", f"{b.steps:,}",
                     study.pm(b.none.test_accuracy), study.pm(b.batch.test_accuracy),
                     study.pm(b.none.gap), study.pm(b.batch.gap), study.pm(b.matched.narrowing),
                     study.pm(b.noise.logit_std)])
    return Table(f"Mini-batch size on {d.label}",
                 ["batch size", "learning rate", "steps", "test accuracy without BN", "test accuracy with BN",
                  "final gap without BN", "final gap with BN", "gap narrowing by BN at matched training loss",
                  "BN logit std at its batch size"], rows,
                 caption=f"No Dropout; {config.steps * config.batch_size:,} examples seen at every batch size; "
                         f"mean ± std over {config.n_seeds} seeds.")


def gap_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.0))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    x = np.arange(len(config.dropout_rates))
    width = 0.38
    for column, d in enumerate(datasets):
        for row, (key, ylabel) in enumerate((("gap", "train − test accuracy"), ("test_accuracy", "test accuracy"))):
            ax = grid[row][column]
            for i, model in enumerate(MODELS):
                values = [getattr(s, key) for s in d.rates(model)]
                ax.bar(x + (i - 0.5) * width, [np.mean(v) for v in values], width, capsize=3,
                       yerr=[np.std(v, ddof=1) for v in values], color=COLOURS[model], label=LABELS[model])
                if key == "gap":
                    ax.plot(x[0] + (i - 0.5) * width, np.mean(getattr(d.matched, model)), "D", color="k", mfc="white",
                            label="at matched training loss" if i == 0 else None)
            ax.set_xticks(x, [f"Dropout {r}" for r in config.rate_labels])
            ax.set_ylabel(ylabel)
            if key == "test_accuracy":
                low = min(float(s.test_accuracy.min()) for model in MODELS for s in d.rates(model))
                ax.set_ylim(max(0.0, low - 0.03), 1.0)
            ax.set_title(f"{d.label}: {ylabel}", fontsize=10)
            ax.legend(fontsize=8)
    figure.suptitle(f"After {config.steps:,} steps (mean ± std over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def noise_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.0))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    sizes = np.asarray(config.noise_batch_sizes)
    for column, d in enumerate(datasets):
        for row, (measure_name, ylabel) in enumerate((("logit_std", "logit std over mini-batches"),
                                                      ("flip_rate", "share of draws changing the predicted class"))):
            ax = grid[row][column]
            values = d.noise_by_size(measure_name)
            ax.plot(sizes, values.mean(axis=1), "o-", color=COLOURS["batch"],
                    label=f"BN trained at batch {config.batch_size}")
            ax.fill_between(sizes, values.min(axis=1), values.max(axis=1), color=COLOURS["batch"], alpha=0.15)
            own_sizes = [b.batch_size for b in d.batch_runs]
            own = [float(np.mean(getattr(b.noise, measure_name))) for b in d.batch_runs]
            ax.plot(own_sizes, own, "s", color="k", mfc="none", label="BN trained and measured at that batch size")
            if measure_name == "logit_std":
                reference = values.mean(axis=1)[0] * np.sqrt(sizes[0] / sizes)
                ax.plot(sizes, reference, ":", color="grey", label="∝ 1/√m")
                ax.set_yscale("log")
                low, high = min(values.min(), *own), max(values.max(), *own)
                powers = 2.0 ** np.arange(np.floor(np.log2(low)), np.ceil(np.log2(high)) + 1)
                ax.set_yticks(powers, [f"{p:g}" for p in powers])
            log_batch_axis(ax, sorted({*sizes.tolist(), *own_sizes}))
            ax.set_xlabel("mini-batch size m")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{d.label}: {ylabel}", fontsize=10)
            ax.legend(fontsize=7)
    figure.suptitle(f"Batch noise: {config.noise_draws} random partitions of {config.noise_pool:,} training images\n"
                    f"(band: min–max over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def batch_size_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.0))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    for column, d in enumerate(datasets):
        sizes = [b.batch_size for b in d.batch_runs]
        top, bottom = grid[0][column], grid[1][column]
        for model in MODELS:
            errorbar(top, sizes, [getattr(b, model).gap for b in d.batch_runs], COLOURS[model], LABELS[model])
        errorbar(bottom, sizes, [b.matched.narrowing for b in d.batch_runs], "k",
                 "gap without BN − with BN, at matched training loss")
        bottom.axhline(0, color="grey", lw=0.8)
        top.set_ylabel("final train − test accuracy")
        bottom.set_ylabel("gap narrowing by BN")
        for ax in (top, bottom):
            log_batch_axis(ax, sizes)
            ax.set_xlabel("training batch size")
            ax.set_title(f"{d.label}: {ax.get_ylabel()}", fontsize=10)
            ax.legend(fontsize=8)
    scaling = "rate ∝ batch size" if config.scale_learning_rate else f"rate {config.learning_rate:g}"
    figure.suptitle(f"No Dropout, {config.steps * config.batch_size:,} examples seen, {scaling}\n"
                    f"(mean ± std over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def log_batch_axis(ax, sizes) -> None:
    ax.set_xscale("log")
    ax.set_xticks(list(sizes), [str(m) for m in sizes])
    ax.minorticks_off()


def errorbar(ax, x, values, colour, name) -> None:
    """Mean ± std over seeds of each entry of `values`."""
    ax.errorbar(x, [np.mean(v) for v in values], yerr=[np.std(v, ddof=1) for v in values], marker="o", capsize=3,
                color=colour, label=name)


def curves_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.5))
    grid = figure.subplots(2, len(datasets), squeeze=False, sharey=True)
    cmap = matplotlib.colormaps["viridis"]
    for column, d in enumerate(datasets):
        for row, model in enumerate(MODELS):
            ax = grid[row][column]
            for r, s in enumerate(d.rates(model)):
                colour = cmap(r / max(len(config.dropout_rates) - 1, 1))
                ax.plot(d.steps, s.test_curves.mean(axis=0), color=colour,
                        label=f"Dropout {config.rate_labels[r]}: test")
                ax.plot(d.steps, s.train_curves.mean(axis=0), color=colour, ls="--", label="train")
            ax.set_title(f"{d.label}, {LABELS[model]}", fontsize=10)
            ax.set_xlabel("training step")
            ax.set_ylabel("accuracy")
            ax.legend(fontsize=7, ncol=2)
    figure.suptitle(f"Mean accuracy over {config.n_seeds} seeds on {config.eval_size:,} test (solid) and training\n"
                    "(dashed) images, inference mode", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, datasets: tuple[Dataset, ...]) -> dict:
    scalars = {}
    for d in datasets:
        for model in MODELS:
            for r, s in enumerate(d.rates(model)):
                test, train = s.test_curves.mean(axis=0), s.train_curves.mean(axis=0)
                scalars[f"{d.dataset}/{model}/dropout{config.rate_labels[r]}"] = {
                    "accuracy/test_mean": base.scalar_points(d.steps, test, d.record_times),
                    "accuracy/train_mean": base.scalar_points(d.steps, train, d.record_times),
                    "accuracy/gap_mean": base.scalar_points(d.steps, train - test, d.record_times),
                }
        noise = d.noise_by_size().mean(axis=1)
        scalars[f"{d.dataset}/batch/noise"] = {
            "noise/logit_std_by_batch_size": [(int(size), float(v)) for size, v in zip(d.noise_sizes, noise)]}
    return scalars
