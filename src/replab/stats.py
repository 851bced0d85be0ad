"""The one statistics layer: every empirical claim is decided here, with scipy.stats doing the arithmetic.

An experiment measures, then turns each comparison into a `Test`: an effect with its 95% confidence interval,
one-sided p-values in both directions, and, where the claim states a margin, the equivalence (TOST) p-value.
`replab.claims.decide` then applies one rule to every finding of a run:

- **holds**: the effect in the claimed direction is significant at 95%, after Benjamini–Hochberg over every
  p-value the run's verdicts use;
- **fails**: the effect is significantly against the claim, or equivalence within the stated margin is shown;
- **inconclusive**: neither.

Constructors: `paired` (ttest_rel, or Wilcoxon on request), `one_sample` (ttest_1samp), `proportion` (exact
binomial test with a Wilson interval), `bootstrap` (scipy.stats.bootstrap for statistics without a closed form)
and `unavailable` (the data cannot support a test, and why).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Callable, Literal, Sequence

import numpy as np


def _scipy():
    """scipy.stats, imported on first use: the commands that only read runs (list, show, report) start in well
    under a second without it."""
    import scipy.stats

    return scipy.stats


ALPHA = 0.05
CONFIDENCE = 1 - ALPHA
Direction = Literal["greater", "less", "equal"]
DIRECTIONS: tuple[Direction, ...] = ("greater", "less", "equal")
Method = Literal["t", "wilcoxon"]


@dataclass(frozen=True)
class Test:
    """One comparison's numbers. `effect` is measured against `null` (0 for a difference, a threshold for a rate).

    p_greater / p_less: one-sided p-values for effect > null and effect < null.
    p_equivalent: TOST p-value for |effect − null| < margin; p_beyond: p-value for |effect − null| > margin.
    p_adjusted, p_equivalent_adjusted, p_beyond_adjusted: the same after Benjamini–Hochberg (set by `decide`).
    """

    label: str
    effect: float
    ci_low: float
    ci_high: float
    p_greater: float
    p_less: float
    n: int
    method: str
    null: float = 0.0
    margin: float | None = None
    p_equivalent: float | None = None
    p_beyond: float | None = None
    note: str = ""
    p_adjusted: float | None = None
    p_equivalent_adjusted: float | None = None
    p_beyond_adjusted: float | None = None
    verdict: str | None = None

    @property
    def p_two_sided(self) -> float:
        return min(1.0, 2 * min(self.p_greater, self.p_less))

    @property
    def available(self) -> bool:
        return not self.note

    def to_dict(self) -> dict:
        return {key: _plain(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "Test":
        names = cls.__dataclass_fields__
        return cls(**{key: (math.nan if value is None and key in _FLOAT_FIELDS else value)
                      for key, value in data.items() if key in names})


_FLOAT_FIELDS = {"effect", "ci_low", "ci_high", "p_greater", "p_less"}


def _plain(value):
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# --- constructors --------------------------------------------------------------------------------------------


def paired(a, b, label: str, *, margin: float | None = None, method: Method = "t") -> Test:
    """Paired comparison of a and b (one value per seed each): effect = mean(a − b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired needs two 1-D arrays of equal length, got {a.shape} and {b.shape}")
    differences = a - b
    if method == "wilcoxon":
        return _wilcoxon(differences, label, margin)
    if method != "t":
        raise ValueError(f"method must be 't' or 'wilcoxon', got {method!r}")
    if (test := _degenerate(differences, label, 0.0, margin, "paired t")) is not None:
        return test
    greater = _scipy().ttest_rel(a, b, alternative="greater")
    less = _scipy().ttest_rel(a, b, alternative="less")
    interval = _scipy().ttest_rel(a, b).confidence_interval(CONFIDENCE)
    return _with_margin(Test(label, float(differences.mean()), float(interval.low), float(interval.high),
                             float(greater.pvalue), float(less.pvalue), differences.size, "paired t"),
                        differences, margin)


def one_sample(values, label: str, *, null: float = 0.0, margin: float | None = None) -> Test:
    """One-sample t-test of mean(values) against `null`."""
    values = np.asarray(values, float)
    if values.ndim != 1:
        raise ValueError(f"one_sample needs a 1-D array, got shape {values.shape}")
    if (test := _degenerate(values - null, label, null, margin, "one-sample t")) is not None:
        return test
    greater = _scipy().ttest_1samp(values, null, alternative="greater")
    less = _scipy().ttest_1samp(values, null, alternative="less")
    interval = _scipy().ttest_1samp(values, null).confidence_interval(CONFIDENCE)
    return _with_margin(Test(label, float(values.mean()), float(interval.low), float(interval.high),
                             float(greater.pvalue), float(less.pvalue), values.size, "one-sample t", null=null),
                        values - null, margin)


def proportion(successes: int, n: int, label: str, *, null: float = 0.5) -> Test:
    """Exact binomial test of a success rate against `null`, with a Wilson 95% interval."""
    if n < 1:
        return unavailable(label, "no trials", null=null)
    greater = _scipy().binomtest(int(successes), int(n), null, alternative="greater")
    less = _scipy().binomtest(int(successes), int(n), null, alternative="less")
    low, high = wilson(successes, n)
    return Test(label, successes / n, low, high, float(greater.pvalue),
                float(less.pvalue), int(n), "exact binomial (Wilson CI)", null=null)


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The Wilson 95% interval of a success rate."""
    interval = _scipy().binomtest(int(successes), int(n)).proportion_ci(CONFIDENCE, method="wilson")
    return float(interval.low), float(interval.high)


def bootstrap(data: Sequence[np.ndarray], statistic: Callable[..., float], label: str, *, null: float = 0.0,
              margin: float | None = None, seed: int = 0, n_resamples: int = 2000, paired_samples: bool = True) -> Test:
    """A statistic of one or more samples with a bootstrap (BCa) interval; p-values are the bootstrap
    distribution's mass on the other side of `null` (percentile bootstrap test)."""
    data = tuple(np.asarray(d, float) for d in data)
    estimate = float(statistic(*data))
    result = _scipy().bootstrap(data, statistic, paired=paired_samples, vectorized=False, n_resamples=n_resamples,
                                   confidence_level=CONFIDENCE, method="BCa", random_state=np.random.default_rng(seed))
    draws = np.asarray(result.bootstrap_distribution, float)
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):  # BCa is undefined when every resample agrees
        low, high = float(np.quantile(draws, ALPHA / 2)), float(np.quantile(draws, 1 - ALPHA / 2))
    count = draws.size + 1
    p_greater = float((np.sum(draws <= null) + 1) / count)
    p_less = float((np.sum(draws >= null) + 1) / count)
    test = Test(label, estimate, low, high, p_greater, p_less, int(len(data[0])), "bootstrap (BCa CI)", null=null)
    if margin is None:
        return test
    p_equivalent = max(float((np.sum(draws <= null - margin) + 1) / count),
                       float((np.sum(draws >= null + margin) + 1) / count))
    side = draws - null if estimate >= null else null - draws
    p_beyond = min(1.0, 2 * float((np.sum(side <= margin) + 1) / count))
    return replace(test, margin=margin, p_equivalent=p_equivalent, p_beyond=p_beyond)


