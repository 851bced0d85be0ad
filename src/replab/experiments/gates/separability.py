"""Linear separability of a gate's four rows as a linear program: the widest-margin line, or Farkas' certificate
that none exists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog


@dataclass(frozen=True)
class Separability:
    """Either a separating line (weights, bias) or a certificate λ proving that none exists."""

    separable: bool
    weights: tuple[float, ...] | None
    bias: float | None
    certificate: tuple[float, ...] | None


def signs(y: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(y) == 1, 1.0, -1.0)


def separating_hyperplane(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(w, b) with s_i (w·x_i + b) >= 1 for every point, or None when no such line exists.

    Among all such lines the LP picks the one with the smallest |w|_1, i.e. the widest margin
    measured in L-infinity distance, so the answer is a well-placed line rather than any vertex.
    """
    X = np.asarray(X, dtype=float)
    s = signs(y)
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
    s = signs(y)
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
