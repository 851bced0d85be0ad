"""The curves' notes, tables and figures."""

from __future__ import annotations

import numpy as np
import scipy.stats
from matplotlib.figure import Figure
from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

from replab.experiments.base import Presentation, Table
from replab.experiments.curves.config import MODEL_LABELS, Config
from replab.experiments.curves.measure import COARSE_DECIMALS, SKLEARN_DEFAULT_FLIP_Y, Measurements

COLOURS = ("tab:blue", "tab:orange", "tab:green")


def _metric_list(m: Measurements, metric: str, level: int) -> str:
    return ", ".join(f"{MODEL_LABELS[name]} {m.mean(metric, i, level):.3f}" for i, name in enumerate(m.models))


def _chance_precision(m: Measurements, level: int) -> np.ndarray:
    """Per draw, the no-skill precision averaged over the flagged fractions."""
    return m.chance_precision[level].mean(axis=1)


def balanced_note(m: Measurements) -> str:
    return (f"Balanced data — report ROC-AUC (and the ROC curve). At {m.labels[0]} (measured prevalence "
            f"{m.test_prevalence[0].mean():.3f}) ROC-AUC is {_metric_list(m, 'roc_auc', 0)} and AP is "
            f"{_metric_list(m, 'ap', 0)}: the two agree, both chance levels sit near 0.5 (no-skill ROC-AUC "
            f"{m.chance_roc_auc[0].mean():.3f}, no-skill precision {_chance_precision(m, 0).mean():.3f}), "
            f"and ROC-AUC reads the same whatever the class ratio of the test set. Scenario: a spam filter on a "
            f"mailbox that is roughly half spam, or an A/B comparison of two image classifiers on a balanced test "
            f"set, where false positives and false negatives matter about equally.")


def imbalanced_note(m: Measurements) -> str:
    first, last = m.labels[0], m.labels[-1]
    n, prevalence = int(m.chance_n_test[-1]), float(m.chance_prevalence[-1])
    negatives, positives = round((1 - prevalence) * n), round(prevalence * n)
    return (f"Imbalanced data — report the precision-recall curve and average precision, next to the prevalence. "
            f"At {last} ROC-AUC is {_metric_list(m, 'roc_auc', -1)} ({_metric_list(m, 'roc_auc', 0)} at "
            f"{first}), while AP is {_metric_list(m, 'ap', -1)} ({_metric_list(m, 'ap', 0)} at "
            f"{first}) against a chance level of {prevalence:.4f}, the prevalence. "
            f"ROC's false-positive rate divides by the {negatives} negatives of the test set, so many false alarms "
            f"barely move it; precision weighs them against the {positives} positives. Scenario: fraud detection or "
            f"rare-disease screening where about 1% of cases are positive — whoever reviews the flagged cases needs "
            f"to know what fraction of them are real, which AP measures and ROC-AUC hides.")


def chance_ap_note(m: Measurements) -> str:
    n, prevalence = int(m.chance_n_test[-1]), float(m.chance_prevalence[-1])
    return (f"The horizontal PR chance line is the expected precision at any fixed threshold, but the expected AP of "
            f"a random scorer is higher when positives are few: at {m.labels[-1]} the test set holds "
            f"{round(prevalence * n)} positives and the no-skill AP is {m.chance_ap[-1].mean():.4f} ± "
            f"{scipy.stats.sem(m.chance_ap[-1]):.4f} against a prevalence of {prevalence:.4f}, because the first "
            f"positives found by chance can sit high in the ranking. With few positives, compare AP with this "
            f"measured baseline too.")


def trapezoid_note(m: Measurements) -> str:
    gaps, coarse = m.gap.mean(axis=2), m.coarse_gap.mean(axis=2)
    return (f"Trapezoid versus step-wise area: with every threshold of continuous scores on the curve, trapezoid − AP "
            f"ranges from {gaps.min():+.5f} to {gaps.max():+.5f}; when a positive is found, precision jumps up, and the "
            f"trapezoid averages the jump while AP takes the new value, so without ties the trapezoid can only come "
            f"out lower. The optimism scikit-learn warns about comes from interpolating across tied scores: on the "
            f"same scores rounded to {COARSE_DECIMALS} decimal the gap ranges from {coarse.min():+.5f} to "
            f"{coarse.max():+.5f}. Use average_precision_score either way.")


def _noise_share(prevalence: float, flip_y: float) -> float:
    """Expected share of positives whose label make_classification re-drew at random."""
    return (flip_y / 2) / (prevalence * (1 - flip_y) + flip_y / 2)


