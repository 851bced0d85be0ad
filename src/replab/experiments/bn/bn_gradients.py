"""BN study 3, gradient propagation: does Batch Normalization keep the layer Jacobians near 1 and gradients even?

§3.3 conjectures that with normalised inputs to consecutive layers, the map between them, linearised as ẑ = J x̂ with
unit covariances, has J Jᵀ = I: every singular value of J is 1, so backpropagation keeps gradient sizes. For Figure 1's
sigmoid network without and with BN this study measures, on one fixed probe batch of training images,

* the layer Jacobians J_l = ∂a_l/∂a_{l−1} between the inputs a_l of consecutive layers' sigmoids (BN's output with BN,
  Wu + b without), per example, with BN's statistics held at the probe batch's values (see nn.jacobians), and their
  singular values, at initialisation and at every record point; J_1 (from the pixels, not a normalised input) only at
  the start and the end;
* the training-mode loss gradients ‖∂L/∂a_l‖ and ‖∂L/∂W_l‖ at every layer, over training.

Both networks are members of one population per dataset (same mini-batches; seed s of both starts from the same weights).
The step-0 measurements come from a twin population built from the same seeds, since nn.fit records after training steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from replab.claims import Claim, judge
from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments.bn import study
from replab.experiments.base import Progress, Result, Table, no_progress
from replab.nn.jacobians import gradient_norms, layer_singular_values
from replab.nn.normalized_mlp import Member, NormalizedMLP

NAME = "bn-gradients"
TITLE = "BN study 3 — gradient propagation: does Batch Normalization keep layer Jacobians near 1 and gradients even?"
QUESTION = ("Over training, what are the singular values of each layer's Jacobian between consecutive sigmoid inputs, "
            "and how does the size of the loss gradient change from layer to layer, without and with Batch "
            "Normalization? Does BN keep the singular values close to 1 and the gradients the same size across layers, "
            "as §3.3 conjectures?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS
SUMMARIES = ("rms", "geometric_mean", "median", "q10", "q90", "largest", "within", "mean_abs_log", "condition")
HISTOGRAM_EDGES = np.linspace(-4.0, 1.5, 56)
"""Bins of log10 σ for the singular-value histograms."""
RESOLUTION = float(np.finfo(np.float32).eps)
"""The SVD runs in float32: a singular value below σ_max × this is numerically zero and is counted as that bound."""


@dataclass(frozen=True)
class Config(study.StudyConfig):
    steps: int = 3000
    record_every: int = 300
    probe_size: int = 60
    """Training images in the fixed probe batch; BN's frozen statistics are this batch's, so it defaults to the
    training batch size."""
    close_factor: float = 2.0
    """'Close to 1' means within this factor of 1, i.e. in [1/close_factor, close_factor]."""
    isometry_fraction: float = 0.9
    """The strict form J Jᵀ ≈ I counts as holding if at least this fraction of the singular values is close to 1."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.hidden) >= 2, f"hidden must list at least two layers, so some Jacobian joins two hidden "
                                       f"layers; got {self.hidden}")
        require(isinstance(self.probe_size, int) and 2 <= self.probe_size <= 1000,
                f"probe_size must be an integer from 2 to 1,000, got {self.probe_size}")
        require(1 < self.close_factor <= 100, f"close_factor must lie in (1, 100], got {self.close_factor}")
        require(0.5 < self.isometry_fraction <= 1,
                f"isometry_fraction must lie in (0.5, 1], got {self.isometry_fraction}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**study.QUICK, probe_size=30)


def run(config: Config, progress: Progress = no_progress) -> Result:
    datasets, skipped = study.load_datasets(config)
    sections = []
    for i, digits in enumerate(datasets):
        require(config.probe_size <= digits.n_train,
                f"probe_size ({config.probe_size}) exceeds the {digits.n_train} training examples of {digits.dataset}")
        progress(i, len(datasets), f"{digits.dataset}: {len(MODELS)} cells × {config.n_seeds} seeds")
        sections.append(summarize(config, digits, measure(config, digits)))
    progress(len(datasets), len(datasets), "done")
    return Result(
        metrics={"datasets": sections, "histogram_edges_log10": HISTOGRAM_EDGES.tolist()},
        tables=[spectrum_table(config, s) for s in sections] + [gradient_table(config, sections)],
        figures={"gradient_norms": gradient_figure(config, sections),
                 "singular_values": histogram_figure(config, sections),
                 "spectrum_over_training": spectrum_figure(config, sections)},
        claims=judge_claims(config, sections),
        notes=notes(config, sections, skipped),
        scalars=tensorboard_scalars(sections),
    )


# --- measurements ------------------------------------------------------------------------------------------


def cells(config: Config) -> list[Member]:
    return [Member(model, weight_std=config.weight_std) for model in MODELS]


def probe_batch(config: Config, digits: Digits) -> tuple[tf.Tensor, tf.Tensor]:
    return (tf.constant(digits.x_train[: config.probe_size]),
            tf.constant(digits.y_train[: config.probe_size].astype(np.int64)))


def probe_metrics(net: NormalizedMLP, x, y) -> dict:
    """What nn.fit records at every record point: the singular values of the hidden-to-hidden Jacobians joined on
    the last axis (K, B, Σ n_l), and the gradient norms on the probe batch, ‖∂L/∂a_l‖ then ‖∂L/∂W_l‖ (K, 2L + 1)."""
    layers = list(range(1, net.hidden_count))
    return {"singular_values": lambda: tf.concat(layer_singular_values(net, x, layers), axis=-1),
            "gradients": lambda: tf.concat(gradient_norms(net, x, y), axis=1)}


def initial_net(config: Config) -> NormalizedMLP:
    """The population train_cells builds, before training: the same members from the same seeds."""
    members = study.population(cells(config), config.n_seeds)
    seeds = [study.member_seed(config, s) for _ in MODELS for s in range(config.n_seeds)]
    return NormalizedMLP(config.layer_sizes, members, seeds)


@dataclass
class Measured:
    """Probe measurements as numpy, the member axis first: singular values at every point of the hidden-to-hidden
    layers (points, K, B, Σ n_l) and of every layer at the start and the end [(K, B, n_l)], gradients (points, K, 2L + 1)."""

    trained: study.Trained
    steps: list[int]
    singular_values: np.ndarray
    gradients: np.ndarray
    start: list[np.ndarray]
    end: list[np.ndarray]


def split_layers(values: np.ndarray, widths: list[int]) -> list[np.ndarray]:
    return np.split(values, np.cumsum(widths)[:-1], axis=-1)


def measure(config: Config, digits: Digits) -> Measured:
    x, y = probe_batch(config, digits)
    twin = initial_net(config)
    start = [s.numpy() for s in layer_singular_values(twin, x)]
    start_gradients = tf.concat(gradient_norms(twin, x, y), axis=1).numpy()
    trained = study.train_cells(config, digits, cells(config),
                                extra_metrics=lambda net, _digits: probe_metrics(net, x, y))
    hidden_start = np.concatenate(start[1:], axis=-1)
    singular_values = np.concatenate([hidden_start[None], trained.metrics["singular_values"]], axis=0)
    gradients = np.concatenate([start_gradients[None], trained.metrics["gradients"]], axis=0)
    widths = [s.shape[-1] for s in start[1:]]
    end = [layer_singular_values(trained.net, x, [0])[0].numpy(), *split_layers(singular_values[-1], widths)]
    return Measured(trained, [0, *trained.steps.tolist()], singular_values, gradients, start, end)


def spectrum_summary(values: np.ndarray, factor: float) -> dict[str, np.ndarray]:
    """Summaries of singular values (..., B, n), largest first, over each probe batch's examples and values: arrays
    of shape (...).

    rms: √(mean σ²), the average gain ‖Jᵀg‖/‖g‖ of a gradient g in a random direction; geometric_mean: exp mean ln σ;
    largest: mean over examples of σ_max; within: the fraction in [1/factor, factor]; mean_abs_log: mean |ln σ| (0 iff
    all are 1); condition: the median over examples of σ_max/σ_min. Values below float32 resolution are floored there
    (see RESOLUTION)."""
    s = np.asarray(values, np.float64)
    s = np.maximum(s, np.maximum(s[..., :1] * RESOLUTION, np.finfo(np.float32).tiny))
    logs = np.log(s)
    pooled = s.reshape(*s.shape[:-2], -1)
    return {
        "rms": np.sqrt(np.mean(s**2, axis=(-2, -1))),
        "geometric_mean": np.exp(logs.mean(axis=(-2, -1))),
        "median": np.median(pooled, axis=-1),
        "q10": np.quantile(pooled, 0.1, axis=-1),
        "q90": np.quantile(pooled, 0.9, axis=-1),
        "largest": s[..., 0].mean(axis=-1),
        "within": np.mean((s >= 1 / factor) & (s <= factor), axis=(-2, -1)),
        "mean_abs_log": np.abs(logs).mean(axis=(-2, -1)),
        "condition": np.median(s[..., 0] / s[..., -1], axis=-1),
    }


def log10_histogram(values: np.ndarray) -> list[int]:
    logs = np.log10(np.maximum(values, np.finfo(np.float32).tiny))
    counts, _ = np.histogram(logs.clip(HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1]), HISTOGRAM_EDGES)
    return counts.tolist()


