"""replab on a real Ray cluster: a head and a worker node, each its own process group bound to 127.0.0.1 only.

One cluster per module (Ray's start-up takes seconds). The nodes are started with `python -m replab.cluster start …`
(Ray's own `ray start`, with the loopback address kept as loopback) and stopped by killing exactly the process
groups this module started — never `ray stop`, which kills by name. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from replab import cluster

pytestmark = pytest.mark.slow  # clusters, notebooks and browsers: the slow tier

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
REPLAB = [PYTHON, "-m", "replab"]

try:
    import ray  # noqa: F401

    HAVE_RAY = True
except ImportError:
    HAVE_RAY = False

needs_ray = pytest.mark.skipif(not HAVE_RAY and os.environ.get("CI", "").lower() not in ("1", "true"),
                               reason="Ray is not installed (pip install 'replab[cluster]'); CI installs it and runs this")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment() -> dict[str, str]:
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg",
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("RAY_ADDRESS", None)
    return env


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Ray's workers start sessions of their own, so a group kill misses them)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


class Node:
    """One `ray start --block` we started, in its own session; stop() ends its group and whatever it spawned."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen([PYTHON, "-m", "replab.cluster", "start", *args, "--block"],
                                        stdout=log.open("w"), stderr=subprocess.STDOUT, env=environment(),
                                        cwd=ROOT, start_new_session=True)
        self.pgid = os.getpgid(self.process.pid)

    def stop(self, grace_s: float = 10.0) -> None:
        below = descendants(self.process.pid)
        groups = {self.pgid}
        for pid in below:
            try:
                groups.add(os.getpgid(pid))
            except ProcessLookupError:
                pass
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL if grace_s == 0 else signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=grace_s or 10)
        except subprocess.TimeoutExpired:
            pass
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)


def wait_for_nodes(address: str, n: int, timeout_s: float = 120.0) -> None:
    """Until the cluster at `address` has n live nodes (asked in a subprocess, so this process never joins Ray)."""
    script = ("import sys, ray; from replab import cluster\n"
              "with cluster.keep_loopback(): ray.init(address=sys.argv[1], _node_ip_address='127.0.0.1', "
              "logging_level='ERROR', log_to_driver=False)\n"
              "print(sum(1 for node in ray.nodes() if node['Alive']))")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            done = subprocess.run([PYTHON, "-c", script, address], capture_output=True, text=True, env=environment(),
                                  timeout=60)
            if done.returncode == 0 and int(done.stdout.strip().splitlines()[-1]) >= n:
                return
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            pass
        time.sleep(2)
    raise TimeoutError(f"the local Ray cluster at {address} did not reach {n} nodes in {timeout_s:.0f} s")


def start_worker(address: str, log: Path) -> Node:
    ports = {name: free_port() for name in ("agent", "agent_grpc", "metrics", "env")}
    return Node([f"--address={address}", "--node-ip-address=127.0.0.1", "--num-cpus=1",
                 "--disable-usage-stats", "--object-store-memory=100000000",
                 f"--dashboard-agent-listen-port={ports['agent']}", f"--dashboard-agent-grpc-port={ports['agent_grpc']}",
                 f"--metrics-export-port={ports['metrics']}", f"--runtime-env-agent-port={ports['env']}"], log)


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(unreadable: {error})"


