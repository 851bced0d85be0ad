"""The compiled training loop.

``fit`` runs a whole training run as one TensorFlow graph: an outer loop over
record points (which evaluates the metrics) calls an inner, XLA-compiled loop
over the training steps between them. Metrics therefore never need to compile
under XLA, while every training step does.

All parameters carry a leading population axis K; ``loss_fn`` returns one loss
per member and the gradient of their sum gives every member its own gradient.
A member whose loss, gradients or new values stop being finite is frozen at its
last finite values and its step is written to ``History.diverged_at``. That is
tested once per burst of steps, not at every step (see GuardedSteps).
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab.nn.optim import keep_where
from replab.nn.random import epoch_permutation

BATCH_ORDERS = ("shuffle", "sequential")


@dataclass
class History:
    """What ``fit`` measured, as plain numpy.

    ``steps[r]`` counts the updates done when record r was taken; ``loss[r]`` (K,)
    is the loss on the mini-batch of that last step, before its update, and NaN for
    members that have diverged; ``metrics[name][r]`` is evaluated after the update.
    ``diverged_at[k]`` is the step (counting updates from 1) whose loss, gradients or
    update were not finite, or -1. ``record_times[r]`` is the wall time (seconds since
    the epoch) at which record r's training steps had finished, taken inside the graph,
    so TensorBoard can show when each point was measured. ``wall_time`` includes
    ``compile_time``; ``steps_per_second`` does not.
    """

    steps: np.ndarray
    loss: np.ndarray
    metrics: dict = field(default_factory=dict)
    diverged_at: np.ndarray = None
    record_times: np.ndarray = None
    wall_time: float = 0.0
    compile_time: float = 0.0
    steps_per_second: float = 0.0
    jit_compiled: bool = False


def record_schedule(steps, record_every):
    """Step counts at which to record: every `record_every` steps, plus the last step."""
    scheduled = list(range(record_every, steps + 1, record_every))
    if not scheduled or scheduled[-1] != steps:
        scheduled.append(steps)
    return np.array(scheduled, dtype=np.int32)


def sequential_indices(step, batch_size, n):
    """Playground order: walk the data as stored, wrapping around at the end."""
    return (step * batch_size + tf.range(batch_size)) % n


def shuffled_indices(step, batch_size, permutation):
    """Batch `step` of its epoch's permutation; the last n % batch_size points of an epoch are skipped."""
    n_batches = permutation.shape[0] // batch_size
    return tf.slice(permutation, [(step % n_batches) * batch_size], [batch_size])


def _validate(params, optimizer, x, y, batch_size, batch_order, per_member_data):
    if any(p.shape.rank is None or p.shape.rank < 1 for p in params):
        raise ValueError("Every parameter needs a leading population axis (use K=1 for one network).")
    if [id(p) for p in getattr(optimizer, "params", params)] != [id(p) for p in params]:
        raise ValueError("The optimizer was built for other parameters than the ones given to fit().")
    population = int(params[0].shape[0])
    if any(int(p.shape[0]) != population for p in params):
        raise ValueError("All parameters must share the same population size on axis 0.")
    if batch_order not in BATCH_ORDERS:
        raise ValueError(f"batch_order must be one of {BATCH_ORDERS}, got {batch_order!r}.")
    sample_axis = 1 if per_member_data else 0
    if per_member_data and (int(x.shape[0]) != population or int(y.shape[0]) != population):
        raise ValueError(f"Per-member data must have {population} members on axis 0.")
    n = int(x.shape[sample_axis])
    if int(y.shape[sample_axis]) != n:
        raise ValueError(f"x holds {n} examples but y holds {int(y.shape[sample_axis])}.")
    if batch_size is not None and not 1 <= int(batch_size) <= n:
        raise ValueError(f"batch_size must lie between 1 and the {n} examples, got {batch_size}.")
    return population, n


def _validate_schedule(steps, record_every):
    if int(steps) < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}.")
    if int(record_every) < 1:
        raise ValueError(f"record_every must be a positive integer, got {record_every}.")


def as_inputs(x, dtype):
    """Inputs as a tensor; floating inputs take the parameters' dtype (numpy defaults to float64)."""
    x = tf.convert_to_tensor(x)
    return tf.cast(x, dtype) if x.dtype.is_floating else x


@dataclass(frozen=True)
class BatchPlan:
    """Which examples each step trains on."""

    n: int
    batch_size: int | None
    shuffle: bool
    seed: int
    per_member_data: bool

    @property
    def batches_per_epoch(self):
        return self.n // self.batch_size if self.shuffle else 1