def summarize(config: Config, digits: Digits, measured: Measured) -> dict:
    n, hidden = config.n_seeds, len(config.hidden)
    widths = [s.shape[-1] for s in measured.start[1:]]
    spectra = [np.moveaxis(v, 0, 1) for v in split_layers(measured.singular_values, widths)]  # (K, points, B, n)
    gradients = np.moveaxis(measured.gradients, 0, 1)  # (K, points, 2L + 1)
    trained = measured.trained
    section = {
        **study.dataset_section(config, digits, trained),
        "steps": measured.steps,
        "jacobian_layers": list(range(2, hidden + 1)),
        "models": {},
    }
    for m, model in enumerate(MODELS):
        members = slice(m * n, (m + 1) * n)

        def summary(values):
            return {key: value.tolist() for key, value in spectrum_summary(values[members], config.close_factor).items()}

        section["models"][model] = {
            "test_accuracy": trained.test_accuracy[members].tolist(),
            "diverged_seeds": int((trained.diverged_at[members] >= 0).sum()),
            "jacobians": [summary(values) for values in spectra],  # layers 2..L: summary -> [seed][point]
            "input_jacobian": {"start": summary(measured.start[0]), "end": summary(measured.end[0])},  # J_1: [seed]
            "activation_gradients": gradients[members, :, :hidden].tolist(),  # [seed][point][layer 1..L]
            "weight_gradients": gradients[members, :, hidden:].tolist(),      # [seed][point][layer 1..L+1]
            "histograms": {when: [log10_histogram(values[members]) for values in layers]
                           for when, layers in (("start", measured.start), ("end", measured.end))},
        }
    return section


