"""tutor.imageview: half-block pictures (colour) and shade characters (no colour)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from tutor import imageview
from tutor.imageview import render_image_ascii, render_images, render_images_ascii


def digit(size: int = 28, value: float = 1.0) -> list[list[float]]:
    """A bright square on black, as a lesson records it: a 2-D list of floats."""
    a = np.zeros((size, size))
    a[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = value
    return a.tolist()


def lines(text: Text) -> list[str]:
    return text.plain.split("\n")


def test_one_digit_is_28_columns_by_14_rows() -> None:
    out = render_images([digit()])
    assert isinstance(out, Text)
    rows = lines(out)
    assert len(rows) == 14
    assert all(cell_len(r) == 28 for r in rows)
    assert set(out.plain) <= {imageview.UPPER_HALF, "\n"}


def test_colours_are_upper_and_lower_pixel() -> None:
    img = [[0.0, 1.0], [1.0, 0.0]]
    out = render_images([img])
    styles = [span.style for span in out.spans]
    assert len(styles) == 2
    assert styles[0].color.triplet == (0, 0, 0) and styles[0].bgcolor.triplet == (255, 255, 255)
    assert styles[1].color.triplet == (255, 255, 255) and styles[1].bgcolor.triplet == (0, 0, 0)


def test_odd_height_gets_a_black_lower_half() -> None:
    out = render_images([[[1.0], [1.0], [1.0]]])
    assert len(lines(out)) == 2
    assert out.spans[-1].style.bgcolor.triplet == (0, 0, 0)


def test_side_by_side_with_captions_under_each() -> None:
    captions = ["true: coat\npred: shirt", "true: bag\npred: bag", "true: 7\npred: 7"]
    out = render_images([digit(), digit(), digit()], captions, max_width=100)
    rows = lines(out)
    assert len(rows) == 14 + 2  # picture rows, then two caption lines
    assert cell_len(rows[0]) == 3 * 28 + 2 * imageview.GAP
    for word in ("true: coat", "pred: shirt", "true: bag", "pred: 7"):
        assert word in out.plain
    assert rows[14].index("true: coat") < rows[14].index("true: bag") < rows[14].index("true: 7")


def test_wraps_to_max_width() -> None:
    images = [digit() for _ in range(10)]
    out = render_images(images, [f"#{i}" for i in range(10)], max_width=80)
    rows = lines(out)
    assert max(cell_len(r) for r in rows) <= 80
    # 80 columns hold two 28-wide pictures plus a gap: five rows of (14 + caption + blank).
    assert len(rows) == 5 * (14 + 1) + 4
    for i in range(10):
        assert f"#{i}" in out.plain


def test_columns_overrides_wrapping() -> None:
    out = render_images([digit() for _ in range(4)], columns=4, max_width=40)
    assert cell_len(lines(out)[0]) == 4 * 28 + 3 * imageview.GAP
    out = render_images([digit() for _ in range(4)], columns=1)
    assert len(lines(out)) == 4 * 14 + 3


def test_downsample_halves_the_size() -> None:
    rows = lines(render_images([digit()], downsample=2))
    assert len(rows) == 7 and all(cell_len(r) == 14 for r in rows)


def test_long_caption_widens_the_cell_but_never_past_max_width() -> None:
    out = render_images([digit(8)], ["a fairly long caption line"], max_width=80)
    assert lines(out)[-1] == "a fairly long caption line"
    out = render_images([digit(8)], ["x" * 200], max_width=30)
    assert all(cell_len(r) <= 30 for r in lines(out))
    assert lines(out)[-1].endswith("…")


def test_missing_captions_and_no_images() -> None:
    out = render_images([digit(), digit()], ["only one"])
    assert "only one" in out.plain
    assert render_images([]).plain == ""


def test_accepts_arrays_tensor_shapes_and_normalised_values() -> None:
    torch = pytest.importorskip("torch")
    img = torch.rand(1, 28, 28) * 2 - 0.4  # like a Normalize()d image, (C, H, W)
    rows = lines(render_images([img, np.asarray(digit())]))
    assert len(rows) == 14
    a = imageview.to_array(img)
    assert a.shape == (28, 28) and a.min() >= 0.0 and a.max() <= 1.0
    with pytest.raises(ValueError):
        imageview.to_array(np.zeros((3, 4, 5)))


def test_renders_in_a_rich_console() -> None:
    console = Console(width=80, color_system="truecolor", record=True, force_terminal=True)
    console.print(render_images([digit()], ["true: 3\npred: 3"]))
    assert "true: 3" in console.export_text()


def test_ascii_digit_is_28_by_14_and_uses_shades() -> None:
    art = render_image_ascii(digit())
    rows = art.split("\n")
    assert len(rows) == 14 and all(len(r) == 28 for r in rows)
    assert set(art) <= set(imageview.SHADES) | {"\n"}
    assert rows[0] == " " * 28  # black background
    assert "@" * 14 in rows[7]  # the bright square


def test_ascii_shade_levels() -> None:
    assert render_image_ascii([[0.0, 0.5, 1.0], [0.0, 0.5, 1.0]]) == " =@"
    assert render_image_ascii([[1.0, 1.0], [0.0, 0.0]]) == "=="  # the mean of the two rows
    assert render_image_ascii(digit(), downsample=2).count("\n") == 6


def test_ascii_several_with_captions() -> None:
    art = render_images_ascii([digit(), digit()], ["true: 1\npred: 1", "true: 2\npred: 7"])
    rows = art.split("\n")
    assert len(rows) == 16
    assert "true: 1" in rows[14] and "pred: 7" in rows[15]
    assert render_images_ascii([]) == ""


def test_use_color_respects_no_color_and_dumb_terminals() -> None:
    assert imageview.use_color({"TERM": "xterm-256color"})
    assert not imageview.use_color({"TERM": "xterm", "NO_COLOR": "1"})
    assert not imageview.use_color({"TERM": "dumb"})


def test_import_is_light() -> None:
    code = "import sys, tutor.imageview; print('textual' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
