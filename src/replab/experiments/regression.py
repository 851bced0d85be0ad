"""A small network in low-level TensorFlow fitting noisy data, and what a second hidden layer buys.

Two targets — the seed's line y = 3x and the nonlinear y = sin 3x, where depth can matter — at three noise
levels. Every (target, noise level, seed) triple is one member of a population: each architecture trains all of
its networks at once in one compiled graph, full batch. Seed s draws the same x, the same standard-normal noise
(scaled by σ) and the same initial weights for both architectures and every target and noise level, so the
comparisons between them are paired by seed; each seed has its own data and its own initial weights.

Fit is judged by the excess risk, the mean squared distance between the learned function and the TRUE function
on held-out inputs (test MSE on noisy targets is that plus σ², and the noise of the draw).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab import nn, stats
from replab.claims import Claim, EvidenceBase, decide, finding
from replab.data.synthetic import TARGETS, RegressionSplit, noisy_target
from replab.experiments import base
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress
from replab.experiments.regression_config import TARGET_LABELS, Config
from replab.nn.population import Grid

NAME = "regression"
TITLE = "A small low-level TensorFlow network on noisy y = 3x and y = sin 3x: what does a second hidden layer buy?"
QUESTION = ("A network of one hidden layer of 10 ReLU units, written with tf.Variable and tf.GradientTape, fits "
            "y = 3x + noise and y = sin 3x + noise. Does it reach the true function, and does a second hidden layer "
            "fit better — on the line at high noise, and on the nonlinear target at each noise level — judged by "
            "the excess risk against the true function on held-out inputs?")

MODELS = ("shallow", "deep")
LINEAR_TARGET = "line"


@dataclass(frozen=True)
class Training:
    """One architecture's population: members ordered target-major, then noise, then seed."""
    model: str
    epochs: np.ndarray             # (R,)
    train_loss: np.ndarray         # (R, K)
    excess_curve: np.ndarray       # (R, K) excess risk on the test inputs during training
    final_train_mse: np.ndarray    # (K,)
    final_test_mse: np.ndarray     # (K,) against the noisy test targets
    final_excess: np.ndarray       # (K,) against the true function
    curve_x: np.ndarray            # (G,)
    curve_y: np.ndarray            # (K, G)
    diverged_at: np.ndarray        # (K,)
    steps_per_second: float
    record_times: np.ndarray       # (R,) wall time (seconds since the epoch) of each record, for TensorBoard


@dataclass(frozen=True)
class Measurements(base.Measurements):
    """Both architectures (A = 2: shallow, deep) for every target (T), noise level (N) and seed (S)."""

    targets: tuple[str, ...]       # (T,)
    noise_stds: np.ndarray         # (N,)
    parameters: np.ndarray         # (A,) trainable parameters of each architecture
    epochs: np.ndarray             # (R,) steps at which the curves were recorded
    train_curve: np.ndarray        # (A, R, T, N, S) train loss during training
    excess_curve: np.ndarray       # (A, R, T, N, S) excess risk during training
    train_mse: np.ndarray          # (A, T, N, S) at the end of training
    test_mse: np.ndarray           # (A, T, N, S) against noisy held-out targets
    excess: np.ndarray             # (A, T, N, S) against the true function on held-out inputs
    diverged_at: np.ndarray        # (A, T, N, S) step at which the loss stopped being finite, −1 if never
    curve_x: np.ndarray            # (G,) inputs the fitted functions are drawn at
    curve_y: np.ndarray            # (A, T, N, S, G)
    data_x: np.ndarray             # (T, N, n_train) seed 0's training inputs
    data_y: np.ndarray             # (T, N, n_train)
    steps_per_second: np.ndarray   # (A,)
    record_times: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), metadata=base.WHEN_MEASURED)
    """(A, R) wall time of each record, per architecture (each is its own fit), for TensorBoard."""

    def to_metrics(self) -> dict:
        """result.json's metrics: per target, noise level and architecture, the final errors of every seed."""
        targets = {}
        for t, target in enumerate(self.targets):
            levels = {}
            for i, noise in enumerate(self.noise_stds):
                level = {"noise_std": float(noise), "noise_floor": float(noise) ** 2}
                for a, model in enumerate(MODELS):
                    train, test, excess = self.train_mse[a, t, i], self.test_mse[a, t, i], self.excess[a, t, i]
                    level[model] = {
                        "train_mse": train.tolist(), "test_mse": test.tolist(), "excess_risk": excess.tolist(),
                        "train_mse_mean": float(train.mean()), "test_mse_mean": float(test.mean()),
                        "excess_risk_mean": float(excess.mean()), "excess_risk_std": float(excess.std(ddof=1)),
                        "diverged": int((self.diverged_at[a, t, i] >= 0).sum()),
                    }
                levels[f"{noise:g}"] = level
            targets[target] = levels
        metrics = {"targets": list(self.targets), "noise_stds": self.noise_stds.tolist(),
                   "parameters": {model: int(self.parameters[a]) for a, model in enumerate(MODELS)},
                   "levels": targets}
        for a, model in enumerate(MODELS):
            metrics[f"steps_per_second_{model}"] = float(self.steps_per_second[a])
        return base.to_jsonable(metrics)


