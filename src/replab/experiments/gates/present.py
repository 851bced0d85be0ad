"""The gates' notes, tables and figures."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from sklearn.inspection import DecisionBoundaryDisplay

from replab.experiments.base import Presentation, Table
from replab.experiments.gates.config import Config
from replab.experiments.gates.judge import accuracy_list, separable_gates
from replab.experiments.gates.measure import INPUTS, LOGISTIC_MODELS, MODELS, PLOT_RANGE, Measurements, model_labels
from replab.experiments.gates.separability import signs

COLOUR_KEY = "red: output 0, blue: output 1"


def _point(values) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in values) + ")"


def certificate_note(m: Measurements, gate: str) -> str:
    """Why the certificate rules out every line: the λ-weighted averages of the two classes coincide."""
    g = m.index(gate)
    lam = m.certificates[g]
    s = signs(m.targets[g])
    positive, negative = s > 0, s < 0
    mean_positive = lam[positive] @ INPUTS[positive] / lam[positive].sum()
    mean_negative = lam[negative] @ INPUTS[negative] / lam[negative].sum()
    return (f"{gate} has no separating line. The LP's certificate λ = {_point(lam)} puts weight "
            f"{lam[positive].sum():.3g} on the output-1 points and {lam[negative].sum():.3g} on the output-0 points; "
            f"their λ-weighted averages are {_point(mean_positive)} and {_point(mean_negative)}, the same point. "
            f"Any line w·x + b takes one value there, yet separation would need it to be ≥ 1 (an average of "
            f"points on the positive side) and ≤ −1 (an average of points on the negative side) at once.")


def logistic_note(config: Config, m: Measurements) -> str | None:
    failed = [gate for gate in m.gates if not m.separable[m.index(gate)]]
    if not failed:
        return None
    parts, undecided = [], []
    for gate in failed:
        g = m.index(gate)
        probabilities = m.probabilities[0, g]
        parts.append(f"{gate}: w = {_point(m.coefficients[0, g])}, b = {m.intercepts[0, g]:.3g}, "
                     f"P(1) = {_point(probabilities)}, accuracy {m.acc('logistic_seed', gate):.2f}")
        if np.allclose(probabilities, 0.5, atol=1e-6):
            undecided.append(gate)
    note = (f"Logistic regression (C={config.lr_C:g}) on the gates without a separating line: " + "; ".join(parts)
            + ". Its decision boundary is a line, so at least one row always lands on the wrong side.")
    if undecided:
        note += (f" On {', '.join(undecided)} the best fit is a flat score, P(1) = 0.5 on every row, and predict() "
                 "breaks those ties towards class 0.")
    return note


def svc_note(config: Config, m: Measurements) -> str:
    X = INPUTS.astype(float)
    gamma = 1.0 / (X.shape[1] * X.var())
    return (f"The RBF SVC uses k(x, x') = exp(−γ‖x − x'‖²) with γ = 'scale' = 1/(2·Var(X)) = {gamma:.3g}. "
            f"Its 4×4 kernel matrix on the inputs has smallest eigenvalue {m.kernel_min_eigenvalue:.3g} > 0, so the "
            f"four points are linearly independent in the kernel's feature space and every labelling, XOR included, "
            f"is separable there; with C={config.svc_C:g} the SVC reaches training accuracy "
            f"{accuracy_list(m, 'svc_rbf', m.gates)}.")


def default_c_note(config: Config, m: Measurements) -> str | None:
    failed = [gate for gate in separable_gates(m) if m.acc("logistic_default", gate) < 1.0]
    if not failed:
        return None
    parts = []
    for gate in failed:
        g = m.index(gate)
        parts.append(f"{gate} w = {_point(m.coefficients[1, g])}, b = {m.intercepts[1, g]:.3g}, "
                     f"accuracy {m.acc('logistic_default', gate):.2f}")
    return (f"With C={config.default_lr_C:g} the L2 penalty outweighs the log-loss of only four points: the weights "
            f"shrink and the intercept follows the majority class, so separable gates are missed: "
            + "; ".join(parts) + f". With C={config.lr_C:g} the same gates reach accuracy "
            + ", ".join(f"{m.acc('logistic_seed', gate):.2f}" for gate in failed) + ".")


def build_notes(config: Config, m: Measurements) -> list[str]:
    notes = [certificate_note(m, gate) for gate in m.gates if not m.separable[m.index(gate)]]
    notes += [note for note in (logistic_note(config, m), default_c_note(config, m), seed_numbers_note(config, m))
              if note]
    notes.append(svc_note(config, m))
    unconverged = [f"{gate} ({name})" for g, gate in enumerate(m.gates) for i, name in enumerate(MODELS)
                   if not m.converged[i, g]]
    if unconverged:
        notes.append("The optimiser stopped at max_iter before converging on: " + ", ".join(unconverged) + ".")
    return notes


# --- tables -------------------------------------------------------------------------------------------


def _round(value: float) -> float:
    return round(float(value), 4)


def build_tables(config: Config, m: Measurements) -> list[Table]:
    labels = model_labels(config)
    predictions = Table(
        "Predictions", ["gate", "x1", "x2", "target"] + [labels[model] for model in MODELS],
        [[gate, int(x[0]), int(x[1]), int(m.targets[g, i])] + [int(m.predictions[k, g, i]) for k in range(len(MODELS))]
         for g, gate in enumerate(m.gates) for i, x in enumerate(INPUTS)],
        "Each model's prediction on the four rows of each truth table (training data = test data).")
    accuracy = Table(
        "Accuracy", ["gate", "LP: separable"] + [labels[model] for model in MODELS],
        [[gate, bool(m.separable[g])] + [_round(m.accuracy[k, g]) for k in range(len(MODELS))]
         for g, gate in enumerate(m.gates)],
        "Training accuracy on the four rows.")
    coefficients = Table(
        "Logistic regression coefficients", ["gate", "model", "w1", "w2", "intercept"],
        [[gate, labels[model], _round(m.coefficients[k, g, 0]), _round(m.coefficients[k, g, 1]),
          _round(m.intercepts[k, g])] for g, gate in enumerate(m.gates) for k, model in enumerate(LOGISTIC_MODELS)],
        "The linear score w1·x1 + w2·x2 + intercept; a point is predicted 1 where it is positive.")
    lp_rows = []
    for g, gate in enumerate(m.gates):
        if m.separable[g]:
            lp_rows.append([gate, True, _round(m.line_weights[g, 0]), _round(m.line_weights[g, 1]),
                            _round(m.line_bias[g]), ""])
        else:
            lp_rows.append([gate, False, "", "", "", _point(m.certificates[g])])
    lp_table = Table(
        "Linear separability (LP)", ["gate", "separable", "w1", "w2", "b", "certificate λ"], lp_rows,
        "A line with s_i (w·x_i + b) ≥ 1 on every row (smallest |w|₁), or a λ ≥ 0 with Σλ = 1, "
        "Σ λ_i s_i x_i = 0 and Σ λ_i s_i = 0 (rows in the order (0,0), (0,1), (1,0), (1,1)) proving none exists.")
    tables = [predictions, accuracy, coefficients, lp_table]
    if m.seed_default is not None and m.seed_tight is not None:
        tables.append(seed_numbers_table(config, m))
    return tables


def _rows_text(support: np.ndarray) -> str:
    return " ".join(f"({a},{b})" for (a, b), chosen in zip(INPUTS, support) if chosen) or "none"


def seed_numbers_table(config: Config, m: Measurements) -> Table:
    """Every number the seed printed (its settings: LR C=lr_C lbfgs max_iter=lr_max_iter, SVC rbf C=svc_C), at
    scikit-learn's default tol and at tight_tol, with the difference."""
    d, t = m.seed_default, m.seed_tight
    rows = []
    for g, gate in enumerate(m.gates):
        quantities = [
            ("LR w1", d.coefficients[g, 0], t.coefficients[g, 0]),
            ("LR w2", d.coefficients[g, 1], t.coefficients[g, 1]),
            ("LR intercept", d.intercepts[g], t.intercepts[g]),
            ("LR accuracy", d.lr_accuracy[g], t.lr_accuracy[g]),
            ("LR lbfgs iterations", d.lr_iterations[g], t.lr_iterations[g]),
            ("SVC accuracy", d.svc_accuracy[g], t.svc_accuracy[g]),
            ("SVC support vectors", int(d.support[g].sum()), int(t.support[g].sum())),
            ("SVC intercept", d.svc_intercepts[g], t.svc_intercepts[g]),
        ]
        for name, default, tight in quantities:
            if isinstance(default, (int, np.integer)) or name.endswith("iterations"):
                rows.append([gate, name, int(default), int(tight), int(tight) - int(default)])
            else:
                rows.append([gate, name, f"{default:.6g}", f"{tight:.6g}", f"{tight - default:+.3g}"])
        rows.append([gate, "SVC support rows", _rows_text(d.support[g]), _rows_text(t.support[g]),
                     "same" if np.array_equal(d.support[g], t.support[g]) else "differ"])
    return Table(
        "The seed's numbers: scikit-learn's default tol beside a tight tol",
        ["gate", "quantity", f"default tol (LR {d.tol_logistic:g}, SVC {d.tol_svc:g})", f"tol = {t.tol_logistic:g}",
         "tight − default"],
        rows,
        f"The seed's settings (LogisticRegression C={config.lr_C:g}, lbfgs, max_iter={config.lr_max_iter}; SVC rbf "
        f"C={config.svc_C:g}), computed with scikit-learn {m.sklearn_version}. The default-tol column is what the seed "
        f"prints on this version; the tight column is the optimum itself.")


