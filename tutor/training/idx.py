"""MNIST's idx files: reading them, and checking them against the published ones.

The four files of MNIST and Fashion-MNIST (``train-images-idx3-ubyte`` and so on) as
torchvision keeps them, unpacked, or as ``.gz``. What the published files look like
(:func:`published_files`: the MD5 of each ``.gz``, the exact size and idx header of each
unpacked file) is here too, so every source of data checks against the same thing.

torch is imported lazily: importing this module must stay cheap for the UI.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import queue
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# torchvision's class names, which are also its folder names: <root>/<Folder>/raw.
FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}

# Train images, train labels, test images, test labels: uint8 tensors.
Arrays = tuple["torch.Tensor", "torch.Tensor", "torch.Tensor", "torch.Tensor"]
# The names torchvision's MNIST/FashionMNIST keep (unpacked) in <root>/<Folder>/raw.
IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# Images and labels in each split of MNIST and Fashion-MNIST (the same for both).
_SPLIT_SIZES = {"train": 60_000, "t10k": 10_000}


def find_idx(where: Path, name: str) -> Path | None:
    """torchvision keeps the unpacked file; a hand-made copy may be only the ``.gz``."""
    for candidate in (where / name, where / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path) -> torch.Tensor:
    """Parse an idx-ubyte file (plain or gzipped) into a uint8 tensor of its stated shape.

    An unpacked file is read straight into the buffer the tensor keeps (``readinto``, then
    ``torch.frombuffer`` past the header): 47 MB of training images are copied once, from the
    page cache, as torchvision's own reader does. Slicing off the header and copying into a
    writable buffer cost two more copies and made a warm load slower than torchvision's.
    """
    with path.open("rb") as f:
        if path.suffix == ".gz":
            data = bytearray(gzip.decompress(f.read()))
        else:
            data = bytearray(os.fstat(f.fileno()).st_size)
            del data[f.readinto(data) :]  # a file cut short meanwhile: the size check says so
    return parse_idx(data, path.name)


def parse_idx(data: bytearray, name: str) -> torch.Tensor:
    """The tensor an idx-ubyte file's bytes describe; it shares ``data``, no copy."""
    import torch

    if len(data) < 4:
        raise ValueError(f"{name}: too short for an idx file")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim not in (1, 3):  # MNIST is unsigned bytes, 1 or 3 dims
        raise ValueError(f"{name}: not an idx-ubyte file (bad magic)")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header])
    count = 1
    for dim in shape:
        count *= dim
    if len(data) - header != count:
        raise ValueError(f"{name}: {len(data) - header} bytes of data, expected {count}")
    if count == 0:  # torch.frombuffer refuses an empty view
        return torch.empty(shape, dtype=torch.uint8)
    # bytearray: torch.frombuffer wants a writable buffer, and the tensor then owns it.
    return torch.frombuffer(data, dtype=torch.uint8, offset=header, count=count).view(*shape)


def check_arrays(arrays: Arrays) -> None:
    """Catch mismatched or mixed-up files here, not as a shape error deep in a lesson."""
    for images, labels, split in ((arrays[0], arrays[1], "train"), (arrays[2], arrays[3], "test")):
        if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28):
            raise ValueError(f"{split} images have shape {tuple(images.shape)}, not (N, 28, 28)")
        if labels.dim() != 1 or len(labels) != len(images):
            raise ValueError(f"{split}: {len(images)} images but {labels.numel()} labels")
        if len(labels) and int(labels.max()) > 9:
            raise ValueError(f"{split} labels go up to {int(labels.max())}, not 0-9")


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

    @property
    def header(self) -> bytes:
        """The idx header the unpacked file starts with: magic, then each dimension."""
        magic = struct.pack(">HBB", 0, 0x08, len(self.shape))
        return magic + struct.pack(f">{len(self.shape)}I", *self.shape)


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
    for name in IDX_NAMES:
        n = _SPLIT_SIZES[name.split("-")[0]]
        shape = (n, 28, 28) if "images" in name else (n,)
        files.append(PublishedFile(name, md5s.get(name), shape))
    return tuple(files)


def idx_problem(path: Path, expected: PublishedFile) -> str | None:
    """Why ``path`` is not the expected unpacked file (size, then header), or None."""
    size = path.stat().st_size
    if size != expected.size:
        return f"has {size} bytes, not {expected.size}"
    with path.open("rb") as f:
        header = f.read(len(expected.header))
    if header != expected.header:
        return "has a wrong idx header"
    return None


def unpack_checked(gz: Path, expected: PublishedFile, sha256: str, keep_at: Path) -> bytearray:
    """Unpack ``gz`` into exactly the published file's bytes, or raise ValueError saying why
    not (size, header, SHA-256, or a damaged archive). The bytes are also written to
    ``keep_at``, which appears (atomically) only once every check has passed.

    The archive is inflated a megabyte at a time into a buffer of the expected size; each
    piece is hashed and written on a second thread while the next one inflates (zlib, hashlib
    and file writes all let go of the GIL), so checking and keeping cost little over the
    unpacking itself: 0.24 s for the 47 MB of training images, where unpack, then hash, then
    write took 0.29-0.45 s. Nothing grows past the expected size, whatever the archive says.
    """
    data = bytearray(expected.size)
    view = memoryview(data)
    digest = hashlib.sha256()
    spans: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
    tmp = keep_at.with_name(keep_at.name + ".tmp")
    failed: list[OSError] = []

    def hash_and_write() -> None:
        try:
            with tmp.open("wb") as out:
                while (span := spans.get()) is not None:
                    digest.update(view[span[0] : span[1]])
                    out.write(view[span[0] : span[1]])
        except OSError as exc:  # a full disk or a read-only cache: raised once unpacked
            failed.append(exc)

    keeper = threading.Thread(target=hash_and_write, name="sha256", daemon=True)
    keeper.start()
    try:
        try:
            size = _inflate_into(gz, view, spans)
        except zlib.error as exc:
            raise ValueError(f"is not a valid gzip archive ({exc})") from None
        finally:
            spans.put(None)
            keeper.join()
        if failed:
            raise failed[0]
        if size != expected.size:
            raise ValueError(f"unpacks to {size} bytes, not {expected.size}")
        if not data.startswith(expected.header):
            raise ValueError("has a wrong idx header")
        if digest.hexdigest() != sha256:
            raise ValueError("fails its SHA-256 check")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, keep_at)  # atomic: a half-written file is never taken for a good one
    return data


def _inflate_into(
    gz: Path, view: memoryview, spans: queue.SimpleQueue[tuple[int, int] | None]
) -> int:
    """Inflate every gzip member of ``gz`` into ``view``; put each filled span on ``spans``.
    Returns how many bytes it unpacked (one more than fits, if the archive holds more)."""
    pos = 0
    inflater = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer, checked
    fed = False  # has the current member been given any input?
    with gz.open("rb") as f:
        while block := f.read(1 << 20):
            pending = block
            while pending:
                # At most one byte more than still fits: enough to tell "too big", no more.
                out = inflater.decompress(pending, len(view) - pos + 1)
                fed = True
                pending = inflater.unconsumed_tail
                if pos + len(out) > len(view):
                    return pos + len(out)
                view[pos : pos + len(out)] = out
                spans.put((pos, pos + len(out)))
                pos += len(out)
                if inflater.eof:  # gzip allows several members, one after another
                    pending = inflater.unused_data
                    inflater, fed = zlib.decompressobj(wbits=31), False
    if fed and not inflater.eof:
        raise ValueError("is cut short (the archive ends mid-stream)")
    return pos


def md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
