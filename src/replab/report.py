"""One self-contained HTML page from the newest complete run of each experiment.

The newest *full* run of each experiment is shown; a quick run (a smoke test) only when no full run exists, and
then under a smoke-test badge. Findings and checks are listed apart; each claim shows its numbers (effect, 95% CI,
p raw and adjusted, n, test, margin), its evidence base and, after `--replicate`, its stability.
Each experiment's section reads: the question, the claims with their numbers, the figures with sentence
captions (each linked to its SVG), the tables, then the notes, run details (with the TensorBoard logs folder) and
configuration folded. Figures are embedded as PNG, recompressed to a 256-colour palette (about 4x smaller, no
visible change on plots) and decoded lazily; the page fits a 400 px screen. Every string that comes from a config
or a result is escaped; a run folder that is not a valid run is skipped with a warning naming it.
"""

from __future__ import annotations

import base64
import io
import os
from html import escape
from pathlib import Path
from typing import Any, Callable

from replab import stats
from replab.errors import UserError
from replab.experiments import EXPERIMENTS
from replab.html import STYLE, render_claim, render_mapping, render_table, stability_badge, verdict_badge
from replab.runs import RunRecord, complete_runs, load_run

REPORT_NAME = "report.html"


def build_report(out: Path, warn: Callable[[str], None] = lambda message: None) -> Path:
    """Write `out/report.html` from the newest complete run of every experiment found in `out`;
    `warn` hears of every run folder skipped because it is not a valid run."""
    out = Path(out)
    records = newest_runs(out, warn)
    if not records:
        raise UserError(f"no complete runs in '{out}'; run `replab run all --out {out}` first")
    target = out / REPORT_NAME
    staging = out / f".{REPORT_NAME}.{os.getpid()}.tmp"
    hidden = newer_quick_runs(out, records)
    try:
        staging.write_text(render_report(records, base=out, hidden=hidden), encoding="utf-8")
        os.replace(staging, target)
    except OSError as error:
        staging.unlink(missing_ok=True)
        raise UserError(f"cannot write the report to '{target}': {error.strerror or error}") from None
    return target


def newest_runs(out: Path, warn: Callable[[str], None] = lambda message: None) -> list[RunRecord]:
    """Per experiment, the newest valid full run (else the newest valid quick run), known experiments first."""
    names = list(EXPERIMENTS)
    if out.is_dir():
        names += sorted(child.name for child in out.iterdir()
                        if child.is_dir() and not child.name.startswith(".") and child.name not in names)
    chosen = []
    for name in names:
        valid = []
        for path in complete_runs(out, name):
            try:
                valid.append(load_run(path))
            except UserError as error:
                warn(f"skipped {path}: {error}")
        full = [record for record in valid if not record.result.get("quick")]
        if full or valid:
            chosen.append((full or valid)[-1])
    return chosen


def newer_quick_runs(out: Path, records: list[RunRecord]) -> dict[str, list[Path]]:
    """Per experiment shown from a full run, the quick runs made after it (named on the page, never shown)."""
    hidden: dict[str, list[Path]] = {}
    for record in records:
        if record.result.get("quick"):
            continue
        later = [path for path in complete_runs(out, record.name) if path.name > record.path.name]
        if later:
            hidden[record.name] = later
    return hidden


# --- rendering -------------------------------------------------------------------------------------


def render_report(records: list[RunRecord], base: Path | None = None,
                  hidden: dict[str, list[Path]] | None = None) -> str:
    """The page for `records`; links to run files are relative to `base` (the report's folder) when given."""
    base = Path(base).resolve() if base is not None else None
    hidden = hidden or {}
    body = "\n".join([
        "<header><h1>replab report</h1>",
        "<p>Every verdict below was decided by the run that produced it, from its own measurements.</p>",
        f'<p class="muted rule">{escape(stats.rule_sentence())}</p></header>',
        _render_navigation(records),
        _render_claim_summary(records),
        *(_render_experiment(record, hidden.get(record.name, []), base) for record in records),
    ])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>replab report</title>
