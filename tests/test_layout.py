"""The layout the code keeps: data → nn → experiments → runs → report → cli, no import circle, one package per
experiment with a light `__init__.py`, and every name imported from the module that defines it."""

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from replab.experiments import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
HEAVY = ("tensorflow", "sklearn", "matplotlib")

LEVELS = {"data": 1, "nn": 2, "experiments": 3, "runs": 4, "replication": 4, "figures": 4, "tensorboard": 4,
          "report": 5, "jobs": 6, "cli": 6, "__main__": 7}
"""Each top-level part of replab and its level: a module imports only from its own level or below. What is not listed
(errors, seeds, quiet, budget, stats, claims, html, display, progress, settings, cluster) is level 0, shared by all."""


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / "replab").rglob("*.py"))}


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def imports_of(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every replab import in the file, at any depth (lazy imports count too)."""
    found = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "replab":
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "replab"]
    return found


def imported_modules(path: Path) -> set[str]:
    known = modules()
    return {f"{module}.{name}" if f"{module}.{name}" in known else module for module, name in imports_of(path)} & set(known)


def level(module: str) -> int:
    parts = module.split(".")
    return LEVELS.get(parts[1], 0) if len(parts) > 1 else 0


def defined_names(path: Path) -> set[str]:
    names = set()
    for node in tree(path).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def namespace(path: Path) -> set[str]:
    """The names a module binds at its top level: defined there or imported."""
    imported = {(alias.asname or alias.name).split(".")[0] for node in tree(path).body
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    return defined_names(path) | imported


def test_no_import_circle():
    graph = {name: imported_modules(path) - {name} for name, path in modules().items()}
    visiting, done = set(), set()

    def visit(name, trail):
        if name in done:
            return
        assert name not in visiting, "import circle: " + " -> ".join(trail[trail.index(name):] + [name])
        visiting.add(name)
        for other in sorted(graph[name]):
            visit(other, trail + [name])
        visiting.discard(name)
        done.add(name)

    for name in graph:
        visit(name, [])


def test_nothing_imports_from_a_layer_above_it():
    upward = [f"{name} (level {level(name)}) imports {other} (level {level(other)})"
              for name, path in modules().items() for other in imported_modules(path) if level(other) > level(name)]
    assert upward == []


def test_every_name_is_imported_from_the_module_that_defines_it():
    """No re-export façades: `from M import x` needs x defined in M or a submodule M.x, in src and tests alike. An
    experiment package's own Config is the one name its light __init__ imports for its users."""
    known = modules()
    files = sorted((SRC / "replab").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    borrowed = []
    for path in files:
        for module, name in imports_of(path):
            if name is None or module not in known or f"{module}.{name}" in known:
                continue
            if name == "Config" and module in REGISTRY.values():
                continue
            if name not in defined_names(known[module]):
                borrowed.append(f"{path.relative_to(ROOT)}: from {module} import {name}")
    assert borrowed == []


def test_every_attribute_read_from_a_replab_module_is_defined_there():
    """`from replab.experiments.bn import study` ... `study.QUICK` needs QUICK in study's namespace: defined there, or
    imported there for a test to patch (`monkeypatch.setattr(sources, "shutil", ...)`). Moving a name out of a module
    must not leave a reader of `module.name` behind."""
    known = modules()
    files = sorted((SRC / "replab").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py")) + \
        sorted((ROOT / "benchmarks").rglob("*.py"))
    missing = []
    for path in files:
        bound = {}
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module in known:
                bound |= {alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names
                          if f"{node.module}.{alias.name}" in known}
            elif isinstance(node, ast.Import):
                bound |= {alias.asname: alias.name for alias in node.names if alias.asname and alias.name in known}
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
                module = bound[node.value.id]
                if node.attr in namespace(known[module]) or f"{module}.{node.attr}" in known:
                    continue
                if module in REGISTRY.values() and node.attr == "Config" or node.attr.startswith("__"):
                    continue
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert missing == []


@pytest.mark.parametrize("name", list(REGISTRY))
def test_an_experiment_is_a_package_with_a_light_init_and_one_file_per_role(name):
    package = REGISTRY[name]
    init = modules()[package]
    assert init.name == "__init__.py", f"{name} must be a package"
    defined = defined_names(init) - {"__all__"}
    assert defined == {"NAME", "TITLE", "QUESTION", "run"}, defined
    imported = {alias.name for node in tree(init).body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert imported <= {"annotations", "runner", "Config"}
    for role in ("config", "measure", "judge", "present"):
        role_path = init.parent / f"{role}.py"
        assert role_path.is_file(), f"{name} has no {role}.py"
        if role != "config":
            assert role in defined_names(role_path), f"{name}'s {role}.py does not define {role}()"


def test_importing_every_experiment_and_its_config_loads_no_heavy_library():
    script = (
        "import json, sys\n"
        "from replab.experiments import REGISTRY, load\n"
        "titles = {name: (load(name).TITLE, load(name).Config().quick) for name in REGISTRY}\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == []
