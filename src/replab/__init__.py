"""replab: classic machine-learning questions as rerunnable experiments.

Each experiment states its claims and decides them from its own measurements.
"""

__version__ = "0.1.0"
