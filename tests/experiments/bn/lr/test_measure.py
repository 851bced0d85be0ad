import dataclasses

import numpy as np
import pytest

from replab.experiments.bn.lr import run
from replab.experiments.bn.lr.config import Config


@pytest.mark.slow
def test_every_member_of_a_cell_learns_from_its_own_rate():
    # The same seed at two rates must give different networks: the per-member rates reach the optimizer.
    config = dataclasses.replace(Config.quick(), learning_rates=(0.1, 0.2), steps=50, record_every=50)
    result = run(config)
    final = np.asarray(result.metrics["datasets"][0]["final_accuracy"])
    assert final[1, 0].tolist() != final[1, 1].tolist()
