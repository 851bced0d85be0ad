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
import pickle
import socket
import subprocess
import sys
import tempfile
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

    def node_names(self) -> list[str]:
        return [f"local:{socket.gethostname()}"]

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


MISSING_RAY = "--cluster needs Ray, which is not installed here: pip install 'replab[cluster]'"
CONNECT_TIMEOUT_S = 10.0
HEARTBEAT_S = 2.0  # how often map checks that the cluster is still there while it waits for units
# Ray's own give-up time for a head that stopped answering; past it Ray ends this process itself (the 60 s default
# would hold a run that long for nothing). replab's heartbeat notices a dead head well before.
GCS_RECONNECT_S = "20"


def _parse_address(address: str) -> tuple[str, int]:
    text = str(address).strip()
    if text.startswith("ray://"):
        raise ClusterError(f"cluster address '{address}' is a Ray Client address; give the head's HOST:PORT "
                           "(the --port of `ray start --head`, 6379 by default)")
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ClusterError(f"cluster address '{address}' is not HOST:PORT (e.g. 127.0.0.1:6379)")
    return host, int(port)


def is_loopback(host: str) -> bool:
    return host == "localhost" or host == "::1" or host.startswith("127.")


@contextlib.contextmanager
def keep_loopback() -> Iterator[None]:
    """Ray rewrites 127.0.0.1 to the machine's network address before connecting; a cluster started on the loopback
    interface only (`python -m replab.cluster start …`) must be reached on loopback, so the rewrite is skipped for
    loopback hosts while this block runs."""
    try:
        import ray._private.services as services
        original = services.resolve_ip_for_localhost
    except (ImportError, AttributeError):  # another Ray version: nothing to undo
        yield
        return
    services.resolve_ip_for_localhost = lambda host: host if is_loopback(host) else original(host)
    try:
        yield
    finally:
        services.resolve_ip_for_localhost = original


LOST_HEAD = ("lost the Ray cluster at {address} mid-run (its head, or this machine's Ray node, no longer answers); "
             "nothing was saved")
ABRUPT_END = ("replab ended abruptly while running on the Ray cluster at {address}, most likely because its head went "
              "away (Ray's messages: {log}); nothing was saved")
_WATCHER = ("import sys\n"
            "if not sys.stdin.buffer.read().startswith(b'done'):\n"
            "    sys.stderr.write('replab: error: ' + sys.argv[1] + '\\n')\n")


