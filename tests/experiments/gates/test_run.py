"""The gates experiment end to end: every verdict, number, table and note of a whole run is recomputed here from
raw scikit-learn / numpy calls."""

import json

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from replab.experiments import gates
from replab.experiments.gates.measure import truth_table

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
TRUTH_TABLES = {  # written out by hand, rows in the order of X
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "XOR": [0, 1, 1, 0],
    "XNOR": [1, 0, 0, 1],
}
KNOWN_SEPARABLE = {"AND", "OR", "NAND", "NOR"}
CLAIM_IDS = {"lr-learns-separable", "lr-default-learns-separable", "lr-fails-xor", "svc-learns-all", "lp-predicts-lr"}


@pytest.fixture
def quick(quick_run):
    """The Result of the session's shared quick run of gates (Config.quick(), trained once per test session)."""
    return quick_run("gates")[1]


@pytest.fixture(scope="module")
def reference_accuracy():
    """Training accuracy of the three models, fitted directly with scikit-learn."""
    models = {
        "logistic_seed": lambda: LogisticRegression(solver="lbfgs", C=1000, max_iter=10000),
        "logistic_default": lambda: LogisticRegression(),
        "svc_rbf": lambda: SVC(kernel="rbf", gamma="scale", C=1000),
    }
    return {name: {gate: make().fit(X, y).score(X, y) for gate, y in TRUTH_TABLES.items()}
            for name, make in models.items()}


def claims_by_id(result):
    return {claim.id: claim for claim in result.claims}


def verdict(holds):
    return "holds" if holds else "fails"


def signs(y):
    return np.where(np.asarray(y) == 1, 1.0, -1.0)


@pytest.mark.slow
def test_quick_run_has_every_figure_table_and_claim(quick):
    assert set(quick.figures) == {"decision_regions", "separating_lines"}
    assert all(isinstance(figure, Figure) for figure in quick.figures.values())
    assert len(quick.figures["decision_regions"].axes) == 6 * 3
    assert len(quick.figures["separating_lines"].axes) == 6
    assert claims_by_id(quick).keys() == CLAIM_IDS
    assert {claim.id for claim in quick.claims if claim.kind == "finding"} == {"lr-default-learns-separable"}
    assert [table.title for table in quick.tables] == [
        "Predictions", "Accuracy", "Logistic regression coefficients", "Linear separability (LP)",
        "The seed's numbers: scikit-learn's default tol beside a tight tol"]
    assert quick.notes


@pytest.mark.slow
def test_metrics_are_plain_json(quick):
    assert json.loads(json.dumps(quick.metrics)) == quick.metrics
    assert set(quick.metrics["accuracy"]) == {"logistic_seed", "logistic_default", "svc_rbf"}


@pytest.mark.slow
def test_accuracies_match_independent_fits(quick, reference_accuracy):
    for model, per_gate in reference_accuracy.items():
        for gate, accuracy in per_gate.items():
            assert quick.metrics["accuracy"][model][gate] == pytest.approx(accuracy)


@pytest.mark.slow
def test_coefficients_match_independent_fits(quick):
    for model, make in (("logistic_seed", lambda: LogisticRegression(C=1000, max_iter=10000)),
                        ("logistic_default", LogisticRegression)):
        for gate, y in TRUTH_TABLES.items():
            fitted = make().fit(X, y)
            reported = quick.metrics["coefficients"][model][gate]
            np.testing.assert_allclose(reported["weights"], fitted.coef_[0], rtol=1e-4, atol=1e-6)
            assert reported["intercept"] == pytest.approx(fitted.intercept_[0], rel=1e-4, abs=1e-6)


@pytest.mark.slow
def test_predictions_table_matches_independent_fits(quick):
    svc = {gate: SVC(C=1000).fit(X, y).predict(X) for gate, y in TRUTH_TABLES.items()}
    rows = quick.tables[0].rows
    assert len(rows) == 24
    for gate, x1, x2, target, _, _, svc_prediction in rows:
        index = 2 * x1 + x2
        assert target == TRUTH_TABLES[gate][index]
        assert svc_prediction == svc[gate][index]


@pytest.mark.slow
def test_reported_separability_and_proofs(quick):
    assert quick.metrics["separable"] == {gate: gate in KNOWN_SEPARABLE for gate in TRUTH_TABLES}
    for gate, line in quick.metrics["separating_lines"].items():
        s = signs(TRUTH_TABLES[gate])
        assert np.all(s * (X @ np.array(line["weights"]) + line["bias"]) >= 1 - 1e-9)
    assert set(quick.metrics["certificates"]) == {"XOR", "XNOR"}
    for gate, lam in quick.metrics["certificates"].items():
        lam, s = np.array(lam), signs(TRUTH_TABLES[gate])
        assert np.all(lam >= -1e-12) and lam.sum() == pytest.approx(1.0)
        np.testing.assert_allclose((lam * s) @ X, 0.0, atol=1e-9)
        assert (lam * s).sum() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.slow
