"""BN study 5, other normalisations: how do BN's successors compare with it and with no normalisation at all?

Figure 1's sigmoid MLP with each of seven treatments of its hidden layers' pre-activations: none, BatchNorm,
Batch Renormalization, LayerNorm, RMSNorm, WeightNorm and GroupNorm (over groups of units). Every (kind, seed)
is one member of one population per dataset, so all of them see the same mini-batches and seed s of every kind
starts from the same weights. Time per step is measured apart, by short runs that train one kind at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from replab import nn
from replab.claims import Claim, judge
from replab.data.mnist import Digits
from replab.errors import check_positive_int, require
from replab.experiments.bn import study
from replab.experiments.bn.batchnorm import first_step_reaching
from replab.experiments.base import Progress, Result, Table, no_progress
from replab.nn.normalized_mlp import NORM_LABELS, NORMS, Member, NormalizedMLP, Options, forward

NAME = "norms"
TITLE = "BN study 5 — other normalisations: BatchNorm against its successors and against none"
QUESTION = ("With the same network, data, learning rate and seeds, how do no normalisation, BatchNorm, Batch "
            "Renormalization, LayerNorm, RMSNorm, WeightNorm and GroupNorm compare in accuracy over training, final "
            "accuracy and time per step?")

BATCH_FREE = ("layer", "rms", "weight", "group")
"""Kinds whose output for an example does not depend on the rest of its mini-batch."""
COLOURS = {kind: f"C{i}" for i, kind in enumerate(NORMS)}
BENCHMARK_ROW = "MLPClassifier (Fashion-MNIST's official benchmark)"


@dataclass(frozen=True)
class Config(study.StudyConfig):
    kinds: tuple[str, ...] = NORMS
    steps: int = 3000
    record_every: int = 150
    n_seeds: int = 5
    groups: int = 4
    """GroupNorm: the hidden units split into this many contiguous groups (it must divide every hidden width)."""
    renorm_ramp_fraction: float = 0.25
    """Batch Renorm relaxes its r, d limits from plain BN to (3, 5) over this fraction of the steps."""
    target_within: float = 0.02
    """Steps to target: the first record point where a kind's mean accuracy reaches (best final − target_within)."""
    tie_within: float = 0.005
    """Accuracy differences smaller than this are ties: a gain below it is negligible, a shortfall below it a match."""
    timing_steps: int = 200
    """Steps per timing burst (one kind, n_seeds networks, after compiling)."""
    timing_rounds: int = 5
    """Timing bursts per kind, the kinds taking turns; a kind's time per step is its median burst."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_seeds >= 2, f"n_seeds must be at least 2 to judge differences between kinds, got {self.n_seeds}")
        require(len(self.kinds) >= 2 and set(self.kinds) <= set(NORMS) and len(set(self.kinds)) == len(self.kinds)
                and "none" in self.kinds,
                f"kinds must list 'none' and at least one of {', '.join(NORMS[1:])}, each once, got {self.kinds}")
        check_positive_int("groups", self.groups)
        require("group" not in self.kinds or all(width % self.groups == 0 for width in self.hidden),
                f"groups ({self.groups}) must divide every hidden width {self.hidden}")
        require(0 <= self.renorm_ramp_fraction <= 1,
                f"renorm_ramp_fraction must lie in [0, 1], got {self.renorm_ramp_fraction}")
        require(0 < self.target_within < 1, f"target_within must lie in (0, 1), got {self.target_within}")
        require(0 <= self.tie_within < 1, f"tie_within must lie in [0, 1), got {self.tie_within}")
        check_positive_int("timing_steps", self.timing_steps, minimum=10)
        check_positive_int("timing_rounds", self.timing_rounds)

    @classmethod
    def quick(cls) -> "Config":
        """Three kinds only: every timing run compiles its own training loop, and compiling dominates a quick run."""
        return cls(**study.QUICK, kinds=("none", "batch", "layer"), timing_steps=50,
                   timing_rounds=3)

    @property
    def options(self) -> Options:
        return Options(groups=self.groups, renorm_ramp_steps=max(1, round(self.renorm_ramp_fraction * self.steps)))


def cells(config: Config) -> list[Member]:
    """One cell per kind, in the config's order (each kind is one contiguous block of the population)."""
    return [Member(kind, weight_std=config.weight_std) for kind in config.kinds]


