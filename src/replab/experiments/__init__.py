"""The experiments and the one registry that maps CLI names to their modules.

Every module exposes NAME, TITLE, QUESTION, a frozen `Config` (with `Config.quick()` and `Config.from_dict()`)
and `run(config, progress=None) -> Result`, composed of `measure`, `judge` and `present`.
Load one by its CLI name with `load("bn-lr")`, or import it directly, e.g. `from replab.experiments import gates`;
`config_class("bn-lr")` is its Config alone, loaded without TensorFlow.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from replab.errors import UserError
from replab.quiet import install_hook

install_hook()  # TensorFlow's start-up lines stay off the terminal and out of notebooks

MODULES: dict[str, str] = {
    "gates": "replab.experiments.gates",
    "curves": "replab.experiments.curves",
    "regression": "replab.experiments.regression",
    "batchnorm": "replab.experiments.bn.batchnorm",
    "spiral": "replab.experiments.spiral",
    "bn-lr": "replab.experiments.bn.bn_lr",
    "bn-init": "replab.experiments.bn.bn_init",
    "bn-gradients": "replab.experiments.bn.bn_gradients",
    "bn-regularization": "replab.experiments.bn.bn_regularization",
    "norms": "replab.experiments.bn.norms",
    "bn-ics": "replab.experiments.bn.bn_ics",
    "bn-practice": "replab.experiments.bn.bn_practice",
    "bn-smoothness": "replab.experiments.bn.bn_smoothness",
}
"""CLI name -> module, in the order `replab list` and the report show them."""
CONFIGS: dict[str, str] = {
    "gates": "replab.experiments.gates_config",
    "curves": "replab.experiments.curves_config",
    "regression": "replab.experiments.regression_config",
    "batchnorm": "replab.experiments.bn.figure1_config",
    "spiral": "replab.experiments.spiral_config",
    "bn-lr": "replab.experiments.bn.bn_lr_config",
    "bn-init": "replab.experiments.bn.bn_init_config",
    "bn-gradients": "replab.experiments.bn.bn_gradients_config",
    "bn-regularization": "replab.experiments.bn.bn_regularization_config",
    "norms": "replab.experiments.bn.norms_config",
    "bn-ics": "replab.experiments.bn.bn_ics_config",
    "bn-practice": "replab.experiments.bn.bn_practice_config",
    "bn-smoothness": "replab.experiments.bn.bn_smoothness_config",
}
"""CLI name -> the module holding its Config, which imports neither TensorFlow, replab.nn, scikit-learn nor
matplotlib: `replab config NAME` answers without loading the experiment."""
BN_STUDY: tuple[str, ...] = ("bn-lr", "bn-init", "bn-gradients", "bn-regularization", "norms", "bn-ics",
                             "bn-practice", "bn-smoothness")
"""The Batch Normalization study: six experiments, runnable together as `replab run bn-study`."""
EXPERIMENTS: tuple[str, ...] = tuple(MODULES)
GROUPS: dict[str, tuple[str, ...]] = {"all": EXPERIMENTS, "bn-study": BN_STUDY}


def load(name: str) -> ModuleType:
    """The experiment module called `name` on the command line."""
    if name not in MODULES:
        raise UserError(f"unknown experiment '{name}'; choose from: {', '.join(EXPERIMENTS)}")
    try:
        return importlib.import_module(MODULES[name])
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] == "tensorflow":
            raise UserError(f"{name} trains networks with TensorFlow, which is not installed: "
                            f"pip install 'replab[cpu]' (or 'replab[gpu]', or keep your own TensorFlow)") from None
        raise


def config_class(name: str) -> type:
    """The Config of the experiment called `name`, imported without importing the experiment (nor TensorFlow)."""
    if name not in CONFIGS:
        raise UserError(f"unknown experiment '{name}'; choose from: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(CONFIGS[name]).Config


def __getattr__(attribute: str) -> ModuleType:
    """`from replab.experiments import batchnorm, bn_lr` finds every registered module by its Python name."""
    name = attribute.replace("_", "-")
    if name in MODULES:
        return importlib.import_module(MODULES[name])
    raise AttributeError(f"module 'replab.experiments' has no attribute '{attribute}'")


def title(name: str) -> str:
    """An experiment's TITLE, read from its source without importing it (importing would load TensorFlow)."""
    if name not in MODULES:
        raise UserError(f"unknown experiment '{name}'; choose from: {', '.join(EXPERIMENTS)}")
    spec = importlib.util.find_spec(MODULES[name])
    if spec is not None and spec.origin and Path(spec.origin).is_file():
        for node in ast.parse(Path(spec.origin).read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TITLE" for t in node.targets):
                try:
                    return str(ast.literal_eval(node.value))
                except ValueError:
                    break
    return load(name).TITLE
