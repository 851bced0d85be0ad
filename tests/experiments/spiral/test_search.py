"""The spiral's search engine: successive halving never looks at the test points, finds the brute-force smallest
solution, does not depend on how it is split into units, reuses a rung's graph with the same numbers, re-runs pruned
candidates unpruned, runs on the cluster executor, and trains mixed populations as their members train alone."""

import dataclasses

import numpy as np
import pytest

from replab import cluster
from replab.experiments import spiral
from replab.experiments.spiral import search as engine
from replab.experiments.spiral.candidates import (
    Candidate,
    hyper_grid,
    make_seed_data,
    replicate_data,
    shapes_in_order,
)
from replab.experiments.spiral.population import compile_population, new_population, train_members
from replab.experiments.spiral.search import (
    WaveUnit,
    pruning_check,
    replicate,
    rung_ends,
    search,
    train_in_full,
    train_wave,
)
from replab.nn.playground import playground_parameter_count
from tests.experiments.spiral.test_population import CONFIG, candidate


@pytest.mark.slow
def test_the_search_never_looks_at_the_test_points():
    config = spiral.Config.quick()
    data = make_seed_data(config)
    blind = [dataclasses.replace(d, x_test=np.full_like(d.x_test, np.nan), y_test=np.full_like(d.y_test, np.nan))
             for d in data]
    seen, unseen = (search(config, d, lambda *args: None) for d in (data, blind))
    assert [c for c in seen.candidates] == [c for c in unseen.candidates]
    for i, outcome in seen.outcomes.items():
        other = unseen.outcomes[i]
        assert outcome.status == other.status
        np.testing.assert_array_equal(outcome.best_loss, other.best_loss)
        assert np.all(np.isfinite(outcome.best_loss))


def brute_force_smallest(config):
    """Train every candidate on its own (no waves, no pruning, no skipping): the smallest solver's size."""
    data = make_seed_data(config)
    solved = []
    for feature_set, arch in shapes_in_order(config):
        for hyper in hyper_grid(config):
            candidate = Candidate(feature_set, arch, hyper)
            population = new_population(config, [0], data, len(arch))
            _, losses, _ = train_members(config, [candidate], population, data, config.epoch_budget,
                                             len(arch))
            if np.sum(np.any(losses["train"] <= config.target_loss, axis=0)) >= config.seeds_required:
                solved.append(candidate.parameters)
    return min(solved, default=None)


@pytest.mark.slow
def test_search_finds_the_brute_force_smallest_solution():
    # circle from X1, X2: fewer than 3 hidden units cannot solve it, so the answer is not the first candidate
    config = spiral.Config(dataset="circle", target_loss=0.1, epoch_budget=100, n_seeds=2, seeds_required=2,
                           feature_sets=("x+y",), max_layers=1, max_neurons=3, activations=("tanh",),
                           learning_rates=(0.3,), regularizations=("none",), rungs=2, hopeless_loss=1.0,
                           early_hopeless_loss=1.0, wave_members=4, seed_hidden=(2, 2))
    data = make_seed_data(config)
    found = search(config, data, lambda *args: None)
    solvers = [found.candidates[i].parameters for i, o in found.outcomes.items() if o.status == "solved"]
    answer = min(solvers)
    assert answer == playground_parameter_count(2, (3,))
    assert answer == brute_force_smallest(config)
    # every smaller architecture was trained with the whole grid and failed
    smaller = [o for i, o in found.outcomes.items() if found.candidates[i].parameters < answer]
    assert {found.candidates[i].hidden for i, o in found.outcomes.items()
            if found.candidates[i].parameters < answer} == {(), (1,), (2,)}
    assert smaller and all(o.status != "solved" for o in smaller)


@pytest.mark.slow
def test_results_do_not_depend_on_how_the_search_is_split_into_units():
    config = dataclasses.replace(CONFIG, wave_members=4)  # many small waves
    data = make_seed_data(config)
    one = search(dataclasses.replace(CONFIG, wave_members=100_000), data, lambda *a: None)
    many = search(config, data, lambda *a: None)
    by_candidate = {c: one.outcomes[i] for i, c in enumerate(one.candidates)}
    for i, c in enumerate(many.candidates):
        if c in by_candidate:
            np.testing.assert_array_equal(many.outcomes[i].best_loss, by_candidate[c].best_loss)


