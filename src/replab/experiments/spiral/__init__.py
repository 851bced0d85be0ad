"""The smallest network that solves TensorFlow Playground's spiral.

Training is the Playground's own: tanh output, plain SGD on batches walked in stored order, its L1/L2 rule, loss
mean 0.5·(output − label)² (see replab.nn.playground). The experiment is two stages:

1. **Search** (`search.py`): successive halving over (feature set, architecture, hyperparameters) candidates in
   increasing parameter count, in masked populations. It selects on the *training* loss only: a candidate is solved
   when its training loss reaches `target_loss` within `epoch_budget` epochs in `seeds_required` of `n_seeds` seeds.
2. **Replication** (`measure.py`): the seed's choice, the smallest solver per feature set and the sine claim's
   X1, X2 rival are retrained on `replicates` fresh seeds (new data, new weights) for the full budget. A replicate
   succeeds when its final *test* loss is ≤ `target_loss`; "solves" means a success rate significantly above
   `success_null` (exact binomial test in `judge.py`).

The engine is the submodule `replab.experiments.spiral.search` (its `search` function runs it), with the candidates in
`candidates.py` and the compiled Playground populations in `population.py`;
`present.py` turns the measurements into tables, figures and notes.
"""

from replab.experiments.base import runner
from replab.experiments.spiral.config import Config

NAME = "spiral"
TITLE = "The smallest network that solves TensorFlow Playground's spiral"
QUESTION = ("Which network — input features, hidden layers, neurons, activation, learning rate, regularisation, "
            "batch size — with the fewest parameters reaches the target test loss on the Playground's spiral, "
            "trained exactly as the Playground trains it?")

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
