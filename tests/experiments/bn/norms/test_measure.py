import numpy as np

from replab.experiments.bn.norms.config import Config
from replab.experiments.bn.norms.measure import best_rate, cells, split_validation
from replab.experiments.bn.study import load_datasets, population
from replab.nn.normalized_mlp import NORMS, blocks_of


def test_the_default_population_holds_all_seven_kinds_in_contiguous_blocks():
    config = Config()
    members, rates = cells(config)
    blocks = blocks_of(population(members, config.n_seeds))
    assert [b.norm for b in blocks] == list(NORMS)
    assert all(b.stop - b.start == config.n_seeds * len(config.learning_rates) for b in blocks)
    assert rates == list(config.learning_rates) * len(NORMS)
    assert config.options.renorm_ramp_steps == config.steps // 4
    assert config.options.groups == config.groups


def test_each_kind_is_judged_at_its_own_rate_chosen_on_validation_never_on_a_diverged_rate():
    validation = np.array([[0.8, 0.8], [0.9, 0.9], [0.95, 0.95]])
    diverged = np.array([[-1, -1], [-1, -1], [-1, 40]])
    assert best_rate(validation, diverged) == 1
    digits = load_datasets(Config.quick())[0][0]
    train, x_val, _ = split_validation(digits, 500)
    assert train.n_train + len(x_val) == digits.n_train
    np.testing.assert_array_equal(x_val, digits.x_train[train.n_train:])
