"""What `replab run spiral --profile paper` costs on this machine, from measured throughput.

The paper profile searches 3 feature sets × 3,003 architectures, each with 1,764 settings × 5 seeds, by successive
halving up to 2,000 epochs: too long to run here, so this times its real work units instead. A wave is one
(feature set, architecture) pair; it trains as one population per batch size (252 settings × 5 seeds = 1,260
networks, padded to 8 units per layer as every population is). This script trains such populations — the
paper's own settings, at every batch size and at depths 0, 2, 4 and 6 — for a few epochs each, takes the
seconds per epoch after compilation, and adds them up over every wave the search could visit:

- upper bound: every wave, every network for the full budget (no pruning, no early stop);
- at the default run's pruning: the share of network-epochs a default run actually trains (computed from its
  prune log when a result.json is given, else 20%, the share of the last measured default run);
- lower bound: every network pruned at the first rung (budget / 32).

The search also stops a feature set once it has solvers of 5 parameter counts, skipping larger architectures,
which only a run can tell. Prints only; runs in a few minutes.

    python benchmarks/spiral_paper_cost.py [DEFAULT_RUN/result.json]
"""

import dataclasses
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from replab import quiet
from replab.experiments.spiral.candidates import Candidate, hyper_grid, make_seed_data, shapes_in_order
from replab.experiments.spiral.config import PAPER, Config
from replab.experiments.spiral.population import in_forward_order, new_population, train_members

DEPTHS = (0, 2, 4, 6)
EPOCHS = {1: 2, 4: 4, 7: 6, 10: 8, 16: 10, 25: 12, 30: 12}
"""Epochs timed per batch size: each timing covers a few hundred SGD steps."""


def unit_population(config: Config, depth: int, batch: int):
    hidden = (8,) * depth
    chosen = [Candidate("all", hidden, h) for h in hyper_grid(config) if h.batch_size == batch]
    return [chosen[i] for i in in_forward_order(chosen)]


def seconds_per_epoch(config: Config, data, depth: int, batch: int) -> tuple[float, int]:
    """One paper unit's wall seconds per epoch and its networks. The unit trains 2·E epochs, recording every E:
    the time between its two records is E epochs of training plus one loss evaluation, compilation excluded."""
    candidates = unit_population(config, depth, batch)
    epochs = EPOCHS[batch]
    population = new_population(config, list(range(len(candidates))), data, depth)
    _, _, times = train_members(dataclasses.replace(config, record_every=epochs), candidates, population,
                                       data, 2 * epochs, depth)
    return float(times[-1] - times[-2]) / epochs, len(candidates) * len(data)


def default_share(path: str | None) -> float:
    """Share of the no-pruning network-epochs a default run trained, from its prune log and status counts."""
    if not path:
        return 0.20
    metrics = json.load(open(path))["metrics"]
    budget = Config().epoch_budget
    counts = metrics["status_counts"]
    pruned_epochs = sum(entry["pruned"] * entry["epoch"] for entry in metrics["prune_log"])
    # solved candidates stop when they reach the target: counted at half the budget (their median is well below)
    trained = pruned_epochs + counts["failed"] * budget + counts["solved"] * budget / 2
    return trained / (metrics["candidates_trained"] * budget)


def main():
    quiet.install_hook()
    config = Config(**{**PAPER, "record_every": 10})
    data = make_seed_data(config)
    budget, rungs = config.epoch_budget, config.rungs
    per_epoch = {}
    print(f"Paper spiral units: {len(hyper_grid(config)) // len(config.batch_sizes)} settings × "
          f"{config.n_seeds} seeds per batch size; seconds per epoch after compilation")
    for depth in DEPTHS:
        cells = []
        for batch in config.batch_sizes:
            seconds, networks = seconds_per_epoch(config, data, depth, batch)
            per_epoch[depth, batch] = seconds
            cells.append(f"b{batch} {seconds * 1000:6.1f} ms ({networks / seconds:8,.0f} net-epochs/s)")
        print(f"  depth {depth}: " + "  ".join(cells))
    order = shapes_in_order(config)
    depths = np.array([len(arch) for _, arch in order])
    nearest = {d: min(DEPTHS, key=lambda m: (abs(m - d), -m)) for d in range(config.max_layers + 1)}
    wave_epoch = sum(per_epoch[nearest[d], batch] for d in depths for batch in config.batch_sizes)
    upper = wave_epoch * budget
    share = default_share(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"{len(order):,} waves (feature set × architecture); one epoch of all of them: {wave_epoch:,.0f} s")
    for label, seconds in (("upper bound (no pruning, no early stop)", upper),
                           (f"at the default run's pruning ({share:.0%} of the network-epochs)", upper * share),
                           (f"lower bound (all pruned at epoch {budget // 2 ** (rungs - 1)})",
                            upper / 2 ** (rungs - 1))):
        print(f"  {label:58s} {seconds / 3600:9,.1f} h = {seconds / 86400:6,.1f} days")


if __name__ == "__main__":
    main()
