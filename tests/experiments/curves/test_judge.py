"""The curves claims judged on hand-built measurements (nothing is fitted): each finding reaches holds, fails and
inconclusive, each check holds and fails."""

import dataclasses
import importlib

import numpy as np
import pytest

from replab.experiments import curves
from replab.experiments.curves.judge import judge
from replab.experiments.curves.measure import MINIMUM_TEST_POSITIVES, Measurements

CONFIG = curves.Config(n_seeds=10)
LABELS = ("50/50", "75/25", "90/10", "99/1")
S, T = 10, 1250


def hand_built(roc=None, ap=None, coarse_gap=None, trapezoid_gap=None, mixed_ties=None, test_positives=12,
               fixed_roc=None, fixed_ap=None, fixed_positives=12):
    """Two models × four levels × ten seeds. Defaults: ROC-AUC flat at 0.9, AP falling by 0.1 a level, the
    trapezoid just under AP, and a clear positive gap on rounded scores."""
    rng = np.random.default_rng(1)
    shape = (2, 4, S)
    roc = roc if roc is not None else 0.9 + 0.003 * rng.standard_normal(shape)
    ap = ap if ap is not None else (0.9 - 0.1 * np.arange(4))[None, :, None] + 0.005 * rng.standard_normal(shape)
    gap = trapezoid_gap if trapezoid_gap is not None else -0.001 - 0.001 * rng.random(shape)
    coarse = coarse_gap if coarse_gap is not None else 0.02 + 0.002 * rng.standard_normal(shape)
    positives = np.array([[625] * S, [312] * S, [125] * S, [test_positives] * S])
    fixed_rng = np.random.default_rng(5)
    fixed_roc = fixed_roc if fixed_roc is not None else 0.9 + 0.003 * fixed_rng.standard_normal(shape)
    fixed_ap = fixed_ap if fixed_ap is not None else ap + 0.005 * fixed_rng.standard_normal(shape)
    first_y = np.zeros((4, T), int)
    for level in range(4):
        first_y[level, :positives[level, 0]] = 1
    return Measurements(
        labels=LABELS, models=("logistic", "hist_gradient_boosting"), negative_shares=np.array([0.5, 0.75, 0.9, 0.99]),
        expected_prevalence=np.array([0.5, 0.25, 0.1, 0.01]), data_seeds=np.arange(S),
        n_train=np.full((4, S), 3750), n_train_positive=positives * 3, n_test=np.full((4, S), T),
        n_test_positive=positives, roc_auc=roc, ap=ap, trapezoid=ap + gap,
        mixed_ties=mixed_ties if mixed_ties is not None else np.zeros(shape, bool), coarse_gap=coarse,
        chance_precision=np.full((4, 20, 9), 0.3), chance_roc_auc=np.full((4, 20), 0.5), chance_ap=np.full((4, 20), 0.3),
        chance_prevalence=first_y.mean(axis=1), chance_n_test=np.full(4, T), first_y=first_y,
        first_scores=np.zeros((2, 4, T)), fixed_roc_auc=fixed_roc, fixed_ap=fixed_ap, fixed_trapezoid=fixed_ap - 0.001,
        fixed_n_test_positive=np.array([625, 312, 125, fixed_positives]), fixed_train_prevalence=np.full(S, 0.5))


def claims_of(measurements, config=CONFIG):
    return {c.id: c for c in judge(config, measurements)}


def test_the_expected_outcome_holds_everywhere():
    claims = judge(CONFIG, hand_built())
    assert [(c.id, c.kind, c.verdict) for c in claims] == [
        ("roc-stable", "finding", "holds"), ("ap-falls", "finding", "holds"),
        ("pr-chance-is-prevalence", "check", "holds"), ("trapezoid-untied-bound", "check", "holds"),
        ("trapezoid-overstates", "finding", "holds"), ("roc-stable-fixed-model", "finding", "holds"),
        ("ap-falls-fixed-model", "finding", "holds"), ("imbalance-hurts-model", "finding", "inconclusive")]


def _roc(rarest_shift, noise=0.003):
    rng = np.random.default_rng(2)
    roc = 0.9 + noise * rng.standard_normal((2, 4, S))
    roc[:, -1] += rarest_shift
    return roc


@pytest.mark.parametrize("roc, positives, expected", [
    (_roc(0.0), 12, "holds"),            # moves by well under the ±0.05 margin
    (_roc(-0.2), 12, "fails"),           # drops by 0.2: significantly beyond the margin
    (_roc(-0.05, noise=0.05), 12, "inconclusive"),  # right at the margin, noisy
    (_roc(0.0), 2, "inconclusive"),      # two test positives cannot decide it, whatever the numbers
])
def test_roc_stable(roc, positives, expected):
    found = claims_of(hand_built(roc=roc, test_positives=positives))["roc-stable"]
    assert found.verdict == expected
    assert all(t.margin == CONFIG.roc_tolerance for t in found.tests if t.available)
    if positives < MINIMUM_TEST_POSITIVES:
        assert "fewer than 10" in found.reason


