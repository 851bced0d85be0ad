"""The `replab` command: argument parsing and error reporting only; the science lives in experiments."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter would bury the progress bar

import argparse
import contextlib
import errno
import json
import logging
import math
import re
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from replab import __version__, jobs, stats
from replab.claims import count_dicts
from replab.errors import UserError
from replab.experiments import EXPERIMENTS, GROUPS, config_class, load, title
from replab.quiet import install_hook
from replab.replication import MAX_REPLICATES, replicate
from replab.report import build_report
from replab.runs import command_line, ensure_run_folder, latest_run, load_run, save_run
from replab.settings import apply_overrides, parse_assignments

USER_ERROR_EXIT = 2
INTERRUPTED_EXIT = 130
VERDICT_STYLES = {"holds": "green", "fails": "red", "inconclusive": "yellow"}
QUICK_BANNER = "smoke test (--quick): these verdicts come from a tiny configuration and never stand for a full run"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape(text: str) -> str:
    """Text from a result.json or a user, safe for the terminal: control sequences stripped, rich markup escaped."""
    return _escape_markup(_CONTROL.sub("", str(text)))


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one sentence (exit code 2) instead of a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="replab", description="Rerunnable machine-learning experiments whose claims are decided by measurement.")
    parser.add_argument("--version", action="version", version=f"replab {__version__}")
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
    run.add_argument("--profile", default="default", metavar="NAME",
                     help="start from a named larger configuration, e.g. 'paper' (see `replab config NAME`)")
    run.add_argument("--replicate", type=int, default=1, metavar="N",
                     help=f"also run N−1 further independent seed sets and record each claim's stability "
                          f"(1–{MAX_REPLICATES}; default 1)")
    run.add_argument("--out", type=out_folder, default=Path("runs"), help="output folder (default: ./runs)")
    run.add_argument("--cluster", metavar="HOST:PORT", default=None,
                     help="run the independent units (seed sets of --replicate, spiral waves) on the Ray cluster "
                          "whose head is at HOST:PORT (default: $RAY_ADDRESS if set, else here; needs "
                          "'replab[cluster]')")
    run.add_argument("--jobs", type=int, default=1, metavar="N",
                     help="run N of the experiments at a time, each in its own process (1 to the number of cores; "
                          "default 1): the same numbers, sooner on a machine one experiment leaves partly idle")

    report = commands.add_parser("report", help="write DIR/report.html from the newest run of each experiment")
    report.add_argument("--out", type=out_folder, default=Path("runs"), help="runs folder (default: ./runs)")

    show = commands.add_parser("show", help="print a run's config, metrics and claims")
    show.add_argument("run_dir", type=Path, metavar="RUN_DIR")

    rerun = commands.add_parser("rerun", help="run a saved run's config.json again and say whether the numbers match")
    rerun.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    rerun.add_argument("--out", type=out_folder, default=Path("runs"), help="output folder (default: ./runs)")

    data = commands.add_parser("data", help="list every dataset: where it was found, its size and checksum")
    data_commands = data.add_subparsers(dest="data_command", parser_class=_Parser)
    fetch = data_commands.add_parser("fetch", help="get a dataset (fashion-mnist: Debian's dataset-fashion-mnist)")
    fetch.add_argument("dataset", metavar="NAME", help="fashion-mnist")

    runs = commands.add_parser("runs", help="list past runs with their verdict counts")
    runs.add_argument("--out", type=out_folder, default=Path("runs"), help="runs folder (default: ./runs)")

    config = commands.add_parser("config", help="list an experiment's settings: type, default, quick value, meaning")
    config.add_argument("name", metavar="NAME", help=f"an experiment ({', '.join(EXPERIMENTS)})")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices are not the user's concern
    console = Console()
    errors = Console(stderr=True, soft_wrap=True)  # an error is one sentence on one line, whatever the width
    try:
        with sigterm_as_interrupt():
            args = build_parser().parse_args(argv)
            return COMMANDS[args.command](args, console)
    except BrokenPipeError:
        return quiet_exit_after_broken_pipe()
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
            raise
        try:
            errors.print(f"replab: error: could not write the output: {escape(error.strerror or str(error))}",
                         highlight=False)
        except OSError:
            pass
        return USER_ERROR_EXIT
    except UserError as error:
        errors.print(f"[bold red]replab: error:[/] {escape(' '.join(str(error).split()))}", highlight=False,
                     markup=True)
        return USER_ERROR_EXIT
    except KeyboardInterrupt:
        errors.print("replab: interrupted; unfinished runs were discarded.")
        return INTERRUPTED_EXIT


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM stops a run the way Ctrl-C does: unfinished runs are discarded, nothing complete is touched."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. inside a notebook worker): leave SIGTERM alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def quiet_exit_after_broken_pipe() -> int:
    """`replab show … | head`: the reader went away; stop without a traceback."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 1


