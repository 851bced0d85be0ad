from replab.experiments.bn.regularization.measure import Measurements
from replab.experiments.bn.regularization.present import present
from tests.experiments.bn.regularization.test_judge import CONFIG, SEEDS, dataset


def test_hand_built_measurements_present_without_training():
    m = Measurements((dataset(),))
    presentation = present(CONFIG, m)
    assert set(presentation.figures) == set(presentation.captions) and len(presentation.tables) == 3
    assert m.to_metrics()["datasets"][0]["matched"]["level"] == [0.9] * SEEDS
