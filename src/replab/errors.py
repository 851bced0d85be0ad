"""Errors a user can cause and fix; the CLI prints them as one sentence and exits with code 2."""

from numbers import Integral


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
    require(is_integer(seed) and seed >= 0, f"seed must be a non-negative integer, got {seed!r}.")


def check_positive_int(name: str, value: int, minimum: int = 1) -> None:
    require(is_integer(value) and value >= minimum, f"{name} must be an integer of at least {minimum}, got {value!r}.")
