"""The spiral's claims on hand-built measurements: every finding reaches holds, fails and inconclusive, the check
holds and fails — without training anything. Its builders (build, every, SINE_WINS) serve test_measure and
test_present too."""

import numpy as np
import pytest

from replab.experiments import spiral
from replab.experiments.spiral.candidates import Candidate, hyper_grid
from replab.experiments.spiral.judge import judge
from replab.experiments.spiral.measure import Measurements, choose_finalists
from replab.experiments.spiral.search import GRID_POINTS

REPLICATES = 20
CONFIG = spiral.Config(dataset="spiral", target_loss=0.05, n_seeds=2, seeds_required=2,
                       feature_sets=("x+y", "sinX+sinY"), max_layers=1, max_neurons=2, activations=("tanh",),
                       learning_rates=(0.3,), regularizations=("none",), seed_hidden=(2, 2),
                       replicates=REPLICATES)
SEED = ("x+y", (2, 2))


def build(outcomes, successes, config=CONFIG):
    """outcomes: [(feature set, hidden, status, score)]; successes: {(feature set, hidden): replicates that succeed}."""
    hyper = hyper_grid(config)[0]
    candidates = tuple(Candidate(f, hidden, hyper) for f, hidden, _, _ in outcomes)
    status = tuple(s for _, _, s, _ in outcomes)
    best = np.array([[score] * config.n_seeds for *_, score in outcomes], float).reshape(len(outcomes), config.n_seeds)
    finalists, roles, index = choose_finalists(config, candidates, status, best)
    records = 3
    test = np.full((len(finalists), records, REPLICATES), 0.3)
    for i, c in enumerate(finalists):
        test[i, -1, :successes.get((c.feature_set, c.hidden), 0)] = 0.01
    reached = np.where(best <= config.target_loss, 100.0, np.nan)
    return Measurements(
        dataset=config.dataset, target_loss=config.target_loss, seeds_required=config.seeds_required,
        feature_sets=config.feature_sets, candidates=candidates, status=status,
        epochs_trained=np.full(len(candidates), 100), best_train_loss=best, reached_at=reached,
        skipped=np.zeros(len(config.feature_sets), int), prune_log=np.zeros((0, 4)), waves=1,
        finalists=tuple(finalists), roles=tuple(roles), role_finalist=np.array(index),
        replicate_seeds=np.arange(500, 500 + REPLICATES), epochs=np.array([10, 20, 30]),
        replicate_train_loss=test * 0.5, replicate_test_loss=test,
        grid_output=np.zeros((len(finalists), GRID_POINTS, GRID_POINTS)),
        shown_train_points=np.zeros((4, 2)), shown_train_labels=np.ones(4), shown_test_points=np.zeros((4, 2)),
        shown_test_labels=np.ones(4))


def every(feature_set, status_by_hidden, scores=None):
    scores = scores or {}
    return [(feature_set, hidden, status, scores.get(hidden, 0.01 if status == "solved" else 0.3))
            for hidden, status in status_by_hidden.items()]


# the sine set solves with no hidden layer (3 parameters); X1, X2 needs a hidden layer of 2 (9 parameters)
SINE_WINS = every("x+y", {(): "failed", (1,): "failed", (2,): "solved"}) + every("sinX+sinY", {(): "solved"})


def verdicts(m):
    return {c.id: c.verdict for c in judge(CONFIG, m)}


def claim(m, claim_id):
    return next(c for c in judge(CONFIG, m) if c.id == claim_id)


