import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments.bn import study as bnstudy
from replab.experiments.base import apply_overrides


def test_critical_t_is_students_97_5th_percentile():
    assert bnstudy.critical_t(3) == pytest.approx(4.302653, abs=1e-6)
    assert bnstudy.critical_t(5) == pytest.approx(2.776445, abs=1e-6)


@pytest.mark.parametrize("differences, expected", [
    ([0.010, 0.011, 0.012], True),      # t = 19
    ([-0.010, -0.011, -0.012], False),
    ([0.01, 0.03, -0.005], None),       # mean 0.0117, standard error 0.0101: t = 1.15
    ([0.02, 0.03, 0.001], None),        # t = 2.3: above 2 standard errors, below Student's 4.30 for 3 seeds
    ([0.02, 0.02, 0.02], True),         # no spread: the sign decides
    ([0.0, 0.0, 0.0], None),
])
def test_better_is_a_paired_t_test_at_95_percent(differences, expected):
    assert bnstudy.better(differences) is expected


def test_better_with_a_margin_shifts_the_test():
    d = np.array([0.010, 0.011, 0.012])
    assert bnstudy.better(d, margin=0.02) is False and bnstudy.better(d, margin=-0.02) is True


def test_combine_needs_every_dataset_to_hold_and_one_failure_to_fail():
    assert bnstudy.combine([True, True]) is True
    assert bnstudy.combine([True, None]) is None
    assert bnstudy.combine([None, False]) is False


def test_per_cell_splits_the_member_axis_cell_major():
    values = np.arange(2 * 6).reshape(2, 6)  # two records, three cells of two seeds
    assert bnstudy.per_cell(values, 2)[1].tolist() == [[6, 7], [8, 9], [10, 11]]


@pytest.mark.parametrize("setting, message", [
    ({"n_seeds": "2"}, "n_seeds must be an integer of at least 3"),
    ({"seed": "10000000000000000"}, "seed must be an integer from 0 to"),
    ({"datasets": "mnist,mnist"}, "datasets must list mnist and/or fashion-mnist once each"),
    ({"record_every": "9999"}, "record_every (9999) exceeds steps"),
])
def test_study_settings_are_validated(setting, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        apply_overrides(bnstudy.StudyConfig(), setting)
