import json
import os
import subprocess
import sys

import pytest

from replab.cli import main, resolve_names, settings_for
from replab.experiments import BN_STUDY, EXPERIMENTS
from replab.runs import complete_runs


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_sentence_error(code, err, fragment):
    assert code == 2
    assert "Traceback" not in err
    message = " ".join(err.split())
    assert message.startswith("replab: error:")
    assert fragment in message


@pytest.mark.parametrize("argv, fragment", [
    (["run", "nonsense"], "unknown experiment 'nonsense'"),
    (["run", "gates", "--set", "colour=blue"], "unknown setting 'colour' for gates"),
    (["run", "gates", "--set", "svc_C=lots"], "setting 'svc_C' expects a number"),
    (["run", "gates", "--set", "justtext"], "--set expects key=value"),
    (["run", "gates", "--seed", "-1"], "seed must be an integer from 0 to"),
    (["run", "gates", "--seed", "abc"], "invalid int value"),
    (["run", "curves", "--set", "n_samples=500"], "1000"),
    (["run", "curves", "--set", "negative_shares=0.5,1.5"], "negative_shares"),
    (["run", "curves", "--set", "negative_shares=0,0.9"], "negative_shares"),
    (["run", "bn-study", "--set", "learning_rates=0.1,1"], "unknown setting 'learning_rates' for bn-init"),
    (["run", "bn-lr", "--set", "datasets=cifar"], "every value of datasets must be one of mnist, fashion-mnist"),
    (["run", "bn-lr", "--set", "learning_rates=1,0.1"], "learning_rates must be in increasing order"),
    (["run", "gates", "curves", "--set", "gates.svc_C=lots"], "setting 'svc_C' expects a number"),
    (["run", "gates", "--set", "curves.n_seeds=3"], "setting 'curves.n_seeds' is for experiment 'curves', which this"),
    (["run", "gates", "curves", "--jobs", "0"], "--jobs must be an integer from 1 to"),
    (["run", "gates", "curves", "--jobs", str((os.cpu_count() or 1) + 1)], "(this machine's cores)"),
    (["frobnicate"], "invalid choice"),
    (["show", "/nonexistent/run"], "does not exist"),
])
def test_bad_input_gets_one_sentence_and_exit_code_2(capsys, tmp_path, argv, fragment):
    code, out, err = run_cli(capsys, *argv, *(["--out", str(tmp_path)] if argv[0] == "run" else []))
    assert_one_sentence_error(code, err, fragment)
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written