def exact(label: str, value: float, *, null: float, margin: float | None = None) -> Test:
    """A deterministic computation (no sampling, no seed changes it): where it lies against `null` (and, with a
    margin, inside or beyond ±margin of it) is certain, so each p-value is 0 or 1. Only for measurements that have
    no variability."""
    value = float(value)
    test = Test(label, value, value, value, 0.0 if value > null else 1.0, 0.0 if value < null else 1.0, 1,
                "exact computation (deterministic)", null=null)
    if margin is None:
        return test
    inside = abs(value - null) < margin
    return replace(test, margin=float(margin), p_equivalent=0.0 if inside else 1.0,
                   p_beyond=0.0 if abs(value - null) > margin else 1.0)


def unavailable(label: str, reason: str, *, null: float = 0.0, n: int = 0) -> Test:
    """A test the data cannot support (too few positives, a dataset missing): it can only be inconclusive."""
    return Test(label, math.nan, math.nan, math.nan, 1.0, 1.0, n, "not tested", null=null, note=reason)


def tost(values, margin: float, null: float = 0.0) -> float:
    """Two one-sided t-tests: the p-value for |mean(values) − null| < margin."""
    values = np.asarray(values, float)
    lower = _scipy().ttest_1samp(values, null - margin, alternative="greater").pvalue
    upper = _scipy().ttest_1samp(values, null + margin, alternative="less").pvalue
    return float(max(lower, upper))


