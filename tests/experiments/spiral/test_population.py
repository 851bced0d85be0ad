"""The spiral's Playground populations on their own: the Playground's batching, population independence, the
compiled training of the members left after a rung, and the groups of one activation and depth."""

import dataclasses

import numpy as np
import pytest

from replab.experiments import spiral
from replab.experiments.spiral.candidates import Candidate, Hyper, make_seed_data
from replab.experiments.spiral.population import (
    compile_population,
    in_forward_order,
    member_columns,
    member_masks,
    new_population,
    playground_layout,
    select,
    train_compiled,
    train_members,
)
from replab.experiments.spiral.search import compiled_for
from replab.nn.playground import initial_weights

CONFIG = spiral.Config.quick()


def candidate(features="x+y", hidden=(2,), activation="tanh", lr=0.1, reg="none", rate=0.0, batch=10):
    return Candidate(features, tuple(hidden), Hyper(activation, lr, reg, rate, batch))


def trained_losses(config, members, data, epochs=12):
    """Train `members` as one population on every seed of `data`; (C, R, seeds) training loss."""
    depth = max(len(m.hidden) for m in members)
    population = new_population(config, list(range(len(members))), data, depth)
    _, losses, _ = train_members(config, members, population, data, epochs, depth)
    n = len(data)
    return np.stack([losses["train"][:, c * n:(c + 1) * n] for c in range(len(members))]), population


@pytest.mark.slow
@pytest.mark.parametrize("batch", [7, 10, 30])
def test_batches_follow_the_playground_loop_including_the_leftover_points(batch):
    """A network with no hidden layer trained by the engine matches the Playground's oneStep written out in NumPy:
    accumulate every point's gradient in stored order, update after every `batch` points, and carry the leftover
    points' gradients into the next epoch's first update."""
    config = dataclasses.replace(CONFIG, record_every=1)
    data = make_seed_data(config)[:1]
    lr, l2 = 0.1, 0.01
    member = candidate(hidden=(), lr=lr, reg="L2", rate=l2, batch=batch)
    epochs = 3
    losses, population = trained_losses(config, [member], data, epochs)
    (w_engine, b_engine), = population.networks[0]

    (w0, b0), = initial_weights(config.width, 0, data[0].seed)
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
    layout = playground_layout(250, 7)
    assert layout.steps == 35 and layout.slots == 12
    real = layout.index[layout.weight > 0]
    assert sorted(real) == list(range(250))  # leftover 245–249 ride in the first update
    assert set(layout.index[layout.carried > 0]) == set(range(245, 250))
    plain = playground_layout(250, 10)
    assert plain.slots == 10 and plain.weight.all() and not plain.carried.any()


@pytest.mark.slow
def test_a_network_gives_the_same_losses_whatever_population_it_trains_in():
    config = dataclasses.replace(CONFIG, activations=("tanh", "relu", "sigmoid", "linear"))
    data = make_seed_data(config)
    me = candidate(hidden=(2,), activation="tanh", lr=0.1)
    alone, _ = trained_losses(config, [me], data)
    others = [candidate(hidden=(), activation="relu", lr=0.3), candidate(hidden=(1,), activation="sigmoid", lr=1.0,
                                                                        reg="L1", rate=0.01),
              candidate(features="sinX+sinY", hidden=(2,), activation="linear", lr=0.03, reg="L2", rate=0.003)]
    small, _ = trained_losses(config, [others[0], me], data)
    large, _ = trained_losses(config, others + [me] + others * 5, data)
    np.testing.assert_array_equal(alone[0], small[1])
    np.testing.assert_array_equal(alone[0], large[3])


@pytest.mark.slow
def test_members_left_after_a_rung_train_on_among_the_frozen_dropped_ones_as_they_would_alone():
    config = dataclasses.replace(CONFIG, dataset="spiral", activations=("tanh", "relu"))
    data = make_seed_data(config)
    candidates = [candidate(hidden=(2,) * (1 + k % 2), activation=("tanh", "relu")[k % 2], lr=(0.03, 0.1, 0.3)[k % 3])
                  for k in range(6)]
    order = in_forward_order(candidates)
    population = new_population(config, order, data, 2)
    compiled = compile_population(config, candidates, population, data, 2)
    train_compiled(config, compiled, population, 10)
    kept = select(population, set(order) - {order[2]})
    afresh = select(population, set(order) - {order[2]})
    assert compiled_for(config, candidates, kept, data, 2, compiled) is compiled
    _, reused_loss, _ = train_compiled(config, compiled, kept, 15)
    _, afresh_loss, _ = train_members(config, candidates, afresh, data, 15, 2)
    assert reused_loss["train"].shape == afresh_loss["train"].shape == (2, 5 * len(data))
    np.testing.assert_array_equal(reused_loss["train"], afresh_loss["train"])
    for a, b in zip(kept.networks, afresh.networks):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x[0], y[0])
            np.testing.assert_array_equal(x[1], y[1])
    np.testing.assert_array_equal(np.concatenate([np.ravel(d) for dead in kept.dead for d in dead]),
                                  np.concatenate([np.ravel(d) for dead in afresh.dead for d in dead]))
    few = select(kept, set(order[:2]))
    assert compiled_for(config, candidates, few, data, 2, compiled) is not compiled  # 2 of 6 left: compiled anew


def test_a_member_whose_activation_the_run_does_not_compute_is_refused():
    with pytest.raises(ValueError, match="not among this run's activations"):
        member_masks(CONFIG, [candidate(activation="sigmoid")], depth=1)


def test_the_search_trains_its_populations_in_groups_of_one_activation_and_depth():
    config = dataclasses.replace(CONFIG, activations=("tanh", "relu"))
    mixed = [candidate(hidden=(2,) * (1 + k % 3), activation=("tanh", "relu")[k % 2], lr=(0.03, 0.1)[k % 2])
             for k in range(12)]
    ordered = [mixed[i] for i in in_forward_order(mixed)]
    masks = member_masks(config, ordered, depth=3)
    assert [g[2:] for g in masks.groups] == [("tanh", 3), ("tanh", 2), ("tanh", 1), ("relu", 3), ("relu", 2),
                                             ("relu", 1)]
    data = make_seed_data(config)
    population = new_population(config, in_forward_order(mixed), data, 3)
    columns = member_columns(population)
    assert sorted(columns) == list(range(12)) and all(len(c) == len(data) for c in columns.values())
    assert all(population.members[k] == (c, s) for c, ks in columns.items() for s, k in enumerate(ks))
