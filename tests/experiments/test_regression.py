import json

import numpy as np
import pytest
from scipy import stats

from replab import nn
from replab.errors import ConfigError
from replab.experiments import regression
from replab.nn.train import record_schedule
from replab.runs import save_run


@pytest.fixture(scope="module")
def quick():
    config = regression.Config.quick()
    return config, regression.run(config)


def numpy_gradient_descent(x, y, weights, learning_rate, epochs):
    """Full-batch gradient descent on a ReLU MLP with hand-derived backprop, in float64 NumPy."""
    weights = [(w.astype(np.float64), b.astype(np.float64)) for w, b in weights]
    for _ in range(epochs):
        activations, pre = [x], []
        for index, (w, b) in enumerate(weights):
            z = activations[-1] @ w + b
            pre.append(z)
            activations.append(z if index == len(weights) - 1 else np.maximum(z, 0))
        delta = 2 * (activations[-1] - y) / len(x)
        grads = []
        for index in reversed(range(len(weights))):
            w, _ = weights[index]
            grads.append((activations[index].T @ delta, delta.sum(axis=0, keepdims=True)))
            if index:
                delta = (delta @ w.T) * (pre[index - 1] > 0)
        grads.reverse()
        weights = [(w - learning_rate * gw, b - learning_rate * gb) for (w, b), (gw, gb) in zip(weights, grads)]
    return weights


def numpy_forward(weights, x):
    for index, (w, b) in enumerate(weights):
        x = x @ w + b
        if index < len(weights) - 1:
            x = np.maximum(x, 0)
    return x


def test_quick_run_yields_every_figure_table_claim_and_log(quick):
    config, result = quick
    assert set(result.figures) == {"architectures", "loss_curves", "fits"}
    assert [claim.id for claim in result.claims] == [
        "shallow-fits-low-noise", "deeper-fits-noisier-better", "deeper-better-sine-noise-0.1",
        "deeper-better-sine-noise-0.3", "deeper-better-sine-noise-0.5", "loss-converges"]
    assert [table.title for table in result.tables][0] == "Networks"
    assert len(result.scalars) == 2 * len(config.targets) * len(config.noise_stds) * config.n_seeds
    assert result.metrics["parameters"] == {"shallow": 31, "deep": 141}
    shallow, deep = ([point[2] for point in result.scalars[f"sine/noise{config.noise_stds[0]:g}/{model}/seed0"][
        "loss/train"]] for model in regression.MODELS)
    records = len(record_schedule(config.epochs, config.record_every))
    assert len(shallow) == len(deep) == records and all(isinstance(t, float) and t > 1e9 for t in shallow + deep)
    assert shallow == sorted(shallow) and deep == sorted(deep)
    assert deep[0] > shallow[-1]  # each architecture's series has its own fit's times: deep trains after shallow
    assert "record_times" not in json.dumps(result.metrics)  # when it ran is TensorBoard's, not a metric


@pytest.mark.parametrize("model", ["shallow", "deep"])
def test_population_training_matches_an_independent_numpy_implementation(model):
    """Plain gradient descent (optimizer=sgd), the sine target at the highest noise, seed 0, against float64 NumPy."""
    config = regression.Config(n_test=200, epochs=200, n_seeds=2, record_every=10, optimizer="sgd", targets=("sine",),
                               noise_stds=(0.1, 0.5), quick=True)
    result = regression.run(config)
    split = regression.make_splits(config)[2]  # sine, σ = 0.5, first seed
    params = nn.init_mlp(config.layer_sizes(model), population=1, seed=[regression.data_seed(config, 0)],
                         weight_init=config.weight_init)
    initial = [(w.numpy()[0], b.numpy()[0]) for w, b in params]
    trained = numpy_gradient_descent(split.x_train.astype(np.float64), split.y_train.astype(np.float64),
                                     initial, config.learning_rate, config.epochs)
    excess = float(np.mean((numpy_forward(trained, split.x_test.astype(np.float64)) - np.sin(3 * split.x_test)) ** 2))
    train_mse = float(np.mean((numpy_forward(trained, split.x_train.astype(np.float64)) - split.y_train) ** 2))
    level = result.metrics["levels"]["sine"]["0.5"][model]
    assert level["excess_risk"][0] == pytest.approx(excess, rel=2e-3)
    assert level["train_mse"][0] == pytest.approx(train_mse, rel=2e-3)