def start_cluster(temp: Path) -> tuple[str, list[Node]]:
    """A head and one worker on 127.0.0.1, each its own process group; the caller stops the nodes, even on failure."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    ports = {name: free_port() for name in ("client", "dashboard", "agent", "agent_grpc", "metrics", "env")}
    head = Node(["--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=1",
                 "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
                 "--object-store-memory=100000000", f"--ray-client-server-port={ports['client']}",
                 f"--dashboard-port={ports['dashboard']}", f"--dashboard-agent-listen-port={ports['agent']}",
                 f"--dashboard-agent-grpc-port={ports['agent_grpc']}", f"--metrics-export-port={ports['metrics']}",
                 f"--runtime-env-agent-port={ports['env']}"], temp / "head.log")
    nodes = [head]
    try:
        wait_for_nodes(address, 1)
        for attempt in (1, 2):  # a worker that has not joined in time is replaced once, on fresh ports
            worker = start_worker(address, temp / f"worker-{attempt}.log")
            nodes.append(worker)
            try:
                wait_for_nodes(address, 2, timeout_s=90.0)
                break
            except TimeoutError as error:
                worker.stop()
                nodes.remove(worker)
                if attempt == 2:
                    raise TimeoutError(f"{error}; the worker's log ends: {log_tail(worker.log)}") from None
    except BaseException:
        stop_all(nodes)
        raise
    return address, nodes


def stop_all(nodes: list[Node]) -> None:
    for node in reversed(nodes):
        node.stop()


@pytest.fixture(scope="module")
def ray_cluster():
    if not HAVE_RAY:
        pytest.fail("CI is set but Ray is not installed: .ci/run should have installed replab[cluster]")
    temp = Path(tempfile.mkdtemp(prefix="rlray", dir="/tmp"))  # short: Ray's socket paths must fit 107 characters
    try:
        address, nodes = start_cluster(temp)
        try:
            yield {"address": address, "head": nodes[0], "worker": nodes[-1], "temp": temp}
        finally:
            stop_all(nodes)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def replab(args: list[str], timeout_s: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*REPLAB, *args], capture_output=True, text=True, env={**environment(), **env},
                          cwd=ROOT, timeout=timeout_s)


def saved_result(out: Path, name: str) -> dict:
    (run,) = sorted((out / name).iterdir())
    return json.loads((run / "result.json").read_text())


def same_numbers(local: dict, remote: dict) -> None:
    remote = dict(remote, metrics={k: v for k, v in remote["metrics"].items() if k != "cluster"})
    for key in ("metrics", "claims", "tables", "notes"):
        assert remote[key] == local[key], key


# -- without a cluster -------------------------------------------------------------------------------------------

def test_without_cluster_ray_is_never_imported():
    script = ("import sys\nfrom rich.console import Console\nfrom replab import cli\n"
              "from replab.replication import replicate\nfrom tests.helpers import TinyConfig, TinyExperiment\n"
              "with cli.on_cluster(None, Console()):\n    replicate(TinyExperiment, TinyConfig(), 2)\n"
              "assert 'ray' not in sys.modules, 'ray was imported'")
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, env=environment(), cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_in_process_executor_keeps_unit_order_and_logs_placements():
    with cluster.use_cluster(None) as executor:
        assert cluster.executor() is executor
        seen = []
        assert executor.map(lambda x: x * x, [3, 1, 2], progress=lambda d, t, s: seen.append((d, t)),
                            describe=str) == [9, 1, 4]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [p.description for p in executor.location_log] == ["3", "1", "2"]
    assert executor.summary()["units"] == 3
    assert isinstance(cluster.executor(), cluster.InProcess)


def test_cluster_without_ray_is_one_sentence_and_exit_2(tmp_path):
    script = ("import sys\nsys.modules['ray'] = None\nfrom replab import cli\n"
              f"sys.exit(cli.main(['run', 'gates', '--quick', '--cluster', '127.0.0.1:1', '--out', {str(tmp_path)!r}]))")
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, env=environment(), cwd=ROOT,
                          timeout=120)
    assert done.returncode == 2
    assert "--cluster needs Ray" in done.stderr and "replab[cluster]" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "gates").exists() or not any((tmp_path / "gates").iterdir())


@pytest.mark.parametrize("address", ["nonsense", "ray://127.0.0.1:10001", "127.0.0.1:99999"])
def test_a_malformed_address_is_one_sentence(address):
    with pytest.raises(cluster.ClusterError):
        with cluster.use_cluster(address):
            pass


@needs_ray
def test_unreachable_cluster_is_one_sentence(monkeypatch):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    with pytest.raises(cluster.ClusterError, match=f"cannot reach a Ray cluster at 127.0.0.1:{port}"):
        with cluster.use_cluster(cluster.address_from(None)):
            pass


# -- a cluster of its own, whose head dies ----------------------------------------------------------------
LIVE_PROGRESS = {"TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "200"}  # rich redraws its bar on a pipe


def read_until(process: subprocess.Popen, pattern: str, timeout_s: float) -> str:
    """The process's stdout so far, read until `pattern` appears in it, the process ends, or the time is up."""
    os.set_blocking(process.stdout.fileno(), False)
    seen, deadline = "", time.monotonic() + timeout_s
    while not re.search(pattern, seen) and process.poll() is None and time.monotonic() < deadline:
        seen += (process.stdout.read() or b"").decode(errors="replace")
        time.sleep(0.1)
    return seen