def test_unwritable_out_is_a_user_error(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = run_cli(capsys, "run", "gates", "--quick", "--out", str(blocker / "runs"))
    assert_one_sentence_error(code, err, "cannot write to output folder")


def test_report_without_runs_is_a_user_error(capsys, tmp_path):
    code, out, err = run_cli(capsys, "report", "--out", str(tmp_path))
    assert_one_sentence_error(code, err, "no complete runs")


def test_list_names_every_experiment(capsys):
    code, out, err = run_cli(capsys, "list")
    assert code == 0
    assert all(name in out for name in EXPERIMENTS)


def test_prefixed_settings_reach_only_their_experiment_and_win_over_plain_ones():
    overrides = {"steps": "100", "bn-lr.steps": "50", "norms.kinds": "none,batch"}
    names = ["bn-lr", "norms", "bn-ics"]
    assert settings_for("bn-lr", names, overrides) == {"steps": "50"}
    assert settings_for("norms", names, overrides) == {"steps": "100", "kinds": "none,batch"}
    assert settings_for("bn-ics", names, overrides) == {"steps": "100"}


def test_groups_expand_to_their_experiments_in_order_without_repeats():
    assert resolve_names(["bn-study"]) == list(BN_STUDY)
    assert resolve_names(["gates", "bn-study", "bn-lr"]) == ["gates", *BN_STUDY]
    assert resolve_names(["all"]) == list(EXPERIMENTS)


@pytest.mark.slow
def test_run_report_and_show_from_the_command_line(tmp_path):
    """The whole user path through a real subprocess: run, report, show."""
    env = {**os.environ, "MPLBACKEND": "Agg", "COLUMNS": "200"}
    out = tmp_path / "runs"

    def replab(*argv):
        return subprocess.run([sys.executable, "-m", "replab", *argv], capture_output=True, text=True, env=env)

    ran = replab("run", "gates", "--quick", "--seed", "3", "--set", "svc_C=100", "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    assert "holds" in ran.stdout
    [run_dir] = complete_runs(out, "gates")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["seed"] == 3 and config["svc_C"] == 100.0

    reported = replab("report", "--out", str(out))
    assert reported.returncode == 0, reported.stderr
    assert (out / "report.html").read_text().count("data:image/png;base64,") >= 1

    shown = replab("show", str(run_dir))
    assert shown.returncode == 0, shown.stderr
    assert "svc_C" in shown.stdout and "claims" in shown.stdout


def test_claims_print_square_brackets_verbatim():
    # rich would read "[aWu]" as markup and drop it; the evidence must reach the terminal as written.
    from io import StringIO

    from rich.console import Console

    from replab.cli import print_claims

    buffer = StringIO()
    print_claims(Console(file=buffer, width=250), "t", [{"statement": "Var[x] [bold]", "verdict": "holds",
                                                        "evidence": "Var[aWu] 0.677 [/]", "base_text": "[red]x"}],
                 evidence=True)
    text = buffer.getvalue()
    assert "Var[aWu] 0.677 [/]" in text and "Var[x] [bold]" in text and "[red]x" in text


def test_show_strips_terminal_control_sequences_from_a_run(capsys, tmp_path):
    from replab.runs import save_run
    from tests.helpers import TinyConfig, tiny_result

    path = save_run(tmp_path, "tiny", "Tiny \x1b[2J\x1b]0;pwned\x07", "q", TinyConfig(), tiny_result("\x1b[31mred"), 1.0)
    code, out, err = run_cli(capsys, "show", str(path))
    assert code == 0 and "\x1b[2J" not in out and "\x1b]0" not in out and "\x1b[31m" not in out


@pytest.mark.parametrize("content", [b"[]", b"\xff", b'{"name": "x", "claims": [{}]}'])
def test_show_of_a_corrupt_run_is_one_sentence(capsys, tmp_path, content):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "result.json").write_bytes(content)
    code, out, err = run_cli(capsys, "show", str(tmp_path))
    assert_one_sentence_error(code, err, str(tmp_path))


def test_version_is_printed(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("replab ")


@pytest.mark.parametrize("argv, fragment", [
    (["run", "gates", "--out", ""], "--out needs a folder name"),
    (["report", "--out", ""], "--out needs a folder name"),
    (["run", "gates", "--set", "gates=AND,,OR"], "empty item"),
    (["run", "regression", "--set", "noise_stds=1e400"], "finite number"),
    (["run", "regression", "--set", "noise_stds=nan"], "finite number"),
    (["run", "gates", "--seed", "4294967296"], "seed must be an integer from 0 to"),
    (["run", "gates", "--replicate", "0"], "--replicate must be an integer from 1 to"),
])
def test_careless_input_is_refused_before_anything_runs(capsys, argv, fragment):
    code, out, err = run_cli(capsys, *argv)
    assert_one_sentence_error(code, err, fragment)


def test_an_error_stays_on_one_line_when_stderr_is_not_a_terminal(tmp_path):
    long_name = "x" * 300
    ran = subprocess.run([sys.executable, "-m", "replab", "run", long_name], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "80"})
    assert ran.returncode == 2 and len(ran.stderr.strip().splitlines()) == 1


def test_output_to_a_full_device_is_one_sentence():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        ran = subprocess.run([sys.executable, "-m", "replab", "--help"], stdout=full, stderr=subprocess.PIPE, text=True)
    assert "Traceback" not in ran.stderr


def test_a_deleted_working_folder_is_one_sentence(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    script = ("import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); from replab.cli import main; "
              "sys.exit(main(['report']))")
    ran = subprocess.run([sys.executable, "-c", script, str(gone)], capture_output=True, text=True)
    assert ran.returncode == 2 and "current folder no longer exists" in ran.stderr and "Traceback" not in ran.stderr


def test_list_help_show_and_report_never_import_tensorflow(tmp_path):
    from replab.runs import save_run
    from tests.helpers import TinyConfig, tiny_result

    path = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), tiny_result(), 1.0)
    script = ("import sys; from replab.cli import main; "
              f"[main(argv) for argv in (['list'], ['show', {str(path)!r}], ['report', '--out', {str(tmp_path)!r}], "
              f"['runs', '--out', {str(tmp_path)!r}])]; "
              "print('tensorflow' in sys.modules, 'scipy.stats' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "False False"


CONFIG_OF_EACH = """
import contextlib, io, json, sys
from replab.cli import main
report = {}
for name in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["config", name])
    report[name] = [code, out.getvalue(),
                    [m for m in ("tensorflow", "replab.nn", "sklearn", "matplotlib.figure") if m in sys.modules]]
print(json.dumps(report))
"""


def test_config_prints_every_experiments_settings_without_importing_tensorflow_or_scikit_learn():
    import dataclasses

    from replab.experiments import config_class

    ran = subprocess.run([sys.executable, "-c", CONFIG_OF_EACH, *EXPERIMENTS], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"})
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    for name in EXPERIMENTS:  # in order: the first experiment that loads TensorFlow is the one named
        code, out, loaded = report[name]
        assert code == 0 and loaded == [], f"replab config {name} loaded {loaded}"
        assert f"{name} settings (default → quick)" in out
        assert all(f"  {field.name} (" in out for field in dataclasses.fields(config_class(name))), out


def test_runs_lists_past_runs_with_their_verdict_counts(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    from replab.runs import save_run
    from tests.helpers import TinyConfig, tiny_result

    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), tiny_result(), 1.0)
    code, out, err = run_cli(capsys, "runs", "--out", str(tmp_path))
    assert code == 0 and "tiny" in out and "1 holds, 0 fails, 0 inconclusive; 1 check pass" in out


def test_config_lists_each_setting_with_default_quick_value_and_meaning(capsys):
    code, out, err = run_cli(capsys, "config", "gates")
    assert code == 0
    assert "grid_resolution" in out and "quick" in out and "Points per axis" in " ".join(out.split())


@pytest.mark.slow
def test_rerun_reproduces_a_saved_gates_run(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, "run", "gates", "--quick", "--seed", "2", "--out", str(tmp_path))
    assert code == 0, err
    [first] = complete_runs(tmp_path, "gates")
    code, out, err = run_cli(capsys, "rerun", str(first), "--out", str(tmp_path))
    assert code == 0, err
    assert "reproduced" in out and "not reproduced" not in out
    assert len(complete_runs(tmp_path, "gates")) == 2


@pytest.mark.slow
def test_replicate_on_a_quick_experiment_records_stability(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, "run", "gates", "--quick", "--replicate", "3", "--out", str(tmp_path))
    assert code == 0, err
    [path] = complete_runs(tmp_path, "gates")
    result = json.loads((path / "result.json").read_text())
    assert result["metrics"]["replication"]["seeds"] == [0, 1, 2]
    assert all(len(claim["stability"]["verdicts"]) == 3 for claim in result["claims"])
    assert "seed sets" in out


def test_data_lists_every_dataset_and_fetch_refuses_what_it_cannot_fetch(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, "data")
    assert code == 0 and "mnist" in out and "fashion-mnist" in out and "playground" in out
    code, out, err = run_cli(capsys, "data", "fetch", "mnist")
    assert_one_sentence_error(code, err, "MNIST is not fetched")


def test_an_unusable_experiment_folder_is_refused_before_the_experiment_runs(capsys, tmp_path):
    (tmp_path / "gates").write_text("a file where the runs folder should be")
    code, out, err = run_cli(capsys, "run", "gates", "--quick", "--out", str(tmp_path))
    assert_one_sentence_error(code, err, "cannot write to output folder")
    assert "claims" not in out  # nothing ran


def test_sigterm_stops_a_run_like_ctrl_c_and_leaves_nothing_complete(tmp_path):
    import signal
    import time

    out = tmp_path / "runs"
    process = subprocess.Popen([sys.executable, "-m", "replab", "run", "spiral", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "MPLBACKEND": "Agg"})
    try:
        deadline = time.monotonic() + 60
        while not (out / "spiral").is_dir() and time.monotonic() < deadline:  # the run folder is checked first
            time.sleep(0.2)
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert complete_runs(out, "spiral") == []


@pytest.mark.slow
def test_importing_an_experiment_prints_no_tensorflow_start_up_chatter():
    ran = subprocess.run([sys.executable, "-c", "from replab.experiments.bn import lr; import tensorflow as tf; "
                                                "print(float(tf.constant(2.0) * 2))"], capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.strip() == "4.0"
    assert ran.stderr.strip() == ""


def test_a_tensorflow_experiment_without_tensorflow_is_one_sentence():
    script = ("import sys; sys.modules['tensorflow'] = None; from replab.cli import main; "
              "sys.exit(main(['run', 'regression', '--quick', '--out', sys.argv[1]]))")
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        ran = subprocess.run([sys.executable, "-c", script, out], capture_output=True, text=True)
    assert ran.returncode == 2 and "TensorFlow, which is not installed" in ran.stderr and "Traceback" not in ran.stderr


def test_rerun_compares_what_was_measured_not_where_it_ran():
    from replab.cli import measured

    assert measured({"metrics": {"a": 1, "cluster": {"nodes": 2}, "replication": {"seeds": [0, 1]}}}) == {"a": 1}


def test_rerun_does_not_ask_how_fast_a_machine_trained_to_match():
    from replab.cli import measured

    run = {"metrics": {"datasets": [{"accuracy": [0.9, 0.8], "steps_per_second": 4000.0, "train_seconds": 2.5}],
                       "timing": {"batch": 1.2}, "loss": 0.1}}
    faster = {"metrics": {"datasets": [{"accuracy": [0.9, 0.8], "steps_per_second": 9000.0, "train_seconds": 1.1}],
                          "timing": {"batch": 0.6}, "loss": 0.1}}
    assert measured(run) == measured(faster) == {"datasets": [{"accuracy": [0.9, 0.8]}], "loss": 0.1}
    assert measured(run) != measured({"metrics": {**faster["metrics"], "loss": 0.2}})


@pytest.mark.slow
def test_jobs_run_experiments_side_by_side_with_the_numbers_they_give_alone(tmp_path):
    """`--jobs 2` runs each experiment in its own process, at the same time, and saves what one at a time saves."""
    from replab.cli import measured
    from replab.runs import load_run

    def replab(*argv):
        return subprocess.run([sys.executable, "-m", "replab", *argv], capture_output=True, text=True, timeout=600)

    together = replab("run", "gates", "curves", "--quick", "--seed", "3", "--jobs", "2", "--out", str(tmp_path / "a"))
    assert together.returncode == 0, together.stderr
    assert "gates:" in together.stdout and "curves:" in together.stdout and "summary" in together.stdout
    alone = replab("run", "gates", "curves", "--quick", "--seed", "3", "--out", str(tmp_path / "b"))
    assert alone.returncode == 0, alone.stderr
    for name in ("gates", "curves"):
        (a,), (b,) = complete_runs(tmp_path / "a", name), complete_runs(tmp_path / "b", name)
        first, second = load_run(a).result, load_run(b).result
        assert first["seed"] == second["seed"] == 3 and first["quick"]
        assert measured(first) == measured(second)
        assert [c["verdict"] for c in first["claims"]] == [c["verdict"] for c in second["claims"]]


def test_a_failed_child_stops_new_ones_and_its_status_is_the_commands(tmp_path, capsys):
    from rich.console import Console

    from replab import jobs

    marker = tmp_path / "second-ran"
    children = [jobs.Child("first", [sys.executable, "-c", "import sys; print('first failed'); sys.exit(3)"]),
                jobs.Child("second", [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"])]
    assert jobs.run_children(children, 1, Console(force_terminal=False)) == 3
    assert "first failed" in capsys.readouterr().out
    assert not marker.exists()


def test_an_interrupt_stops_the_running_children(monkeypatch):
    from rich.console import Console

    from replab import jobs

    started = []
    popen = subprocess.Popen

    def interrupted_at_the_second(*args, **kwargs):
        if started:
            raise KeyboardInterrupt  # Ctrl-C while the first child runs
        started.append(popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(jobs.subprocess, "Popen", interrupted_at_the_second)
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    with pytest.raises(KeyboardInterrupt):
        jobs.run_children([jobs.Child("a", sleeper), jobs.Child("b", sleeper)], 2, Console(force_terminal=False))
    (first,) = started
    assert first.poll() is not None  # stopped, not left sleeping


def test_each_child_gets_its_own_resolved_settings_and_only_a_profile_it_has(tmp_path):
    import argparse

    from replab.cli import child_run
    from replab.experiments import load

    names = ["gates", "spiral"]
    args = argparse.Namespace(profile="paper", out=tmp_path, quick=False, replicate=2, cluster=None)
    overrides = {"seed": "5", "spiral.n_seeds": "6"}
    gates, spiral = (child_run(load(name), names, overrides, args).argv for name in names)
    assert gates[2:6] == ["replab", "run", "gates", "--out"] and "--profile" not in gates
    assert ["--set", "seed=5"] == gates[gates.index("--set"):gates.index("--set") + 2]
    assert "n_seeds=6" not in gates and "n_seeds=6" in spiral and "seed=5" in spiral
    assert spiral[spiral.index("--profile") + 1] == "paper" and spiral[spiral.index("--replicate") + 1] == "2"
