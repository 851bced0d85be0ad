"""Progress for `run(config, progress=...)` outside the command line: a bar in a notebook, or in a terminal.

    from replab import progress
    from replab.experiments import curves

    result = curves.run(curves.Config.quick(), progress=progress.bar())

`bar()` draws an HTML progress bar that updates in place inside a Jupyter/IPython kernel (no widget library
needed) and a rich progress bar on stderr elsewhere. `auto()` is `bar()` inside a notebook kernel and the silent
default everywhere else. Every object here is a `Progress` callable: `progress(done, total, description)`.
"""

from __future__ import annotations

import html
import sys
import time
from typing import Any

MIN_INTERVAL_S = 0.2
"""A bar redraws at most this often (the last step always draws), so a fast loop does not flood the notebook."""


def in_notebook() -> bool:
    """True inside a Jupyter/IPython *kernel* (a notebook, JupyterLab, VS Code), false in a plain terminal IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - a broken IPython install is simply not a notebook
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def silent(done: float, total: float, description: str) -> None:
    """Report nothing (what `run` does by default outside a notebook)."""


class NotebookBar:
    """An HTML `<progress>` bar in one notebook output, updated in place."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._handle: Any = None
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, done: float, total: float, description: str) -> None:
        now = time.monotonic()
        finished = total > 0 and done >= total
        if self._handle is not None and not finished and now - self._last < MIN_INTERVAL_S:
            return
        self._last = now
        bundle = self._bundle(done, total, description, now - self._started)
        from IPython.display import display

        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def _bundle(self, done: float, total: float, description: str, elapsed: float) -> dict[str, str]:
        total = max(float(total), 0.0)
        done = min(max(float(done), 0.0), total) if total else 0.0
        share = done / total if total else 0.0
        label = f"{self.label}: " if self.label else ""
        text = f"{label}{description} — {share:.0%} · {elapsed:.0f} s"
        markup = (f'<div class="replab-progress" style="font: 13px/1.4 system-ui, sans-serif">'
                  f'<progress value="{done:g}" max="{total or 1:g}" style="width: min(24rem, 60%); '
                  f'vertical-align: middle"></progress> <span>{html.escape(text)}</span></div>')
        return {"text/html": markup, "text/plain": text}


class TerminalBar:
    """A rich progress bar on stderr; it stops by itself when the work is done (or call `close()`)."""

    def __init__(self, label: str = "") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                  TimeElapsedColumn(), console=Console(stderr=True), transient=False)
        self._task: Any = None
        self.label = label

    def __call__(self, done: float, total: float, description: str) -> None:
        text = f"{self.label}: {description}" if self.label else description
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(text, total=max(float(total), 1e-9))
        self._progress.update(self._task, completed=float(done), total=max(float(total), 1e-9), description=text)
        if total > 0 and done >= total:
            self.close()

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()

    def __enter__(self) -> "TerminalBar":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def bar(label: str = ""):
    """A progress bar for one run: updated in place in a notebook kernel, drawn by rich on stderr elsewhere."""
    return NotebookBar(label) if in_notebook() else TerminalBar(label)


def auto(label: str = ""):
    """`bar(label)` inside a notebook kernel, `silent` elsewhere (scripts and tests stay quiet)."""
    return NotebookBar(label) if in_notebook() else silent
