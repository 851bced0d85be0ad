"""IDX and npz readers and the IDX writer: round trips, and every malformed file refused in one sentence before any
large allocation."""

import gzip

import numpy as np
import pytest

from replab.data.formats import read_idx, read_idx_images, read_idx_labels, read_mnist_npz, write_idx
from replab.data.mnist import load_digits
from replab.errors import ConfigError, UserError
from tests.data.test_mnist import fake_split, write_idx_split, write_npz


def npy_bytes(array):
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_raw_npz(path, members):
    """An npz built by hand: {name: bytes of the .npy member}, stored uncompressed so bytes can be damaged."""
    import zipfile
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name + ".npy", data)
    return path


def split_members(split=None):
    split = split or fake_split()
    return {key: npy_bytes(array) for key, array in zip(("x_train", "y_train", "x_test", "y_test"), split)}


@pytest.mark.parametrize("gzipped", [False, True])
def test_idx_images_and_labels_round_trip(tmp_path, gzipped):
    images, labels, _, _ = fake_split()
    write_idx(tmp_path / "images", images, gzip=gzipped)
    write_idx(tmp_path / "labels", labels, gzip=gzipped)
    assert (tmp_path / "images").read_bytes()[:2] == (b"\x1f\x8b" if gzipped else b"\x00\x00")
    np.testing.assert_array_equal(read_idx_images(tmp_path / "images"), images)
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "labels"), labels)
    assert read_idx_labels(tmp_path / "labels").dtype == np.int64


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trips_every_idx_type(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    result = read_idx(write_idx(tmp_path / "a.idx", array))
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_idx_compression_is_detected_from_the_bytes_not_the_name(tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    write_idx(tmp_path / "plain.gz", labels, gzip=False)
    write_idx(tmp_path / "packed-idx1-ubyte", labels, gzip=True)
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "plain.gz"), labels)
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "packed-idx1-ubyte"), labels)


def test_idx_header_layout_matches_the_format(tmp_path):
    data = write_idx(tmp_path / "l", np.array([7, 2], dtype=np.uint8)).read_bytes()
    assert data == bytes.fromhex("00000801 00000002 07 02".replace(" ", ""))
    packed = write_idx(tmp_path / "g", np.zeros((2, 28, 28), np.uint8), gzip=True).read_bytes()
    assert packed == write_idx(tmp_path / "g2", np.zeros((2, 28, 28), np.uint8), gzip=True).read_bytes()
    assert gzip.decompress(packed)[:4] == bytes.fromhex("00000803")


def test_write_idx_refuses_types_idx_cannot_hold(tmp_path):
    with pytest.raises(ConfigError, match="astype"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))


@pytest.mark.parametrize("flat", [False, True])
def test_npz_round_trip(tmp_path, flat):
    split = fake_split()
    stored = [a.reshape(len(a), -1) if flat and a.ndim == 3 else a for a in split]
    result = read_mnist_npz(write_npz(tmp_path / "mnist.npz", stored))
    for got, want in zip(result, split):
        np.testing.assert_array_equal(got, want)


def test_bad_magic_is_rejected(tmp_path):
    write_idx(tmp_path / "train-labels", np.array([1, 2], np.uint8))
    with pytest.raises(UserError, match=r"train-labels is not an IDX images file.*0x00000801.*0x00000803"):
        read_idx_images(tmp_path / "train-labels")
    (tmp_path / "junk").write_bytes(b"hello world")
    with pytest.raises(UserError, match="junk is not an IDX file"):
        read_idx(tmp_path / "junk")


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncated_payload_is_rejected(tmp_path, gzipped):
    data = write_idx(tmp_path / "full", np.zeros((3, 28, 28), np.uint8)).read_bytes()[:-100]
    (tmp_path / "cut").write_bytes(gzip.compress(data) if gzipped else data)
    with pytest.raises(UserError, match=r"cut is truncated: its header promises 2,352 bytes .* only 2,252 follow"):
        read_idx_images(tmp_path / "cut")


