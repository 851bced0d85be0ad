"""present: what a reader sees besides the claims — the search's tables, the replication, figures and notes."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from replab import stats
from replab.experiments.base import Presentation, Table, scalar_points
from replab.experiments.spiral.candidates import architectures, hyper_grid, regularization_settings
from replab.experiments.spiral.config import Config, feature_label
from replab.experiments.spiral.judge import pruning_missed, pruning_text
from replab.experiments.spiral.measure import Measurements, describe
from replab.experiments.spiral.search import grid_axis, rung_ends

PLAYGROUND_CMAP = LinearSegmentedColormap.from_list("playground", ["#f59322", "#e8eaeb", "#0877bd"])


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (search space, replication, smaller candidates, what was pruned), the decision-region, loss-curve and
    parameters-against-loss figures with their captions, and the notes.
    """
    return Presentation(
        tables=[search_space_table(config, m), replication_table(config, m), smaller_table(config, m),
                pruning_table(m), pruning_check_table(m)],
        figures={"decision_regions": decision_figure(config, m), "pareto": success_figure(config, m),
                 "search_scores": pareto_figure(config, m), "loss_curves": curves_figure(config, m)},
        captions={
            "decision_regions": "Each finalist's output over the plane after the full budget on the first fresh "
                                "replicate seed, with that seed's training (○) and test (△) points.",
            "pareto": "The answer: success rate on fresh seeds (final test loss ≤ target; 95% Wilson interval) "
                      "against parameter count, per feature set, with the success rule's rate as a dashed line.",
            "search_scores": "Every candidate the search trained: its parameter count against its training-loss "
                             "score, with the Pareto front per feature set and the target as a dotted line.",
            "loss_curves": "Test loss of every finalist on every fresh replicate seed over the full budget, "
                           "against the target.",
        },
        notes=notes(config, m) + pruning_missed(config, m),
        scalars=tensorboard_scalars(m), hparams=tensorboard_hparams(m))


# --- TensorBoard -------------------------------------------------------------------------------------------


def tensorboard_scalars(m: Measurements) -> dict:
    """Each finalist's replication over its fresh seeds, per record epoch, stamped with when it was measured."""
    scalars = {}
    for i in range(len(m.finalists)):
        train, test = m.replicate_train_loss[i], m.replicate_test_loss[i]  # (R, replicates)
        times = m.replicate_record_times[i] if m.replicate_record_times.size else ()
        series = {"loss/test_mean": test.mean(axis=1), "loss/test_median": np.median(test, axis=1),
                  "loss/train_mean": train.mean(axis=1),
                  "replicates_at_target": (test <= m.target_loss).mean(axis=1)}
        scalars[f"finalist{i}"] = {tag: scalar_points(m.epochs, values, times) for tag, values in series.items()}
    return scalars


def tensorboard_hparams(m: Measurements) -> dict:
    """Each finalist's network and settings, for TensorBoard's HParams table beside its success rate."""
    hparams = {}
    for i, candidate in enumerate(m.finalists):
        hparams[f"finalist{i}"] = {**describe(candidate), "role": m.label(i),
                                   "success_rate": m.successes(i) / m.replicates}
    return hparams


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
                     c.hyper.batch_size, c.parameters, f"{k}/{m.replicates}", f"{low:.2f}–{high:.2f}", m.solves(i),
                     round(float(np.median(final)), 4), round(float(np.median(m.replicate_train_loss[i, -1])), 4),
                     m.links[i] if m.links else ""])
    return Table("Finalists retrained on fresh seeds (full budget, no pruning)",
                 ["network", "features", "hidden", "activation", "lr", "regularisation", "batch", "parameters",
                  "successes", "95% Wilson CI", "success rule", "median final test loss",
                  "median final training loss", "open in the Playground"], rows,
                 caption=f"A replicate succeeds when its test loss after {config.epoch_budget} epochs is ≤ "
                         f"{config.target_loss:g}; replicate seeds are disjoint from the search's. Success rule: "
                         f"'solves' when the success rate is significantly above {config.success_null:g} (exact "
                         f"binomial, 95%, this network alone), 'does not solve' when significantly below. The link "
                         f"opens the same network and settings in the real TensorFlow Playground (its own generator "
                         f"draws the data and initial weights from the seed).")


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


def pruning_check_table(m: Measurements) -> Table:
    rows = []
    for k, i in enumerate(m.pruning_sample):
        c = m.candidates[i]
        rows.append([feature_label(c.feature_set), " × ".join(map(str, c.hidden)) or "none", c.hyper.describe(),
                     c.parameters, round(float(m.score(i)), 4),
                     round(float(np.sort(m.pruning_best_loss[k])[m.seeds_required - 1]), 4),
                     "yes" if m.pruning_solved[k] else "no"])
    return Table("Pruning check: pruned candidates re-run without pruning",
                 ["features", "hidden", "settings", "parameters", "score when pruned", "score over the full budget",
                  "would have solved"], rows,
                 caption="A random sample of the pruned candidates trained for the full budget on the search seeds; "
                         "score: the seeds_required-th best seed's best training loss.")


