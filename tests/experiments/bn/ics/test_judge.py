import numpy as np
import pytest

from replab.experiments.bn import study
from replab.experiments.bn.ics.config import Config
from replab.experiments.bn.ics.judge import judge
from replab.experiments.bn.ics.measure import DatasetResult, Measurements

# --- claims on hand-built measurements ----------------------------------------------------------------------

INFO = study.DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (100.0,), 1.0, 1.0)


def measurements(final, shift=None, inference_shift=None):
    """final, shift, inference_shift: (cells, seeds) in CELLS order."""
    final = np.asarray(final, float)
    n = final.shape[1]
    shift = np.asarray(shift if shift is not None else [[0.02] * n, [0.03] * n, [0.5] * n], float)
    inference_shift = np.asarray(inference_shift if inference_shift is not None else shift, float)
    steps = np.asarray([100, 200])
    curves = np.repeat(final[..., None], 2, axis=-1)
    d = DatasetResult(INFO, steps, 100, final, curves, np.full(final.shape, -1), shift / 2, shift / 2,
                      shift, inference_shift, np.zeros((3, n, 2)), np.ones((3, n, 2)))
    return Measurements((d,))


def judged(final, **kwargs):
    config = Config(n_seeds=len(final[0]), datasets=("mnist", "fashion-mnist"))
    return {c.id: c for c in judge(config, measurements(final, **kwargs))}


NONE = [0.50, 0.52, 0.49, 0.51, 0.50]
BN = [0.80, 0.83, 0.81, 0.80, 0.82]


@pytest.mark.parametrize("noisy, expected", [
    ([0.78, 0.80, 0.79, 0.77, 0.80], "holds"),      # keeps nearly all of BN's +0.31
    ([0.52, 0.53, 0.50, 0.53, 0.51], "fails"),      # keeps almost none of it
    ([0.70, 0.62, 0.58, 0.72, 0.66], "inconclusive"),  # about half, noisily
])
def test_benefit_survives_when_noisy_bn_keeps_more_than_the_fraction(noisy, expected):
    claim = judged([NONE, BN, noisy])["bn-benefit-survives-shift"]
    assert claim.kind == "finding" and claim.verdict == expected
    assert [t.label for t in claim.tests] == ["MNIST: BN − baseline", "MNIST: noisy BN − baseline − 0.5 × (BN − baseline)"]
    assert claim.base.skipped == ("Fashion-MNIST",)


def test_without_a_bn_benefit_there_is_nothing_to_keep():
    flat = [0.50, 0.53, 0.48, 0.52, 0.49]
    claim = judged([NONE, flat, flat])["bn-benefit-survives-shift"]
    assert claim.verdict == "inconclusive" and claim.tests[0].verdict == "inconclusive"


@pytest.mark.parametrize("inference, expected", [
    ([[0.30, 0.32, 0.29, 0.31, 0.30], [0.05, 0.06, 0.05, 0.04, 0.05], [0.05] * 5], "holds"),
    ([[0.05, 0.06, 0.05, 0.04, 0.05], [0.30, 0.32, 0.29, 0.31, 0.30], [0.3] * 5], "fails"),
    ([[0.10, 0.20, 0.05, 0.15, 0.10], [0.15, 0.10, 0.12, 0.08, 0.14], [0.1] * 5], "inconclusive"),
])
def test_bn_reduces_shift_is_judged_in_inference_mode(inference, expected):
    # As training sees it, BN's per-unit moments are β and γ: its training-mode shift is left small in every case.
    claim = judged([NONE, BN, BN], inference_shift=inference)["bn-reduces-shift"]
    assert claim.kind == "finding" and claim.verdict == expected


def test_noise_increases_shift_is_a_manipulation_check():
    assert judged([NONE, BN, BN])["noise-increases-shift"].verdict == "holds"
    overlapping = [[0.02] * 5, [0.03] * 5, [0.5, 0.5, 0.02, 0.5, 0.5]]
    claim = judged([NONE, BN, BN], shift=overlapping)["noise-increases-shift"]
    assert claim.kind == "check" and claim.verdict == "fails"