def test_claim_verdicts_match_independent_computation(quick, reference_accuracy):
    claims = claims_by_id(quick)
    seed, default, svc = (reference_accuracy[m] for m in ("logistic_seed", "logistic_default", "svc_rbf"))
    learned_by_seed_lr = {gate for gate, accuracy in seed.items() if accuracy == 1.0}

    assert claims["lr-learns-separable"].verdict == verdict(all(seed[g] == 1.0 for g in KNOWN_SEPARABLE))
    assert claims["lr-default-learns-separable"].verdict == verdict(all(default[g] == 1.0 for g in KNOWN_SEPARABLE))
    assert claims["lr-fails-xor"].verdict == verdict(
        all(accuracy[g] < 1.0 for accuracy in (seed, default) for g in ("XOR", "XNOR")))
    assert claims["svc-learns-all"].verdict == verdict(all(accuracy == 1.0 for accuracy in svc.values()))
    assert claims["lp-predicts-lr"].verdict == verdict(learned_by_seed_lr == KNOWN_SEPARABLE)


@pytest.mark.slow
def test_claim_evidence_carries_the_numbers(quick, reference_accuracy):
    evidence = claims_by_id(quick)["lr-default-learns-separable"].evidence
    for gate in KNOWN_SEPARABLE:
        assert f"{gate} {reference_accuracy['logistic_default'][gate]:.2f}" in evidence
    assert "XOR 0.50" in claims_by_id(quick)["lr-fails-xor"].evidence


@pytest.mark.slow
def test_notes_explain_the_xor_certificate(quick):
    xor_note = next(note for note in quick.notes if note.startswith("XOR"))
    assert "(0.25, 0.25, 0.25, 0.25)" in xor_note
    assert "(0.5, 0.5) and (0.5, 0.5)" in xor_note


@pytest.mark.slow
def test_subset_without_xor_leaves_xor_claims_inconclusive():
    result = gates.run(gates.Config(gates=("AND", "OR"), grid_resolution=5))
    claims = claims_by_id(result)
    assert claims["lr-fails-xor"].verdict == "inconclusive"
    svc_learns_both = all(SVC(C=1000).fit(X, TRUTH_TABLES[g]).score(X, TRUTH_TABLES[g]) == 1.0 for g in ("AND", "OR"))
    assert claims["svc-learns-all"].verdict == ("inconclusive" if svc_learns_both else "fails")
    assert set(result.metrics["separable"]) == {"AND", "OR"}
    assert len(result.figures["decision_regions"].axes) == 2 * 3


@pytest.mark.slow
def test_quick_run_is_marked_quick_end_to_end(quick):
    assert quick.quick
    assert all(claim.base.quick for claim in quick.claims)
    assert not gates.run(gates.Config(gates=("AND",), grid_resolution=5)).quick


@pytest.mark.slow
def test_same_config_gives_same_metrics(quick):
    assert gates.run(gates.Config.quick()).metrics == quick.metrics


@pytest.mark.slow
def test_seed_numbers_are_computed_at_the_default_and_at_a_tight_tol(quick):
    """The table's numbers come from fits at scikit-learn's default tol and at tight_tol, nothing else."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    config = gates.Config.quick()
    seed_numbers = quick.metrics["seed_numbers"]
    assert seed_numbers["default_tol"]["tol_logistic"] == LogisticRegression().tol
    assert seed_numbers["tight_tol"]["tol_logistic"] == config.tight_tol == 1e-10
    for gate in config.gates:
        X, y = truth_table(gate)
        for key, tol in (("default_tol", LogisticRegression().tol), ("tight_tol", config.tight_tol)):
            lr = LogisticRegression(C=config.lr_C, max_iter=config.lr_max_iter, tol=tol).fit(X, y)
            svc = SVC(C=config.svc_C, tol=tol if key == "tight_tol" else SVC().tol).fit(X, y)
            numbers = seed_numbers[key]["gates"][gate]
            assert numbers["weights"] == pytest.approx(lr.coef_[0].tolist(), abs=1e-12)
            assert numbers["intercept"] == pytest.approx(lr.intercept_[0], abs=1e-12)
            assert numbers["svc_support_rows"] == sorted(svc.support_.tolist())
    # the tight optimum is reached: tightening further moves nothing
    X, y = truth_table("OR")
    tighter = LogisticRegression(C=config.lr_C, max_iter=config.lr_max_iter, tol=1e-14).fit(X, y)
    assert seed_numbers["tight_tol"]["gates"]["OR"]["weights"] == pytest.approx(tighter.coef_[0].tolist(), abs=1e-5)
    table = quick.tables[-1]
    assert len(table.rows) == 9 * len(config.gates)
    assert any("MEAN loss" in note and "version-independent" in note for note in quick.notes)
