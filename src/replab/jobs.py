"""`replab run --jobs N`: the experiments of one command as separate processes, N at a time.

One experiment rarely keeps two cores busy: XLA compiles on one thread, and small populations leave the second
core idle between kernels. Two experiments side by side fill it, and finish sooner together than one after the
other. Each child is a plain `replab run NAME` with the settings
the parent resolved for it, so it computes exactly what it would alone: the numbers do not depend on --jobs. Its
output is printed, whole, when it finishes; each child plans its memory against its share of what is available.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from replab.budget import MEMORY_SHARE_VARIABLE
from replab.errors import UserError

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 30


def max_jobs() -> int:
    return os.cpu_count() or 1


def check_jobs(jobs: int) -> int:
    if not 1 <= jobs <= max_jobs():
        raise UserError(f"--jobs must be an integer from 1 to {max_jobs()} (this machine's cores), got {jobs}")
    return jobs


@dataclass(frozen=True)
class Child:
    """One experiment's `replab run` command line."""
    name: str
    argv: list[str]


def child_argv(name: str, settings: dict[str, str], *, out: Path, quick: bool, profile: str | None,
               replicate: int, cluster: str | None) -> list[str]:
    """`replab run NAME` with the settings resolved for NAME (`profile`: None where NAME has no such profile)."""
    argv = [sys.executable, "-m", "replab", "run", name, "--out", str(out)]
    argv += ["--quick"] if quick else []
    for key, value in settings.items():
        argv += ["--set", f"{key}={value}"]
    argv += ["--profile", profile] if profile else []
    argv += ["--replicate", str(replicate)] if replicate > 1 else []
    argv += ["--cluster", cluster] if cluster else []
    return argv


def run_children(children: list[Child], jobs: int, console: Console) -> int:
    """Run the children, at most `jobs` at a time, printing each one's output when it ends. After a child fails no
    new one starts; returns the first failure's exit status (0 when all succeed). On an interrupt every running
    child is asked to stop (SIGTERM: it discards its unfinished run), then the interrupt goes on."""
    env = {**os.environ, MEMORY_SHARE_VARIABLE: f"{1 / jobs:.6f}", "COLUMNS": str(console.width)}
    pending = collections.deque(children)
    running: dict[str, tuple[subprocess.Popen, IO[bytes]]] = {}
    status = 0
    with Progress(TextColumn("[bold]run[/]"), BarColumn(), TextColumn("{task.completed}/{task.total} done"),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("", total=len(children))
        try:
            while running or (pending and status == 0):
                while pending and status == 0 and len(running) < jobs:
                    child = pending.popleft()
                    log = tempfile.TemporaryFile()
                    running[child.name] = (subprocess.Popen(child.argv, stdout=log, stderr=subprocess.STDOUT,
                                                            env=env), log)
                    bar.update(task, description=running_text(running))
                time.sleep(POLL_SECONDS)
                for name, (process, log) in list(running.items()):
                    if process.poll() is None:
                        continue
                    del running[name]
                    bar.console.print(Text.from_ansi(read_all(log)))
                    bar.advance(task)
                    if process.returncode and not status:
                        status = process.returncode
                    bar.update(task, description=running_text(running))
        except KeyboardInterrupt:
            stop(process for process, _ in running.values())
            raise
        finally:
            for _, log in running.values():
                log.close()
    return status


def running_text(running) -> str:
    return "running " + ", ".join(running) if running else ""


def read_all(log: IO[bytes]) -> str:
    log.seek(0)
    text = log.read().decode("utf-8", errors="replace").rstrip("\n")
    log.close()
    return text


def stop(processes) -> None:
    processes = [p for p in processes if p.poll() is None]
    for process in processes:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
