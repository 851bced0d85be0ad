"""Playground-faithful training: step-by-step agreement with a NumPy transcription of nn.ts, and masking."""

import numpy as np
import pytest
import tensorflow as tf

from replab.data.playground import FEATURES, features, make_dataset
from replab.nn.playground import (
    PLAYGROUND_ACTIVATIONS,
    forward_order,
    init_playground_network,
    initial_weights,
    mask_tensors,
    masked_forward,
    member_groups,
    network_masks,
    pad_features,
    playground_optimizer,
    playground_parameter_count,
    playground_sgd_update,
    playground_training_loss,
    stack_members,
)
from replab.nn.train import fit

WIDTH = 7
N_TRAIN = 40
BATCH = 10


def numpy_playground_step(weights, dead, xb, yb, lr, reg, rate, activation):
    """One `updateWeights` of the Playground (nn.ts) on a batch, in float64.

    Gradients of 0.5·(tanh out − label)² are averaged over the batch; each weight takes the data
    step, then the regularisation step with R' evaluated at the weight *before* the data step; under
    L1 a weight the regularisation step carries across 0 becomes 0 and dead. Biases are not regularised.
    """
    act, dact = {"tanh": (np.tanh, lambda a: 1 - a ** 2), "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0) * 1.0)}[activation]
    outs = [xb]
    for i, (w, b) in enumerate(weights):
        z = outs[-1] @ w + b
        outs.append(np.tanh(z) if i == len(weights) - 1 else act(z))
    delta = (outs[-1] - yb[:, None]) * (1 - outs[-1] ** 2) / len(xb)
    grads = []
    for i in reversed(range(len(weights))):
        grads.append((outs[i].T @ delta, delta.sum(0, keepdims=True)))
        if i:
            delta = (delta @ weights[i][0].T) * dact(outs[i])
    grads.reverse()
    new_weights, new_dead = [], []
    for (w, b), (gw, gb), d in zip(weights, grads, dead):
        stepped = w - lr * gw
        der = {"none": 0 * w, "L2": w, "L1": np.sign(w)}[reg]
        new = stepped - lr * rate * der
        crossed = (reg == "L1") & (stepped * new < 0)
        new = np.where(crossed, 0.0, new)
        new = np.where(d, w, new)
        new_weights.append((new, b - lr * gb))
        new_dead.append(d | crossed)
    return new_weights, new_dead


def spiral_inputs(names=("x", "y")):
    data = make_dataset("spiral", n_points=2 * N_TRAIN, seed=3)
    return features(data.x_train, names).astype(np.float64), data.y_train.astype(np.float64)


@pytest.mark.slow
@pytest.mark.parametrize("reg,rate,activation,lr", [("none", 0.0, "tanh", 0.3), ("L2", 0.03, "tanh", 0.1),
                                                    ("L1", 0.03, "relu", 0.1)])
def test_replab_matches_numpy_playground_step_by_step(reg, rate, activation, lr):
    x, y = spiral_inputs()
    hidden = (3, 2)
    start = initial_weights(WIDTH, len(hidden), seed=11)
    # the real (unpadded) network: inputs 2, layers 3 and 2
    sizes = [2, *hidden, 1]
    reference = [(w[:a, :b].astype(np.float64), bias[:, :b].astype(np.float64))
                 for (w, bias), a, b in zip(start, sizes[:-1], sizes[1:])]
    dead = [np.zeros_like(w, bool) for w, _ in reference]

    masks = mask_tensors(network_masks([[0, 1]], [hidden], WIDTH, len(hidden)), [activation])
    params = stack_members([start])
    optimizer = playground_optimizer(params, [lr], [reg], [rate])
    x_padded = pad_features(x.astype(np.float32), WIDTH)
    steps_per_epoch = N_TRAIN // BATCH

    def trained(steps, first_step):
        # each fit() starts at batch 0 of the data it gets: rotate the data so it starts where we are
        shift = (first_step % steps_per_epoch) * BATCH
        fit(playground_training_loss(masks), params, optimizer, np.roll(x_padded, -shift, axis=0),
               np.roll(y.astype(np.float32), -shift), steps=steps,
               batch_size=BATCH, batch_order="sequential", record_every=steps, jit_compile=False)
        return [(w.numpy()[0][:a, :b], b_.numpy()[0][:, :b]) for (w, b_), a, b in zip(params, sizes[:-1], sizes[1:])]

    step = 0
    for chunk in [1] * 20 + [3 * steps_per_epoch]:  # each of the first 20 steps, then three more epochs
        first_step = step
        for _ in range(chunk):
            lo = (step % steps_per_epoch) * BATCH
            reference, dead = numpy_playground_step(reference, dead, x[lo:lo + BATCH], y[lo:lo + BATCH], lr, reg, rate,
                                                    activation)
            step += 1
        ours = trained(chunk, first_step)
        for (w, b), (rw, rb) in zip(ours, reference):
            np.testing.assert_allclose(w, rw, atol=2e-5, err_msg=f"weights after step {step}")
            np.testing.assert_allclose(b, rb, atol=2e-5, err_msg=f"biases after step {step}")
    if reg == "L1":
        assert any(d.any() for d in dead), "L1 at this rate should have zeroed some weight"
        ours_zero = [w == 0 for w, _ in trained(1, step)]  # dead weights stay exactly 0
        assert all((z | ~d).all() for z, d in zip(ours_zero, dead))


def test_l1_weight_crossing_zero_is_set_to_zero_and_stays_dead():
    w = tf.constant([[[0.001, -0.5, 0.2]]])
    dead = tf.zeros_like(w)
    new, dead = playground_sgd_update(w, tf.zeros_like(w), dead, 0.1, tf.constant(0.1), tf.constant(0.0))
    np.testing.assert_allclose(new.numpy(), [[[0.0, -0.49, 0.19]]], atol=1e-7)
    assert dead.numpy().tolist() == [[[1.0, 0.0, 0.0]]]
    again, _ = playground_sgd_update(new, tf.fill(w.shape, -5.0), dead, 0.1, tf.constant(0.1), tf.constant(0.0))
    assert again.numpy()[0, 0, 0] == 0.0


@pytest.mark.slow
def test_masked_member_equals_the_narrower_network_alone():
    """A population member masked to (features sinX, sinY; 2 × 3) trains exactly like that network unpadded."""
    data = make_dataset("spiral", n_points=80, seed=5)
    all_features = pad_features(features(data.x_train, FEATURES), 8)
    chosen = [FEATURES.index("sinX"), FEATURES.index("sinY")]
    hidden = (3, 3)
    # population of three members at depth 3, width 8: the masked one sits between two others
    masks = mask_tensors(network_masks([[0, 1], chosen, list(range(7))], [(8,), hidden, (2, 2, 2)], 8, 3),
                            ["relu", "tanh", "tanh"])
    nets = [initial_weights(8, 3, seed) for seed in (1, 2, 3)]
    params = stack_members(nets)
    optimizer = playground_optimizer(params, [0.1, 0.3, 0.03], ["L2", "L1", "none"], [0.01, 0.003, 0.0])
    fit(playground_training_loss(masks), params, optimizer, all_features, data.y_train, steps=60, batch_size=BATCH,
           batch_order="sequential", record_every=60)

    # the same network, unmasked and unpadded: 2 inputs, 3, 3, 1, from the same starting weights
    sizes = [2, 3, 3, 1]
    start = nets[1]
    first = np.zeros((3, 3), np.float32)
    first[:2] = start[0][0][chosen][:, :3]
    narrow = [(first, start[0][1][:, :3]), (start[1][0][:3, :3], start[1][1][:, :3]),
              (start[3][0][:3], start[3][1])]
    narrow_params = stack_members([narrow])
    narrow_masks = mask_tensors(network_masks([[0, 1]], [(3, 3)], 3, 2), ["tanh"])
    narrow_opt = playground_optimizer(narrow_params, [0.3], ["L1"], [0.003])
    x_narrow = np.concatenate([features(data.x_train, ("sinX", "sinY")), np.zeros((len(data.y_train), 1), np.float32)], 1)
    fit(playground_training_loss(narrow_masks), narrow_params, narrow_opt, x_narrow, data.y_train, steps=60,
           batch_size=BATCH, batch_order="sequential", record_every=60)

    probe = pad_features(features(data.x_test, FEATURES), 8)
    probe_narrow = np.concatenate([features(data.x_test, ("sinX", "sinY")), np.zeros((len(probe), 1), np.float32)], 1)
    masked_out = masked_forward(params, probe, masks).numpy()[1]
    narrow_out = masked_forward(narrow_params, probe_narrow, narrow_masks).numpy()[0]
    np.testing.assert_allclose(masked_out, narrow_out, atol=1e-5)
    assert sizes == [2, 3, 3, 1] and playground_parameter_count(2, hidden) == 9 + 12 + 4


def test_parameter_count_and_mask_validation():
    assert playground_parameter_count(2, (8, 8)) == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    assert playground_parameter_count(7, ()) == 8
    with pytest.raises(ValueError):
        network_masks([[0, 1]], [(9,)], 8, 1)
    with pytest.raises(ValueError):
        playground_optimizer(init_playground_network(3, 1, [0]), [0.1], ["L3"], [0.1])


@pytest.mark.slow
def test_a_network_trains_the_same_whatever_population_it_sits_in():
    """One network (tanh 8 × 8 on x, y) alone, first of 3, and in the middle of 40 varied members (other shapes,
    depths, activations, features, rates, L1): the same weights after 100 steps, up to float32 rounding (XLA picks
    its reduction order by shape, so the last bit may differ; nothing else may)."""
    width, depth = 8, 3
    data = make_dataset("spiral", n_points=100, seed=5)
    x_all = pad_features(features(data.x_train, FEATURES), width)

    def train(size, position):
        others = [(list(range(1 + k % 7)), ((2, 4, 6, 8)[k % 4],) * (1 + k % 3), ("relu", "tanh")[k % 2])
                  for k in range(1, size)]
        members = others[:position] + [([0, 1], (8, 8), "tanh")] + others[position:]
        masks = mask_tensors(network_masks([m[0] for m in members], [m[1] for m in members], width, depth),
                                [m[2] for m in members])
        seeds = [100 + k for k in range(1, size)]
        params = stack_members([initial_weights(width, depth, s) for s in seeds[:position] + [7] + seeds[position:]])
        rates = [0.1] * (size - 1)
        optimizer = playground_optimizer(params, rates[:position] + [0.03] + rates[position:],
                                            ["L1"] * position + ["L2"] + ["L1"] * (size - 1 - position), [0.001] * size)
        fit(playground_training_loss(masks), params, optimizer, np.stack([x_all] * size),
               np.stack([data.y_train] * size), steps=100, batch_size=BATCH, batch_order="sequential",
               record_every=100, per_member_data=True)
        return [v.numpy()[position] for pair in params for v in pair]

    alone = train(1, 0)
    for size, position in ((3, 0), (40, 17)):
        for a, b in zip(alone, train(size, position)):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)