def out_folder(text: str) -> Path:
    """--out's type: a non-empty folder name."""
    if not text.strip():
        raise UserError("--out needs a folder name; got an empty one")
    if len(text) > 4096 or "\0" in text:
        raise UserError("--out is not a usable folder name (too long, or it holds a NUL character)")
    return Path(text).expanduser()


def check_out(out: Path) -> Path:
    try:
        Path.cwd()
    except FileNotFoundError:
        if not out.is_absolute():
            raise UserError("the current folder no longer exists; cd to a folder that does, or pass an absolute --out") from None
    return out


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    table = RichTable("experiment", "what it asks", box=None)
    for name in EXPERIMENTS:
        table.add_row(name, escape(title(name)))
    console.print(table)
    return 0


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    names = resolve_names(args.names)
    overrides = parse_assignments(args.settings)
    if args.seed is not None:
        overrides["seed"] = str(args.seed)
    check_out(args.out)
    if not 1 <= args.replicate <= MAX_REPLICATES:
        raise UserError(f"--replicate must be an integer from 1 to {MAX_REPLICATES}, got {args.replicate}")
    jobs.check_jobs(args.jobs)
    install_hook()  # TensorFlow, if an experiment imports it, starts quietly
    plans = [(load(name), make_config(load(name), args.quick, settings_for(name, names, overrides), args.profile))
             for name in names]
    known_profiles = {p for module, _ in plans for p in getattr(module.Config, "PROFILES", {})}
    if args.profile != "default" and args.profile not in known_profiles:
        raise UserError(f"no experiment run here has a profile '{args.profile}'"
                        + (f"; profiles: {', '.join(sorted(known_profiles))}" if known_profiles else ""))
    for module, _ in plans:
        ensure_run_folder(args.out, module.NAME)
    started = time.perf_counter()
    if args.jobs > 1 and len(plans) > 1:
        status = jobs.run_children([child_run(module, names, overrides, args) for module, _ in plans], args.jobs,
                                   console)
        if status:
            return status
        saved = [latest_run(args.out, module.NAME) for module, _ in plans]
    else:
        with on_cluster(args.cluster, console):
            saved = [run_one(module, config, args.out, console, args.replicate) for module, config in plans]
    if len(saved) > 1:
        print_summary(console, saved, time.perf_counter() - started, args.out)
    return 0


def child_run(module: ModuleType, names: list[str], overrides: dict[str, str], args: argparse.Namespace) -> jobs.Child:
    """`replab run` of one experiment with what this command resolved for it (a group's experiment without the
    profile runs its defaults, as it does here)."""
    has_profile = args.profile != "default" and args.profile in getattr(module.Config, "PROFILES", {})
    return jobs.Child(module.NAME, jobs.child_argv(module.NAME, settings_for(module.NAME, names, overrides),
                                                   out=args.out, quick=args.quick,
                                                   profile=args.profile if has_profile else None,
                                                   replicate=args.replicate, cluster=args.cluster))


@contextlib.contextmanager
def on_cluster(option: str | None, console: Console):
    """`--cluster HOST:PORT` (or $RAY_ADDRESS): the run's units go to that Ray cluster; otherwise everything runs
    here and Ray is never imported."""
    from replab import cluster

    address = cluster.address_from(option)
    if address is None:
        yield None
        return
    with cluster.use_cluster(address) as executor:
        nodes = executor.node_names()
        console.print(f"cluster: Ray at {escape(address)}, {len(nodes)} node{'s' if len(nodes) != 1 else ''}: "
                      f"{escape(', '.join(nodes))}", highlight=False)
        yield executor


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


