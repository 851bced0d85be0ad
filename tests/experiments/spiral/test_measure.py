"""The spiral's measurements on hand-built search outcomes: the finalists chosen from training scores, the metrics,
and each feature set's success-rate curve — without training anything."""

from replab.experiments import spiral
from tests.experiments.spiral.test_judge import CONFIG, REPLICATES, SINE_WINS, build, every


def test_finalists_are_chosen_from_training_scores_and_deduplicated():
    m = build(SINE_WINS, {})
    labels = [m.label(i) for i in range(len(m.finalists))]
    assert labels[0] == "seed's 2 × 2"
    assert "smallest (X1, X2)" in labels and "smallest (sin(X1), sin(X2))" in labels and "X1, X2 rival" in labels
    tie = every("x+y", {(): "solved"}) + every("sinX+sinY", {(): "solved"})
    m = build(tie, {})
    assert "smallest (X1, X2) = X1, X2 rival" in [m.label(i) for i in range(len(m.finalists))]
    assert len(m.finalists) == 3


def test_metrics_summarise_the_search_and_the_replication():
    m = build(SINE_WINS, {("sinX+sinY", ()): 7})
    metrics = m.to_metrics()
    assert metrics["smallest"]["any"]["parameters"] == 3 and metrics["smallest"]["x+y"]["parameters"] == 9
    entry = metrics["replication"]["smallest (sin(X1), sin(X2))"]
    assert entry["successes"] == 7 and entry["replicates"] == REPLICATES
    assert metrics["status_counts"] == {"solved": 2, "failed": 2, "pruned": 0}
    assert metrics["seed_parameters"] == 15


def test_each_feature_set_gets_a_success_rate_curve_of_several_sizes():
    outcomes = (every("x+y", {(): "failed", (1,): "failed", (2,): "solved", (2, 2): "solved", (2, 2, 2): "solved"})
                + every("sinX+sinY", {(): "solved", (1,): "solved"}))
    config = spiral.Config(**{**CONFIG.__dict__, "max_layers": 3, "finalists_per_set": 2})
    m = build(outcomes, {("x+y", (2,)): 5, ("x+y", (2, 2)): 20}, config)
    sizes = [m.finalists[i].parameters for i in m.curve("x+y")]
    assert sizes == sorted(sizes) and 9 in sizes and 15 in sizes and 21 not in sizes  # two smallest solved sizes
    assert len(m.curve("sinX+sinY")) == 2
    solver = next(i for i in m.curve("x+y") if m.finalists[i].hidden == (2, 2))
    assert m.solves(solver) == "solves"
    assert m.solves(next(i for i in m.curve("x+y") if m.finalists[i].hidden == (2,))) == "does not solve"
