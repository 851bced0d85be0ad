"""The regression presentation drawn from hand-built measurements (nothing is trained)."""

import pytest

from replab.experiments.regression.present import present
from tests.experiments.regression.test_judge import CONFIG, NOISE, TARGETS, hand_built


@pytest.mark.slow  # nothing is trained, but drawing the figures (tight_layout) takes 2-3 s
def test_presentation_comes_from_the_measurements_alone():
    presentation = present(CONFIG, hand_built())
    assert [t.title for t in presentation.tables] == ["Networks",
                                                      "Fit per target and noise level (mean ± std over seeds)"]
    assert set(presentation.captions) == set(presentation.figures) == {"architectures", "loss_curves", "fits"}
    assert len(presentation.scalars) == 2 * len(TARGETS) * len(NOISE) * CONFIG.n_seeds
