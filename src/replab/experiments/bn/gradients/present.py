"""bn-gradients' notes, tables, figures and TensorBoard scalars."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from replab.experiments import base
from replab.experiments.base import Presentation, Table
from replab.experiments.bn import study
from replab.experiments.bn.gradients.config import Config
from replab.experiments.bn.gradients.judge import gradient_spread
from replab.experiments.bn.gradients.measure import COLOURS, HISTOGRAM_EDGES, LABELS, MODELS, Dataset, Measurements


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (Jacobian spectra per dataset, gradient norms per layer), the figures with their captions, the notes
    and the TensorBoard gradient series.
    """
    return Presentation(
        tables=[spectrum_table(config, d) for d in m.datasets] + [gradient_table(config, m.datasets)],
        figures={"gradient_norms": gradient_figure(config, m.datasets),
                 "singular_values": histogram_figure(config, m.datasets),
                 "spectrum_over_training": spectrum_figure(config, m.datasets)},
        notes=notes(config, m),
        scalars=tensorboard_scalars(m.datasets),
        captions={
            "gradient_norms": "Loss-gradient norms at each layer's sigmoid input and weights over training, without "
                              "(dashed) and with (solid) BN, on a fixed probe batch.",
            "singular_values": "Histograms of the layer Jacobians' singular values at the start and the end of "
                               "training, without and with BN, against the band within the factor of 1.",
            "spectrum_over_training": "Median, 10–90th percentile band and RMS of the hidden-to-hidden Jacobians' "
                                      "singular values over training, without and with BN.",
        },
    )




def notes(config: Config, m: Measurements) -> list[str]:
    out = [study.data_note(d.info) for d in m.datasets] + list(m.skip_notes)
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, plain SGD at rate {config.learning_rate:g}, batch {config.batch_size}, "
               f"{config.steps:,} steps) without and with BN, {config.n_seeds} seeds each, trained as one population.")
    out.append("J_l = ∂a_l/∂a_{l−1}, where a_l is the input to layer l's sigmoids (BN's output γx̂ + β with BN, Wu + b "
               "without) — the vectors whose consecutive pairs §3.3's argument is about. It is taken per example, with "
               "BN's mean and variance frozen at the probe batch's values (BN then is a fixed affine map, so J_l = "
               "diag(γ/σ_B)·Wᵀ·diag(σ'(a_{l−1})); the examples' coupling through the batch statistics is left out). "
               "J_1 is from the pixels, which are not normalised, so it is reported at the start and the end only and "
               "kept out of the claims.")
    out.append("The RMS singular value √(mean σ²) is the factor by which J_lᵀ scales a gradient pointing in a random "
               "direction, on average: it is what decides whether gradients keep their size. Singular values of a "
               "random square matrix spread over [0, 2×] their RMS (the quarter-circle law), so even a well-scaled "
               "layer has some small ones; the fraction within the factor and the condition number show that spread.")
    out.append("Gradient norms are the real training-mode gradients of the mean cross-entropy on the probe batch "
               "(through BN's batch statistics), computed without updating the moving averages.")
    return out


TABLE_SUMMARIES = ("rms", "geometric_mean", "median", "largest", "within", "mean_abs_log", "condition")


def spectrum_table(config: Config, d: Dataset) -> Table:
    rows = []
    for model in MODELS:
        net = d.network(model)
        for layer in range(1, len(config.hidden) + 1):
            for when, point in (("start", 0), ("end", -1)):
                if layer == 1:
                    summary = net.input_start if when == "start" else net.input_end
                    values = {key: getattr(summary, key) for key in TABLE_SUMMARIES}
                else:
                    values = {key: getattr(net.jacobians, key)[layer - 2][:, point] for key in TABLE_SUMMARIES}
                rows.append([LABELS[model], f"J_{layer}", when, *(float(np.mean(values[key])) for key in TABLE_SUMMARIES),
                             float(np.mean(net.activation_gradients[:, point, layer - 1])),
                             float(np.mean(net.weight_gradients[:, point, layer - 1]))])
    f = config.close_factor
    columns = ["network", "Jacobian", "when", "RMS σ", "geometric mean σ", "median σ", "mean σ_max",
               f"fraction in [1/{f:g}, {f:g}]", "mean |ln σ|", "median σ_max/σ_min", "‖∂L/∂a_l‖", "‖∂L/∂W_l‖"]
    return Table(f"Layer Jacobians and gradients on {d.label}", columns, rows,
                 caption=f"Means over {config.n_seeds} seeds; start = step 0, end = step {int(d.steps[-1]):,}. "
                         f"J_l = ∂a_l/∂a_(l−1) over {config.probe_size} probe images (J_1 from the pixels); "
                         "gradients of the mean loss on that batch at layer l.")


def gradient_table(config: Config, datasets: tuple[Dataset, ...]) -> Table:
    rows = []
    for d in datasets:
        for model in MODELS:
            spread = gradient_spread(d, model)
            weight = gradient_spread(d, model, "weight")
            net = d.network(model)
            rows.append([d.label, LABELS[model], study.pm(spread[:, 0], 2), study.pm(spread[:, -1], 2),
                         study.pm(np.exp(np.log(spread).mean(axis=1)), 2), study.pm(weight[:, 0], 2),
                         study.pm(weight[:, -1], 2), study.pm(net.test_accuracy), net.diverged_seeds])
    columns = ["dataset", "network", "‖∂L/∂a_l‖ max/min at start", "at end", "geometric mean over training",
               "‖∂L/∂W_l‖ max/min at start", "at end", "final test accuracy", "diverged seeds"]
    return Table("Gradient size across the hidden layers", columns, rows,
                 caption=f"max/min over the {len(config.hidden)} hidden layers (W: their weights, the output layer "
                         f"excluded); mean ± std over {config.n_seeds} seeds.")