def seed_numbers_note(config: Config, m: Measurements) -> str | None:
    d, t = m.seed_default, m.seed_tight
    if d is None or t is None:
        return None
    separable = [g for g, ok in enumerate(m.separable) if ok]
    gaps = [float(np.max(np.abs(np.r_[d.coefficients[g] - t.coefficients[g], d.intercepts[g] - t.intercepts[g]])))
            for g in separable]
    worst = max(gaps) if gaps else 0.0
    same_accuracy = np.array_equal(d.lr_accuracy, t.lr_accuracy) and np.array_equal(d.svc_accuracy, t.svc_accuracy)
    same_support = np.array_equal(d.support, t.support)
    return (f"Why the seed's coefficients may not match a rerun: on separable gates with C={config.lr_C:g} the "
            f"penalised log-loss is nearly flat near its optimum, and lbfgs stops as soon as the projected gradient "
            f"falls below tol. scikit-learn 1.4 changed LogisticRegression to minimise the MEAN loss (the sum divided "
            f"by the number of samples) instead of the sum, which shrinks the gradient by that factor, so the default "
            f"tol={d.tol_logistic:g} stops at a different iterate than on older versions. Here (scikit-learn "
            f"{m.sklearn_version}) the default tol stops after {int(d.lr_iterations.max())} iterations at most, and "
            f"tol={t.tol_logistic:g} after {int(t.lr_iterations.max())}; the weights and intercepts of the separable "
            f"gates move by up to {worst:.3g} between the two. At tol={t.tol_logistic:g} the iterate is the optimum "
            f"itself, which does not depend on how the loss is scaled, so those numbers are version-independent. "
            f"The accuracies {'are the same at both tolerances' if same_accuracy else 'differ between the tolerances'}"
            f" and the SVC's support vectors {'are the same rows' if same_support else 'differ'}.")


