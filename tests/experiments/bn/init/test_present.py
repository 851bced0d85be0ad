from replab.experiments.bn.init.present import present
from tests.experiments.bn.init.test_judge import config, measurements


def test_presentation_draws_from_hand_built_measurements():
    shown = present(config(), measurements([0.5] * 4, [0.1] * 4))
    assert [t.title for t in shown.tables] == ["Initial weight scale on MNIST"] and len(shown.tables[0].rows) == 3
    assert set(shown.figures) == set(shown.captions)