def run(config: Config, progress: Progress = no_progress) -> Result:
    datasets, skipped = study.load_datasets(config)
    total = len(datasets) + 1
    sections = []
    for i, digits in enumerate(datasets):
        progress(i, total, f"{digits.dataset}: {len(config.kinds)} normalisations × {config.n_seeds} seeds")
        trained = study.train_cells(config, digits, cells(config), options=config.options)
        sections.append(summarize(config, digits, trained))
    progress(len(datasets), total, "time per step, one normalisation at a time")
    timing = measure_times(config, datasets[0])
    progress(total, total, "done")
    summary = {"datasets": sections, "timing": timing}
    return Result(
        metrics=summary,
        tables=[kinds_table(config, s, timing) for s in sections],
        figures={"curves": curves_figure(config, sections), "final_accuracy": accuracy_figure(config, sections),
                 "time_per_step": timing_figure(config, timing)},
        claims=judge_claims(config, sections),
        notes=notes(config, sections, timing, skipped),
        scalars=tensorboard_scalars(config, sections),
    )


# --- measurements ------------------------------------------------------------------------------------------


def summarize(config: Config, digits: Digits, trained: study.Trained) -> dict:
    n = config.n_seeds
    final = study.per_cell(trained.test_accuracy, n)                         # (kinds, seeds)
    curves = np.moveaxis(study.per_cell(trained.accuracy, n), 0, -1)          # (kinds, seeds, R)
    diverged = study.per_cell(trained.diverged_at, n)
    steps = trained.steps
    best = float(final.mean(axis=1).max())
    target = best - config.target_within
    section = {
        **study.dataset_section(config, digits, trained),
        "steps": steps.tolist(),
        "best_mean_accuracy": best, "target_accuracy": target, "kinds": {},
    }
    for c, kind in enumerate(config.kinds):
        section["kinds"][kind] = {
            "final_accuracy": final[c].tolist(),
            "final_accuracy_mean": float(final[c].mean()),
            "curve_mean": curves[c].mean(axis=1).tolist(),  # per seed: accuracy averaged over the record points
            "curves_mean": curves[c].mean(axis=0).tolist(),  # per record point: mean over seeds
            "curves": curves[c].tolist(),
            "train_accuracy": study.per_cell(trained.train_accuracy, n)[c].tolist(),
            "diverged_at": diverged[c].tolist(),
            "steps_to_target": first_step_reaching(steps, curves[c].mean(axis=0), target),
        }
    return section


def step_loop(config: Config, digits: Digits, kind: str) -> nn.StepLoop:
    """nn.fit's own step loop for n_seeds networks of one kind, compiled once, to time in bursts."""
    n = config.n_seeds
    net = NormalizedMLP(config.layer_sizes, [Member(kind, weight_std=config.weight_std)] * n,
                        [study.member_seed(config, s) for s in range(n)], config.options)
    params = net.params

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, xb, training=True, step=step, seed=config.seed)
        return nn.softmax_cross_entropy(logits, yb)

    return nn.StepLoop(loss_fn, params, nn.SGD(params, np.full(n, config.learning_rate, np.float32)), digits.x_train,
                       digits.y_train, batch_size=config.batch_size, seed=config.seed)


def measure_times(config: Config, digits: Digits) -> dict:
    """ms per step for each kind and its ratio to no normalisation; the network's shapes, not the data, set it.

    The kinds take turns, burst after burst, so a change in the machine's load falls on all of them alike; each
    kind's time is its median burst.
    """
    loops = {kind: step_loop(config, digits, kind) for kind in config.kinds}
    seconds = {kind: [] for kind in config.kinds}
    for _ in range(config.timing_rounds):
        for kind, loop in loops.items():
            seconds[kind].append(loop.run(config.timing_steps))
    ms = {kind: 1000.0 * float(np.median(s)) / config.timing_steps for kind, s in seconds.items()}
    return {"dataset": digits.dataset, "steps": config.timing_steps, "rounds": config.timing_rounds,
            "networks": config.n_seeds, "ms_per_step": ms,
            "ratio_to_none": {kind: ms[kind] / ms["none"] for kind in config.kinds}}


# --- claims --------------------------------------------------------------------------------------------------


def differences(section: dict, kind: str, other: str, measure: str = "final_accuracy") -> np.ndarray:
    """Per-seed `measure` of `kind` minus that of `other` (paired: the same seed's weights and batches)."""
    return np.asarray(section["kinds"][kind][measure]) - np.asarray(section["kinds"][other][measure])