def test_trailing_bytes_and_damaged_gzip_are_rejected(tmp_path):
    data = write_idx(tmp_path / "l", np.array([1, 2], np.uint8)).read_bytes()
    (tmp_path / "long").write_bytes(data + b"\x00")
    with pytest.raises(UserError, match="long is longer than its header says"):
        read_idx_labels(tmp_path / "long")
    (tmp_path / "broken.gz").write_bytes(gzip.compress(data * 50)[:20])
    with pytest.raises(UserError, match="broken.gz is a damaged gzip file"):
        read_idx_labels(tmp_path / "broken.gz")


def test_wrong_image_size_is_rejected(tmp_path):
    write_idx(tmp_path / "big", np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(UserError, match=r"big holds arrays of shape \(2, 32, 32\); expected \(N, 28, 28\)"):
        read_idx_images(tmp_path / "big")


def test_label_out_of_range_is_rejected(tmp_path):
    write_idx(tmp_path / "labels", np.array([1, 12, 3], np.uint8))
    with pytest.raises(UserError, match=r"labels contains label 12; labels must lie in 0\.\.9"):
        read_idx_labels(tmp_path / "labels")


def test_image_and_label_counts_must_agree(tmp_path):
    images, labels, x_test, y_test = fake_split()
    folder = write_idx_split(tmp_path / "d", (images, labels[:-1], x_test, y_test))
    with pytest.raises(UserError, match="holds 30 images but .*train-labels-idx1-ubyte.gz holds 29 labels"):
        load_digits(data_dir=folder)


def test_npz_missing_key_is_rejected(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8), y_train=np.zeros(1, np.uint8))
    with pytest.raises(UserError, match="mnist.npz has no array 'x_test'.* holds x_train, y_train"):
        read_mnist_npz(path)


def test_npz_object_arrays_are_not_unpickled(tmp_path):
    split = dict(zip(("x_train", "y_train", "x_test", "y_test"), fake_split()))
    split["y_train"] = np.array([1, "two", None], dtype=object)
    np.savez(tmp_path / "mnist.npz", **split)
    with pytest.raises(UserError, match=r"stores 'y_train' as Python objects.*allow_pickle=False"):
        read_mnist_npz(tmp_path / "mnist.npz")


def test_non_npz_files_are_rejected(tmp_path):
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(UserError, match="text.npz is not a readable .npz archive"):
        read_mnist_npz(tmp_path / "text.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(UserError, match="single.npy is a single .npy array"):
        read_mnist_npz(tmp_path / "single.npy")


def test_npz_float_pixels_are_rejected(tmp_path):
    split = list(fake_split())
    split[0] = split[0].astype(np.float32) / 255
    with pytest.raises(UserError, match=r"\(x_train\) holds float32 pixels; expected unsigned bytes"):
        read_mnist_npz(write_npz(tmp_path / "mnist.npz", split))


def test_npz_written_by_hand_round_trips(tmp_path):
    split = fake_split()
    for got, want in zip(read_mnist_npz(write_raw_npz(tmp_path / "mnist.npz", split_members(split))), split):
        np.testing.assert_array_equal(got, want)


def test_npz_member_with_a_bad_crc_names_the_file_and_member(tmp_path):
    members = split_members()
    path = write_raw_npz(tmp_path / "mnist.npz", members)
    raw = bytearray(path.read_bytes())
    at = bytes(raw).index(members["x_train"]) + len(members["x_train"]) - 1
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(UserError, match=r"mnist.npz is damaged: its member 'x_train' fails the archive's "
                                        r"integrity check \(Bad CRC-32"):
        read_mnist_npz(path)


def test_npz_member_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    import tracemalloc
    members = split_members()
    header = npy_bytes(np.zeros((1, 28, 28), np.uint8))
    members["x_train"] = header.replace(b"(1, 28, 28)", b"(3000000, 28, 28)")  # 2.4 GB promised, 1 byte held
    assert members["x_train"] != header
    path = write_raw_npz(tmp_path / "mnist.npz", members)
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=r"mnist.npz declares 'x_train' as a uint8 array of shape "
                                            r"\(3000000, 28, 28\) \(2,352,000,000 bytes\), more than the "
                                            r"1,073,741,824 bytes \(1 GiB\).*refused unread"):
            read_mnist_npz(path)
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20
    finally:
        tracemalloc.stop()


