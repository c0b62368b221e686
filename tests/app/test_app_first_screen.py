"""The first screen shows the start lesson's page before any lesson is loaded (#first-page).

Loading is held by a gate, so every check below sees the screen as it is between the first
paint and the lessons being loaded; then the Lesson pane takes over. Also :mod:`tutor.peek`,
which tells the first frame which lesson and language the store remembers.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import LESSON_01, MINIMAL_YAML, write_lesson
from textual.widgets import OptionList

import tutor.progress
import tutor.ui.startup
from tutor.lesson.index import load_catalog_indexed
from tutor.peek import DB_NAME, peek_state, store_path
from tutor.progress import ProgressStore
from tutor.testing import SAFETY_SECONDS, started, until
from tutor.ui.app import TutorApp
from tutor.ui.widgets.first_page import FirstPage

pytestmark = pytest.mark.usefixtures("tutor_env")

SECOND_YAML = (
    MINIMAL_YAML.replace("order: 1", "order: 2")
    .replace("{{en: Minimal, zh: 最小}}", "{{en: The second, zh: 第二课}}")
    .replace("text: Some *text*.", "text: {{en: Words of the second., zh: 第二课的正文。}}")
    .format(id="second")
)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Holds the app's lesson loading (which starts after the first paint) until set."""
    release = threading.Event()
    real = tutor.ui.startup.load_catalog_indexed

    def held(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(SAFETY_SECONDS)
        return real(*args, **kwargs)

    monkeypatch.setattr(tutor.ui.startup, "load_catalog_indexed", held)
    return release


@pytest.fixture
def dirs(tmp_path: Path) -> list[Path]:
    """Lesson 01 and a second lesson, indexed as the last start left them."""
    write_lesson(tmp_path / "more", "second", yaml=SECOND_YAML)
    dirs = [LESSON_01, tmp_path / "more"]
    load_catalog_indexed(dirs, builtin=False)
    return dirs


def page_text(app: TutorApp) -> str:
    """What ``#first-page`` draws ("" once it is gone)."""
    pages = app.query(FirstPage)
    return str(pages.first().render()) if pages else ""


async def test_a_first_start_shows_the_first_lesson_from_the_shipped_index(
    gate: threading.Event,
) -> None:
    app = TutorApp()  # no cache yet: the shipped index of the built-in lessons
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.first_paint_at is not None)
        assert app.query_one("#lesson-list", OptionList).option_count >= 20
        page = app.query_one("#first-page", FirstPage)
        assert page.lesson_id == "gradient-descent" and app.catalog.lessons == []
        assert "Gradient descent by hand" in page_text(app) and "Three points" in page_text(app)
        assert "Gradient descent by hand" in app.sub_title
        await until(pilot, lambda: bool(app.query("#panes")))
        assert not app.query_one("#panes").display  # hidden until they show the lesson
        gate.set()
        await started(pilot)
        assert not app.query("#first-page") and app.query_one("#panes").display
        assert app.current is not None and app.current.id == "gradient-descent"


async def test_the_first_frame_shows_the_lesson_and_language_the_store_remembers(
    gate: threading.Event, dirs: list[Path], tmp_path: Path
) -> None:
    store = ProgressStore(tmp_path / "p.sqlite3")
    store.set_state("last_lesson", "second")
    store.set_state("lang", "zh")
    app = TutorApp(dirs, builtin=False, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.first_paint_at is not None)
        assert app.query_one("#first-page", FirstPage).lesson_id == "second"
        assert app.lang == "zh" and "第二课的正文" in page_text(app)
        assert app.query_one("#lesson-list", OptionList).highlighted == 1
        gate.set()
        await started(pilot)
        assert app.current is not None and app.current.id == "second" and app.lang == "zh"
    store.close()


async def test_a_lesson_chosen_or_a_language_switched_before_loading_shows_at_once(
    gate: threading.Event, dirs: list[Path]
) -> None:
    app = TutorApp(dirs, builtin=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.first_paint_at is not None)
        assert app.query_one("#first-page", FirstPage).lesson_id == "gradient-descent"
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.query_one(FirstPage).lesson_id == "second")
        assert "Words of the second." in page_text(app)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: "第二课的正文" in page_text(app))
        gate.set()
        await started(pilot)
        assert app.current is not None and app.current.id == "second" and app.lang == "zh"
        assert page_text(app) == ""


async def test_a_pane_key_before_loading_brings_the_panes(
    gate: threading.Event, dirs: list[Path]
) -> None:
    app = TutorApp(dirs, builtin=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(app.query("#panes")))
        await pilot.press("2")
        await until(pilot, lambda: not app.query("#first-page"))
        assert app.query_one("#panes").display
        gate.set()
        await started(pilot)
        assert app.current is not None and app.current.id == "gradient-descent"


async def test_without_an_index_the_page_is_empty_and_the_panes_come_at_once(
    gate: threading.Event, tmp_path: Path
) -> None:
    write_lesson(tmp_path / "more", "second", yaml=SECOND_YAML)
    app = TutorApp([tmp_path / "more"], builtin=False)  # never loaded: no index
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(app.query("#panes")))
        assert app.query_one(FirstPage).lesson_id is None and page_text(app) == ""
        assert app.query_one("#panes").display
        gate.set()
        await started(pilot)
        assert app.current is not None and app.current.id == "second"


# -- tutor.peek ------------------------------------------------------------------------------


def test_peek_reads_what_the_store_wrote_at_the_store_path() -> None:
    assert DB_NAME == tutor.progress.DB_NAME
    assert peek_state(["lang"]) == {}  # no store yet, and peeking made none
    assert not store_path().exists()
    with ProgressStore() as store:
        assert store.path == store_path()
        store.set_state("lang", "zh")
        store.set_state("last_lesson", "cnn")
        assert peek_state(["lang", "last_lesson", "other"]) == {"lang": "zh", "last_lesson": "cnn"}
    assert peek_state(["last_lesson"]) == {"last_lesson": "cnn"}  # closed, too


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100])
def test_peek_at_a_foreign_or_damaged_file_is_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.sqlite3"
    path.write_bytes(content)
    assert peek_state(["lang"], path) == {}
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert peek_state(["lang"], other) == {}
    assert path.read_bytes() == content  # looked at, never changed


@pytest.mark.parametrize(("asked", "level"), [(None, "basic"), ("full", "full"), ("none", "none")])
def test_tab_slides_are_off_unless_textual_animations_asks_for_them(
    monkeypatch: pytest.MonkeyPatch, asked: str | None, level: str
) -> None:
    import textual.constants

    if asked is None:
        monkeypatch.delenv("TEXTUAL_ANIMATIONS", raising=False)
    else:
        monkeypatch.setenv("TEXTUAL_ANIMATIONS", asked)
    # Textual reads the variable once, at import: as if it had been set before then.
    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", asked or "full")
    assert TutorApp().animation_level == level