def pruning_table(m: Measurements) -> Table:
    return Table("Successive halving: candidates pruned as hopeless",
                 ["after epoch", "pruned", "kept training", "lowest pruned score"],
                 [[int(e), int(p), int(k), round(float(s), 4)] for e, p, k, s in m.prune_log])


def notes(config: Config, m: Measurements) -> list[str]:
    grid = hyper_grid(config)
    pruned = sum(s == "pruned" for s in m.status)
    regs = ", ".join("none" if kind == "none" else f"{kind} {rate:g}" for kind, rate in regularization_settings(config))
    widths = "non-increasing widths" if config.mixed_widths else "one uniform width"
    return [
        f"Searched: feature sets {', '.join(feature_label(f) for f in config.feature_sets)}; hidden layers 0–"
        f"{config.max_layers} of {widths} 1–{config.max_neurons} ({len(architectures(config))} architectures per "
        f"feature set); {len(grid)} hyperparameter settings per architecture (activation "
        f"{', '.join(config.activations)} × lr {', '.join(f'{lr:g}' for lr in config.learning_rates)} × "
        f"regularisation {regs} × batch {', '.join(map(str, config.batch_sizes))}); {config.n_seeds} seeds each; "
        f"spiral noise {config.noise:g}. The profile 'paper' widens this to what the Playground offers.",
        f"Selection never sees the test points: in the search a candidate is solved when its training loss reaches "
        f"{config.target_loss:g} (checked every {config.record_every} epochs) within {config.epoch_budget} epochs in "
        f"≥ {config.seeds_required} of {config.n_seeds} seeds; each seed draws its own data ({config.dataset}, noise "
        f"{config.noise:g}) and initial weights.",
        f"Success rule: a network solves the {config.dataset} when its success rate on fresh seeds — the fraction "
        f"whose final test loss after {config.epoch_budget} epochs is ≤ {config.target_loss:g} — is significantly "
        f"above {config.success_null:g} (exact binomial test): a learner who presses play should see it work four "
        f"times in five, not merely more often than not. With {m.replicates} replicates that takes "
        f"{min_successes(config.success_null, m.replicates)} successes.",
        f"Judged on fresh seeds: {len(m.finalists)} finalists (the seed's choice; per feature set the best solver at "
        f"each of the {config.finalists_per_set} smallest parameter counts that solved in the search; the X1, X2 rival "
        f"of the sine claim) were retrained on {m.replicates} new seeds each ({len(m.finalists) * m.replicates} "
        f"networks × {config.epoch_budget} epochs).",
        f"Pruned: after each rung (ends at epochs {rung_ends(config)}) a candidate whose {config.seeds_required}-th best "
        f"seed's best training loss exceeded {config.early_hopeless_loss:g} (before epoch {config.epoch_budget // 2}) "
        f"or {config.hopeless_loss:g} (from then on) stopped training ({pruned} candidates); solved candidates stopped "
        f"once solved. Architectures larger than a feature set's {config.finalists_per_set}-th smallest solved size "
        f"were skipped: {dict(zip(config.feature_sets, m.skipped.tolist()))}. " + pruning_text(config, m),
        f"{len(m.candidates)} candidates trained in {m.waves} waves of masked populations (each wave's batch size a "
        f"unit on the cluster executor); a network's numbers do not depend on the population it shares.",
        "Batches are the Playground's: an epoch walks the training points in stored order and updates after every "
        "batch; when the batch size does not divide the training set, the leftover points' gradients carry over into "
        "the next epoch's first update (playground.ts oneStep).",
    ]


def min_successes(null: float, n: int) -> str:
    for k in range(n + 1):
        if stats.proportion(k, n, "rate", null=null).p_greater < stats.ALPHA:
            return f"{k}/{n}"
    return f"more than {n}"


def success_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    ax = figure.add_subplot()
    for k, f in enumerate(config.feature_sets):
        points = m.curve(f)
        if not points:
            continue
        params = np.array([m.finalists[i].parameters for i in points], float)
        rates = np.array([m.successes(i) / m.replicates for i in points])
        bounds = np.array([stats.wilson(m.successes(i), m.replicates) for i in points])
        offset = params * (1 + 0.02 * (k - 1))
        ax.errorbar(offset, rates, yerr=[rates - bounds[:, 0], bounds[:, 1] - rates], fmt="o-", color=f"C{k}",
                    capsize=3, label=feature_label(f))
    ax.axhline(config.success_null, color="black", ls="--", lw=1, label=f"success rule ({config.success_null:g})")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("parameters (weights + biases)")
    ax.set_ylabel(f"success rate on {m.replicates} fresh seeds")
    ax.set_title(f"Success rate against size (final test loss ≤ {config.target_loss:g})")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


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