def fmt_difference(d: np.ndarray) -> str:
    return f"{d.mean():+.4f} (SE {study.standard_error(d):.4f})"


VERDICT_WORDS = {True: "yes", False: "no", None: "unclear"}


def gains(d: np.ndarray, tie: float) -> bool | None:
    """Is the per-seed gain d above 0 (True), below the tie tolerance, i.e. at most negligible (False), or neither?

    Both by more than t standard errors; a gain that is both above 0 and below the tolerance counts as a gain.
    """
    if study.better(d) is True:
        return True
    return False if study.better(d, tie) is False else None


def negate(verdict: bool | None) -> bool | None:
    return None if verdict is None else not verdict


def judge_claims(config: Config, sections: list[dict]) -> list[Claim]:
    claims = [train_faster_claim(config, sections)]
    if "batch" in config.kinds:
        claims.append(bn_best_claim(config, sections))
        batch_free = [k for k in BATCH_FREE if k in config.kinds]
        if batch_free:
            claims.append(batch_free_claim(config, sections, batch_free))
    return claims


def train_faster_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        per_kind = {k: gains(differences(s, k, "none", "curve_mean"), config.tie_within)
                    for k in config.kinds if k != "none"}
        verdicts.append(study.combine(list(per_kind.values())))
        evidence.append(f"{study.dataset_label(s)}: " + "; ".join(
            f"{NORM_LABELS[k]} {fmt_difference(differences(s, k, 'none', 'curve_mean'))} → {VERDICT_WORDS[v]}"
            for k, v in per_kind.items()))
    return judge(
        "norms-train-faster",
        "Every normalisation trains faster than none: its test accuracy averaged over the training curve is higher",
        study.combine(verdicts),
        f"Per seed, accuracy on the first {config.eval_size:,} test images (all, if fewer) averaged over the "
        f"{len(sections[0]['steps'])} record points (every {config.record_every} steps of {config.steps:,}), kind minus "
        f"no normalisation, mean (standard error) over {config.n_seeds} seeds; faster = above 0 by more than t standard "
        f"errors, no = below {config.tie_within:g} (a negligible gain at most) by more than t standard errors. "
        + " | ".join(evidence) + ". Holds if every kind is faster on every dataset; fails if some kind is not.")