# --- figures ------------------------------------------------------------------------------------------


def _draw_points(ax, m: Measurements, g: int) -> None:
    ax.scatter(INPUTS[:, 0], INPUTS[:, 1], c=m.targets[g], cmap="RdBu", vmin=0, vmax=1, s=80, edgecolors="black",
               zorder=3)
    ax.set_xlim(*PLOT_RANGE)
    ax.set_ylim(*PLOT_RANGE)
    ax.set_xticks([0, 1], ["0", "1"])  # the inputs' only values; fixed ticks and labels spare the locator and
    # the formatter their work on every draw
    ax.set_yticks([0, 1], ["0", "1"])


def grid_figure(rows: int, columns: int, side: float, *, left: float, right: float, bottom: float,
                top: float, row_gap: float, column_gap: float, min_width: float = 0.0,
                **subplots: Any) -> tuple[Figure, np.ndarray]:
    """A figure of rows × columns square panels `side` inches wide, with fixed margins and gaps in inches; at least
    `min_width` wide (room for a suptitle), the panels centred.

    These grids hold the same kind of text in every figure (titles of one font size, ticks at 0 and 1), so fixed
    margins fit them; constrained layout would measure every text again on each save, a third of the drawing time.
    The figure is marked as laid out (a layout engine that does nothing), so it is saved as it is instead of being
    measured for a tight bounding box (a fifth of the saving time); square panels show the plot range at equal
    scales without set_aspect, which would place every panel again on each draw.
    """
    width = left + right + columns * side + (columns - 1) * column_gap
    if width < min_width:
        left, right, width = left + (min_width - width) / 2, right + (min_width - width) / 2, min_width
    height = bottom + top + rows * side + (rows - 1) * row_gap
    figure = Figure(figsize=(width, height))
    axes = figure.subplots(rows, columns, squeeze=False, **subplots)
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                           hspace=row_gap / side, wspace=column_gap / side)
    figure.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))
    return figure, axes


