"""The curves experiment: every number and verdict re-derived here from raw scikit-learn and numpy calls."""

import dataclasses
import json
import re

import numpy as np
import pytest
import scipy.stats
from matplotlib.figure import Figure
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from replab.claims import VERDICTS
from replab.experiments import curves
from replab.experiments.curves.config import MODEL_LABELS
from replab.experiments.curves.measure import MINIMUM_TEST_POSITIVES, fixed_model_arm

QUICK = curves.Config.quick()
CLAIM_IDS = {"roc-stable", "ap-falls", "pr-chance-is-prevalence", "trapezoid-untied-bound", "trapezoid-overstates",
             "roc-stable-fixed-model", "ap-falls-fixed-model", "imbalance-hurts-model"}
KINDS = {"roc-stable": "finding", "ap-falls": "finding", "pr-chance-is-prevalence": "check",
         "trapezoid-untied-bound": "check", "trapezoid-overstates": "finding", "roc-stable-fixed-model": "finding",
         "ap-falls-fixed-model": "finding", "imbalance-hurts-model": "finding"}


@pytest.fixture(scope="module")
def quick_run():
    calls = []
    result = curves.run(QUICK, lambda done, total, description: calls.append((done, total, description)))
    return result, calls


@pytest.fixture(scope="module")
def quick(quick_run):
    return quick_run[0]


def level_label(share):
    return f"{round(share * 100, 4):g}/{round((1 - share) * 100, 4):g}"


@pytest.fixture(scope="module")
def independent():
    """For the quick config, per level: the splits' counts and each model's metrics, one entry per seed."""
    # single-threaded, as OpenMP threads make these small fits many times slower on busy cores
    with threadpool_limits(limits=1, user_api="openmp"):
        return independent_metrics()


def independent_metrics():
    seeds = [int(s) for s in np.random.SeedSequence(QUICK.seed).generate_state(QUICK.n_seeds)]
    levels = {}
    for share in QUICK.negative_shares:
        level = {"seeds": seeds, "y_test": [], "y_train": [], "y_all": [],
                 "models": {name: {"roc_auc": [], "ap": [], "trapezoid": [], "coarse_gap": []} for name in QUICK.models}}
        for seed in seeds:
            X, y = make_classification(n_samples=QUICK.n_samples, weights=[share], flip_y=QUICK.flip_y, random_state=seed)
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=QUICK.test_share, stratify=y,
                                                                random_state=seed)
            level["y_all"].append(y)
            level["y_train"].append(y_train)
            level["y_test"].append(y_test)
            models = {"logistic": LogisticRegression(), "hist_gradient_boosting": HistGradientBoostingClassifier(random_state=seed)}
            for name in QUICK.models:
                scores = models[name].fit(X_train, y_train).predict_proba(X_test)[:, 1]
                precision, recall, _ = precision_recall_curve(y_test, scores)
                values = level["models"][name]
                values["roc_auc"].append(roc_auc_score(y_test, scores))
                values["ap"].append(average_precision_score(y_test, scores))
                values["trapezoid"].append(auc(recall, precision))
                values.setdefault("mixed_tie", []).append(bool(set(scores[y_test == 1]) & set(scores[y_test == 0])))
                coarse = np.round(scores, 1)
                coarse_precision, coarse_recall, _ = precision_recall_curve(y_test, coarse)
                values["coarse_gap"].append(auc(coarse_recall, coarse_precision) - average_precision_score(y_test, coarse))
        levels[level_label(share)] = level
    return levels


def mean(values):
    return float(np.mean(values))


# --- numbers ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_seeds_are_derived_from_the_config_seed(quick, independent):
    assert quick.metrics["data_seeds"] == next(iter(independent.values()))["seeds"]
    assert quick.metrics["level_order"] == ["50/50", "75/25", "90/10", "99/1"]


