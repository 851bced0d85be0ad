"""Which logic gates can logistic regression and an RBF SVC learn, and why?

Each gate is four points. A linear program decides whether a line separates them and, when none
does, returns a certificate (the theorem of the alternative) that proves it; the models' training
accuracies are then compared with that verdict.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from scipy.optimize import linprog
from sklearn.base import ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.svm import SVC

from replab.claims import Claim, judge
from replab.errors import check_positive_int, check_seed, require
from replab.experiments.base import Progress, Result, Table, no_progress

NAME = "gates"
TITLE = "Logic gates: which can logistic regression and an RBF SVC learn, and why"
QUESTION = (
    "Which of the logic gates AND, OR, NAND, NOR, XOR and XNOR can logistic regression and an RBF "
    "support-vector classifier learn from their four-row truth tables? A linear program proves, gate by "
    "gate, whether a separating line exists, which explains the answer."
)

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
GATES = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "NAND": lambda a, b: 1 - (a & b),
    "NOR": lambda a, b: 1 - (a | b),
    "XOR": lambda a, b: a ^ b,
    "XNOR": lambda a, b: 1 - (a ^ b),
}
MODELS = ("logistic_seed", "logistic_default", "svc_rbf")
LOGISTIC_MODELS = ("logistic_seed", "logistic_default")
PLOT_RANGE = (-0.5, 1.5)
COLOUR_KEY = "red: output 0, blue: output 1"


def truth_table(gate: str) -> tuple[np.ndarray, np.ndarray]:
    """The inputs (0,0), (0,1), (1,0), (1,1) and the gate's output for each."""
    outputs = np.array([GATES[gate](int(a), int(b)) for a, b in INPUTS])
    return INPUTS.copy(), outputs


# --- configuration --------------------------------------------------------------------------------


