"""A small network in low-level TensorFlow fitting noisy data, and what a second hidden layer buys.

Every (noise level, seed) pair is one member of a population: each architecture trains all of its
networks at once in one compiled graph, full-batch gradient descent as in the seed. Seed s draws the same
data (same x, same standard-normal noise scaled by σ) and the same initial weights for both architectures,
so the comparison between them is paired by seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn, stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.data.synthetic import Split, noisy_line
from replab.errors import check_finite, check_positive_int, require
from replab.experiments import base
from replab.experiments.base import ExperimentConfig, Presentation, Progress, Result, Table, compose, no_progress
from replab.nn.population import Grid
from replab.seeds import SEEDS_PER_SET

NAME = "regression"
TITLE = "A small low-level TensorFlow network on noisy y = 3x: does a deeper net fit noisier data better?"
QUESTION = ("A network of one hidden layer of 10 ReLU units, written with tf.Variable and tf.GradientTape, fits "
            "y = 3x + noise. Does it reach the noise floor, and does a second hidden layer fit the noisier data "
            "better, judged on held-out data?")

SLOPE = 3.0
MODELS = ("shallow", "deep")
MAX_WIDTH = 4096
MAX_LAYERS = 16
MAX_NOISE_LEVELS = 20
MAX_POINTS = 1_000_000
MAX_EPOCHS = 1_000_000


@dataclass(frozen=True)
class Config(ExperimentConfig):
    noise_stds: tuple[float, ...] = (0.1, 0.5)
    shallow_hidden: tuple[int, ...] = (10,)
    deep_hidden: tuple[int, ...] = (10, 10)
    n_train: int = 100
    n_test: int = 1000
    learning_rate: float = 0.01
    epochs: int = 1000
    n_seeds: int = 5
    weight_init: Literal["glorot_uniform", "glorot_normal", "he_normal"] = "glorot_uniform"
    record_every: int = 10
    close_factor: float = 1.5
    """'Close to the noise floor' means test MSE below close_factor × σ² (a one-sample test over seeds)."""
    converged_change: float = 0.01
    """'Converged' means the train loss changes by less than this fraction over the last 10% of epochs
    (a one-sample test over the networks of each architecture)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(isinstance(self.noise_stds, tuple) and 1 <= len(self.noise_stds) <= MAX_NOISE_LEVELS,
                f"noise_stds must list 1 to {MAX_NOISE_LEVELS} noise levels, got {self.noise_stds!r}")
        for noise in self.noise_stds:
            check_finite("each of noise_stds", noise)
        require(all(s > 0 for s in self.noise_stds),
                f"noise_stds must be one or more positive numbers, got {self.noise_stds}")
        require(list(self.noise_stds) == sorted(set(self.noise_stds)),
                f"noise_stds must be strictly increasing, got {self.noise_stds}")
        for name in ("shallow_hidden", "deep_hidden"):
            widths = getattr(self, name)
            require(isinstance(widths, tuple) and 1 <= len(widths) <= MAX_LAYERS,
                    f"{name} must list 1 to {MAX_LAYERS} positive layer widths, got {widths}")
            for width in widths:
                check_positive_int(f"each width of {name}", width, maximum=MAX_WIDTH)
        check_positive_int("n_train", self.n_train, minimum=2, maximum=MAX_POINTS)
        check_positive_int("n_test", self.n_test, minimum=2, maximum=MAX_POINTS)
        check_positive_int("epochs", self.epochs, minimum=10, maximum=MAX_EPOCHS)
        check_positive_int("n_seeds", self.n_seeds, minimum=2, maximum=SEEDS_PER_SET)
        check_positive_int("record_every", self.record_every)
        require(self.record_every <= self.epochs, f"record_every ({self.record_every}) exceeds epochs ({self.epochs})")
        check_finite("learning_rate", self.learning_rate)
        require(0 < self.learning_rate < 10, f"learning_rate must lie in (0, 10), got {self.learning_rate}")
        check_finite("close_factor", self.close_factor)
        require(self.close_factor > 1, f"close_factor must exceed 1, got {self.close_factor}")
        check_finite("converged_change", self.converged_change)
        require(0 < self.converged_change < 1, f"converged_change must lie in (0, 1), got {self.converged_change}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_test=200, epochs=300, n_seeds=3, record_every=10, quick=True)

    def layer_sizes(self, model: str) -> list[int]:
        hidden = self.shallow_hidden if model == "shallow" else self.deep_hidden
        return [1, *hidden, 1]


@dataclass(frozen=True)
class Training:
    """One architecture's population: members ordered noise-major, seed-minor."""
    model: str
    epochs: np.ndarray             # (R,)
    train_loss: np.ndarray         # (R, K)
    test_mse: np.ndarray           # (R, K)
    final_train_mse: np.ndarray    # (K,)
    final_test_mse: np.ndarray     # (K,)
    curve_x: np.ndarray            # (G,)
    curve_y: np.ndarray            # (K, G)
    diverged_at: np.ndarray        # (K,)
    steps_per_second: float


@dataclass(frozen=True)
class Measurements(base.Measurements):
    """Both architectures (A = 2: shallow, deep) at every noise level (N) and seed (S), paired by seed."""

    noise_stds: np.ndarray         # (N,)
    parameters: np.ndarray         # (A,) trainable parameters of each architecture
    epochs: np.ndarray             # (R,) steps at which the curves were recorded
    train_curve: np.ndarray        # (A, R, N, S) train loss during training
    test_curve: np.ndarray         # (A, R, N, S) test MSE during training
    train_mse: np.ndarray          # (A, N, S) at the end of training
    test_mse: np.ndarray           # (A, N, S)
    diverged_at: np.ndarray        # (A, N, S) step at which the loss stopped being finite, −1 if never
    curve_x: np.ndarray            # (G,) inputs the fitted functions are drawn at
    curve_y: np.ndarray            # (A, N, S, G)
    data_x: np.ndarray             # (N, n_train) seed 0's training inputs at each noise level
    data_y: np.ndarray             # (N, n_train)
    steps_per_second: np.ndarray   # (A,)

    def to_metrics(self) -> dict:
        """result.json's metrics: per noise level and architecture, the final MSEs of every seed."""
        levels = {}
        for i, noise in enumerate(self.noise_stds):
            level = {"noise_std": float(noise), "noise_floor": float(noise) ** 2}
            for a, model in enumerate(MODELS):
                train, test = self.train_mse[a, i], self.test_mse[a, i]
                level[model] = {
                    "train_mse": train.tolist(), "test_mse": test.tolist(),
                    "train_mse_mean": float(train.mean()), "train_mse_std": float(train.std(ddof=1)),
                    "test_mse_mean": float(test.mean()), "test_mse_std": float(test.std(ddof=1)),
                    "diverged": int((self.diverged_at[a, i] >= 0).sum()),
                }
            levels[f"{noise:g}"] = level
        metrics = {"noise_stds": self.noise_stds.tolist(),
                   "parameters": {model: int(self.parameters[a]) for a, model in enumerate(MODELS)},
                   "levels": levels}
        for a, model in enumerate(MODELS):
            metrics[f"steps_per_second_{model}"] = float(self.steps_per_second[a])
        return base.to_jsonable(metrics)


# --- data and training -----------------------------------------------------------------------------


def grid(config: Config) -> Grid:
    """Noise levels × seeds, noise-major; seed s is the same at every noise level and for both architectures."""
    return Grid.of(config.noise_stds, config.n_seeds, config.seed)


def data_seed(config: Config, seed_index: int) -> int:
    """The same seed at every noise level: same x and same standard-normal draws, scaled by σ."""
    return grid(config).seed_of(seed_index)


def make_splits(config: Config) -> list[Split]:
    cells = grid(config)
    return [noisy_line(config.n_train, config.n_test, noise, seed, slope=SLOPE)
            for noise, seed in zip(cells.members(), cells.member_seeds())]


def train_population(config: Config, model: str, splits: list[Split]) -> Training:
    seeds = grid(config).member_seeds()
    params = nn.init_mlp(config.layer_sizes(model), population=len(splits), seed=seeds, weight_init=config.weight_init)
    x_train = np.stack([s.x_train for s in splits])
    y_train = np.stack([s.y_train for s in splits])
    x_test = tf.constant(np.stack([s.x_test for s in splits]))
    y_test = tf.constant(np.stack([s.y_test for s in splits]))

    def loss_fn(params, xb, yb, step):
        return nn.mean_squared_error(nn.mlp_forward(params, xb), yb)

    def test_mse():
        return nn.mean_squared_error(nn.mlp_forward(params, x_test), y_test)

    history = nn.fit(loss_fn, params, nn.SGD(params, config.learning_rate), x_train, y_train,
                     steps=config.epochs, record_every=config.record_every, metrics={"test_mse": test_mse},
                     seed=config.seed, per_member_data=True)
    curve_x = np.linspace(-1.0, 1.0, 201, dtype=np.float32)[:, None]
    curve_y = nn.mlp_forward(params, curve_x).numpy()[..., 0]
    final_train = nn.mean_squared_error(nn.mlp_forward(params, x_train), y_train).numpy()
    return Training(model, history.steps, history.loss, history.metrics["test_mse"], final_train,
                    test_mse().numpy(), curve_x[:, 0], curve_y, history.diverged_at, history.steps_per_second)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train both architectures' populations on the same splits and collect their curves and final errors."""
    splits = make_splits(config)
    cells = grid(config)
    trainings = []
    for index, model in enumerate(MODELS):
        progress(index, len(MODELS), f"training {model} network × {len(splits)}")
        trainings.append(train_population(config, model, splits))
    progress(len(MODELS), len(MODELS), "done")

    def stack(name: str) -> np.ndarray:
        return np.stack([cells.per_cell(getattr(t, name)) for t in trainings])

    first = [cells.member(i, 0) for i in range(len(config.noise_stds))]
    return Measurements(
        noise_stds=np.asarray(config.noise_stds, float),
        parameters=np.array([nn.parameter_count(config.layer_sizes(model)) for model in MODELS]),
        epochs=np.asarray(trainings[0].epochs),
        train_curve=stack("train_loss"), test_curve=stack("test_mse"),
        train_mse=stack("final_train_mse"), test_mse=stack("final_test_mse"), diverged_at=stack("diverged_at"),
        curve_x=np.asarray(trainings[0].curve_x),
        curve_y=np.stack([np.moveaxis(cells.per_cell(np.moveaxis(t.curve_y, 0, -1)), 0, -1) for t in trainings]),
        data_x=np.stack([splits[k].x_train[:, 0] for k in first]),
        data_y=np.stack([splits[k].y_train[:, 0] for k in first]),
        steps_per_second=np.array([t.steps_per_second for t in trainings], float))


# --- claims ------------------------------------------------------------------------------------------


def relative_change_at_end(train_loss: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """|L(end) − L(90% of training)| / L(90%), per member (the member axes follow the step axis)."""
    reference = np.searchsorted(epochs, 0.9 * epochs[-1])
    before, after = train_loss[reference], train_loss[-1]
    return np.abs(after - before) / before


def _base(config: Config, **extra) -> EvidenceBase:
    return EvidenceBase(seeds=config.n_seeds, quick=config.quick, **extra)


def claim_shallow_fits(config: Config, m: Measurements) -> Claim:
    noise = float(m.noise_stds[0])
    floor = noise ** 2
    shallow = m.test_mse[0, 0]
    ratio = shallow / floor
    test = stats.one_sample(ratio, f"σ = {noise:g}", null=config.close_factor)
    return finding(
        "shallow-fits-low-noise",
        f"One hidden layer of {config.shallow_hidden[0]} ReLU units fits the low-noise data: test MSE close to σ² "
        f"(below {config.close_factor:g}×σ²)",
        effect="shallow test MSE / σ² at the lowest noise, against the 'close' bound",
        direction="less", tests=[test],
        evidence=(f"σ = {noise:g}: test MSE {shallow.mean():.4f} ± {shallow.std(ddof=1):.4f} (mean ± sd) over "
                  f"{shallow.size} seeds vs noise floor σ² = {floor:.4f}; test MSE / σ² per seed "
                  f"{', '.join(f'{r:.2f}' for r in ratio)} (mean {ratio.mean():.2f}, 95% CI {test.ci_low:.2f} to "
                  f"{test.ci_high:.2f}); 'close' means below {config.close_factor:g}×σ², tested one-sided over seeds; "
                  f"train MSE {m.train_mse[0, 0].mean():.4f}."),
        base=_base(config, examples=config.n_test))


def claim_deeper_better(config: Config, m: Measurements) -> Claim:
    noise = float(m.noise_stds[-1])
    shallow, deep = m.test_mse[0, -1], m.test_mse[1, -1]
    test = stats.paired(shallow, deep, f"σ = {noise:g}")
    return finding(
        "deeper-fits-noisier-better",
        "The deeper model fits the noisier data better (on held-out data, against the one-layer model at the same noise)",
        effect=f"shallow − deep test MSE at σ = {noise:g}, paired by seed (positive: the deeper net is better)",
        direction="greater", tests=[test],
        evidence=(f"σ = {noise:g}: test MSE deep {deep.mean():.4f} ± {deep.std(ddof=1):.4f}, shallow "
                  f"{shallow.mean():.4f} ± {shallow.std(ddof=1):.4f} (mean ± sd; σ² = {noise ** 2:.4f}); paired "
                  f"shallow − deep = {test.effect:+.4f} (95% CI {test.ci_low:+.4f} to {test.ci_high:+.4f}) over "
                  f"{shallow.size} seeds; train MSE deep {m.train_mse[1, -1].mean():.4f}, shallow "
                  f"{m.train_mse[0, -1].mean():.4f}."),
        base=_base(config, examples=config.n_test))


def claim_loss_converges(config: Config, m: Measurements) -> Claim:
    tests, parts = [], []
    for a, model in enumerate(MODELS):
        change = relative_change_at_end(m.train_curve[a], m.epochs).ravel()
        diverged = int((m.diverged_at[a] >= 0).sum())
        if diverged:
            tests.append(stats.unavailable(model, f"{diverged} of {change.size} networks diverged, so their loss "
                                                  f"has no end to converge to", n=change.size))
        else:
            tests.append(stats.one_sample(change, model, null=config.converged_change))
        finite = change[np.isfinite(change)]
        parts.append(f"{model}: mean {finite.mean():.2%}, largest {finite.max():.2%} over {finite.size} networks"
                     + (f", {diverged} diverged" if diverged else "") if finite.size else f"{model}: every network diverged")
    return finding(
        "loss-converges",
        f"The training loss converges (changes by less than {config.converged_change:.0%} over the last 10% of epochs)",
        effect="relative change of the train loss over the last 10% of epochs, against the bound",
        direction="less", tests=tests,
        evidence=(f"Over the last 10% of {config.epochs} epochs the train loss changed by " + "; ".join(parts)
                  + f" (every noise level and seed; bound {config.converged_change:.0%}, tested one-sided per "
                    f"architecture)."),
        base=_base(config, examples=len(m.noise_stds) * config.n_seeds))


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Three findings: the shallow net against the noise floor, deep against shallow, and convergence."""
    return decide([claim_shallow_fits(config, m), claim_deeper_better(config, m), claim_loss_converges(config, m)])


# --- notes, tables, figures ---------------------------------------------------------------------------------


def notes(config: Config, m: Measurements) -> list[str]:
    params = dict(zip(MODELS, m.parameters.tolist()))
    texts = [
        f"Shapes make the architecture visible: W1 has shape (1, {config.shallow_hidden[0]}) because it maps the one input "
        f"to {config.shallow_hidden[0]} hidden units, so the one-hidden-layer net has {params['shallow']} parameters; the "
        f"two-hidden-layer net adds a ({config.deep_hidden[0]}, {config.deep_hidden[-1]}) matrix and has {params['deep']}."]
    for i, noise in enumerate(m.noise_stds):
        texts.append(
            f"At σ = {noise:g}, the best possible test MSE is σ² = {noise ** 2:.4f}. The shallow net reaches "
            f"{m.test_mse[0, i].mean():.4f} (train {m.train_mse[0, i].mean():.4f}), the deep net "
            f"{m.test_mse[1, i].mean():.4f} (train {m.train_mse[1, i].mean():.4f}). A train MSE below σ² "
            f"is noise being memorised, not signal.")
    return texts


def layer_shapes(layer_sizes: list[int]) -> list[str]:
    shapes = []
    for index, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        shapes.append(f"W{index} ({n_in}, {n_out}) + b{index} ({n_out},)")
    return shapes


def architecture_table(config: Config) -> Table:
    rows = [[model, "-".join(map(str, config.layer_sizes(model))), "; ".join(layer_shapes(config.layer_sizes(model))),
             nn.parameter_count(config.layer_sizes(model))] for model in MODELS]
    return Table("Networks", ["model", "layers", "variables (shape)", "parameters"], rows,
                 caption="Each hidden layer's width is the second dimension of its weight matrix.")


def results_table(config: Config, m: Measurements) -> Table:
    rows = []
    for i, noise in enumerate(m.noise_stds):
        for a, model in enumerate(MODELS):
            train, test = m.train_mse[a, i], m.test_mse[a, i]
            rows.append([float(noise), float(noise) ** 2, model, f"{train.mean():.4f} ± {train.std(ddof=1):.4f}",
                         f"{test.mean():.4f} ± {test.std(ddof=1):.4f}", float(test.mean() / noise ** 2)])
    return Table("Fit per noise level (mean ± std over seeds)",
                 ["noise σ", "noise floor σ²", "model", "train MSE", "test MSE", "test MSE / σ²"], rows,
                 caption=f"{config.n_train} training points, {config.n_test} test points, {config.epochs} full-batch "
                         f"epochs of gradient descent at lr {config.learning_rate:g}.")


def architecture_figure(config: Config) -> Figure:
    figure = Figure(figsize=(10, 3.6))
    axes = figure.subplots(1, 2)
    for ax, model in zip(axes, MODELS):
        sizes = config.layer_sizes(model)
        draw_network(ax, sizes)
        ax.set_title(f"{model}: {'-'.join(map(str, sizes))}, {nn.parameter_count(sizes)} parameters", fontsize=10)
    figure.suptitle("The networks: one column of units per layer; W_l has shape (units in, units out)")
    return figure


def draw_network(ax, sizes: list[int]) -> None:
    positions = [np.linspace(-1, 1, n) if n > 1 else np.zeros(1) for n in sizes]
    for layer, (left, right) in enumerate(zip(positions[:-1], positions[1:])):
        for y0 in left:
            for y1 in right:
                ax.plot([layer, layer + 1], [y0, y1], color="#9aa5b5", lw=0.5, zorder=1)
        ax.text(layer + 0.5, 1.25, f"W{layer + 1} {sizes[layer], sizes[layer + 1]}", ha="center", fontsize=8)
    for layer, ys in enumerate(positions):
        colour = "#2454a6" if 0 < layer < len(sizes) - 1 else "#1f8a4c"
        ax.scatter(np.full(len(ys), layer), ys, s=60, color=colour, zorder=2, edgecolor="white")
    ax.set_xlim(-0.3, len(sizes) - 0.7)
    ax.set_ylim(-1.3, 1.45)
    ax.axis("off")


COLOURS = {"shallow": "C0", "deep": "C3"}


def loss_curves_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(5 * len(m.noise_stds), 4))
    axes = np.atleast_1d(figure.subplots(1, len(m.noise_stds), squeeze=False)[0])
    for i, (ax, noise) in enumerate(zip(axes, m.noise_stds)):
        for a, model in enumerate(MODELS):
            for values, style, label in ((m.train_curve, "-", "train"), (m.test_curve, "--", "test")):
                series = values[a, :, i]
                ax.plot(m.epochs, np.nanmean(series, axis=1), style, color=COLOURS[model], label=f"{model} {label}")
                ax.fill_between(m.epochs, np.nanmin(series, axis=1), np.nanmax(series, axis=1),
                                color=COLOURS[model], alpha=0.12)
        ax.axhline(noise ** 2, color="black", lw=1, ls=":", label="noise floor σ²")
        ax.set_yscale("log")
        ax.set_xlabel("epoch (full-batch step)")
        ax.set_ylabel("mean squared error")
        ax.set_title(f"σ = {noise:g}")
        ax.legend(fontsize=8)
    figure.suptitle(f"Loss curves: mean over {config.n_seeds} seeds, band = min–max")
    figure.tight_layout()
    return figure


def fits_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(5 * len(m.noise_stds), 4))
    axes = np.atleast_1d(figure.subplots(1, len(m.noise_stds), squeeze=False)[0])
    for i, (ax, noise) in enumerate(zip(axes, m.noise_stds)):
        ax.scatter(m.data_x[i], m.data_y[i], s=10, color="#777", label="training data (seed 0)")
        ax.plot(m.curve_x, SLOPE * m.curve_x, color="black", lw=1, ls=":", label="true function 3x")
        for a, model in enumerate(MODELS):
            for s in range(config.n_seeds):
                ax.plot(m.curve_x, m.curve_y[a, i, s], color=COLOURS[model], lw=1.5 if s == 0 else 0.5,
                        alpha=1.0 if s == 0 else 0.4, label=model if s == 0 else None)
        ax.set_title(f"σ = {noise:g}: fitted functions (thin lines: other seeds)")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, m: Measurements) -> dict:
    scalars: dict = {}
    steps = m.epochs.tolist()
    for a, model in enumerate(MODELS):
        for i, noise in enumerate(m.noise_stds):
            for s in range(config.n_seeds):
                scalars[f"noise{noise:g}/{model}/seed{s}"] = {
                    "loss/train": list(zip(steps, m.train_curve[a, :, i, s].tolist())),
                    "loss/test": list(zip(steps, m.test_curve[a, :, i, s].tolist())),
                }
    return scalars


def present(config: Config, m: Measurements) -> Presentation:
    return Presentation(
        tables=[architecture_table(config), results_table(config, m)],
        figures={"architectures": architecture_figure(config), "loss_curves": loss_curves_figure(config, m),
                 "fits": fits_figure(config, m)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(config, m),
        captions={
            "architectures": "The two networks, one column of units per layer, with each weight matrix's shape.",
            "loss_curves": "Train and test MSE during training at each noise level, mean over seeds with a "
                           "min–max band, against the noise floor σ².",
            "fits": "The function each network learned at each noise level, against the true line y = 3x and "
                    "seed 0's training data.",
        })


# --- run ---------------------------------------------------------------------------------------------------


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train both architectures at every noise level and seed, judge the three findings, and present the fits."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))
