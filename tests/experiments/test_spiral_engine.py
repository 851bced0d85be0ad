"""The spiral's engine on its own: the Playground's batching, population independence, the Playground link, the
widened search space and the pruning check."""

import dataclasses
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from replab import cluster
from replab.data.playground import FEATURES
from replab.experiments import spiral
from replab.experiments.spiral import search as engine
from replab.experiments.spiral.config import PLAYGROUND_URL

CONFIG = spiral.Config.quick()


def candidate(features="x+y", hidden=(2,), activation="tanh", lr=0.1, reg="none", rate=0.0, batch=10):
    return spiral.Candidate(features, tuple(hidden), spiral.Hyper(activation, lr, reg, rate, batch))


def trained_losses(config, members, data, epochs=12):
    """Train `members` as one population on every seed of `data`; (C, R, seeds) training loss."""
    depth = max(len(m.hidden) for m in members)
    population = spiral.new_population(config, list(range(len(members))), data, depth)
    _, losses, _ = spiral.train_members(config, members, population, data, epochs, depth)
    n = len(data)
    return np.stack([losses["train"][:, c * n:(c + 1) * n] for c in range(len(members))]), population


@pytest.mark.parametrize("batch", [7, 10, 30])
def test_batches_follow_the_playground_loop_including_the_leftover_points(batch):
    """A network with no hidden layer trained by the engine matches the Playground's oneStep written out in NumPy:
    accumulate every point's gradient in stored order, update after every `batch` points, and carry the leftover
    points' gradients into the next epoch's first update."""
    config = dataclasses.replace(CONFIG, record_every=1)
    data = spiral.make_seed_data(config)[:1]
    lr, l2 = 0.1, 0.01
    member = candidate(hidden=(), lr=lr, reg="L2", rate=l2, batch=batch)
    epochs = 3
    losses, population = trained_losses(config, [member], data, epochs)
    (w_engine, b_engine), = population.networks[0]

    (w0, b0), = engine.nn.initial_weights(config.width, 0, data[0].seed)
    w, b = w0[:2, 0].astype(float), float(b0[0, 0])
    x, y = data[0].x_train[:, :2].astype(float), data[0].y_train.astype(float)
    grad_w, grad_b, count = np.zeros(2), 0.0, 0
    expected = []
    for _ in range(epochs):
        for i in range(len(y)):
            out = np.tanh(x[i] @ w + b)
            delta = (out - y[i]) * (1 - out ** 2)
            grad_w, grad_b, count = grad_w + delta * x[i], grad_b + delta, count + 1
            if (i + 1) % batch == 0:
                before = w.copy()
                w = w - lr / count * grad_w - lr * l2 * before
                b = b - lr / count * grad_b
                grad_w, grad_b, count = np.zeros(2), 0.0, 0
        expected.append(np.mean(0.5 * (np.tanh(x @ w + b) - y) ** 2))
    np.testing.assert_allclose(w_engine[:2, 0], w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b_engine[0, 0], b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(losses[0, :, 0], expected, rtol=1e-4)


def test_layout_counts_every_point_once_per_epoch_after_the_first():
    layout = engine.playground_layout(250, 7)
    assert layout.steps == 35 and layout.slots == 12
    real = layout.index[layout.weight > 0]
    assert sorted(real) == list(range(250))  # leftover 245–249 ride in the first update
    assert set(layout.index[layout.carried > 0]) == set(range(245, 250))
    plain = engine.playground_layout(250, 10)
    assert plain.slots == 10 and plain.weight.all() and not plain.carried.any()


def test_a_network_gives_the_same_losses_whatever_population_it_trains_in():
    config = dataclasses.replace(CONFIG, activations=("tanh", "relu", "sigmoid", "linear"))
    data = spiral.make_seed_data(config)
    me = candidate(hidden=(2,), activation="tanh", lr=0.1)
    alone, _ = trained_losses(config, [me], data)
    others = [candidate(hidden=(), activation="relu", lr=0.3), candidate(hidden=(1,), activation="sigmoid", lr=1.0,
                                                                        reg="L1", rate=0.01),
              candidate(features="sinX+sinY", hidden=(2,), activation="linear", lr=0.03, reg="L2", rate=0.003)]
    small, _ = trained_losses(config, [others[0], me], data)
    large, _ = trained_losses(config, others + [me] + others * 5, data)
    np.testing.assert_array_equal(alone[0], small[1])
    np.testing.assert_array_equal(alone[0], large[3])


def test_results_do_not_depend_on_how_the_search_is_split_into_units():
    config = dataclasses.replace(CONFIG, wave_members=4)  # many small waves
    data = spiral.make_seed_data(config)
    one = engine.search(dataclasses.replace(CONFIG, wave_members=100_000), data, lambda *a: None)
    many = engine.search(config, data, lambda *a: None)
    by_candidate = {c: one.outcomes[i] for i, c in enumerate(one.candidates)}
    for i, c in enumerate(many.candidates):
        if c in by_candidate:
            np.testing.assert_array_equal(many.outcomes[i].best_loss, by_candidate[c].best_loss)


def test_a_rung_that_drops_nobody_trains_on_in_its_graph_with_the_numbers_a_new_graph_gives(monkeypatch):
    config = dataclasses.replace(CONFIG, dataset="spiral", activations=("tanh", "relu"), epoch_budget=80, rungs=4,
                                 hopeless_loss=1.0, early_hopeless_loss=1.0, target_loss=0.001)  # every rung keeps all
    data = spiral.make_seed_data(config)
    unit = engine.WaveUnit(config, 1, tuple(candidate(hidden=(2,) * (1 + k % 2), activation=("tanh", "relu")[k % 2],
                                                      lr=(0.03, 0.1, 0.3)[k % 3]) for k in range(6)), tuple(data))
    compiled_afresh = []
    real = engine.compile_population

    def counted(*args, **kwargs):
        compiled_afresh.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "compile_population", counted)
    kept, _ = engine.train_wave(unit)
    assert len(compiled_afresh) == 1 and len(engine.rung_ends(config)) == 4
    assert all(o.status == "failed" and o.epochs_trained == 80 for o in kept)

    monkeypatch.setattr(engine, "compiled_for", lambda config, candidates, population, data, depth, compiled:
                        counted(config, candidates, population, data, depth))
    afresh, _ = engine.train_wave(unit)
    assert len(compiled_afresh) == 1 + 4
    for a, b in zip(kept, afresh):
        np.testing.assert_array_equal(a.best_loss, b.best_loss)
        np.testing.assert_array_equal(a.reached_at, b.reached_at)


