"""One self-contained HTML page from the newest complete run of each experiment.

Figures are embedded as base64 PNG; every string that comes from a config or a result is escaped.
"""

from __future__ import annotations

import base64
import json
import os
from html import escape
from pathlib import Path
from typing import Any

from replab.errors import UserError
from replab.experiments import EXPERIMENTS
from replab.runs import RunRecord, latest_run, load_run

REPORT_NAME = "report.html"


def build_report(out: Path) -> Path:
    """Write `out/report.html` from the newest complete run of every experiment found in `out`."""
    out = Path(out)
    records = newest_runs(out)
    if not records:
        raise UserError(f"no complete runs in '{out}'; run `replab run all --out {out}` first")
    target = out / REPORT_NAME
    staging = out / f".{REPORT_NAME}.{os.getpid()}.tmp"
    try:
        staging.write_text(render_report(records), encoding="utf-8")
        os.replace(staging, target)
    except OSError as error:
        staging.unlink(missing_ok=True)
        raise UserError(f"cannot write the report to '{target}': {error.strerror or error}") from None
    return target


def newest_runs(out: Path) -> list[RunRecord]:
    """The newest complete run of each experiment, known experiments first in their usual order."""
    names = list(EXPERIMENTS)
    if out.is_dir():
        names += sorted(child.name for child in out.iterdir()
                        if child.is_dir() and not child.name.startswith(".") and child.name not in names)
    return [load_run(path) for path in (latest_run(out, name) for name in names) if path is not None]


# --- rendering -------------------------------------------------------------------------------------


def render_report(records: list[RunRecord]) -> str:
    body = "\n".join([
        "<header><h1>replab report</h1>",
        "<p>Every claim below was decided by the run that produced it, from its own measurements.</p></header>",
        _render_navigation(records),
        _render_claim_summary(records),
        *(_render_experiment(record) for record in records),
    ])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>replab report</title>
<style>{_STYLE}</style></head>
<body><main>
{body}
</main></body></html>
"""


def _render_navigation(records: list[RunRecord]) -> str:
    links = "".join(f'<a href="#{_anchor(r)}" title="{escape(_title(r))}">{escape(r.name)}</a>' for r in records)
    return f"<nav>{links}</nav>"


def _render_claim_summary(records: list[RunRecord]) -> str:
    rows = []
    for record in records:
        for claim in record.result.get("claims", []):
            rows.append(
                f'<tr><td><a href="#{_anchor(record)}">{escape(record.name)}</a></td>'
                f"<td>{escape(str(claim['statement']))}</td><td>{_verdict_badge(claim['verdict'])}</td></tr>")
    counts = _count_verdicts(records)
    summary = ", ".join(f"{count} {escape(verdict)}" for verdict, count in counts.items())
    return (f'<section id="claims"><h2>All claims</h2><p class="muted">{summary}</p>'
            f"<table><thead><tr><th>experiment</th><th>claim</th><th>verdict</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></section>")


def _count_verdicts(records: list[RunRecord]) -> dict[str, int]:
    counts = {"holds": 0, "fails": 0, "inconclusive": 0}
    for record in records:
        for claim in record.result.get("claims", []):
            counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
    return counts


def _render_experiment(record: RunRecord) -> str:
    result = record.result
    parts = [
        f'<section id="{_anchor(record)}"><h2>{escape(_title(record))}</h2>',
        f'<p class="question">{escape(str(result.get("question", "")))}</p>',
        _render_run_facts(record),
        *(f"<p>{escape(str(note))}</p>" for note in result.get("notes", [])),
        "<h3>Claims</h3>",
        _render_claims(result.get("claims", [])),
        *(_render_figure(record, name) for name in result.get("figures", [])),
        *(_render_table(table) for table in result.get("tables", [])),
        "<details><summary>Configuration</summary>",
        _render_mapping(record.config),
        "</details></section>",
    ]
    return "\n".join(parts)


def _render_run_facts(record: RunRecord) -> str:
    result = record.result
    versions = ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in result.get("versions", {}).items() if v)
    wall = result.get("wall_time_s")
    wall_text = f"{wall:.1f} s" if isinstance(wall, (int, float)) else "?"
    return (f'<p class="muted">run <code>{escape(str(record.path))}</code> · seed {escape(str(result.get("seed")))}'
            f" · {escape(wall_text)} · finished {escape(str(result.get('finished_at', '?')))} · {versions}</p>")


def _render_claims(claims: list[dict[str, Any]]) -> str:
    items = "".join(
        f'<li>{_verdict_badge(claim["verdict"])} <strong>{escape(str(claim["statement"]))}</strong>'
        f' <span class="muted">({escape(str(claim["id"]))})</span><br>{escape(str(claim["evidence"]))}</li>'
        for claim in claims)
    return f'<ul class="claims">{items}</ul>'


def _render_figure(record: RunRecord, name: str) -> str:
    path = record.figure_path(name)
    if not path.is_file():
        return f'<p class="muted">figure {escape(name)} is missing from the run directory</p>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    label = escape(name.replace("_", " "))
    return f'<figure><img src="data:image/png;base64,{data}" alt="{label}"><figcaption>{label}</figcaption></figure>'


def _render_table(table: dict[str, Any]) -> str:
    head = "".join(f"<th>{escape(str(column))}</th>" for column in table.get("columns", []))
    body = "".join("<tr>" + "".join(f"<td>{escape(format_cell(cell))}</td>" for cell in row) + "</tr>"
                   for row in table.get("rows", []))
    caption = table.get("caption", "")
    caption_html = f'<p class="muted">{escape(str(caption))}</p>' if caption else ""
    return (f"<h3>{escape(str(table.get('title', '')))}</h3>{caption_html}"
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def _render_mapping(mapping: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(str(key))}</td><td>{escape(format_cell(value))}</td></tr>"
                   for key, value in mapping.items())
    return f"<table><tbody>{rows}</tbody></table>"


def format_cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _verdict_badge(verdict: str) -> str:
    css = verdict if verdict in ("holds", "fails", "inconclusive") else "unknown"
    return f'<span class="verdict {css}">{escape(str(verdict))}</span>'


def _title(record: RunRecord) -> str:
    return str(record.result.get("title") or record.name)


def _anchor(record: RunRecord) -> str:
    return "exp-" + "".join(ch if ch.isalnum() else "-" for ch in record.name)


_STYLE = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; background: #f6f7f9; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
header h1 { margin-bottom: 0.2rem; }
nav { position: sticky; top: 0; background: #f6f7f9; padding: 0.5rem 0; border-bottom: 1px solid #dde1e7; z-index: 1; }
nav a { margin-right: 1rem; text-decoration: none; color: #2454a6; font-weight: 600; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 1rem 1.5rem; margin: 1.5rem 0; }
.question { font-size: 1.1rem; font-style: italic; }
.muted { color: #5d6778; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #e5e8ed; padding: 0.25rem 0.7rem; text-align: left; vertical-align: top; }
th { background: #f0f2f5; }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #5d6778; font-size: 0.9rem; }
ul.claims { list-style: none; padding-left: 0; }
ul.claims li { margin: 0.6rem 0; }
.verdict { display: inline-block; min-width: 6.5rem; text-align: center; border-radius: 4px; padding: 0 0.4rem;
           font-weight: 700; font-size: 0.85rem; color: #fff; }
.verdict.holds { background: #1f8a4c; } .verdict.fails { background: #c0392b; }
.verdict.inconclusive { background: #b7871f; } .verdict.unknown { background: #777; }
code { font-size: 0.85rem; }
"""
