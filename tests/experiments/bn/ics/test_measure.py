import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from replab.data.mnist import load_digits
from replab.experiments.bn.ics.config import Config
from replab.experiments.bn.ics.measure import layer_input_moments, shift_measures
from replab.nn.normalized_mlp import Member, NormalizedMLP


def test_shift_measures_are_the_wander_of_each_units_mean_and_std():
    records = np.zeros((4, 2, 2, 3))         # (R, K, mean/std, F)
    records[:, 0, 0, 0] = [1, -1, 1, -1]     # member 0, unit 0: mean wanders with std 1
    records[:, 1, 1, 2] = [0, 2, 0, 2]       # member 1, unit 2: std wanders with std 1
    records[:, 1, 0, 2] = [3, 3, 3, 3]       # a constant offset does not move
    measures = shift_measures(records)
    np.testing.assert_allclose(measures["mean_wander"], [1 / 3, 0])
    np.testing.assert_allclose(measures["std_wander"], [0, 1 / 3])
    np.testing.assert_allclose(measures["shift"], [1 / 3, 1 / 3])
    records[:, 1, 0, 2] = [0, 2, 0, 2]       # both moving: √(1 + 1) for that unit
    np.testing.assert_allclose(shift_measures(records)["shift"], [1 / 3, np.sqrt(2) / 3])


@pytest.mark.slow
def test_the_measurement_redraws_the_noise_for_noisy_members_only():
    config = dataclasses.replace(Config.quick(), probe_size=50)
    digits = load_digits("mnist", seed=0, binarize=True)
    net = NormalizedMLP(config.layer_sizes, [Member("batch"), Member("batch", shift_noise=True)], [0, 0],
                        config.options)
    measure = tf.function(layer_input_moments(config)(net, digits)["layer_input"])
    first, second = measure().numpy(), measure().numpy()  # (K, mean/std, F)
    np.testing.assert_allclose(first[0], second[0])
    np.testing.assert_allclose(first[0, 0], 0, atol=1e-5)  # BN with β = 0: zero mean over the probe
    assert np.abs(first[1] - second[1]).mean() > 0.1
    # The noisy member is the clean one moved by a shift in [−1, 1] and scaled by a factor in [1/2, 2] per unit.
    scale = first[1, 1] / first[0, 1]
    assert np.all((scale >= 0.5 - 1e-4) & (scale <= 2 + 1e-4))
    shift = first[1, 0] - scale * first[0, 0]
    assert np.all(np.abs(shift) <= 1 + 1e-4)