<style>{STYLE}</style></head>
<body><main>
{body}
</main></body></html>
"""


def _render_navigation(records: list[RunRecord]) -> str:
    links = "".join(f'<a href="#{_anchor(r)}" title="{escape(_title(r))}">{escape(r.name)}</a>' for r in records)
    return f"<nav>{links}</nav>"


def _claims_of(record: RunRecord, kind: str) -> list[dict[str, Any]]:
    return [claim for claim in record.result.get("claims", []) if claim.get("kind", "finding") == kind]


def _render_claim_summary(records: list[RunRecord]) -> str:
    parts = ['<section id="claims"><h2>All claims</h2>']
    for kind, heading in (("finding", "Findings"), ("check", "Checks (true by construction or by a theorem)")):
        rows = []
        for record in records:
            for claim in _claims_of(record, kind):
                rows.append(
                    f'<tr><td><a href="#{_anchor(record)}">{escape(record.name)}</a>{_quick_badge(record)}</td>'
                    f'<td><a href="#{_claim_anchor(record, claim)}">{escape(str(claim["statement"]))}</a></td>'
                    f"<td>{verdict_badge(claim['verdict'], kind)}{stability_badge(claim)}</td></tr>")
        if not rows:
            continue
        counts = _count_verdicts(records, kind)
        summary = ", ".join(f"{count} {escape(verdict)}" for verdict, count in counts.items())
        parts.append(f'<h3>{heading}</h3><p class="muted">{summary}</p><div class="scroll"><table class="summary">'
                     f"<thead><tr><th>experiment</th><th>claim</th><th>verdict</th></tr></thead>"
                     f"<tbody>{''.join(rows)}</tbody></table></div>")
    parts.append("</section>")
    return "".join(parts)


def _count_verdicts(records: list[RunRecord], kind: str = "finding") -> dict[str, int]:
    counts = {"holds": 0, "fails": 0, "inconclusive": 0}
    for record in records:
        for claim in _claims_of(record, kind):
            counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
    return counts


def _render_experiment(record: RunRecord, hidden: list[Path] = (), base: Path | None = None) -> str:
    result = record.result
    captions = result.get("captions") or {}
    notes = result.get("notes", [])
    parts = [
        f'<section id="{_anchor(record)}"><h2>{escape(_title(record))}{_quick_badge(record)}</h2>',
        f'<p class="question">{escape(str(result.get("question", "")))}</p>',
        _render_run_facts(record),
        *([f'<p class="smoke">This is a smoke test (--quick): a tiny configuration whose verdicts do not stand for '
           f"a full run. Run <code>replab run {escape(record.name)}</code> for the real answer.</p>"]
          if result.get("quick") else []),
        *([f'<p class="muted">Shown: the newest full run. {len(hidden)} newer smoke-test run'
           f'{"s are" if len(hidden) > 1 else " is"} not shown (newest: <code>{escape(hidden[-1].name)}</code>).</p>']
          if hidden else []),
        "<h3>Findings</h3>" if _claims_of(record, "finding") else "",
        _render_claims(record, _claims_of(record, "finding")),
        "<h3>Checks</h3>" if _claims_of(record, "check") else "",
        _render_claims(record, _claims_of(record, "check")),
        *(_render_figure(record, name, captions.get(name), base) for name in result.get("figures", [])),
        *(render_table(table) for table in result.get("tables", [])),
        (f"<details><summary>Notes ({len(notes)})</summary>"
         + "".join(f"<p>{escape(str(note))}</p>" for note in notes) + "</details>") if notes else "",
        _render_run_details(record, base),
        "<details><summary>Configuration</summary>",
        render_mapping(record.config),
        "</details></section>",
    ]
    return "\n".join(parts)


def _render_run_facts(record: RunRecord) -> str:
    result = record.result
    wall = result.get("wall_time_s")
    wall_text = f"{wall:.1f} s" if isinstance(wall, (int, float)) else "?"
    profile = result.get("profile")
    return (f'<p class="muted">seed {escape(str(result.get("seed")))} · {escape(wall_text)}'
            + (f" · profile {escape(str(profile))}" if profile and profile != "default" else "")
            + f" · finished {escape(str(result.get('finished_at', '?')))}</p>")


def _render_run_details(record: RunRecord, base: Path | None = None) -> str:
    """Where the run lives, how it was started, its software, and its TensorBoard logs."""
    result = record.result
    versions = result.get("versions") if isinstance(result.get("versions"), dict) else {}
    versions_text = ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in versions.items() if v)
    command = result.get("command")
    revision = result.get("git_revision")
    logs = record.path / "tensorboard"
    rows = [f"<li>folder: <code>{escape(str(record.path))}</code></li>"]
    if isinstance(command, list) and command:
        rows.append(f"<li>command: <code>{escape(' '.join(map(str, command)))}</code></li>")
    if revision:
        rows.append(f"<li>git revision: <code>{escape(str(revision))}</code></li>")
    if versions_text:
        rows.append(f"<li>software: {versions_text}</li>")
    rows.append(f'<li>rerun: <code>replab rerun {escape(str(record.path))}</code></li>')
    if logs.is_dir():
        rows.append(f'<li><a class="logs" href="{escape(_href(logs, base))}">TensorBoard logs</a>: '
                    f"<code>tensorboard --logdir {escape(str(logs))}</code></li>")
    summary = "Run details" + (" and TensorBoard logs" if logs.is_dir() else "")
    return f'<details><summary>{summary}</summary><ul class="facts">{"".join(rows)}</ul></details>'


def _href(path: Path, base: Path | None = None) -> str:
    """A link to a file of a run: relative to the report's folder `base` (so the folder can be moved or served),
    else a file URI."""
    if base is not None:
        try:
            return Path(os.path.relpath(path.resolve(), base)).as_posix()
        except ValueError:  # another drive on Windows
            pass
    return path.resolve().as_uri()


def _render_claims(record: RunRecord, claims: list[dict[str, Any]]) -> str:
    if not claims:
        return ""
    items = "".join(render_claim(claim, _claim_anchor(record, claim)) for claim in claims)
    return f'<ul class="claims">{items}</ul>'


def _quick_badge(record: RunRecord) -> str:
    return ' <span class="badge smoke">smoke test</span>' if record.result.get("quick") else ""


def _render_figure(record: RunRecord, name: str, caption: str | None = None, base: Path | None = None) -> str:
    path = record.figure_path(name)
    if not path.is_file():
        return f'<p class="muted">figure {escape(name)} is missing from the run directory</p>'
    png = compress_png(path.read_bytes())
    data = base64.b64encode(png).decode("ascii")
    label = escape(str(caption) if caption else name.replace("_", " "))
    size = png_size(png)
    size_attrs = f' width="{size[0]}" height="{size[1]}"' if size else ""
    svg = record.figure_path(name, "svg")
    svg_link = f' <a class="svg" href="{escape(_href(svg, base))}">SVG</a>' if svg.is_file() else ""
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{label}"{size_attrs} loading="lazy" '
            f'decoding="async"><figcaption>{label}{svg_link}</figcaption></figure>')


def compress_png(data: bytes) -> bytes:
    """A plot's PNG as a 256-colour palette PNG (about 4x smaller, no visible change on line and area plots);
    the original when Pillow cannot read it or the palette would not be smaller."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        palette = flat.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                               dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        palette.save(buffer, format="PNG", optimize=True)
    except Exception:  # noqa: BLE001 - an unreadable PNG is embedded as it is
        return data
    smaller = buffer.getvalue()
    return smaller if len(smaller) < len(data) else data


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, or None if it is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _title(record: RunRecord) -> str:
    return str(record.result.get("title") or record.name)


def _anchor(record: RunRecord) -> str:
    return "exp-" + _slug(record.name)


def _claim_anchor(record: RunRecord, claim: dict[str, Any]) -> str:
    return f"claim-{_slug(record.name)}-{_slug(str(claim.get('id', '')))}"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text)


