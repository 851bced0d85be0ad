"""BN study 1, learning rate: does Batch Normalization train well at learning rates where the baseline fails?

A log grid of plain-SGD learning rates for Figure 1's sigmoid MLP without and with BN. Every (network, rate, seed)
is one member of one population per dataset, so all of them see the same mini-batches; seed s of every cell
starts from the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from replab.claims import Claim, judge
from replab.data.mnist import Digits
from replab.errors import require
from replab.experiments.bn import study
from replab.experiments.bn.batchnorm import first_step_reaching
from replab.experiments.base import Progress, Result, Table, no_progress
from replab.nn.normalized_mlp import Member

NAME = "bn-lr"
TITLE = "BN study 1 — learning rate: does Batch Normalization allow higher learning rates?"
QUESTION = ("Over a log grid of learning rates, where does the Figure 1 sigmoid network train well without and "
            "with Batch Normalization, how fast does each reach a target accuracy, and which rates diverge?")

MODELS, LABELS, COLOURS = study.MODELS, study.LABELS, study.COLOURS


@dataclass(frozen=True)
class Config(study.StudyConfig):
    learning_rates: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
    steps: int = 2000
    record_every: int = 100
    good_within: float = 0.02
    """A rate 'trains well' if no seed diverged and its mean final test accuracy is within this of the best cell's."""
    target_within: float = 0.05
    """Steps to target: the first record point where a cell's mean accuracy reaches (best final − target_within)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rates = self.learning_rates
        require(len(rates) >= 2 and all(0 < r <= 100 for r in rates) and list(rates) == sorted(set(rates)),
                f"learning_rates must be two or more increasing rates in (0, 100], got {rates}")
        require(0 < self.good_within < 1, f"good_within must lie in (0, 1), got {self.good_within}")
        require(0 < self.target_within < 1, f"target_within must lie in (0, 1), got {self.target_within}")

    @classmethod
    def quick(cls) -> "Config":
        return cls(**study.QUICK, learning_rates=(0.1, 1.0, 10.0, 30.0))


def cells(config: Config) -> tuple[list[Member], list[float]]:
    """Model-major: every rate without BN, then every rate with BN."""
    members = [Member(model, weight_std=config.weight_std) for model in MODELS for _ in config.learning_rates]
    return members, list(config.learning_rates) * len(MODELS)


def run(config: Config, progress: Progress = no_progress) -> Result:
    datasets, skipped = study.load_datasets(config)
    sections = []
    for i, digits in enumerate(datasets):
        progress(i, len(datasets), f"{digits.dataset}: {2 * len(config.learning_rates)} cells × {config.n_seeds} seeds")
        members, rates = cells(config)
        trained = study.train_cells(config, digits, members, learning_rates=rates)
        sections.append(summarize(config, digits, trained))
    progress(len(datasets), len(datasets), "done")
    summary = {"datasets": sections}
    return Result(
        metrics=summary,
        tables=[grid_table(config, s) for s in sections],
        figures={"final_accuracy": accuracy_figure(config, sections), "curves": curves_figure(config, sections)},
        claims=judge_claims(config, sections),
        notes=notes(config, sections, skipped),
        scalars=tensorboard_scalars(config, sections),
    )


# --- measurements ------------------------------------------------------------------------------------------


def summarize(config: Config, digits: Digits, trained: study.Trained) -> dict:
    n = config.n_seeds
    rates = list(config.learning_rates)
    final = study.per_cell(trained.test_accuracy, n).reshape(len(MODELS), len(rates), n)
    curves = study.per_cell(trained.accuracy, n)  # (R, cells, seeds)
    curves = np.moveaxis(curves, 0, -1).reshape(len(MODELS), len(rates), n, -1)  # (model, rate, seed, R)
    diverged = study.per_cell(trained.diverged_at, n).reshape(len(MODELS), len(rates), n)
    intact = ~(diverged >= 0).any(axis=-1)  # (model, rate): no seed diverged
    means = np.where(intact, final.mean(axis=-1), np.nan)
    mean_curves = curves.mean(axis=2)  # (model, rate, R)
    target = float(mean_curves[..., -1][intact].max() if intact.any() else mean_curves[..., -1].max()) - config.target_within
    steps = trained.steps
    section = {
        **study.dataset_section(config, digits, trained),
        "steps": steps.tolist(), "target_accuracy": target, "models": {},
    }
    for m, model in enumerate(MODELS):
        best = float(np.nanmax(means[m])) if intact[m].any() else None
        good = intact[m] & (np.nan_to_num(means[m], nan=-1.0) >= (best if best is not None else 2.0) - config.good_within)
        good_rates = [r for r, g in zip(rates, good) if g]
        reach = [first_step_reaching(steps, mean_curves[m, r], target) if intact[m, r] else None
                 for r in range(len(rates))]
        section["models"][model] = {
            "final_accuracy": final[m].tolist(),  # [rate][seed]
            "final_accuracy_mean": final[m].mean(axis=-1).tolist(),
            "final_accuracy_std": final[m].std(axis=-1, ddof=1).tolist() if n > 1 else [0.0] * len(rates),
            "curves_mean": curves[m].mean(axis=1).tolist(),  # [rate][record]
            "diverged_seeds": (diverged[m] >= 0).sum(axis=-1).tolist(),
            "diverged_at": diverged[m].tolist(),
            "best_mean_accuracy": best,
            "good_threshold": None if best is None else best - config.good_within,
            "good": good.tolist(),
            "largest_good_rate": max(good_rates) if good_rates else None,
            "steps_to_target": reach,
            "fewest_steps_to_target": min((s for s in reach if s is not None), default=None),
        }
    return section


def rate_ratio(section: dict) -> float | None:
    """BN's largest good rate over the baseline's; None when either has none (see ratio_text)."""
    base, bn = (section["models"][m]["largest_good_rate"] for m in MODELS)
    return None if base is None or bn is None else bn / base


def ratio_text(section: dict) -> str:
    ratio = rate_ratio(section)
    if ratio is not None:
        return f"{ratio:.3g}×"
    base, bn = (section["models"][m]["largest_good_rate"] for m in MODELS)
    return "∞ (no good rate without BN)" if bn is not None else ("n/a (no good rate with BN)" if base is not None else "n/a")


def judge_claims(config: Config, sections: list[dict]) -> list[Claim]:
    verdicts, evidence = [], []
    for s in sections:
        base, bn = (s["models"][m]["largest_good_rate"] for m in MODELS)
        only_bn = [r for r, gb, gn in zip(config.learning_rates, s["models"]["none"]["good"], s["models"]["batch"]["good"])
                   if gn and not gb]
        if bn is None:
            verdicts.append(None if base is None else False)
        else:  # no good rate without BN at all counts as BN training well where the baseline fails
            verdicts.append(bool(only_bn) and (base is None or bn > base))
        thresholds = ", ".join(f"{LABELS[m]} ≥ {fmt_accuracy(s['models'][m]['good_threshold'])}" for m in MODELS)
        evidence.append(
            f"{study.dataset_label(s)}: good = no seed diverged and the mean final accuracy is within "
            f"{config.good_within:g} of the network's own best rate ({thresholds}); largest good "
            f"rate without BN {fmt_rate(base)}, with BN {fmt_rate(bn)} → ratio {ratio_text(s)}; "
            f"rates good only with BN: {', '.join(f'{r:g}' for r in only_bn) or 'none'}; mean accuracy at the largest "
            f"rate {config.learning_rates[-1]:g}: without BN {s['models']['none']['final_accuracy_mean'][-1]:.4f}, "
            f"with BN {s['models']['batch']['final_accuracy_mean'][-1]:.4f}")
    claims = [judge(
        "bn-higher-learning-rates",
        "Batch Normalization trains well at learning rates where the baseline fails: its largest good learning rate is "
        "higher (the ratio is given)",
        study.combine(verdicts),
        "; ".join(evidence) + f". {config.n_seeds} seeds, {config.steps:,} steps. Holds if, on every dataset, BN's largest "
        "good rate is higher and some rate is good only with BN; fails if not on some dataset.")]

    verdicts, evidence = [], []
    for s in sections:
        base, bn = (s["models"][m]["fewest_steps_to_target"] for m in MODELS)
        verdicts.append(None if base is None and bn is None else (bn is not None and (base is None or bn < base)))
        evidence.append(f"{study.dataset_label(s)}: target {s['target_accuracy']:.4f} (the best final mean "
                        f"curve − {config.target_within:g}) on the first {s['eval_images']:,} test images; fewest steps "
                        f"over the rates where no seed diverged: without BN {fmt_steps(base)}, with BN {fmt_steps(bn)}")
    claims.append(judge(
        "bn-lr-faster",
        "At its best learning rate, the network with BN reaches a target accuracy in fewer steps than the baseline at "
        "its best",
        study.combine(verdicts),
        "; ".join(evidence) + f" (mean accuracy over seeds, recorded every "
        f"{config.record_every} steps). Holds if BN is faster on every dataset."))
    return claims


def fmt_rate(rate) -> str:
    return "none" if rate is None else f"{rate:g}"


def fmt_accuracy(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def fmt_steps(steps) -> str:
    return "never" if steps is None else f"{steps:,}"


def notes(config: Config, sections: list[dict], skipped: list[str]) -> list[str]:
    out = [study.data_note(s) for s in sections] + skipped
    out.append(f"Figure 1's network {'-'.join(map(str, config.layer_sizes))} (sigmoid, Gaussian initial weights std "
               f"{config.weight_std:g}, batch {config.batch_size}, plain SGD, {config.steps:,} steps) without and with BN; "
               f"learning rates {', '.join(f'{r:g}' for r in config.learning_rates)}; {config.n_seeds} seeds; all "
               f"{2 * len(config.learning_rates) * config.n_seeds} networks of a dataset trained as one population ("
               + ", ".join(f"{s['steps_per_second'][0]:.0f} steps/s on {study.dataset_label(s)}" for s in sections)
               + ").")
    out.append("Divergence means a NaN or Inf in the loss, gradients or weights (that member is then frozen). A sigmoid "
               "network rarely produces one: at too high a rate its units saturate and it stays at chance (~0.10), "
               "which counts as not training well.")
    return out


# --- tables and figures ----------------------------------------------------------------------------------------


def grid_table(config: Config, section: dict) -> Table:
    rows = []
    for r, rate in enumerate(config.learning_rates):
        row = [rate]
        for model in MODELS:
            m = section["models"][model]
            accuracy = np.asarray(m["final_accuracy"][r])
            row += [study.pm(accuracy), fmt_steps(m["steps_to_target"][r]), m["diverged_seeds"][r],
                    "yes" if m["good"][r] else "no"]
        rows.append(row)
    columns = ["learning rate"] + [f"{c} {LABELS[m]}" for m in MODELS
                                   for c in ("final accuracy", "steps to target", "diverged seeds", "good")]
    return Table(f"Learning-rate grid on {study.dataset_label(section)}", columns, rows,
                 caption=f"Mean ± std over {config.n_seeds} seeds on the {section['n_test']:,} test images; target "
                         f"{section['target_accuracy']:.4f}; good: no divergence and mean within {config.good_within:g} of "
                         f"the network's own best (without BN ≥ {fmt_accuracy(section['models']['none']['good_threshold'])}, "
                         f"with BN ≥ {fmt_accuracy(section['models']['batch']['good_threshold'])}). Largest good rate "
                         f"ratio (BN / baseline): {ratio_text(section)}.")


def accuracy_figure(config: Config, sections: list[dict]) -> Figure:
    figure, axes = study.dataset_axes(len(sections))
    rates = np.asarray(config.learning_rates)
    for ax, s in zip(axes, sections):
        for model in MODELS:
            m = s["models"][model]
            ax.errorbar(rates, m["final_accuracy_mean"], yerr=m["final_accuracy_std"], marker="o", capsize=3,
                        color=COLOURS[model], label=LABELS[model])
            crashed = [r for r, d in zip(rates, m["diverged_seeds"]) if d]
            ax.plot(crashed, [0.05] * len(crashed), "x", color=COLOURS[model], ms=9)
            if m["largest_good_rate"] is not None:
                ax.axvline(m["largest_good_rate"], color=COLOURS[model], ls=":", lw=1)
                ax.axhline(m["good_threshold"], color=COLOURS[model], lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("learning rate (plain SGD)")
        ax.set_ylabel("final test accuracy")
        ax.set_title(f"{study.dataset_label(s)}: ratio of largest good rates "
                     f"{ratio_text(s)}", fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
    figure.suptitle(f"Final accuracy after {config.steps:,} steps (mean ± std over {config.n_seeds} seeds; × = a seed "
                    "diverged; dashed = within the 'trains well' margin of the network's best; dotted = largest good "
                    "rate)", fontsize=10)
    figure.tight_layout()
    return figure


def curves_figure(config: Config, sections: list[dict]) -> Figure:
    figure = Figure(figsize=(5.5 * len(sections), 7.5))
    grid = figure.subplots(2, len(sections), squeeze=False, sharey=True)
    cmap = __import__("matplotlib").colormaps["viridis"]
    for column, s in enumerate(sections):
        for row, model in enumerate(MODELS):
            ax = grid[row][column]
            for r, rate in enumerate(config.learning_rates):
                colour = cmap(r / max(len(config.learning_rates) - 1, 1))
                ax.plot(s["steps"], s["models"][model]["curves_mean"][r], color=colour, label=f"lr {rate:g}")
            ax.axhline(s["target_accuracy"], color="grey", lw=0.8, ls="--")
            ax.set_title(f"{study.dataset_label(s)}, {LABELS[model]}", fontsize=10)
            ax.set_xlabel("training step")
            ax.set_ylabel(f"test accuracy ({s['eval_images']:,} images)")
            ax.legend(fontsize=7, ncol=2)
    figure.suptitle(f"Mean accuracy curves over {config.n_seeds} seeds; dashed = target", fontsize=10)
    figure.tight_layout()
    return figure


def tensorboard_scalars(config: Config, sections: list[dict]) -> dict:
    scalars = {}
    for s in sections:
        for model in MODELS:
            for r, rate in enumerate(config.learning_rates):
                curve = s["models"][model]["curves_mean"][r]
                scalars[f"{s['dataset']}/{model}/lr{rate:g}"] = {"accuracy/test_mean": list(zip(s["steps"], curve))}
    return scalars