def test_each_seed_has_its_own_data_and_the_truth_is_noise_free():
    config = regression.Config.quick()
    splits = regression.make_splits(config)
    cells = regression.grid(config)
    first, second = splits[cells.member(0, 0)], splits[cells.member(0, 1)]
    assert not np.array_equal(first.x_train, second.x_train)
    for split, (target, noise) in zip(splits, cells.members()):
        truth = 3 * split.x_test if target == "line" else np.sin(3 * split.x_test)
        assert split.f_test == pytest.approx(truth, abs=1e-6)
        assert np.std(split.y_test - split.f_test) == pytest.approx(noise, rel=0.25)
    # the same seed index draws the same inputs in every cell (paired comparisons)
    assert np.array_equal(splits[cells.member(0, 1)].x_train, splits[cells.member(len(cells.cells) - 1, 1)].x_train)


def test_verdicts_follow_from_the_measurements(quick):
    """The line's verdicts re-derived with scipy from the excess risks: one-sided tests, Benjamini–Hochberg over
    every p-value of the run."""
    config, result = quick
    claims = {claim.id: claim for claim in result.claims}
    line = result.metrics["levels"]["line"]
    low, high = line[f"{config.noise_stds[0]:g}"], line[f"{config.noise_stds[-1]:g}"]
    floor = config.noise_stds[0] ** 2
    ratios = (np.array(low["shallow"]["excess_risk"]) + floor) / floor
    fits = stats.ttest_1samp(ratios, config.close_factor)
    assert claims["shallow-fits-low-noise"].tests[0].effect == pytest.approx(ratios.mean())
    assert claims["shallow-fits-low-noise"].tests[0].p_less == pytest.approx(
        stats.ttest_1samp(ratios, config.close_factor, alternative="less").pvalue)
    deeper = np.subtract(high["shallow"]["excess_risk"], high["deep"]["excess_risk"])
    assert claims["deeper-fits-noisier-better"].tests[0].effect == pytest.approx(deeper.mean())
    assert claims["deeper-fits-noisier-better"].tests[0].p_greater == pytest.approx(
        stats.ttest_rel(high["shallow"]["excess_risk"], high["deep"]["excess_risk"], alternative="greater").pvalue)
    assert fits.pvalue >= 0
    assert all(claim.kind == "finding" for claim in result.claims)
    assert all(claim.verdict in ("holds", "fails", "inconclusive") for claim in result.claims)


def test_quick_run_is_marked_quick_end_to_end(quick):
    config, result = quick
    assert config.quick and result.quick
    assert all(claim.base.quick and claim.base.seeds == config.n_seeds for claim in result.claims)


def test_the_run_is_deterministic(quick):
    config, result = quick
    again = regression.run(config)
    assert again.metrics["levels"] == result.metrics["levels"]


def test_saved_run_has_tensorboard_event_files(quick, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config, result = quick
    path = save_run(tmp_path, regression.NAME, regression.TITLE, regression.QUESTION, config, result, wall_time_s=1)
    log_dir = path / "tensorboard" / "sine" / f"noise{config.noise_stds[0]:g}" / "shallow" / "seed0"
    events = EventAccumulator(str(log_dir))
    events.Reload()
    assert "loss/train" in events.Tags()["tensors"] + events.Tags()["scalars"]


@pytest.mark.parametrize("overrides, message", [
    ({"noise_stds": (0.5, 0.1)}, "increasing"),
    ({"noise_stds": (-0.1,)}, "positive"),
    ({"deep_hidden": ()}, "deep_hidden"),
    ({"n_seeds": 1}, "n_seeds"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"seed": -3}, "seed"),
    ({"noise_stds": (0.1, float("inf"))}, "noise_stds"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"n_seeds": 10_000}, "n_seeds"),
    ({"n_test": 10**9}, "n_test"),
    ({"epochs": 10**9}, "epochs"),
    ({"shallow_hidden": (10**6,)}, "shallow_hidden"),
    ({"close_factor": float("nan")}, "close_factor"),
    ({"targets": ("cubic",)}, "unknown target"),
    ({"targets": ()}, "targets"),
    ({"optimizer": "rmsprop"}, "optimizer"),
])
def test_bad_config_is_rejected_with_a_clear_message(overrides, message):
    with pytest.raises(ConfigError, match=message):
        regression.Config(**overrides)