@pytest.mark.slow
def test_metrics_match_an_independent_computation(quick, independent):
    for label, expected in independent.items():
        level = quick.metrics["levels"][label]
        for name in QUICK.models:
            got, want = level["models"][name], expected["models"][name]
            np.testing.assert_allclose(got["roc_auc"]["values"], want["roc_auc"], atol=1e-9)
            np.testing.assert_allclose(got["ap"]["values"], want["ap"], atol=1e-9)
            np.testing.assert_allclose(got["trapezoid_pr_auc"]["values"], want["trapezoid"], atol=1e-9)
            np.testing.assert_allclose(got["coarse_trapezoid_minus_ap"]["values"], want["coarse_gap"], atol=1e-9)
            assert got["roc_auc"]["mean"] == pytest.approx(mean(want["roc_auc"]), abs=1e-9)
            assert got["roc_auc"]["std"] == pytest.approx(float(np.std(want["roc_auc"], ddof=1)), abs=1e-9)
            assert got["ap"]["mean"] == pytest.approx(mean(want["ap"]), abs=1e-9)
            assert got["ap"]["std"] == pytest.approx(float(np.std(want["ap"], ddof=1)), abs=1e-9)
            assert got["trapezoid_pr_auc"]["mean"] == pytest.approx(mean(want["trapezoid"]), abs=1e-9)


@pytest.mark.slow
def test_test_prevalence_is_the_nominal_minority_share(quick, independent):
    for label, expected in independent.items():
        level = quick.metrics["levels"][label]
        measured = [float(np.mean(y)) for y in expected["y_test"]]
        np.testing.assert_allclose(level["test_prevalence"]["values"], measured, atol=1e-12)
        n_test = len(expected["y_test"][0])
        # flip_y = 0: only the split's rounding (one sample) and make_classification's per-cluster rounding remain
        for prevalence in measured:
            assert abs(prevalence - level["nominal_prevalence"]) <= 1 / n_test + 2 / QUICK.n_samples
        assert level["nominal_prevalence"] == pytest.approx(1 - level["negative_share"])


@pytest.mark.slow
def test_flip_y_moves_the_prevalence_as_expected():
    flip_y, n_samples = 0.05, 4000
    config = dataclasses.replace(QUICK, n_samples=n_samples, flip_y=flip_y, models=("logistic",), n_seeds=3,
                                 pool_size=10000)
    result = curves.run(config)
    for share in config.negative_shares:
        level = result.metrics["levels"][level_label(share)]
        nominal = 1 - share
        expected = nominal * (1 - flip_y) + flip_y / 2
        n_test = level["counts"]["n_test"][0]
        # flipped labels are a binomial draw, half of them positive: prevalence sd ≈ sqrt(flip_y / (4 n))
        tolerance = 4 * np.sqrt(flip_y / (4 * n_samples)) + 1 / n_test + 2 / n_samples
        for prevalence in level["test_prevalence"]["values"]:
            assert abs(prevalence - expected) <= tolerance
    rarest = result.metrics["levels"]["99/1"]
    assert rarest["test_prevalence"]["mean"] > rarest["nominal_prevalence"] + 0.01  # 0.01 -> about 0.035
    assert any("flip_y = 0.05" in note for note in result.notes)


@pytest.mark.slow
def test_stratified_split_keeps_train_and_test_prevalence_within_one_sample(quick, independent):
    for label, expected in independent.items():
        counts = quick.metrics["levels"][label]["counts"]
        for i, (y, y_train, y_test) in enumerate(zip(expected["y_all"], expected["y_train"], expected["y_test"])):
            assert counts["n_test_positive"][i] == int(y_test.sum())
            assert counts["n_train_positive"][i] == int(y_train.sum())
            assert counts["n_test"][i] == len(y_test) and counts["n_train"][i] == len(y_train)
            assert abs(y_test.sum() - len(y_test) * y_train.mean()) <= 1
            assert abs(y_test.sum() - len(y_test) * y.mean()) <= 1
            assert abs(y_train.sum() - len(y_train) * y.mean()) <= 1


# --- verdicts ------------------------------------------------------------------------------------------


def claim(result, claim_id):
    return next(c for c in result.claims if c.id == claim_id)


def verdict(holds):
    return "inconclusive" if holds is None else ("holds" if holds else "fails")


