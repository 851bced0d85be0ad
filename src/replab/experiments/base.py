"""What every experiment shares: the Result it returns, its tables, progress callbacks and settings parsing."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from replab.claims import Claim
from replab.errors import ConfigError

Progress = Callable[[float, float, str], None]
"""progress(done, total, description): called by experiments as work advances."""


def no_progress(done: float, total: float, description: str) -> None:
    """The default Progress: report nothing."""


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Table":
        return cls(data["title"], list(data["columns"]), [list(row) for row in data["rows"]], data.get("caption", ""))


Scalars = dict[str, dict[str, list[tuple[int, float]]]]
"""TensorBoard series: run name -> tag -> [(step, value), ...]."""


@dataclass
class Result:
    metrics: dict[str, Any]
    tables: list[Table]
    figures: dict[str, Any]
    claims: list[Claim]
    notes: list[str] = field(default_factory=list)
    scalars: Scalars = field(default_factory=dict)


# --- settings from the command line -------------------------------------------------------------

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def apply_overrides(config: Any, overrides: dict[str, str], experiment: str = "this experiment") -> Any:
    """A copy of `config` with each `key=value` override parsed to the type of the field."""
    hints = typing.get_type_hints(type(config))
    known = [f.name for f in dataclasses.fields(config)]
    changes = {}
    for key, text in overrides.items():
        if key not in known:
            raise ConfigError(f"unknown setting '{key}' for {experiment}; known settings: {', '.join(known)}")
        changes[key] = parse_value(text, hints[key], key)
    return dataclasses.replace(config, **changes)


def parse_value(text: str, annotation: Any, key: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if text.strip().lower() in {"none", "null", ""} and type(None) in args:
            return None
        options = [arg for arg in args if arg is not type(None)]
        return parse_value(text, options[0], key)
    if origin is Literal:
        if text not in args:
            raise ConfigError(f"setting '{key}' must be one of {', '.join(map(str, args))}; got '{text}'")
        return text
    if origin is tuple:
        item_type = args[0]
        items = [item.strip() for item in text.split(",") if item.strip()]
        return tuple(parse_value(item, item_type, key) for item in items)
    if annotation is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"setting '{key}' expects true or false, got '{text}'")
    if annotation in (int, float, str):
        try:
            return annotation(text)
        except ValueError:
            kind = {int: "an integer", float: "a number", str: "text"}[annotation]
            raise ConfigError(f"setting '{key}' expects {kind}, got '{text}'") from None
    raise ConfigError(f"setting '{key}' cannot be set from the command line")


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """['a=1', 'b=x'] -> {'a': '1', 'b': 'x'}."""
    parsed = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got '{assignment}'")
        parsed[key.strip()] = value.strip()
    return parsed


def config_to_dict(config: Any) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
