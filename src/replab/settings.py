"""Settings: each Config field's bounds declared beside it (`integer`, `number`, `choice`, `each`), checked for every
Config and shown by `replab config`; `--set key=value` parsed to the type of the field it names; a config as a plain
dict; each field's docstring.

Bounds follow scikit-learn's `_parameter_constraints`: what a single field accepts is declared once, beside the field,
and checked in one place; a Config's `__post_init__` keeps only the rules that involve more than one field.

    steps: int = integer(2_000, low=1, high=MAX_STEPS)
    learning_rate: float = number(0.5, above=0, high=100)
    gates: tuple[str, ...] = each(tuple(GATES), choice(None, GATES), unique=True)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Literal

from replab.errors import ConfigError, check_at_most, check_positive_int, require

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}

BOUNDS = "bounds"
"""The field-metadata key holding a field's Bounds."""


@dataclass(frozen=True)
class Bounds:
    """What one Config field accepts: an integer or a finite number in a range, one of some choices, or a tuple whose
    every item is so bounded. `why` says why an upper limit is there (memory, time) and is shown with the error."""

    kind: str
    low: float | None = None
    high: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple = ()
    item: "Bounds | None" = None
    min_items: int = 1
    max_items: int | None = None
    unique: bool = False
    increasing: bool = False
    including: tuple = ()
    """(value, reason): a value the tuple must hold, e.g. (1.0, "the default std")."""
    why: str = ""
    check_value: Callable[[str, Any], Any] | None = None
    words: str = ""

    def check(self, name: str, value: Any) -> None:
        """Raise ConfigError, in one sentence naming the field, unless `value` is within these bounds."""
        if self.kind == "integer":
            check_positive_int(name, value, minimum=int(self.low if self.low is not None else 0))
            if self.high is not None:
                check_at_most(name, value, int(self.high), self.why)
        elif self.kind == "number":
            self._check_number(name, value)
        elif self.kind == "choice":
            require(isinstance(value, str) and value in self.choices,
                    f"{name} must be one of {', '.join(map(str, self.choices))}, got {value!r}.")
        elif self.kind == "each":
            self._check_items(name, value)
        elif self.kind == "flag":
            require(isinstance(value, bool), f"{name} must be true or false, got {value!r}.")
        elif self.kind == "validated":
            self.check_value(name, value)

    def _check_number(self, name: str, value: Any) -> None:
        finite = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        inside = finite and (self.low is None or value >= self.low) and (self.high is None or value <= self.high) \
            and (self.above is None or value > self.above) and (self.below is None or value < self.below)
        require(inside, f"{name} must be {self.describe()}, got {value!r}.")

    def _check_items(self, name: str, value: Any) -> None:
        require(isinstance(value, tuple) and self.min_items <= len(value) <= (self.max_items or len(value)),
                f"{name} must list {self._count()}, got {value!r}.")
        for item in value:
            self.item.check(f"every value of {name}", item)
        require(not self.unique or len(set(value)) == len(value), f"{name} lists a value twice: {value!r}.")
        require(not self.increasing or all(a < b for a, b in zip(value, value[1:])),
                f"{name} must be in increasing order, got {value!r}.")
        if self.including:
            required, reason = self.including
            require(required in value, f"{name} must include {_text(required)} ({reason}), got {value!r}.")

    def describe(self) -> str:
        """The bounds in words, as `replab config` shows them: 'an integer from 1 to 100,000', 'a number > 0'."""
        if self.kind == "integer":
            low = int(self.low if self.low is not None else 0)
            return f"an integer from {low:,} to {int(self.high):,}" if self.high is not None else \
                f"an integer of at least {low:,}"
        if self.kind == "number":
            parts = [f"≥ {self.low:g}" if self.low is not None else "", f"> {self.above:g}" if self.above is not None else "",
                     f"< {self.below:g}" if self.below is not None else "", f"≤ {self.high:g}" if self.high is not None else ""]
            return "a finite number" + (" " + " and ".join(p for p in parts if p) if any(parts) else "")
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "flag":
            return "true or false"
        if self.kind == "validated":
            return self.words
        flags = ", no repeats" if self.unique else ", increasing" if self.increasing else ""
        including = f", including {_text(self.including[0])}" if self.including else ""
        return f"{self._count()}{flags}, each {self.item.describe()}{including}"

    def _count(self) -> str:
        if self.max_items == self.min_items:
            return f"{self.min_items} value{'s' if self.min_items > 1 else ''}"
        if self.max_items:
            return f"{self.min_items} to {self.max_items} values"
        return "one or more values" if self.min_items == 1 else f"at least {self.min_items} values"


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def integer(default: int, low: int = 1, high: int | None = None, why: str = "") -> Any:
    """A Config field holding an integer from `low` to `high` (a size limit, so nothing typed exhausts the machine)."""
    return _bounded(default, Bounds("integer", low=low, high=high, why=why))