def make_config(module: ModuleType, quick: bool, overrides: dict[str, str], profile: str = "default") -> Any:
    if quick and profile != "default":
        raise UserError("--quick and --profile cannot be combined: --quick is the smallest configuration")
    if quick:
        config = module.Config.quick()
    elif profile == "default" or profile in getattr(module.Config, "PROFILES", {}):
        config = module.Config.from_profile(profile)
    else:
        config = module.Config()  # an experiment without this profile runs its defaults (a group's other members)
    return apply_overrides(config, overrides, experiment=module.NAME)


def run_one(module: ModuleType, config: Any, out: Path, console: Console, replicates: int = 1) -> Path:
    started = time.perf_counter()
    if getattr(config, "quick", False):
        console.print(f"[bold yellow]{module.NAME}: {QUICK_BANNER}[/]")
    with Progress(TextColumn("[bold]{task.fields[experiment]}[/]"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.description}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console, transient=False) as bar:
        task = bar.add_task("starting", total=None, experiment=module.NAME)

        def progress(done: float, total: float, description: str) -> None:
            bar.update(task, completed=done, total=total, description=escape(description))

        from replab import cluster

        executor = cluster.executor()
        placed = len(executor.location_log)
        if replicates > 1:
            result = replicate(module, config, replicates, progress)
        else:
            result = module.run(config, progress)
        if not isinstance(executor, cluster.InProcess):  # where each unit ran and how long: metrics["cluster"]
            result.metrics["cluster"] = cluster.summarise(executor.kind, executor.address,
                                                          executor.location_log[placed:])
        bar.update(task, description="saving")
        path = save_run(out, module.NAME, module.TITLE, module.QUESTION, config, result,
                        wall_time_s=time.perf_counter() - started, command=command_line())
        bar.update(task, description="done")
    claims = [claim.to_dict() for claim in result.claims]
    print_claims(console, module.NAME, claims)
    for note in result.notes:
        console.print(f"[dim]note:[/] {escape(str(note))}", highlight=False)
    console.print(f"{module.NAME}: {tally(claims)} · {time.perf_counter() - started:.1f} s · saved "
                  f"[bold]{escape(str(path))}[/]", highlight=False)
    return path


def tally(claims: list[dict[str, Any]]) -> str:
    """'3 holds, 1 fails, 2 inconclusive; 4 checks pass'."""
    findings = count_dicts(claims)
    checks = count_dicts(claims, "check")
    text = ", ".join(f"{n} {verdict}" for verdict, n in findings.items())
    n_checks = sum(checks.values())
    if n_checks:
        failed = checks["fails"]
        text += f"; {n_checks} check{'s' if n_checks != 1 else ''}" + (f", {failed} FAILED" if failed else " pass")
    return text


def print_claims(console: Console, title: str, claims: list[dict[str, Any]], evidence: bool = False) -> None:
    columns = ["claim", "verdict", "effect [95% CI] · p (BH-adjusted) · n", "evidence base"] + (["evidence"] if evidence else [])
    table = RichTable(*columns, title=f"{title}: claims", show_lines=True)
    for claim in claims:
        style = VERDICT_STYLES.get(claim.get("verdict"), "white")
        kind = claim.get("kind", "finding")
        verdict = f"[{style}]{escape(str(claim.get('verdict')))}[/]" + (" [dim](check)[/]" if kind == "check" else "")
        base = escape(str(claim.get("base_text") or ""))
        if claim.get("stability"):
            stable = claim["stability"]
            verdicts = ", ".join(map(str, stable.get("verdicts", [])))
            base += (f"\n{'stable' if stable.get('stable') else '[bold red]UNSTABLE[/]'} over "
                     f"{len(stable.get('verdicts', []))} seed sets: {escape(verdicts)}")
        if claim.get("reason"):
            base += f"\n{escape(str(claim['reason']))}"
        if claim.get("close_call"):
            base += f"\n[yellow]close call[/]: deciding p {fmt_p(claim.get('deciding_p'))} vs {stats.ALPHA:g}"
        row = [f"{escape(str(claim.get('statement')))} [dim]({escape(str(claim.get('id')))})[/]", verdict,
               escape(numbers_text(claim)), base]
        table.add_row(*row, *([escape(str(claim.get("evidence", "")))] if evidence else []))
    console.print(table)


