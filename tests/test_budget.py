import pytest

from replab.budget import MEMORY_SHARE_VARIABLE, available_bytes, mlp_population_bytes, require_memory
from replab.errors import UserError


def test_a_population_that_cannot_fit_is_refused_in_one_sentence_before_allocating():
    needed = mlp_population_bytes([784, 4096, 4096, 4096, 10], members=100 * 8, batch_rows=2000)
    assert needed > 100 * 2**30
    with pytest.raises(UserError, match=r"would need about .* GiB of memory, more than the .* this machine can spare"):
        require_memory("training 800 networks", needed, available=24 * 2**30)
    require_memory("training 6 networks", mlp_population_bytes([784, 100, 100, 100, 10], 6, 60), available=2**30)


def test_available_memory_is_read_from_the_machine():
    assert available_bytes() > 2**20


def test_a_child_of_replab_run_jobs_plans_within_its_share(monkeypatch):
    require_memory("a plan of 700 bytes", 700, available=1000)  # 80% of 1000
    monkeypatch.setenv(MEMORY_SHARE_VARIABLE, "0.5")
    with pytest.raises(UserError, match=r"\(40% of .*fewer experiments at a time \(--jobs"):
        require_memory("a plan of 700 bytes", 700, available=1000)
    monkeypatch.setenv(MEMORY_SHARE_VARIABLE, "nonsense")
    require_memory("a plan of 700 bytes", 700, available=1000)