def first_permutation(plan):
    return epoch_permutation(plan.seed, 0, plan.n) if plan.shuffle else tf.zeros([0], tf.int32)


def next_permutation(plan, step, permutation):
    """A new permutation at the start of each epoch, else the current one."""
    if not plan.shuffle:
        return permutation
    epoch, position = step // plan.batches_per_epoch, step % plan.batches_per_epoch
    return tf.cond(position == 0, lambda: epoch_permutation(plan.seed, epoch, plan.n), lambda: permutation)


def take_batch(plan, x, y, step, permutation):
    if plan.batch_size is None:
        return x, y
    if plan.shuffle:
        indices = shuffled_indices(step, plan.batch_size, permutation)
    else:
        indices = sequential_indices(step, plan.batch_size, plan.n)
    axis = 1 if plan.per_member_data else 0
    return tf.gather(x, indices, axis=axis), tf.gather(y, indices, axis=axis)


def masked_loss(losses, members):
    return tf.where(members, losses, tf.constant(np.nan, losses.dtype))


def make_step_loops(loss_fn, params, optimizer, x, y, plan):
    """The step loops (train_until, replay_until), each training every active member from `step` up to `stop`.

    train_until tests nothing per step: it returns (state at `stop`, clean), clean (K,) False for an active member
    whose loss was not finite at some step or whose parameters or optimizer slots are not all finite at the end,
    and it stops at the first non-finite loss. replay_until tests every member after every update and puts a
    member that failed back to its parameters and slots before that step, freezing it and writing its step to
    diverged_at. Both update with the same code, so they compute the same numbers for every member that does not
    fail. Testing once per burst instead of every step saves each step a reduction over every parameter (8–15% of
    the MLP's step); GuardedSteps replays a burst only when it did not end clean. An optimizer that checks every
    step (``check_every_step``) has train_until test every update instead, so no burst needs a replay and
    replay_until is None.
    """
    flat_params = tf.nest.flatten(params)
    guarded = [v for group in optimizer.variables_by_parameter() for v in group]

    def update(step, active, permutation, check=False):
        permutation = next_permutation(plan, step, permutation)
        xb, yb = take_batch(plan, x, y, step, permutation)
        with tf.GradientTape() as tape:
            losses = loss_fn(params, xb, yb, step)
            total = tf.reduce_sum(losses)
        grads = tape.gradient(total, flat_params)  # None for parameters the loss does not use
        if check:
            active = active & tf.math.is_finite(losses)
        return losses, optimizer.apply(grads, flat_params, active=active, check=check), permutation

    def train_step(step, active, diverged_at, last_loss, permutation, clean):
        losses, _, permutation = update(step, active, permutation)
        clean = clean & (tf.math.is_finite(losses) | ~active)
        return step + 1, active, diverged_at, masked_loss(losses, active), permutation, clean

    def checked_step(step, active, diverged_at, last_loss, permutation, clean):
        losses, updated, permutation = update(step, active, permutation, check=True)
        diverged_at = tf.where(active & ~updated, step + 1, diverged_at)
        return step + 1, updated, diverged_at, masked_loss(losses, updated), permutation, clean

    def replay_step(step, active, diverged_at, last_loss, permutation):
        before = [tf.identity(v.read_value()) for v in guarded]
        losses, _, permutation = update(step, active, permutation)
        failed = active & ~(tf.math.is_finite(losses) & optimizer.finite_members())
        for variable, old in zip(guarded, before):
            variable.assign(keep_where(failed, old, variable))
        diverged_at = tf.where(failed, step + 1, diverged_at)
        return step + 1, active & ~failed, diverged_at, masked_loss(losses, active & ~failed), permutation

    def train_until(step, stop, active, diverged_at, last_loss, permutation):
        def keep_going(step, active, diverged_at, last_loss, permutation, clean):
            return (step < stop) & tf.reduce_any(active) & tf.reduce_all(clean)  # an unclean burst is replayed

        if optimizer.check_every_step:  # members freeze inside the loop, so every burst ends clean
            _, *state, clean = tf.while_loop(keep_going, checked_step, (step, active, diverged_at, last_loss,
                                                                        permutation, tf.ones_like(active)))
            return (stop, *state), clean
        _, *state, clean = tf.while_loop(keep_going, train_step,
                                         (step, active, diverged_at, last_loss, permutation, tf.ones_like(active)))
        return (stop, *state), clean & (optimizer.finite_members() | ~active)

    def replay_until(step, stop, active, diverged_at, last_loss, permutation):
        _, *state = tf.while_loop(lambda step, active, *_: (step < stop) & tf.reduce_any(active), replay_step,
                                  (step, active, diverged_at, last_loss, permutation))
        return (stop, *state)

    # Both return `stop` even when every member diverged early, which keeps the record schedule fixed.
    return train_until, None if optimizer.check_every_step else replay_until


