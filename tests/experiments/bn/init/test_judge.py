import numpy as np
import pytest

from replab.experiments.bn import study
from replab.experiments.bn.init.config import Config
from replab.experiments.bn.init.judge import judge
from replab.experiments.bn.init.measure import DatasetResult, Measurements

INFO = study.DatasetInfo("mnist", "hand-built", 1000, 500, True, 500, (100.0,), 1.0, 1.0)
SCALES = (0.01, 1.0, 10.0)


# --- claims on hand-built measurements ----------------------------------------------------------------------


def measurements(spread_none, spread_bn, relative=None, ratio=None, variance=(1e-5, 1.0, 100.0)):
    """Final accuracy 0.9 at scale 1 and 0.9 − spread at the other scales, per seed."""
    spread = np.asarray([spread_none, spread_bn], float)                  # (2, seeds)
    n = spread.shape[1]
    final = np.repeat((0.9 - spread)[:, None, :], len(SCALES), axis=1)
    final[:, SCALES.index(1.0)] = 0.9
    steps = np.asarray([100, 200])
    curves = np.repeat(final[..., None], 2, axis=-1)
    scales = np.asarray(SCALES)[:, None]
    relative = np.zeros((len(SCALES), n)) if relative is None else np.asarray(relative, float)
    ratio = np.repeat(1 / scales, n, axis=1) if ratio is None else np.asarray(ratio, float)
    d = DatasetResult(INFO, steps, final, curves, np.full(final.shape, -1), relative, ratio,
                      np.asarray(variance, float))
    return Measurements(np.asarray(SCALES), (d,))


def config(n_seeds=4, **kwargs):
    return Config(scales=SCALES, n_seeds=n_seeds, **kwargs)


def claims(cfg, m):
    return {c.id: c for c in judge(cfg, m)}


@pytest.mark.parametrize("spread_none, spread_bn, expected", [
    ([0.6, 0.5, 0.7, 0.65], [0.1, 0.15, 0.05, 0.1], "holds"),
    ([0.1, 0.15, 0.05, 0.1], [0.6, 0.5, 0.7, 0.65], "fails"),
    ([0.3, 0.1, 0.5, 0.2], [0.2, 0.4, 0.1, 0.3], "inconclusive"),
])
def test_resilience_is_a_paired_test_of_spreads_over_seeds(spread_none, spread_bn, expected):
    claim = claims(config(), measurements(spread_none, spread_bn))["bn-init-resilient"]
    assert claim.kind == "finding" and claim.verdict == expected
    assert claim.tests[0].label == "MNIST" and claim.tests[0].n == 4


def test_scale_invariance_is_a_check_that_passes_and_fails():
    ok = claims(config(), measurements([0.5] * 4, [0.1] * 4))["bn-scale-invariant"]
    assert ok.kind == "check" and ok.verdict == "holds"
    broken = np.zeros((3, 4))
    broken[2] = 0.05  # 5% change at scale 10, where Var[aWu] ≫ ε
    bad = claims(config(), measurements([0.5] * 4, [0.1] * 4, relative=broken))["bn-scale-invariant"]
    assert bad.verdict == "fails"
    # The ε-limited scale 0.01 may break the identity without failing the check.
    limited = np.zeros((3, 4))
    limited[0] = 0.8
    assert claims(config(), measurements([0.5] * 4, [0.1] * 4, relative=limited))["bn-scale-invariant"].verdict == "holds"
    wrong_gradient = np.repeat(np.asarray([[100.0], [1.0], [0.5]]), 4, axis=1)
    assert claims(config(), measurements([0.5] * 4, [0.1] * 4, ratio=wrong_gradient))["bn-scale-invariant"].verdict == "fails"
    nothing = claims(config(), measurements([0.5] * 4, [0.1] * 4, variance=(1e-5, 1.0, 1e-3)))["bn-scale-invariant"]
    assert nothing.verdict == "fails" and "nothing could be checked" in nothing.evidence


def test_a_missing_dataset_is_recorded_as_skipped():
    found = claims(config(datasets=("mnist", "fashion-mnist")), measurements([0.5] * 4, [0.1] * 4))
    assert all(c.base.skipped == ("Fashion-MNIST",) and c.base.seeds == 4 for c in found.values())
