from replab.experiments.bn.norms.measure import Measurements
from replab.experiments.bn.norms.present import present
from tests.experiments.bn.norms.test_judge import CONFIG, TIMING, dataset


def test_hand_built_measurements_present_without_training():
    m = Measurements((dataset(),), TIMING)
    presentation = present(CONFIG, m)
    assert set(presentation.figures) == set(presentation.captions) and len(presentation.tables) == 1
    assert m.to_metrics()["timing"]["ms_per_step"]["batch"] == 1.5
