"""``#first-page``: the start lesson's page in the first frame, until the Lesson pane shows it.

The Lesson pane (Textual's ``Markdown``, its tabs and its styles) comes with the panes, right
after the first paint, and is filled once the lessons are loaded (~0.5 s later). The page
itself is known before that, from the lesson index (:mod:`tutor.lesson.index`), so the first
frame shows it here: one ``Static`` whose text is drawn from that Markdown by a few lines of
string work (headings, the summary quote, paragraphs, lists, code blocks, inline code, bold
and italic), not by a Markdown parser, which the first frame would have to import. The App
removes it when the Lesson pane takes over.
"""

from __future__ import annotations

import re

from textual.content import Content
from textual.widget import Widget

# As Textual's Markdown shows them (its DEFAULT_CSS), so the text moves and changes little
# when the Lesson pane takes over.
_H1 = "bold $primary"
_HEADING = "bold underline"
_QUOTE_BAR = "$primary 50%"
_CODE = "on $surface-lighten-1"
_INLINE = {"`": "$text-warning on $warning 10%", "**": "bold", "*": "italic"}
TEXT_MAX_WIDTH = 96  # panes.tcss #lesson-text max-width 100, less Markdown's padding 0 2
_INLINE_RE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def inline(text: str, style: str = "") -> Content:
    """A line of Markdown with its inline code, bold and italic styled, markers dropped."""
    parts: list[Content] = []
    pos = 0
    for m in _INLINE_RE.finditer(text):
        parts.append(Content(text[pos : m.start()]))
        code, bold, italic = m.groups()
        if code is not None:
            parts.append(Content.styled(code, _INLINE["`"]))
        elif bold is not None:
            parts.append(inline(bold, _INLINE["**"]))
        else:
            parts.append(inline(italic, _INLINE["*"]))
        pos = m.end()
    parts.append(Content(text[pos:]))
    out = Content("").join(parts)
    return out.stylize(style) if style else out


def page_lines(markdown: str, width: int) -> list[Content]:
    """The lines of ``markdown`` (as :func:`tutor.lesson.page.lesson_page` writes it) drawn
    ``width`` cells wide: blocks with a blank line between them, as Textual's Markdown."""
    width = max(width, 10)
    out: list[Content] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if out:
            out.append(Content(""))
        if line.startswith(("    ", "```")):  # a code block: as it is, cut, never wrapped
            body, i = _code_block(lines, i)
            for x in ["", *body, ""]:
                code = Content(f"  {x}")[:width]
                out.append(code.pad_right(width - code.cell_length).stylize(_CODE))
            continue
        block = [line]
        i += 1
        while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
            block.append(lines[i])
            i += 1
        out += _block(block, width)
    return out


def _code_block(lines: list[str], i: int) -> tuple[list[str], int]:
    """The lines of the code block that starts at ``lines[i]``, and the index after it."""
    if lines[i].startswith("```"):
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            return lines[i + 1 :], len(lines)
        return lines[i + 1 : end], end + 1
    end = i
    while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
        end += 1
    body = [x[4:] for x in lines[i:end]]
    while body and not body[-1].strip():
        body.pop()
    return body, end


def _starts_block(line: str) -> bool:
    return line.startswith(("#", ">", "- ", "* ", "    ", "```", "---"))


def _block(lines: list[str], width: int) -> list[Content]:
    first = lines[0]
    if first.startswith("# "):  # centred, a blank line above (Textual's H1)
        title = Content.styled(first[2:].strip(), _H1)
        return [Content(""), *(x.pad_left((width - x.cell_length) // 2) for x in title.wrap(width))]
    if first.startswith("#"):
        return Content.styled(first.lstrip("#").strip(), _HEADING).wrap(width)
    if first.startswith(">"):
        quote = inline(" ".join(x.lstrip(">").strip() for x in lines))
        bar = Content.styled("▌ ", _QUOTE_BAR)
        return [bar + x for x in quote.wrap(width - 2)]
    if first.startswith("---"):
        return [Content.styled("─" * width, _QUOTE_BAR)]
    if first.startswith(("- ", "* ")):
        items: list[str] = []
        for x in lines:
            if x.startswith(("- ", "* ")):
                items.append(x[2:].strip())
            else:
                items[-1] += " " + x.strip()
        out: list[Content] = []
        for item in items:
            wrapped = inline(item).wrap(width - 2)
            out += [Content("• " if n == 0 else "  ") + x for n, x in enumerate(wrapped)]
        return out
    return inline(" ".join(x.strip() for x in lines)).wrap(width)


class FirstPage(Widget):
    """The start lesson's page, drawn lightly (see the module's docstring); empty: nothing."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lesson_id: str | None = None  # whose page is shown
        self._markdown = ""

    def show_page(self, lesson_id: str | None, markdown: str) -> None:
        self.lesson_id, self._markdown = lesson_id, markdown
        self.refresh()

    def render(self) -> Content:
        if not self._markdown:
            return Content("")
        # On a wide screen the pane keeps a book-like width (#lesson-text: max-width 100,
        # less its padding): so does this, so the text wraps where the pane's will.
        width = min(self.content_size.width, TEXT_MAX_WIDTH)
        return Content("\n").join(page_lines(self._markdown, width))
