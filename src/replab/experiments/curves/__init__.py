"""How do ROC and precision-recall curves differ as the positive class gets rarer?

The same synthetic problem (scikit-learn's make_classification) is generated at several class ratios
with the positive class as the minority. Two scorers are fitted on a stratified training split and
judged on the test split by ROC-AUC, average precision (the step-wise area under the PR curve) and
the trapezoidal PR-AUC, over several seeds. A no-skill scorer (uniformly random scores) measures
where each curve's chance level really lies.

Two arms separate what imbalance does to the metric from what it does to the model:

- **retrained**: at each class ratio the models are fitted on a training set with that ratio and judged on a
  test set with the same ratio, so the model and the metric both see the imbalance;
- **fixed model**: per seed each model is fitted once, on a balanced (50/50) training set, and then judged on
  test sets resampled from a large held-out balanced pool at every class ratio, so only the test prevalence
  changes. Whatever moves here is the metric; what the retrained arm adds on top is the model.

`measure.py` computes, `judge.py` decides the claims, `present.py` writes the notes, tables and figures.
"""

from replab.experiments.base import runner
from replab.experiments.curves.config import Config

NAME = "curves"
TITLE = "ROC vs precision-recall curves as the positive class gets rarer (50/50 to 99/1)"
QUESTION = (
    "How do ROC and precision-recall curves differ as classes become imbalanced (50/50, 75/25, 90/10, 99/1)? "
    "Which metric should you report when the classes are balanced, and which when positives are rare?"
)

run = runner(__name__)

__all__ = ["NAME", "TITLE", "QUESTION", "Config", "run"]