# --- statistics behind the claims ------------------------------------------------------------------------------


def jacobian_array(section: dict, model: str, key: str) -> np.ndarray:
    """(layers 2..L, seeds, points)."""
    return np.asarray([layer[key] for layer in section["models"][model]["jacobians"]], float)


def distance_from_one(section: dict, model: str) -> np.ndarray:
    """Per seed: mean |ln σ| averaged over the hidden-to-hidden layers and the measurement points."""
    return jacobian_array(section, model, "mean_abs_log").mean(axis=(0, 2))


def gradient_spread(section: dict, model: str, kind: str = "activation") -> np.ndarray:
    """max/min over the hidden layers of ‖∂L/∂a_l‖ (kind 'activation') or of ‖∂L/∂W_l‖ for the hidden layers' weights
    (kind 'weight'): (seeds, points)."""
    hidden = len(section["jacobian_layers"]) + 1
    norms = np.asarray(section["models"][model][f"{kind}_gradients"], float)[..., :hidden]
    return norms.max(axis=-1) / norms.min(axis=-1)


def near_one(section: dict, factor: float) -> dict:
    """With BN, over every hidden-to-hidden layer and measurement point (seed means): the lowest and highest RMS σ
    and the lowest fraction of singular values within the factor."""
    rms = jacobian_array(section, "batch", "rms").mean(axis=1)
    within = jacobian_array(section, "batch", "within").mean(axis=1)
    return {"rms_low": float(rms.min()), "rms_high": float(rms.max()), "within_low": float(within.min()),
            "holds": bool(rms.min() >= 1 / factor and rms.max() <= factor and within.min() >= 0.5)}


