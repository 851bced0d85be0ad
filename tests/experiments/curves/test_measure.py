"""The curves measurement's parts: the step-wise AP against the trapezoid on a hand example, the fixed-model arm
(which fits the quick config's models) and the metrics the measurements keep."""

import importlib

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import auc, precision_recall_curve
from sklearn.model_selection import train_test_split

from replab.experiments.curves.config import Config, positives_at
from replab.experiments.curves.measure import curve_metrics, fixed_model_arm, make_model
from tests.experiments.curves.test_judge import LABELS, T, hand_built

QUICK = Config.quick()


def test_step_wise_ap_is_not_the_trapezoid_on_a_hand_example():
    # ranking: neg, pos, pos, neg -> AP = (1/2)(1/2) + (1/2)(2/3) = 7/12
    y, scores = np.array([0, 1, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1])
    assert curve_metrics(y, scores)["ap"] == pytest.approx(7 / 12)
    precision, recall, _ = precision_recall_curve(y, scores)
    assert curve_metrics(y, scores)["trapezoid_pr_auc"] == pytest.approx(auc(recall, precision))
    # the trapezoid averages the jump in precision when a positive is found: (0 + 1/2)/2·1/2 + (1/2 + 2/3)/2·1/2
    assert auc(recall, precision) == pytest.approx(0.5 * 0.25 + 0.5 * (0.5 + 2 / 3) / 2)


@pytest.mark.slow
def test_fixed_model_arm_fits_once_and_keeps_every_pool_points_score_across_levels(monkeypatch):
    fits = []
    original = make_model

    def counting(name, random_state):
        fits.append(name)
        return original(name, random_state)

    monkeypatch.setattr(importlib.import_module("replab.experiments.curves.measure"), "make_model", counting)
    arm = fixed_model_arm(QUICK, 7)
    # an independent fit on the same balanced training split predicts the same scores for the resampled points
    x, y = make_classification(n_samples=QUICK.n_train + QUICK.pool_size, weights=[0.5], flip_y=QUICK.flip_y,
                               random_state=7)
    x_train, x_pool, y_train, y_pool = train_test_split(x, y, train_size=QUICK.n_train, stratify=y, random_state=7)
    assert np.array_equal(y_pool, arm.pool_y)
    reference = LogisticRegression().fit(x_train, y_train)
    for level, chosen in enumerate(arm.indices):
        assert arm.scores[0][level] == pytest.approx(reference.predict_proba(x_pool[chosen])[:, 1], rel=1e-9)
    assert fits == list(QUICK.models) and arm.fits == len(QUICK.models)
    assert arm.train_prevalence == pytest.approx(0.5, abs=0.01)
    for m in range(len(QUICK.models)):
        score_of = {}
        shared = 0
        for level, chosen in enumerate(arm.indices):
            for index, score in zip(chosen, arm.scores[m][level]):
                if index in score_of:
                    shared += 1
                    assert score == score_of[index]  # the same model: the same prediction for the same pool point
                score_of[index] = score
        assert shared > 0


@pytest.mark.slow
def test_fixed_model_arm_changes_only_the_test_prevalence():
    arm = fixed_model_arm(QUICK, 7)
    for share, chosen in zip(QUICK.negative_shares, arm.indices):
        assert len(chosen) == QUICK.n_test and len(set(chosen)) == len(chosen)
        assert arm.pool_y[chosen].sum() == positives_at(QUICK.n_test, share)
    # each seed its own pool and resample
    other = fixed_model_arm(QUICK, 8)
    assert not np.array_equal(other.indices[-1], arm.indices[-1])


def test_metrics_keep_their_names():
    metrics = hand_built().to_metrics()
    assert metrics["level_order"] == list(LABELS)
    level = metrics["levels"]["99/1"]
    assert set(level["models"]["logistic"]) >= {"roc_auc", "ap", "trapezoid_pr_auc", "trapezoid_minus_ap",
                                                "coarse_trapezoid_minus_ap"}
    assert level["chance"]["test_prevalence"] == pytest.approx(12 / T)
    assert set(metrics["change_most_balanced_to_rarest"]["logistic"]) == {"roc_auc", "ap"}
    assert set(metrics["fixed_model"]["levels"]["99/1"]["models"]["logistic"]) == {"roc_auc", "ap", "trapezoid_pr_auc"}