def layer_colour(layer: int) -> str:
    return f"C{(layer + 1) % 10}"


def gradient_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure = Figure(figsize=(5.5 * len(datasets), 7.5))
    grid = figure.subplots(2, len(datasets), squeeze=False)
    for column, d in enumerate(datasets):
        for row, kind in enumerate(("activation", "weight")):
            ax = grid[row][column]
            for model, style in zip(MODELS, ("--", "-")):
                norms = getattr(d.network(model), f"{kind}_gradients")  # (seeds, points, layers)
                geometric = np.exp(np.log(norms).mean(axis=0))
                for layer in range(norms.shape[-1]):
                    ax.plot(d.steps, geometric[:, layer], style, color=layer_colour(layer),
                            label=f"layer {layer + 1}, {LABELS[model]}")
            ax.set_yscale("log")
            ax.set_xlabel("training step")
            ax.set_ylabel("‖∂L/∂a_l‖" if kind == "activation" else "‖∂L/∂W_l‖")
            where = "sigmoid input" if kind == "activation" else "weights"
            ax.set_title(f"{d.label}: gradient at each layer's {where}", fontsize=10)
            ax.legend(fontsize=6, ncol=2)
    figure.suptitle(f"Gradient norms on a fixed batch of {config.probe_size} training images (geometric mean over "
                    f"{config.n_seeds} seeds)\n(dashed: without BN, solid: with BN)", fontsize=10)
    figure.tight_layout()
    return figure


def histogram_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    hidden = len(config.hidden)
    columns = [(d, when) for d in datasets for when in ("start", "end")]
    figure = Figure(figsize=(3.6 * len(columns), 2.6 * hidden))
    grid = figure.subplots(hidden, len(columns), squeeze=False, sharex=True)
    centres = (HISTOGRAM_EDGES[:-1] + HISTOGRAM_EDGES[1:]) / 2
    width = HISTOGRAM_EDGES[1] - HISTOGRAM_EDGES[0]
    f = config.close_factor
    for c, (d, when) in enumerate(columns):
        for layer in range(hidden):
            ax = grid[layer][c]
            ax.axvspan(-np.log10(f), np.log10(f), color="grey", alpha=0.12)
            ax.axvline(0.0, color="grey", lw=0.8)
            for model in MODELS:
                net = d.network(model)
                counts = (net.histogram_start if when == "start" else net.histogram_end)[layer].astype(float)
                ax.step(centres, counts / max(counts.sum() * width, 1), where="mid", color=COLOURS[model],
                        label=LABELS[model])
            step = 0 if when == "start" else int(d.steps[-1])
            ax.set_title(f"{d.label}, J_{layer + 1}, step {step:,}", fontsize=9)
            if layer == hidden - 1:
                ax.set_xlabel("log10 singular value (below −4 counted at −4)")
            if c == 0:
                ax.set_ylabel("density")
            ax.legend(fontsize=6)
    figure.suptitle(f"Singular values of the layer Jacobians over {config.probe_size} probe images and "
                    f"{config.n_seeds} seeds\n(shaded: within a factor {f:g} of 1; J_1 is from the pixels)", fontsize=10)
    figure.tight_layout()
    return figure


def spectrum_figure(config: Config, datasets: tuple[Dataset, ...]) -> Figure:
    figure, axes = study.dataset_axes(len(datasets), height=4.8)
    f = config.close_factor
    for ax, d in zip(axes, datasets):
        ax.axhspan(1 / f, f, color="grey", alpha=0.12)
        for model, style in zip(MODELS, ("--", "-")):
            spectrum = d.network(model).jacobians
            for i, layer in enumerate(d.jacobian_layers):
                colour = layer_colour(layer - 1)
                median = np.exp(np.log(spectrum.median[i]).mean(axis=0))
                ax.plot(d.steps, median, style, color=colour, label=f"J_{layer} median, {LABELS[model]}")
                ax.fill_between(d.steps, spectrum.q10[i].mean(axis=0), spectrum.q90[i].mean(axis=0),
                                color=colour, alpha=0.07)
                ax.plot(d.steps, spectrum.rms[i].mean(axis=0), style, color=colour, lw=0.8, marker=".",
                        label=f"J_{layer} RMS, {LABELS[model]}")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("singular value of J_l")
        ax.set_title(f"{d.label}: median (band 10–90th percentile) and RMS", fontsize=10)
        ax.legend(fontsize=6, ncol=2)
    figure.suptitle(f"Hidden-to-hidden Jacobian spectra over training\n(dashed: without BN, solid: with BN; shaded: "
                    f"within a factor {f:g} of 1)", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(datasets: tuple[Dataset, ...]) -> dict:
    """Seed means per network: gradient norms per layer and the hidden-to-hidden Jacobians' RMS and median σ."""
    scalars = {}
    for d in datasets:
        for model in MODELS:
            net, tags = d.network(model), {}
            for kind in ("activation", "weight"):
                norms = np.exp(np.log(getattr(net, f"{kind}_gradients")).mean(axis=0))  # (points, layers)
                for layer in range(norms.shape[-1]):
                    tags[f"gradient/{kind}_layer{layer + 1}"] = base.scalar_points(d.steps, norms[:, layer], d.record_times)
            for i, layer in enumerate(d.jacobian_layers):
                for key in ("rms", "median"):
                    values = getattr(net.jacobians, key)[i].mean(axis=0)
                    tags[f"jacobian/{key}_sv_J{layer}"] = base.scalar_points(d.steps, values, d.record_times)
            scalars[f"{d.dataset}/{model}"] = tags
    return scalars
