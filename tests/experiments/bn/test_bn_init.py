import numpy as np
import pytest

from replab.errors import ConfigError
from replab.experiments.bn import bn_init
from replab.experiments.base import apply_overrides
from tests.helpers import VERDICT_WORDS, paired_t_verdict



@pytest.fixture(scope="module")
def quick():
    config = bn_init.Config.quick()
    return config, bn_init.run(config)


def test_quick_run_yields_figures_tables_claims_and_scalars(quick):
    config, result = quick
    assert set(result.figures) == {"final_accuracy", "curves"}
    assert [c.id for c in result.claims] == ["bn-init-resilient", "bn-scale-invariant"]
    assert [t.title for t in result.tables] == ["Initial weight scale on MNIST"]
    assert len(result.scalars) == 2 * len(config.scales)
    (section,) = result.metrics["datasets"]
    assert np.asarray(section["models"]["batch"]["final_accuracy"]).shape == (len(config.scales), config.n_seeds)


def test_scale_invariance_is_measured_not_assumed(quick):
    config, result = quick
    at_init = result.metrics["datasets"][0]["at_init"]
    relative = np.asarray(at_init["relative_difference"]).max(axis=1)
    ratio = np.asarray(at_init["gradient_ratio"]).mean(axis=1)
    one = config.scales.index(1.0)
    assert relative[one] == 0 and ratio[one] == pytest.approx(1)
    # Where Var[aWu] ≫ ε the identity holds closely (scale 10); where it is below ε (scale 0.01) it breaks.
    ten, hundredth = config.scales.index(10.0), config.scales.index(0.01)
    assert relative[ten] < 0.01 and ratio[ten] == pytest.approx(0.1, rel=0.01)
    assert relative[hundredth] > 0.1


def expected_verdicts(config, section):
    spreads = {m: np.ptp(np.asarray(section["models"][m]["final_accuracy"]), axis=0) for m in bn_init.MODELS}
    gain = spreads["none"] - spreads["batch"]  # per seed
    resilient = VERDICT_WORDS[paired_t_verdict(gain)]
    at_init = section["at_init"]
    relative = np.asarray(at_init["relative_difference"]).max(axis=1)
    ratio = np.asarray(at_init["gradient_ratio"]).mean(axis=1) * np.asarray(config.scales)
    judged = (np.asarray(at_init["input_variance"]) >= 100 * 1e-3) & (np.asarray(config.scales) != 1)
    holding = (relative < config.invariance_tolerance) & (np.abs(ratio - 1) < config.invariance_tolerance)
    invariant = "inconclusive" if not judged.any() else ("holds" if holding[judged].all() else "fails")
    return {"bn-init-resilient": resilient, "bn-scale-invariant": invariant}


def test_verdicts_follow_from_the_measurements(quick):
    config, result = quick
    assert {c.id: c.verdict for c in result.claims} == expected_verdicts(config, result.metrics["datasets"][0])


def test_a_grid_without_the_default_scale_is_refused():
    with pytest.raises(ConfigError, match="scales must include 1"):
        apply_overrides(bn_init.Config(), {"scales": "0.1,10"})
