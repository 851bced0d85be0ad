"""Hand-written optimizers: SGD, classical momentum and Adam.

The maths lives in the ``*_update`` functions, which map (param, grad, slots)
to new values. The classes only hold state: the learning rate, a step counter
and the slot variables, all created on construction so that ``apply`` can run
inside ``tf.function`` and XLA.

Every parameter carries a leading population axis K. The learning rate is a
float or a (K,) tensor (one rate per member). ``apply`` updates a member only
if it is active and (unless told not to check) all of its new values are finite;
it returns which members were updated, so the trainer can freeze members that
diverge.
"""

import tensorflow as tf


def per_member(value, rank, dtype):
    """A scalar stays a scalar; a (K,) vector becomes (K, 1, ..., 1) to scale a rank-`rank` tensor."""
    value = tf.cast(value, dtype)
    if value.shape.rank == 0:
        return value
    return tf.reshape(value, [-1] + [1] * (rank - 1))


def finite_per_member(tensors):
    """(K,) bool: True where member k's slices of all tensors hold only finite numbers.

    Checks one sum per member, which is much cheaper under XLA than testing every
    entry: any NaN or Inf makes the sum non-finite. A sum of finite values beyond the
    float range also counts as non-finite, which only happens to a diverging member.
    """
    sums = [tf.reduce_sum(t, axis=list(range(1, t.shape.rank))) for t in tensors]
    return tf.math.is_finite(tf.add_n(sums))


def keep_where(members, new, old):
    """new for the selected members, old for the rest."""
    mask = tf.reshape(members, [-1] + [1] * (new.shape.rank - 1))
    return tf.where(mask, new, old)


def sgd_update(param, grad, learning_rate):
    return param - learning_rate * grad, ()


def momentum_update(param, grad, velocity, learning_rate, momentum):
    velocity = momentum * velocity - learning_rate * grad
    return param + velocity, (velocity,)


def adam_update(param, grad, mean, second_moment, step, learning_rate, beta1, beta2, epsilon):
    mean = beta1 * mean + (1.0 - beta1) * grad
    second_moment = beta2 * second_moment + (1.0 - beta2) * tf.square(grad)
    mean_hat = mean / (1.0 - tf.pow(beta1, step))
    second_moment_hat = second_moment / (1.0 - tf.pow(beta2, step))
    step_size = learning_rate * mean_hat / (tf.sqrt(second_moment_hat) + epsilon)
    return param - step_size, (mean, second_moment)


