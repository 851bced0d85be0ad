"""TensorFlow's C++ start-up lines (absl, oneDNN, CPU features) kept off the terminal and out of notebooks.

They are written straight to file descriptor 2 while `import tensorflow` runs and at the first operation, so
TF_CPP_MIN_LOG_LEVEL no longer silences them; file descriptor 2 is pointed at /dev/null for exactly that long.
Errors TensorFlow reports later still reach stderr.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    try:
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        sys.stderr.flush()
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        with stderr_silenced():
            self.loader.exec_module(module)
            try:
                module.constant(0.0) + 1.0  # the CPU-feature line appears at the first operation
            except Exception:  # noqa: BLE001 — a broken install surfaces at the user's first real call instead
                pass


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install_hook() -> None:
    """Make the first `import tensorflow`, wherever it happens, a quiet one."""
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