def number(default: float, low: float | None = None, high: float | None = None, above: float | None = None,
           below: float | None = None) -> Any:
    """A Config field holding a finite number, ≥ low, ≤ high, > above, < below where given."""
    return _bounded(default, Bounds("number", low=low, high=high, above=above, below=below))


def choice(default: str | None, choices) -> Any:
    """A Config field holding one of `choices`. Without a default (None) it returns the Bounds alone, for `each`."""
    bounds = Bounds("choice", choices=tuple(choices))
    return bounds if default is None else _bounded(default, bounds)


def flag(default: bool) -> Any:
    """A Config field holding true or false."""
    return _bounded(default, Bounds("flag"))


def validated(default: Any, check: Callable[[str, Any], Any], words: str) -> Any:
    """A Config field whose one value is checked by `check(name, value)` (raising ConfigError), described by `words`
    (e.g. a data folder that must exist)."""
    return _bounded(default, Bounds("validated", check_value=check, words=words))


def each(default: tuple, item: "Bounds | Any", min_items: int = 1, max_items: int | None = None, unique: bool = False,
         increasing: bool = False, including: tuple = ()) -> Any:
    """A Config field holding a tuple whose every item is within `item` (Bounds, or a bounded field's Bounds), and
    which holds `including[0]` where given (`including=(1.0, "the default std")`, the reason shown with the error)."""
    item = item if isinstance(item, Bounds) else item.metadata[BOUNDS]
    return _bounded(default, Bounds("each", item=item, min_items=min_items, max_items=max_items, unique=unique,
                                    increasing=increasing, including=including))


def item_bounds(kind: str, **limits) -> Bounds:
    """The Bounds of a tuple's items for `each`: item_bounds("integer", low=1, high=4096), item_bounds("number", above=0)."""
    return Bounds(kind, **limits)


def _bounded(default: Any, bounds: Bounds) -> Any:
    return dataclasses.field(default=default, metadata={BOUNDS: bounds})


@functools.cache  # a class's bounds never change, and every Config built (each --set, each replace) checks them
def bounds_of(config_class: type) -> dict[str, Bounds]:
    """Field name -> its declared Bounds, for every bounded field of a Config class. A subclass that gives an
    inherited field a new default (`steps: int = 300`) keeps the bounds its base declared for it."""
    bounds = {}
    for f in dataclasses.fields(config_class):
        for klass in config_class.__mro__:
            declared = getattr(klass, "__dataclass_fields__", {}).get(f.name)
            if declared is not None and BOUNDS in declared.metadata:
                bounds[f.name] = declared.metadata[BOUNDS]
                break
    return bounds


def check_bounds(config: Any) -> None:
    """Check every bounded field of `config`, in field order: the first value out of bounds raises ConfigError."""
    for name, bounds in bounds_of(type(config)).items():
        bounds.check(name, getattr(config, name))


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
        items = [item.strip() for item in text.split(",")]
        if text.strip() and not all(items):
            raise ConfigError(f"setting '{key}' has an empty item in '{text}'; separate values with single commas")
        return tuple(parse_value(item, item_type, key) for item in items if item)
    if annotation is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"setting '{key}' expects true or false, got '{text}'")
    if annotation in (int, float, str):
        try:
            value = annotation(text)
        except ValueError:
            kind = {int: "an integer", float: "a number", str: "text"}[annotation]
            raise ConfigError(f"setting '{key}' expects {kind}, got '{text}'") from None
        if annotation is float and not math.isfinite(value):
            raise ConfigError(f"setting '{key}' expects a finite number, got '{text}'")
        return value
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


def field_docs(config_class: type) -> dict[str, str]:
    """Each field's docstring (the string literal written under it), read from the class and its bases' source."""
    import ast
    import inspect
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed(config_class.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for current, following in zip(body, body[1:]):
            if (isinstance(current, ast.AnnAssign) and isinstance(current.target, ast.Name)
                    and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                docs[current.target.id] = " ".join(following.value.value.split())
    return docs
