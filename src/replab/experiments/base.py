"""What every experiment shares: its Config base, Measurements, Presentation and the Result they compose,
tables, progress callbacks and settings parsing.

An experiment is a package whose `__init__.py` is light (NAME, TITLE, QUESTION, its Config and
`run = runner(__name__)`), with `measure.py`, `judge.py` and `present.py` beside it, which `run` imports on its
first call:

    measurements = measure(config, progress)
    return compose(config, measurements, judge(config, measurements), present(config, measurements))
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from replab.claims import Claim, verdict_counts
from replab.errors import ConfigError, UserError, check_seed, require
from replab.settings import check_bounds

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

    def to_frame(self):
        """The table as a pandas DataFrame (pandas must be installed)."""
        import pandas

        return pandas.DataFrame(self.rows, columns=self.columns)

    def _repr_html_(self) -> str:
        from replab.display import table_html

        return table_html(to_jsonable(self.to_dict()))


Scalars = dict[str, dict[str, list[tuple[int, float] | tuple[int, float, float]]]]
"""TensorBoard series: group -> tag -> [(step, value), ...] or [(step, value, wall_time), ...]."""


def wall_times(record_times, n: int) -> list:
    """TensorBoard's wall time of each of n points: the record times as floats, or None each (stamped when written)
    for measurements that carry none (hand-built ones)."""
    times = np.asarray(record_times, float)
    return times.tolist() if times.size else [None] * n


def scalar_points(steps, values, record_times) -> list[tuple]:
    """(step, value, wall time) for TensorBoard, one per record point."""
    steps = list(steps)
    return [(int(s), float(v), t) for s, v, t in zip(steps, values, wall_times(record_times, len(steps)))]


@dataclass(frozen=True)
class ExperimentConfig:
    """What every experiment's Config shares: the seed (one range, checked here) and the quick mark.

    Subclasses are frozen dataclasses whose every field has a default that reproduces the full experiment;
    their `__post_init__` calls this one first.
    """

    seed: int = 0
    """Picks the seed set: every random choice of the run derives from it (`replab.seeds.derived_seed`)."""
    quick: bool = False
    """Set by Config.quick(): a smoke test, marked as such in its results; its verdicts never stand for a full run."""
    profile: str = "default"
    """The named settings this config started from: 'default', or a larger documented one such as 'paper'."""

    PROFILES: typing.ClassVar[dict[str, dict[str, Any]]] = {}
    """Named profiles beyond the default, name -> settings (e.g. 'paper': the grids that do not fit `make run`)."""

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_bounds(self)  # every field's own bounds, declared beside it; a subclass checks only cross-field rules
        require(isinstance(self.quick, bool), f"quick must be true or false, got {self.quick!r}")
        require(self.profile == "default" or self.profile in self.PROFILES,
                f"profile must be one of {', '.join(['default', *self.PROFILES])}, got {self.profile!r}")

    @classmethod
    def from_profile(cls, name: str) -> "ExperimentConfig":
        """The config of profile `name` ('default' is the class's defaults)."""
        if name == "default":
            return cls()
        if name not in cls.PROFILES:
            raise ConfigError(f"profile '{name}' is not defined for {cls.experiment_name()}; "
                              f"profiles: {', '.join(['default', *cls.PROFILES])}")
        return cls(**cls.PROFILES[name], profile=name)

    @classmethod
    def experiment_name(cls) -> str:
        """The CLI name of the experiment this Config belongs to (its module's name outside the registry)."""
        from replab.experiments import REGISTRY

        names = [name for name, package in REGISTRY.items() if cls.__module__ in (package, f"{package}.config")]
        return names[0] if names else cls.__module__.removesuffix(".config").rpartition(".")[2]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExperimentConfig":
        """The Config a saved config.json describes (JSON lists become tuples; unknown keys are refused)."""
        if not isinstance(data, dict):
            raise ConfigError(f"a {cls.__module__} configuration must be a JSON object, got {type(data).__name__}")
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                              f"known settings: {', '.join(sorted(known))}")
        return cls(**{key: _from_json(value, hints[key]) for key, value in data.items()})


