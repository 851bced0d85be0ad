"""`--replicate N`: an experiment rerun on N independent seed sets, and each claim's stability across them.

Seed set k is the config's seed + k (`replab.seeds`: neighbouring seed sets share no derived seed). The first set
is the run itself; every claim records the verdict of each set, and a verdict that changes between sets is flagged
as unstable. `run_seed_sets` is the one place the sets are run, so a cluster can run them elsewhere.
"""

from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType
from typing import Any, Callable, Sequence

from replab.claims import Stability
from replab.errors import require
from replab.experiments.base import Progress, Result, no_progress
from replab.seeds import MAX_SEED

MAX_REPLICATES = 100

SeedSetRunner = Callable[[ModuleType, Sequence[Any], Progress], list[Result]]


def seed_set_configs(config: Any, n: int) -> list[Any]:
    """The configs of seed sets seed, seed + 1, …, seed + n − 1."""
    require(isinstance(n, int) and 1 <= n <= MAX_REPLICATES,
            f"--replicate must be an integer from 1 to {MAX_REPLICATES}, got {n!r}")
    require(config.seed + n - 1 <= MAX_SEED,
            f"--replicate {n} from seed {config.seed} would pass the largest seed {MAX_SEED:,}")
    return [dataclasses.replace(config, seed=config.seed + k) for k in range(n)]


def run_in_process(module: ModuleType, configs: Sequence[Any], progress: Progress = no_progress) -> list[Result]:
    """Run each seed set here, one after another; progress spans them all."""
    results = []
    for index, config in enumerate(configs):
        def scaled(done: float, total: float, description: str, index=index) -> None:
            fraction = done / total if total else 0.0
            progress(index + fraction, len(configs), f"seed set {index + 1}/{len(configs)}: {description}")

        results.append(module.run(config, scaled))
    return results


def _run_seed_set(unit: tuple[str, Any]) -> Result:
    """One seed set, wherever the executor runs it: the experiment is named by its module, the config carries the seed."""
    module_name, config = unit
    return importlib.import_module(module_name).run(config)


def run_on_executor(module: ModuleType, configs: Sequence[Any], progress: Progress = no_progress) -> list[Result]:
    """Run the seed sets as units of the current executor (`replab.cluster`), e.g. on a Ray cluster; progress
    counts seed sets done. The results come back in seed-set order whichever finished first."""
    from replab import cluster

    units = [(module.__name__, config) for config in configs]
    return cluster.executor().map(_run_seed_set, units, progress=progress,
                                  describe=lambda unit: f"seed set {unit[1].seed}")


def run_seed_sets(module: ModuleType, configs: Sequence[Any], progress: Progress = no_progress) -> list[Result]:
    """The seed sets run where the current executor says: here, one after another (with each run's own progress),
    or on the cluster of an enclosing `replab.cluster.use_cluster`."""
    from replab import cluster

    if isinstance(cluster.executor(), cluster.InProcess):
        return run_in_process(module, configs, progress)
    return run_on_executor(module, configs, progress)


def replicate(module: ModuleType, config: Any, n: int, progress: Progress = no_progress,
              runner: SeedSetRunner = run_seed_sets) -> Result:
    """The run on `config`'s seed set, with every claim's verdicts on n seed sets as its stability."""
    configs = seed_set_configs(config, n)
    results = runner(module, configs, progress)
    if len(results) != len(configs):
        raise RuntimeError(f"{len(configs)} seed sets were run but {len(results)} results came back")
    return with_stability(results, [c.seed for c in configs])


def with_stability(results: list[Result], seeds: list[int]) -> Result:
    """The first result, its claims annotated with their verdicts in every result (matched by claim id)."""
    primary = results[0]
    by_id = [{claim.id: claim for claim in result.claims} for result in results]
    claims = []
    for claim in primary.claims:
        verdicts = tuple(str(found[claim.id].verdict) if claim.id in found else "absent" for found in by_id)
        claims.append(dataclasses.replace(claim, stability=Stability(tuple(seeds), verdicts)))
    metrics = dict(primary.metrics)
    metrics["replication"] = {
        "seeds": seeds,
        "claims": {claim.id: [_summary(found.get(claim.id)) for found in by_id] for claim in primary.claims},
    }
    return dataclasses.replace(primary, claims=claims, metrics=metrics)


def _summary(claim) -> dict[str, Any] | None:
    if claim is None:
        return None
    return {"verdict": claim.verdict,
            "tests": [{"label": t.label, "effect": t.effect, "ci": [t.ci_low, t.ci_high], "p_adjusted": t.p_adjusted}
                      for t in claim.tests]}
