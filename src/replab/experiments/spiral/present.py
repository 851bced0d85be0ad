"""present: what a reader sees besides the claims — the search's tables, the replication, figures and notes."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from replab import stats
from replab.experiments.base import Presentation, Table
from replab.experiments.spiral.config import Config, feature_label
from replab.experiments.spiral.judge import pruning_missed
from replab.experiments.spiral.measure import Measurements
from replab.experiments.spiral.search import grid_axis, hyper_grid, rung_ends

PLAYGROUND_CMAP = LinearSegmentedColormap.from_list("playground", ["#f59322", "#e8eaeb", "#0877bd"])


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (search space, replication, smaller candidates, what was pruned), the decision-region, loss-curve and
    parameters-against-loss figures with their captions, and the notes.
    """
    return Presentation(
        tables=[search_space_table(config, m), replication_table(config, m), smaller_table(config, m),
                pruning_table(m)],
        figures={"decision_regions": decision_figure(config, m), "pareto": pareto_figure(config, m),
                 "loss_curves": curves_figure(config, m)},
        captions={
            "decision_regions": "Each finalist's output over the plane after the full budget on the first fresh "
                                "replicate seed, with that seed's training (○) and test (△) points.",
            "pareto": "Every candidate the search trained: its parameter count against its training-loss score, "
                      "with the Pareto front per feature set and the target as a dotted line.",
            "loss_curves": "Test loss of every finalist on every fresh replicate seed over the full budget, "
                           "against the target.",
        },
        notes=notes(config, m) + pruning_missed(config, m))


# --- tables ------------------------------------------------------------------------------------------------


def _count(m: Measurements, rows, status: str) -> int:
    return sum(m.status[i] == status for i in rows)


def search_space_table(config: Config, m: Measurements) -> Table:
    rows = []
    for k, f in enumerate(config.feature_sets):
        mine = [i for i, c in enumerate(m.candidates) if c.feature_set == f]
        rows.append([feature_label(f), len({m.candidates[i].hidden for i in mine}), len(mine),
                     _count(m, mine, "solved"), _count(m, mine, "failed"), _count(m, mine, "pruned"),
                     int(m.skipped[k])])
    return Table("What was searched", ["features", "architectures trained", "candidates", "solved", "failed",
                                       "pruned (hopeless)", "architectures skipped (larger than a solution)"], rows,
                 caption=f"{len(hyper_grid(config))} hyperparameter settings per architecture, {config.n_seeds} "
                         f"seeds each; solved, failed and pruned by training loss only.")


def replication_table(config: Config, m: Measurements) -> Table:
    rows = []
    for i, c in enumerate(m.finalists):
        k = m.successes(i)
        low, high = stats.wilson(k, m.replicates)
        final = m.final_test_loss[i]
        rows.append([m.label(i), feature_label(c.feature_set), " × ".join(map(str, c.hidden)) or "none",
                     c.hyper.activation, c.hyper.learning_rate, f"{c.hyper.regularization} {c.hyper.regularization_rate:g}",
                     c.hyper.batch_size, c.parameters, f"{k}/{m.replicates}", f"{low:.2f}–{high:.2f}",
                     round(float(np.median(final)), 4), round(float(np.median(m.replicate_train_loss[i, -1])), 4)])
    return Table("Finalists retrained on fresh seeds (full budget, no pruning)",
                 ["network", "features", "hidden", "activation", "lr", "regularisation", "batch", "parameters",
                  "successes", "95% Wilson CI", "median final test loss", "median final training loss"], rows,
                 caption=f"A replicate succeeds when its test loss after {config.epoch_budget} epochs is ≤ "
                         f"{config.target_loss:g}; replicate seeds are disjoint from the search's.")


def smaller_table(config: Config, m: Measurements) -> Table:
    by_shape: dict = {}
    for i, c in enumerate(m.candidates):
        by_shape.setdefault((c.parameters, c.feature_set, c.hidden), []).append(i)
    rows = []
    for (params, f, hidden), group in sorted(by_shape.items()):
        best = min(group, key=m.score)
        rows.append([params, feature_label(f), " × ".join(map(str, hidden)) or "none", len(group),
                     _count(m, group, "solved"), _count(m, group, "pruned"), round(m.score(best), 4),
                     m.candidates[best].hyper.describe()])
    return Table("Every trained architecture, by parameter count",
                 ["parameters", "features", "hidden", "candidates", "solved", "pruned", "best score", "best settings"],
                 rows, caption=f"Score: the {config.seeds_required}-th best seed's best training loss (solved iff ≤ "
                               f"{config.target_loss:g}).")


def pruning_table(m: Measurements) -> Table:
    return Table("Successive halving: candidates pruned as hopeless",
                 ["after epoch", "pruned", "kept training", "lowest pruned score"],
                 [[int(e), int(p), int(k), round(float(s), 4)] for e, p, k, s in m.prune_log])


