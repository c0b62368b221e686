"""Small grayscale images as terminal pictures: half blocks in colour, shade characters without.

A run that records ``sample_images`` (2-D lists of floats in [0, 1]) and ``sample_captions``
is shown with :func:`render_images`: each character cell is ``▀`` with the foreground set to
the upper pixel and the background to the lower one, so a 28×28 digit takes 28 columns and
14 rows. :func:`render_image_ascii` is the same picture for terminals without colour
(``NO_COLOR`` or ``TERM=dumb``, see :func:`use_color`).

Plain Python: rich for the styled text, numpy imported lazily, no Textual and no torch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    import numpy as np

UPPER_HALF = "▀"
SHADES = " .:-=+*#%@"  # darkest (0.0) to brightest (1.0)
GAP = 2  # blank columns between two pictures


def use_color(environ: dict[str, str] | None = None) -> bool:
    """False when the terminal asks for no colour (``NO_COLOR`` set, or ``TERM=dumb``)."""
    env = os.environ if environ is None else environ
    return not env.get("NO_COLOR") and env.get("TERM", "") != "dumb"


def to_array(image: Any, downsample: int = 1) -> np.ndarray:
    """Any 2-D image (nested lists, numpy array, tensor; leading size-1 axes allowed) as a
    float array in [0, 1], shrunk by averaging ``downsample × downsample`` blocks.

    Values outside [0, 1] (a normalised image) are rescaled from their own min..max.
    """
    import numpy as np

    if hasattr(image, "detach"):  # a torch tensor, without importing torch
        image = image.detach().cpu().numpy()
    a = np.asarray(image, dtype=float)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {a.shape}")
    a = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0)
    if a.size and (a.min() < 0.0 or a.max() > 1.0):
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    step = max(1, int(downsample))
    if step > 1 and a.size:
        h, w = -(-a.shape[0] // step) * step, -(-a.shape[1] // step) * step
        padded = np.zeros((h, w))
        padded[: a.shape[0], : a.shape[1]] = a
        a = padded.reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    return np.clip(a, 0.0, 1.0)


def _gray(value: float) -> str:
    level = int(round(float(value) * 255))
    return f"rgb({level},{level},{level})"


def _image_rows(a: np.ndarray) -> list[Text]:
    """One Text per terminal row: pixel rows 2k (foreground) and 2k+1 (background)."""
    rows: list[Text] = []
    for top in range(0, a.shape[0], 2):
        line = Text()
        for col in range(a.shape[1]):
            upper = a[top, col]
            lower = a[top + 1, col] if top + 1 < a.shape[0] else 0.0
            line.append(UPPER_HALF, Style(color=_gray(upper), bgcolor=_gray(lower)))
        rows.append(line)
    return rows


def _fit(text: str, width: int) -> str:
    """A caption line centred in ``width`` columns, cut with an ellipsis when too long."""
    if len(text) > width:
        text = text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.center(width)


def _caption_lines(captions: Sequence[str] | None, count: int) -> list[list[str]]:
    captions = list(captions or [])
    return [str(captions[i]).splitlines() if i < len(captions) else [] for i in range(count)]


def _per_row(cell_width: int, count: int, columns: int | None, max_width: int) -> int:
    if columns is not None:
        return max(1, min(int(columns), count))
    return max(1, min(count, (max_width + GAP) // (cell_width + GAP)))


def render_images(
    images: list,
    captions: list[str] | None = None,
    *,
    columns: int | None = None,
    max_width: int = 80,
    downsample: int = 1,
) -> Text:
    """Several small grayscale images side by side, each with its caption under it.

    Images are placed left to right and wrap to a new row when the next one would pass
    ``max_width`` columns (or after ``columns`` images, when given). Captions may hold
    several lines (``"true: coat\\npred: shirt"``); lines too wide for a picture are cut.
    """
    arrays = [to_array(img, downsample) for img in images]
    if not arrays:
        return Text()
    caps = _caption_lines(captions, len(arrays))
    widest_caption = max((len(line) for lines in caps for line in lines), default=0)
    widest_image = max(a.shape[1] for a in arrays)
    # A cell fits its picture and, within reason, its caption: never wider than the screen.
    cell = max(widest_image, min(widest_caption, max(widest_image, max_width)))
    per_row = _per_row(cell, len(arrays), columns, max_width)
    gap = " " * GAP

    out = Text()
    first = True
    for start in range(0, len(arrays), per_row):
        group = range(start, min(start + per_row, len(arrays)))
        pictures = [_image_rows(arrays[i]) for i in group]
        n_rows = max(len(p) for p in pictures)
        n_caption = max(len(caps[i]) for i in group)
        for r in range(n_rows):
            if not first:
                out.append("\n")
            first = False
            for k, (i, rows) in enumerate(zip(group, pictures, strict=True)):
                if k:
                    out.append(gap)
                width = arrays[i].shape[1]
                left = (cell - width) // 2
                out.append(" " * left)
                out.append_text(rows[r] if r < len(rows) else Text(" " * width))
                out.append(" " * (cell - width - left))
        for r in range(n_caption):
            out.append("\n")
            line = gap.join(_fit(caps[i][r] if r < len(caps[i]) else "", cell) for i in group)
            out.append(line.rstrip())
        if start + per_row < len(arrays):
            out.append("\n")  # a blank line between rows of pictures
    out.rstrip()
    return out


def render_image_ascii(image: Any, *, downsample: int = 1) -> str:
    """One image in shade characters ``" .:-=+*#%@"`` for terminals without colour.

    Like the half-block picture, each character covers one pixel column and two pixel
    rows (their mean), so a 28×28 digit is 28 characters wide and 14 lines tall.
    """
    a = to_array(image, downsample)
    lines = []
    top_max = len(SHADES) - 1
    for top in range(0, a.shape[0], 2):
        pair = a[top : top + 2]
        mean = pair.mean(axis=0) if pair.shape[0] == 2 else pair[0] / 2
        lines.append("".join(SHADES[int(round(v * top_max))] for v in mean))
    return "\n".join(lines)


def render_images_ascii(
    images: list,
    captions: list[str] | None = None,
    *,
    columns: int | None = None,
    max_width: int = 80,
    downsample: int = 1,
) -> str:
    """:func:`render_images` in plain characters (no colour), with the same layout."""
    pictures = [render_image_ascii(img, downsample=downsample).split("\n") for img in images]
    if not pictures:
        return ""
    caps = _caption_lines(captions, len(pictures))
    widths = [max((len(line) for line in p), default=0) for p in pictures]
    widest_caption = max((len(line) for lines in caps for line in lines), default=0)
    cell = max(max(widths), min(widest_caption, max(max(widths), max_width)))
    per_row = _per_row(cell, len(pictures), columns, max_width)
    blocks: list[str] = []
    for start in range(0, len(pictures), per_row):
        group = range(start, min(start + per_row, len(pictures)))
        lines = []
        for r in range(max(len(pictures[i]) for i in group)):
            cells = [
                pictures[i][r].center(cell) if r < len(pictures[i]) else " " * cell for i in group
            ]
            lines.append((" " * GAP).join(cells).rstrip())
        for r in range(max(len(caps[i]) for i in group)):
            cells = [_fit(caps[i][r] if r < len(caps[i]) else "", cell) for i in group]
            lines.append((" " * GAP).join(cells).rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