def bn_best_claim(config: Config, sections: list[dict]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        rivals = [k for k in config.kinds if k != "batch"]
        above_bn = {k: study.better(differences(s, k, "batch"), config.tie_within) for k in rivals}
        verdicts.append(study.combine([negate(v) for v in above_bn.values()]))
        order = sorted(config.kinds, key=lambda k: -s["kinds"][k]["final_accuracy_mean"])
        evidence.append(f"{study.dataset_label(s)}: BatchNorm ranks {order.index('batch') + 1} of "
                        f"{len(order)} by mean final accuracy; "
                        + "; ".join(f"{NORM_LABELS[k]} − BN {fmt_difference(differences(s, k, 'batch'))}"
                                    for k in rivals)
                        + f"; more than {config.tie_within:g} above BN: "
                        + (", ".join(NORM_LABELS[k] for k, v in above_bn.items() if v is True) or "none")
                        + "; cannot tell: "
                        + (", ".join(NORM_LABELS[k] for k, v in above_bn.items() if v is None) or "none"))
    return judge(
        "bn-best-or-tied",
        f"BatchNorm reaches the best final test accuracy of the {len(config.kinds)} normalisations compared, or ties "
        "with the best: no other kind is more accurate by more than the tie tolerance",
        study.combine(verdicts),
        " | ".join(evidence) + f". Paired over {config.n_seeds} seeds, by more than t standard errors of the per-seed "
        f"differences. Holds if every kind is below BN + {config.tie_within:g} on every dataset, fails if one is above "
        "it; a kind that is neither leaves the claim inconclusive.")


def batch_free_claim(config: Config, sections: list[dict], batch_free: list[str]) -> Claim:
    verdicts, evidence = [], []
    for s in sections:
        per_kind = {k: study.better(differences(s, k, "batch"), margin=-config.tie_within) for k in batch_free}
        verdicts.append(study.combine(list(per_kind.values())))
        evidence.append(f"{study.dataset_label(s)}: " + "; ".join(
            f"{NORM_LABELS[k]} − BN {fmt_difference(differences(s, k, 'batch'))} → {VERDICT_WORDS[v]}"
            for k, v in per_kind.items()))
    return judge(
        "batch-free-match-bn",
        f"The normalisations that do not depend on the mini-batch ({', '.join(NORM_LABELS[k] for k in batch_free)}) "
        "match BatchNorm's final test accuracy",
        study.combine(verdicts),
        f"Match = final accuracy minus BN's above −{config.tie_within:g} by more than t standard errors "
        f"({config.n_seeds} paired seeds). " + " | ".join(evidence) + ". Holds if every batch-free kind matches BN on "
        f"every dataset; fails if one falls more than {config.tie_within:g} below BN by more than t standard errors.")


# --- notes, tables and figures -------------------------------------------------------------------------------


def benchmark_note(config: Config, sections: list[dict]) -> list[str]:
    fashion = [s for s in sections if s["dataset"] == "fashion-mnist"]
    if not fashion:
        return []
    s = fashion[0]
    above = [NORM_LABELS[k] for k, m in s["kinds"].items() if m["final_accuracy_mean"] > study.FASHION_MLP_BENCHMARK]
    best = max(s["kinds"], key=lambda k: s["kinds"][k]["final_accuracy_mean"])
    return [f"Fashion-MNIST's official benchmark scores scikit-learn's MLPClassifier (ReLU, one hidden layer of 100) at "
            f"{study.FASHION_MLP_BENCHMARK:.3f} test accuracy. Here the best kind, "
            f"{NORM_LABELS[best]}, reaches {s['kinds'][best]['final_accuracy_mean']:.4f} after {s['steps'][-1]:,} "
            f"steps of {config.batch_size} ({s['steps'][-1] * config.batch_size / s['n_train']:.1f} epochs) with a "
            f"sigmoid network; above the benchmark: {', '.join(above) or 'none'}."]


def settings_notes(config: Config) -> list[str]:
    """How the kinds in this run are set up."""
    options, kinds = config.options, config.kinds
    out = []
    if "group" in kinds:
        out.append(f"GroupNorm uses {config.groups} groups of units.")
    if "renorm" in kinds:
        out.append(f"Batch Renorm relaxes from plain BN to r_max {options.renorm_r_max:g}, d_max "
                   f"{options.renorm_d_max:g} over the first {options.renorm_ramp_steps:,} steps.")
    if "weight" in kinds:
        out.append("WeightNorm's gain starts at ‖v‖, so it starts from the same effective weights as the others.")
    batch = [NORM_LABELS[k] for k in ("batch", "renorm") if k in kinds]
    if batch:
        out.append(f"{' and '.join(batch)} use moving averages (momentum {options.momentum:g}) at test time.")
    return out


def notes(config: Config, sections: list[dict], timing: dict, skipped: list[str]) -> list[str]:
    out = [study.data_note(s) for s in sections] + skipped + [study.significance_note(config.n_seeds)]
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, batch {config.batch_size}, plain SGD at learning rate {config.learning_rate:g}, "
               f"{config.steps:,} steps) with {', '.join(NORM_LABELS[k] for k in config.kinds)}; {config.n_seeds} "
               f"seeds; all {len(config.kinds) * config.n_seeds} networks of a dataset trained as one population. One "
               "learning rate for every kind: a kind that prefers another rate is at a disadvantage here.")
    out.append(" ".join(settings_notes(config)))
    out.append(f"Time per step: training's own compiled step loop for {timing['networks']} networks of one kind "
               f"(compiling excluded) on {study.dataset_label(timing)}; the kinds take turns for "
               f"{timing['rounds']} bursts of {timing['steps']} steps and each keeps its median burst. On a shared "
               "machine differences of ±10% are within timing noise.")
    return out + benchmark_note(config, sections)


def kinds_table(config: Config, section: dict, timing: dict) -> Table:
    rows = []
    for kind in config.kinds:
        m = section["kinds"][kind]
        rows.append([NORM_LABELS[kind], study.pm(m["final_accuracy"]), study.pm(m["curve_mean"]),
                     study.pm(m["train_accuracy"]), fmt_steps(m["steps_to_target"]),
                     sum(d >= 0 for d in m["diverged_at"]), round(timing["ms_per_step"][kind], 3),
                     round(timing["ratio_to_none"][kind], 2)])
    if section["dataset"] == "fashion-mnist":
        rows.append([BENCHMARK_ROW, f"{study.FASHION_MLP_BENCHMARK:.3f}"] + [""] * 6)
    columns = ["normalisation", "final test accuracy", "accuracy averaged over training", "training accuracy",
               "steps to target", "diverged seeds", "ms per step", "time ÷ none"]
    return Table(f"Normalisations on {study.dataset_label(section)}", columns, rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds; final accuracy on the {section['n_test']:,} test "
                         f"images, the curve on the first {section['eval_images']:,}; training accuracy on the first "
                         f"{min(config.train_eval_size, section['n_train']):,} training images; target "
                         f"{section['target_accuracy']:.4f} (best mean final − {config.target_within:g}). Time per step "
                         "measured once for all datasets.")


