"""The compiled trainer: populations equal separate runs, divergence, records and batch order."""

import time

import numpy as np
import pytest
import tensorflow as tf

from replab.nn import train as nn_train
from replab.nn.losses import mean_squared_error, softmax_cross_entropy
from replab.nn.mlp import init_mlp, mlp_forward
from replab.nn.optim import SGD, Adam
from replab.nn.train import CompiledFit, StepLoop, fit, predict_in_batches

RNG = np.random.default_rng(1)
X = np.linspace(-1.0, 1.0, 40, dtype=np.float32)[:, None]
Y = (np.sin(3 * X) + 0.1 * RNG.normal(size=X.shape)).astype(np.float32)
SIZES = [1, 8, 1]


def regression_loss(params, xb, yb, step):
    return mean_squared_error(mlp_forward(params, xb, "tanh"), yb)


def train(seeds, learning_rate, *, x=X, y=Y, jit_compile=True, optimizer=SGD, **options):
    params = init_mlp(SIZES, population=len(seeds), seed=seeds)
    options = {"steps": 30, "batch_size": 8, "record_every": 10, "seed": 3, **options}
    history = fit(regression_loss, params, optimizer(params, learning_rate), x, y, jit_compile=jit_compile, **options)
    return [v.numpy() for v in tf.nest.flatten(params)], history


def assert_member_matches(population, k, single):
    for together, alone in zip(population, single):
        np.testing.assert_allclose(together[k], alone[0], rtol=2e-5, atol=2e-6)


@pytest.mark.slow
def test_population_equals_separate_runs():
    population, history = train([5, 6, 7], 0.1)
    assert history.loss.shape == (3, 3)
    for k, seed in enumerate([5, 6, 7]):
        single, single_history = train([seed], 0.1, jit_compile=False)
        assert_member_matches(population, k, single)
        np.testing.assert_allclose(history.loss[:, k], single_history.loss[:, 0], rtol=2e-5)


@pytest.mark.slow
def test_population_with_per_member_learning_rates_equals_separate_runs():
    rates = [0.01, 0.1, 0.3]
    population, _ = train([4, 4, 4], tf.constant(rates), optimizer=Adam)
    for k, rate in enumerate(rates):
        single, _ = train([4], rate, optimizer=Adam, jit_compile=False)
        assert_member_matches(population, k, single)


@pytest.mark.slow
def test_per_member_data_equals_separate_runs():
    xs, ys = np.stack([X, X[::-1], 0.5 * X]), np.stack([Y, -Y, 2 * Y])
    population, _ = train([2, 2, 2], 0.1, x=xs, y=ys, per_member_data=True)
    for k in range(3):
        single, _ = train([2], 0.1, x=xs[k], y=ys[k], jit_compile=False)
        assert_member_matches(population, k, single)


@pytest.mark.slow
def test_diverging_member_is_frozen_and_reported():
    params, history = train([0, 1, 2], tf.constant([0.05, 1e6, 0.05]), steps=60, batch_size=None)
    assert history.diverged_at[0] == -1 and history.diverged_at[2] == -1
    assert 1 <= history.diverged_at[1] <= 60
    assert all(np.all(np.isfinite(p)) for p in params)
    assert np.isnan(history.loss[-1, 1])
    assert np.all(history.loss[-1, [0, 2]] < history.loss[0, [0, 2]])


@pytest.mark.slow
def test_training_stops_quietly_when_every_member_diverges():
    params, history = train([0, 1], 1e8, steps=50, batch_size=None)
    assert np.all(history.diverged_at >= 1)
    assert history.steps.tolist() == [10, 20, 30, 40, 50]
    assert np.all(np.isnan(history.loss[-1]))
    assert all(np.all(np.isfinite(p)) for p in params)