def _from_json(value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        return None if value is None else _from_json(value, options[0])
    if origin is tuple and isinstance(value, list):
        item_type = args[0] if args else Any
        return tuple(_from_json(item, item_type) for item in value)
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


WHEN_MEASURED = {"when_measured": True}
"""Field metadata for when something was measured (e.g. record wall times, for TensorBoard): kept out of the
metrics, so result.json and `replab rerun` compare what was measured, never when."""


@dataclass(frozen=True)
class Measurements:
    """Base of every experiment's measurements: a frozen dataclass of numpy values, computed, never written."""

    def to_metrics(self) -> dict[str, Any]:
        """result.json's metrics: every field as plain JSON values, except those marked WHEN_MEASURED."""
        return to_jsonable(self)


@dataclass
class Presentation:
    """What a reader sees besides the claims: tables, figures with sentence captions, notes, TensorBoard series."""

    tables: list[Table] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scalars: Scalars = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    """Figure name -> one sentence saying what the figure shows."""
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)
    """TensorBoard group -> its own hyperparameters (beyond the run's settings), e.g. a finalist's architecture."""


@dataclass
class Result:
    metrics: dict[str, Any]
    tables: list[Table]
    figures: dict[str, Any]
    claims: list[Claim]
    notes: list[str] = field(default_factory=list)
    scalars: Scalars = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    quick: bool = False
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __repr__(self) -> str:
        counts = verdict_counts(self.claims)
        checks = sum(claim.kind == "check" for claim in self.claims)
        tally = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
        return (f"Result({tally}; {checks} checks; {len(self.tables)} tables; figures {list(self.figures)}"
                f"{'; quick' if self.quick else ''})")

    def _repr_html_(self) -> str:
        from replab.display import result_html

        return result_html(self)


def compose(config: ExperimentConfig, measurements: Measurements, claims: list[Claim],
            presentation: Presentation) -> Result:
    """The Result of one run: measurements as metrics, decided claims, and the presentation."""
    for claim in claims:
        if claim.verdict is None:
            raise ValueError(f"finding '{claim.id}' was never decided; judge() must end with claims.decide(...)")
    from replab.display import enable_inline_figures

    enable_inline_figures()  # figures built without pyplot show inline in a notebook (nothing elsewhere)
    return Result(measurements.to_metrics(), presentation.tables, presentation.figures, claims, presentation.notes,
                  presentation.scalars, presentation.captions, bool(getattr(config, "quick", False)),
                  presentation.hparams)


ROLES = ("measure", "judge", "present")
"""The modules beside an experiment's light `__init__.py`, each defining the function of its name."""


def runner(package: str) -> Callable[..., Result]:
    """The `run(config=None, progress=no_progress) -> Result` of the experiment package `package`.

    Its measure, judge and present modules (and with them TensorFlow, scikit-learn or matplotlib) are imported on
    the first call, so that importing the package, its Config, NAME or TITLE stays instant.
    """

    def run(config: ExperimentConfig | None = None, progress: Progress = no_progress) -> Result:
        config = config or sys.modules[package].Config()
        measure, judge, present = (getattr(role_module(package, role), role) for role in ROLES)
        measurements = measure(config, progress)
        return compose(config, measurements, judge(config, measurements), present(config, measurements))

    run.__module__, run.__qualname__ = package, "run"
    run.__doc__ = f"Run {package}: measure, judge the claims and present tables, figures and notes."
    return run


def role_module(package: str, role: str) -> types.ModuleType:
    """`package.role`, imported; a missing TensorFlow is one sentence for the user, not a traceback."""
    try:
        return importlib.import_module(f"{package}.{role}")
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] == "tensorflow":
            name = getattr(sys.modules.get(package), "NAME", package)
            raise UserError(f"{name} trains networks with TensorFlow, which is not installed: "
                            f"pip install 'replab[cpu]' (or 'replab[gpu]', or keep your own TensorFlow)") from None
        raise


def to_jsonable(value: Any) -> Any:
    """Plain JSON types; numpy scalars and arrays converted, non-finite floats become None; dataclass fields
    marked WHEN_MEASURED left out at any depth."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)
                            if not f.metadata.get("when_measured")})
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


# --- settings from the command line -------------------------------------------------------------