@pytest.mark.slow
def test_a_rung_that_drops_nobody_trains_on_in_its_graph_with_the_numbers_a_new_graph_gives(monkeypatch):
    config = dataclasses.replace(CONFIG, dataset="spiral", activations=("tanh", "relu"), epoch_budget=80, rungs=4,
                                 hopeless_loss=1.0, early_hopeless_loss=1.0, target_loss=0.001)  # every rung keeps all
    data = make_seed_data(config)
    unit = WaveUnit(config, 1, tuple(candidate(hidden=(2,) * (1 + k % 2), activation=("tanh", "relu")[k % 2],
                                                      lr=(0.03, 0.1, 0.3)[k % 3]) for k in range(6)), tuple(data))
    compiled_afresh = []
    real = compile_population

    def counted(*args, **kwargs):
        compiled_afresh.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "compile_population", counted)
    kept, _ = train_wave(unit)
    assert len(compiled_afresh) == 1 and len(rung_ends(config)) == 4
    assert all(o.status == "failed" and o.epochs_trained == 80 for o in kept)

    monkeypatch.setattr(engine, "compiled_for", lambda config, candidates, population, data, depth, compiled:
                        counted(config, candidates, population, data, depth))
    afresh, _ = train_wave(unit)
    assert len(compiled_afresh) == 1 + 4
    for a, b in zip(kept, afresh):
        np.testing.assert_array_equal(a.best_loss, b.best_loss)
        np.testing.assert_array_equal(a.reached_at, b.reached_at)


@pytest.mark.slow
def test_pruned_candidates_are_rerun_unpruned():
    config = dataclasses.replace(CONFIG, pruning_sample=3)
    members = [candidate(hidden=(1,), lr=lr) for lr in (0.01, 0.03, 0.1, 0.3)]
    status = ("pruned", "solved", "pruned", "pruned")
    sample, best, solved = pruning_check(config, members, status, make_seed_data(config))
    assert sample == [0, 2, 3] and best.shape == (3, config.n_seeds) and solved.shape == (3,)
    assert np.all(np.isfinite(best))


@pytest.mark.slow
def test_search_runs_on_the_cluster_executor(monkeypatch):
    seen = []
    real = cluster.InProcess.map

    def spy(self, function, units, progress=None, describe=None):
        seen.append(function.__name__)
        return real(self, function, units, progress, describe)

    monkeypatch.setattr(cluster.InProcess, "map", spy)
    search(CONFIG, make_seed_data(CONFIG), lambda *a: None)
    replicate(CONFIG, [candidate()], make_seed_data(CONFIG))
    assert "train_wave" in seen and "train_full" in seen


@pytest.mark.slow
def test_every_member_of_a_mixed_population_trains_exactly_as_it_does_alone():
    """The finalists of the default run (their shapes, activations, features and settings) on 8 replicate seeds:
    each one's losses alone and among the others are bit-identical. Before the forward computed each group of one
    activation and depth on its own, the 8 × 8 tanh's were not."""
    config = dataclasses.replace(spiral.Config(), epoch_budget=20, replicates=8)
    members = [candidate("x+y", (8, 8), "tanh", 0.03, "L2", 0.001), candidate("x+y", (6, 6), "relu", 0.1, "L2", 0.001),
               candidate("x+y", (5, 5, 5), "relu", 0.1, "L2", 0.001), candidate("x+y+sinX+sinY", (4,), "tanh", 0.03),
               candidate("x+y+sinX+sinY", (5,), "tanh", 0.1), candidate("all", (5,), "tanh", 0.03, "L1", 0.001),
               candidate("all", (6,), "tanh", 0.3, "L2", 0.001), candidate("x+y", (3, 3), "relu", 0.3)]
    data = replicate_data(config)
    together = train_in_full(config, members, data, ("train", "test"))[1]
    for i, member in enumerate(members):
        alone = train_in_full(config, [member], data, ("train", "test"))[1]
        for name in ("train", "test"):
            np.testing.assert_array_equal(together[name][i], alone[name][0], err_msg=f"{member.hidden} {name}")
