"""The spiral's presentation of hand-built measurements: every figure with its caption, the tables and the notes."""

import pytest

from replab.experiments.spiral.present import present
from tests.experiments.spiral.test_judge import CONFIG, SINE_WINS, build


@pytest.mark.slow  # nothing is trained, but drawing the four figures takes 1.3-2.6 s here
def test_present_draws_every_figure_with_a_caption():
    m = build(SINE_WINS, {("sinX+sinY", ()): 7})
    shown = present(CONFIG, m)
    assert set(shown.figures) == set(shown.captions) == {"decision_regions", "pareto", "search_scores", "loss_curves"}
    assert [t.title for t in shown.tables][1].startswith("Finalists retrained on fresh seeds")
    assert any("Success rule" in note and "0.8" in note for note in shown.notes)
