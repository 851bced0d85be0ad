from replab.experiments.bn.ics.config import Config
from replab.experiments.bn.ics.present import present
from tests.experiments.bn.ics.test_judge import BN, NONE, measurements


def test_presentation_draws_from_hand_built_measurements():
    shown = present(Config(n_seeds=5), measurements([NONE, BN, BN]))
    assert [row[0] for row in shown.tables[0].rows] == ["without BN", "BN", "noisy BN"]
    assert set(shown.figures) == {"curves", "layer_input", "shift"}