def numbers_text(claim: dict[str, Any]) -> str:
    """One line per test: 'MNIST: +0.0123 [+0.0051, +0.0195] · p 0.003 · n 10'."""
    lines = []
    for test in claim.get("tests") or []:
        if test.get("note"):
            lines.append(f"{test.get('label')}: not tested ({test['note']})")
            continue
        p = test.get("p_adjusted") if claim.get("direction") != "equal" else test.get("p_equivalent_adjusted")
        margin = f" · margin ±{test['margin']:.3g}" if isinstance(test.get("margin"), (int, float)) else ""
        lines.append(f"{test.get('label')}: {fmt(test.get('effect'))} [{fmt(test.get('ci_low'))}, "
                     f"{fmt(test.get('ci_high'))}] · p {fmt_p(p)} · n {test.get('n')}{margin}")
    return "\n".join(lines)


def fmt(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "–"
    return f"{value:+.4g}"


def fmt_p(value: Any) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    return f"{value:.2g}" if value >= 1e-4 else "<1e-4"


def print_summary(console: Console, saved: list[Path], wall_time_s: float, out: Path) -> None:
    table = RichTable("experiment", "findings", "time", title="summary", box=None)
    for path in saved:
        result = load_run(path).result
        table.add_row(escape(result["name"]) + (" [yellow](quick)[/]" if result.get("quick") else ""),
                      escape(tally(result.get("claims", []))), f"{result.get('wall_time_s', 0):.1f} s")
    console.print(table)
    console.print(f"total {wall_time_s:.1f} s · `replab report --out {escape(str(out))}` builds the report", highlight=False)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    check_out(args.out)
    warnings = Console(stderr=True, soft_wrap=True)
    path = build_report(args.out, warn=lambda message: warnings.print(f"replab: warning: {escape(message)}",
                                                                      highlight=False))
    console.print(f"report written to [bold]{escape(str(path))}[/]")
    return 0


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    if not args.run_dir.is_dir():
        raise UserError(f"run folder '{args.run_dir}' does not exist")
    record = load_run(args.run_dir)
    result = record.result
    console.print(f"[bold]{escape(str(result.get('title', record.name)))}[/]  ({escape(str(record.path))})")
    wall = result.get("wall_time_s")
    console.print(f"seed {result.get('seed')} · {wall:.1f} s · {result.get('finished_at')}" if isinstance(wall, (int, float))
                  else f"seed {result.get('seed')}", highlight=False, markup=False)
    if result.get("quick"):
        console.print(f"[bold yellow]{QUICK_BANNER}[/]")
    console.rule("config")
    console.print_json(json.dumps(record.config))
    console.rule("metrics")
    console.print_json(json.dumps(result.get("metrics", {})))
    print_claims(console, record.name, result.get("claims", []), evidence=True)
    console.print(escape(str(result.get("rule") or stats.rule_sentence())), highlight=False)
    return 0


def cmd_rerun(args: argparse.Namespace, console: Console) -> int:
    check_out(args.out)
    if not args.run_dir.is_dir():
        raise UserError(f"run folder '{args.run_dir}' does not exist")
    record = load_run(args.run_dir)
    install_hook()  # TensorFlow, if an experiment imports it, starts quietly
    module = load(record.name)
    config = module.Config.from_dict(record.config)
    ensure_run_folder(args.out, module.NAME)
    path = run_one(module, config, args.out, console)
    again = load_run(path).result
    same_verdicts = [c.get("verdict") for c in again.get("claims", [])] == \
        [c.get("verdict") for c in record.result.get("claims", [])]
    same_numbers = measured(again) == measured(record.result)
    if same_numbers and same_verdicts:
        console.print("[green]reproduced[/]: the metrics and every verdict match the saved run exactly")
    else:
        console.print(f"[bold red]not reproduced[/]: metrics {'match' if same_numbers else 'differ'}, verdicts "
                      f"{'match' if same_verdicts else 'differ'} (versions then: "
                      f"{escape(json.dumps(record.result.get('versions', {})))})", highlight=False)
    return 0 if same_numbers and same_verdicts else 1


def cmd_data(args: argparse.Namespace, console: Console) -> int:
    from replab.data import sources

    if args.data_command == "fetch":
        source = sources.fetch(args.dataset, say=lambda line: console.print(escape(line), highlight=False))
        console.print(f"{escape(args.dataset)}: {escape(source.description)}", highlight=False)
        return 0
    table = RichTable("dataset", "where", "size", "sha256", title="datasets", box=None)
    for row in sources.inventory():
        size = f"{row.size_bytes / 2**20:,.1f} MiB" if row.size_bytes else ""
        where = escape(row.where) + (f"\n[yellow]get it: {escape(row.fetch_command)}[/]" if row.fetch_command else "")
        if row.note:
            where += f"\n[dim]{escape(row.note)}[/]"
        table.add_row(escape(row.name), where, size, escape((row.sha256 or "")[:16]))
    console.print(table)
    return 0


RUN_BOOKKEEPING = ("cluster", "replication")
"""Metrics about how a run was executed (where units ran, the other seed sets of --replicate), not what it measured."""


SPEED_KEYS = frozenset({"compile_seconds", "train_seconds", "steps_per_second", "steps_per_second_deep",
                        "steps_per_second_shallow", "ms_per_step", "speedup_per_seed", "timing"})
"""Metrics of how fast this machine trained (seconds, steps per second, per-step timings): they change from run to
run and machine to machine while every number trained stays the same, so `rerun` does not ask them to match."""


def measured(result: dict[str, Any]) -> dict[str, Any]:
    """A result's metrics without the bookkeeping of how it ran or how fast: what `rerun` compares."""
    metrics = result.get("metrics") or {}
    return without_speed({key: value for key, value in metrics.items() if key not in RUN_BOOKKEEPING})


def without_speed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_speed(item) for key, item in value.items() if key not in SPEED_KEYS}
    if isinstance(value, list):
        return [without_speed(item) for item in value]
    return value