def bn_population_run(learning_rates, optimizer=SGD, steps=60, record_every=7, jit_compile=True):
    """A BN MLP population (moving averages updated as a side effect of the loss) trained by fit: its History and
    what it leaves behind, as numpy lists: parameters, moving averages, optimizer slots."""
    from replab.nn.normalized_mlp import Member, NormalizedMLP, forward

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = rng.integers(0, 3, 64).astype(np.int32)
    net = NormalizedMLP([6, 8, 8, 3], [Member(norm="batch")] * len(learning_rates),
                        seeds=list(range(len(learning_rates))))

    def loss_fn(params, xb, yb, step):
        logits, _ = forward(net, xb, training=True)
        return softmax_cross_entropy(logits, yb)

    opt = optimizer(net.params, tf.constant(learning_rates, tf.float32))
    history = fit(loss_fn, net.params, opt, x, y, steps=steps, batch_size=16, record_every=record_every,
                     jit_compile=jit_compile)
    return history, {"params": [v.numpy() for v in tf.nest.flatten(net.params)],
                     "averages": [v.numpy() for v in net.moving_means + net.moving_variances],
                     "slots": [s.numpy() for slots in opt.slots for s in slots]}


@pytest.mark.slow
@pytest.mark.parametrize("optimizer, rate, jit_compile", [(SGD, 0.1, True), (Adam, 0.01, True),
                                                          (SGD, 0.1, False)])
def test_a_diverging_member_leaves_the_others_bit_for_bit_as_they_were(optimizer, rate, jit_compile):
    """The burst in which member 1 diverges is trained again by a loop that tests every step but updates with the
    same code: members 0 and 2 come out exactly as in a population where nobody diverges, moving averages and slots
    too."""
    wild, wild_state = bn_population_run([rate, 1e30, rate], optimizer, jit_compile=jit_compile)
    tame, tame_state = bn_population_run([rate, rate, rate], optimizer, jit_compile=jit_compile)
    assert wild.diverged_at[1] > 0 and wild.diverged_at[[0, 2]].tolist() == [-1, -1]
    np.testing.assert_array_equal(wild.loss[:, [0, 2]], tame.loss[:, [0, 2]])
    for kind in wild_state:
        for a, b in zip(wild_state[kind], tame_state[kind]):
            np.testing.assert_array_equal(a[[0, 2]], b[[0, 2]])


@pytest.mark.slow
def test_a_member_is_frozen_at_its_values_before_the_step_that_failed():
    rates = [0.1, 1e30, 3.0, 0.1]
    history, state = bn_population_run(rates, record_every=25)
    failed = int(history.diverged_at[1])
    assert 1 < failed <= 60 and failed % 25 not in (0, 1)  # inside a burst: the replay had to find it
    _, before = bn_population_run(rates, steps=failed - 1, record_every=25)
    for kind in ("params", "slots"):
        for a, b in zip(state[kind], before[kind]):
            np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.slow
