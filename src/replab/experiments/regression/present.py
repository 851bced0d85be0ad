"""The regression's notes, tables, figures and TensorBoard scalars."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.data.synthetic import TARGETS
from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.regression.config import TARGET_LABELS, Config
from replab.experiments.regression.judge import relative_change_at_end
from replab.experiments.regression.measure import MODELS, Measurements
from replab.nn.mlp import parameter_count


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
             parameter_count(config.layer_sizes(model))] for model in MODELS]
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
        ax.set_title(f"{model}: {'-'.join(map(str, sizes))}, {parameter_count(sizes)} parameters", fontsize=10)
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
