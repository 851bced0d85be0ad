"""The regression's measurements: the seeds' data, both architectures trained as populations, their excess risks
and loss curves."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from replab.data.synthetic import RegressionSplit, noisy_target
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.regression.config import Config
from replab.nn.losses import mean_squared_error
from replab.nn.mlp import init_mlp, mlp_forward, parameter_count
from replab.nn.optim import SGD, Adam
from replab.nn.population import Grid
from replab.nn.train import fit

MODELS = ("shallow", "deep")
LINEAR_TARGET = "line"


@dataclass(frozen=True)
class Training:
    """One architecture's population: members ordered target-major, then noise, then seed."""
    model: str
    epochs: np.ndarray             # (R,)
    train_loss: np.ndarray         # (R, K)
    excess_curve: np.ndarray       # (R, K) excess risk on the test inputs during training
    final_train_mse: np.ndarray    # (K,)
    final_test_mse: np.ndarray     # (K,) against the noisy test targets
    final_excess: np.ndarray       # (K,) against the true function
    curve_x: np.ndarray            # (G,)
    curve_y: np.ndarray            # (K, G)
    diverged_at: np.ndarray        # (K,)
    steps_per_second: float
    record_times: np.ndarray       # (R,) wall time (seconds since the epoch) of each record, for TensorBoard


@dataclass(frozen=True)
class Measurements(base.Measurements):
    """Both architectures (A = 2: shallow, deep) for every target (T), noise level (N) and seed (S)."""

    targets: tuple[str, ...]       # (T,)
    noise_stds: np.ndarray         # (N,)
    parameters: np.ndarray         # (A,) trainable parameters of each architecture
    epochs: np.ndarray             # (R,) steps at which the curves were recorded
    train_curve: np.ndarray        # (A, R, T, N, S) train loss during training
    excess_curve: np.ndarray       # (A, R, T, N, S) excess risk during training
    train_mse: np.ndarray          # (A, T, N, S) at the end of training
    test_mse: np.ndarray           # (A, T, N, S) against noisy held-out targets
    excess: np.ndarray             # (A, T, N, S) against the true function on held-out inputs
    diverged_at: np.ndarray        # (A, T, N, S) step at which the loss stopped being finite, −1 if never
    curve_x: np.ndarray            # (G,) inputs the fitted functions are drawn at
    curve_y: np.ndarray            # (A, T, N, S, G)
    data_x: np.ndarray             # (T, N, n_train) seed 0's training inputs
    data_y: np.ndarray             # (T, N, n_train)
    steps_per_second: np.ndarray   # (A,)
    record_times: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), metadata=base.WHEN_MEASURED)
    """(A, R) wall time of each record, per architecture (each is its own fit), for TensorBoard."""

    def to_metrics(self) -> dict:
        """result.json's metrics: per target, noise level and architecture, the final errors of every seed."""
        targets = {}
        for t, target in enumerate(self.targets):
            levels = {}
            for i, noise in enumerate(self.noise_stds):
                level = {"noise_std": float(noise), "noise_floor": float(noise) ** 2}
                for a, model in enumerate(MODELS):
                    train, test, excess = self.train_mse[a, t, i], self.test_mse[a, t, i], self.excess[a, t, i]
                    level[model] = {
                        "train_mse": train.tolist(), "test_mse": test.tolist(), "excess_risk": excess.tolist(),
                        "train_mse_mean": float(train.mean()), "test_mse_mean": float(test.mean()),
                        "excess_risk_mean": float(excess.mean()), "excess_risk_std": float(excess.std(ddof=1)),
                        "diverged": int((self.diverged_at[a, t, i] >= 0).sum()),
                    }
                levels[f"{noise:g}"] = level
            targets[target] = levels
        metrics = {"targets": list(self.targets), "noise_stds": self.noise_stds.tolist(),
                   "parameters": {model: int(self.parameters[a]) for a, model in enumerate(MODELS)},
                   "levels": targets}
        for a, model in enumerate(MODELS):
            metrics[f"steps_per_second_{model}"] = float(self.steps_per_second[a])
        return base.to_jsonable(metrics)


# --- data and training -----------------------------------------------------------------------------


def grid(config: Config) -> Grid:
    """(target, noise) cells × seeds; seed s is the same in every cell and for both architectures."""
    cells = [(target, noise) for target in config.targets for noise in config.noise_stds]
    return Grid.of(cells, config.n_seeds, config.seed)


