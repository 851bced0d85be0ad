"""Run directories: written under a temporary name and renamed when complete, read back, listed.

A run of experiment NAME lives in `<out>/<NAME>/<stamp>-<hash>/` with config.json, result.json,
figures/*.png and *.svg, and tensorboard/ when the experiment recorded training curves.
A directory whose name starts with '.' is incomplete and is never listed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from replab.errors import UserError
from replab.experiments.base import Result, Scalars, config_to_dict, to_jsonable

INCOMPLETE_PREFIX = ".incomplete-"


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


def save_run(out: Path, name: str, title: str, question: str, config: Any, result: Result,
             wall_time_s: float) -> Path:
    """Write a complete run directory for `result` and return its path."""
    config_dict = to_jsonable(config_to_dict(config))
    parent = out / name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    final = parent / f"{stamp}-{config_hash(config_dict)}"
    staging = parent / f"{INCOMPLETE_PREFIX}{final.name}-{os.getpid()}"
    staging.mkdir()
    try:
        _write_json(staging / "config.json", config_dict)
        figure_names = _write_figures(staging / "figures", result.figures)
        if result.scalars:
            write_tensorboard(staging / "tensorboard", result.scalars)
        _write_json(staging / "result.json", {
            "name": name,
            "title": title,
            "question": question,
            "seed": config_dict.get("seed"),
            "wall_time_s": wall_time_s,
            "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": software_versions(),
            "metrics": to_jsonable(result.metrics),
            "tables": [to_jsonable(table.to_dict()) for table in result.tables],
            "claims": [claim.to_dict() for claim in result.claims],
            "notes": list(result.notes),
            "figures": figure_names,
        })
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _write_figures(folder: Path, figures: dict[str, Any]) -> list[str]:
    folder.mkdir()
    for figure_name, figure in figures.items():
        for suffix in ("png", "svg"):
            figure.savefig(folder / f"{figure_name}.{suffix}", dpi=110, bbox_inches="tight")
    return list(figures)


def write_tensorboard(folder: Path, scalars: Scalars) -> None:
    """TensorBoard event files: one sub-folder per series group, one tag per curve."""
    import tensorflow as tf  # imported here: only experiments that train need it

    for group, tags in scalars.items():
        writer = tf.summary.create_file_writer(str(folder / group))
        with writer.as_default():
            for tag, points in tags.items():
                for step, value in points:
                    tf.summary.scalar(tag, float(value), step=int(step))
        writer.close()


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
        "numpy": version("numpy"),
        "scikit-learn": version("scikit-learn"),
        "tensorflow": version("tensorflow-cpu", "tensorflow"),
        "replab": version("replab"),
    }


# --- reading ---------------------------------------------------------------------------------------


def load_run(path: Path) -> RunRecord:
    path = Path(path)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        result = json.loads((path / "result.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"'{path}' is not a complete replab run (config.json or result.json is missing)") from None
    except json.JSONDecodeError as error:
        raise UserError(f"'{path}' holds a corrupt run file: {error.msg} at line {error.lineno}") from None
    return RunRecord(path, config, result)


def complete_runs(out: Path, name: str) -> list[Path]:
    """Complete runs of experiment `name` under `out`, oldest first."""
    parent = Path(out) / name
    if not parent.is_dir():
        return []
    return sorted(child for child in parent.iterdir()
                  if child.is_dir() and not child.name.startswith(".") and (child / "result.json").is_file())


def latest_run(out: Path, name: str) -> Path | None:
    runs = complete_runs(out, name)
    return runs[-1] if runs else None