class GuardedSteps:
    """The compiled step loop run in bursts, each kept if it ends clean; otherwise every variable the steps touch
    is restored and the burst is trained again by replay_until, which tests every step (see make_step_loops)."""

    def __init__(self, step_loops, jit_compile):
        train_until, replay_until = step_loops
        self.train_until = tf.function(train_until, jit_compile=jit_compile, autograph=False)
        self.replay_until = replay_until and tf.function(replay_until, jit_compile=jit_compile, autograph=False)

    def __call__(self, step, stop, *rest):
        if self.replay_until is None:  # the step loop tests every step: every burst ends clean
            return self.train_until(step, stop, *rest)[0]
        touched = self.train_until.get_concrete_function(step, stop, *rest).variables
        saved = [v.read_value() for v in touched]
        state, clean = self.train_until(step, stop, *rest)

        def replay():
            with tf.control_dependencies([clean]):
                restored = [v.assign(value) for v, value in zip(touched, saved)]
            with tf.control_dependencies(restored):
                return self.replay_until(step, stop, *rest)

        return tf.cond(tf.reduce_all(clean), lambda: state, replay)


def metric_spec(metric):
    """dtype and shape of a metric, found by tracing it (not running it)."""
    output = tf.function(metric, autograph=False).get_concrete_function().structured_outputs
    if not isinstance(output, tf.Tensor):
        raise ValueError("Each metric must return a single tensor.")
    return output.dtype, output.shape


def initial_state(population, loss_dtype, plan):
    """The step loop's state before the first step: (step, active, diverged_at, last loss, permutation)."""
    return (
        tf.constant(0, tf.int32),
        tf.ones([population], tf.bool),
        -tf.ones([population], tf.int32),
        tf.fill([population], tf.constant(np.nan, loss_dtype)),
        first_permutation(plan),
    )


def make_run(step_loops, metrics, population, loss_dtype, plan, jit_compile):
    """The run as one graph per call: a loop over record points around the step loop.

    Only the step loop is compiled with XLA, so metrics may use any operation.
    run(stops, with_metrics, state) trains from `state` (initial_state's structure) up to each step count in
    `stops` and records the loss there and, if `with_metrics`, every metric; it returns the records and the state
    to go on from, so a run may be split into calls at any record point with the same numbers (run_in_calls).
    """
    compiled_train_until = GuardedSteps(step_loops, jit_compile)
    names = list(metrics)
    specs = [metric_spec(metrics[name]) for name in names]
    state_specs = tf.nest.map_structure(tf.TensorSpec.from_tensor, initial_state(population, loss_dtype, plan))

    def measure(name, spec, with_metrics):
        dtype, shape = spec
        return tf.cond(with_metrics, metrics[name], lambda: tf.zeros(shape, dtype))

    def record(stops, with_metrics, r, state, loss_records, time_records, metric_records):
        step, *rest = state
        state = compiled_train_until(step, stops[r], *rest)
        with tf.control_dependencies([state[3]]):  # the clock is read once these steps are done
            time_records = time_records.write(r, tf.timestamp())
        loss_records = loss_records.write(r, state[3])
        metric_records = tuple(
            records.write(r, measure(name, spec, with_metrics))
            for name, spec, records in zip(names, specs, metric_records)
        )
        return r + 1, tuple(state), loss_records, time_records, metric_records

    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.bool),
                                                   state_specs])
    def run(stops, with_metrics, state):
        size = tf.size(stops)
        loss_records = tf.TensorArray(loss_dtype, size=size, element_shape=[population])
        time_records = tf.TensorArray(tf.float64, size=size, element_shape=[])
        metric_records = tuple(tf.TensorArray(dtype, size=size, element_shape=shape) for dtype, shape in specs)
        _, state, loss_records, time_records, metric_records = tf.while_loop(
            lambda r, *_: r < size,
            lambda *loop_vars: record(stops, with_metrics, *loop_vars),
            (tf.constant(0), tuple(state), loss_records, time_records, metric_records),
        )
        metric_values = {name: records.stack() for name, records in zip(names, metric_records)}
        return loss_records.stack(), metric_values, state, time_records.stack()

    return run


