"""One seed range for every experiment, and the seeds each derives from it.

A run's seed picks a *seed set*: member i of a population (or fold i of a replication) gets `derived_seed(seed, i)`.
`--replicate N` runs seed sets seed, seed + 1, …, which share no derived seed while i < 1000.
"""

MAX_SEED = 2**31 - 1
SEEDS_PER_SET = 1000


def derived_seed(seed: int, index: int = 0) -> int:
    """Seed `index` of the seed set `seed`: distinct for index < 1000, and below 2**32 as scikit-learn requires."""
    if not 0 <= index < SEEDS_PER_SET:
        raise ValueError(f"a seed set has {SEEDS_PER_SET} seeds; index {index} is outside it")
    return (seed * SEEDS_PER_SET + index) % 2**32
