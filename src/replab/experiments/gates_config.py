"""The logic-gates experiment's settings: importing them loads neither scikit-learn nor matplotlib, so
`replab config gates` answers at once."""

from __future__ import annotations

from dataclasses import dataclass

from replab.errors import check_finite, check_positive_int, require
from replab.experiments.base import ExperimentConfig

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


# --- configuration --------------------------------------------------------------------------------


def _check_positive_number(name: str, value: float) -> None:
    check_finite(name, value)
    require(value > 0, f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Settings of the logic-gates experiment: which gates, the two logistic regressions (the seed's C and
    scikit-learn's default), the RBF SVC, the tight solver tolerance and the resolution of the decision-region
    grid.

    The defaults reproduce the full experiment; `Config.quick()` is a smoke test (marked quick in its results),
    `Config.from_dict(json)` replays a saved config.json, and `replab config gates` lists every field with its
    type, default, quick value and meaning.
    """
    gates: tuple[str, ...] = tuple(GATES)
    lr_C: float = 1000.0
    """Inverse regularisation strength of the seed's logistic regression."""
    lr_max_iter: int = 10000
    default_lr_C: float = 1.0
    """scikit-learn's default C, for the second logistic regression."""
    default_lr_max_iter: int = 100
    svc_C: float = 1000.0
    tight_tol: float = 1e-10
    """The stopping tolerance of the refits beside the seed's (scikit-learn's default tol): tight enough that lbfgs
    and libsvm stop at the optimum itself, so the numbers no longer depend on the scikit-learn version."""
    grid_resolution: int = 200
    """Points per axis of the grid the decision-region figure is evaluated on."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(isinstance(self.gates, tuple) and len(self.gates) > 0,
                f"gates must list at least one of {', '.join(GATES)}")
        for gate in self.gates:
            require(gate in GATES, f"unknown gate {gate!r}; choose from {', '.join(GATES)}")
        require(len(set(self.gates)) == len(self.gates), f"gates lists a gate twice: {', '.join(self.gates)}")
        _check_positive_number("lr_C", self.lr_C)
        _check_positive_number("default_lr_C", self.default_lr_C)
        _check_positive_number("svc_C", self.svc_C)
        _check_positive_number("tight_tol", self.tight_tol)
        require(self.tight_tol < 1e-3, f"tight_tol must lie below 1e-3 (tighter than the defaults), got {self.tight_tol!r}")
        check_positive_int("lr_max_iter", self.lr_max_iter, maximum=MAX_ITER_LIMIT)
        check_positive_int("default_lr_max_iter", self.default_lr_max_iter, maximum=MAX_ITER_LIMIT)
        check_positive_int("grid_resolution", self.grid_resolution, minimum=2, maximum=MAX_GRID_RESOLUTION)

    @classmethod
    def quick(cls) -> "Config":
        return cls(grid_resolution=20, quick=True)