def layers_text(section: dict) -> str:
    return ", ".join(f"J_{l}" for l in section["jacobian_layers"])


def judge_claims(config: Config, sections: list[dict]) -> list[Claim]:
    return [claim(config, sections) for claim in (near_one_claim, closer_to_one_claim, isometry_claim,
                                                  keep_size_claim, more_even_claim)]


def protocol(config: Config) -> str:
    return (f"{config.n_seeds} seeds, {config.steps:,} steps, measured at step 0 and every {config.record_every} steps "
            f"on a fixed batch of {config.probe_size} training images")


def near_one_claim(config: Config, sections: list[dict]) -> Claim:
    f = config.close_factor
    verdicts, evidence = [], []
    for s in sections:
        bn = near_one(s, f)
        base_rms = jacobian_array(s, "none", "rms").mean(axis=1)
        base_within = jacobian_array(s, "none", "within").mean(axis=1)
        verdicts.append(bn["holds"])
        evidence.append(f"{study.dataset_label(s)} ({layers_text(s)}): with BN the RMS singular value ranges over "
                        f"{bn['rms_low']:.3f}–{bn['rms_high']:.3f} and at least {bn['within_low']:.1%} of the singular "
                        f"values lie within [1/{f:g}, {f:g}] (without BN: RMS {base_rms.min():.3f}–{base_rms.max():.3f}, "
                        f"at least {base_within.min():.1%} within)")
    return judge(
        "bn-jacobian-near-one",
        "With BN, the Jacobians between consecutive layers' normalised inputs keep their singular values close to 1 "
        f"throughout training: their RMS (the average gain of a backpropagated gradient) and most of them lie within a "
        f"factor {f:g} of 1",
        study.combine(verdicts),
        "; ".join(evidence) + f". Holds if, at every measurement point and hidden-to-hidden layer, BN's RMS σ (mean over "
        f"seeds) lies in [1/{f:g}, {f:g}] and at least half of its singular values do. {protocol(config)}.")


def closer_to_one_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        base, bn = distance_from_one(s, "none"), distance_from_one(s, "batch")
        verdicts.append(study.better(base - bn))
        evidence.append(f"{study.dataset_label(s)}: mean |ln σ| without BN {study.pm(base, 3)}, with BN {study.pm(bn, 3)} "
                        f"(paired t {fmt_t(study.paired_t(base - bn))})")
    return judge(
        "bn-jacobian-closer-to-one",
        "The layer Jacobians' singular values are closer to 1 with BN than without (smaller mean |ln σ|)",
        study.combine(verdicts),
        "; ".join(evidence) + ". Mean |ln σ| per seed over the hidden-to-hidden layers and all measurement points; holds "
        f"if BN's is smaller by more than t standard errors of the paired differences on every dataset. "
        f"{protocol(config)}.")


def isometry_claim(config: Config, sections: list[dict]) -> Claim:
    f = config.close_factor
    verdicts, evidence = [], []
    for s in sections:
        within = jacobian_array(s, "batch", "within").mean(axis=1)
        condition = jacobian_array(s, "batch", "condition").mean(axis=1)
        verdicts.append(bool(within.min() >= config.isometry_fraction))
        evidence.append(f"{study.dataset_label(s)}: with BN {within.min():.1%}–{within.max():.1%} of the singular values lie "
                        f"within [1/{f:g}, {f:g}]; the median condition number σ_max/σ_min is "
                        f"{condition.min():.3g}–{condition.max():.3g}")
    return judge(
        "bn-jacobian-isometry",
        "The conjecture's strong form: with BN, J Jᵀ ≈ I, i.e. (nearly) all singular values of each layer Jacobian are "
        "close to 1",
        study.combine(verdicts),
        "; ".join(evidence) + " (ranges over layers and measurement points, means over seeds). Holds if at least "
        f"{config.isometry_fraction:.0%} lie within the factor {f:g} at every point and layer. {protocol(config)}.")


