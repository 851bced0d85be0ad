"""Run directories: written under a temporary name and renamed when complete, read back, listed.

A run of experiment NAME lives in `<out>/<NAME>/<stamp>-<hash>/` with config.json, result.json,
figures/*.png and *.svg, and tensorboard/ when the experiment recorded training curves.
A directory whose name starts with '.' is incomplete and is never listed.
"""

from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from replab import stats
from replab.errors import UserError
from replab.experiments.base import Result, to_jsonable
from replab.figures import FIGURE_NAME, write_figures
from replab.settings import config_to_dict
from replab.tensorboard import write_tensorboard

INCOMPLETE_PREFIX = ".incomplete-"
MAX_RESULT_BYTES = 64 * 2**20
"""A result.json larger than this is not one replab wrote (the largest default run writes well under 1 MB)."""
"""Figure names are plain file names inside the run folder: no separators, no '..', no hidden files."""


@dataclass
class RunRecord:
    path: Path
    config: dict[str, Any]
    result: dict[str, Any]

    @property
    def name(self) -> str:
        return self.result["name"]

    def figure_path(self, figure: str, suffix: str = "png") -> Path:
        return self.path / "figures" / f"{figure}.{suffix}"


# --- writing ---------------------------------------------------------------------------------------


def ensure_writable(out: Path) -> None:
    """Create `out` if needed and prove a file can be written there, or raise UserError."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise UserError(f"cannot write to output folder '{out}': {error.strerror or error}") from None


def ensure_run_folder(out: Path, name: str) -> None:
    """Before any work: `out/<name>` can hold a new run (it is a writable folder, or can be made one)."""
    ensure_writable(out)
    ensure_writable(out / name)


def save_run(out: Path, name: str, title: str, question: str, config: Any, result: Result,
             wall_time_s: float, command: list[str] | None = None) -> Path:
    """Write a complete run directory for `result` and return its path.

    The run is written under a staging name and renamed when complete; a failure while writing (a full disk,
    a folder made read-only) removes the staging folder and becomes one UserError, leaving earlier runs intact.
    """
    config_dict = to_jsonable(config_to_dict(config))
    parent = out / name
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    final = parent / f"{stamp}-{config_hash(config_dict)}"
    staging = parent / f"{INCOMPLETE_PREFIX}{final.name}-{os.getpid()}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(parent)
        staging.mkdir()
        _write_json(staging / "config.json", config_dict)
        figure_names = write_figures(staging / "figures", result.figures)
        if result.scalars:
            write_tensorboard(staging / "tensorboard", result.scalars, settings=config_dict, hparams=result.hparams)
        _write_json(staging / "result.json", {
            "name": name,
            "title": title,
            "question": question,
            "seed": config_dict.get("seed"),
            "quick": bool(result.quick),
            "profile": config_dict.get("profile", "default"),
            "wall_time_s": wall_time_s,
            "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": list(command) if command is not None else None,
            "git_revision": git_revision(),
            "versions": software_versions(),
            "rule": stats.rule_sentence(),
            "metrics": to_jsonable(result.metrics),
            "tables": [to_jsonable(table.to_dict()) for table in result.tables],
            "claims": [claim.to_dict() for claim in result.claims],
            "notes": list(result.notes),
            "figures": figure_names,
            "captions": {key: str(value) for key, value in result.captions.items() if key in figure_names},
        })
        os.rename(staging, final)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        reason = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
        raise UserError(f"could not save the {name} run under '{parent}': {reason}; earlier runs are untouched") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def remove_stale_staging(parent: Path) -> None:
    """Remove staging folders whose writing process is gone (killed with SIGKILL, a power cut)."""
    for child in parent.glob(f"{INCOMPLETE_PREFIX}*"):
        pid = child.name.rpartition("-")[2]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(child, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def config_hash(config_dict: dict[str, Any]) -> str:
    canonical = json.dumps(config_dict, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def software_versions() -> dict[str, str | None]:
    def version(*distributions: str) -> str | None:
        for distribution in distributions:
            try:
                return metadata.version(distribution)
            except metadata.PackageNotFoundError:
                continue
        return None

    return {
        "python": platform.python_version(),
        "replab": version("replab"),
        "numpy": version("numpy"),
        "scipy": version("scipy"),
        "scikit-learn": version("scikit-learn"),
        "tensorflow": version("tensorflow-cpu", "tensorflow", "tensorflow-gpu", "tf-nightly"),
        "matplotlib": version("matplotlib"),
    }


def git_revision() -> str | None:
    """The replab checkout's commit (with '+dirty' for uncommitted changes), or None outside a git checkout."""
    source = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head or None