def beyond(values, margin: float, null: float = 0.0) -> float:
    """p-value for |mean(values) − null| > margin, on the side the estimate lies (two-sided, so doubled)."""
    values = np.asarray(values, float)
    if values.mean() >= null:
        p = _scipy().ttest_1samp(values, null + margin, alternative="greater").pvalue
    else:
        p = _scipy().ttest_1samp(values, null - margin, alternative="less").pvalue
    return float(min(1.0, 2 * p))


def _with_margin(test: Test, centred: np.ndarray, margin: float | None) -> Test:
    if margin is None:
        return test
    if not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"an equivalence margin must be a positive number, got {margin!r}")
    return replace(test, margin=float(margin), p_equivalent=tost(centred, margin), p_beyond=beyond(centred, margin))


def _degenerate(centred: np.ndarray, label: str, null: float, margin: float | None, method: str) -> Test | None:
    """Too few values, or values that do not vary: the t-test is undefined, so an exact sign test decides."""
    if centred.size < 2:
        return unavailable(label, f"{centred.size} value; a test needs at least 2", null=null, n=centred.size)
    if np.ptp(centred) > 1e-12 * max(1.0, float(np.abs(centred).max())):
        return None
    value = float(centred[0])
    n = centred.size
    sign_p = 0.5 ** n  # every value on one side, by chance, when the median is `null`
    p_greater, p_less = (sign_p, 1.0) if value > 0 else ((1.0, sign_p) if value < 0 else (1.0, 1.0))
    test = Test(label, value + null, value + null, value + null, p_greater, p_less, n,
                f"{method} (no spread: exact sign test)", null=null)
    if margin is None:
        return test
    inside = abs(value) < margin
    return replace(test, margin=float(margin), p_equivalent=sign_p if inside else 1.0,
                   p_beyond=min(1.0, 2 * sign_p) if not inside else 1.0)


def seeds_for_sign_test(alpha: float = ALPHA) -> int:
    """The fewest values for which unanimous agreement is significant in a two-sided exact sign test."""
    return next(n for n in range(1, 64) if 2 * 0.5 ** n < alpha)


def _wilcoxon(differences: np.ndarray, label: str, margin: float | None) -> Test:
    if (test := _degenerate(differences, label, 0.0, margin, "Wilcoxon signed-rank")) is not None:
        return test
    greater = _scipy().wilcoxon(differences, alternative="greater")
    less = _scipy().wilcoxon(differences, alternative="less")
    interval = _scipy().bootstrap((differences,), np.median, confidence_level=CONFIDENCE, n_resamples=2000,
                                     method="percentile", random_state=np.random.default_rng(0)).confidence_interval
    test = Test(label, float(np.median(differences)), float(interval.low), float(interval.high),
                float(greater.pvalue), float(less.pvalue), differences.size, "Wilcoxon signed-rank (median)")
    if margin is None:
        return test
    lower = _scipy().wilcoxon(differences + margin, alternative="greater").pvalue
    upper = _scipy().wilcoxon(differences - margin, alternative="less").pvalue
    if np.median(differences) >= 0:
        far = _scipy().wilcoxon(differences - margin, alternative="greater").pvalue
    else:
        far = _scipy().wilcoxon(differences + margin, alternative="less").pvalue
    return replace(test, margin=float(margin), p_equivalent=float(max(lower, upper)), p_beyond=float(min(1, 2 * far)))


