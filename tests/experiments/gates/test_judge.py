"""The gates checks, judged on hand-built measurements (nothing is fitted): each reaches holds and fails, and
a check about gates the run left out is inconclusive with the reason."""

import numpy as np
import pytest

from replab.experiments import gates
from replab.experiments.gates.config import GATES
from replab.experiments.gates.judge import judge
from replab.experiments.gates.measure import LOGISTIC_MODELS, MODELS, Measurements, truth_table

SEPARABLE = {"AND": True, "OR": True, "NAND": True, "NOR": True, "XOR": False, "XNOR": False}


def hand_built(accuracy: dict[str, dict[str, float]], gate_names=tuple(GATES)) -> Measurements:
    """Measurements with the given accuracy[model][gate] (default 1.0) and the true separability."""
    G, M, L = len(gate_names), len(MODELS), len(LOGISTIC_MODELS)
    separable = np.array([SEPARABLE[g] for g in gate_names])
    acc = np.array([[accuracy.get(model, {}).get(g, 1.0) for g in gate_names] for model in MODELS])
    certificates = np.where(separable[:, None], np.nan, 0.25)
    lines = np.where(separable[:, None], 1.0, np.nan)
    xx = np.zeros((2, 2))
    return Measurements(
        gates=tuple(gate_names), targets=np.array([truth_table(g)[1] for g in gate_names]), separable=separable,
        line_weights=np.repeat(lines, 2, axis=1), line_bias=lines[:, 0], certificates=np.repeat(certificates, 4, axis=1),
        accuracy=acc, predictions=np.zeros((M, G, 4), int), converged=np.ones((M, G), bool),
        coefficients=np.zeros((L, G, 2)), intercepts=np.zeros((L, G)), probabilities=np.full((L, G, 4), 0.5),
        grid_x1=xx, grid_x2=xx, regions=np.zeros((M, G, 2, 2), np.int8), kernel_min_eigenvalue=0.3)


def learned_by_lr_only_where_separable():
    return {model: {"XOR": 0.5, "XNOR": 0.5} for model in LOGISTIC_MODELS}


def verdicts(measurements, config=gates.Config(quick=True)):
    claims = judge(config, measurements)
    assert {claim.id for claim in claims if claim.kind == "finding"} == {"lr-default-learns-separable"}
    return {claim.id: claim.verdict for claim in claims}


def test_every_check_holds_on_the_expected_outcome():
    assert set(verdicts(hand_built(learned_by_lr_only_where_separable())).values()) == {"holds"}


@pytest.mark.parametrize("claim_id, accuracy", [
    ("lr-learns-separable", {"logistic_seed": {"AND": 0.75, "XOR": 0.5, "XNOR": 0.5}}),
    ("lr-default-learns-separable", {"logistic_default": {"NOR": 0.75, "XOR": 0.5, "XNOR": 0.5},
                                     "logistic_seed": {"XOR": 0.5, "XNOR": 0.5}}),
    ("lr-fails-xor", {"logistic_default": {"XOR": 0.5, "XNOR": 0.5}, "logistic_seed": {"XOR": 0.5}}),
    ("svc-learns-all", learned_by_lr_only_where_separable() | {"svc_rbf": {"XNOR": 0.75}}),
    ("lp-predicts-lr", {"logistic_seed": {"XNOR": 0.5}, "logistic_default": {"XOR": 0.5, "XNOR": 0.5}}),
])
def test_each_check_fails_when_its_outcome_is_broken(claim_id, accuracy):
    assert verdicts(hand_built(accuracy))[claim_id] == "fails"


def test_checks_about_gates_not_run_are_inconclusive_with_the_reason():
    measurements = hand_built({}, gate_names=("XOR",))
    claims = {c.id: c for c in judge(gates.Config(gates=("XOR",)), measurements)}
    assert claims["lr-fails-xor"].verdict == "inconclusive" and "XNOR" in claims["lr-fails-xor"].reason
    assert claims["lr-fails-xor"].base.skipped == ("XNOR",)
    assert claims["lr-learns-separable"].verdict == "inconclusive"
    assert "no separable gate" in claims["lr-learns-separable"].reason
    assert claims["svc-learns-all"].verdict == "inconclusive" and "AND" in claims["svc-learns-all"].reason
    assert len(claims["svc-learns-all"].base.skipped) == 5
    assert claims["lp-predicts-lr"].verdict == "fails"  # the seed's LR learned XOR in this made-up measurement


def test_evidence_base_records_gates_and_quick():
    claims = {c.id: c for c in judge(gates.Config(quick=True), hand_built(learned_by_lr_only_where_separable()))}
    assert claims["lr-learns-separable"].base.datasets == ("AND", "OR", "NAND", "NOR")
    assert claims["svc-learns-all"].base.datasets == tuple(GATES) and not claims["svc-learns-all"].base.skipped
    assert all(claim.base.quick for claim in claims.values())
    assert not any(c.base.quick for c in judge(gates.Config(), hand_built({})))


def test_the_default_c_claim_is_an_exact_finding_that_holds_fails_and_is_inconclusive():
    fits = verdicts(hand_built(learned_by_lr_only_where_separable()))
    assert fits["lr-default-learns-separable"] == "holds"
    shrunk = {"logistic_default": {g: 0.75 for g in ("AND", "OR", "NAND", "NOR")} | {"XOR": 0.5, "XNOR": 0.5},
              "logistic_seed": {"XOR": 0.5, "XNOR": 0.5}}
    claim = {c.id: c for c in judge(gates.Config(quick=True), hand_built(shrunk))}["lr-default-learns-separable"]
    assert claim.verdict == "fails" and [t.method for t in claim.tests] == ["exact computation (deterministic)"] * 4
    nothing = {c.id: c for c in judge(gates.Config(gates=("XOR",)), hand_built({}, gate_names=("XOR",)))}
    assert nothing["lr-default-learns-separable"].verdict == "inconclusive"
