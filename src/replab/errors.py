"""Errors a user can cause and fix; the CLI prints them as one sentence and exits with code 2."""

import math
from numbers import Integral

from replab.seeds import MAX_SEED


class UserError(Exception):
    """A mistake in what the user asked for (a bad setting, a missing file, an unwritable folder)."""


class ConfigError(UserError, ValueError):
    """A configuration value is out of range or of the wrong type."""


def require(condition: bool, message: str) -> None:
    """Raise ConfigError with `message` unless `condition` holds."""
    if not condition:
        raise ConfigError(message)


def is_integer(value: object) -> bool:
    """A Python or NumPy integer, but not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_seed(seed: int) -> None:
    require(is_integer(seed) and 0 <= seed <= MAX_SEED,
            f"seed must be an integer from 0 to {MAX_SEED:,} (2**31 - 1), got {seed!r}.")


def check_positive_int(name: str, value: int, minimum: int = 1, maximum: int | None = None) -> None:
    """An integer of at least `minimum` and, for a size setting, at most `maximum`."""
    require(is_integer(value) and value >= minimum, f"{name} must be an integer of at least {minimum}, got {value!r}.")
    if maximum is not None:
        check_at_most(name, value, maximum)


def check_finite(name: str, value: float, low: float | None = None, high: float | None = None) -> None:
    """A finite real number (not a bool), optionally within [low, high]."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    bounds = "" if low is None and high is None else f" from {low:g} to {high:g}" if low is not None and high is not None \
        else f" of at least {low:g}" if low is not None else f" of at most {high:g}"
    require(ok, f"{name} must be a finite number{bounds}, got {value!r}.")


def check_at_most(name: str, value: int, maximum: int, why: str = "") -> None:
    """An upper bound on a size setting, so nothing a user types can exhaust the machine."""
    require(value <= maximum, f"{name} must be at most {maximum:,}{f' ({why})' if why else ''}, got {value:,}.")
