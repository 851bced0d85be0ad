"""Rich display in notebooks: claims, tables and results as HTML, drawn by the report's own rendering, and
matplotlib figures shown inline.

replab draws its figures without pyplot (`matplotlib.figure.Figure`), so the inline backend, which hooks into
pyplot, never learns of them and a fresh kernel shows `<Figure size 900x1680 with 18 Axes>`.
`enable_inline_figures()` registers a PNG formatter for `Figure` in the running IPython shell (unless the user
already chose one, e.g. with `%matplotlib inline` or `%config InlineBackend.figure_formats`); it costs nothing
outside IPython and is called whenever a replab object is displayed.
"""

from __future__ import annotations

import io
import sys
from typing import Any

FIGURE_DPI = 100
"""Resolution of figures shown in a notebook (the report and the run folder keep their own)."""


def enable_inline_figures() -> bool:
    """Make matplotlib Figures display as PNG in the running IPython shell; True if a formatter is in place."""
    ipython = sys.modules.get("IPython")  # never import IPython: outside a notebook this is a no-op
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - a broken IPython install just means no inline figures
        return False
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters or "image/png" not in formatters:
        return False
    from matplotlib.figure import Figure

    for mime in ("image/png", "image/svg+xml", "application/pdf", "image/jpeg"):
        formatter = formatters.get(mime)
        if formatter is not None:
            try:
                formatter.lookup_by_type(Figure)
                return True  # the user (or the inline backend) already decided how figures look
            except KeyError:
                pass
    formatters["image/png"].for_type(Figure, figure_png)
    return True


def figure_png(figure: Any) -> bytes:
    """A Figure as PNG bytes (works for figures built without pyplot: savefig brings its own Agg canvas)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _page(body: str) -> str:
    from replab.html import STYLE

    return f'<div class="replab"><style>{STYLE.replace("body {", ".replab {")}</style>{body}</div>'


def claim_html(claim: dict[str, Any]) -> str:
    from replab.html import render_claim

    enable_inline_figures()
    return _page(f'<ul class="claims">{render_claim(claim)}</ul>')


def table_html(table: dict[str, Any]) -> str:
    from replab.html import render_table

    enable_inline_figures()
    return _page(render_table(table))


def result_html(result: Any) -> str:
    """A Result: its smoke-test mark, claims (findings, then checks), tables and figure names."""
    from replab.html import render_claim, render_table

    enable_inline_figures()
    claims = [claim.to_dict() for claim in result.claims]
    parts = []
    if result.quick:
        parts.append('<p class="smoke">Smoke test (quick config): these verdicts do not stand for a full run.</p>')
    for kind, heading in (("finding", "Findings"), ("check", "Checks")):
        chosen = [c for c in claims if c["kind"] == kind]
        if chosen:
            parts.append(f"<h3>{heading}</h3><ul class=\"claims\">{''.join(render_claim(c) for c in chosen)}</ul>")
    parts += [render_table(table.to_dict()) for table in result.tables]
    if result.figures:
        from html import escape

        captions = getattr(result, "captions", {}) or {}
        items = "".join(f"<li><code>result.figures[{escape(repr(name))}]</code>"
                        + (f" — {escape(str(captions[name]))}" if captions.get(name) else "") + "</li>"
                        for name in result.figures)
        parts.append(f'<h3>Figures</h3><ul class="muted">{items}</ul>')
    return _page("".join(parts))