def _check_positive_number(name: str, value: float) -> None:
    require(isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0,
            f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class Config:
    gates: tuple[str, ...] = tuple(GATES)
    lr_C: float = 1000.0
    """Inverse regularisation strength of the seed's logistic regression."""
    lr_max_iter: int = 10000
    default_lr_C: float = 1.0
    """scikit-learn's default C, for the second logistic regression."""
    default_lr_max_iter: int = 100
    svc_C: float = 1000.0
    grid_resolution: int = 200
    """Points per axis of the grid the decision-region figure is evaluated on."""
    seed: int = 0

    def __post_init__(self) -> None:
        check_seed(self.seed)
        require(isinstance(self.gates, tuple) and len(self.gates) > 0,
                f"gates must list at least one of {', '.join(GATES)}")
        for gate in self.gates:
            require(gate in GATES, f"unknown gate {gate!r}; choose from {', '.join(GATES)}")
        require(len(set(self.gates)) == len(self.gates), f"gates lists a gate twice: {', '.join(self.gates)}")
        _check_positive_number("lr_C", self.lr_C)
        _check_positive_number("default_lr_C", self.default_lr_C)
        _check_positive_number("svc_C", self.svc_C)
        check_positive_int("lr_max_iter", self.lr_max_iter)
        check_positive_int("default_lr_max_iter", self.default_lr_max_iter)
        check_positive_int("grid_resolution", self.grid_resolution, minimum=2)

    @classmethod
    def quick(cls) -> "Config":
        return cls(grid_resolution=20)


def build_models(config: Config) -> dict[str, ClassifierMixin]:
    return {
        "logistic_seed": LogisticRegression(solver="lbfgs", C=config.lr_C, max_iter=config.lr_max_iter,
                                            random_state=config.seed),
        "logistic_default": LogisticRegression(C=config.default_lr_C, max_iter=config.default_lr_max_iter,
                                               random_state=config.seed),
        "svc_rbf": SVC(kernel="rbf", gamma="scale", C=config.svc_C, random_state=config.seed),
    }


def model_labels(config: Config) -> dict[str, str]:
    return {
        "logistic_seed": f"LR C={config.lr_C:g}",
        "logistic_default": f"LR C={config.default_lr_C:g} (default)",
        "svc_rbf": f"SVC rbf C={config.svc_C:g}",
    }


# --- linear separability as a linear program ---------------------------------------------------------


@dataclass(frozen=True)
class Separability:
    """Either a separating line (weights, bias) or a certificate λ proving that none exists."""

    separable: bool
    weights: tuple[float, ...] | None
    bias: float | None
    certificate: tuple[float, ...] | None


def _signs(y: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(y) == 1, 1.0, -1.0)


def separating_hyperplane(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(w, b) with s_i (w·x_i + b) >= 1 for every point, or None when no such line exists.

    Among all such lines the LP picks the one with the smallest |w|_1, i.e. the widest margin
    measured in L-infinity distance, so the answer is a well-placed line rather than any vertex.
    """
    X = np.asarray(X, dtype=float)
    s = _signs(y)
    n, d = X.shape
    # variables: w (d, free), b (free), t (d, >= 0) with |w_j| <= t_j; minimise sum(t)
    cost = np.concatenate([np.zeros(d + 1), np.ones(d)])
    separation = np.hstack([-s[:, None] * X, -s[:, None], np.zeros((n, d))])
    eye = np.eye(d)
    upper = np.hstack([eye, np.zeros((d, 1)), -eye])
    lower = np.hstack([-eye, np.zeros((d, 1)), -eye])
    A_ub = np.vstack([separation, upper, lower])
    b_ub = np.concatenate([-np.ones(n), np.zeros(2 * d)])
    bounds = [(None, None)] * (d + 1) + [(0, None)] * d
    solution = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if solution.status == 2:
        return None
    if solution.status != 0:
        raise RuntimeError(f"separating-line LP did not finish: {solution.message}")
    return solution.x[:d], float(solution.x[d])


def infeasibility_certificate(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """λ >= 0 with Σλ = 1, Σ λ_i s_i x_i = 0 and Σ λ_i s_i = 0, or None when no such λ exists.

    Such a λ proves no line separates the points: for any (w, b), Σ λ_i s_i (w·x_i + b) = 0,
    yet a separating line would make every term s_i (w·x_i + b) >= 1, so the sum would be >= 1.
    """
    X = np.asarray(X, dtype=float)
    s = _signs(y)
    n = X.shape[0]
    A_eq = np.vstack([np.ones(n), (s[:, None] * X).T, s])
    b_eq = np.concatenate([[1.0], np.zeros(X.shape[1] + 1)])
    solution = linprog(np.zeros(n), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs")
    if solution.status == 2:
        return None
    if solution.status != 0:
        raise RuntimeError(f"certificate LP did not finish: {solution.message}")
    return solution.x


def separability(X: np.ndarray, y: np.ndarray) -> Separability:
    """Decide whether a line separates the labels y (0/1) of points X, with a proof either way."""
    line = separating_hyperplane(X, y)
    certificate = infeasibility_certificate(X, y)
    # Gordan's theorem of the alternative: exactly one of the two systems has a solution.
    if (line is None) == (certificate is None):
        raise RuntimeError("both separability LPs were " + ("infeasible" if line is None else "feasible")
                           + "; the theorem of the alternative says exactly one must be feasible")
    if line is not None:
        weights, bias = line
        return Separability(True, tuple(float(w) for w in weights), bias, None)
    return Separability(False, None, None, tuple(float(value) for value in certificate))


# --- fitting ------------------------------------------------------------------------------------------


@dataclass
class GateFit:
    gate: str
    X: np.ndarray
    y: np.ndarray
    lp: Separability
    models: dict[str, ClassifierMixin]
    predictions: dict[str, np.ndarray]
    accuracy: dict[str, float]
    converged: dict[str, bool]


def fit_gate(gate: str, config: Config) -> GateFit:
    X, y = truth_table(gate)
    models, predictions, accuracy, converged = {}, {}, {}, {}
    for name, template in build_models(config).items():
        model = clone(template)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X, y)
        converged[name] = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        models[name] = model
        predictions[name] = model.predict(X)
        accuracy[name] = float(accuracy_score(y, predictions[name]))
    return GateFit(gate, X, y, separability(X, y), models, predictions, accuracy, converged)


# --- claims -------------------------------------------------------------------------------------------


def _accuracy_list(fits: list[GateFit], model: str) -> str:
    return ", ".join(f"{fit.gate} {fit.accuracy[model]:.2f}" for fit in fits) or "none"


def _names(gates) -> str:
    return "{" + ", ".join(gates) + "}"


def claim_learns_separable(fits: list[GateFit], model: str, claim_id: str, statement: str, label: str) -> Claim:
    separable = [fit for fit in fits if fit.lp.separable]
    evidence = (f"LP proves separable: {_names(fit.gate for fit in separable)}; {label} training accuracy: "
                f"{_accuracy_list(separable, model)}")
    holds = None if not separable else all(fit.accuracy[model] == 1.0 for fit in separable)
    if not separable:
        evidence += " (no separable gate in this run)"
    return judge(claim_id, statement, holds, evidence)


def claim_lr_fails_xor(fits: list[GateFit], labels: dict[str, str]) -> Claim:
    xor_like = [fit for fit in fits if fit.gate in ("XOR", "XNOR")]
    evidence = "; ".join(f"{labels[model]} accuracy: {_accuracy_list(xor_like, model)}" for model in LOGISTIC_MODELS)
    if len(xor_like) < 2:
        return judge("lr-fails-xor", "Logistic regression cannot learn XOR or XNOR", None,
                     evidence + " (this run does not include both XOR and XNOR)")
    holds = all(fit.accuracy[model] < 1.0 for fit in xor_like for model in LOGISTIC_MODELS)
    return judge("lr-fails-xor", "Logistic regression cannot learn XOR or XNOR", holds, evidence)


def claim_svc_learns_all(fits: list[GateFit], label: str) -> Claim:
    statement = "The RBF SVC learns all six gates"
    evidence = f"{label} training accuracy: {_accuracy_list(fits, 'svc_rbf')}"
    if any(fit.accuracy["svc_rbf"] < 1.0 for fit in fits):
        return judge("svc-learns-all", statement, False, evidence)
    missing = [gate for gate in GATES if gate not in {fit.gate for fit in fits}]
    if missing:
        return judge("svc-learns-all", statement, None, evidence + f" (not run: {', '.join(missing)})")
    return judge("svc-learns-all", statement, True, evidence)


def claim_lp_predicts_lr(fits: list[GateFit], label: str) -> Claim:
    separable = [fit.gate for fit in fits if fit.lp.separable]
    learned = [fit.gate for fit in fits if fit.accuracy["logistic_seed"] == 1.0]
    evidence = f"LP separable: {_names(separable)}; {label} reaches accuracy 1.0 on: {_names(learned)}"
    return judge("lp-predicts-lr",
                 "The LP's separability verdict predicts exactly which gates logistic regression learns",
                 set(separable) == set(learned), evidence)


def build_claims(fits: list[GateFit], config: Config) -> list[Claim]:
    labels = model_labels(config)
    return [
        claim_learns_separable(fits, "logistic_seed", "lr-learns-separable",
                               "Logistic regression learns every linearly separable gate",
                               f"{labels['logistic_seed']} (lbfgs, max_iter={config.lr_max_iter})"),
        claim_learns_separable(fits, "logistic_default", "lr-default-learns-separable",
                               "Logistic regression with scikit-learn's default C learns every linearly separable gate",
                               f"{labels['logistic_default']}"),
        claim_lr_fails_xor(fits, labels),
        claim_svc_learns_all(fits, labels["svc_rbf"]),
        claim_lp_predicts_lr(fits, labels["logistic_seed"]),
    ]


# --- notes --------------------------------------------------------------------------------------------


def _point(values) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in values) + ")"


def certificate_note(fit: GateFit) -> str:
    """Why the certificate rules out every line: the λ-weighted averages of the two classes coincide."""
    lam = np.array(fit.lp.certificate)
    s = _signs(fit.y)
    positive, negative = s > 0, s < 0
    mean_positive = lam[positive] @ fit.X[positive] / lam[positive].sum()
    mean_negative = lam[negative] @ fit.X[negative] / lam[negative].sum()
    return (f"{fit.gate} has no separating line. The LP's certificate λ = {_point(lam)} puts weight "
            f"{lam[positive].sum():.3g} on the output-1 points and {lam[negative].sum():.3g} on the output-0 points; "
            f"their λ-weighted averages are {_point(mean_positive)} and {_point(mean_negative)}, the same point. "
            f"Any line w·x + b takes one value there, yet separation would need it to be ≥ 1 (an average of "
            f"points on the positive side) and ≤ −1 (an average of points on the negative side) at once.")


def logistic_note(fits: list[GateFit], config: Config) -> str | None:
    failed = [fit for fit in fits if not fit.lp.separable]
    if not failed:
        return None
    parts, undecided = [], []
    for fit in failed:
        model = fit.models["logistic_seed"]
        probabilities = model.predict_proba(fit.X)[:, 1]
        parts.append(f"{fit.gate}: w = {_point(model.coef_[0])}, b = {model.intercept_[0]:.3g}, "
                     f"P(1) = {_point(probabilities)}, accuracy {fit.accuracy['logistic_seed']:.2f}")
        if np.allclose(probabilities, 0.5, atol=1e-6):
            undecided.append(fit.gate)
    note = (f"Logistic regression (C={config.lr_C:g}) on the gates without a separating line: " + "; ".join(parts)
            + ". Its decision boundary is a line, so at least one row always lands on the wrong side.")
    if undecided:
        note += (f" On {', '.join(undecided)} the best fit is a flat score, P(1) = 0.5 on every row, and predict() "
                 "breaks those ties towards class 0.")
    return note


def svc_note(fits: list[GateFit], config: Config) -> str:
    X = INPUTS.astype(float)
    gamma = 1.0 / (X.shape[1] * X.var())
    squared_distances = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)
    smallest_eigenvalue = float(np.linalg.eigvalsh(np.exp(-gamma * squared_distances)).min())
    return (f"The RBF SVC uses k(x, x') = exp(−γ‖x − x'‖²) with γ = 'scale' = 1/(2·Var(X)) = {gamma:.3g}. "
            f"Its 4×4 kernel matrix on the inputs has smallest eigenvalue {smallest_eigenvalue:.3g} > 0, so the four "
            f"points are linearly independent in the kernel's feature space and every labelling, XOR included, is "
            f"separable there; with C={config.svc_C:g} the SVC reaches training accuracy "
            f"{_accuracy_list(fits, 'svc_rbf')}.")


def default_c_note(fits: list[GateFit], config: Config) -> str | None:
    failed = [fit for fit in fits if fit.lp.separable and fit.accuracy["logistic_default"] < 1.0]
    if not failed:
        return None
    parts = []
    for fit in failed:
        model = fit.models["logistic_default"]
        parts.append(f"{fit.gate} w = {_point(model.coef_[0])}, b = {model.intercept_[0]:.3g}, "
                     f"accuracy {fit.accuracy['logistic_default']:.2f}")
    return (f"With C={config.default_lr_C:g} the L2 penalty outweighs the log-loss of only four points: the weights "
            f"shrink and the intercept follows the majority class, so separable gates are missed: "
            + "; ".join(parts) + f". With C={config.lr_C:g} the same gates reach accuracy "
            + ", ".join(f"{fit.accuracy['logistic_seed']:.2f}" for fit in failed) + ".")


def build_notes(fits: list[GateFit], config: Config) -> list[str]:
    notes = [certificate_note(fit) for fit in fits if not fit.lp.separable]
    notes += [note for note in (logistic_note(fits, config), default_c_note(fits, config)) if note]
    notes.append(svc_note(fits, config))
    unconverged = [f"{fit.gate} ({name})" for fit in fits for name, ok in fit.converged.items() if not ok]
    if unconverged:
        notes.append("The optimiser stopped at max_iter before converging on: " + ", ".join(unconverged) + ".")
    return notes


# --- tables -------------------------------------------------------------------------------------------


def _round(value: float) -> float:
    return round(float(value), 4)


def build_tables(fits: list[GateFit], config: Config) -> list[Table]:
    labels = model_labels(config)
    predictions = Table(
        "Predictions", ["gate", "x1", "x2", "target"] + [labels[m] for m in MODELS],
        [[fit.gate, int(x[0]), int(x[1]), int(fit.y[i])] + [int(fit.predictions[m][i]) for m in MODELS]
         for fit in fits for i, x in enumerate(fit.X)],
        "Each model's prediction on the four rows of each truth table (training data = test data).")
    accuracy = Table(
        "Accuracy", ["gate", "LP: separable"] + [labels[m] for m in MODELS],
        [[fit.gate, fit.lp.separable] + [_round(fit.accuracy[m]) for m in MODELS] for fit in fits],
        "Training accuracy on the four rows.")
    coefficients = Table(
        "Logistic regression coefficients", ["gate", "model", "w1", "w2", "intercept"],
        [[fit.gate, labels[m], _round(fit.models[m].coef_[0][0]), _round(fit.models[m].coef_[0][1]),
          _round(fit.models[m].intercept_[0])] for fit in fits for m in LOGISTIC_MODELS],
        "The linear score w1·x1 + w2·x2 + intercept; a point is predicted 1 where it is positive.")
    lp_rows = []
    for fit in fits:
        lp = fit.lp
        if lp.separable:
            lp_rows.append([fit.gate, True, _round(lp.weights[0]), _round(lp.weights[1]), _round(lp.bias), ""])
        else:
            lp_rows.append([fit.gate, False, "", "", "", _point(lp.certificate)])
    lp_table = Table(
        "Linear separability (LP)", ["gate", "separable", "w1", "w2", "b", "certificate λ"], lp_rows,
        "A line with s_i (w·x_i + b) ≥ 1 on every row (smallest |w|₁), or a λ ≥ 0 with Σλ = 1, "
        "Σ λ_i s_i x_i = 0 and Σ λ_i s_i = 0 (rows in the order (0,0), (0,1), (1,0), (1,1)) proving none exists.")
    return [predictions, accuracy, coefficients, lp_table]


# --- figures ------------------------------------------------------------------------------------------


def _draw_points(ax, fit: GateFit) -> None:
    ax.scatter(fit.X[:, 0], fit.X[:, 1], c=fit.y, cmap="RdBu", vmin=0, vmax=1, s=80, edgecolors="black", zorder=3)
    ax.set_xlim(*PLOT_RANGE)
    ax.set_ylim(*PLOT_RANGE)
    ax.set_aspect("equal")


def decision_regions_figure(fits: list[GateFit], config: Config) -> Figure:
    labels = model_labels(config)
    figure = Figure(figsize=(3.0 * len(MODELS), 2.8 * len(fits)), layout="constrained")
    axes = figure.subplots(len(fits), len(MODELS), squeeze=False)
    for row, fit in zip(axes, fits):
        for ax, model in zip(row, MODELS):
            DecisionBoundaryDisplay.from_estimator(
                fit.models[model], fit.X, grid_resolution=config.grid_resolution, eps=0.5,
                response_method="predict", plot_method="pcolormesh", cmap="RdBu", vmin=0, vmax=1,
                alpha=0.4, shading="auto", rasterized=True, xlabel="x1", ylabel="x2", ax=ax)
            _draw_points(ax, fit)
            ax.set_title(f"{fit.gate} · {labels[model]} · acc {fit.accuracy[model]:.2f}", fontsize=8)
    figure.suptitle(COLOUR_KEY)
    return figure


def separating_lines_figure(fits: list[GateFit]) -> Figure:
    figure = Figure(figsize=(3.0 * len(fits), 3.2), layout="constrained")
    axes = figure.subplots(1, len(fits), squeeze=False)[0]
    for ax, fit in zip(axes, fits):
        _draw_points(ax, fit)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        if fit.lp.separable:
            (w1, w2), b = fit.lp.weights, fit.lp.bias
            for level, style in ((0, "-"), (1, ":"), (-1, ":")):
                _draw_level_line(ax, w1, w2, b - level, style)
            ax.set_title(f"{fit.gate}: {w1:.3g}·x1 {w2:+.3g}·x2 {b:+.3g} = 0 (dotted: ±1)", fontsize=8)
        else:
            ax.set_title(f"{fit.gate}: no separating line", fontsize=8)
            for (x1, x2), weight in zip(fit.X, fit.lp.certificate):
                ax.annotate(f"λ={weight:.3g}", (x1, x2), xytext=(0, -14), textcoords="offset points",
                            ha="center", va="top", fontsize=7)
            ax.text(0.5, 0.5, "certificate:\nΣλ·s·x = 0\nΣλ·s = 0", ha="center", va="center", fontsize=8,
                    bbox={"facecolor": "white", "alpha": 0.8})
    figure.suptitle("Separating lines from the LP, or the certificate that none exists; " + COLOUR_KEY)
    return figure


def _draw_level_line(ax, w1: float, w2: float, offset: float, style: str) -> None:
    """The line w1·x1 + w2·x2 + offset = 0 across the plot range."""
    if abs(w2) > 1e-12:
        x1 = np.array(PLOT_RANGE)
        ax.plot(x1, -(w1 * x1 + offset) / w2, style, color="black")
    elif abs(w1) > 1e-12:
        ax.axvline(-offset / w1, linestyle=style, color="black")


# --- run ----------------------------------------------------------------------------------------------


def build_metrics(fits: list[GateFit]) -> dict:
    return {
        "accuracy": {model: {fit.gate: fit.accuracy[model] for fit in fits} for model in MODELS},
        "separable": {fit.gate: bool(fit.lp.separable) for fit in fits},
        "coefficients": {
            model: {fit.gate: {"weights": [float(w) for w in fit.models[model].coef_[0]],
                               "intercept": float(fit.models[model].intercept_[0])} for fit in fits}
            for model in LOGISTIC_MODELS},
        "separating_lines": {fit.gate: {"weights": list(fit.lp.weights), "bias": fit.lp.bias}
                             for fit in fits if fit.lp.separable},
        "certificates": {fit.gate: list(fit.lp.certificate) for fit in fits if not fit.lp.separable},
        "converged": {model: {fit.gate: fit.converged[model] for fit in fits} for model in MODELS},
    }


def run(config: Config, progress: Progress = no_progress) -> Result:
    total = len(config.gates) + 1
    fits = []
    for done, gate in enumerate(config.gates):
        progress(done, total, f"fitting {gate}")
        fits.append(fit_gate(gate, config))
    progress(len(fits), total, "drawing figures")
    figures = {"decision_regions": decision_regions_figure(fits, config),
               "separating_lines": separating_lines_figure(fits)}
    progress(total, total, "done")
    return Result(metrics=build_metrics(fits), tables=build_tables(fits, config), figures=figures,
                  claims=build_claims(fits, config), notes=build_notes(fits, config))