def test_npz_member_declaring_more_than_it_holds_is_truncated_not_python_objects(tmp_path):
    members = split_members()
    members["y_test"] = members["y_test"][:-5]
    path = write_raw_npz(tmp_path / "mnist.npz", members)
    with pytest.raises(UserError, match=r"mnist.npz is truncated: its member 'y_test' declares shape \(20,\) "
                                        r"\(20 bytes\) but only 15 bytes follow its header") as caught:
        read_mnist_npz(path)
    assert "Python objects" not in str(caught.value)


def test_npz_file_cut_short_is_not_readable(tmp_path):
    path = write_npz(tmp_path / "mnist.npz", fake_split())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError, match=r"mnist.npz is not a readable .npz archive \(.*\); it may be damaged "
                                        r"or truncated\.$"):
        read_mnist_npz(path)


def test_npz_member_longer_than_its_header_and_odd_types_are_refused(tmp_path):
    members = split_members()
    members["y_train"] += b"\x00\x00"
    with pytest.raises(UserError, match=r"'y_train' holds 2 bytes after the 30 bytes of data for shape \(30,\)"):
        read_mnist_npz(write_raw_npz(tmp_path / "long.npz", members))
    members = split_members()
    members["y_train"] = npy_bytes(np.array(["a", "b"]))
    with pytest.raises(UserError, match=r"stores 'y_train' as <U1 values"):
        read_mnist_npz(write_raw_npz(tmp_path / "text.npz", members))
    members["y_train"] = b"not an npy member at all"
    with pytest.raises(UserError, match=r"stores 'y_train' as something other than a plain .npy array"):
        read_mnist_npz(write_raw_npz(tmp_path / "junk.npz", members))


def test_npz_fortran_order_members_are_read_in_the_right_order(tmp_path):
    split = fake_split()
    members = split_members(split)
    members["x_train"] = npy_bytes(np.asfortranarray(split[0]))
    np.testing.assert_array_equal(read_mnist_npz(write_raw_npz(tmp_path / "f.npz", members))[0], split[0])


def test_a_gzip_bomb_is_decompressed_only_as_far_as_its_header_declares(tmp_path):
    import time
    import tracemalloc
    zeros = gzip.compress(bytes(2**20), compresslevel=9, mtime=0)  # 1 MiB of zeros in about 1 KB
    data = write_idx(tmp_path / "l", np.array([1, 2], np.uint8)).read_bytes()
    bomb = tmp_path / "train-labels-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(data, mtime=0) + zeros * 4096)  # expands to 4 GiB
    assert bomb.stat().st_size < 8 * 2**20
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(UserError, match=r"train-labels-idx1-ubyte.gz is longer than its header says: more data "
                                            r"follows \(decompression stopped there\) after the 2 bytes of data "
                                            r"for shape \(2,\)"):
            read_idx_labels(bomb)
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5


def test_an_idx_header_declaring_gigabytes_is_refused_unread(tmp_path):
    header = bytes.fromhex("00000803") + np.array([3_000_000, 28, 28], ">u4").tobytes()
    (tmp_path / "huge").write_bytes(header + bytes(100))
    (tmp_path / "huge.gz").write_bytes(gzip.compress(header + bytes(100)))
    for name in ("huge", "huge.gz"):
        with pytest.raises(UserError, match=rf"{name} declares an array of shape \(3000000, 28, 28\) "
                                            r"\(2,352,000,000 bytes\), more than the 1,073,741,824 bytes \(1 GiB\) "
                                            r"replab reads from one file; it was refused unread\."):
            read_idx_images(tmp_path / name)


def test_unreadable_idx_paths_are_one_sentence(tmp_path):
    with pytest.raises(UserError, match=r"cannot read .*nothing-here: No such file or directory\."):
        read_idx(tmp_path / "nothing-here")
    with pytest.raises(UserError, match=r"cannot read .*: Is a directory\."):
        read_idx(tmp_path)