# --- data and training -----------------------------------------------------------------------------


def grid(config: Config) -> Grid:
    """(target, noise) cells × seeds; seed s is the same in every cell and for both architectures."""
    cells = [(target, noise) for target in config.targets for noise in config.noise_stds]
    return Grid.of(cells, config.n_seeds, config.seed)


def data_seed(config: Config, seed_index: int) -> int:
    """The same seed in every cell: same x and same standard-normal draws, scaled by σ."""
    return grid(config).seed_of(seed_index)


def make_splits(config: Config) -> list[RegressionSplit]:
    cells = grid(config)
    return [noisy_target(target, config.n_train, config.n_test, noise, seed)
            for (target, noise), seed in zip(cells.members(), cells.member_seeds())]


def make_optimizer(config: Config, params):
    if config.optimizer == "adam":
        return nn.Adam(params, config.learning_rate)
    return nn.SGD(params, config.learning_rate)


def train_population(config: Config, model: str, splits: list[RegressionSplit]) -> Training:
    """Every member of the population in one compiled graph (nn.fit), full batch, each on its own data."""
    seeds = grid(config).member_seeds()
    params = nn.init_mlp(config.layer_sizes(model), population=len(splits), seed=seeds, weight_init=config.weight_init)
    x_train = np.stack([s.x_train for s in splits])
    y_train = np.stack([s.y_train for s in splits])
    x_test = tf.constant(np.stack([s.x_test for s in splits]))
    y_test = tf.constant(np.stack([s.y_test for s in splits]))
    f_test = tf.constant(np.stack([s.f_test for s in splits]))

    def loss_fn(params, xb, yb, step):
        return nn.mean_squared_error(nn.mlp_forward(params, xb), yb)

    def excess_risk():
        return nn.mean_squared_error(nn.mlp_forward(params, x_test), f_test)

    history = nn.fit(loss_fn, params, make_optimizer(config, params), x_train, y_train,
                     steps=config.epochs, record_every=config.record_every, metrics={"excess": excess_risk},
                     seed=config.seed, per_member_data=True)
    curve_x = np.linspace(-1.0, 1.0, 201, dtype=np.float32)[:, None]
    curve_y = nn.mlp_forward(params, curve_x).numpy()[..., 0]
    final_train = nn.mean_squared_error(nn.mlp_forward(params, x_train), y_train).numpy()
    final_test = nn.mean_squared_error(nn.mlp_forward(params, x_test), y_test).numpy()
    return Training(model, history.steps, history.loss, history.metrics["excess"], final_train, final_test,
                    excess_risk().numpy(), curve_x[:, 0], curve_y, history.diverged_at, history.steps_per_second,
                    history.record_times)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train both architectures' populations on the same splits and collect their curves and final errors."""
    splits = make_splits(config)
    cells = grid(config)
    T, N, S = len(config.targets), len(config.noise_stds), config.n_seeds
    trainings = []
    for index, model in enumerate(MODELS):
        progress(index, len(MODELS), f"training {model} network × {len(splits)}")
        trainings.append(train_population(config, model, splits))
    progress(len(MODELS), len(MODELS), "done")

    def stack(name: str) -> np.ndarray:
        """(A, [R,] T, N, S): the members (the last axis of each training array) back into their cells."""
        return np.stack([cells.per_cell(getattr(t, name)).reshape(np.shape(getattr(t, name))[:-1] + (T, N, S))
                         for t in trainings])

    curve_y = np.stack([np.moveaxis(cells.per_cell(np.moveaxis(t.curve_y, 0, -1)).reshape(-1, T, N, S), 0, -1)
                        for t in trainings])
    first = [[cells.member(t * N + i, 0) for i in range(N)] for t in range(T)]
    return Measurements(
        targets=tuple(config.targets), noise_stds=np.asarray(config.noise_stds, float),
        parameters=np.array([nn.parameter_count(config.layer_sizes(model)) for model in MODELS]),
        epochs=np.asarray(trainings[0].epochs),
        train_curve=stack("train_loss"), excess_curve=stack("excess_curve"),
        train_mse=stack("final_train_mse"), test_mse=stack("final_test_mse"), excess=stack("final_excess"),
        diverged_at=stack("diverged_at"), curve_x=np.asarray(trainings[0].curve_x), curve_y=curve_y,
        data_x=np.array([[splits[k].x_train[:, 0] for k in row] for row in first]),
        data_y=np.array([[splits[k].y_train[:, 0] for k in row] for row in first]),
        steps_per_second=np.array([t.steps_per_second for t in trainings], float),
        record_times=np.stack([t.record_times for t in trainings]))