@needs_ray
def test_a_head_killed_mid_run_ends_the_run_with_one_sentence_and_saves_nothing(tmp_path):
    """The head (GCS and its raylet) dies after the run has finished a unit: replab must not wait for it, must not
    print a traceback, and must leave nothing that looks like a complete run. Its own cluster: the head is killed."""
    if not HAVE_RAY:
        pytest.fail("CI is set but Ray is not installed: .ci/run should have installed replab[cluster]")
    temp = Path(tempfile.mkdtemp(prefix="rlhead", dir="/tmp"))
    out = tmp_path / "runs"
    try:
        address, nodes = start_cluster(temp)
        try:
            run = subprocess.Popen([*REPLAB, "run", "gates", "--quick", "--replicate", "20", "--cluster", address,
                                    "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env={**environment(), **LIVE_PROGRESS}, cwd=ROOT, start_new_session=True)
            try:
                seen = read_until(run, r"\b[1-9]\d*/20 units done", timeout_s=180)
                assert re.search(r"\b[1-9]\d*/20 units done", seen), f"no unit finished before: {seen[-1500:]}"
                assert run.poll() is None, "the run ended before the head could be killed"
                nodes[0].stop(grace_s=0)  # the head's process group (GCS, raylet, its workers), nothing else
                _, err = run.communicate(timeout=120)  # bounded: a run waiting on a dead head fails here
            finally:
                if run.poll() is None:
                    os.killpg(run.pid, signal.SIGKILL)
                    run.wait(timeout=10)
        finally:
            for node in reversed(nodes):  # a throwaway cluster: no grace needed
                node.stop(grace_s=0)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    err = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err.decode(errors="replace"))  # the colours TTY_COMPATIBLE asks for
    lines = [line for line in err.splitlines() if line.strip()]
    assert run.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("replab: error:"), err[-3000:]
    assert "Traceback" not in err and "nothing was saved" in lines[0] and address in lines[0]
    log = re.search(r"Ray's messages: (\S+?\.log)", lines[0])
    if log:  # Ray itself ended the driver: its messages were kept for the user, not for this test
        Path(log.group(1)).unlink(missing_ok=True)
    complete = [run_dir for run_dir in out.glob("*/*") if not run_dir.name.startswith(".")]
    assert complete == [], complete
    listed = replab(["runs", "--out", str(out)], timeout_s=60)
    assert listed.returncode == 0 and "no complete runs" in listed.stdout, listed.stdout + listed.stderr


# -- on the two-node cluster -------------------------------------------------------------------------------------

@needs_ray
def test_replicate_on_the_cluster_equals_the_local_run(ray_cluster, tmp_path):
    args = ["run", "gates", "--quick", "--replicate", "2"]
    local = replab([*args, "--out", str(tmp_path / "local")])
    assert local.returncode == 0, local.stderr[-2000:]
    remote = replab([*args, "--cluster", ray_cluster["address"], "--out", str(tmp_path / "remote")])
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert "cluster: Ray at" in remote.stdout
    local_result, remote_result = saved_result(tmp_path / "local", "gates"), saved_result(tmp_path / "remote", "gates")
    same_numbers(local_result, remote_result)
    assert "cluster" not in local_result["metrics"]
    record = remote_result["metrics"]["cluster"]
    assert record["executor"] == "ray" and record["units"] == 2
    assert [p["description"] for p in record["placements"]] == ["seed set 0", "seed set 1"]
    assert sum(node["units"] for node in record["nodes"].values()) == 2
    assert all(p["node"].split()[1] == "127.0.0.1" for p in record["placements"])


@needs_ray
def test_spiral_search_on_the_cluster_equals_the_local_run(ray_cluster, tmp_path):
    from replab.experiments.spiral import search

    if "cluster.executor()" not in Path(search.__file__).read_text():
        pytest.skip("the spiral search does not map its waves on replab.cluster.executor() yet")
    args = ["run", "spiral", "--quick"]
    local = replab([*args, "--out", str(tmp_path / "local")], timeout_s=600)
    assert local.returncode == 0, local.stderr[-2000:]
    remote = replab([*args, "--cluster", ray_cluster["address"], "--out", str(tmp_path / "remote")], timeout_s=600)
    assert remote.returncode == 0, remote.stderr[-3000:]
    local_result, remote_result = saved_result(tmp_path / "local", "spiral"), saved_result(tmp_path / "remote", "spiral")
    same_numbers(local_result, remote_result)
    assert remote_result["metrics"]["cluster"]["units"] >= 1


@needs_ray
def test_a_bn_experiments_populations_on_the_cluster_equal_the_local_run(ray_cluster, tmp_path):
    args = ["run", "bn-practice", "--quick"]
    local = replab([*args, "--out", str(tmp_path / "local")], timeout_s=600)
    assert local.returncode == 0, local.stderr[-2000:]
    remote = replab([*args, "--cluster", ray_cluster["address"], "--out", str(tmp_path / "remote")], timeout_s=600)
    assert remote.returncode == 0, remote.stderr[-3000:]
    local_result = saved_result(tmp_path / "local", "bn-practice")
    remote_result = saved_result(tmp_path / "remote", "bn-practice")
    from replab.cli import measured

    assert measured(remote_result) == measured(local_result)  # all but how fast each machine trained
    assert remote_result["claims"] == local_result["claims"]
    placements = remote_result["metrics"]["cluster"]["placements"]
    assert [p["description"] for p in placements] == [
        f"bn-practice mnist, {architecture} {model}" for architecture in ("ReLU MLP", "CNN")
        for model in ("without BN", "with BN")]


SLOW_UNITS = """
import json, os, sys, time
from pathlib import Path
from replab import cluster

marks = Path(sys.argv[2])

def unit(k):
    import ray
    node = ray.get_runtime_context().get_node_id()
    (marks / f"{k}-{node}-{os.getpid()}").write_text("")
    time.sleep(6)
    return {"unit": k, "square": k * k}

try:
    with cluster.use_cluster(sys.argv[1]) as executor:
        results = executor.map(unit, range(4), describe=lambda k: f"unit {k}")
except cluster.ClusterError as error:
    print("ERROR", error)
    sys.exit(2)
print(json.dumps({"results": results, "log": executor.summary()}))
"""


@needs_ray
def test_a_worker_killed_mid_run_loses_no_unit_and_duplicates_none(ray_cluster, tmp_path):
    """Run last: it kills the module cluster's worker node. Units on the dead node run again on the head (Ray's
    max_retries), or the run fails with one sentence; either way no result is missing, doubled or out of order."""
    marks = tmp_path / "marks"
    marks.mkdir()
    driver = subprocess.Popen([PYTHON, "-c", SLOW_UNITS, ray_cluster["address"], str(marks)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=environment(), cwd=ROOT, start_new_session=True)
    try:
        worker_id = None
        deadline = time.monotonic() + 120
        while worker_id is None and time.monotonic() < deadline:  # until both nodes have a unit running
            nodes = {name.split("-")[1] for name in os.listdir(marks)}
            if len(nodes) >= 2:
                worker_id = nodes
            time.sleep(0.2)
        assert worker_id is not None, "the units never ran on both nodes"
        ray_cluster["worker"].stop(grace_s=0)  # the worker node dies with a unit half done
        out, err = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(timeout=10)
    if driver.returncode == 0:
        report = json.loads(out.strip().splitlines()[-1])
        assert report["results"] == [{"unit": k, "square": k * k} for k in range(4)]
        assert [p["unit"] for p in report["log"]["placements"]] == [0, 1, 2, 3]
        assert report["log"]["units"] == 4
    else:
        assert driver.returncode == 2, err[-3000:]
        assert "ERROR" in out and "nothing was saved" in out and "Traceback" not in out