# the success rule: a rate significantly above 0.8 (20/20 of 20 replicates), significantly below it fails (10/20)
@pytest.mark.parametrize("k, verdict", [(REPLICATES, "holds"), (0, "fails"), (REPLICATES // 2, "fails"),
                                        (16, "inconclusive")])
def test_seed_solves_is_a_success_rate_against_the_null(k, verdict):
    m = build(SINE_WINS, {SEED: k})
    c = claim(m, "seed-2x8-solves")
    assert c.kind == "finding" and c.verdict == verdict
    (test,) = c.tests
    assert test.n == REPLICATES and test.effect == k / REPLICATES and test.null == 0.8
    assert c.base.seeds == REPLICATES and c.base.datasets == ("spiral",) and not c.base.quick


@pytest.mark.parametrize("k, verdict", [(REPLICATES, "holds"), (1, "fails"), (16, "inconclusive")])
def test_smallest_solution_is_judged_on_fresh_seeds(k, verdict):
    m = build(SINE_WINS, {("sinX+sinY", ()): k, SEED: REPLICATES})
    c = claim(m, "smallest-solution")
    assert c.verdict == verdict and "3 parameters" in c.tests[0].label


def test_smallest_solution_without_a_solver_or_not_smaller_is_inconclusive_and_says_why():
    nothing = every("x+y", {(): "pruned", (1,): "failed", (2,): "failed"}) + every("sinX+sinY", {(): "failed"})
    c = claim(build(nothing, {SEED: REPLICATES}), "smallest-solution")
    assert c.verdict == "inconclusive" and "no candidate" in c.reason
    config = spiral.Config(**{**CONFIG.__dict__, "seed_hidden": (1,)})  # 5 parameters, fewer than no solver's 9
    larger = every("x+y", {(): "failed", (1,): "failed", (2,): "solved"}) + every("sinX+sinY", {(): "failed"})
    m = build(larger, {("x+y", (2,)): REPLICATES, ("x+y", (1,)): REPLICATES}, config)
    c = next(c for c in judge(config, m) if c.id == "smallest-solution")
    assert c.verdict == "inconclusive" and "not fewer" in c.reason


def test_search_covers_smaller_is_a_check_that_holds_and_fails():
    m = build(SINE_WINS, {})
    c = claim(m, "search-covers-smaller")
    assert c.kind == "check" and c.verdict == "holds"
    # the smallest solver has 9 parameters only on X1, X2; remove the sine set's 3-parameter solver and one
    # smaller X1, X2 architecture: the search then did not cover the space below its answer
    gap = every("x+y", {(): "failed", (2,): "solved"}) + every("sinX+sinY", {(): "failed", (1,): "failed"})
    assert claim(build(gap, {}), "search-covers-smaller").verdict == "fails"


@pytest.mark.parametrize("sine, rival, verdict", [(REPLICATES, 0, "holds"), (REPLICATES, REPLICATES, "fails"),
                                                  (0, 0, "fails"), (16, 0, "inconclusive"),
                                                  (REPLICATES, 16, "inconclusive"), (REPLICATES, 10, "holds")])
def test_sine_features_shrink_needs_the_sine_net_to_solve_and_the_rival_to_fail(sine, rival, verdict):
    m = build(SINE_WINS, {("sinX+sinY", ()): sine, ("x+y", ()): rival, SEED: REPLICATES})
    c = claim(m, "sine-features-shrink")
    assert c.kind == "finding" and c.verdict == verdict
    assert [t.label for t in c.tests] == ["smallest with sines solves (3 parameters)", "X1, X2 rival fails (3 parameters)"]
    assert "best training score" in c.evidence  # the rival is the best non-solving X1, X2 candidate of ≤ 3 parameters


def test_sine_rival_is_the_x_y_winner_when_it_is_no_larger():
    tie = every("x+y", {(): "solved", (1,): "failed", (2,): "failed"}) + every("sinX+sinY", {(): "solved"})
    c = claim(build(tie, {("sinX+sinY", ()): REPLICATES, ("x+y", ()): REPLICATES}), "sine-features-shrink")
    assert c.verdict == "fails" and "smallest X1, X2 solver" in c.evidence


def test_sine_features_shrink_is_inconclusive_when_it_cannot_be_asked():
    no_sine = every("x+y", {(): "failed", (1,): "failed", (2,): "solved"}) + every("sinX+sinY", {(): "pruned"})
    c = claim(build(no_sine, {SEED: REPLICATES}), "sine-features-shrink")
    assert c.verdict == "inconclusive" and "no candidate with sine features" in c.reason
    config = spiral.Config(**{**CONFIG.__dict__, "feature_sets": ("x+y",)})
    m = build(every("x+y", {(): "solved"}), {}, config)
    c = next(c for c in judge(config, m) if c.id == "sine-features-shrink")
    assert c.verdict == "inconclusive" and "lacks" in c.reason


def test_a_finalist_smaller_than_the_search_answer_is_flagged_in_the_evidence():
    from replab.experiments.spiral.judge import pruning_missed

    (only,) = pruning_missed(CONFIG, build(SINE_WINS, {SEED: 3}))  # the seed's 15 > the X1, X2 answer's 9
    assert only.startswith("X1, X2 rival (X1, X2, 3 parameters)") and "(9)" in only
    unsolved = every("x+y", {(): "failed", (1,): "pruned", (2,): "pruned"}) + every("sinX+sinY", {(): "solved"})
    m = build(unsolved, {SEED: 12})
    (note, rival) = pruning_missed(CONFIG, m)
    assert note.startswith("seed's 2 × 2") and "12/20" in note and "(none)" in note
    assert rival.startswith("X1, X2 rival")
    assert "Caveat: seed's 2 × 2" in claim(m, "smallest-solution").evidence
