"""Santurkar et al. (2018)'s explanation: does BN make the loss landscape smoother along the gradient?

"How Does Batch Normalization Help Optimization?" argues that BN works not by reducing internal covariate shift
but by making the loss and its gradient change more slowly: at checkpoints during training they step from the
current weights θ along the gradient g = ∇L(θ) by several step sizes η and measure (their Figure 4)

    loss variation            max_η L(θ − ηg) − min_η L(θ − ηg)          (η = 0 included)
    gradient predictiveness   max_η ‖∇L(θ − ηg) − ∇L(θ)‖                  (ℓ2 over every trained number)
    effective β-smoothness    max_η ‖∇L(θ − ηg) − ∇L(θ)‖ / ‖ηg‖

all three smaller with BN. Here: a ReLU MLP (784-100-100-100-10, He initialisation) without and with BN trained at
the same learning rate with plain SGD; at every record point the three quantities are computed on a fixed probe
batch of training images (BN in training mode on that batch, its moving averages untouched), for η = the
learning rate × each factor in `eta_factors`. Seed s of both networks starts from the same weights and sees the
same batches, so the networks are compared seed by seed (log10 of each quantity averaged over the checkpoints).

measure → judge → present: `measure` trains both populations and records the landscape, `judge` decides three
findings with `replab.stats` (paired over seeds, one test per dataset), `present` draws them over training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn, stats
from replab.claims import Claim, decide, finding
from replab.experiments import base
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress
from replab.experiments.bn import study
from replab.experiments.bn.bn_smoothness_config import Config
from replab.nn.conv import ReluNet, forward

NAME = "bn-smoothness"
TITLE = "BN study — Santurkar et al. 2018: does BN smooth the loss landscape along the gradient?"
QUESTION = ("Along the gradient direction, at checkpoints during training, do the loss and its gradient vary less "
            "with BN than without — the smoothness Santurkar et al. (2018) offer as BN's real mechanism?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS
QUANTITIES = ("loss_variation", "gradient_change", "beta_smoothness")
QUANTITY_LABELS = {"loss_variation": "loss variation along the gradient",
                   "gradient_change": "gradient predictiveness ‖∇L(θ−ηg) − ∇L(θ)‖ (max over η)",
                   "beta_smoothness": "effective β-smoothness (max over η)"}
CLAIMS = {"loss_variation": ("bn-smoother-loss", "With BN the loss varies less along the gradient direction"),
          "gradient_change": ("bn-predictive-gradients",
                              "With BN the gradient changes less along the gradient direction (it is more predictive)"),
          "beta_smoothness": ("bn-smaller-beta", "With BN the effective β-smoothness along the gradient is smaller")}


# --- measurements -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Landscape:
    """One dataset: (model, seed, checkpoint) arrays, model 0 without BN, 1 with BN."""

    info: study.DatasetInfo
    steps: np.ndarray               # (R,) checkpoints
    loss_variation: np.ndarray      # (2, seeds, R)
    gradient_change: np.ndarray
    beta_smoothness: np.ndarray
    gradient_norm: np.ndarray
    probe_loss: np.ndarray          # (2, seeds, R) loss on the probe batch at θ
    test_accuracy: np.ndarray       # (2, seeds)
    diverged_at: np.ndarray         # (2, seeds)
    record_times: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), metadata=base.WHEN_MEASURED)
    """(2, R) wall time of each checkpoint, per model (each network is its own fit), for TensorBoard."""

    @property
    def dataset(self) -> str:
        return self.info.dataset

    @property
    def label(self) -> str:
        return self.info.label

    def per_seed(self, quantity: str) -> np.ndarray:
        """(2, seeds): log10 of the quantity averaged over the checkpoints."""
        return np.log10(np.maximum(getattr(self, quantity), 1e-30)).mean(axis=-1)


@dataclass(frozen=True)
class Measurements(base.Measurements):
    datasets: tuple[Landscape, ...]
    skipped: tuple[str, ...] = ()


def member_norm(tensors) -> tf.Tensor:
    """‖·‖₂ per member over every tensor (member axis first)."""
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(t), axis=list(range(1, len(t.shape)))) for t in tensors]))


def landscape_metric(net: ReluNet, x_probe, y_probe, etas) -> callable:
    """A zero-argument function returning (K, 3·E + 2): per member the loss at θ − ηg for every η, the gradient
    change for every η, ‖Δg‖/‖ηg‖ for every η, the loss at θ and ‖g‖ — all on the probe batch, BN in training mode
    without touching its moving averages."""
    x, y = tf.constant(x_probe), tf.constant(y_probe.astype(np.int64))

    def loss_and_gradient(values):
        with tf.GradientTape() as tape:
            tape.watch(values)
            losses = nn.softmax_cross_entropy(forward(net, x, training=True, params=values, update_averages=False), y)
            total = tf.reduce_sum(losses)
        return losses, tape.gradient(total, values)

    @tf.function
    def landscape():
        here = [tf.identity(p) for p in net.params]
        loss0, grad0 = loss_and_gradient(here)
        norm0 = member_norm(grad0)
        losses, changes, betas = [], [], []
        for eta in etas:
            moved = [p - float(eta) * g for p, g in zip(here, grad0)]
            loss, grad = loss_and_gradient(moved)
            change = member_norm([a - b for a, b in zip(grad, grad0)])
            losses.append(loss)
            changes.append(change)
            betas.append(change / tf.maximum(float(eta) * norm0, 1e-12))
        return tf.stack([*losses, *changes, *betas, loss0, norm0], axis=1)

    return landscape


def measure_dataset(config: Config, digits) -> Landscape:
    n, e = config.n_seeds, len(config.eta_factors)
    seeds = [study.member_seed(config, s) for s in range(n)]
    rng = np.random.default_rng([config.seed, 7])
    probe = rng.choice(digits.n_train, size=min(config.probe_size, digits.n_train), replace=False)
    parts, histories = [], []
    for bn in (False, True):
        net = ReluNet("mlp", bn=bn, seeds=seeds, hidden=config.hidden, momentum=config.bn_momentum)
        params = net.params

        def loss_fn(params, xb, yb, step, net=net):
            return nn.softmax_cross_entropy(forward(net, xb, training=True), yb)

        history = nn.fit(loss_fn, params, nn.SGD(params, np.full(n, config.learning_rate, np.float32)),
                         digits.x_train, digits.y_train, steps=config.steps, batch_size=config.batch_size,
                         record_every=config.record_every, seed=config.seed,
                         metrics={"landscape": landscape_metric(net, digits.x_train[probe], digits.y_train[probe],
                                                                config.etas)})
        values = np.moveaxis(history.metrics["landscape"], 0, -1).astype(float)   # (K, 3E+2, R)
        losses, loss0 = values[:, :e], values[:, 3 * e]
        everything = np.concatenate([losses, loss0[:, None]], axis=1)
        accuracy = nn.accuracy(forward(net, tf.constant(digits.x_test), training=False),
                               tf.constant(digits.y_test.astype(np.int64))).numpy()
        parts.append(dict(loss_variation=everything.max(1) - everything.min(1),
                          gradient_change=values[:, e:2 * e].max(1), beta_smoothness=values[:, 2 * e:3 * e].max(1),
                          gradient_norm=values[:, 3 * e + 1], probe_loss=loss0, test_accuracy=accuracy,
                          diverged_at=history.diverged_at))
        histories.append(history)
    stacked = {key: np.stack([p[key] for p in parts]) for key in parts[0]}
    return Landscape(study.dataset_info(config, digits, *[_Timed(h) for h in histories]), np.asarray(histories[0].steps),
                     **stacked, record_times=np.stack([h.record_times for h in histories]))


@dataclass
class _Timed:
    """What study.dataset_info reads off a training run."""

    history: nn.History

    @property
    def steps_per_second(self) -> float:
        return float(self.history.steps_per_second)

    @property
    def train_seconds(self) -> float:
        return float(self.history.wall_time - self.history.compile_time)

    @property
    def compile_seconds(self) -> float:
        return float(self.history.compile_time)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    datasets, skipped = study.load_datasets(config)
    out = study.per_dataset(config, datasets, measure_dataset, progress, f"without and with BN × {config.n_seeds} seeds")
    progress(len(datasets), len(datasets), "done")
    return Measurements(tuple(out), tuple(skipped))


# --- claims --------------------------------------------------------------------------------------------------------


def judge(config: Config, m: Measurements) -> list[Claim]:
    base_ = study.evidence_base(config, m.datasets)
    claims = []
    for quantity in QUANTITIES:
        claim_id, statement = CLAIMS[quantity]
        tests, evidence = [], []
        for d in m.datasets:
            if (d.diverged_at >= 0).any():
                tests.append(stats.unavailable(d.label, "a seed diverged, so its landscape is not measured to the end"))
            else:
                values = d.per_seed(quantity)
                tests.append(stats.paired(values[0], values[1], d.label))
            mean = getattr(d, quantity).mean(axis=1)  # (2, R)
            evidence.append(f"{d.label}: mean over seeds at steps {', '.join(f'{s:,}' for s in d.steps)} without BN "
                            f"{', '.join(f'{v:.3g}' for v in mean[0])}, with BN {', '.join(f'{v:.3g}' for v in mean[1])}")
        claims.append(finding(
            claim_id, statement + " (Santurkar et al. 2018, Figure 4)",
            effect=f"log10 of the {QUANTITY_LABELS[quantity]}, averaged over the checkpoints, without BN − with BN, "
                   "per seed", direction="greater", tests=tests, base=base_,
            evidence="; ".join(evidence) + f". ReLU MLP {'-'.join(map(str, config.layer_sizes))}, plain SGD at rate "
            f"{config.learning_rate:g}, batch {config.batch_size}, {config.steps:,} steps; step sizes η = "
            f"{', '.join(f'{v:g}' for v in config.etas)} along the gradient on a fixed probe batch of "
            f"{config.probe_size} training images; {config.n_seeds} seeds, paired."))
    return decide(claims)


# --- presentation ------------------------------------------------------------------------------------------------


def present(config: Config, m: Measurements) -> Presentation:
    return Presentation(
        tables=[table(config, d) for d in m.datasets],
        figures={"landscape": figure(config, m)},
        notes=notes(config, m),
        scalars={f"{d.dataset}/{model}": {f"landscape/{q}": base.scalar_points(d.steps, getattr(d, q)[i].mean(0),
                                                                         study.fit_times(d.record_times, i))
                                          for q in QUANTITIES}
                 for d in m.datasets for i, model in enumerate(MODELS)},
        captions={"landscape": "Loss variation, gradient predictiveness and effective β-smoothness along the gradient "
                               "at each checkpoint, without and with BN (mean and min–max band over seeds, log scale)."})


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train without and with BN, measure the landscape along the gradient at every checkpoint, judge, present."""
    config = config or Config()
    m = measure(config, progress)
    return compose(config, m, judge(config, m), present(config, m))


