"""Which logic gates can logistic regression and an RBF SVC learn, and why?

Each gate is four points. A linear program decides whether a line separates them and, when none
does, returns a certificate (the theorem of the alternative) that proves it; the models' training
accuracies are then compared with that verdict.

Nothing here is sampled: the four rows are the whole truth table, the solvers are deterministic, and training
accuracy is measured on those same rows. Every claim is therefore a check (an exact computation, or a theorem
such as the LP's certificate), never a statistical finding.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
from matplotlib.figure import Figure
from scipy.optimize import linprog
from sklearn.base import ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.svm import SVC

from replab import stats
from replab.claims import Claim, EvidenceBase, check, decide, finding
from replab.experiments import base
from replab.experiments.base import Presentation, Progress, Result, Table, compose, no_progress
from replab.experiments.gates_config import GATES, Config
from replab.seeds import derived_seed

NAME = "gates"
TITLE = "Logic gates: which can logistic regression and an RBF SVC learn, and why"
QUESTION = (
    "Which of the logic gates AND, OR, NAND, NOR, XOR and XNOR can logistic regression and an RBF "
    "support-vector classifier learn from their four-row truth tables? A linear program proves, gate by "
    "gate, whether a separating line exists, which explains the answer."
)

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
MODELS = ("logistic_seed", "logistic_default", "svc_rbf")
LOGISTIC_MODELS = ("logistic_seed", "logistic_default")
PLOT_RANGE = (-0.5, 1.5)
COLOUR_KEY = "red: output 0, blue: output 1"


def truth_table(gate: str) -> tuple[np.ndarray, np.ndarray]:
    """The inputs (0,0), (0,1), (1,0), (1,1) and the gate's output for each."""
    outputs = np.array([GATES[gate](int(a), int(b)) for a, b in INPUTS])
    return INPUTS.copy(), outputs


def model_seed(config: Config) -> int:
    """The random_state handed to scikit-learn (below 2**32, as it requires)."""
    return derived_seed(config.seed, 0)


def build_models(config: Config) -> dict[str, ClassifierMixin]:
    seed = model_seed(config)
    return {
        "logistic_seed": LogisticRegression(solver="lbfgs", C=config.lr_C, max_iter=config.lr_max_iter,
                                            random_state=seed),
        "logistic_default": LogisticRegression(C=config.default_lr_C, max_iter=config.default_lr_max_iter,
                                               random_state=seed),
        "svc_rbf": SVC(kernel="rbf", gamma="scale", C=config.svc_C, random_state=seed),
    }


def seed_models(config: Config, tol: float | None) -> dict[str, ClassifierMixin]:
    """The seed's two fits (C=lr_C lbfgs logistic regression, RBF SVC) at scikit-learn's default tol (None) or `tol`."""
    models = build_models(config)
    picked = {name: models[name] for name in ("logistic_seed", "svc_rbf")}
    if tol is not None:
        picked = {name: clone(model).set_params(tol=tol) for name, model in picked.items()}
    return picked


@dataclass(frozen=True)
class SeedFit:
    """The seed's fits at one tolerance, per gate (G)."""

    tol_logistic: float
    tol_svc: float
    coefficients: np.ndarray       # (G, 2)
    intercepts: np.ndarray         # (G,)
    lr_accuracy: np.ndarray        # (G,)
    lr_iterations: np.ndarray      # (G,)
    svc_accuracy: np.ndarray       # (G,)
    support: np.ndarray            # (G, 4) bool: which rows are support vectors
    dual: np.ndarray               # (G, 4) dual coefficient y_i·α_i of each row (0 off the support)
    svc_intercepts: np.ndarray     # (G,)