def test_where_a_member_diverges_does_not_depend_on_how_steps_are_grouped_into_bursts():
    bursts, burst_state = bn_population_run([0.1, 1e30, 3.0, 0.1], record_every=25)
    steps, step_state = bn_population_run([0.1, 1e30, 3.0, 0.1], record_every=1)
    assert bursts.diverged_at[1] > 0
    np.testing.assert_array_equal(bursts.diverged_at, steps.diverged_at)
    np.testing.assert_array_equal(bursts.loss[-1], steps.loss[-1])
    for kind in burst_state:
        for a, b in zip(burst_state[kind], step_state[kind]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer, rate", [(SGD, 0.1), (Adam, 0.01)])
def test_a_run_split_into_calls_gives_the_same_numbers_as_one_call(monkeypatch, optimizer, rate):
    """fit runs in calls of about CALL_SECONDS so that Ctrl-C is handled between them; where the calls split the
    run (here at every record point, epochs of 4 steps straddling them, a member diverging inside a burst) must
    not change a number."""
    runs = {}
    for call_seconds in (0.0, 1e9):  # a call per record point; the first record point, then all the rest at once
        monkeypatch.setattr(nn_train, "CALL_SECONDS", call_seconds)
        runs[call_seconds] = bn_population_run([rate, 1e30, rate], optimizer)
    (split, split_state), (whole, whole_state) = runs[0.0], runs[1e9]
    assert split.diverged_at[1] > 0
    np.testing.assert_array_equal(split.diverged_at, whole.diverged_at)
    np.testing.assert_array_equal(split.loss, whole.loss)
    np.testing.assert_array_equal(split.steps, whole.steps)
    assert split.record_times.shape == whole.record_times.shape == split.steps.shape
    for kind in split_state:
        for a, b in zip(split_state[kind], whole_state[kind]):
            np.testing.assert_array_equal(a, b)


def test_run_in_calls_sizes_its_calls_by_the_time_they_take(monkeypatch):
    clock, calls = [0.0], []
    monkeypatch.setattr(nn_train.time, "perf_counter", lambda: clock[0])

    def run(stops, with_metrics, state):  # stands in for make_run's run: 1/64 s per record point on the clock
        count = len(stops.numpy())
        calls.append(stops.numpy().tolist())
        clock[0] += count / 64
        return tf.zeros([count, 2]), {"metric": tf.ones([count])}, (state[0] + count,), tf.zeros([count], tf.float64)

    stops = np.arange(1, 31, dtype=np.int32)
    loss, metrics, state, times = nn_train.run_in_calls(run, stops, (tf.constant(0),), call_seconds=5 / 64)
    assert [stop for call in calls for stop in call] == stops.tolist()  # every record point once, in order
    assert [len(call) for call in calls] == [1, 5, 5, 5, 5, 5, 4]  # the first alone, then 5/64 s a call
    assert loss.shape == (30, 2) and metrics["metric"].shape == (30,) and times.shape == (30,)
    assert int(state[0]) == 30


@pytest.mark.slow
def test_sigterm_stops_a_long_fit_between_calls(tmp_path):
    """A fit of minutes is stopped within seconds: Python's signal handler runs between the run's calls."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "long_fit.py"
    script.write_text(
        "import signal\n"
        "import numpy as np, tensorflow as tf\n"
        "from replab.nn.losses import mean_squared_error\n"
        "from replab.nn.mlp import init_mlp, mlp_forward\n"
        "from replab.nn.optim import SGD\n"
        "from replab.nn.train import fit\n"
        "def interrupt(*_):\n"
        "    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGTERM, interrupt)\n"
        "x = np.random.default_rng(0).normal(size=(256, 8)).astype(np.float32)\n"
        "y = x[:, :1] * 2\n"
        "params = init_mlp([8, 64, 64, 1], population=16, seed=list(range(16)))\n"
        "loss = lambda params, xb, yb, step: mean_squared_error(mlp_forward(params, xb, 'tanh'), yb)\n"
        "print('fitting', flush=True)\n"
        "try:\n"
        "    fit(loss, params, SGD(params, 1e-3), x, y, steps=10**8, batch_size=32, record_every=100)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    try:
        assert process.stdout.readline().strip() == "fitting"
        time.sleep(8.0)  # compiled (about 2 s) and well into the run; a py_function metric would let Python in
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)  # the whole fit would take days
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert out.strip().splitlines()[-1] == "interrupted"


def test_a_burst_reports_which_members_did_not_end_clean():
    params = init_mlp(SIZES, population=3, seed=[0, 1, 2])
    optimizer = SGD(params, tf.constant([0.1, 1e6, 0.1]))
    _, _, plan, (train_until, _) = nn_train.prepare(regression_loss, params, optimizer, X, Y, None, "shuffle", 0,
                                                    False)
    start, *rest = nn_train.initial_state(3, tf.float32, plan)
    _, clean = tf.function(train_until)(start, tf.constant(40), *rest)
    assert clean.numpy().tolist() == [True, False, True]


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_a_compiled_fit_called_again_gives_what_a_new_fit_from_the_same_weights_gives(optimizer):
    """CompiledFit trains on from the variables as they stand, each call from a fresh loop state (step 0, every member
    active, the first epoch's permutation) as fit() does; a member that diverged in the first call trains again in
    the second, as it would in a new fit. Only the first call compiles."""
    def run(again):
        params = init_mlp(SIZES, population=3, seed=[0, 1, 2])
        opt = optimizer(params, tf.constant([0.05, 1e30, 0.01]))
        options = dict(batch_size=8, seed=3, metrics={"w": lambda: params[0][0] + 0})
        first = fit(regression_loss, params, opt, X, Y, steps=30, record_every=10, **options) if not again else None
        if again:
            compiled = CompiledFit(regression_loss, params, opt, X, Y, **options)
            first = compiled(30, record_every=10)
            second = compiled(17, record_every=5)
        else:
            second = fit(regression_loss, params, opt, X, Y, steps=17, record_every=5, **options)
        return first, second, [v.numpy() for v in tf.nest.flatten(params) + [s for slots in opt.slots for s in slots]]

    (fit_first, fit_second, fit_values), (first, second, values) = run(False), run(True)
    assert first.compile_time > 0 and second.compile_time == 0
    assert fit_first.diverged_at[1] > 0 and second.diverged_at[1] > 0
    for fitted, called in ((fit_first, first), (fit_second, second)):
        assert called.steps.tolist() == fitted.steps.tolist()
        np.testing.assert_array_equal(called.loss, fitted.loss)
        np.testing.assert_array_equal(called.metrics["w"], fitted.metrics["w"])
        np.testing.assert_array_equal(called.diverged_at, fitted.diverged_at)
    for a, b in zip(values, fit_values):
        np.testing.assert_array_equal(a, b)


def test_records_every_n_steps_and_at_the_last_step():
    params = init_mlp(SIZES, population=2, seed=0)
    full_loss = lambda: regression_loss(params, tf.constant(X), tf.constant(Y), 0)
    history = fit(
        regression_loss, params, SGD(params, 0.1), X, Y,
        steps=25, record_every=10, metrics={"full_loss": full_loss, "constant": lambda: tf.ones([3])},
    )
    assert history.steps.tolist() == [10, 20, 25]
    assert history.loss.shape == (3, 2)
    assert history.metrics["full_loss"].shape == (3, 2)
    assert history.metrics["constant"].shape == (3, 3)
    assert history.diverged_at.tolist() == [-1, -1]
    assert history.steps_per_second > 0 and history.wall_time > 0
    np.testing.assert_allclose(history.metrics["full_loss"][-1], full_loss().numpy(), rtol=1e-6)


def test_record_times_are_taken_inside_the_run_as_each_record_is_reached():
    params = init_mlp(SIZES, population=1, seed=0)

    def slow_metric():  # each record point takes at least 50 ms, so the clock must move between records
        return tf.reshape(tf.py_function(lambda: (time.sleep(0.05), np.float32(0.0))[1], [], tf.float32), [])

    before = time.time()
    history = fit(regression_loss, params, SGD(params, 0.1), X, Y, steps=40, record_every=10,
                     metrics={"slow": slow_metric})
    after = time.time()
    times = history.record_times
    assert times.shape == (4,) and times.dtype == np.float64
    assert before <= times[0] and times[-1] <= after
    assert np.all(np.diff(times) >= 0.045)


def test_recorded_loss_is_the_batch_loss_before_the_recorded_update():
    params = init_mlp(SIZES, population=2, seed=0)
    full_loss = lambda: regression_loss(params, tf.constant(X), tf.constant(Y), 0)
    history = fit(
        regression_loss, params, SGD(params, 0.1), X, Y,
        steps=6, record_every=1, batch_size=None, metrics={"after": full_loss},
    )
    np.testing.assert_allclose(history.loss[1:], history.metrics["after"][:-1], rtol=1e-5)


def batches_seen(batch_order, seed=0, steps=12, batch_size=4, n=10):
    """Indices of the examples each step trained on, captured by the loss as a side effect."""
    seen = tf.Variable(tf.zeros([steps, batch_size], tf.int32))
    params = [tf.Variable(tf.ones([1, 1]))]

    def loss_fn(params, xb, yb, step):
        seen.scatter_nd_update([[step]], [tf.cast(xb[:, 0], tf.int32)])
        return tf.reduce_mean(tf.square(params[0] * yb[:, 0]), axis=1)

    x = np.arange(n, dtype=np.float32)[:, None]
    fit(loss_fn, params, SGD(params, 0.01), x, x, steps=steps, batch_size=batch_size,
           batch_order=batch_order, seed=seed, record_every=5)
    return seen.numpy()


def test_sequential_order_walks_the_data_as_stored():
    expected = (np.arange(12 * 4) % 10).reshape(12, 4)
    np.testing.assert_array_equal(batches_seen("sequential"), expected)


@pytest.mark.slow
def test_shuffle_draws_a_fresh_permutation_each_epoch_from_the_seed():
    seen = batches_seen("shuffle")  # 10 examples, batch 4: two batches per epoch, 2 examples skipped
    epochs = seen.reshape(6, 8)
    assert all(len(set(epoch)) == 8 for epoch in epochs)
    assert len({tuple(epoch) for epoch in epochs}) > 1
    np.testing.assert_array_equal(seen, batches_seen("shuffle"))
    assert not np.array_equal(seen, batches_seen("shuffle", seed=1))


def test_xla_failure_falls_back_to_plain_graph():
    params = [tf.Variable(tf.ones([1, 1]))]

    def loss_fn(params, xb, yb, step):
        # index_shuffle has no XLA kernel; its (integer) result does not touch the gradient.
        shuffled = tf.random.experimental.index_shuffle(tf.cast(step, tf.int64), seed=[1, 2], max_index=1000)
        return tf.reduce_mean(tf.square(params[0] - yb[:, 0]), axis=1) + 0.0 * tf.cast(shuffled, tf.float32)

    y = np.full((5, 1), 3.0, np.float32)
    with pytest.warns(UserWarning, match="without XLA"):
        history = fit(loss_fn, params, SGD(params, 0.1), y, y, steps=100, batch_size=None)
    assert not history.jit_compiled
    np.testing.assert_allclose(params[0].numpy(), [[3.0]], atol=1e-3)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"batch_order": "random"}, "batch_order"),
        ({"batch_size": 0}, "batch_size"),
        ({"steps": 0}, "steps"),
        ({"record_every": 0}, "record_every"),
    ],
)
def test_bad_settings_are_stopped_with_a_clear_message(options, message):
    params = init_mlp(SIZES, population=1)
    settings = {"steps": 5, **options}
    with pytest.raises(ValueError, match=message):
        fit(regression_loss, params, SGD(params, 0.1), X, Y, **settings)


def test_predict_in_batches_joins_population_outputs():
    params = init_mlp(SIZES, population=3, seed=0)
    forward = lambda xb: mlp_forward(params, xb, "tanh")
    joined = predict_in_batches(forward, X, batch_size=7)
    np.testing.assert_allclose(joined, forward(tf.constant(X)).numpy(), rtol=1e-6)


def test_optimizer_must_belong_to_the_trained_parameters():
    params, others = init_mlp(SIZES), init_mlp(SIZES)
    with pytest.raises(ValueError, match="optimizer was built for other parameters"):
        fit(regression_loss, params, SGD(others, 0.1), X, Y, steps=5)


@pytest.mark.slow
def test_step_loop_trains_exactly_as_fit_does():
    # The loop compiles with one step; 29 more make the 30 steps of fit, on the same batches from the same seed.
    fitted, _ = train([5, 6], 0.1)
    params = init_mlp(SIZES, population=2, seed=[5, 6])
    loop = StepLoop(regression_loss, params, SGD(params, 0.1), X, Y, batch_size=8, seed=3)
    seconds = loop.run(29)
    assert seconds > 0 and loop.jit_compiled
    for together, alone in zip(fitted, [v.numpy() for v in tf.nest.flatten(params)]):
        np.testing.assert_allclose(alone, together, rtol=1e-6, atol=1e-7)
