"""The `replab` command: argument parsing and error reporting only; the science lives in experiments."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter would bury the progress bar

import argparse
import json
import logging
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from replab.errors import UserError
from replab.experiments import EXPERIMENTS, GROUPS, load
from replab.experiments.base import apply_overrides, parse_assignments
from replab.report import build_report
from replab.runs import ensure_writable, load_run, save_run

USER_ERROR_EXIT = 2
INTERRUPTED_EXIT = 130
VERDICT_STYLES = {"holds": "green", "fails": "red", "inconclusive": "yellow"}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one sentence (exit code 2) instead of a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="replab", description="Rerunnable machine-learning experiments whose claims are decided by measurement.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("list", help="list the experiments")

    run = commands.add_parser("run", help="run experiments and save their results")
    run.add_argument("names", nargs="+", metavar="NAME",
                     help=f"experiment names, 'bn-study' (its six studies) or 'all' ({', '.join(EXPERIMENTS)})")
    run.add_argument("--quick", action="store_true", help="use the small configuration (seconds)")
    run.add_argument("--seed", type=int, help="random seed (a non-negative integer)")
    run.add_argument("--set", dest="settings", action="append", default=[], metavar="[NAME.]KEY=VALUE",
                     help="override a configuration value (repeatable; tuples are comma-separated; "
                          "NAME.KEY=VALUE sets it for experiment NAME only)")
    run.add_argument("--out", type=Path, default=Path("runs"), help="output folder (default: ./runs)")

    report = commands.add_parser("report", help="write DIR/report.html from the newest run of each experiment")
    report.add_argument("--out", type=Path, default=Path("runs"), help="runs folder (default: ./runs)")

    show = commands.add_parser("show", help="print a run's config, metrics and claims")
    show.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices are not the user's concern
    console = Console()
    errors = Console(stderr=True)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, console)
    except UserError as error:
        errors.print(f"[bold red]replab: error:[/] {escape(str(error))}", highlight=False, markup=True)
        return USER_ERROR_EXIT
    except KeyboardInterrupt:
        errors.print("replab: interrupted; unfinished runs were discarded.")
        return INTERRUPTED_EXIT


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    table = RichTable("experiment", "what it asks", box=None)
    for name in EXPERIMENTS:
        table.add_row(name, escape(load(name).TITLE))
    console.print(table)
    return 0


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    names = resolve_names(args.names)
    overrides = parse_assignments(args.settings)
    if args.seed is not None:
        overrides["seed"] = str(args.seed)
    plans = [(load(name), make_config(load(name), args.quick, settings_for(name, names, overrides))) for name in names]
    ensure_writable(args.out)
    for module, config in plans:
        run_one(module, config, args.out, console)
    return 0


def resolve_names(names: list[str]) -> list[str]:
    """Experiment names, with groups ('all', 'bn-study') expanded, in order and without repeats."""
    expanded = []
    for name in names:
        if name in GROUPS:
            expanded += GROUPS[name]
        else:
            load(name)  # raises a clear error for an unknown name before anything runs
            expanded.append(name)
    return list(dict.fromkeys(expanded))


def settings_for(name: str, names: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """The --set values for experiment `name`: plain keys apply to every experiment run, `name.key` to that one
    (and win over a plain key)."""
    for key in overrides:
        prefix = key.partition(".")[0] if "." in key else None
        if prefix is not None and prefix not in names:
            raise UserError(f"setting '{key}' is for experiment '{prefix}', which this command does not run "
                            f"(it runs {', '.join(names)})")
    plain = {key: value for key, value in overrides.items() if "." not in key}
    own = {key.partition(".")[2]: value for key, value in overrides.items() if key.partition(".")[0] == name and "." in key}
    return {**plain, **own}


def make_config(module: ModuleType, quick: bool, overrides: dict[str, str]) -> Any:
    config = module.Config.quick() if quick else module.Config()
    return apply_overrides(config, overrides, experiment=module.NAME)


def run_one(module: ModuleType, config: Any, out: Path, console: Console) -> Path:
    started = time.perf_counter()
    with Progress(TextColumn("[bold]{task.fields[experiment]}[/]"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.description}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console, transient=False) as bar:
        task = bar.add_task("starting", total=None, experiment=module.NAME)

        def progress(done: float, total: float, description: str) -> None:
            bar.update(task, completed=done, total=total, description=escape(description))

        result = module.run(config, progress)
        bar.update(task, description="saving")
        path = save_run(out, module.NAME, module.TITLE, module.QUESTION, config, result,
                        wall_time_s=time.perf_counter() - started)
        bar.update(task, description="done")
    print_claims(console, module.NAME, [claim.to_dict() for claim in result.claims])
    console.print(f"saved [bold]{escape(str(path))}[/]")
    return path


def print_claims(console: Console, title: str, claims: list[dict[str, Any]]) -> None:
    table = RichTable("claim", "verdict", "evidence", title=f"{title}: claims", show_lines=True)
    for claim in claims:
        style = VERDICT_STYLES.get(claim["verdict"], "white")
        table.add_row(escape(claim["statement"]), f"[{style}]{escape(claim['verdict'])}[/]", escape(claim["evidence"]))
    console.print(table)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    path = build_report(args.out)
    console.print(f"report written to [bold]{escape(str(path))}[/]")
    return 0


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    if not args.run_dir.is_dir():
        raise UserError(f"run folder '{args.run_dir}' does not exist")
    record = load_run(args.run_dir)
    result = record.result
    console.print(f"[bold]{escape(str(result.get('title', record.name)))}[/]  ({escape(str(record.path))})")
    console.print(f"seed {result.get('seed')} · {result.get('wall_time_s', 0):.1f} s · {result.get('finished_at')}")
    console.rule("config")
    console.print_json(json.dumps(record.config))
    console.rule("metrics")
    console.print_json(json.dumps(result.get("metrics", {})))
    print_claims(console, record.name, result.get("claims", []))
    return 0


COMMANDS = {"list": cmd_list, "run": cmd_run, "report": cmd_report, "show": cmd_show}