def test_members_left_after_a_rung_train_on_among_the_frozen_dropped_ones_as_they_would_alone():
    config = dataclasses.replace(CONFIG, dataset="spiral", activations=("tanh", "relu"))
    data = spiral.make_seed_data(config)
    candidates = [candidate(hidden=(2,) * (1 + k % 2), activation=("tanh", "relu")[k % 2], lr=(0.03, 0.1, 0.3)[k % 3])
                  for k in range(6)]
    order = engine.in_forward_order(candidates)
    population = spiral.new_population(config, order, data, 2)
    compiled = engine.compile_population(config, candidates, population, data, 2)
    engine.train_compiled(config, compiled, population, 10)
    kept = engine.select(population, set(order) - {order[2]})
    afresh = engine.select(population, set(order) - {order[2]})
    assert engine.compiled_for(config, candidates, kept, data, 2, compiled) is compiled
    _, reused_loss, _ = engine.train_compiled(config, compiled, kept, 15)
    _, afresh_loss, _ = engine.train_members(config, candidates, afresh, data, 15, 2)
    assert reused_loss["train"].shape == afresh_loss["train"].shape == (2, 5 * len(data))
    np.testing.assert_array_equal(reused_loss["train"], afresh_loss["train"])
    for a, b in zip(kept.networks, afresh.networks):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x[0], y[0])
            np.testing.assert_array_equal(x[1], y[1])
    np.testing.assert_array_equal(np.concatenate([np.ravel(d) for dead in kept.dead for d in dead]),
                                  np.concatenate([np.ravel(d) for dead in afresh.dead for d in dead]))
    few = engine.select(kept, set(order[:2]))
    assert engine.compiled_for(config, candidates, few, data, 2, compiled) is not compiled  # 2 of 6 left: compiled anew


def test_the_playground_link_encodes_the_network():
    config = dataclasses.replace(spiral.Config(), noise=0.25)
    member = candidate(features="x+y+sinX+sinY", hidden=(6, 4, 2), activation="relu", lr=3.0, reg="L1",
                       rate=0.003, batch=7)
    link = engine.playground_link(config, member, 1234)
    assert link.startswith(PLAYGROUND_URL)
    state = {k: v[0] for k, v in parse_qs(urlsplit(link).fragment, keep_blank_values=True).items()}
    assert state["dataset"] == "spiral" and state["noise"] == "25" and state["percTrainData"] == "50"
    assert state["networkShape"] == "6,4,2" and state["activation"] == "relu"
    assert float(state["learningRate"]) == 3.0 and state["regularization"] == "L1"
    assert float(state["regularizationRate"]) == 0.003 and state["batchSize"] == "7" and state["seed"] == "1234"
    assert {k for k in FEATURES if state[k] == "true"} == {"x", "y", "sinX", "sinY"}
    empty = engine.playground_link(config, candidate(hidden=()), 1)
    assert "networkShape=&" in empty and "regularization=none" in empty