def seed_fit(config: Config, tol: float | None) -> SeedFit:
    """Fit the seed's logistic regression and SVC on every gate at one tolerance."""
    G = len(config.gates)
    coefficients, intercepts = np.zeros((G, 2)), np.zeros(G)
    lr_accuracy, lr_iterations, svc_accuracy = np.zeros(G), np.zeros(G, int), np.zeros(G)
    support, dual, svc_intercepts = np.zeros((G, 4), bool), np.zeros((G, 4)), np.zeros(G)
    models = seed_models(config, tol)
    for g, gate in enumerate(config.gates):
        X, y = truth_table(gate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            lr = clone(models["logistic_seed"]).fit(X, y)
            svc = clone(models["svc_rbf"]).fit(X, y)
        coefficients[g], intercepts[g] = lr.coef_[0], lr.intercept_[0]
        lr_accuracy[g] = accuracy_score(y, lr.predict(X))
        lr_iterations[g] = int(np.max(lr.n_iter_))
        svc_accuracy[g] = accuracy_score(y, svc.predict(X))
        support[g, svc.support_] = True
        dual[g, svc.support_] = svc.dual_coef_[0]
        svc_intercepts[g] = svc.intercept_[0]
    return SeedFit(float(models["logistic_seed"].tol), float(models["svc_rbf"].tol), coefficients, intercepts,
                   lr_accuracy, lr_iterations, svc_accuracy, support, dual, svc_intercepts)


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


# --- measuring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurements(base.Measurements):
    """Per gate (G) and model (M; the two logistic regressions are L): the LP's proof and each fit's numbers."""

    gates: tuple[str, ...]
    targets: np.ndarray            # (G, 4) the gate's output on the rows (0,0), (0,1), (1,0), (1,1)
    separable: np.ndarray          # (G,) bool, decided by the LP
    line_weights: np.ndarray       # (G, 2) the LP's separating line; NaN where none exists
    line_bias: np.ndarray          # (G,)
    certificates: np.ndarray       # (G, 4) the LP's certificate λ that no line exists; NaN where one does
    accuracy: np.ndarray           # (M, G) training accuracy on the four rows
    predictions: np.ndarray        # (M, G, 4)
    converged: np.ndarray          # (M, G) bool: the solver stopped before max_iter
    coefficients: np.ndarray       # (L, G, 2) logistic regression weights
    intercepts: np.ndarray         # (L, G)
    probabilities: np.ndarray      # (L, G, 4) logistic regression's P(output 1) on each row
    grid_x1: np.ndarray            # (R, R) the decision-region grid (meshgrid over PLOT_RANGE)
    grid_x2: np.ndarray            # (R, R)
    regions: np.ndarray            # (M, G, R, R) each model's prediction on the grid
    kernel_min_eigenvalue: float   # smallest eigenvalue of the RBF kernel matrix on the four inputs
    seed_default: SeedFit | None = None  # the seed's fits at scikit-learn's default tol
    seed_tight: SeedFit | None = None    # and at config.tight_tol
    sklearn_version: str = ""

    def index(self, gate: str) -> int:
        return self.gates.index(gate)

    def acc(self, model: str, gate: str) -> float:
        return float(self.accuracy[MODELS.index(model), self.index(gate)])

    def to_metrics(self) -> dict:
        """result.json's metrics, keyed by model and gate (the decision-region grid is left to the figure)."""
        gates = self.gates
        return base.to_jsonable({
            "accuracy": {model: {g: self.accuracy[m, i] for i, g in enumerate(gates)} for m, model in enumerate(MODELS)},
            "separable": {g: bool(self.separable[i]) for i, g in enumerate(gates)},
            "coefficients": {
                model: {g: {"weights": self.coefficients[m, i], "intercept": self.intercepts[m, i]}
                        for i, g in enumerate(gates)} for m, model in enumerate(LOGISTIC_MODELS)},
            "separating_lines": {g: {"weights": self.line_weights[i], "bias": self.line_bias[i]}
                                 for i, g in enumerate(gates) if self.separable[i]},
            "certificates": {g: self.certificates[i] for i, g in enumerate(gates) if not self.separable[i]},
            "converged": {model: {g: bool(self.converged[m, i]) for i, g in enumerate(gates)}
                          for m, model in enumerate(MODELS)},
            "kernel_min_eigenvalue": self.kernel_min_eigenvalue,
            "seed_numbers": {"sklearn_version": self.sklearn_version,
                             "default_tol": _seed_fit_metrics(self.seed_default, gates),
                             "tight_tol": _seed_fit_metrics(self.seed_tight, gates)},
        })


def _seed_fit_metrics(fit: SeedFit | None, gates) -> dict | None:
    if fit is None:
        return None
    return {"tol_logistic": fit.tol_logistic, "tol_svc": fit.tol_svc,
            "gates": {gate: {"weights": fit.coefficients[g], "intercept": fit.intercepts[g],
                             "lr_accuracy": fit.lr_accuracy[g], "lr_iterations": fit.lr_iterations[g],
                             "svc_accuracy": fit.svc_accuracy[g],
                             "svc_support_rows": [int(i) for i in np.flatnonzero(fit.support[g])],
                             "svc_dual_coef": fit.dual[g], "svc_intercept": fit.svc_intercepts[g]}
                      for g, gate in enumerate(gates)}}


def rbf_kernel_min_eigenvalue(X: np.ndarray) -> float:
    """Smallest eigenvalue of exp(−γ‖x − x'‖²) on X with γ = 'scale' = 1/(d·Var(X)), scikit-learn's default."""
    X = np.asarray(X, dtype=float)
    gamma = 1.0 / (X.shape[1] * X.var())
    squared_distances = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)
    return float(np.linalg.eigvalsh(np.exp(-gamma * squared_distances)).min())