def data_seed(config: Config, seed_index: int) -> int:
    """The same seed in every cell: same x and same standard-normal draws, scaled by σ."""
    return grid(config).seed_of(seed_index)


def make_splits(config: Config) -> list[RegressionSplit]:
    cells = grid(config)
    return [noisy_target(target, config.n_train, config.n_test, noise, seed)
            for (target, noise), seed in zip(cells.members(), cells.member_seeds())]


def make_optimizer(config: Config, params):
    if config.optimizer == "adam":
        return Adam(params, config.learning_rate)
    return SGD(params, config.learning_rate)


def train_population(config: Config, model: str, splits: list[RegressionSplit]) -> Training:
    """Every member of the population in one compiled graph (nn.fit), full batch, each on its own data."""
    seeds = grid(config).member_seeds()
    params = init_mlp(config.layer_sizes(model), population=len(splits), seed=seeds, weight_init=config.weight_init)
    x_train = np.stack([s.x_train for s in splits])
    y_train = np.stack([s.y_train for s in splits])
    x_test = tf.constant(np.stack([s.x_test for s in splits]))
    y_test = tf.constant(np.stack([s.y_test for s in splits]))
    f_test = tf.constant(np.stack([s.f_test for s in splits]))

    def loss_fn(params, xb, yb, step):
        return mean_squared_error(mlp_forward(params, xb), yb)

    def excess_risk():
        return mean_squared_error(mlp_forward(params, x_test), f_test)

    history = fit(loss_fn, params, make_optimizer(config, params), x_train, y_train,
                     steps=config.epochs, record_every=config.record_every, metrics={"excess": excess_risk},
                     seed=config.seed, per_member_data=True)
    curve_x = np.linspace(-1.0, 1.0, 201, dtype=np.float32)[:, None]
    curve_y = mlp_forward(params, curve_x).numpy()[..., 0]
    final_train = mean_squared_error(mlp_forward(params, x_train), y_train).numpy()
    final_test = mean_squared_error(mlp_forward(params, x_test), y_test).numpy()
    return Training(model, history.steps, history.loss, history.metrics["excess"], final_train, final_test,
                    excess_risk().numpy(), curve_x[:, 0], curve_y, history.diverged_at, history.steps_per_second,
                    history.record_times)


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Train both architectures' populations on the same splits and collect their curves and final errors."""
    splits = make_splits(config)
    cells = grid(config)
    T, N, S = len(config.targets), len(config.noise_stds), config.n_seeds
    trainings = []
    for index, model in enumerate(MODELS):
        progress(index, len(MODELS), f"training {model} network × {len(splits)}")
        trainings.append(train_population(config, model, splits))
    progress(len(MODELS), len(MODELS), "done")

    def stack(name: str) -> np.ndarray:
        """(A, [R,] T, N, S): the members (the last axis of each training array) back into their cells."""
        return np.stack([cells.per_cell(getattr(t, name)).reshape(np.shape(getattr(t, name))[:-1] + (T, N, S))
                         for t in trainings])

    curve_y = np.stack([np.moveaxis(cells.per_cell(np.moveaxis(t.curve_y, 0, -1)).reshape(-1, T, N, S), 0, -1)
                        for t in trainings])
    first = [[cells.member(t * N + i, 0) for i in range(N)] for t in range(T)]
    return Measurements(
        targets=tuple(config.targets), noise_stds=np.asarray(config.noise_stds, float),
        parameters=np.array([parameter_count(config.layer_sizes(model)) for model in MODELS]),
        epochs=np.asarray(trainings[0].epochs),
        train_curve=stack("train_loss"), excess_curve=stack("excess_curve"),
        train_mse=stack("final_train_mse"), test_mse=stack("final_test_mse"), excess=stack("final_excess"),
        diverged_at=stack("diverged_at"), curve_x=np.asarray(trainings[0].curve_x), curve_y=curve_y,
        data_x=np.array([[splits[k].x_train[:, 0] for k in row] for row in first]),
        data_y=np.array([[splits[k].y_train[:, 0] for k in row] for row in first]),
        steps_per_second=np.array([t.steps_per_second for t in trainings], float),
        record_times=np.stack([t.record_times for t in trainings]))
