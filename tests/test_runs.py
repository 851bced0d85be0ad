import json

import numpy as np
import pytest

from replab import runs
from replab.errors import UserError
from replab.experiments.base import to_jsonable
from replab.figures import write_figures
from replab.runs import complete_runs, latest_run, load_run, save_run
from tests.helpers import TinyConfig, tiny_result


def save_tiny(out, config=TinyConfig()):
    return save_run(out, "tiny", "Tiny", "Is it tiny?", config, tiny_result(), wall_time_s=0.5)


def test_a_saved_run_reads_back_with_all_its_parts(tmp_path):
    path = save_tiny(tmp_path)
    record = load_run(path)
    assert record.config == {"seed": 0, "quick": False, "profile": "default", "label": "plain"}
    assert record.result["claims"][0]["verdict"] == "holds"
    assert record.result["metrics"] == {"accuracy": 0.75, "label": "plain"}
    assert record.result["tables"][0]["rows"][1] == ["b", None]
    assert set(record.result["versions"]) >= {"python", "numpy", "scikit-learn", "tensorflow"}
    assert record.result["seed"] == 0 and record.result["wall_time_s"] == 0.5
    assert record.figure_path("line", "png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in record.figure_path("line", "svg").read_bytes()


def test_runs_are_listed_oldest_first_and_latest_is_newest(tmp_path):
    first = save_tiny(tmp_path)
    second = save_tiny(tmp_path, TinyConfig(seed=1))
    assert complete_runs(tmp_path, "tiny") == [first, second]
    assert latest_run(tmp_path, "tiny") == second
    assert first.name.split("-")[-1] != second.name.split("-")[-1]  # config hash differs


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_run_leaves_nothing_that_looks_complete(tmp_path, monkeypatch, interruption):
    earlier = save_tiny(tmp_path)

    def crash(*args, **kwargs):
        raise interruption("stopped while writing")

    monkeypatch.setattr(runs, "write_figures", crash)
    with pytest.raises(interruption):
        save_tiny(tmp_path, TinyConfig(seed=5))
    assert complete_runs(tmp_path, "tiny") == [earlier]
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [earlier.name]
    assert load_run(earlier).result["claims"][0]["verdict"] == "holds"  # the earlier run is intact


def test_a_staging_directory_left_by_a_killed_process_is_never_listed(tmp_path):
    staging = tmp_path / "tiny" / ".incomplete-20260101T000000000000Z-abcd1234-99"
    staging.mkdir(parents=True)
    (staging / "result.json").write_text("{}")
    assert complete_runs(tmp_path, "tiny") == []
    assert latest_run(tmp_path, "tiny") is None


def test_load_run_rejects_missing_and_corrupt_runs(tmp_path):
    with pytest.raises(UserError, match="not a complete replab run"):
        load_run(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "result.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        load_run(tmp_path)


def test_to_jsonable_converts_numpy_and_non_finite_values():
    value = {"a": np.float32(0.5), "b": np.arange(3), "c": (np.int64(2), float("nan")), 4: np.bool_(True)}
    assert to_jsonable(value) == {"a": 0.5, "b": [0, 1, 2], "c": [2, None], "4": True}
    json.dumps(to_jsonable(value), allow_nan=False)


def test_ensure_writable_rejects_a_folder_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write to output folder"):
        runs.ensure_writable(blocker / "sub")


def test_a_full_disk_while_saving_is_one_sentence_and_leaves_earlier_runs_intact(tmp_path, monkeypatch):
    import errno

    earlier = save_tiny(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runs, "write_figures", full)
    with pytest.raises(UserError, match="the disk is full; earlier runs are untouched"):
        save_tiny(tmp_path, TinyConfig(seed=9))
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [earlier.name]


def test_stale_staging_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    import os

    parent = tmp_path / "tiny"
    dead = parent / ".incomplete-20260101T000000000000Z-abcd1234-999999999"
    alive = parent / f".incomplete-20260101T000000000000Z-abcd1234-{os.getpid()}"
    dead.mkdir(parents=True)
    alive.mkdir()
    save_tiny(tmp_path)
    assert not dead.exists() and alive.exists()


def test_an_experiment_folder_that_is_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "tiny").write_text("not a folder")
    with pytest.raises(UserError, match="cannot write to output folder"):
        runs.ensure_run_folder(tmp_path, "tiny")


def test_saved_figures_are_laid_out_by_their_layout_engine(tmp_path):
    """A constrained-layout figure is saved as its engine places it: the panels spread into the room that
    matplotlib's default margins (subplotpars: top 0.88) would leave empty, and they do not overlap."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 3), layout="constrained")
    top, bottom = figure.subplots(2, 1)
    top.set_xlabel("x label\nof two lines")
    bottom.set_title("a title\nof two lines")
    write_figures(tmp_path / "figures", {"stacked": figure})
    assert top.get_position().y1 > figure.subplotpars.top + 0.05
    assert bottom.get_position().y1 < top.get_position().y0
    assert (tmp_path / "figures" / "stacked.png").exists()
    assert type(figure.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"


def test_a_figure_laid_out_when_built_is_saved_whole_and_one_without_an_engine_is_cut_to_its_ink(tmp_path):
    """A placeholder engine marks a figure as laid out (fixed margins): its PNG is the whole canvas at 110 dpi. A
    figure with no engine is cut to its tight bounding box. Both leave the figure's engine as it was."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import PlaceHolderLayoutEngine
    from PIL import Image

    figures = {}
    for name in ("laid_out", "loose"):
        figure = Figure(figsize=(4, 3))
        figure.subplots().plot([0, 1], [0, 1])
        figure.subplots_adjust(left=0.3, right=0.7, bottom=0.3, top=0.7)
        figures[name] = figure
    placeholder = PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True)
    figures["laid_out"].set_layout_engine(placeholder)
    write_figures(tmp_path / "figures", figures)
    assert Image.open(tmp_path / "figures" / "laid_out.png").size == (440, 330)
    width, height = Image.open(tmp_path / "figures" / "loose.png").size
    assert width < 440 * 0.75 and height < 330 * 0.75
    assert figures["laid_out"].get_layout_engine() is placeholder
    assert figures["loose"].get_layout_engine() is None
    assert (tmp_path / "figures" / "laid_out.svg").read_text().count("<svg") == 1
