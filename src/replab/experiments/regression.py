"""A small network in low-level TensorFlow fitting noisy data, and what a second hidden layer buys.

Every (noise level, seed) pair is one member of a population: each architecture trains all of its
networks at once in one compiled graph, full-batch gradient descent as in the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn
from replab.claims import Claim, judge
from replab.data.synthetic import Split, noisy_line
from replab.errors import check_positive_int, check_seed, require
from replab.experiments.base import Progress, Result, Table, no_progress

NAME = "regression"
TITLE = "A small low-level TensorFlow network on noisy y = 3x: does a deeper net fit noisier data better?"
QUESTION = ("A network of one hidden layer of 10 ReLU units, written with tf.Variable and tf.GradientTape, fits "
            "y = 3x + noise. Does it reach the noise floor, and does a second hidden layer fit the noisier data "
            "better, judged on held-out data?")

SLOPE = 3.0
MODELS = ("shallow", "deep")


@dataclass(frozen=True)
class Config:
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
    """'Close to the noise floor' means test MSE at most close_factor × σ²."""
    converged_change: float = 0.01
    """'Converged' means the train loss changed by at most this fraction over the last 10% of epochs."""
    seed: int = 0

    def __post_init__(self) -> None:
        check_seed(self.seed)
        require(len(self.noise_stds) >= 1 and all(s > 0 for s in self.noise_stds),
                f"noise_stds must be one or more positive numbers, got {self.noise_stds}")
        require(list(self.noise_stds) == sorted(set(self.noise_stds)),
                f"noise_stds must be strictly increasing, got {self.noise_stds}")
        for name in ("shallow_hidden", "deep_hidden"):
            widths = getattr(self, name)
            require(len(widths) >= 1 and all(w >= 1 for w in widths),
                    f"{name} must list one or more positive layer widths, got {widths}")
        check_positive_int("n_train", self.n_train, minimum=2)
        check_positive_int("n_test", self.n_test, minimum=2)
        check_positive_int("epochs", self.epochs, minimum=10)
        check_positive_int("n_seeds", self.n_seeds, minimum=2)
        check_positive_int("record_every", self.record_every)
        require(self.record_every <= self.epochs, f"record_every ({self.record_every}) exceeds epochs ({self.epochs})")
        require(0 < self.learning_rate < 10, f"learning_rate must lie in (0, 10), got {self.learning_rate}")
        require(self.close_factor > 1, f"close_factor must exceed 1, got {self.close_factor}")
        require(0 < self.converged_change < 1, f"converged_change must lie in (0, 1), got {self.converged_change}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_test=200, epochs=300, n_seeds=3, record_every=10)

    def layer_sizes(self, model: str) -> list[int]:
        hidden = self.shallow_hidden if model == "shallow" else self.deep_hidden
        return [1, *hidden, 1]


@dataclass
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


def run(config: Config, progress: Progress = no_progress) -> Result:
    splits = make_splits(config)
    trainings = {}
    for index, model in enumerate(MODELS):
        progress(index, len(MODELS), f"training {model} network × {len(splits)}")
        trainings[model] = train_population(config, model, splits)
    progress(len(MODELS), len(MODELS), "done")
    summary = summarize(config, trainings)
    return Result(
        metrics=summary,
        tables=[architecture_table(config), results_table(config, summary)],
        figures={
            "architectures": architecture_figure(config),
            "loss_curves": loss_curves_figure(config, trainings),
            "fits": fits_figure(config, splits, trainings),
        },
        claims=judge_claims(config, summary, trainings),
        notes=notes(config, summary),
        scalars=tensorboard_scalars(config, trainings),
    )


# --- data and training -----------------------------------------------------------------------------


def data_seed(config: Config, seed_index: int) -> int:
    """The same seed at every noise level: same x and same standard-normal draws, scaled by σ."""
    return config.seed * 1000 + seed_index


def make_splits(config: Config) -> list[Split]:
    return [noisy_line(config.n_train, config.n_test, noise, data_seed(config, s), slope=SLOPE)
            for noise in config.noise_stds for s in range(config.n_seeds)]


def train_population(config: Config, model: str, splits: list[Split]) -> Training:
    population = len(splits)
    seeds = [data_seed(config, k % config.n_seeds) for k in range(population)]
    params = nn.init_mlp(config.layer_sizes(model), population=population, seed=seeds, weight_init=config.weight_init)
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


# --- measurements ------------------------------------------------------------------------------------


def by_noise(config: Config, values: np.ndarray) -> np.ndarray:
    """(K,) member values -> (n_noise, n_seeds)."""
    return np.asarray(values).reshape(len(config.noise_stds), config.n_seeds)


def summarize(config: Config, trainings: dict[str, Training]) -> dict:
    summary: dict = {"noise_stds": list(config.noise_stds), "parameters": {}, "levels": {}}
    for model in MODELS:
        summary["parameters"][model] = nn.parameter_count(config.layer_sizes(model))
        summary[f"steps_per_second_{model}"] = trainings[model].steps_per_second
    for i, noise in enumerate(config.noise_stds):
        level = {"noise_std": noise, "noise_floor": noise ** 2}
        for model, training in trainings.items():
            train = by_noise(config, training.final_train_mse)[i]
            test = by_noise(config, training.final_test_mse)[i]
            level[model] = {
                "train_mse": train.tolist(), "test_mse": test.tolist(),
                "train_mse_mean": float(train.mean()), "train_mse_std": float(train.std(ddof=1)),
                "test_mse_mean": float(test.mean()), "test_mse_std": float(test.std(ddof=1)),
                "diverged": int((by_noise(config, training.diverged_at)[i] >= 0).sum()),
            }
        summary["levels"][f"{noise:g}"] = level
    return summary


def paired_advantage(shallow: list[float], deep: list[float]) -> tuple[float, float]:
    """Mean of (shallow − deep) test MSE over seeds and its t statistic (positive: deep is better)."""
    differences = np.asarray(shallow) - np.asarray(deep)
    standard_error = differences.std(ddof=1) / np.sqrt(len(differences))
    t = float(differences.mean() / standard_error) if standard_error > 0 else float("inf") * np.sign(differences.mean())
    return float(differences.mean()), t


def relative_change_at_end(train_loss: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """|L(end) − L(90% of training)| / L(90%), per member."""
    reference = np.searchsorted(epochs, 0.9 * epochs[-1])
    before, after = train_loss[reference], train_loss[-1]
    return np.abs(after - before) / before


def judge_claims(config: Config, summary: dict, trainings: dict[str, Training]) -> list[Claim]:
    levels = summary["levels"]
    low, high = levels[f"{config.noise_stds[0]:g}"], levels[f"{config.noise_stds[-1]:g}"]
    shallow_low = low["shallow"]["test_mse_mean"]
    fits = shallow_low <= config.close_factor * low["noise_floor"]
    claims = [judge(
        "shallow-fits-low-noise",
        f"One hidden layer of {config.shallow_hidden[0]} ReLU units fits the low-noise data: test MSE close to σ²",
        fits,
        f"σ = {low['noise_std']:g}: test MSE {shallow_low:.4f} ± {low['shallow']['test_mse_std']:.4f} over "
        f"{config.n_seeds} seeds vs noise floor σ² = {low['noise_floor']:.4f} (ratio {shallow_low / low['noise_floor']:.2f}; "
        f"'close' means ≤ {config.close_factor:g}×σ²); train MSE {low['shallow']['train_mse_mean']:.4f}.")]

    mean_advantage, t = paired_advantage(high["shallow"]["test_mse"], high["deep"]["test_mse"])
    verdict = True if t > 2 else (False if mean_advantage <= 0 else None)
    claims.append(judge(
        "deeper-fits-noisier-better",
        "The deeper model fits the noisier data better (on held-out data, against the one-layer model at the same noise)",
        verdict,
        f"σ = {high['noise_std']:g}: test MSE deep {high['deep']['test_mse_mean']:.4f} ± {high['deep']['test_mse_std']:.4f}, "
        f"shallow {high['shallow']['test_mse_mean']:.4f} ± {high['shallow']['test_mse_std']:.4f} (σ² = {high['noise_floor']:.4f}); "
        f"paired shallow − deep = {mean_advantage:+.4f}, t = {t:.2f} over {config.n_seeds} seeds (holds if t > 2, "
        f"fails if the deep net is not better on average); train MSE deep {high['deep']['train_mse_mean']:.4f}, "
        f"shallow {high['shallow']['train_mse_mean']:.4f}."))

    changes = {model: relative_change_at_end(t.train_loss, t.epochs) for model, t in trainings.items()}
    worst = max(float(np.nanmax(change)) for change in changes.values())
    diverged = sum(int((t.diverged_at >= 0).sum()) for t in trainings.values())
    claims.append(judge(
        "loss-converges",
        "The training loss converges",
        worst <= config.converged_change and diverged == 0,
        f"over the last 10% of {config.epochs} epochs the train loss changed by at most {worst:.2%} "
        f"(shallow median {np.nanmedian(changes['shallow']):.2%}, deep median {np.nanmedian(changes['deep']):.2%}; "
        f"threshold {config.converged_change:.0%}); {diverged} of {2 * len(config.noise_stds) * config.n_seeds} networks diverged."))
    return claims


def notes(config: Config, summary: dict) -> list[str]:
    params = summary["parameters"]
    texts = [
        f"Shapes make the architecture visible: W1 has shape (1, {config.shallow_hidden[0]}) because it maps the one input "
        f"to {config.shallow_hidden[0]} hidden units, so the one-hidden-layer net has {params['shallow']} parameters; the "
        f"two-hidden-layer net adds a ({config.deep_hidden[0]}, {config.deep_hidden[-1]}) matrix and has {params['deep']}."]
    for key, level in summary["levels"].items():
        texts.append(
            f"At σ = {key}, the best possible test MSE is σ² = {level['noise_floor']:.4f}. The shallow net reaches "
            f"{level['shallow']['test_mse_mean']:.4f} (train {level['shallow']['train_mse_mean']:.4f}), the deep net "
            f"{level['deep']['test_mse_mean']:.4f} (train {level['deep']['train_mse_mean']:.4f}). A train MSE below σ² "
            f"is noise being memorised, not signal.")
    return texts


# --- tables and figures ---------------------------------------------------------------------------------


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


def results_table(config: Config, summary: dict) -> Table:
    rows = []
    for key, level in summary["levels"].items():
        for model in MODELS:
            stats = level[model]
            rows.append([float(key), level["noise_floor"], model,
                         f"{stats['train_mse_mean']:.4f} ± {stats['train_mse_std']:.4f}",
                         f"{stats['test_mse_mean']:.4f} ± {stats['test_mse_std']:.4f}",
                         stats["test_mse_mean"] / level["noise_floor"]])
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


def loss_curves_figure(config: Config, trainings: dict[str, Training]) -> Figure:
    figure = Figure(figsize=(5 * len(config.noise_stds), 4))
    axes = np.atleast_1d(figure.subplots(1, len(config.noise_stds), squeeze=False)[0])
    colours = {"shallow": "C0", "deep": "C3"}
    for i, (ax, noise) in enumerate(zip(axes, config.noise_stds)):
        for model, training in trainings.items():
            members = slice(i * config.n_seeds, (i + 1) * config.n_seeds)
            for values, style, label in ((training.train_loss, "-", "train"), (training.test_mse, "--", "test")):
                series = values[:, members]
                mean = np.nanmean(series, axis=1)
                ax.plot(training.epochs, mean, style, color=colours[model], label=f"{model} {label}")
                ax.fill_between(training.epochs, np.nanmin(series, axis=1), np.nanmax(series, axis=1),
                                color=colours[model], alpha=0.12)
        ax.axhline(noise ** 2, color="black", lw=1, ls=":", label="noise floor σ²")
        ax.set_yscale("log")
        ax.set_xlabel("epoch (full-batch step)")
        ax.set_ylabel("mean squared error")
        ax.set_title(f"σ = {noise:g}")
        ax.legend(fontsize=8)
    figure.suptitle(f"Loss curves: mean over {config.n_seeds} seeds, band = min–max")
    figure.tight_layout()
    return figure


def fits_figure(config: Config, splits: list[Split], trainings: dict[str, Training]) -> Figure:
    figure = Figure(figsize=(5 * len(config.noise_stds), 4))
    axes = np.atleast_1d(figure.subplots(1, len(config.noise_stds), squeeze=False)[0])
    colours = {"shallow": "C0", "deep": "C3"}
    for i, (ax, noise) in enumerate(zip(axes, config.noise_stds)):
        first = i * config.n_seeds
        split = splits[first]
        ax.scatter(split.x_train[:, 0], split.y_train[:, 0], s=10, color="#777", label="training data (seed 0)")
        grid = trainings["shallow"].curve_x
        ax.plot(grid, SLOPE * grid, color="black", lw=1, ls=":", label="true function 3x")
        for model, training in trainings.items():
            for k in range(first, first + config.n_seeds):
                ax.plot(grid, training.curve_y[k], color=colours[model], lw=1.5 if k == first else 0.5,
                        alpha=1.0 if k == first else 0.4, label=model if k == first else None)
        ax.set_title(f"σ = {noise:g}: fitted functions (thin lines: other seeds)")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, trainings: dict[str, Training]) -> dict:
    scalars: dict = {}
    for model, training in trainings.items():
        for k in range(training.train_loss.shape[1]):
            noise = config.noise_stds[k // config.n_seeds]
            group = f"noise{noise:g}/{model}/seed{k % config.n_seeds}"
            scalars[group] = {
                "loss/train": list(zip(training.epochs.tolist(), training.train_loss[:, k].tolist())),
                "loss/test": list(zip(training.epochs.tolist(), training.test_mse[:, k].tolist())),
            }
    return scalars
