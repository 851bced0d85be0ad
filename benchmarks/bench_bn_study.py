"""How long does the Batch Normalization study take? Its six experiments, default and --quick, against the budgets.

Budgets (issue 5): all six studies' default settings together in at most 15 minutes on a 2-core machine, --quick in
about a minute. Each experiment runs through the Python API exactly as `replab run` would (data loading, training,
figures), without saving. Prints the time of each study and the total as a fraction of its budget.

Usage: python benchmarks/bench_bn_study.py [quick|default|both]   (default: quick)
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from replab.experiments import BN_STUDY, load

BUDGETS = {"quick": 60.0, "default": 15 * 60.0}


def time_study(mode: str) -> float:
    total = 0.0
    for name in BN_STUDY:
        module = load(name)
        config = module.Config.quick() if mode == "quick" else module.Config()
        started = time.perf_counter()
        result = module.run(config)
        for figure in result.figures.values():
            figure.savefig(os.devnull, format="png")
        seconds = time.perf_counter() - started
        total += seconds
        verdicts = ", ".join(f"{c.id} {c.headline}" for c in result.claims)
        print(f"{mode:8s} {name:18s} {seconds:7.1f} s   {verdicts}", flush=True)
    budget = BUDGETS[mode]
    print(f"{mode:8s} {'all six':18s} {total:7.1f} s   = {total / budget:.2f} × the {budget:.0f} s budget", flush=True)
    return total


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
    if mode not in ("quick", "default", "both"):
        sys.exit("usage: bench_bn_study.py [quick|default|both]")
    for m in (("quick", "default") if mode == "both" else (mode,)):
        time_study(m)
