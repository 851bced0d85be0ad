import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def quick_run():
    """quick_run(name) -> (config, result): experiment `name`'s quick run, trained once per test session and shared
    by every test that reads it (tests that read it are marked slow)."""
    from replab.experiments import load

    results = {}

    def run(name: str):
        if name not in results:
            module = load(name)
            config = module.Config.quick()
            results[name] = (config, module.run(config))
        return results[name]

    return run