class DriverGuard:
    """While connected: Ray's C++ messages (fd 2) go to a log file, and a watcher process prints one sentence if Ray
    ends this process without Python seeing it (a head that dies can make Ray's core abort the driver)."""

    def __init__(self, address: str) -> None:
        handle, self.log = tempfile.mkstemp(prefix="replab-ray-", suffix=".log")
        sys.stderr.flush()
        self._saved_fd = os.dup(2)
        self._saved_stderr = sys.stderr
        sentence = ABRUPT_END.format(address=address, log=self.log)
        self._watcher = subprocess.Popen([sys.executable, "-c", _WATCHER, sentence],
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
        os.dup2(handle, 2)
        os.close(handle)
        sys.stderr = open(os.dup(self._saved_fd), "w", buffering=1, errors="backslashreplace")

    def release(self) -> None:
        """Back to the terminal's stderr; the watcher is told all ended in Python (which reports its own errors)."""
        with contextlib.suppress(Exception):
            sys.stderr.flush()
            sys.stderr.close()
        sys.stderr = self._saved_stderr
        os.dup2(self._saved_fd, 2)
        os.close(self._saved_fd)
        with contextlib.suppress(OSError):
            self._watcher.stdin.write(b"done")
            self._watcher.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._watcher.wait(timeout=5)
        with contextlib.suppress(OSError):
            os.unlink(self.log)


def _run_unit(function: Callable[[Any], Any], unit: Any) -> tuple[bytes, str, float]:
    """One unit on a Ray worker: its result (pickled here, so the driver gets ordinary writable objects rather than
    Ray's read-only zero-copy arrays), the node it ran on, and how long it took."""
    import pickle

    import ray

    start = time.perf_counter()
    value = pickle.dumps(function(unit), protocol=pickle.HIGHEST_PROTOCOL)
    return value, ray.get_runtime_context().get_node_id(), time.perf_counter() - start


class RayExecutor:
    """Run units as Ray tasks on a cluster; results in unit order; a unit whose worker died runs again."""

    kind = "ray"

    def __init__(self, address: str, ray: Any, guard: DriverGuard | None = None) -> None:
        self.address = address
        self._guard = guard
        self.location_log: list[Placement] = []
        self._ray = ray
        self._names: dict[str, str] = {}
        self._task = ray.remote(_run_unit).options(max_retries=MAX_RETRIES, retry_exceptions=False, num_cpus=1)

    @classmethod
    def connect(cls, address: str) -> "RayExecutor":
        """Connect to the Ray cluster whose head is at `address` (HOST:PORT), or say in one sentence why not."""
        host, port = _parse_address(address)
        try:
            import ray
        except ImportError:
            raise UserError(MISSING_RAY) from None
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as error:
            raise ClusterError(f"cannot reach a Ray cluster at {address}: {error.strerror or error} "
                               "(start one with `ray start --head`, see the README's 'On a cluster')") from None
        import replab

        options: dict[str, Any] = dict(
            address=f"{host}:{port}", logging_level="ERROR", log_to_driver=False, configure_logging=True,
            runtime_env={"py_modules": [os.path.dirname(replab.__file__)],
                         "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}})
        if is_loopback(host):
            options["_node_ip_address"] = "127.0.0.1"
        os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", GCS_RECONNECT_S)  # this driver only
        guard = DriverGuard(f"{host}:{port}")
        try:
            with keep_loopback():
                ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as error:
            guard.release()
            raise ClusterError(f"could not join the Ray cluster at {address}: {str(error).splitlines()[0]}") from None
        except BaseException:
            guard.release()
            raise
        executor = cls(f"{host}:{port}", ray, guard)
        try:
            executor._refresh_names()
        except BaseException:
            executor.close()
            raise
        return executor

    def _refresh_names(self) -> None:
        workers = 0
        for node in sorted(self._ray.nodes(), key=lambda n: n.get("NodeID", "")):
            node_id = node.get("NodeID", "")
            head = "node:__internal_head__" in node.get("Resources", {})
            if node_id not in self._names:
                if not head:
                    workers += 1
                self._names[node_id] = (f"head {node.get('NodeManagerAddress')}" if head else
                                        f"worker {node.get('NodeManagerAddress')}") + f" ({node_id[:8]})"

    def node_names(self) -> list[str]:
        """The cluster's live nodes, head first."""
        self._refresh_names()
        alive = {node.get("NodeID") for node in self._ray.nodes() if node.get("Alive")}
        return sorted((name for node_id, name in self._names.items() if node_id in alive),
                      key=lambda name: (not name.startswith("head"), name))

    def node_name(self, node_id: str) -> str:
        if node_id not in self._names:
            self._refresh_names()
        return self._names.get(node_id, f"node {node_id[:8]}")

    def map(self, function: Callable[[Any], Any], units: Sequence[Any], progress: Progress | None = None,
            describe: Callable[[Any], str] | None = None) -> list[Any]:
        """Every unit run as a Ray task; the results in unit order, or an error and no results at all."""
        ray = self._ray
        from ray import exceptions

        head_gone = (OSError, exceptions.RpcError, exceptions.RaySystemError, exceptions.LocalRayletDiedError)
        progress = progress or _no_progress
        describe = describe or _describe_default
        units = list(units)
        total = len(units)
        try:
            function_ref = ray.put(function)
            refs = [self._task.remote(function_ref, unit) for unit in units]
        except head_gone:
            raise ClusterError(LOST_HEAD.format(address=self.address)) from None  # e.g. gone between two waves
        index = {ref: position for position, ref in enumerate(refs)}
        results: list[Any] = [None] * total
        placements: list[Placement | None] = [None] * total
        pending = list(refs)
        progress(0, total, f"0/{total} units done on the cluster")
        try:
            while pending:
                try:
                    ready, pending = ray.wait(pending, num_returns=1, timeout=HEARTBEAT_S)
                except head_gone:
                    raise ClusterError(LOST_HEAD.format(address=self.address)) from None
                if not ready:
                    self._check_alive()
                    continue
                for ref in ready:
                    position = index[ref]
                    name = describe(units[position]) or f"unit {position + 1}"
                    try:
                        value, node_id, seconds = ray.get(ref)
                    except exceptions.RayTaskError as error:  # the unit itself raised: its own error, as is
                        cause = getattr(error, "cause", None)
                        raise (cause if isinstance(cause, Exception) else error) from None
                    except (exceptions.WorkerCrashedError, exceptions.NodeDiedError, exceptions.ObjectLostError,
                            exceptions.OwnerDiedError, exceptions.LocalRayletDiedError) as error:
                        raise ClusterError(
                            f"{name} was lost on the Ray cluster at {self.address} after {MAX_RETRIES + 1} tries "
                            f"({type(error).__name__}); nothing was saved") from None
                    except (OSError, exceptions.RpcError):  # this node's Ray (the head's raylet) went with the head
                        raise ClusterError(LOST_HEAD.format(address=self.address)) from None
                    except exceptions.RaySystemError as error:
                        raise ClusterError(f"the Ray cluster at {self.address} failed while running {name} "
                                           f"({str(error).splitlines()[0] if str(error) else type(error).__name__}); "
                                           "nothing was saved") from None
                    results[position] = pickle.loads(value)
                    placements[position] = Placement(position, name, self.node_name(node_id), seconds)
                    done = sum(p is not None for p in placements)
                    progress(done, total, f"{done}/{total} units done on the cluster")
        except BaseException:
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
        self.location_log.extend(p for p in placements if p is not None)
        return results

    def _check_alive(self) -> None:
        host, port = _parse_address(self.address)
        try:  # first a plain connection: Ray's own calls to a dead head retry for a long time before failing
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError:
            raise ClusterError(LOST_HEAD.format(address=self.address)) from None
        try:
            alive = [node for node in self._ray.nodes() if node.get("Alive")]
        except Exception as error:  # the head (GCS) is gone
            raise ClusterError(f"lost the Ray cluster at {self.address} ({type(error).__name__}); "
                               "nothing was saved") from None
        if not alive:
            raise ClusterError(f"the Ray cluster at {self.address} has no live nodes left; nothing was saved")

    def summary(self) -> dict[str, Any]:
        return summarise(self.kind, self.address, self.location_log)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ray.shutdown()
        if self._guard is not None:
            self._guard.release()
            self._guard = None


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m replab.cluster ARGS…` is Ray's own `ray ARGS…` with a loopback --node-ip-address kept as loopback,
    for a cluster on one machine that listens on 127.0.0.1 only (plain `ray start` replaces 127.0.0.1 by the
    machine's network address)."""
    import sys

    try:
        from ray.scripts.scripts import main as ray_main
    except ImportError:
        print(f"replab: error: {MISSING_RAY.replace('--cluster needs', 'this needs')}", file=sys.stderr)
        return 2
    sys.argv = ["ray", *(sys.argv[1:] if argv is None else argv)]
    with keep_loopback():
        try:
            ray_main()
        except SystemExit as exit_:
            return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
