"""A run's figures saved as PNG and SVG, each written whole (a crash never leaves half a figure), drawn once per save
where matplotlib would lay a figure out twice."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

FIGURE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
"""A figure's name: a plain file name (it becomes NAME.png and NAME.svg in the run folder)."""


def write_figures(folder: Path, figures: dict[str, Any]) -> list[str]:
    folder.mkdir()
    for figure_name, figure in figures.items():
        if not FIGURE_NAME.match(figure_name):
            raise ValueError(f"figure name {figure_name!r} is not a plain file name")
        save_png_and_svg(figure, folder / figure_name)
    return list(figures)


def save_png_and_svg(figure: Any, stem: Path) -> None:
    """The figure as stem.png and stem.svg, drawn once for each and laid out at most once.

    A figure with a layout engine that places it (constrained layout) is placed while the PNG is drawn and fills its
    canvas, so it needs no tight bounding box; that layout is kept for the SVG. A figure whose engine does nothing
    (PlaceHolderLayoutEngine: laid out when it was built, e.g. with fixed margins) is saved as it is. A figure without
    one (laid out by tight_layout() when it was built) is cut to its tight bounding box, measured once for both files.
    Matplotlib draws a figure that has any layout engine twice per savefig, once to lay it out, so the engine is
    lifted wherever it has nothing left to do; and bbox_inches="tight" would draw it twice more.
    """
    import matplotlib  # imported here: only runs with figures need it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    if not hasattr(figure.canvas, "get_renderer"):  # a Figure() made without pyplot has a canvas that cannot draw
        FigureCanvasAgg(figure)
    engine = figure.get_layout_engine()
    bbox = None
    if engine is None:
        bbox = figure.get_tightbbox(figure.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    laid_out_already = isinstance(engine, PlaceHolderLayoutEngine)
    with without_layout_engine(figure) if laid_out_already else contextlib.nullcontext():
        figure.savefig(stem.with_name(stem.name + ".png"), dpi=110, bbox_inches=bbox)
    with without_layout_engine(figure):
        figure.savefig(stem.with_name(stem.name + ".svg"), dpi=110, bbox_inches=bbox)


@contextlib.contextmanager
def without_layout_engine(figure: Any):
    """The figure with no layout engine at all (set_layout_engine("none") would leave a placeholder that still
    costs a draw per save), restored afterwards."""
    import matplotlib

    engine = figure.get_layout_engine()
    if engine is None:
        yield
        return
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        figure.set_layout_engine(None)
    try:
        yield
    finally:
        figure.set_layout_engine(engine)