@pytest.mark.slow
def test_roc_stable_is_not_decided_on_test_sets_with_two_positives(quick, independent):
    labels = list(independent)
    first, last = independent[labels[0]], independent[labels[-1]]
    deltas = {name: mean(last["models"][name]["roc_auc"]) - mean(first["models"][name]["roc_auc"])
              for name in QUICK.models}
    found = claim(quick, "roc-stable")
    positives = [int(y.sum()) for y in last["y_test"]]
    assert max(positives) < MINIMUM_TEST_POSITIVES  # the quick run's 99/1 test sets hold 2 or 3 positives
    assert found.kind == "finding" and found.direction == "equal"
    assert found.verdict == "inconclusive"
    assert f"fewer than {MINIMUM_TEST_POSITIVES}" in found.reason
    assert all(not test.available for test in found.tests)
    for name, delta in deltas.items():
        assert f"{delta:+.4f}" in found.evidence
        ap_delta = mean(last["models"][name]["ap"]) - mean(first["models"][name]["ap"])
        assert f"{ap_delta:+.4f}" in found.evidence
        assert quick.metrics["change_most_balanced_to_rarest"][name]["roc_auc"] == pytest.approx(delta, abs=1e-9)


@pytest.mark.slow
def test_roc_stable_on_enough_positives_is_a_tost_over_seeds():
    config = dataclasses.replace(QUICK, negative_shares=(0.5, 0.9), models=("logistic",), n_seeds=3)
    result = curves.run(config)
    found = claim(result, "roc-stable")
    level = result.metrics["levels"]
    rare, balanced = level["90/10"]["models"]["logistic"]["roc_auc"]["values"], \
        level["50/50"]["models"]["logistic"]["roc_auc"]["values"]
    differences = np.subtract(rare, balanced)
    test = found.tests[0]
    assert test.available and test.margin == config.roc_tolerance
    assert test.effect == pytest.approx(differences.mean())
    lower = scipy.stats.ttest_1samp(differences, -config.roc_tolerance, alternative="greater").pvalue
    upper = scipy.stats.ttest_1samp(differences, config.roc_tolerance, alternative="less").pvalue
    assert test.p_equivalent == pytest.approx(max(lower, upper))


@pytest.mark.slow
def test_ap_falls_tests_each_step_paired_by_seed(quick, independent):
    found = claim(quick, "ap-falls")
    labels = list(independent)
    tests = iter(found.tests)
    for name in QUICK.models:
        ap = [level["models"][name]["ap"] for level in independent.values()]
        assert all(f"{mean(values):.4f}" in found.evidence for values in ap)
        for k in range(len(labels) - 1):
            test = next(tests)
            assert test.label == f"{MODEL_LABELS[name]}, {labels[k]} → {labels[k + 1]}"
            if labels[k + 1] == "99/1":  # two or three test positives: not a comparison the data support
                assert not test.available
                continue
            assert test.effect == pytest.approx(mean(np.subtract(ap[k], ap[k + 1])), abs=1e-12)
            assert test.p_greater == pytest.approx(scipy.stats.ttest_rel(ap[k], ap[k + 1], alternative="greater").pvalue)
    assert found.verdict in ("inconclusive", "fails")  # an unavailable step means it cannot hold


@pytest.mark.slow
def test_trapezoid_never_exceeds_ap_on_untied_scores(quick, independent):
    found = claim(quick, "trapezoid-untied-bound")
    gaps, untied = [], 0
    for level in independent.values():
        for name in QUICK.models:
            values = level["models"][name]
            for trapezoid, ap, tied in zip(values["trapezoid"], values["ap"], values["mixed_tie"]):
                if not tied:
                    untied += 1
                    gaps.append(trapezoid - ap)
    assert untied and max(gaps) <= 1e-12  # the theorem, on independently computed curves
    assert found.kind == "check" and found.verdict == "holds"
    assert f"{untied} of {len(gaps) + sum(sum(level['models'][n]['mixed_tie']) for level in independent.values() for n in QUICK.models)}" in found.evidence


@pytest.mark.slow
def test_trapezoid_overstates_is_a_test_per_level_and_model_on_tied_scores(quick, independent):
    found = claim(quick, "trapezoid-overstates")
    assert found.kind == "finding" and found.direction == "greater"
    expected = [(f"{MODEL_LABELS[name]} at {label}", level["models"][name]["coarse_gap"])
                for name in QUICK.models for label, level in independent.items()]
    assert [t.label for t in found.tests] == [label for label, _ in expected]
    for test, (_, gaps) in zip(found.tests, expected):
        assert test.effect == pytest.approx(mean(gaps), abs=1e-12)
        assert test.p_greater == pytest.approx(scipy.stats.ttest_1samp(gaps, 0.0, alternative="greater").pvalue)
        assert f"{mean(gaps):+.5f}" in found.evidence


