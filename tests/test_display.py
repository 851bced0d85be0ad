import pytest

from replab.experiments.base import Table
from tests.helpers import TinyConfig, TinyExperiment


def test_results_claims_and_tables_have_html_reprs_built_by_the_report():
    result = TinyExperiment.run(TinyConfig(quick=True))
    html = result._repr_html_()
    assert "Smoke test" in html and "<h3>Findings</h3>" in html and "check holds" in html and "95% CI" in html
    assert "result.figures[&#x27;line&#x27;]" in html
    assert 'class="verdict' in result.claims[0]._repr_html_()
    assert "<table>" in Table("t", ["a"], [[1.5]])._repr_html_()
    assert len(repr(result)) < 300 and "quick" in repr(result)


def test_figure_png_renders_a_figure_built_without_pyplot():
    from replab.display import figure_png

    figure = TinyExperiment.run(TinyConfig()).figures["line"]
    assert figure_png(figure).startswith(b"\x89PNG\r\n\x1a\n")


def test_progress_outside_a_notebook_is_silent_or_a_terminal_bar(capsys):
    from replab import progress

    assert not progress.in_notebook()
    assert progress.auto() is progress.silent
    bar = progress.bar("tiny")
    assert isinstance(bar, progress.TerminalBar)
    for done in range(4):
        bar(done, 3, "step")
    assert "tiny: step" in capsys.readouterr().err


@pytest.mark.slow
def test_in_a_fresh_kernel_figures_show_inline_and_progress_updates_one_output():
    """A real Jupyter kernel (nbclient): replab's figures, built without pyplot, display as PNG once a replab object
    has been displayed (or enable_inline_figures() was called); progress.auto() is a bar that updates in place."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "import sys; sys.path.insert(0, {root!r})\nfrom tests.helpers import TinyConfig, TinyExperiment\n"
        "result = TinyExperiment.run(TinyConfig())\nresult.figures['line']",
        "result",
        "result.figures['line']",
        "from replab import progress\nbar = progress.auto('tiny')\nprint(type(bar).__name__)\n"
        "for done in range(11):\n    bar(done, 10, 'step')",
    ]
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.format(root=root)) for c in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert "text/html" in outputs[1][0]["data"]
    assert "image/png" in outputs[2][0]["data"]
    assert outputs[3][0]["text"].strip() == "NotebookBar"
    bars = [o for o in outputs[3] if o.get("output_type") == "display_data"]
    assert len(bars) == 1 and "<progress" in bars[0]["data"]["text/html"]
