"""Memory budgets: a run estimates what it will allocate and refuses, in one sentence, what cannot fit.

Size settings are bounded one by one in each Config; their products (members × parameters × examples) are checked
here, before the allocation, against the memory this machine has available.
"""

from __future__ import annotations

import os

from replab.errors import UserError

USABLE_FRACTION = 0.8
"""Of the memory available when the check runs, the share a run may plan to use."""
MEMORY_SHARE_VARIABLE = "REPLAB_MEMORY_SHARE"
"""Set by `replab run --jobs N` for each of its N concurrent children: the fraction (1/N) of that share each one
may plan for, so that together they stay within it."""
FLOAT32 = 4


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo where there is one, else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1


def require_memory(what: str, needed_bytes: int, hint: str = "", available: int | None = None) -> None:
    """Raise UserError unless `needed_bytes` fits in USABLE_FRACTION of the available memory (of this process's
    share of it, when it is one of `replab run --jobs N`'s children)."""
    available = available_bytes() if available is None else available
    share = memory_share()
    fraction = USABLE_FRACTION * share
    limit = int(available * fraction)
    if needed_bytes > limit:
        if share < 1:
            hint = (f"{hint}, or " if hint else "") + "run fewer experiments at a time (--jobs; make run JOBS=1)"
        raise UserError(f"{what} would need about {gib(needed_bytes)} of memory, more than the {gib(limit)} this "
                        f"machine can spare ({fraction:.0%} of {gib(available)} available)"
                        + (f"; {hint}" if hint else ""))


def memory_share() -> float:
    """This process's share of the plannable memory: $REPLAB_MEMORY_SHARE when it is a number in (0, 1], else 1."""
    try:
        share = float(os.environ.get(MEMORY_SHARE_VARIABLE, "1"))
    except ValueError:
        return 1.0
    return share if 0 < share <= 1 else 1.0


def mlp_population_bytes(layer_sizes: list[int], members: int, batch_rows: int) -> int:
    """A stacked MLP population training on `batch_rows` rows at a time: weights, gradients and optimizer state
    (×4 the parameters) plus activations kept for the backward pass (×3 per layer)."""
    parameters = sum((a + 1) * b for a, b in zip(layer_sizes, layer_sizes[1:]))
    activations = batch_rows * sum(layer_sizes[1:])
    return members * FLOAT32 * (4 * parameters + 3 * activations)


def gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"
