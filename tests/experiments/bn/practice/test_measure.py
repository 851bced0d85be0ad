import numpy as np

from replab.experiments.bn.practice.config import Config
from replab.experiments.bn.practice.measure import split_validation
from replab.experiments.bn.study import load_datasets


def test_rates_are_chosen_on_held_out_training_images_not_the_test_set():
    digits = load_datasets(Config.quick())[0][0]
    train, x_val, y_val = split_validation(digits, 500)
    assert train.n_train + len(y_val) == digits.n_train and len(y_val) == min(500, digits.n_train // 5)
    np.testing.assert_array_equal(x_val, digits.x_train[train.n_train:])
