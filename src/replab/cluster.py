"""Where independent units of work run: here, one after another, or on a Ray cluster.

A *unit* is one independent piece of an experiment — a seed set of `--replicate`, a spiral wave's population, a
finalist's replication — that carries everything it needs, its seeds included, so its result never depends on where
or when it ran. Code that has such units asks for the current executor and maps over them:

    from replab import cluster
    results = cluster.executor().map(train_wave, waves, progress=progress, describe=lambda w: f"wave {w.index}")

`executor()` is in-process unless the caller is inside `with cluster.use_cluster(address):`, which connects to a
Ray cluster for the block. Results always come back in unit order, never in completion order. Without a cluster
nothing imports Ray.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time
from typing import Any, Callable, Iterator, Sequence

from replab.errors import UserError

Progress = Callable[[float, float, str], None]

ENVIRONMENT_VARIABLE = "RAY_ADDRESS"
MAX_RETRIES = 3  # how often Ray runs a unit again after the worker running it died


class ClusterError(UserError):
    """The cluster could not be reached or could not finish the work: one sentence, and no result is saved."""


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where one unit ran and how long it took there."""

    unit: int
    description: str
    node: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "description": self.description, "node": self.node,
                "seconds": round(self.seconds, 3)}


def _no_progress(done: float, total: float, description: str) -> None:
    pass


def _describe_default(unit: Any) -> str:
    return ""


class InProcess:
    """Run each unit here, one after another, in unit order."""

    kind = "in-process"
    address = None

    def __init__(self) -> None:
        self.location_log: list[Placement] = []

    def map(self, function: Callable[[Any], Any], units: Sequence[Any], progress: Progress | None = None,
            describe: Callable[[Any], str] | None = None) -> list[Any]:
        progress = progress or _no_progress
        describe = describe or _describe_default
        units = list(units)
        node = f"local:{socket.gethostname()}"
        results = []
        for index, unit in enumerate(units):
            start = time.perf_counter()
            results.append(function(unit))
            self.location_log.append(Placement(index, describe(unit), node, time.perf_counter() - start))
            progress(index + 1, len(units), f"{index + 1}/{len(units)} units done")
        return results

    def summary(self) -> dict[str, Any]:
        return summarise(self.kind, self.address, self.location_log)


def summarise(kind: str, address: str | None, log: Sequence[Placement]) -> dict[str, Any]:
    """What a run records in metrics["cluster"]: how many units ran on which node and how long they took."""
    nodes: dict[str, dict[str, Any]] = {}
    for placement in log:
        node = nodes.setdefault(placement.node, {"units": 0, "seconds": 0.0})
        node["units"] += 1
        node["seconds"] = round(node["seconds"] + placement.seconds, 3)
    return {"executor": kind, "address": address, "units": len(log), "nodes": nodes,
            "placements": [p.to_dict() for p in log]}


_current: list[Any] = []


def executor() -> Any:
    """The executor units should be mapped on now: the innermost `use_cluster` block's, else a fresh in-process one."""
    return _current[-1] if _current else InProcess()


def address_from(option: str | None) -> str | None:
    """The cluster address to use: the --cluster option, else RAY_ADDRESS, else None (run in-process)."""
    if option:
        return option
    return os.environ.get(ENVIRONMENT_VARIABLE) or None


@contextlib.contextmanager
def use_cluster(address: str | None) -> Iterator[Any]:
    """Within the block, executor() is a Ray executor connected to `address` (None: stay in-process)."""
    if address is None:
        local = InProcess()
        _current.append(local)
        try:
            yield local
        finally:
            _current.remove(local)
        return
    remote = RayExecutor.connect(address)  # Ray is imported only here
    _current.append(remote)
    try:
        yield remote
    finally:
        _current.remove(remote)
        remote.close()


class RayExecutor:
    """Run units as Ray tasks on a cluster; results in unit order; a unit whose worker died runs again."""

    kind = "ray"

    def __init__(self, address: str) -> None:
        self.address = address
        self.location_log: list[Placement] = []

    @classmethod
    def connect(cls, address: str) -> "RayExecutor":
        raise ClusterError("the Ray executor is not written yet")

    def map(self, function, units, progress=None, describe=None):
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        return summarise(self.kind, self.address, self.location_log)

    def close(self) -> None:
        pass
