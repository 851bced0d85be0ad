import dataclasses

import pytest

from replab.errors import ConfigError
from replab.experiments.bn.ics.config import Config


def test_bad_settings_are_refused_with_one_sentence():
    for bad in ({"n_seeds": 1}, {"shift_range": 0.0}, {"scale_range": 1.0}, {"probe_size": 1}, {"probe_unit": 100},
                {"keep_fraction": 0.0}, {"target_within": 1.0}, {"steps": 100, "record_every": 100}):
        with pytest.raises(ConfigError) as error:
            dataclasses.replace(Config(), **bad)
        assert "\n" not in str(error.value)