@pytest.mark.slow
def test_pr_chance_check(quick, independent):
    found = claim(quick, "pr-chance-is-prevalence")
    assert found.kind == "check"
    rng = np.random.default_rng(12345)
    for label, expected in independent.items():
        chance = quick.metrics["levels"][label]["chance"]
        y_test = expected["y_test"][0]
        prevalence = float(np.mean(y_test))
        assert chance["test_prevalence"] == pytest.approx(prevalence, abs=1e-12)
        assert chance["n_draws"] == QUICK.n_chance_draws
        measured = chance["precision"]
        assert f"prevalence {prevalence:.4f}" in found.evidence
        # the theorem: hits among the top k of a random ranking are hypergeometric, mean k·P/n
        n, positives = len(y_test), int(y_test.sum())
        for k in np.ceil(np.linspace(0.1, 0.9, 9) * n).astype(int):
            assert scipy.stats.hypergeom(n, positives, k).mean() / k == pytest.approx(prevalence, abs=1e-12)
        # an independent no-skill measurement: precision of random scores thresholded at 0.5
        draws = [precision_score(y_test, rng.random(len(y_test)) >= 0.5, zero_division=0.0) for _ in range(400)]
        own_mean, own_se = np.mean(draws), np.std(draws, ddof=1) / np.sqrt(len(draws))
        assert abs(own_mean - measured["mean"]) <= 4 * np.hypot(own_se, measured["se"])
        assert abs(chance["roc_auc"]["mean"] - 0.5) <= 4 * chance["roc_auc"]["se"]
    assert found.verdict == "holds"


# --- the run as a whole ----------------------------------------------------------------------------


@pytest.mark.slow
def test_quick_run_yields_every_figure_claim_table_and_note(quick):
    assert set(quick.figures) == {"curves_grid", "metrics_vs_prevalence"}
    assert all(isinstance(figure, Figure) for figure in quick.figures.values())
    n_levels = len(QUICK.negative_shares)
    grid_axes = quick.figures["curves_grid"].axes
    assert len(grid_axes) == 2 * n_levels
    # each panel shows both models plus the chance line
    assert all(len(ax.get_lines()) >= len(QUICK.models) + 1 for ax in grid_axes)
    assert len(quick.figures["metrics_vs_prevalence"].axes) == 2
    assert {c.id for c in quick.claims} == CLAIM_IDS
    for found in quick.claims:
        assert found.verdict in VERDICTS and found.kind == KINDS[found.id]
        assert re.search(r"\d\.\d{3}", found.evidence)
    assert len(quick.tables[0].rows) == n_levels * len(QUICK.models)
    assert len(quick.tables[1].rows) == n_levels * len(QUICK.models)  # fixed model vs retrained
    assert len(quick.tables[2].rows) == n_levels
    assert len(quick.notes) >= 2 and any("fraud" in note for note in quick.notes)
    assert any("spam" in note for note in quick.notes)
    json.dumps(quick.metrics)


@pytest.mark.slow
def test_quick_run_is_marked_quick_end_to_end(quick):
    assert QUICK.quick and quick.quick
    assert all(c.base.quick and c.base.seeds == QUICK.n_seeds for c in quick.claims)


@pytest.mark.slow
def test_progress_is_reported_per_fit(quick_run):
    _, calls = quick_run
    total = len(QUICK.negative_shares) * (QUICK.n_seeds * len(QUICK.models) + 1) + QUICK.n_seeds
    assert [done for done, _, _ in calls] == list(range(1, total + 1))
    assert all(t == total for _, t, _ in calls)
    assert any(description.startswith("level 99/1, seed 2/2") for _, _, description in calls)


# --- the fixed-model arm ------------------------------------------------------------------------------


@pytest.mark.slow
def test_fixed_model_measurements_come_from_the_arm(quick):
    seed = quick.metrics["data_seeds"][0]
    arm = fixed_model_arm(QUICK, seed)
    y = arm.pool_y[arm.indices[-1]]
    fixed = quick.metrics["fixed_model"]["levels"][level_label(QUICK.negative_shares[-1])]["models"]["logistic"]
    assert fixed["ap"]["values"][0] == pytest.approx(average_precision_score(y, arm.scores[0][-1]))


@pytest.mark.slow
def test_same_config_gives_the_same_numbers():
    config = dataclasses.replace(QUICK, models=("logistic",), n_chance_draws=20)
    assert curves.run(config).metrics == curves.run(config).metrics