# --- claims ------------------------------------------------------------------------------------------


def relative_change_at_end(train_loss: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """|L(end) − L(90% of training)| / L(90%), per member (the member axes follow the step axis)."""
    reference = np.searchsorted(epochs, 0.9 * epochs[-1])
    before, after = train_loss[reference], train_loss[-1]
    return np.abs(after - before) / before


def _base(config: Config, **extra) -> EvidenceBase:
    return EvidenceBase(seeds=config.n_seeds, quick=config.quick, **extra)


def _target_index(m: Measurements, target: str) -> int | None:
    return m.targets.index(target) if target in m.targets else None


def _sd(values: np.ndarray) -> str:
    return f"{values.mean():.4f} ± {values.std(ddof=1):.4f}"


def claim_shallow_fits(config: Config, m: Measurements, t: int) -> Claim:
    noise = float(m.noise_stds[0])
    floor = noise ** 2
    excess = m.excess[0, t, 0]
    ratio = (excess + floor) / floor
    test = stats.one_sample(ratio, f"{TARGET_LABELS[m.targets[t]]}, σ = {noise:g}", null=config.close_factor)
    return finding(
        "shallow-fits-low-noise",
        f"One hidden layer of {config.shallow_hidden[0]} ReLU units fits the low-noise line: its expected test MSE "
        f"(excess risk + σ²) is close to σ² (below {config.close_factor:g}×σ²)",
        effect="(excess risk + σ²) / σ² of the shallow net at the lowest noise, against the 'close' bound",
        direction="less", tests=[test],
        evidence=(f"{TARGET_LABELS[m.targets[t]]}, σ = {noise:g}: excess risk against the true function on "
                  f"{config.n_test} held-out inputs {_sd(excess)} (mean ± sd) over {excess.size} seeds vs σ² = "
                  f"{floor:.4f}; (excess + σ²)/σ² mean {ratio.mean():.3f} (95% CI {test.ci_low:.3f} to "
                  f"{test.ci_high:.3f}); 'close' means below {config.close_factor:g}, tested one-sided over seeds; "
                  f"train MSE {m.train_mse[0, t, 0].mean():.4f}, test MSE on noisy targets "
                  f"{m.test_mse[0, t, 0].mean():.4f}."),
        base=_base(config, examples=config.n_test))


def _deeper_test(m: Measurements, t: int, i: int):
    shallow, deep = m.excess[0, t, i], m.excess[1, t, i]
    return stats.paired(shallow, deep, f"{TARGET_LABELS[m.targets[t]]}, σ = {float(m.noise_stds[i]):g}")


def _deeper_evidence(config: Config, m: Measurements, t: int, i: int, test) -> str:
    noise = float(m.noise_stds[i])
    shallow, deep = m.excess[0, t, i], m.excess[1, t, i]
    return (f"{TARGET_LABELS[m.targets[t]]}, σ = {noise:g}: excess risk deep {_sd(deep)}, shallow {_sd(shallow)} "
            f"(mean ± sd over {shallow.size} seeds; σ² = {noise ** 2:.4f}); paired shallow − deep = {test.effect:+.5f} "
            f"(95% CI {test.ci_low:+.5f} to {test.ci_high:+.5f}); train MSE deep {m.train_mse[1, t, i].mean():.4f}, "
            f"shallow {m.train_mse[0, t, i].mean():.4f}")


def claim_deeper_better(config: Config, m: Measurements, t: int) -> Claim:
    i = len(m.noise_stds) - 1
    test = _deeper_test(m, t, i)
    return finding(
        "deeper-fits-noisier-better",
        "On the noisiest line the deeper model fits better (excess risk against the true function on held-out "
        "inputs, against the one-layer model at the same noise)",
        effect=f"shallow − deep excess risk at σ = {float(m.noise_stds[i]):g}, paired by seed (positive: deeper is better)",
        direction="greater", tests=[test], evidence=_deeper_evidence(config, m, t, i, test) + ".",
        base=_base(config, examples=config.n_test))


def claim_deeper_nonlinear(config: Config, m: Measurements, t: int, i: int) -> Claim:
    noise = float(m.noise_stds[i])
    test = _deeper_test(m, t, i)
    return finding(
        f"deeper-better-{m.targets[t]}-noise-{noise:g}",
        f"On {TARGET_LABELS[m.targets[t]]} at σ = {noise:g} the deeper model fits better (excess risk against the true "
        f"function on held-out inputs)",
        effect=f"shallow − deep excess risk, paired by seed (positive: deeper is better)",
        direction="greater", tests=[test], evidence=_deeper_evidence(config, m, t, i, test) + ".",
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
        parts.append(f"{model}: mean {finite.mean():.2%}, median {np.median(finite):.2%}, largest {finite.max():.2%} "
                     f"over {finite.size} networks" + (f", {diverged} diverged" if diverged else "")
                     if finite.size else f"{model}: every network diverged")
    return finding(
        "loss-converges",
        f"The training loss has converged by the end of the budget (it changes by less than "
        f"{config.converged_change:.0%} over the last 10% of {config.epochs} epochs)",
        effect="relative change of the train loss over the last 10% of epochs, against the bound",
        direction="less", tests=tests,
        evidence=(f"{config.optimizer} at lr {config.learning_rate:g}, full batch, {config.epochs} epochs; over the "
                  f"last 10% the train loss changed by " + "; ".join(parts)
                  + f" (every target, noise level and seed; bound {config.converged_change:.0%}, tested one-sided "
                    f"per architecture)."),
        base=_base(config, examples=m.train_mse[0].size))


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Findings: on the line, the shallow net against the noise floor and deep against shallow at the highest
    noise; on every nonlinear target, deep against shallow at each noise level; and convergence."""
    claims = []
    line = _target_index(m, LINEAR_TARGET)
    if line is not None:
        claims += [claim_shallow_fits(config, m, line), claim_deeper_better(config, m, line)]
    for t, target in enumerate(m.targets):
        if target != LINEAR_TARGET:
            claims += [claim_deeper_nonlinear(config, m, t, i) for i in range(len(m.noise_stds))]
    claims.append(claim_loss_converges(config, m))
    return decide(claims)


# --- notes, tables, figures ---------------------------------------------------------------------------------


def notes(config: Config, m: Measurements) -> list[str]:
    params = dict(zip(MODELS, m.parameters.tolist()))
    texts = [
        f"Shapes make the architecture visible: W1 has shape (1, {config.shallow_hidden[0]}) because it maps the one input "
        f"to {config.shallow_hidden[0]} hidden units, so the one-hidden-layer net has {params['shallow']} parameters; the "
        f"two-hidden-layer net adds a ({config.deep_hidden[0]}, {config.deep_hidden[-1]}) matrix and has {params['deep']}.",
        "Excess risk is the mean squared distance between the learned function and the true one on held-out inputs. "
        "The test MSE on noisy targets equals it plus σ² in expectation, and adds the sampling noise of the test "
        "targets, so the excess risk is the fit itself.",
    ]
    for t, target in enumerate(m.targets):
        for i, noise in enumerate(m.noise_stds):
            texts.append(
                f"{TARGET_LABELS[target]}, σ = {noise:g}: excess risk shallow {m.excess[0, t, i].mean():.4f}, deep "
                f"{m.excess[1, t, i].mean():.4f} (train MSE {m.train_mse[0, t, i].mean():.4f} and "
                f"{m.train_mse[1, t, i].mean():.4f} against σ² = {noise ** 2:.4f}: a train MSE below σ² is noise "
                f"being memorised, not signal).")
    change = [relative_change_at_end(m.train_curve[a], m.epochs) for a in range(len(MODELS))]
    texts.append(f"Budget: {config.epochs} full-batch epochs of {config.optimizer} at lr {config.learning_rate:g}. Over "
                 f"the last 10% the train loss moved by a median of {np.nanmedian(change[0]):.3%} (shallow) and "
                 f"{np.nanmedian(change[1]):.3%} (deep); the loss curves show the plateau.")
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
    for t, target in enumerate(m.targets):
        for i, noise in enumerate(m.noise_stds):
            for a, model in enumerate(MODELS):
                train, test, excess = m.train_mse[a, t, i], m.test_mse[a, t, i], m.excess[a, t, i]
                rows.append([TARGET_LABELS[target], float(noise), float(noise) ** 2, model,
                             f"{train.mean():.4f} ± {train.std(ddof=1):.4f}", f"{test.mean():.4f} ± {test.std(ddof=1):.4f}",
                             f"{excess.mean():.5f} ± {excess.std(ddof=1):.5f}", float(excess.mean() / noise ** 2)])
    return Table("Fit per target and noise level (mean ± std over seeds)",
                 ["target", "noise σ", "noise floor σ²", "model", "train MSE", "test MSE (noisy targets)",
                  "excess risk (true function)", "excess risk / σ²"], rows,
                 caption=f"{config.n_train} training points, {config.n_test} held-out points, {config.epochs} full-batch "
                         f"epochs of {config.optimizer} at lr {config.learning_rate:g}, {config.n_seeds} seeds (each "
                         f"its own data and initial weights).")


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


def _panel_grid(m: Measurements):
    figure = Figure(figsize=(5 * len(m.noise_stds), 4 * len(m.targets)))
    axes = figure.subplots(len(m.targets), len(m.noise_stds), squeeze=False)
    return figure, axes


def loss_curves_figure(config: Config, m: Measurements) -> Figure:
    figure, axes = _panel_grid(m)
    for t, target in enumerate(m.targets):
        for i, noise in enumerate(m.noise_stds):
            ax = axes[t, i]
            for a, model in enumerate(MODELS):
                for values, style, label in ((m.train_curve, "-", "train MSE"), (m.excess_curve, "--", "excess risk")):
                    series = values[a, :, t, i]
                    ax.plot(m.epochs, np.nanmean(series, axis=1), style, color=COLOURS[model], label=f"{model} {label}")
                    ax.fill_between(m.epochs, np.nanmin(series, axis=1), np.nanmax(series, axis=1),
                                    color=COLOURS[model], alpha=0.12)
            ax.axhline(noise ** 2, color="black", lw=1, ls=":", label="noise floor σ²")
            ax.axvspan(0.9 * m.epochs[-1], m.epochs[-1], color="#ddd", alpha=0.5, label="last 10% (convergence)")
            ax.set_yscale("log")
            ax.set_xlabel("epoch (full-batch step)")
            ax.set_ylabel("mean squared error")
            ax.set_title(f"{TARGET_LABELS[target]}, σ = {noise:g}")
            ax.legend(fontsize=7)
    figure.suptitle(f"Train loss and excess risk during training: mean over {config.n_seeds} seeds, band = min–max")
    figure.tight_layout()
    return figure


def fits_figure(config: Config, m: Measurements) -> Figure:
    figure, axes = _panel_grid(m)
    for t, target in enumerate(m.targets):
        truth = TARGETS[target](m.curve_x)
        for i, noise in enumerate(m.noise_stds):
            ax = axes[t, i]
            ax.scatter(m.data_x[t, i], m.data_y[t, i], s=10, color="#777", label="training data (seed 0)")
            ax.plot(m.curve_x, truth, color="black", lw=1, ls=":", label=f"true function {TARGET_LABELS[target]}")
            for a, model in enumerate(MODELS):
                for s in range(min(config.n_seeds, 10)):
                    ax.plot(m.curve_x, m.curve_y[a, t, i, s], color=COLOURS[model], lw=1.5 if s == 0 else 0.5,
                            alpha=1.0 if s == 0 else 0.4, label=model if s == 0 else None)
            ax.set_title(f"{TARGET_LABELS[target]}, σ = {noise:g} (thin lines: seeds 1–9)")
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, m: Measurements) -> dict:
    scalars: dict = {}
    steps = m.epochs.tolist()
    for a, model in enumerate(MODELS):
        times = base.wall_times(m.record_times[a] if m.record_times.size else (), len(steps))
        for t, target in enumerate(m.targets):
            for i, noise in enumerate(m.noise_stds):
                for s in range(config.n_seeds):
                    scalars[f"{target}/noise{noise:g}/{model}/seed{s}"] = {
                        "loss/train": list(zip(steps, m.train_curve[a, :, t, i, s].tolist(), times)),
                        "loss/excess_risk": list(zip(steps, m.excess_curve[a, :, t, i, s].tolist(), times)),
                    }
    return scalars


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (the networks' variables, the fit per noise level), the loss-curve, fitted-function and architecture
    figures with their captions, the notes and the TensorBoard loss curves.
    """
    return Presentation(
        tables=[architecture_table(config), results_table(config, m)],
        figures={"architectures": architecture_figure(config), "loss_curves": loss_curves_figure(config, m),
                 "fits": fits_figure(config, m)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(config, m),
        captions={
            "architectures": "The two networks, one column of units per layer, with each weight matrix's shape.",
            "loss_curves": "Train MSE and excess risk (against the true function) during training for each target "
                           "and noise level, mean over seeds with a min–max band, against the noise floor σ²; the "
                           "shaded last 10% is where convergence is judged.",
            "fits": "The function each network learned for each target and noise level, against the true function "
                    "and seed 0's training data.",
        })


# --- run ---------------------------------------------------------------------------------------------------


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Train both architectures on every target, noise level and seed, judge the findings, present the fits."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))