def compile_run(build, state, jit=True):
    """Build the run, with XLA when `jit`, and compile it; if XLA cannot compile it, warn and build it without.

    Compiling means running zero steps, so the timing that follows measures training alone.
    """
    if jit:
        try:
            return run_zero_steps(build(True), state), True
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
            first_line = str(error).strip().splitlines()[0]
            warnings.warn(f"XLA could not compile the training loop, so it runs without XLA: {first_line}",
                          stacklevel=3)
    return run_zero_steps(build(False), state), False


def run_zero_steps(run, state):
    run(tf.zeros([1], tf.int32), tf.constant(False), state)
    return run


CALL_SECONDS = 0.5
"""About how long one call of a run lasts (run_in_calls). Python handles Ctrl-C and SIGTERM only between calls
into TensorFlow, so a run made of one call could not be stopped until it ended (a whole spiral wave, say); calls
of about half a second cost nothing measurable and keep a stop prompt."""


def run_in_calls(run, stops, state, call_seconds=None):
    """run(stops, True, state) split into calls of about `call_seconds` (CALL_SECONDS) at record points: the same
    records.

    The first call trains to the first record point; each next call takes as many record points as the last call's
    pace fits in call_seconds (at least one). Returns (loss, metrics, final state, record times) as run does.
    """
    call_seconds = CALL_SECONDS if call_seconds is None else call_seconds
    pieces, start, per_record = [], 0, None
    while start < len(stops):
        count = 1 if per_record is None else max(1, int(call_seconds / max(per_record, 1e-9)))
        chunk = stops[start:start + count]
        began = time.perf_counter()
        loss, metric_values, state, times = run(tf.constant(chunk), tf.constant(True), state)
        pieces.append((loss.numpy(), {name: value.numpy() for name, value in metric_values.items()}, times.numpy()))
        per_record = (time.perf_counter() - began) / len(chunk)
        start += len(chunk)
    loss = np.concatenate([piece[0] for piece in pieces])
    metric_values = {name: np.concatenate([piece[1][name] for piece in pieces]) for name in pieces[0][1]}
    return loss, metric_values, state, np.concatenate([piece[2] for piece in pieces])


def prepare(loss_fn, params, optimizer, x, y, batch_size, batch_order, seed, per_member_data):
    """Validate fit()'s arguments; (flat params, population size, batch plan, the uncompiled step loops)."""
    flat_params = tf.nest.flatten(params)
    if not flat_params:
        raise ValueError("fit() needs at least one parameter to train.")
    x, y = as_inputs(x, flat_params[0].dtype), tf.convert_to_tensor(y)
    population, n = _validate(flat_params, optimizer, x, y, batch_size, batch_order, per_member_data)
    plan = BatchPlan(
        n=n,
        batch_size=None if batch_size is None else int(batch_size),
        shuffle=batch_size is not None and batch_order == "shuffle",
        seed=int(seed),
        per_member_data=bool(per_member_data),
    )
    return flat_params, population, plan, make_step_loops(loss_fn, params, optimizer, x, y, plan)


class StepLoop:
    """fit()'s compiled step loop held open, to run in bursts: for timing training steps without metrics.

    Same arguments as fit() (no steps, records or metrics); compiled on construction (XLA where it compiles).
    """

    def __init__(self, loss_fn, params, optimizer, x, y, *, batch_size=None, batch_order="shuffle", seed=0,
                 jit_compile=True, per_member_data=False):
        flat_params, population, plan, step_loops = prepare(loss_fn, params, optimizer, x, y, batch_size,
                                                            batch_order, seed, per_member_data)
        self.state = initial_state(population, flat_params[0].dtype, plan)
        self.jit_compiled = False
        if jit_compile:
            try:
                self._train_until = tf.function(GuardedSteps(step_loops, jit_compile=True))
                self.run(1)
                self.jit_compiled = True
                return
            except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
                pass
        self._train_until = tf.function(GuardedSteps(step_loops, jit_compile=False))
        self.run(1)

    def run(self, steps):
        """Train `steps` more steps; returns the seconds they took."""
        step, *rest = self.state
        start = time.perf_counter()
        self.state = self._train_until(step, step + int(steps), *rest)
        self.state[0].numpy()  # wait for the result
        return time.perf_counter() - start


