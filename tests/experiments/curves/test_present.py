"""The curves presentation built from hand-built measurements (nothing is fitted)."""

import dataclasses

import numpy as np

from replab.experiments.curves.present import present
from tests.experiments.curves.test_judge import CONFIG, T, hand_built


def test_presentation_comes_from_the_measurements_alone():
    m = dataclasses.replace(hand_built(), first_scores=np.random.default_rng(0).random((2, 4, T)))
    presentation = present(CONFIG, m)
    assert [t.title for t in presentation.tables] == ["Curve metrics per imbalance level",
                                                      "Fixed model vs retrained model", "No-skill scorer"]
    assert len(presentation.tables[0].rows) == 8
    assert set(presentation.captions) == set(presentation.figures) == {"curves_grid", "metrics_vs_prevalence"}
    assert any("fraud" in note for note in presentation.notes)