def flip_note(config: Config, m: Measurements) -> str:
    last, nominal, measured = m.labels[-1], 1 - float(m.negative_shares[-1]), float(m.test_prevalence[-1].mean())
    if config.flip_y == 0:
        return (f"flip_y = 0, so no labels are re-drawn at random and the measured test prevalence matches the nominal "
                f"share (at {last}: {measured:.4f} vs {nominal:.4f}). With scikit-learn's default flip_y = 0.01 half "
                f"of the re-drawn labels land on the positive class at every ratio, so at {last} about "
                f"{_noise_share(nominal, SKLEARN_DEFAULT_FLIP_Y):.0%} of the positives would be random labels.")
    noise = _noise_share(nominal, config.flip_y)
    return (f"flip_y = {config.flip_y:g} re-draws that share of labels at random, which moves the prevalence towards "
            f"0.5: at {last} the measured test prevalence is {measured:.4f} against a nominal {nominal:.4f}, and "
            f"about {noise:.0%} of the positives there are random labels no model can rank, which lowers ROC-AUC as "
            f"well as AP at that level.")


def arms_note(config: Config, m: Measurements) -> str:
    first, last = m.labels[0], m.labels[-1]
    parts = []
    for i, name in enumerate(m.models):
        parts.append(f"{MODEL_LABELS[name]}: ROC-AUC {m.change('fixed_roc_auc')[i].mean():+.4f} fixed vs "
                     f"{m.change('roc_auc')[i].mean():+.4f} retrained, AP {m.change('fixed_ap')[i].mean():+.4f} fixed "
                     f"vs {m.change('ap')[i].mean():+.4f} retrained")
    return (f"What imbalance does to the metric versus to the model, from {first} to {last}. The fixed-model arm fits "
            f"each model once per seed on a balanced training set (prevalence {m.fixed_train_prevalence.mean():.3f}, "
            f"{config.n_train} points) and scores {config.n_test}-point test sets resampled from a held-out pool of "
            f"{config.pool_size} at every ratio, so only the test prevalence changes: its change is the metric's own. "
            f"The retrained arm refits at every ratio, so its change adds what the model loses from seeing fewer "
            f"positives. Mean change over {config.n_seeds} seeds — " + "; ".join(parts) + ".")


def build_notes(config: Config, m: Measurements) -> list[str]:
    return [balanced_note(m), imbalanced_note(m), arms_note(config, m), chance_ap_note(m), trapezoid_note(m),
            flip_note(config, m)]


# --- tables -------------------------------------------------------------------------------------------


def _pm(values: np.ndarray, spread: str = "std", digits: int = 4) -> str:
    """mean ± standard deviation (or standard error) of values."""
    width = np.std(values, ddof=1) if spread == "std" else scipy.stats.sem(values)
    return f"{np.mean(values):.{digits}f} ± {width:.{digits}f}"


def build_tables(config: Config, m: Measurements) -> list[Table]:
    rows = []
    for k, label in enumerate(m.labels):
        for i, name in enumerate(m.models):
            rows.append([label, MODEL_LABELS[name], round(1 - float(m.negative_shares[k]), 4),
                         _pm(m.test_prevalence[k]), _pm(m.roc_auc[i, k]), _pm(m.ap[i, k]), _pm(m.trapezoid[i, k]),
                         _pm(m.gap[i, k], digits=5)])
    metrics_table = Table(
        "Curve metrics per imbalance level",
        ["level (neg/pos)", "model", "nominal positive share", "measured test prevalence", "ROC-AUC",
         "average precision", "trapezoid PR-AUC", "trapezoid − AP"],
        rows,
        f"Mean ± standard deviation over {config.n_seeds} seeds (each a new dataset of {config.n_samples} samples "
        f"and a stratified split with test share {config.test_share:g}); flip_y = {config.flip_y:g}.")
    chance_rows = [[label, round(float(m.chance_prevalence[k]), 4), _pm(_chance_precision(m, k), "se"),
                    _pm(m.chance_roc_auc[k], "se"), _pm(m.chance_ap[k], "se")] for k, label in enumerate(m.labels)]
    chance_table = Table(
        "No-skill scorer",
        ["level (neg/pos)", "test prevalence", "precision", "ROC-AUC", "average precision"],
        chance_rows,
        f"Uniformly random scores on the first seed's test set, {config.n_chance_draws} draws per level, mean ± "
        f"standard error; precision averaged over flagging the top 10%, 20%, …, 90% of the test set.")
    arm_rows = []
    for k, label in enumerate(m.labels):
        for i, name in enumerate(m.models):
            arm_rows.append([label, MODEL_LABELS[name], int(m.fixed_n_test_positive[k]),
                             _pm(m.fixed_roc_auc[i, k]), _pm(m.roc_auc[i, k]), _pm(m.fixed_ap[i, k]), _pm(m.ap[i, k])])
    arms_table = Table(
        "Fixed model vs retrained model",
        ["level (neg/pos)", "model", "fixed-model test positives", "ROC-AUC, fixed model", "ROC-AUC, retrained",
         "AP, fixed model", "AP, retrained"],
        arm_rows,
        f"Fixed model: fitted once per seed on a balanced training set of {config.n_train} points, scored on "
        f"{config.n_test}-point test sets resampled (per seed and level) from a held-out balanced pool of "
        f"{config.pool_size}; only the test prevalence changes. Retrained: fitted at every ratio on that ratio's "
        f"training split. Mean ± standard deviation over {config.n_seeds} seeds.")
    return [metrics_table, arms_table, chance_table]