def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skipped)
    out.append("The three quantities are not invariant to the scale of the weights, and BN makes the loss invariant to "
               "the scale of the weights before it, so a smaller value with BN can also come from larger weights; "
               "Santurkar et al. report them as measured, and so does this experiment. The probe batch is fixed (the "
               "same images at every checkpoint), where Santurkar et al. use the current training batch.")
    return out


def table(config: Config, d: Landscape) -> Table:
    rows = []
    for r, step in enumerate(d.steps):
        row = [int(step)]
        for q in (*QUANTITIES, "probe_loss"):
            values = getattr(d, q)
            row += [f"{values[0, :, r].mean():.4g}", f"{values[1, :, r].mean():.4g}"]
        rows.append(row)
    columns = ["step"] + [f"{name} {LABELS[model]}" for name in ("loss variation", "gradient change",
                                                                  "β-smoothness", "probe loss") for model in MODELS]
    return Table(f"Loss landscape along the gradient on {d.label}", columns, rows,
                 caption=f"Mean over {config.n_seeds} seeds; final test accuracy without BN "
                         f"{study.pm(d.test_accuracy[0])}, with BN {study.pm(d.test_accuracy[1])}.")


def figure(config: Config, m: Measurements) -> Figure:
    fig = Figure(figsize=(5.0 * len(m.datasets), 9.0))
    grid = fig.subplots(3, len(m.datasets), squeeze=False)
    for column, d in enumerate(m.datasets):
        for row, q in enumerate(QUANTITIES):
            ax = grid[row][column]
            values = getattr(d, q)
            for i, model in enumerate(MODELS):
                ax.plot(d.steps, values[i].mean(0), "o-", color=COLOURS[model], label=LABELS[model])
                ax.fill_between(d.steps, values[i].min(0), values[i].max(0), color=COLOURS[model], alpha=0.15)
            ax.set_yscale("log")
            ax.set_xlabel("training step")
            ax.set_title(f"{d.label}: {QUANTITY_LABELS[q]}", fontsize=9)
            ax.legend(fontsize=8)
    fig.suptitle(f"Along the gradient, η = {', '.join(f'{v:g}' for v in config.etas)}; {config.n_seeds} seeds",
                 fontsize=10)
    fig.tight_layout()
    return fig