def test_the_search_space_covers_what_the_playground_offers():
    paper = spiral.Config.from_profile("paper")
    archs = engine.architectures(paper)
    assert (6, 4, 2) in archs and (4, 6) not in archs and (8,) * 6 in archs and () in archs
    assert all(list(a) == sorted(a, reverse=True) for a in archs)
    grid = spiral.hyper_grid(paper)
    assert {h.activation for h in grid} == {"tanh", "relu", "sigmoid", "linear"}
    assert max(h.learning_rate for h in grid) == 3.0
    assert {(h.regularization, h.regularization_rate) for h in grid} >= {("L1", 0.001), ("L1", 0.03), ("L2", 0.01),
                                                                         ("none", 0.0)}
    assert {1, 7, 30} <= {h.batch_size for h in grid}
    assert spiral.Config.from_profile("noisy").noise > 0
    default = spiral.Config()
    assert 250 % 7 and dataclasses.replace(default, batch_sizes=(7, 30)).batch_sizes == (7, 30)


def test_pruned_candidates_are_rerun_unpruned():
    config = dataclasses.replace(CONFIG, pruning_sample=3)
    members = [candidate(hidden=(1,), lr=lr) for lr in (0.01, 0.03, 0.1, 0.3)]
    status = ("pruned", "solved", "pruned", "pruned")
    sample, best, solved = engine.pruning_check(config, members, status, spiral.make_seed_data(config))
    assert sample == [0, 2, 3] and best.shape == (3, config.n_seeds) and solved.shape == (3,)
    assert np.all(np.isfinite(best))


def test_search_runs_on_the_cluster_executor(monkeypatch):
    seen = []
    real = cluster.InProcess.map

    def spy(self, function, units, progress=None, describe=None):
        seen.append(function.__name__)
        return real(self, function, units, progress, describe)

    monkeypatch.setattr(cluster.InProcess, "map", spy)
    engine.search(CONFIG, spiral.make_seed_data(CONFIG), lambda *a: None)
    engine.replicate(CONFIG, [candidate()], spiral.make_seed_data(CONFIG))
    assert "train_wave" in seen and "train_full" in seen


def test_a_member_whose_activation_the_run_does_not_compute_is_refused():
    with pytest.raises(ValueError, match="not among this run's activations"):
        engine.member_masks(CONFIG, [candidate(activation="sigmoid")], depth=1)


def test_the_search_trains_its_populations_in_groups_of_one_activation_and_depth():
    config = dataclasses.replace(CONFIG, activations=("tanh", "relu"))
    mixed = [candidate(hidden=(2,) * (1 + k % 3), activation=("tanh", "relu")[k % 2], lr=(0.03, 0.1)[k % 2])
             for k in range(12)]
    ordered = [mixed[i] for i in engine.in_forward_order(mixed)]
    masks = engine.member_masks(config, ordered, depth=3)
    assert [g[2:] for g in masks.groups] == [("tanh", 3), ("tanh", 2), ("tanh", 1), ("relu", 3), ("relu", 2),
                                             ("relu", 1)]
    data = spiral.make_seed_data(config)
    population = spiral.new_population(config, engine.in_forward_order(mixed), data, 3)
    columns = engine.member_columns(population)
    assert sorted(columns) == list(range(12)) and all(len(c) == len(data) for c in columns.values())
    assert all(population.members[k] == (c, s) for c, ks in columns.items() for s, k in enumerate(ks))


def test_every_member_of_a_mixed_population_trains_exactly_as_it_does_alone():
    """The finalists of the default run (their shapes, activations, features and settings) on 8 replicate seeds:
    each one's losses alone and among the others are bit-identical. Before the forward computed each group of one
    activation and depth on its own, the 8 × 8 tanh's were not."""
    config = dataclasses.replace(spiral.Config(), epoch_budget=20, replicates=8)
    members = [candidate("x+y", (8, 8), "tanh", 0.03, "L2", 0.001), candidate("x+y", (6, 6), "relu", 0.1, "L2", 0.001),
               candidate("x+y", (5, 5, 5), "relu", 0.1, "L2", 0.001), candidate("x+y+sinX+sinY", (4,), "tanh", 0.03),
               candidate("x+y+sinX+sinY", (5,), "tanh", 0.1), candidate("all", (5,), "tanh", 0.03, "L1", 0.001),
               candidate("all", (6,), "tanh", 0.3, "L2", 0.001), candidate("x+y", (3, 3), "relu", 0.3)]
    data = engine.replicate_data(config)
    together = engine.train_in_full(config, members, data, ("train", "test"))[1]
    for i, member in enumerate(members):
        alone = engine.train_in_full(config, [member], data, ("train", "test"))[1]
        for name in ("train", "test"):
            np.testing.assert_array_equal(together[name][i], alone[name][0], err_msg=f"{member.hidden} {name}")