def varied_members(count):
    return [(list(range(1 + k % 7)), ((2, 4, 6, 8)[k % 4],) * (1 + (k // 3) % 3), ("relu", "tanh", "sigmoid")[k % 3])
            for k in range(count)]


def test_groups_are_the_runs_of_neighbours_sharing_an_activation_and_a_depth():
    members = varied_members(12)
    order = forward_order([m[2] for m in members], [len(m[1]) for m in members])
    ordered = [members[k] for k in order]
    masks = network_masks([m[0] for m in ordered], [m[1] for m in ordered], 8, 3)
    groups = member_groups(masks.layer_on, [m[2] for m in ordered])
    assert [g[2:] for g in groups] == sorted({(m[2], len(m[1])) for m in members},
                                             key=lambda g: (PLAYGROUND_ACTIVATIONS.index(g[0]), -g[1]))
    assert groups[0][0] == 0 and groups[-1][1] == 12 and all(a[1] == b[0] for a, b in zip(groups, groups[1:]))
    for start, stop, activation, depth in groups:
        assert all(m[2] == activation and len(m[1]) == depth for m in ordered[start:stop])
    scattered = network_masks([[0]] * 200, [(1 + k % 2,) * (1 + k % 2) for k in range(200)], 8, 2)
    assert member_groups(scattered.layer_on, ["tanh"] * 200) is None  # 200 groups: masked instead


@pytest.mark.slow
def test_computing_groups_alone_gives_what_the_masked_population_gives():
    import dataclasses

    width, depth, size = 8, 3, 24
    data = make_dataset("spiral", n_points=100, seed=5)
    x_all = pad_features(features(data.x_train, FEATURES), width)
    members = varied_members(size)
    members = [members[k] for k in forward_order([m[2] for m in members], [len(m[1]) for m in members])]
    masks = mask_tensors(network_masks([m[0] for m in members], [m[1] for m in members], width, depth),
                            [m[2] for m in members])
    assert masks.groups is not None and len(masks.groups) == 9

    def train(masks):
        params = init_playground_network(width, depth, list(range(size)))
        optimizer = playground_optimizer(params, [0.1] * size, ["L1", "L2"] * (size // 2), [0.001] * size)
        fit(playground_training_loss(masks), params, optimizer, np.stack([x_all] * size),
               np.stack([data.y_train] * size), steps=60, batch_size=BATCH, batch_order="sequential",
               record_every=60, per_member_data=True)
        return [v.numpy() for pair in params for v in pair]

    for grouped, masked in zip(train(masks), train(dataclasses.replace(masks, groups=None))):
        np.testing.assert_allclose(grouped, masked, rtol=0, atol=1e-6)
