"""The experiments, one module each; import them directly, e.g. `from replab.experiments import gates`.

Every module exposes NAME, TITLE, QUESTION, a frozen `Config` (with `Config.quick()`) and
`run(config, progress=None) -> Result`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from replab.errors import UserError

BN_STUDY: tuple[str, ...] = ("bn-lr", "bn-init", "bn-gradients", "bn-regularization", "norms", "bn-ics")
"""The Batch Normalization study (issue 5): six experiments, runnable together as `replab run bn-study`."""
EXPERIMENTS: tuple[str, ...] = ("gates", "curves", "regression", "batchnorm", "spiral", *BN_STUDY)
GROUPS: dict[str, tuple[str, ...]] = {"all": EXPERIMENTS, "bn-study": BN_STUDY}


def load(name: str) -> ModuleType:
    """The experiment module called `name`."""
    if name not in EXPERIMENTS:
        raise UserError(f"unknown experiment '{name}'; choose from: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"replab.experiments.{name.replace('-', '_')}")