def keep_size_claim(config: Config, sections: list[dict]) -> Claim:
    f = config.close_factor
    verdicts, evidence = [], []
    for s in sections:
        bn, base = (gradient_spread(s, m).mean(axis=0) for m in ("batch", "none"))
        verdicts.append(bool(bn.max() <= f))
        evidence.append(f"{study.dataset_label(s)}: max/min of ‖∂L/∂a_l‖ over the {len(s['jacobian_layers']) + 1} hidden "
                        f"layers with BN {bn[0]:.2f} at step 0, {bn[-1]:.2f} at step {s['steps'][-1]:,}, "
                        f"{bn.min():.2f}–{bn.max():.2f} over training (without BN {base[0]:.2f}, {base[-1]:.2f}, "
                        f"{base.min():.2f}–{base.max():.2f})")
    return judge(
        "bn-gradients-keep-size",
        f"With BN, the loss gradient keeps its size across layers: ‖∂L/∂a_l‖ differs between hidden layers by at most a "
        f"factor {f:g}, throughout training",
        study.combine(verdicts),
        "; ".join(evidence) + ". a_l is the input to layer l's sigmoids; training-mode gradient of the mean "
        f"cross-entropy on the probe batch; ratios are means over seeds. Holds if BN's ratio is at most {f:g} at every "
        f"measurement point. {protocol(config)}.")


def more_even_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        base, bn = (np.log(gradient_spread(s, m)).mean(axis=1) for m in MODELS)
        base_w, bn_w = (np.exp(np.log(gradient_spread(s, m, "weight")).mean(axis=1)) for m in MODELS)
        verdicts.append(study.better(base - bn))
        evidence.append(f"{study.dataset_label(s)}: geometric mean over training of max/min ‖∂L/∂a_l‖ without BN "
                        f"{study.pm(np.exp(base), 2)}, with BN {study.pm(np.exp(bn), 2)} (paired t on the logs "
                        f"{fmt_t(study.paired_t(base - bn))}); for the hidden weights' ‖∂L/∂W_l‖: without BN "
                        f"{study.pm(base_w, 2)}, with BN {study.pm(bn_w, 2)}; the ‖∂L/∂a_l‖ ratio at step 0 "
                        f"{start_end(s, 0)}, at step {s['steps'][-1]:,} {start_end(s, -1)}")
    return judge(
        "bn-gradients-more-even",
        "Gradient sizes vary less across layers with BN than without, over training",
        study.combine(verdicts),
        "; ".join(evidence) + ". Holds if BN's mean log max/min ratio of ‖∂L/∂a_l‖ is smaller by more than t standard "
        "errors of the paired per-seed differences on every dataset (the weight-gradient ratios are reported only). "
        f"{protocol(config)}.")


def start_end(section: dict, point: int) -> str:
    base, bn = (gradient_spread(section, m)[:, point].mean() for m in MODELS)
    return f"{base:.2f} without BN vs {bn:.2f} with"


def fmt_t(t: float | None) -> str:
    return "n/a" if t is None else f"{t:.1f}"


def notes(config: Config, sections: list[dict], skipped: list[str]) -> list[str]:
    out = [study.data_note(s) for s in sections] + skipped + [study.significance_note(config.n_seeds)]
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


# --- tables and figures ----------------------------------------------------------------------------------------


def seed_mean(values) -> float:
    return float(np.mean(values))


TABLE_SUMMARIES = ("rms", "geometric_mean", "median", "largest", "within", "mean_abs_log", "condition")


