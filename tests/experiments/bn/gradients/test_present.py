from replab.experiments.bn.gradients.measure import Measurements
from replab.experiments.bn.gradients.present import present
from tests.experiments.bn.gradients.test_judge import CONFIG, SEEDS, dataset


def test_hand_built_measurements_present_without_training():
    m = Measurements((dataset(),))
    presentation = present(CONFIG, m)
    assert set(presentation.figures) == set(presentation.captions)
    assert len(presentation.tables) == 2
    assert m.to_metrics()["datasets"][0]["batch"]["test_accuracy"] == [0.9] * SEEDS