class CompiledFit:
    """fit() compiled once and held open: each call trains every member from a fresh loop state (step 0, every member
    active, as fit() starts) on the variables as they stand, with the graph compiled on construction.

    A caller that trains the same population again (the spiral search's successive-halving rungs that drop few
    members or none, the dropped ones left inactive) thereby compiles once instead of once per call, with the
    numbers fit() gives: the same graph from the same state. Same arguments as fit() but the schedule, which each
    call takes.
    """

    def __init__(self, loss_fn, params, optimizer, x, y, *, batch_size=None, batch_order="shuffle", metrics=None,
                 seed=0, jit_compile=True, per_member_data=False):
        flat_params, self.population, self.plan, step_loops = prepare(
            loss_fn, params, optimizer, x, y, batch_size, batch_order, seed, per_member_data)
        self.loss_dtype = flat_params[0].dtype
        metrics = dict(metrics or {})

        def build(jit):
            return make_run(step_loops, metrics, self.population, self.loss_dtype, self.plan, jit)

        start = time.perf_counter()
        self.run, self.jit_compiled = compile_run(build, self.start_state(), jit_compile)
        self.compile_time = time.perf_counter() - start
        self._compile_time_unreported = self.compile_time

    def start_state(self, active=None):
        step, every_member, *rest = initial_state(self.population, self.loss_dtype, self.plan)
        if active is not None:
            active = np.asarray(active, bool)
            if active.shape != (self.population,):
                raise ValueError(f"active must hold one flag per member ({self.population}), got {active.shape}.")
            every_member = tf.constant(active)
        return (step, every_member, *rest)

    def __call__(self, steps, record_every=100, active=None) -> History:
        """Train `steps` steps, recording every `record_every` and at the last; the first call's History carries
        the compile time. `active` (K,) bool trains only those members; the others keep their values (their losses
        read NaN) while the graph still computes them."""
        _validate_schedule(steps, record_every)
        record_steps = record_schedule(int(steps), int(record_every))
        start = time.perf_counter()
        loss, metric_values, state, record_times = run_in_calls(self.run, record_steps, self.start_state(active))
        trained = time.perf_counter() - start
        compile_time, self._compile_time_unreported = self._compile_time_unreported, 0.0
        return History(
            steps=record_steps.astype(np.int64),
            loss=loss,
            metrics=metric_values,
            diverged_at=state[2].numpy().astype(np.int64),
            record_times=record_times,
            wall_time=compile_time + trained,
            compile_time=compile_time,
            steps_per_second=int(steps) / trained,
            jit_compiled=self.jit_compiled,
        )


def fit(
    loss_fn,
    params,
    optimizer,
    x,
    y,
    *,
    steps,
    batch_size=None,
    batch_order="shuffle",
    record_every=100,
    metrics=None,
    seed=0,
    jit_compile=True,
    per_member_data=False,
):
    """Train a population of networks for `steps` steps in one compiled graph; returns a History.

    loss_fn(params, xb, yb, step) -> (K,) losses, `step` an int32 tensor counting
    from 0. It may assign to non-trainable state (e.g. moving averages) as a side effect.
    x, y: (N, ...) shared by all members, or (K, N, ...) with per_member_data=True.
    batch_size None trains on the full data every step. "shuffle" draws a new
    permutation from `seed` every epoch (dropping the last N % batch_size examples);
    "sequential" walks the data as stored, wrapping around (TensorFlow Playground).
    metrics: name -> zero-arg callable returning a tensor, evaluated at every record point.
    jit_compile: compile the step loop with XLA (falls back with a warning if it cannot).
    """
    _validate_schedule(steps, record_every)
    return CompiledFit(loss_fn, params, optimizer, x, y, batch_size=batch_size, batch_order=batch_order,
                       metrics=metrics, seed=seed, jit_compile=jit_compile,
                       per_member_data=per_member_data)(steps, record_every)


def predict_in_batches(forward, x, batch_size=1000, batch_axis=1):
    """Concatenate forward(x[i:i+batch_size]) over x's first axis, joining outputs on `batch_axis`.

    For population outputs (K, B, ...) the batch axis is 1; pass 0 for single-network outputs.
    """
    x = tf.convert_to_tensor(x)
    compiled_forward = tf.function(forward)
    outputs = [compiled_forward(x[i : i + batch_size]) for i in range(0, int(x.shape[0]), batch_size)]
    return tf.concat(outputs, axis=batch_axis).numpy()
