import dataclasses

import numpy as np
import pytest

from replab.claims import EvidenceBase
from replab.errors import ConfigError
from replab.experiments.bn import study as bnstudy
from replab.experiments.bn.config import QUICK, StudyConfig
from replab.nn.population import Grid
from replab.seeds import derived_seed
from replab.settings import apply_overrides


def test_per_cell_splits_the_member_axis_cell_major():
    values = np.arange(2 * 6).reshape(2, 6)  # two records, three cells of two seeds
    assert bnstudy.per_cell(values, 2)[1].tolist() == [[6, 7], [8, 9], [10, 11]]
    with pytest.raises(ConfigError, match="do not split into 4 seeds"):
        bnstudy.per_cell(values, 4)


def test_population_bookkeeping_is_the_grid_of_nn_population():
    config = StudyConfig(seed=7)
    grid = bnstudy.grid(config, ["a", "b"])
    assert isinstance(grid, Grid) and grid.n_seeds == config.n_seeds and grid.seed == 7
    assert bnstudy.population(["a", "b"], 3) == grid.members() == ["a", "a", "a", "b", "b", "b"]
    assert [bnstudy.member_seed(config, s) for s in range(3)] == [derived_seed(7, s) for s in range(3)]
    assert grid.member_seeds() == [derived_seed(7, s) for s in range(3)] * 2  # seed s shared by every cell


def test_evidence_base_names_judged_and_skipped_datasets_and_the_quick_mark():
    config = StudyConfig(datasets=("mnist", "fashion-mnist"), n_seeds=5)
    base = bnstudy.evidence_base(config, [{"dataset": "mnist"}])
    assert base == EvidenceBase(datasets=("MNIST",), skipped=("Fashion-MNIST",), seeds=5, quick=False)
    assert "1 of 2 datasets" in base.describe()
    info = bnstudy.DatasetInfo("fashion-mnist", "x", 10, 10, False, 10, (1.0,), 0.0, 0.0)
    both = bnstudy.evidence_base(config, [info, "mnist"], examples=500)
    assert both.datasets == ("Fashion-MNIST", "MNIST") and both.skipped == () and both.examples == 500
    quick = dataclasses.replace(config, **QUICK)
    assert quick.quick and bnstudy.evidence_base(quick, ["mnist"]) == EvidenceBase(("MNIST",), (), 3, None, True)


@pytest.mark.parametrize("setting, message", [
    ({"n_seeds": "2"}, "n_seeds must be an integer of at least 3"),
    ({"seed": "10000000000000000"}, "seed must be an integer from 0 to"),
    ({"datasets": "mnist,mnist"}, "datasets lists a value twice"),
    ({"record_every": "9999"}, "record_every (9999) exceeds steps"),
    ({"n_seeds": "1000"}, "n_seeds must be at most 100"),
    ({"steps": "100000000"}, "steps must be at most"),
    ({"hidden": "100000"}, "every value of hidden must be at most 4,096"),
])
def test_study_settings_are_validated(setting, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        apply_overrides(StudyConfig(), setting)


@pytest.mark.parametrize("name", ["learning_rate", "weight_std"])
def test_non_finite_rates_and_scales_are_refused(name):
    for value in (float("nan"), float("inf")):
        with pytest.raises(ConfigError, match=f"{name} must be a finite number"):
            dataclasses.replace(StudyConfig(), **{name: value})
