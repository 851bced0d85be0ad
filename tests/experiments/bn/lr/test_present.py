from replab.experiments.bn.lr.judge import largest_good_rate
from replab.experiments.bn.lr.present import present
from tests.experiments.bn.lr.test_judge import CROSS, LARGEST, config, measurements


def test_presentation_draws_from_hand_built_measurements():
    cfg, m = config(), measurements(LARGEST["higher"], CROSS["faster"])
    shown = present(cfg, m)
    assert [t.title for t in shown.tables] == ["Learning-rate grid on MNIST"]
    assert shown.tables[0].rows[2][4] == "no" and shown.tables[0].rows[2][8] == "yes"  # lr 10: good only with BN
    assert largest_good_rate(cfg, m.datasets[0]) == [0.1, 10.0]  # on the means: lr 1 is good on 4 of 6 seeds only