# --- multiple comparisons and the verdict rule -------------------------------------------------------------


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (scipy.stats.false_discovery_control)."""
    p = np.asarray(p_values, float)
    if p.size == 0:
        return p
    return np.asarray(_scipy().false_discovery_control(p, method="bh"), float)


def decision_p_values(test: Test, direction: Direction) -> list[float]:
    """The p-values a test's verdict uses, in the order `adjusted` gives them back (none for a test the data could
    not support: it is not a hypothesis tested, so it does not enter Benjamini–Hochberg)."""
    if not test.available:
        return []
    if direction == "equal":
        return [_p(test.p_equivalent), _p(test.p_beyond)]
    return [test.p_two_sided] + ([_p(test.p_equivalent)] if test.margin is not None else [])


def adjusted(test: Test, direction: Direction, p_values: Sequence[float]) -> Test:
    if not test.available:
        return test
    if direction == "equal":
        return replace(test, p_equivalent_adjusted=float(p_values[0]), p_beyond_adjusted=float(p_values[1]))
    return replace(test, p_adjusted=float(p_values[0]),
                   p_equivalent_adjusted=float(p_values[1]) if test.margin is not None else None)


def test_verdict(test: Test, direction: Direction, alpha: float = ALPHA) -> str:
    """holds / fails / inconclusive for one adjusted test, by the rule in this module's docstring."""
    if not test.available:
        return "inconclusive"
    if direction == "equal":
        if test.margin is None:
            raise ValueError("a claim of equality needs an equivalence margin")
        if _p(test.p_equivalent_adjusted) < alpha:
            return "holds"
        return "fails" if _p(test.p_beyond_adjusted) < alpha else "inconclusive"
    if _p(test.p_adjusted) < alpha:
        toward = test.effect > test.null if direction == "greater" else test.effect < test.null
        return "holds" if toward else "fails"
    if test.margin is not None and _p(test.p_equivalent_adjusted) < alpha:
        return "fails"
    return "inconclusive"


def deciding_p(test: Test, direction: Direction) -> float | None:
    """The adjusted p-value behind a decided test's verdict (for an undecided one, the closest to deciding it)."""
    if direction == "equal":
        options = {"holds": test.p_equivalent_adjusted, "fails": test.p_beyond_adjusted}
    else:
        against = test.p_adjusted if test.p_adjusted is not None and test.p_adjusted < ALPHA \
            else test.p_equivalent_adjusted
        options = {"holds": test.p_adjusted, "fails": against}
    if test.verdict in options:
        return options[test.verdict]
    values = [p for p in (test.p_adjusted, test.p_equivalent_adjusted, test.p_beyond_adjusted)
              if p is not None and math.isfinite(p)]
    return min(values) if values else None


def combined_verdict(verdicts: Sequence[str]) -> str:
    """A claim asked of several datasets or arms: holds if it holds on each, fails if it fails on any."""
    if any(v == "fails" for v in verdicts):
        return "fails"
    if verdicts and all(v == "holds" for v in verdicts):
        return "holds"
    return "inconclusive"


def rule_sentence(alpha: float = ALPHA) -> str:
    """The verdict rule in words, generated from the same constants the code uses."""
    level = f"{100 * (1 - alpha):g}%"
    return (f"A finding holds when its effect is significant in the claimed direction at {level} (p < {alpha:g} after "
            f"Benjamini–Hochberg over every p-value the run's verdicts use); it fails when the effect is significant "
            f"against the claim, or when equivalence within the claim's stated margin is shown (TOST); otherwise it "
            f"is inconclusive. A claim asked of several datasets or arms holds only if it holds on each and fails "
            f"if it fails on any. Checks are true by construction or by a theorem and are reported apart.")


def _p(value: float | None) -> float:
    return 1.0 if value is None or not math.isfinite(value) else float(value)
