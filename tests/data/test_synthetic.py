"""The regression targets: the noise-free truth beside the noisy draws, the line reproducing noisy_line."""

import numpy as np
import pytest

from replab.data.synthetic import TARGETS, noisy_line, noisy_target


def test_line_target_reproduces_noisy_line():
    old, new = noisy_line(50, 40, 0.3, 11), noisy_target("line", 50, 40, 0.3, 11)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(old, name), getattr(new, name))


@pytest.mark.parametrize("target", list(TARGETS))
def test_truth_is_noise_free_and_noise_has_the_stated_spread(target):
    split = noisy_target(target, 10, 20000, 0.5, 3)
    assert split.f_test == pytest.approx(TARGETS[target](split.x_test.astype(np.float64)), abs=1e-6)
    assert np.std(split.y_test - split.f_test) == pytest.approx(0.5, rel=0.03)
    assert split.x_test.dtype == np.float32 and split.x_test.shape == (20000, 1)


def test_same_seed_same_inputs_and_noise_for_every_target_and_level():
    a, b = noisy_target("line", 30, 30, 0.1, 5), noisy_target("sine", 30, 30, 0.5, 5)
    assert np.array_equal(a.x_train, b.x_train)
    assert (a.y_train - 3 * a.x_train) * 5 == pytest.approx(b.y_train - np.sin(3 * b.x_train), abs=1e-5)
    assert not np.array_equal(noisy_target("sine", 30, 30, 0.1, 6).x_train, b.x_train)
