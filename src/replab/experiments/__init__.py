"""The experiments and the one registry that maps CLI names to their packages.

Every experiment is a package whose `__init__.py` is light: NAME, TITLE, QUESTION, a frozen `Config` (with
`Config.quick()` and `Config.from_dict()`) and `run(config, progress=None) -> Result`, which imports the package's
`measure`, `judge` and `present` modules on its first call. Importing a package (or `load("bn-lr")`) therefore
loads neither TensorFlow, scikit-learn nor matplotlib: `replab list` and `replab config NAME` answer at once.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from replab.errors import UserError
from replab.quiet import install_hook

install_hook()  # TensorFlow's start-up lines stay off the terminal and out of notebooks

REGISTRY: dict[str, str] = {
    "gates": "replab.experiments.gates",
    "curves": "replab.experiments.curves",
    "regression": "replab.experiments.regression",
    "batchnorm": "replab.experiments.bn.figure1",
    "spiral": "replab.experiments.spiral",
    "bn-lr": "replab.experiments.bn.lr",
    "bn-init": "replab.experiments.bn.init",
    "bn-gradients": "replab.experiments.bn.gradients",
    "bn-regularization": "replab.experiments.bn.regularization",
    "norms": "replab.experiments.bn.norms",
    "bn-ics": "replab.experiments.bn.ics",
    "bn-practice": "replab.experiments.bn.practice",
    "bn-smoothness": "replab.experiments.bn.smoothness",
}
"""CLI name -> experiment package, in the order `replab list` and the report show them."""
BN_STUDY: tuple[str, ...] = ("bn-lr", "bn-init", "bn-gradients", "bn-regularization", "norms", "bn-ics",
                             "bn-practice", "bn-smoothness")
"""The Batch Normalization study beyond Figure 1, runnable together as `replab run bn-study`."""
EXPERIMENTS: tuple[str, ...] = tuple(REGISTRY)
GROUPS: dict[str, tuple[str, ...]] = {"all": EXPERIMENTS, "bn-study": BN_STUDY}


def load(name: str) -> ModuleType:
    """The experiment package called `name` on the command line (light: nothing heavy is imported until `run`)."""
    if name not in REGISTRY:
        raise UserError(f"unknown experiment '{name}'; choose from: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(REGISTRY[name])


def config_class(name: str) -> type:
    """The Config of the experiment called `name`."""
    return load(name).Config


def title(name: str) -> str:
    """The TITLE of the experiment called `name`."""
    return load(name).TITLE