def spectrum_table(config: Config, section: dict) -> Table:
    rows = []
    for model in MODELS:
        m = section["models"][model]
        activation = np.asarray(m["activation_gradients"])  # (seeds, points, layers)
        weight = np.asarray(m["weight_gradients"])
        for layer in range(1, len(config.hidden) + 1):
            for when, point in (("start", 0), ("end", -1)):
                if layer == 1:
                    summary = {k: np.asarray(v) for k, v in m["input_jacobian"][when].items()}
                else:
                    summary = {k: np.asarray(v)[:, point] for k, v in m["jacobians"][layer - 2].items()}
                rows.append([LABELS[model], f"J_{layer}", when, *(seed_mean(summary[key]) for key in TABLE_SUMMARIES),
                             seed_mean(activation[:, point, layer - 1]), seed_mean(weight[:, point, layer - 1])])
    f = config.close_factor
    columns = ["network", "Jacobian", "when", "RMS σ", "geometric mean σ", "median σ", "mean σ_max",
               f"fraction in [1/{f:g}, {f:g}]", "mean |ln σ|", "median σ_max/σ_min", "‖∂L/∂a_l‖", "‖∂L/∂W_l‖"]
    return Table(f"Layer Jacobians and gradients on {study.dataset_label(section)}", columns, rows,
                 caption=f"Means over {config.n_seeds} seeds; start = step 0, end = step {section['steps'][-1]:,}. "
                         f"J_l = ∂a_l/∂a_(l−1) over {config.probe_size} probe images (J_1 from the pixels); "
                         "gradients of the mean loss on that batch at layer l.")


def gradient_table(config: Config, sections: list[dict]) -> Table:
    rows = []
    for s in sections:
        for model in MODELS:
            spread = gradient_spread(s, model)
            weight = gradient_spread(s, model, "weight")
            rows.append([study.dataset_label(s), LABELS[model], study.pm(spread[:, 0], 2), study.pm(spread[:, -1], 2),
                         study.pm(np.exp(np.log(spread).mean(axis=1)), 2), study.pm(weight[:, 0], 2),
                         study.pm(weight[:, -1], 2), study.pm(s["models"][model]["test_accuracy"]),
                         s["models"][model]["diverged_seeds"]])
    columns = ["dataset", "network", "‖∂L/∂a_l‖ max/min at start", "at end", "geometric mean over training",
               "‖∂L/∂W_l‖ max/min at start", "at end", "final test accuracy", "diverged seeds"]
    return Table("Gradient size across the hidden layers", columns, rows,
                 caption=f"max/min over the {len(config.hidden)} hidden layers (W: their weights, the output layer "
                         f"excluded); mean ± std over {config.n_seeds} seeds.")


def layer_colour(layer: int) -> str:
    return f"C{(layer + 1) % 10}"


def gradient_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(5.5 * len(sections), 7.5))
    grid = figure.subplots(2, len(sections), squeeze=False)
    for column, s in enumerate(sections):
        for row, kind in enumerate(("activation", "weight")):
            ax = grid[row][column]
            for model, style in zip(MODELS, ("--", "-")):
                norms = np.asarray(s["models"][model][f"{kind}_gradients"])  # (seeds, points, layers)
                geometric = np.exp(np.log(norms).mean(axis=0))
                for layer in range(norms.shape[-1]):
                    ax.plot(s["steps"], geometric[:, layer], style, color=layer_colour(layer),
                            label=f"layer {layer + 1}, {LABELS[model]}")
            ax.set_yscale("log")
            ax.set_xlabel("training step")
            ax.set_ylabel("‖∂L/∂a_l‖" if kind == "activation" else "‖∂L/∂W_l‖")
            where = "sigmoid input" if kind == "activation" else "weights"
            ax.set_title(f"{study.dataset_label(s)}: gradient at each layer's {where}", fontsize=10)
            ax.legend(fontsize=6, ncol=2)
    figure.suptitle(f"Gradient norms on a fixed batch of {config.probe_size} training images (geometric mean over "
                    f"{config.n_seeds} seeds)\n(dashed: without BN, solid: with BN)", fontsize=10)
    figure.tight_layout()
    return figure


