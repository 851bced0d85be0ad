"""The gates' measurements: the truth tables, the three models fitted on them, the LP's verdicts and the
decision-region grids."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.base import ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.svm import SVC

from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.gates.config import GATES, Config
from replab.experiments.gates.separability import separability
from replab.seeds import derived_seed

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
MODELS = ("logistic_seed", "logistic_default", "svc_rbf")
LOGISTIC_MODELS = ("logistic_seed", "logistic_default")
PLOT_RANGE = (-0.5, 1.5)


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