class Optimizer:
    """State holder; subclasses name their slots and call one ``*_update`` function."""

    slot_names = ()
    check_every_step = False
    """Whether the trainer tests this optimizer's new values at every step rather than once per burst of steps
    (a burst that does not end clean being trained again, testing every step); whichever is faster under XLA."""

    def __init__(self, params, learning_rate):
        self.params = tf.nest.flatten(params)
        if not self.params:
            raise ValueError("An optimizer needs at least one parameter to update.")
        if any(p.shape.rank is None or p.shape.rank < 1 for p in self.params):
            raise ValueError("Every parameter needs a leading population axis (use K=1 for one network).")
        self.population = int(self.params[0].shape[0])
        self.learning_rate = tf.Variable(
            tf.cast(learning_rate, tf.float32), trainable=False, name="learning_rate"
        )
        if self.learning_rate.shape.rank not in (0, 1) or (
            self.learning_rate.shape.rank == 1 and self.learning_rate.shape[0] != self.population
        ):
            raise ValueError(
                f"The learning rate must be a number or hold one rate per member "
                f"(shape ({self.population},)), got shape {tuple(self.learning_rate.shape)}."
            )
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
        self.slots = [
            tuple(tf.Variable(tf.zeros_like(p), trainable=False, name=name) for name in self.slot_names)
            for p in self.params
        ]

    def update(self, param, grad, slots, learning_rate):
        raise NotImplementedError

    def moves_without_gradient(self, param):
        """Whether a zero gradient can change `param` or its slots. Not for SGD, momentum or Adam, whose slots
        start at zero and stay there while every gradient is zero; weight decay would."""
        return False

    def apply(self, grads, params=None, active=None, check=True):
        """Apply one step; returns the (K,) bool of members that were updated.

        With check=False the new values are not tested for finiteness: every active member is updated, whatever
        it computed (the trainer then tests ``finite_members`` once per burst of steps instead of every step).

        A gradient of None means the loss does not depend on that parameter (e.g. a BN scale in a population
        without BN). Where a zero gradient leaves a parameter as it is (see ``moves_without_gradient``), the
        parameter and its slots are skipped rather than computed, checked and rewritten unchanged.
        """
        grads = tf.nest.flatten(grads)
        params = self.params if params is None else tf.nest.flatten(params)
        if len(grads) != len(self.params) or len(params) != len(self.params):
            raise ValueError("apply() needs one gradient per parameter given to the optimizer.")
        self.iterations.assign_add(1)
        updated = tf.ones([self.population], tf.bool) if active is None else tf.convert_to_tensor(active)

        proposals = []
        for param, grad, slots in zip(params, grads, self.slots):
            if grad is None:
                if not self.moves_without_gradient(param):
                    continue
                grad = tf.zeros_like(param)
            learning_rate = per_member(self.learning_rate, param.shape.rank, param.dtype)
            new_param, new_slots = self.update(
                param, tf.convert_to_tensor(grad), [tf.convert_to_tensor(s) for s in slots], learning_rate
            )
            proposals.append((param, slots, new_param, new_slots))
            if check:
                updated = updated & finite_per_member([new_param, *new_slots])

        for param, slots, new_param, new_slots in proposals:
            param.assign(keep_where(updated, new_param, param))
            for slot, new_slot in zip(slots, new_slots):
                slot.assign(keep_where(updated, new_slot, slot))
        return updated

    def variables_by_parameter(self):
        """[param, *its slots] for every parameter: what ``apply`` updates together."""
        return [[param, *slots] for param, slots in zip(self.params, self.slots)]

    def finite_members(self):
        """(K,) bool: the members whose parameters and slots are all finite (each parameter summed with its slots,
        as ``apply`` sums them, so no sum adds up more than one step's check would)."""
        groups = self.variables_by_parameter()
        return tf.reduce_all(tf.stack([finite_per_member(group) for group in groups]), axis=0)


class SGD(Optimizer):
    def update(self, param, grad, slots, learning_rate):
        return sgd_update(param, grad, learning_rate)


class Momentum(Optimizer):
    slot_names = ("velocity",)

    def __init__(self, params, learning_rate, momentum=0.9):
        super().__init__(params, learning_rate)
        self.momentum = float(momentum)

    def update(self, param, grad, slots, learning_rate):
        (velocity,) = slots
        return momentum_update(param, grad, velocity, learning_rate, tf.cast(self.momentum, param.dtype))


class Adam(Optimizer):
    slot_names = ("mean", "second_moment")

    def __init__(self, params, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7):
        super().__init__(params, learning_rate)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def update(self, param, grad, slots, learning_rate):
        mean, second_moment = slots
        dtype = param.dtype
        step = tf.cast(self.iterations, dtype)
        return adam_update(
            param, grad, mean, second_moment, step, learning_rate,
            tf.cast(self.beta1, dtype), tf.cast(self.beta2, dtype), tf.cast(self.epsilon, dtype),
        )


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def optimizer(name, params, learning_rate, **options):
    """Build an optimizer by name: 'sgd', 'momentum' or 'adam'."""
    if name not in OPTIMIZERS:
        known = ", ".join(sorted(OPTIMIZERS))
        raise ValueError(f"Unknown optimizer {name!r}; choose one of: {known}.")
    return OPTIMIZERS[name](params, learning_rate, **options)
