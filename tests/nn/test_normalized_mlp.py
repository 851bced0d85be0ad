import numpy as np
import pytest
import tensorflow as tf

from replab.nn.normalized_mlp import NORMS, Member, NormalizedMLP, Options, blocks_of, forward

SIZES = [12, 8, 8, 3]
rng = np.random.default_rng(0)
X = rng.normal(size=(16, 12)).astype(np.float32)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def net_of(norms, seeds=None, options=Options(groups=2), **member):
    members = [Member(norm, **member) for norm in norms]
    return NormalizedMLP(SIZES, members, seeds or [7] * len(members), options)


def test_blocks_are_runs_of_one_kind():
    members = [Member(n) for n in ("none", "none", "batch", "layer", "layer", "none")]
    assert [(b.norm, b.start, b.stop) for b in blocks_of(members)] == [
        ("none", 0, 2), ("batch", 2, 3), ("layer", 3, 5), ("none", 5, 6)]


def test_a_plain_member_is_the_sigmoid_mlp_computed_in_numpy():
    net = net_of(["none"], weight_std=0.5)
    h = X.astype(np.float64)
    for w, b in net.layers[:-1]:
        h = sigmoid(h @ w.numpy()[0] + b.numpy()[0])
    w, b = net.layers[-1]
    expected = h @ w.numpy()[0] + b.numpy()[0]
    logits, pre = forward(net, X, training=False)
    np.testing.assert_allclose(logits.numpy()[0], expected, rtol=1e-5, atol=1e-6)
    assert len(pre) == 2 and pre[0].shape == (1, 16, 8)


def test_batch_member_normalises_with_batch_statistics_in_training_and_moving_averages_at_inference():
    net = net_of(["batch"])
    _, pre = forward(net, X, training=True, update_averages=False)
    a = pre[0].numpy()[0]
    np.testing.assert_allclose(a.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(a.var(axis=0), 1, rtol=0.05)  # ε = 1e-3 against variances of order 0.1
    # Fresh moving averages are (0, 1), so inference is γ z/√(1 + ε) + β.
    _, pre = forward(net, X, training=False)
    z = X @ net.layers[0][0].numpy()[0]
    np.testing.assert_allclose(pre[0].numpy()[0], z / np.sqrt(1 + 1e-3), rtol=1e-4, atol=1e-5)


def test_every_kind_in_a_mixed_population_equals_the_same_kind_alone():
    mixed = net_of(list(NORMS))
    for step in (0, 5):  # renorm's r_max/d_max ramp depends on the step
        logits, _ = forward(mixed, X, training=True, step=step, update_averages=False)
        for k, norm in enumerate(NORMS):
            alone, _ = forward(net_of([norm]), X, training=True, step=step, update_averages=False)
            np.testing.assert_allclose(logits.numpy()[k], alone.numpy()[0], rtol=1e-5, atol=1e-6, err_msg=norm)


def test_weight_norm_starts_from_the_plain_network_and_keeps_norm_g():
    net = net_of(["none", "weight"])
    logits, _ = forward(net, X, training=False)
    np.testing.assert_allclose(logits.numpy()[1], logits.numpy()[0], rtol=1e-5, atol=1e-6)
    net.gains[0].assign(net.gains[0] * 3.0)
    from replab.nn.normalized_mlp import effective_weight
    w = effective_weight(net, 0).numpy()
    np.testing.assert_allclose(np.linalg.norm(w[1], axis=0), net.gains[0].numpy()[1, 0], rtol=1e-5)


def test_batch_renorm_is_batch_norm_before_its_ramp_starts():
    net = net_of(["batch", "renorm"], options=Options(renorm_ramp_steps=100))
    net.moving_means[0].assign(tf.fill(net.moving_means[0].shape, 0.3))  # r, d would differ from 1, 0 if used
    _, pre = forward(net, X, training=True, step=0, update_averages=False)
    np.testing.assert_allclose(pre[0].numpy()[1], pre[0].numpy()[0], rtol=1e-5, atol=1e-6)
    _, later = forward(net, X, training=True, step=100, update_averages=False)
    assert np.abs(later[0].numpy()[1] - later[0].numpy()[0]).max() > 0.01


def test_only_batch_statistic_members_update_moving_averages_and_only_when_asked():
    net = net_of(["none", "batch", "layer", "renorm"])
    forward(net, X, training=True, step=0, update_averages=False)
    np.testing.assert_array_equal(net.moving_means[0].numpy(), 0)
    forward(net, X, training=True, step=0)
    moved = np.abs(net.moving_means[0].numpy()).max(axis=(1, 2)) > 0
    assert moved.tolist() == [False, True, False, True]
    z = X @ net.layers[0][0].numpy()[1]
    np.testing.assert_allclose(net.moving_means[0].numpy()[1, 0], 0.01 * z.mean(axis=0), rtol=1e-4, atol=1e-7)


def test_dropout_touches_only_members_with_a_rate_and_rescales_the_kept_units():
    members = [Member("none"), Member("none", dropout=0.5)]
    net = NormalizedMLP(SIZES, members, [3, 3])
    big = np.tile(X, (64, 1))
    clean, _ = forward(net, big, training=True, step=0, stochastic=False)
    noisy, _ = forward(net, big, training=True, step=0)
    again, _ = forward(net, big, training=True, step=0)
    other, _ = forward(net, big, training=True, step=1)
    np.testing.assert_allclose(noisy.numpy()[0], clean.numpy()[0], rtol=1e-6)
    assert np.abs(noisy.numpy()[1] - clean.numpy()[1]).max() > 0.1
    np.testing.assert_array_equal(noisy.numpy(), again.numpy())  # drawn from (seed, step): reproducible
    assert np.abs(other.numpy()[1] - noisy.numpy()[1]).max() > 0.1  # and fresh every step
    # Inverted dropout keeps the mean logit about the same.
    assert abs(noisy.numpy()[1].mean() - clean.numpy()[1].mean()) < 0.1 * np.abs(clean.numpy()[1]).mean() + 0.05


def test_injected_shift_is_one_affine_map_per_unit_and_step_for_flagged_members_only():
    members = [Member("batch"), Member("batch", shift_noise=True)]
    net = NormalizedMLP(SIZES, members, [5, 5], Options(shift_range=1.0, scale_range=2.0))
    _, clean = forward(net, X, training=True, step=3, update_averages=False, stochastic=False)
    _, noisy = forward(net, X, training=True, step=3, update_averages=False)
    a, b = clean[0].numpy()[1], noisy[0].numpy()[1]
    np.testing.assert_allclose(noisy[0].numpy()[0], clean[0].numpy()[0], rtol=1e-6)
    scale = (b[1] - b[0]) / (a[1] - a[0])  # same for every pair of examples if the map is per unit
    shift = b[0] - scale * a[0]
    np.testing.assert_allclose(b, scale * a + shift, rtol=1e-4, atol=1e-4)
    assert np.all((scale > 0.5 - 1e-5) & (scale < 2 + 1e-5)) and np.all(np.abs(shift) <= 1 + 1e-5)
    assert np.abs(scale - 1).max() > 0.05


def test_bad_members_and_group_counts_are_refused():
    with pytest.raises(ValueError, match="norm must be one of"):
        Member("instance")
    with pytest.raises(ValueError, match="dropout"):
        Member("none", dropout=1.0)
    with pytest.raises(ValueError, match="groups must divide"):
        NormalizedMLP(SIZES, [Member("group")], [0], Options(groups=3))
