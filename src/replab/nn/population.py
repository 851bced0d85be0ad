"""Population bookkeeping: which member of a stacked population is which cell and which seed.

Every experiment that trains many networks at once lays them out the same way: member c · n_seeds + s is cell c
(a setting: a normalisation, a learning rate, an architecture…) trained with seed s, whose seed is
`derived_seed(seed, s)`, so seed s of every cell shares initial weights and data where the experiment pairs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

import numpy as np

from replab.seeds import derived_seed

Cell = TypeVar("Cell")


@dataclass(frozen=True)
class Grid(Generic[Cell]):
    """Cells × seeds, cell-major."""

    cells: tuple[Cell, ...]
    n_seeds: int
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.cells or self.n_seeds < 1:
            raise ValueError(f"a grid needs at least one cell and one seed, got {len(self.cells)} and {self.n_seeds}")

    @classmethod
    def of(cls, cells: Sequence[Cell], n_seeds: int, seed: int = 0) -> "Grid[Cell]":
        return cls(tuple(cells), n_seeds, seed)

    @property
    def size(self) -> int:
        return len(self.cells) * self.n_seeds

    def member(self, cell: int, seed_index: int) -> int:
        return cell * self.n_seeds + seed_index

    def seed_of(self, seed_index: int) -> int:
        """The seed of seed index s: the same for every cell."""
        return derived_seed(self.seed, seed_index)

    def members(self) -> list[Cell]:
        """The cell of every member, in member order."""
        return [cell for cell in self.cells for _ in range(self.n_seeds)]

    def member_seeds(self) -> list[int]:
        return [self.seed_of(s) for _ in self.cells for s in range(self.n_seeds)]

    def per_cell(self, values) -> np.ndarray:
        """(..., members) -> (..., cells, seeds)."""
        values = np.asarray(values)
        if values.shape[-1] != self.size:
            raise ValueError(f"expected {self.size} members on the last axis, got {values.shape[-1]}")
        return values.reshape(*values.shape[:-1], len(self.cells), self.n_seeds)