def command_line() -> list[str]:
    """How this process was started, as a user would retype it."""
    return ["replab", *sys.argv[1:]] if Path(sys.argv[0]).name == "replab" else list(sys.argv)


# --- reading ---------------------------------------------------------------------------------------

_CLAIM_KEYS = {"id": str, "statement": str, "verdict": str, "evidence": str}


def load_run(path: Path) -> RunRecord:
    """A run folder read back and validated; anything else is one UserError naming the folder."""
    path = Path(path)
    config = _read_json(path, "config.json")
    result = _read_json(path, "result.json")
    problem = result_problem(config, result)
    if problem:
        raise UserError(f"'{path}' is not a valid replab run: {problem}")
    return RunRecord(path, config, result)


def _read_json(folder: Path, file: str) -> Any:
    target = folder / file
    try:
        if not target.is_file():
            raise FileNotFoundError
        if target.stat().st_size > MAX_RESULT_BYTES:
            raise UserError(f"'{folder}' holds a {file} of {target.stat().st_size:,} bytes, more than a replab run writes")
        text = target.read_bytes().decode("utf-8")
        return json.loads(text)
    except FileNotFoundError:
        raise UserError(f"'{folder}' is not a complete replab run ({file} is missing)") from None
    except UnicodeDecodeError:
        raise UserError(f"'{folder}' holds a corrupt {file}: it is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise UserError(f"'{folder}' holds a corrupt {file}: {error.msg} at line {error.lineno}") from None
    except RecursionError:
        raise UserError(f"'{folder}' holds a corrupt {file}: it is nested too deeply") from None
    except OSError as error:
        raise UserError(f"cannot read {file} in '{folder}': {error.strerror or error}") from None


def result_problem(config: Any, result: Any) -> str:
    """What is wrong with a run's config and result (empty if nothing)."""
    if not isinstance(config, dict):
        return "config.json is not a JSON object"
    if not isinstance(result, dict):
        return "result.json is not a JSON object"
    if not isinstance(result.get("name"), str) or not result["name"]:
        return "result.json has no experiment name"
    for key, kind in (("claims", list), ("tables", list), ("notes", list), ("figures", list), ("metrics", dict)):
        if key in result and not isinstance(result[key], kind):
            return f"result.json's {key} is not a {'list' if kind is list else 'mapping'}"
    for index, claim in enumerate(result.get("claims", [])):
        if not isinstance(claim, dict):
            return f"claim {index + 1} is not a JSON object"
        for key, kind in _CLAIM_KEYS.items():
            if not isinstance(claim.get(key), kind):
                return f"claim {index + 1} has no {key}"
    for figure in result.get("figures", []):
        if not isinstance(figure, str) or not FIGURE_NAME.match(figure):
            return f"figure name {str(figure)[:60]!r} is not a plain file name"
    for index, table in enumerate(result.get("tables", [])):
        if not isinstance(table, dict) or not isinstance(table.get("rows", []), list) \
                or not all(isinstance(row, list) for row in table.get("rows", [])):
            return f"table {index + 1} is malformed"
    return ""


def complete_runs(out: Path, name: str) -> list[Path]:
    """Complete runs of experiment `name` under `out`, oldest first."""
    parent = Path(out) / name
    try:
        if not parent.is_dir():
            return []
        return sorted(child for child in parent.iterdir()
                      if child.is_dir() and not child.name.startswith(".") and (child / "result.json").is_file())
    except OSError as error:
        raise UserError(f"cannot list the runs in '{parent}': {error.strerror or error}") from None


def latest_run(out: Path, name: str) -> Path | None:
    runs = complete_runs(out, name)
    return runs[-1] if runs else None