def fmt_steps(steps) -> str:
    return "never" if steps is None else f"{steps:,}"


def curves_figure(config: Config, sections: list[dict]) -> Figure:
    figure, axes = study.dataset_axes(len(sections), sharey=True)
    for ax, s in zip(axes, sections):
        curves = {NORM_LABELS[k]: np.asarray(s["kinds"][k]["curves"]) for k in config.kinds}
        colours = {NORM_LABELS[k]: COLOURS[k] for k in config.kinds}
        study.curves_figure(s["steps"], curves, f"{study.dataset_label(s)}",
                            ylabel=f"test accuracy ({s['eval_images']:,} images)", ax=ax, colours=colours)
        ax.axhline(s["target_accuracy"], color="grey", lw=0.8, ls="--")
        if s["dataset"] == "fashion-mnist":
            ax.axhline(study.FASHION_MLP_BENCHMARK, color="k", lw=0.8, ls=":")
    figure.suptitle(f"Mean over {config.n_seeds} seeds (band: min–max); dashed = target"
                    + ("; dotted = Fashion-MNIST's MLPClassifier benchmark" if any(
                        s["dataset"] == "fashion-mnist" for s in sections) else ""), fontsize=10)
    figure.tight_layout()
    return figure


def accuracy_figure(config: Config, sections: list[dict]) -> Figure:
    figure, axes = study.dataset_axes(len(sections))
    x = np.arange(len(config.kinds))
    for ax, s in zip(axes, sections):
        finals = [np.asarray(s["kinds"][k]["final_accuracy"]) for k in config.kinds]
        ax.bar(x, [f.mean() for f in finals], yerr=[f.std(ddof=1) if f.size > 1 else 0 for f in finals], capsize=3,
               color=[COLOURS[k] for k in config.kinds])
        for i, f in enumerate(finals):
            ax.plot(np.full(f.size, x[i]), f, "k.", ms=4)
        if s["dataset"] == "fashion-mnist":
            ax.axhline(study.FASHION_MLP_BENCHMARK, color="k", lw=0.8, ls=":", label="MLPClassifier benchmark")
            ax.legend(fontsize=8, loc="lower right")
        shown = [f.min() for f in finals] + [f.max() for f in finals]
        if s["dataset"] == "fashion-mnist":
            shown.append(study.FASHION_MLP_BENCHMARK)
        ax.set_ylim(max(0.0, min(shown) - 0.05), min(1.0, max(shown) + 0.02))
        ax.set_xticks(x, [NORM_LABELS[k] for k in config.kinds], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("final test accuracy")
        ax.set_title(study.dataset_label(s), fontsize=10)
    figure.suptitle(f"After {config.steps:,} steps: mean ± std (dots: seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def timing_figure(config: Config, timing: dict) -> Figure:
    figure = Figure(figsize=(6, 3.5))
    ax = figure.subplots()
    x = np.arange(len(config.kinds))
    ax.bar(x, [timing["ms_per_step"][k] for k in config.kinds], color=[COLOURS[k] for k in config.kinds])
    for i, k in enumerate(config.kinds):
        ax.text(x[i], timing["ms_per_step"][k], f"{timing['ratio_to_none'][k]:.2f}×", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [NORM_LABELS[k] for k in config.kinds], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("ms per training step")
    ax.margins(y=0.12)
    ax.set_title(f"{timing['networks']} networks of one kind, median of {timing['rounds']} bursts of "
                 f"{timing['steps']} steps\n(label: time ÷ no normalisation's)", fontsize=9)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, sections: list[dict]) -> dict:
    return {f"{s['dataset']}/{kind}": {"accuracy/test_mean": list(zip(s["steps"], s["kinds"][kind]["curves_mean"]))}
            for s in sections for kind in config.kinds}