def cmd_runs(args: argparse.Namespace, console: Console) -> int:
    from replab.runs import complete_runs

    check_out(args.out)
    names = list(EXPERIMENTS)
    if args.out.is_dir():
        names += sorted(p.name for p in args.out.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in names)
    table = RichTable("experiment", "run", "findings", "seed", "time", title=f"runs in {escape(str(args.out))}", box=None)
    count = 0
    for name in names:
        for path in complete_runs(args.out, name):
            count += 1
            try:
                result = load_run(path).result
            except UserError as error:
                table.add_row(escape(name), escape(path.name), f"[red]unreadable[/]: {escape(str(error))}", "", "")
                continue
            wall = result.get("wall_time_s")
            table.add_row(escape(name) + (" [yellow](quick)[/]" if result.get("quick") else ""), escape(path.name),
                          escape(tally(result.get("claims", []))), escape(str(result.get("seed"))),
                          f"{wall:.1f} s" if isinstance(wall, (int, float)) else "?")
    if not count:
        console.print(f"no complete runs in {escape(str(args.out))}; start one with `replab run NAME`", highlight=False)
        return 0
    console.print(table)
    return 0


def cmd_config(args: argparse.Namespace, console: Console) -> int:
    import dataclasses

    from replab.settings import bounds_of, field_docs

    config = config_class(args.name)  # its settings alone: reading them imports no TensorFlow
    default, quick = config(), config.quick()
    docs, bounds = field_docs(config), bounds_of(config)
    console.print(f"[bold]{escape(args.name)}[/] settings (default → quick):")
    if getattr(config, "PROFILES", None):
        console.print(f"  profiles beyond the default: {escape(', '.join(config.PROFILES))} "
                      f"(`replab run {escape(args.name)} --profile NAME`)", highlight=False)
    for field in dataclasses.fields(config):
        kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
        full, small = getattr(default, field.name), getattr(quick, field.name)
        values = escape(repr(full)) + ("" if small == full else f" → {escape(repr(small))}")
        limits = f"; {bounds[field.name].describe()}" if field.name in bounds else ""
        console.print(f"  [bold]{field.name}[/] [dim]({escape(str(kind) + limits)})[/] = {values}", highlight=False)
        if docs.get(field.name):
            console.print(f"      {escape(docs[field.name])}", highlight=False)
    console.print(f"set any of them with `replab run {args.name} --set KEY=VALUE` (tuples comma-separated)",
                  highlight=False)
    return 0


COMMANDS = {"list": cmd_list, "run": cmd_run, "report": cmd_report, "show": cmd_show, "rerun": cmd_rerun, "runs": cmd_runs, "data": cmd_data,
            "config": cmd_config}