def region_grid(resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid DecisionBoundaryDisplay.from_estimator would use (inputs ± 0.5)."""
    axis = np.linspace(*PLOT_RANGE, resolution)
    return np.meshgrid(axis, axis)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Solve both LPs and fit the three models on every gate of the config."""
    total = len(config.gates) + 1
    xx1, xx2 = region_grid(config.grid_resolution)
    grid = np.c_[xx1.ravel(), xx2.ravel()]
    G, M, L = len(config.gates), len(MODELS), len(LOGISTIC_MODELS)
    targets = np.zeros((G, 4), int)
    separable = np.zeros(G, bool)
    line_weights, line_bias = np.full((G, 2), np.nan), np.full(G, np.nan)
    certificates = np.full((G, 4), np.nan)
    accuracy, predictions = np.zeros((M, G)), np.zeros((M, G, 4), int)
    converged = np.zeros((M, G), bool)
    coefficients, intercepts, probabilities = np.zeros((L, G, 2)), np.zeros((L, G)), np.zeros((L, G, 4))
    regions = np.zeros((M, G) + xx1.shape, np.int8)
    for g, gate in enumerate(config.gates):
        progress(g, total, f"fitting {gate}")
        X, y = truth_table(gate)
        targets[g] = y
        lp = separability(X, y)
        separable[g] = lp.separable
        if lp.separable:
            line_weights[g], line_bias[g] = lp.weights, lp.bias
        else:
            certificates[g] = lp.certificate
        for m, (name, template) in enumerate(build_models(config).items()):
            model = clone(template)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                model.fit(X, y)
            converged[m, g] = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
            predictions[m, g] = model.predict(X)
            accuracy[m, g] = accuracy_score(y, predictions[m, g])
            regions[m, g] = model.predict(grid).reshape(xx1.shape)
            if name in LOGISTIC_MODELS:
                coefficients[m, g], intercepts[m, g] = model.coef_[0], model.intercept_[0]
                probabilities[m, g] = model.predict_proba(X)[:, 1]
    progress(total, total, "done")
    return Measurements(tuple(config.gates), targets, separable, line_weights, line_bias, certificates, accuracy,
                        predictions, converged, coefficients, intercepts, probabilities, xx1, xx2, regions,
                        rbf_kernel_min_eigenvalue(INPUTS), seed_fit(config, None), seed_fit(config, config.tight_tol),
                        sklearn.__version__)


# --- claims -------------------------------------------------------------------------------------------
#
# All five are checks: the truth table is the whole population, the solvers are deterministic and accuracy is
# counted on the four rows themselves, so there is no sampling error for a statistical test to weigh. Where the
# claim is about gates this run did not include, the check cannot be made and is inconclusive, saying which.


def _accuracy_list(m: Measurements, model: str, gates) -> str:
    return ", ".join(f"{gate} {m.acc(model, gate):.2f}" for gate in gates) or "none"


def _names(gates) -> str:
    return "{" + ", ".join(gates) + "}"


def _base(config: Config, judged, asked=()) -> EvidenceBase:
    """The gates a check was judged on, and those it is about that this run did not include."""
    judged = tuple(judged)
    return EvidenceBase(datasets=judged, skipped=tuple(g for g in asked if g not in judged and g not in config.gates),
                        quick=config.quick, unit="gate")


def _cannot_check(claim_id: str, statement: str, evidence: str, reason: str, evidence_base: EvidenceBase) -> Claim:
    """A check this run cannot decide (the gates it is about were not run): inconclusive, with the reason."""
    return Claim(claim_id, statement, "inconclusive", f"{evidence} ({reason})", "check", base=evidence_base,
                 reason=reason)


def _separable_gates(m: Measurements) -> list[str]:
    return [gate for gate, ok in zip(m.gates, m.separable) if ok]


def claim_learns_separable(config: Config, m: Measurements, model: str, claim_id: str, statement: str,
                           label: str) -> Claim:
    separable = _separable_gates(m)
    evidence = (f"LP proves separable: {_names(separable)}; {label} training accuracy on the four rows: "
                f"{_accuracy_list(m, model, separable)}")
    evidence_base = _base(config, separable)
    if not separable:
        return _cannot_check(claim_id, statement, evidence, "no separable gate in this run", evidence_base)
    if model == "logistic_seed":  # weakly regularised (C=1000) on separable data: the fit reaches every row
        return check(claim_id, statement, passed=all(m.acc(model, gate) == 1.0 for gate in separable),
                     evidence=evidence, base=evidence_base)
    # At scikit-learn's default C no theorem says it fits: an empirical question, answered exactly (lbfgs on four
    # rows is deterministic), so a finding with an exact test per gate against perfect training accuracy.
    return finding(claim_id, statement, effect="training accuracy − 1 (0: every row right)", direction="equal",
                   tests=[stats.exact(gate, m.acc(model, gate) - 1.0, null=0.0, margin=0.5 / len(INPUTS))
                          for gate in separable],
                   evidence=evidence, base=evidence_base)


def claim_lr_fails_xor(config: Config, m: Measurements) -> Claim:
    statement = "Logistic regression cannot learn XOR or XNOR"
    labels = model_labels(config)
    xor_like = [gate for gate in m.gates if gate in ("XOR", "XNOR")]
    evidence = "; ".join(f"{labels[model]} accuracy: {_accuracy_list(m, model, xor_like)}" for model in LOGISTIC_MODELS)
    evidence_base = _base(config, xor_like, ("XOR", "XNOR"))
    if len(xor_like) < 2:
        return _cannot_check("lr-fails-xor", statement, evidence, "this run does not include both XOR and XNOR",
                             evidence_base)
    proofs = [gate for gate in xor_like if not m.separable[m.index(gate)]]
    evidence += (f". The LP's certificate proves no line separates {_names(proofs)}, so any linear classifier "
                 f"misclassifies at least one row of {'them' if len(proofs) > 1 else 'it'}")
    passed = all(m.acc(model, gate) < 1.0 for gate in xor_like for model in LOGISTIC_MODELS)
    return check("lr-fails-xor", statement, passed=passed, evidence=evidence, base=evidence_base)


def claim_svc_learns_all(config: Config, m: Measurements) -> Claim:
    statement = "The RBF SVC learns all six gates"
    label = model_labels(config)["svc_rbf"]
    evidence = (f"{label} training accuracy: {_accuracy_list(m, 'svc_rbf', m.gates)}; the RBF kernel matrix on the "
                f"four inputs has smallest eigenvalue {m.kernel_min_eigenvalue:.3g} (> 0: every labelling is "
                f"separable in the kernel's feature space)")
    evidence_base = _base(config, m.gates, tuple(GATES))
    if any(m.acc("svc_rbf", gate) < 1.0 for gate in m.gates):
        return check("svc-learns-all", statement, passed=False, evidence=evidence, base=evidence_base)
    missing = [gate for gate in GATES if gate not in m.gates]
    if missing:
        return _cannot_check("svc-learns-all", statement, evidence, f"not run: {', '.join(missing)}", evidence_base)
    return check("svc-learns-all", statement, passed=True, evidence=evidence, base=evidence_base)


def claim_lp_predicts_lr(config: Config, m: Measurements) -> Claim:
    label = model_labels(config)["logistic_seed"]
    separable = _separable_gates(m)
    learned = [gate for gate in m.gates if m.acc("logistic_seed", gate) == 1.0]
    evidence = f"LP separable: {_names(separable)}; {label} reaches accuracy 1.0 on: {_names(learned)}"
    return check("lp-predicts-lr",
                 "The LP's separability verdict predicts exactly which gates logistic regression learns",
                 passed=set(separable) == set(learned), evidence=evidence, base=_base(config, m.gates))


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Five checks, each an exact computation on the four rows of every gate."""
    labels = model_labels(config)
    return decide([
        claim_learns_separable(config, m, "logistic_seed", "lr-learns-separable",
                               "Logistic regression learns every linearly separable gate",
                               f"{labels['logistic_seed']} (lbfgs, max_iter={config.lr_max_iter})"),
        claim_learns_separable(config, m, "logistic_default", "lr-default-learns-separable",
                               "Logistic regression with scikit-learn's default C learns every linearly separable gate",
                               f"{labels['logistic_default']}"),
        claim_lr_fails_xor(config, m),
        claim_svc_learns_all(config, m),
        claim_lp_predicts_lr(config, m),
    ])


# --- notes --------------------------------------------------------------------------------------------


def _point(values) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in values) + ")"


def certificate_note(m: Measurements, gate: str) -> str:
    """Why the certificate rules out every line: the λ-weighted averages of the two classes coincide."""
    g = m.index(gate)
    lam = m.certificates[g]
    s = _signs(m.targets[g])
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
            f"{_accuracy_list(m, 'svc_rbf', m.gates)}.")


def default_c_note(config: Config, m: Measurements) -> str | None:
    failed = [gate for gate in _separable_gates(m) if m.acc("logistic_default", gate) < 1.0]
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
    ax.set_aspect("equal")


def grid_figure(rows: int, columns: int, panel: tuple[float, float], *, left: float, right: float, bottom: float,
                top: float, row_gap: float, column_gap: float, min_width: float = 0.0,
                **subplots: Any) -> tuple[Figure, np.ndarray]:
    """A figure of rows × columns panels of `panel` (width, height) inches, with fixed margins and gaps in inches;
    at least `min_width` wide (room for a suptitle), the panels centred.

    These grids hold the same kind of text in every figure (titles of one font size, ticks at 0 and 1), so fixed
    margins fit them; constrained layout would measure every text again on each save, a third of the drawing time.
    """
    width = left + right + columns * panel[0] + (columns - 1) * column_gap
    if width < min_width:
        left, right, width = left + (min_width - width) / 2, right + (min_width - width) / 2, min_width
    height = bottom + top + rows * panel[1] + (rows - 1) * row_gap
    figure = Figure(figsize=(width, height))
    axes = figure.subplots(rows, columns, squeeze=False, **subplots)
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                           hspace=row_gap / panel[1], wspace=column_gap / panel[0])
    return figure, axes


def suptitle_at_top(figure: Figure, text: str) -> None:
    figure.suptitle(text, y=1 - 0.1 / figure.get_figheight(), va="top")


def decision_regions_figure(config: Config, m: Measurements) -> Figure:
    """One panel per gate and model, on shared axes: tick labels and axis labels on the outer panels only."""
    labels = model_labels(config)
    figure, axes = grid_figure(len(m.gates), len(MODELS), (2.6, 2.05), left=0.55, right=0.1, bottom=0.5, top=0.6,
                               row_gap=0.25, column_gap=0.3, sharex=True, sharey=True)
    for g, (row, gate) in enumerate(zip(axes, m.gates)):
        for k, (ax, model) in enumerate(zip(row, MODELS)):
            DecisionBoundaryDisplay(xx0=m.grid_x1, xx1=m.grid_x2, n_classes=2, response=m.regions[k, g]).plot(
                plot_method="pcolormesh", ax=ax, xlabel="x1", ylabel="x2", cmap="RdBu", vmin=0, vmax=1,
                alpha=0.4, shading="auto", rasterized=True)
            _draw_points(ax, m, g)
            ax.set_title(f"{gate} · {labels[model]} · acc {m.accuracy[k, g]:.2f}", fontsize=8)
            ax.label_outer()
    suptitle_at_top(figure, COLOUR_KEY)
    return figure


def separating_lines_figure(m: Measurements) -> Figure:
    columns = min(3, len(m.gates))
    rows = -(-len(m.gates) // columns)
    figure, axes = grid_figure(rows, columns, (2.75, 2.6), left=0.55, right=0.1, bottom=0.5, top=1.05,
                               row_gap=0.95, column_gap=0.55, min_width=6.0)
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
            ax.set_title(f"{gate}: {w1:.3g}·x1 {w2:+.3g}·x2 {b:+.3g} = 0\n(dotted: ±1)", fontsize=10)
        else:
            ax.set_title(f"{gate}: no separating line", fontsize=10)
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


# --- run ----------------------------------------------------------------------------------------------


def run(config: Config | None = None, progress: Progress = no_progress) -> Result:
    """Measure every gate (LPs and fits), judge the five checks, and present tables, figures and notes."""
    config = config or Config()
    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))
