"""Spiral search speed: candidate networks trained per second as one masked population vs one at a time.

Both paths train the same kind of candidates (X1, X2; 1–3 hidden layers of 2–8 units; tanh/relu; four
learning rates) for the same number of Playground epochs (batch 10, sequential order). One at a time
means nn.fit with K = 1 per candidate (compiled too; its compile time counts, as a separate run would
pay it). Prints only.
"""

import itertools
import time

import numpy as np

from replab.experiments.spiral.candidates import Candidate, Hyper, make_seed_data
from replab.experiments.spiral.config import Config
from replab.experiments.spiral.population import new_population, train_members
from replab.nn.playground import playground_parameter_count

EPOCHS = 100
POPULATION = 768
ONE_AT_A_TIME = 6


def candidates(n):
    shapes = [(w,) * d for d in (1, 2, 3) for w in (2, 4, 6, 8)]
    grid = itertools.product(range(1000), shapes, ("tanh", "relu"), (0.01, 0.03, 0.1, 0.3))
    return [Candidate("x+y", hidden, Hyper(act, lr, "L2", 0.001, 10))
            for _, hidden, act, lr in itertools.islice(grid, n)]


def train(config, chosen, data):
    population = new_population(config, list(range(len(chosen))), data, 3)
    start = time.perf_counter()
    train_members(config, chosen, population, data, EPOCHS, 3)
    return time.perf_counter() - start


def main():
    config = Config(n_seeds=1, seeds_required=1, epoch_budget=EPOCHS, record_every=EPOCHS)
    data = make_seed_data(config)
    chosen = candidates(POPULATION)
    together = train(config, chosen, data)
    sample = chosen[:: POPULATION // ONE_AT_A_TIME][:ONE_AT_A_TIME]
    alone = sum(train(config, [c], data) for c in sample)
    rate_together, rate_alone = POPULATION / together, ONE_AT_A_TIME / alone
    print(f"{EPOCHS} Playground epochs (25 SGD steps each) per candidate")
    print(f"population of {POPULATION}: {together:.1f} s -> {rate_together:.2f} candidates/s")
    print(f"one at a time (fit K=1, {ONE_AT_A_TIME} candidates): {alone:.1f} s -> {rate_alone:.3f} candidates/s")
    print(f"speed-up: {rate_together / rate_alone:.0f}x")
    print(f"(candidates hold {np.mean([c.parameters for c in chosen]):.0f} parameters on average, "
          f"{playground_parameter_count(2, (8, 8, 8))} at most; one-at-a-time ones: "
          f"{[c.parameters for c in sample]})")


if __name__ == "__main__":
    main()
