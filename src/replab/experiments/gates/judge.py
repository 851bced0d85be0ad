"""The gates' claims: checks decided by exact computation (training accuracy on the whole truth table) and by the
LP's proof."""

from __future__ import annotations

from replab import stats
from replab.claims import Claim, EvidenceBase, check, decide, finding
from replab.experiments.gates.config import GATES, Config
from replab.experiments.gates.measure import INPUTS, LOGISTIC_MODELS, Measurements, model_labels

#
# All five are checks: the truth table is the whole population, the solvers are deterministic and accuracy is
# counted on the four rows themselves, so there is no sampling error for a statistical test to weigh. Where the
# claim is about gates this run did not include, the check cannot be made and is inconclusive, saying which.


def accuracy_list(m: Measurements, model: str, gates) -> str:
    return ", ".join(f"{gate} {m.acc(model, gate):.2f}" for gate in gates) or "none"


def _names(gates) -> str:
    return "{" + ", ".join(gates) + "}"


def _base(config: Config, judged, asked=()) -> EvidenceBase:
    """The gates a check was judged on, and those it is about that this run did not include."""
    judged = tuple(judged)
    return EvidenceBase(datasets=judged, skipped=tuple(g for g in asked if g not in judged and g not in config.gates),
                        quick=config.quick, unit="gate")


def _cannot_check(claim_id: str, statement: str, evidence: str, reason: str, evidence_base: EvidenceBase) -> Claim:
    """A check this run cannot decide (the gates it is about were not run): inconclusive, with the reason."""
    return Claim(claim_id, statement, "inconclusive", f"{evidence} ({reason})", "check", base=evidence_base,
                 reason=reason)


def separable_gates(m: Measurements) -> list[str]:
    return [gate for gate, ok in zip(m.gates, m.separable) if ok]


def claim_learns_separable(config: Config, m: Measurements, model: str, claim_id: str, statement: str,
                           label: str) -> Claim:
    separable = separable_gates(m)
    evidence = (f"LP proves separable: {_names(separable)}; {label} training accuracy on the four rows: "
                f"{accuracy_list(m, model, separable)}")
    evidence_base = _base(config, separable)
    if not separable:
        return _cannot_check(claim_id, statement, evidence, "no separable gate in this run", evidence_base)
    if model == "logistic_seed":  # weakly regularised (C=1000) on separable data: the fit reaches every row
        return check(claim_id, statement, passed=all(m.acc(model, gate) == 1.0 for gate in separable),
                     evidence=evidence, base=evidence_base)
    # At scikit-learn's default C no theorem says it fits: an empirical question, answered exactly (lbfgs on four
    # rows is deterministic), so a finding with an exact test per gate against perfect training accuracy.
    return finding(claim_id, statement, effect="training accuracy − 1 (0: every row right)", direction="equal",
                   tests=[stats.exact(gate, m.acc(model, gate) - 1.0, null=0.0, margin=0.5 / len(INPUTS))
                          for gate in separable],
                   evidence=evidence, base=evidence_base)


def claim_lr_fails_xor(config: Config, m: Measurements) -> Claim:
    statement = "Logistic regression cannot learn XOR or XNOR"
    labels = model_labels(config)
    xor_like = [gate for gate in m.gates if gate in ("XOR", "XNOR")]
    evidence = "; ".join(f"{labels[model]} accuracy: {accuracy_list(m, model, xor_like)}" for model in LOGISTIC_MODELS)
    evidence_base = _base(config, xor_like, ("XOR", "XNOR"))
    if len(xor_like) < 2:
        return _cannot_check("lr-fails-xor", statement, evidence, "this run does not include both XOR and XNOR",
                             evidence_base)
    proofs = [gate for gate in xor_like if not m.separable[m.index(gate)]]
    evidence += (f". The LP's certificate proves no line separates {_names(proofs)}, so any linear classifier "
                 f"misclassifies at least one row of {'them' if len(proofs) > 1 else 'it'}")
    passed = all(m.acc(model, gate) < 1.0 for gate in xor_like for model in LOGISTIC_MODELS)
    return check("lr-fails-xor", statement, passed=passed, evidence=evidence, base=evidence_base)


def claim_svc_learns_all(config: Config, m: Measurements) -> Claim:
    statement = "The RBF SVC learns all six gates"
    label = model_labels(config)["svc_rbf"]
    evidence = (f"{label} training accuracy: {accuracy_list(m, 'svc_rbf', m.gates)}; the RBF kernel matrix on the "
                f"four inputs has smallest eigenvalue {m.kernel_min_eigenvalue:.3g} (> 0: every labelling is "
                f"separable in the kernel's feature space)")
    evidence_base = _base(config, m.gates, tuple(GATES))
    if any(m.acc("svc_rbf", gate) < 1.0 for gate in m.gates):
        return check("svc-learns-all", statement, passed=False, evidence=evidence, base=evidence_base)
    missing = [gate for gate in GATES if gate not in m.gates]
    if missing:
        return _cannot_check("svc-learns-all", statement, evidence, f"not run: {', '.join(missing)}", evidence_base)
    return check("svc-learns-all", statement, passed=True, evidence=evidence, base=evidence_base)


def claim_lp_predicts_lr(config: Config, m: Measurements) -> Claim:
    label = model_labels(config)["logistic_seed"]
    separable = separable_gates(m)
    learned = [gate for gate in m.gates if m.acc("logistic_seed", gate) == 1.0]
    evidence = f"LP separable: {_names(separable)}; {label} reaches accuracy 1.0 on: {_names(learned)}"
    return check("lp-predicts-lr",
                 "The LP's separability verdict predicts exactly which gates logistic regression learns",
                 passed=set(separable) == set(learned), evidence=evidence, base=_base(config, m.gates))


def judge(config: Config, m: Measurements) -> list[Claim]:
    """Five checks, each an exact computation on the four rows of every gate."""
    labels = model_labels(config)
    return decide([
        claim_learns_separable(config, m, "logistic_seed", "lr-learns-separable",
                               "Logistic regression learns every linearly separable gate",
                               f"{labels['logistic_seed']} (lbfgs, max_iter={config.lr_max_iter})"),
        claim_learns_separable(config, m, "logistic_default", "lr-default-learns-separable",
                               "Logistic regression with scikit-learn's default C learns every linearly separable gate",
                               f"{labels['logistic_default']}"),
        claim_lr_fails_xor(config, m),
        claim_svc_learns_all(config, m),
        claim_lp_predicts_lr(config, m),
    ])