def histogram_figure(config: Config, sections: list[dict]) -> Figure:
    hidden = len(config.hidden)
    columns = [(s, when) for s in sections for when in ("start", "end")]
    figure = Figure(figsize=(3.6 * len(columns), 2.6 * hidden))
    grid = figure.subplots(hidden, len(columns), squeeze=False, sharex=True)
    centres = (HISTOGRAM_EDGES[:-1] + HISTOGRAM_EDGES[1:]) / 2
    width = HISTOGRAM_EDGES[1] - HISTOGRAM_EDGES[0]
    f = config.close_factor
    for c, (s, when) in enumerate(columns):
        for layer in range(hidden):
            ax = grid[layer][c]
            ax.axvspan(-np.log10(f), np.log10(f), color="grey", alpha=0.12)
            ax.axvline(0.0, color="grey", lw=0.8)
            for model in MODELS:
                counts = np.asarray(s["models"][model]["histograms"][when][layer], float)
                ax.step(centres, counts / max(counts.sum() * width, 1), where="mid", color=COLOURS[model],
                        label=LABELS[model])
            step = 0 if when == "start" else s["steps"][-1]
            ax.set_title(f"{study.dataset_label(s)}, J_{layer + 1}, step {step:,}", fontsize=9)
            if layer == hidden - 1:
                ax.set_xlabel("log10 singular value (below −4 counted at −4)")
            if c == 0:
                ax.set_ylabel("density")
            ax.legend(fontsize=6)
    figure.suptitle(f"Singular values of the layer Jacobians over {config.probe_size} probe images and "
                    f"{config.n_seeds} seeds\n(shaded: within a factor {f:g} of 1; J_1 is from the pixels)", fontsize=10)
    figure.tight_layout()
    return figure


def spectrum_figure(config: Config, sections: list[dict]) -> Figure:
    figure, axes = study.dataset_axes(len(sections), height=4.8)
    f = config.close_factor
    for ax, s in zip(axes, sections):
        ax.axhspan(1 / f, f, color="grey", alpha=0.12)
        for model, style in zip(MODELS, ("--", "-")):
            for i, layer in enumerate(s["jacobian_layers"]):
                summary = s["models"][model]["jacobians"][i]
                colour = layer_colour(layer - 1)
                median = np.exp(np.log(summary["median"]).mean(axis=0))
                ax.plot(s["steps"], median, style, color=colour, label=f"J_{layer} median, {LABELS[model]}")
                ax.fill_between(s["steps"], np.mean(summary["q10"], axis=0), np.mean(summary["q90"], axis=0),
                                color=colour, alpha=0.07)
                ax.plot(s["steps"], np.mean(summary["rms"], axis=0), style, color=colour, lw=0.8, marker=".",
                        label=f"J_{layer} RMS, {LABELS[model]}")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("singular value of J_l")
        ax.set_title(f"{study.dataset_label(s)}: median (band 10–90th percentile) and RMS", fontsize=10)
        ax.legend(fontsize=6, ncol=2)
    figure.suptitle(f"Hidden-to-hidden Jacobian spectra over training\n(dashed: without BN, solid: with BN; shaded: "
                    f"within a factor {f:g} of 1)", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(sections: list[dict]) -> dict:
    """Seed means per network: gradient norms per layer and the hidden-to-hidden Jacobians' RMS and median σ."""
    scalars = {}
    for s in sections:
        for model in MODELS:
            m, tags = s["models"][model], {}
            for kind in ("activation", "weight"):
                norms = np.exp(np.log(np.asarray(m[f"{kind}_gradients"])).mean(axis=0))  # (points, layers)
                for layer in range(norms.shape[-1]):
                    tags[f"gradient/{kind}_layer{layer + 1}"] = list(zip(s["steps"], norms[:, layer].tolist()))
            for layer, summary in zip(s["jacobian_layers"], m["jacobians"]):
                for key in ("rms", "median"):
                    tags[f"jacobian/{key}_sv_J{layer}"] = list(zip(s["steps"], np.mean(summary[key], axis=0).tolist()))
            scalars[f"{s['dataset']}/{model}"] = tags
    return scalars