def _ap(step_shift, noise=0.005):
    rng = np.random.default_rng(3)
    ap = (0.9 - 0.1 * np.arange(4))[None, :, None] + noise * rng.standard_normal((2, 4, S))
    ap[1, 2] += step_shift  # gradient boosting at 90/10
    return ap


@pytest.mark.parametrize("ap, expected", [
    (_ap(0.0), "holds"),
    (_ap(0.2), "fails"),                   # AP rises from 75/25 to 90/10
    (_ap(0.1, noise=0.05), "inconclusive"),  # flat between 75/25 and 90/10, and noisy
])
def test_ap_falls(ap, expected):
    assert claims_of(hand_built(ap=ap))["ap-falls"].verdict == expected


def test_ap_falls_cannot_hold_on_a_level_with_too_few_positives():
    found = claims_of(hand_built(test_positives=3))["ap-falls"]
    assert found.verdict == "inconclusive" and "99/1" in found.reason


@pytest.mark.parametrize("shift, positives, expected", [
    (0.0, 12, "holds"), (-0.2, 12, "fails"), (0.0, 3, "inconclusive")])
def test_roc_stable_fixed_model(shift, positives, expected):
    found = claims_of(hand_built(fixed_roc=_roc(shift), fixed_positives=positives))["roc-stable-fixed-model"]
    assert found.verdict == expected


@pytest.mark.parametrize("ap, expected", [(_ap(0.0), "holds"), (_ap(0.2), "fails")])
def test_ap_falls_fixed_model(ap, expected):
    assert claims_of(hand_built(fixed_ap=ap))["ap-falls-fixed-model"].verdict == expected


@pytest.mark.parametrize("retrained_shift, expected", [(-0.1, "holds"), (0.1, "fails"), (0.0, "inconclusive")])
def test_imbalance_hurts_model_compares_the_two_arms(retrained_shift, expected):
    found = claims_of(hand_built(roc=_roc(retrained_shift)))["imbalance-hurts-model"]
    assert found.verdict == expected
    assert all(t.method.startswith("bootstrap") for t in found.tests)


def _coarse(cell_mean, noise=0.002):
    rng = np.random.default_rng(4)
    gaps = 0.02 + noise * rng.standard_normal((2, 4, S))
    gaps[0, 0] = cell_mean + noise * rng.standard_normal(S)
    return gaps


@pytest.mark.parametrize("gaps, expected", [
    (_coarse(0.02), "holds"),
    (_coarse(-0.02), "fails"),                    # logistic regression at 50/50 understates
    (_coarse(0.0, noise=0.01), "inconclusive"),
])
def test_trapezoid_overstates_on_tied_scores(gaps, expected):
    found = claims_of(hand_built(coarse_gap=gaps))["trapezoid-overstates"]
    assert found.verdict == expected
    assert len(found.tests) == 8


def test_trapezoid_untied_bound_fails_on_an_untied_curve_above_ap_but_ignores_tied_ones():
    gap = -0.001 * np.ones((2, 4, S))
    gap[1, 3, 0] = 0.01
    assert claims_of(hand_built(trapezoid_gap=gap))["trapezoid-untied-bound"].verdict == "fails"
    ties = np.zeros((2, 4, S), bool)
    ties[1, 3, 0] = True
    found = claims_of(hand_built(trapezoid_gap=gap, mixed_ties=ties))["trapezoid-untied-bound"]
    assert found.verdict == "holds" and "79 of 80" in found.evidence
    everything_tied = claims_of(hand_built(mixed_ties=np.ones((2, 4, S), bool)))["trapezoid-untied-bound"]
    assert everything_tied.verdict == "inconclusive" and everything_tied.reason


def test_pr_chance_check_fails_when_the_expected_precision_is_not_the_prevalence(monkeypatch):
    assert claims_of(hand_built())["pr-chance-is-prevalence"].verdict == "holds"
    monkeypatch.setattr(importlib.import_module("replab.experiments.curves.judge"), "exact_chance_precision", lambda n, positives: np.full(9, positives / n + 0.01))
    assert claims_of(hand_built())["pr-chance-is-prevalence"].verdict == "fails"


def test_evidence_base_records_seeds_examples_and_quick():
    claims = judge(dataclasses.replace(CONFIG, quick=True), hand_built())
    assert all(c.base.quick and c.base.seeds == 10 and c.base.examples == T for c in claims)
    assert not any(c.base.quick for c in judge(CONFIG, hand_built()))
