"""A lesson as the Lesson pane shows it: title, summary and text as one Markdown document.

Plain string work, no imports: the lesson index (:mod:`tutor.lesson.index`) keeps each
lesson's page so the app's first frame can show the start lesson before any lesson is
loaded, and the pane shows the very same page once it is.
"""

from __future__ import annotations


def lesson_page(title: str, summary: str, text: str, exercises: bool = False) -> str:
    """The Markdown page of a lesson in one language; ``exercises``: it has some (key 5)."""
    text = text.strip()
    first, _, rest = text.partition("\n")
    if first.startswith("# "):  # most texts open with their own title; show ours once
        text = rest.lstrip("\n")
    keys = " · **5** exercises" if exercises else ""
    return (
        f"# {title}\n\n> {summary}\n\n{text}\n\n"
        "---\n\n*Keys: **2** code · **3** train (**r** runs, **s** stops) · **4** quiz"
        f"{keys} · **h** your runs · **ctrl+l** 中文/English*\n"
    )
