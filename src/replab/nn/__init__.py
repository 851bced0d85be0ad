"""Low-level TensorFlow building blocks: initialisers, layers, losses, optimizers, the compiled trainer."""

from replab.nn.init import (
    INITIALIZERS,
    gaussian,
    glorot_normal,
    glorot_uniform,
    he_normal,
    initializer,
    playground_bias,
    playground_weights,
    zeros,
)
from replab.nn.layers import ACTIVATIONS, activation, dense
from replab.nn.losses import (
    accuracy,
    l1_penalty,
    l2_penalty,
    mean_squared_error,
    per_member_mean,
    per_member_sum,
    playground_loss,
    sign_accuracy,
    softmax_cross_entropy,
)
from replab.nn.mlp import init_mlp, mlp_forward, parameter_count, weights_of
from replab.nn.norms import (
    BatchNorm,
    batch_norm,
    moving_average,
    normalize,
    population_statistics,
)
from replab.nn.optim import SGD, Adam, Momentum, Optimizer, optimizer
from replab.nn.train import History, fit, predict_in_batches

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "SGD",
    "Adam",
    "BatchNorm",
    "History",
    "Momentum",
    "Optimizer",
    "accuracy",
    "activation",
    "batch_norm",
    "dense",
    "fit",
    "gaussian",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "init_mlp",
    "initializer",
    "l1_penalty",
    "l2_penalty",
    "mean_squared_error",
    "mlp_forward",
    "moving_average",
    "normalize",
    "optimizer",
    "parameter_count",
    "per_member_mean",
    "per_member_sum",
    "playground_bias",
    "playground_loss",
    "playground_weights",
    "population_statistics",
    "predict_in_batches",
    "sign_accuracy",
    "softmax_cross_entropy",
    "weights_of",
    "zeros",
]
