"""TensorBoard event files for a run: its scalar series and, per group, the HParams plugin's settings, so runs compare
side by side in TensorBoard's HParams tab."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from replab.experiments.base import Scalars


def write_tensorboard(folder: Path, scalars: Scalars, settings: dict[str, Any] | None = None,
                      hparams: dict[str, dict[str, Any]] | None = None) -> None:
    """TensorBoard event files: one sub-folder per series group, one tag per curve, and an HParams table.

    A point is (step, value), or (step, value, wall_time) with the wall time (seconds since the epoch) at which
    the value was measured; points without one are stamped with the time of writing. Every group is one HParams
    session: its hyperparameters are `settings` (the run's config: numbers, text and booleans; tuples as text),
    what its name says (`noise0.1/one_layer/seed2` gives noise=0.1, level2='one_layer', seed=2) and
    `hparams[group]` (e.g. a spiral finalist's architecture); its metrics are the final value of each tag.
    """
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    now = time.time()
    sessions: dict[str, dict[str, bool | int | float | str]] = {}
    tags: dict[str, None] = {}
    for group, series in scalars.items():
        sessions[group] = {**_hparam_values(settings or {}), **_group_hparams(group),
                           **_hparam_values((hparams or {}).get(group, {}))}
        tags.update(dict.fromkeys(series))
    folder.mkdir(parents=True, exist_ok=True)
    domains: dict[str, set] = {}
    for values in sessions.values():
        for key, value in values.items():
            domains.setdefault(key, set()).add(value)
    for key, values in domains.items():
        if not _numeric(values) and not all(isinstance(v, bool) for v in values):
            domains[key] = {str(v) for v in values}  # mixed kinds: compared as text
            for session in sessions.values():
                if key in session:
                    session[key] = str(session[key])
    root = EventFileWriter(str(folder))
    config_pb = summary_v2.hparams_config_pb(
        hparams=[hp.HParam(key, _hparam_domain(values)) for key, values in sorted(domains.items())],
        metrics=[hp.Metric(tag, display_name=f"final {tag}") for tag in tags], time_created_secs=now)
    root.add_event(event_pb2.Event(wall_time=now, step=0, summary=config_pb))
    root.close()
    for group, series in scalars.items():
        writer = EventFileWriter(str(folder / group))
        start = min((float(point[2]) for points in series.values() for point in points if len(point) > 2),
                    default=now)
        session_pb = summary_v2.hparams_pb(sessions[group], trial_id=group, start_time_secs=start)
        writer.add_event(event_pb2.Event(wall_time=start, step=0, summary=session_pb))
        for tag, points in series.items():
            for point in points:
                step, value = int(point[0]), float(point[1])
                wall = float(point[2]) if len(point) > 2 and point[2] is not None else now
                summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
                writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=summary))
        writer.close()


_NUMBERED = re.compile(r"^([A-Za-z_]+?)_?(-?\d+(?:\.\d+)?(?:e-?\d+)?)$")


def _group_hparams(group: str) -> dict[str, bool | int | float | str]:
    """What a series group's name says: 'noise0.1/one_layer/seed2' -> noise 0.1, level2 'one_layer', seed 2."""
    values: dict[str, bool | int | float | str] = {"run": group}
    for level, part in enumerate(group.split("/"), start=1):
        match = _NUMBERED.match(part)
        if match:
            number = float(match.group(2))
            values[match.group(1)] = int(number) if number.is_integer() and "." not in match.group(2) else number
        else:
            values[f"level{level}"] = part
    return values


def _hparam_values(mapping: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """HParams take numbers, text and booleans: tuples and lists become comma-separated text, None 'none'."""
    values: dict[str, bool | int | float | str] = {}
    for key, value in mapping.items():
        if isinstance(value, (bool, int, float, str)):
            values[str(key)] = value
        elif value is None:
            values[str(key)] = "none"
        elif isinstance(value, (list, tuple)):
            values[str(key)] = ",".join(str(item) for item in value)
        else:
            item = getattr(value, "item", None)  # numpy scalars
            values[str(key)] = item() if callable(item) else str(value)
    return values


def _numeric(values: set) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _hparam_domain(values: set):
    from tensorboard.plugins.hparams import api as hp

    if all(isinstance(v, bool) for v in values):
        return hp.Discrete(sorted(values))
    if _numeric(values):
        if all(isinstance(v, int) for v in values):
            return hp.IntInterval(min(values), max(values))
        return hp.RealInterval(float(min(values)), float(max(values)))
    return hp.Discrete(sorted(str(v) for v in values))
