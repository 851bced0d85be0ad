"""The gates measure: the truth tables, the models' seeds, the metrics of hand-built measurements and the
progress it reports."""

import numpy as np
import pytest

from replab.experiments import gates
from replab.experiments.gates.measure import build_models, truth_table
from replab.seeds import MAX_SEED
from tests.experiments.gates.test_judge import SEPARABLE, hand_built, learned_by_lr_only_where_separable
from tests.experiments.gates.test_run import TRUTH_TABLES, X


def test_truth_tables_match_the_hand_written_ones():
    for gate, expected in TRUTH_TABLES.items():
        inputs, outputs = truth_table(gate)
        np.testing.assert_array_equal(inputs, X)
        np.testing.assert_array_equal(outputs, expected)


def test_scikit_learn_seeds_stay_below_two_to_the_32():
    config = gates.Config(seed=MAX_SEED)
    seeds = {model.random_state for model in build_models(config).values()}
    assert all(0 <= seed < 2**32 for seed in seeds)


def test_metrics_keep_their_names_on_hand_built_measurements():
    metrics = hand_built(learned_by_lr_only_where_separable()).to_metrics()
    assert set(metrics) >= {"accuracy", "separable", "coefficients", "separating_lines", "certificates", "converged"}
    assert metrics["accuracy"]["logistic_seed"]["XOR"] == 0.5
    assert set(metrics["certificates"]) == {"XOR", "XNOR"} and set(metrics["separating_lines"]) == set(SEPARABLE) - {
        "XOR", "XNOR"}


@pytest.mark.slow
def test_progress_reaches_its_total():
    calls = []
    gates.run(gates.Config(gates=("XOR",), grid_resolution=5), lambda done, total, text: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1]
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