def suptitle_at_top(figure: Figure, text: str) -> None:
    figure.suptitle(text, y=1 - 0.1 / figure.get_figheight(), va="top")


def decision_regions_figure(config: Config, m: Measurements) -> Figure:
    """One panel per gate and model, on shared axes: tick labels and axis labels on the outer panels only."""
    labels = model_labels(config)
    figure, axes = grid_figure(len(m.gates), len(MODELS), 2.05, left=0.55, right=0.1, bottom=0.5, top=0.6,
                               row_gap=0.25, column_gap=0.85, sharex=True, sharey=True)
    for g, (row, gate) in enumerate(zip(axes, m.gates)):
        for k, (ax, model) in enumerate(zip(row, MODELS)):
            DecisionBoundaryDisplay(xx0=m.grid_x1, xx1=m.grid_x2, n_classes=2, response=m.regions[k, g]).plot(
                plot_method="pcolormesh", ax=ax, xlabel="x1", ylabel="x2", cmap="RdBu", vmin=0, vmax=1,
                alpha=0.4, shading="auto", rasterized=True)
            _draw_points(ax, m, g)
            # y given: matplotlib then skips moving the title clear of tick labels above the panel (there are
            # none) on every draw; the same pixels, a sixth less saving time
            ax.set_title(f"{gate} · {labels[model]} · acc {m.accuracy[k, g]:.2f}", fontsize=8, y=1.0)
            ax.label_outer()
    suptitle_at_top(figure, COLOUR_KEY)
    return figure


def separating_lines_figure(m: Measurements) -> Figure:
    columns = min(3, len(m.gates))
    rows = -(-len(m.gates) // columns)
    figure, axes = grid_figure(rows, columns, 2.6, left=0.55, right=0.1, bottom=0.5, top=1.05,
                               row_gap=0.95, column_gap=0.7, min_width=6.0)
    axes = axes.ravel()
    for ax in axes[len(m.gates):]:
        ax.set_visible(False)
    for g, (ax, gate) in enumerate(zip(axes, m.gates)):
        _draw_points(ax, m, g)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        if m.separable[g]:
            (w1, w2), b = m.line_weights[g], m.line_bias[g]
            for level, style in ((0, "-"), (1, ":"), (-1, ":")):
                _draw_level_line(ax, w1, w2, b - level, style)
            ax.set_title(f"{gate}: {w1:.3g}·x1 {w2:+.3g}·x2 {b:+.3g} = 0\n(dotted: ±1)", fontsize=10, y=1.0)
        else:
            ax.set_title(f"{gate}: no separating line", fontsize=10, y=1.0)
            for (x1, x2), weight in zip(INPUTS, m.certificates[g]):
                ax.annotate(f"λ={weight:.3g}", (x1, x2), xytext=(0, -14), textcoords="offset points",
                            ha="center", va="top", fontsize=9)
            ax.text(0.5, 0.5, "certificate:\nΣλ·s·x = 0\nΣλ·s = 0", ha="center", va="center", fontsize=10,
                    bbox={"facecolor": "white", "alpha": 0.8})
    suptitle_at_top(figure, "Separating lines from the LP, or the certificate that none exists\n" + COLOUR_KEY)
    return figure


def _draw_level_line(ax, w1: float, w2: float, offset: float, style: str) -> None:
    """The line w1·x1 + w2·x2 + offset = 0 across the plot range."""
    if abs(w2) > 1e-12:
        x1 = np.array(PLOT_RANGE)
        ax.plot(x1, -(w1 * x1 + offset) / w2, style, color="black")
    elif abs(w1) > 1e-12:
        ax.axvline(-offset / w1, linestyle=style, color="black")


def present(config: Config, m: Measurements) -> Presentation:
    """Tables (accuracy per gate and model, the LP's verdicts), the decision-region and separating-line figures with
    their captions, and the notes (certificates, why C=1 fails).
    """
    return Presentation(
        tables=build_tables(config, m),
        figures={"decision_regions": decision_regions_figure(config, m), "separating_lines": separating_lines_figure(m)},
        notes=build_notes(config, m),
        captions={
            "decision_regions": "Each model's predicted class over the plane, one row per gate, with the four "
                                "training rows on top.",
            "separating_lines": "The LP's widest-margin separating line for each separable gate, or the weights λ of "
                                "its certificate that no line exists.",
        })
