"""Rich display in notebooks: claims, tables and results as HTML, drawn by the report's own rendering."""

from __future__ import annotations

from typing import Any

from replab.report import _STYLE, render_claim, render_table


def _page(body: str) -> str:
    return f'<div class="replab"><style>{_STYLE.replace("body {", ".replab {")}</style>{body}</div>'


def claim_html(claim: dict[str, Any]) -> str:
    return _page(f'<ul class="claims">{render_claim(claim)}</ul>')


def table_html(table: dict[str, Any]) -> str:
    return _page(render_table(table))


def result_html(result: Any) -> str:
    """A Result: its smoke-test mark, claims (findings, then checks), tables and figure names."""
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
        names = ", ".join(result.figures)
        parts.append(f'<p class="muted">figures: {names} (display one with <code>result.figures["name"]</code>)</p>')
    return _page("".join(parts))
