import dataclasses

import numpy as np
import pytest

from replab.data.mnist import Digits
from replab.experiments.bn import study as bnstudy
from replab.experiments.bn.gradients.config import Config
from replab.experiments.bn.gradients.measure import cells, initial_net, spectrum_summary


def test_spectrum_summary_on_known_singular_values():
    values = np.array([[[4.0, 1.0, 0.25], [2.0, 2.0, 0.5]]])  # one member, two examples
    summary = spectrum_summary(values, factor=2.0)
    assert summary["rms"][0] == pytest.approx(np.sqrt((16 + 1 + 1 / 16 + 4 + 4 + 1 / 4) / 6))
    assert summary["geometric_mean"][0] == pytest.approx(2 ** (1 / 6))
    assert summary["median"][0] == pytest.approx(1.5)
    assert summary["largest"][0] == pytest.approx(3.0)
    assert summary["within"][0] == pytest.approx(4 / 6)
    assert summary["mean_abs_log"][0] == pytest.approx((2 * np.log(4) + 3 * np.log(2)) / 6)
    assert summary["condition"][0] == pytest.approx((16 + 4) / 2)


def test_the_step_zero_twin_is_the_population_train_cells_starts_from():
    config = dataclasses.replace(Config.quick(), eval_size=10, train_eval_size=10)
    rng = np.random.default_rng(0)
    digits = Digits(rng.random((100, 784), np.float32), rng.integers(0, 10, 100), rng.random((20, 784), np.float32),
                    rng.integers(0, 10, 20), "random", "mnist")
    captured = {}

    class Stop(Exception):
        pass

    def capture(net, _digits):  # train_cells asks for its metrics before the first step
        captured["weights"] = [w.numpy() for w, _ in net.layers]
        captured["norms"] = [m.norm for m in net.members]
        raise Stop

    with pytest.raises(Stop):
        bnstudy.train_cells(config, digits, cells(config), extra_metrics=capture)
    twin = initial_net(config)
    assert [m.norm for m in twin.members] == captured["norms"] == ["none"] * 3 + ["batch"] * 3
    for (w, _), expected in zip(twin.layers, captured["weights"]):
        np.testing.assert_array_equal(w.numpy(), expected)
