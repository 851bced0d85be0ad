"""HTML pieces shared by the report page (report.py) and the notebook display (display.py): claims with their
numbers, tables, badges and the page's style. A leaf: it imports nothing from replab but stats' alpha, so both can use
it without importing each other. Every string that comes from a config or a result is escaped here.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from replab import stats

STYLE = """
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
code { font-size: 0.85rem; overflow-wrap: anywhere; }
section, [id^="claim-"] { scroll-margin-top: 3rem; }
.verdict.check { opacity: 0.85; border: 2px dashed rgba(255,255,255,0.6); }
.badge { display: inline-block; border-radius: 4px; padding: 0 0.4rem; font-size: 0.8rem; font-weight: 700; }
.badge.smoke { background: #fde8b0; color: #6b4b00; }
.badge.stable { background: #dff3e6; color: #145c33; }
.badge.unstable { background: #fbdcd8; color: #8a1f14; }
p.smoke { background: #fff5d6; border-left: 4px solid #e0a800; padding: 0.4rem 0.8rem; }
.rule { max-width: 70rem; }
table.tests { font-size: 0.82rem; margin: 0.3rem 0; }
table.tests td { white-space: nowrap; }
.base, .reason, .stability, .evidence { font-size: 0.88rem; margin-top: 0.2rem; }
.evidence { color: #3b4453; }
.stability { font-weight: 600; }
.close { font-size: 0.88rem; margin-top: 0.2rem; color: #8a5a00; font-weight: 600; }
details { margin: 0.8rem 0; }
summary { cursor: pointer; color: #2454a6; font-weight: 600; }
ul.facts { font-size: 0.88rem; padding-left: 1.2rem; overflow-wrap: anywhere; }
h2, h3, li, p { overflow-wrap: break-word; }
@media (max-width: 600px) { main { padding: 0.5rem; } section { padding: 0.6rem 0.7rem; margin: 1rem 0; }
  h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; }
  .verdict { min-width: 0; } th, td { padding: 0.2rem 0.35rem; }
  nav { display: flex; flex-wrap: wrap; gap: 0 0.8rem; } nav a { margin-right: 0; }
  table.summary thead { display: none; }
  table.summary, table.summary tbody { display: block; }
  table.summary tr { display: grid; grid-template-columns: 1fr auto; column-gap: 0.5rem;
                     border-bottom: 1px solid #e5e8ed; padding: 0.35rem 0; }
  table.summary td { border: 0; padding: 0; }
  table.summary td:nth-child(1) { grid-row: 1; grid-column: 1; font-size: 0.85rem; }
  table.summary td:nth-child(3) { grid-row: 1; grid-column: 2; text-align: right; }
  table.summary td:nth-child(2) { grid-row: 2; grid-column: 1 / -1; } }
"""


def render_claim(claim: dict[str, Any], anchor: str = "") -> str:
    """One claim as an HTML list item: verdict, statement, numbers, evidence base, stability, evidence."""
    kind = claim.get("kind", "finding")
    base = claim.get("base_text") or ""
    anchor_attr = f' id="{escape(anchor)}"' if anchor else ""
    return (f'<li{anchor_attr}>{verdict_badge(claim["verdict"], kind)}{stability_badge(claim)} '
            f'<strong>{escape(str(claim["statement"]))}</strong> <span class="muted">({escape(str(claim["id"]))})</span>'
            + (f'<div class="muted">effect: {escape(str(claim["effect"]))}</div>' if claim.get("effect") else "")
            + tests_html(claim)
            + (f'<div class="base">evidence base: {escape(str(base))}</div>' if base else "")
            + (f'<div class="reason">why inconclusive: {escape(str(claim["reason"]))}</div>' if claim.get("reason") else "")
            + close_call_html(claim)
            + stability_html(claim)
            + f'<div class="evidence">{escape(str(claim["evidence"]))}</div></li>')


def verdict_badge(verdict: str, kind: str = "finding") -> str:
    css = verdict if verdict in ("holds", "fails", "inconclusive") else "unknown"
    text = f"check {verdict}" if kind == "check" else str(verdict)
    return f'<span class="verdict {css}{" check" if kind == "check" else ""}">{escape(text)}</span>'


def stability_badge(claim: dict[str, Any]) -> str:
    stability = claim.get("stability")
    if not isinstance(stability, dict):
        return ""
    n = len(stability.get("verdicts", []))
    if stability.get("stable"):
        return f' <span class="badge stable">stable {n}/{n}</span>'
    agree = round(float(stability.get("agreement", 0)) * n)
    return f' <span class="badge unstable">unstable {agree}/{n}</span>'


def tests_html(claim: dict[str, Any]) -> str:
    tests = [t for t in (claim.get("tests") or []) if isinstance(t, dict)]
    if not tests:
        return ""
    equal = claim.get("direction") == "equal"
    head = "".join(f"<th>{h}</th>" for h in ("", "effect", "95% CI", "p", "p adj.", "n", "test", "margin", "verdict"))
    rows = []
    for t in tests:
        raw = t.get("p_equivalent") if equal else two_sided_p(t)
        adjusted = t.get("p_equivalent_adjusted") if equal else t.get("p_adjusted")
        cells = [t.get("label"), number_text(t.get("effect")), f"[{number_text(t.get('ci_low'))}, {number_text(t.get('ci_high'))}]",
                 p_text(raw), p_text(adjusted), t.get("n"), t.get("note") or t.get("method"),
                 f"±{number_text(t.get('margin'))}" if isinstance(t.get("margin"), (int, float)) else "–", t.get("verdict") or ""]
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    return (f'<div class="scroll"><table class="tests"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def two_sided_p(test: dict[str, Any]) -> float | None:
    greater, less = test.get("p_greater"), test.get("p_less")
    if not isinstance(greater, (int, float)) or not isinstance(less, (int, float)):
        return None
    return min(1.0, 2 * min(greater, less))


def close_call_html(claim: dict[str, Any]) -> str:
    if not claim.get("close_call"):
        return ""
    return (f'<div class="close">close call: the deciding adjusted p-value is {escape(p_text(claim.get("deciding_p")))} '
            f"against {stats.ALPHA:g}; another seed set may well decide it the other way (try --replicate)</div>")


def stability_html(claim: dict[str, Any]) -> str:
    stability = claim.get("stability")
    if not isinstance(stability, dict):
        return ""
    verdicts = [str(v) for v in stability.get("verdicts", [])]
    seeds = [str(s) for s in stability.get("seeds", [])]
    label = "stable" if stability.get("stable") else "UNSTABLE: the verdict changes between seed sets"
    pairs = ", ".join(f"seed {s}: {v}" for s, v in zip(seeds, verdicts))
    return f'<div class="stability">{escape(label)} ({escape(pairs)})</div>'


def render_table(table: dict[str, Any]) -> str:
    head = "".join(f"<th>{escape(str(column))}</th>" for column in table.get("columns", []))
    body = "".join("<tr>" + "".join(f"<td>{escape(format_cell(cell))}</td>" for cell in row) + "</tr>"
                   for row in table.get("rows", []))
    caption = table.get("caption", "")
    caption_html = f'<p class="muted">{escape(str(caption))}</p>' if caption else ""
    return (f"<h3>{escape(str(table.get('title', '')))}</h3>{caption_html}"
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def render_mapping(mapping: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(str(key))}</td><td>{escape(format_cell(value))}</td></tr>"
                   for key, value in mapping.items())
    return f'<div class="scroll"><table><tbody>{rows}</tbody></table></div>'


def format_cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def number_text(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "–"
    return f"{value:.4g}"


def p_text(value: Any) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    return f"{value:.2g}" if value >= 1e-4 else "<1e-4"