def notes(config: Config, m: Measurements) -> list[str]:
    grid = hyper_grid(config)
    pruned = sum(s == "pruned" for s in m.status)
    return [
        f"Searched: feature sets {', '.join(feature_label(f) for f in config.feature_sets)}; hidden layers 0–"
        f"{config.max_layers} of one uniform width 1–{config.max_neurons} (mixed widths are not searched); "
        f"{len(grid)} hyperparameter settings per architecture (activation {', '.join(config.activations)} × lr "
        f"{', '.join(f'{lr:g}' for lr in config.learning_rates)} × regularisation {', '.join(config.regularizations)} "
        f"(rate {config.regularization_rate:g}) × batch {', '.join(map(str, config.batch_sizes))}); {config.n_seeds} "
        f"seeds each.",
        f"Selection never sees the test points: in the search a candidate is solved when its training loss reaches "
        f"{config.target_loss:g} (checked every {config.record_every} epochs) within {config.epoch_budget} epochs in "
        f"≥ {config.seeds_required} of {config.n_seeds} seeds; each seed draws its own data ({config.dataset}, noise "
        f"{config.noise:g}) and initial weights.",
        f"Judged on fresh seeds: {len(m.finalists)} finalists (the seed's choice, the smallest solver per feature "
        f"set and the X1, X2 rival of the sine claim) were retrained on {m.replicates} new seeds each "
        f"({len(m.finalists) * m.replicates} networks × {config.epoch_budget} epochs, one population); a replicate "
        f"succeeds when its final test loss is ≤ {config.target_loss:g}, and 'solves' means a success rate "
        f"significantly above {config.success_null:g} (exact binomial test).",
        f"Pruned: after each rung (ends at epochs {rung_ends(config)}) a candidate whose {config.seeds_required}-th best "
        f"seed's best training loss exceeded {config.early_hopeless_loss:g} (before epoch {config.epoch_budget // 2}) "
        f"or {config.hopeless_loss:g} (from then on) stopped training ({pruned} candidates); solved candidates stopped "
        f"once solved. Architectures larger than a feature set's smallest solution were skipped: "
        f"{dict(zip(config.feature_sets, m.skipped.tolist()))}.",
        f"{len(m.candidates)} candidates trained in {m.waves} waves of masked populations.",
        "Epochs walk the training set in stored order in batches that divide it exactly, so an epoch is "
        "n_train / batch SGD steps, as in the Playground.",
    ]


# --- figures ---------------------------------------------------------------------------------------------


def decision_figure(config: Config, m: Measurements) -> Figure:
    shown = len(m.finalists)
    figure = Figure(figsize=(4.2 * shown, 4.4))
    axes = np.atleast_1d(figure.subplots(1, shown, squeeze=False)[0])
    xs = grid_axis()
    for i, ax in enumerate(axes):
        ax.imshow(m.grid_output[i], extent=(xs[0], xs[-1], xs[0], xs[-1]), origin="lower", cmap=PLAYGROUND_CMAP,
                  vmin=-1, vmax=1, alpha=0.8)
        for points, labels, marker in ((m.shown_train_points, m.shown_train_labels, "o"),
                                       (m.shown_test_points, m.shown_test_labels, "^")):
            ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=PLAYGROUND_CMAP, vmin=-1, vmax=1, s=9,
                       marker=marker, edgecolors="white", linewidths=0.4)
        c = m.finalists[i]
        ax.set_title(f"{m.label(i)}\n{feature_label(c.feature_set)} → {c.shape()}, {c.parameters} params\n"
                     f"final test loss {m.final_test_loss[i, 0]:.3f} (replicate 1); "
                     f"{m.successes(i)}/{m.replicates} succeed", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle("Decision regions (output over the plane; ○ train, △ test points; first fresh seed)")
    figure.tight_layout()
    return figure


def pareto_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    ax = figure.add_subplot()
    for k, f in enumerate(config.feature_sets):
        mine = [i for i, c in enumerate(m.candidates) if c.feature_set == f]
        if not mine:
            continue
        params = np.array([m.candidates[i].parameters for i in mine])
        scores = np.maximum(np.array([m.score(i) for i in mine]), 1e-6)
        jitter = np.random.default_rng(k).uniform(-0.15, 0.15, len(mine))
        ax.scatter(params * np.exp(jitter * 0.1), scores, s=8, alpha=0.4, color=f"C{k}", label=feature_label(f))
        front_x, front_y = pareto_front(params, scores)
        ax.step(front_x, front_y, where="post", color=f"C{k}", lw=1.5)
    ax.axhline(config.target_loss, color="black", ls=":", lw=1, label=f"target {config.target_loss:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters (weights + biases)")
    ax.set_ylabel(f"{config.seeds_required}-th best seed's best training loss")
    ax.set_title("Every candidate trained; lines: Pareto front per feature set")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def pareto_front(params: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points no other candidate beats on both parameters and score, sorted by parameters."""
    xs, ys, best = [], [], math.inf
    for p in np.unique(params):
        s = float(scores[params == p].min())
        if s < best:
            best = s
            xs.append(int(p))
            ys.append(s)
    return np.array(xs), np.array(ys)


def curves_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    ax = figure.add_subplot()
    for i, c in enumerate(m.finalists):
        for k in range(m.replicates):
            ax.plot(m.epochs, np.maximum(m.replicate_test_loss[i, :, k], 1e-4), color=f"C{i}", lw=0.8, alpha=0.35,
                    label=f"{m.label(i)} ({c.parameters} params; {m.successes(i)}/{m.replicates} succeed)"
                    if k == 0 else None)
    ax.axhline(config.target_loss, color="black", ls=":", lw=1, label="target")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test loss")
    ax.set_title(f"Test loss of the finalists, every fresh seed ({m.replicates})")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure
