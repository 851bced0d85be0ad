"""The logic-gates experiment's settings: importing them loads neither scikit-learn nor matplotlib, so
`replab config gates` answers at once."""

from __future__ import annotations

from dataclasses import dataclass

from replab.experiments.base import ExperimentConfig
from replab.settings import choice, each, integer, number

GATES = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "NAND": lambda a, b: 1 - (a & b),
    "NOR": lambda a, b: 1 - (a | b),
    "XOR": lambda a, b: a ^ b,
    "XNOR": lambda a, b: 1 - (a ^ b),
}
MAX_ITER_LIMIT = 1_000_000
MAX_GRID_RESOLUTION = 1000


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Settings of the logic-gates experiment: which gates, the two logistic regressions (the seed's C and
    scikit-learn's default), the RBF SVC, the tight solver tolerance and the resolution of the decision-region
    grid.

    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config gates` lists every field with its
    type, bounds, default, quick value and meaning.
    """
    gates: tuple[str, ...] = each(tuple(GATES), choice(None, GATES), unique=True)
    lr_C: float = number(1000.0, above=0)
    """Inverse regularisation strength of the seed's logistic regression."""
    lr_max_iter: int = integer(10000, high=MAX_ITER_LIMIT)
    default_lr_C: float = number(1.0, above=0)
    """scikit-learn's default C, for the second logistic regression."""
    default_lr_max_iter: int = integer(100, high=MAX_ITER_LIMIT)
    svc_C: float = number(1000.0, above=0)
    tight_tol: float = number(1e-10, above=0, below=1e-3)
    """The stopping tolerance of the refits beside the seed's (scikit-learn's default tol): tight enough that lbfgs
    and libsvm stop at the optimum itself, so the numbers no longer depend on the scikit-learn version; below 1e-3,
    tighter than the defaults."""
    grid_resolution: int = integer(200, low=2, high=MAX_GRID_RESOLUTION)
    """Points per axis of the grid the decision-region figure is evaluated on."""

    @classmethod
    def quick(cls) -> "Config":
        return cls(grid_resolution=20, quick=True)