# --- figures ------------------------------------------------------------------------------------------


def _recolour(display, colour: str) -> None:
    display.line_.set_color(colour)


def curves_grid_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(4.2 * len(m.labels), 8.4), layout="constrained")
    axes = figure.subplots(2, len(m.labels), squeeze=False)
    for column, label in enumerate(m.labels):
        roc_ax, pr_ax = axes[0, column], axes[1, column]
        y_test = m.first_y[column]
        for index, name in enumerate(m.models):
            scores = m.first_scores[index, column]
            colour = COLOURS[index % len(COLOURS)]
            roc = RocCurveDisplay.from_predictions(y_test, scores, name=MODEL_LABELS[name], ax=roc_ax,
                                                   plot_chance_level=index == 0)
            pr = PrecisionRecallDisplay.from_predictions(y_test, scores, name=MODEL_LABELS[name], ax=pr_ax,
                                                         plot_chance_level=index == 0)
            _recolour(roc, colour)
            _recolour(pr, colour)
        roc_ax.set_title(f"ROC, {label}")
        pr_ax.set_title(f"Precision-recall, {label} (prevalence {m.chance_prevalence[column]:.3f})")
        for ax in (roc_ax, pr_ax):
            ax.legend(loc="lower right" if ax is roc_ax else "best", fontsize="small")
    figure.suptitle("ROC (top) and precision-recall (bottom) curves, first seed; dashed: chance level")
    return figure


def metrics_vs_prevalence_figure(config: Config, m: Measurements) -> Figure:
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    roc_ax, ap_ax = figure.subplots(1, 2)
    prevalence = m.test_prevalence.mean(axis=1)
    for index, name in enumerate(m.models):
        colour = COLOURS[index % len(COLOURS)]
        for ax, values in ((roc_ax, m.roc_auc[index]), (ap_ax, m.ap[index])):
            ax.errorbar(prevalence, values.mean(axis=1), yerr=values.std(axis=1, ddof=1), marker="o", capsize=3,
                        color=colour, label=f"{MODEL_LABELS[name]}, retrained")
        fixed_prevalence = m.fixed_n_test_positive / m.n_test[:, 0]
        for ax, values in ((roc_ax, m.fixed_roc_auc[index]), (ap_ax, m.fixed_ap[index])):
            ax.errorbar(fixed_prevalence, values.mean(axis=1), yerr=values.std(axis=1, ddof=1), marker="s",
                        capsize=3, color=colour, linestyle=":", label=f"{MODEL_LABELS[name]}, fixed model")
    span = np.geomspace(prevalence.min() * 0.8, max(prevalence.max() * 1.2, 0.6), 50)
    roc_ax.axhline(0.5, color="k", linestyle="--", label="chance (ROC-AUC = 0.5)")
    ap_ax.plot(span, span, color="k", linestyle="--", label="chance (AP = prevalence)")
    ap_ax.plot(prevalence, m.chance_ap.mean(axis=1), "k^", markersize=5, label="measured no-skill AP")
    for ax, ylabel in ((roc_ax, "ROC-AUC"), (ap_ax, "average precision")):
        ax.set_xscale("log")
        ax.set_xlabel("positive prevalence in the test set (log scale)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize="small", loc="lower right")
        ax.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"Mean ± std over {config.n_seeds} seeds against positive prevalence")
    return figure


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (ROC-AUC, AP and chance levels per share and model), the metrics-against-prevalence and curve-grid
    figures with their captions, and the notes.
    """
    return Presentation(
        tables=build_tables(config, m),
        figures={"curves_grid": curves_grid_figure(config, m),
                 "metrics_vs_prevalence": metrics_vs_prevalence_figure(config, m)},
        notes=build_notes(config, m),
        captions={
            "curves_grid": "ROC and precision-recall curves of each model on the first seed's test set at every "
                           "class ratio, with each curve's chance level dashed.",
            "metrics_vs_prevalence": "Mean ROC-AUC and average precision against the test set's positive "
                                     "prevalence, retrained at every ratio (solid) and for a model fitted once on "
                                     "balanced data (dotted), with the chance level of each and the measured "
                                     "no-skill AP.",
        })
