import numpy as np
import pytest

from replab.nn.population import Grid
from replab.seeds import derived_seed


def test_grid_is_cell_major_and_seeds_are_shared_across_cells():
    grid = Grid.of(["none", "batch"], n_seeds=3, seed=7)
    assert grid.size == 6
    assert grid.members() == ["none"] * 3 + ["batch"] * 3
    assert grid.member(1, 2) == 5
    assert grid.member_seeds() == [7000, 7001, 7002] * 2
    values = np.arange(12).reshape(2, 6)
    assert grid.per_cell(values)[1, 1, 2] == values[1, grid.member(1, 2)]


def test_grid_refuses_values_of_another_size():
    with pytest.raises(ValueError, match="expected 6 members"):
        Grid.of("ab", 3).per_cell(np.zeros(5))


def test_derived_seeds_of_neighbouring_sets_never_meet_and_fit_scikit_learn():
    first = {derived_seed(4, i) for i in range(1000)}
    second = {derived_seed(5, i) for i in range(1000)}
    assert not first & second
    assert derived_seed(2**31 - 1, 999) < 2**32
    with pytest.raises(ValueError):
        derived_seed(0, 1000)
