"""Readers and a writer for the files MNIST-shaped data comes in: IDX (gzip or not) and Keras' mnist.npz, each bounded
in what it reads and checked for 28x28 images with labels 0..9 (a corrupt or hostile file gets one sentence, never a
huge allocation)."""

from __future__ import annotations

import gzip as gz
import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from replab.errors import ConfigError, UserError

IMAGE_SIDE = 28


N_CLASSES = 10


IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions


LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


GZIP_MAGIC = b"\x1f\x8b"


IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


# The most one IDX file or npz member may declare; full MNIST's largest array is 47 MB.
MAX_ARRAY_BYTES = 1 << 30


READ_CHUNK = 1 << 24


NPY_MAGIC = b"\x93NUMPY"


def read_idx(path: str | Path) -> np.ndarray:
    """Read any IDX file (gzipped or not) into a native-endian array of the shape its header gives."""
    return _read_idx(Path(path))


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
    images = _read_idx(Path(path), IMAGES_MAGIC, "images")
    return _check_images(images, f"{path}")


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Read an IDX label file (magic 0x00000801) of labels 0..9: int64 (N,)."""
    labels = _read_idx(Path(path), LABELS_MAGIC, "labels")
    return _check_labels(labels, f"{path}")


def _read_idx(path: Path, magic: int | None = None, what: str = "") -> np.ndarray:
    """Open `path` (plain or gzipped, by its first bytes) and read one IDX array, bounded by its header."""
    try:
        file = path.open("rb")
    except OSError as error:
        raise _cannot_read(path, error) from None
    with file:
        try:
            gzipped = file.read(2) == GZIP_MAGIC
            file.seek(0)
            size = os.fstat(file.fileno()).st_size
        except OSError as error:
            raise _cannot_read(path, error) from None
        stream = gz.GzipFile(fileobj=file, mode="rb") if gzipped else file
        try:
            return _parse_idx_stream(stream, path, magic, what, None if gzipped else size)
        except (OSError, EOFError, zlib.error) as error:
            if gzipped:
                raise UserError(f"{path} is a damaged gzip file ({error}).") from None
            raise _cannot_read(path, error) from None


def _parse_idx_stream(stream, path: Path, magic: int | None, what: str, size: int | None) -> np.ndarray:
    """Header first, then at most the declared payload plus one byte: a gzip bomb is never expanded."""
    head = stream.read(4)
    if magic is not None and (len(head) < 4 or int.from_bytes(head, "big") != magic):
        raise UserError(f"{path} is not an IDX {what} file: its magic number is 0x{head.hex():0>8}, "
                        f"expected 0x{magic:08x} ({what} of unsigned bytes).")
    if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] not in IDX_TYPES:
        raise UserError(f"{path} is not an IDX file: it starts with magic number 0x{head.hex():0>8} "
                        "instead of 0x000008.. (unsigned bytes) or another IDX data type.")
    dtype, ndim = IDX_TYPES[head[2]], head[3]
    header_size = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if ndim == 0 or len(dims) < 4 * ndim:
        raise UserError(f"{path} has a broken IDX header: it declares {ndim} dimensions "
                        f"but the file holds only {4 + len(dims)} bytes.")
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    expected = math.prod(shape) * dtype.itemsize
    if expected > MAX_ARRAY_BYTES:
        raise UserError(f"{path} declares an array of shape {shape} ({expected:,} bytes), more than the "
                        f"{MAX_ARRAY_BYTES:,} bytes (1 GiB) replab reads from one file; it was refused unread.")
    buffer, actual = _read_into(stream, expected + 1)
    if actual < expected:
        raise UserError(f"{path} is truncated: its header promises {expected:,} bytes of data "
                        f"for shape {shape} but only {actual:,} follow.")
    if actual > expected:
        surplus = size - header_size - expected if size is not None else 0
        extra = f"{surplus:,} byte{'s' * (surplus != 1)} follow{'s' * (surplus == 1)}" if size is not None \
            else "more data follows (decompression stopped there)"
        raise UserError(f"{path} is longer than its header says: {extra} "
                        f"after the {expected:,} bytes of data for shape {shape}.")
    array = buffer[:expected].view(dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _read_into(stream, n: int) -> tuple[np.ndarray, int]:
    """Read at most `n` bytes (n already bounded) into one preallocated buffer; (buffer, bytes read)."""
    buffer = np.empty(n, np.uint8)
    view, got = memoryview(buffer), 0
    while got < n:
        count = stream.readinto(view[got:got + READ_CHUNK])
        if not count:
            break
        got += count
    return buffer, got


def _cannot_read(path: Path, error: OSError) -> UserError:
    return UserError(f"cannot read {path}: {error.strerror or error}.")


def read_mnist_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read a Keras-style mnist.npz (x_train, y_train, x_test, y_test) without unpickling anything.

    Images may be (N, 28, 28) or (N, 784) unsigned bytes; returns uint8 (N, 28, 28) images and int64 labels.
    Each member's .npy header is checked (no objects, at most `MAX_ARRAY_BYTES`, no more than the member
    holds) before its data is read, and the data is read only as far as the header declares.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            start = file.read(len(NPY_MAGIC))
    except OSError as error:
        raise _cannot_read(path, error) from None
    if start == NPY_MAGIC:
        raise UserError(f"{path} is a single .npy array, not an .npz archive holding x_train, y_train, "
                        "x_test and y_test.")
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{path} is not a readable .npz archive ({error}); it may be damaged or truncated.") from None
    with archive:
        members = {(info.filename[:-4] if info.filename.endswith(".npy") else info.filename): info
                   for info in archive.infolist()}
        x_train, y_train, x_test, y_test = (_npz_member(archive, members, key, path)
                                            for key in ("x_train", "y_train", "x_test", "y_test"))
    split = (_check_images(_flat_to_square(x_train), f"{path} (x_train)"), _check_labels(y_train, f"{path} (y_train)"),
             _check_images(_flat_to_square(x_test), f"{path} (x_test)"), _check_labels(y_test, f"{path} (y_test)"))
    _check_counts(split[0], split[1], f"{path} (x_train)", "y_train")
    _check_counts(split[2], split[3], f"{path} (x_test)", "y_test")
    return split


def _npz_member(archive: zipfile.ZipFile, members: dict, key: str, path: Path) -> np.ndarray:
    if key not in members:
        raise UserError(f"{path} has no array '{key}'; a Keras mnist.npz holds x_train, y_train, x_test "
                        f"and y_test, this one holds {', '.join(members) or 'nothing'}.")
    info = members[key]
    try:
        with archive.open(info) as stream:
            return _read_npy_member(stream, info.file_size, key, path)
    except zipfile.BadZipFile as error:
        raise UserError(f"{path} is damaged: its member '{key}' fails the archive's integrity check "
                        f"({error}).") from None
    except (OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as error:
        raise UserError(f"{path} is damaged: its member '{key}' cannot be read ({error}).") from None


def _read_npy_member(stream, member_size: int, key: str, path: Path) -> np.ndarray:
    """One .npy member: header checked against the bounds and the member's size, then exactly its data."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    except ValueError as error:
        raise UserError(f"{path} stores '{key}' as something other than a plain .npy array ({error}).") from None
    header_size = stream.tell()
    if dtype.hasobject:  # object arrays need pickle, which is never used here
        raise UserError(f"{path} stores '{key}' as Python objects, which are not loaded for safety "
                        "(allow_pickle=False); store plain numeric arrays instead.")
    if dtype.kind not in "biufc" or dtype.itemsize == 0:
        raise UserError(f"{path} stores '{key}' as {dtype} values; a Keras mnist.npz holds unsigned-byte "
                        "images and integer labels.")
    if any(d < 0 for d in shape):
        raise UserError(f"{path} declares '{key}' with a negative dimension in shape {shape}.")
    expected = math.prod(shape) * dtype.itemsize
    if expected > MAX_ARRAY_BYTES:
        raise UserError(f"{path} declares '{key}' as a {dtype} array of shape {shape} ({expected:,} bytes), "
                        f"more than the {MAX_ARRAY_BYTES:,} bytes (1 GiB) replab reads from one array; "
                        "it was refused unread.")
    available = member_size - header_size
    if available < expected:
        raise UserError(f"{path} is truncated: its member '{key}' declares shape {shape} ({expected:,} bytes) "
                        f"but only {max(available, 0):,} bytes follow its header.")
    buffer, actual = _read_into(stream, expected + 1)
    if actual < expected:
        raise UserError(f"{path} is truncated: its member '{key}' declares shape {shape} ({expected:,} bytes) "
                        f"but only {actual:,} bytes could be read.")
    if actual > expected:
        raise UserError(f"{path} is longer than its header says: its member '{key}' holds "
                        f"{available - expected:,} bytes after the {expected:,} bytes of data for shape {shape}.")
    flat = buffer[:expected].view(dtype)
    return flat.reshape(shape[::-1]).T if fortran_order else flat.reshape(shape)


def _flat_to_square(images: np.ndarray) -> np.ndarray:
    if images.ndim == 2 and images.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        return images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    return images


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
