"""TensorBoard logs: scalars at their true wall times, an HParams session per series group, final metrics."""

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams import plugin_data_pb2

from replab.tensorboard import _group_hparams, write_tensorboard


def _load(path):
    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def _hparams_data(accumulator):
    content = accumulator.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    return {tag: plugin_data_pb2.HParamsPluginData.FromString(data) for tag, data in content.items()}


def test_scalars_keep_their_wall_times_and_plain_pairs_still_work(tmp_path):
    write_tensorboard(tmp_path, {
        "noise0.1/one_layer/seed2": {"loss/train": [(0, 1.0, 1_700_000_000.0), (10, 0.5, 1_700_000_030.5)]},
        "plain": {"loss/train": [(0, 2.0), (5, 1.0)]},
    })
    timed = _load(tmp_path / "noise0.1" / "one_layer" / "seed2").Scalars("loss/train")
    assert [(e.step, e.value, e.wall_time) for e in timed] == [(0, 1.0, 1_700_000_000.0), (10, 0.5, 1_700_000_030.5)]
    plain = _load(tmp_path / "plain").Scalars("loss/train")
    assert [(e.step, e.value) for e in plain] == [(0, 2.0), (5, 1.0)] and all(e.wall_time > 1e9 for e in plain)


def test_every_group_is_an_hparams_session_with_the_settings_and_final_metrics_declared(tmp_path):
    scalars = {f"noise{noise}/{model}/seed{seed}": {"loss/test": [(0, 1.0), (100, 0.1 * noise)]}
               for noise in (0.1, 0.5) for model in ("one_layer", "two_layer") for seed in (0, 1)}
    write_tensorboard(tmp_path, scalars, settings={"lr": 0.01, "sizes": (1, 2), "quick": True, "data_dir": None},
                      hparams={"noise0.1/one_layer/seed0": {"parameters": 31}})
    config = _hparams_data(_load(tmp_path))[hparams_metadata.EXPERIMENT_TAG].experiment
    assert {h.name for h in config.hparam_infos} >= {"lr", "sizes", "quick", "noise", "seed", "level2", "run", "parameters"}
    assert [m.name.tag for m in config.metric_infos] == ["loss/test"]
    session = _hparams_data(_load(tmp_path / "noise0.1" / "one_layer" / "seed0"))
    start = session[hparams_metadata.SESSION_START_INFO_TAG].session_start_info
    values = {key: value for key, value in start.hparams.items()}
    assert values["lr"].number_value == 0.01 and values["sizes"].string_value == "1,2"
    assert values["quick"].bool_value is True and values["data_dir"].string_value == "none"
    assert values["noise"].number_value == 0.1 and values["seed"].number_value == 0
    assert values["level2"].string_value == "one_layer" and values["parameters"].number_value == 31
    assert start.group_name == "noise0.1/one_layer/seed0"


def test_group_names_are_read_as_settings():
    assert _group_hparams("noise0.5/two_layer/seed3") == {"run": "noise0.5/two_layer/seed3", "noise": 0.5,
                                                          "level2": "two_layer", "seed": 3}
    assert _group_hparams("mnist/batch")["level2"] == "batch"
