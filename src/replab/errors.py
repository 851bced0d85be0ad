"""Errors a user can cause and fix; the CLI prints them as one sentence and exits with code 2."""


class UserError(Exception):
    """A mistake in what the user asked for (a bad setting, a missing file, an unwritable folder)."""


class ConfigError(UserError, ValueError):
    """A configuration value is out of range or of the wrong type."""


def require(condition: bool, message: str) -> None:
    """Raise ConfigError with `message` unless `condition` holds."""
    if not condition:
        raise ConfigError(message)
