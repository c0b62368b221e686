"""The cached lesson index the app paints its first screen from (tutor.lesson.index).

It must never list what a full load would not: any change to a lesson file, a code file a
lesson names, the set of files or the dl-tutor version makes it unusable (None), and a
corrupt file is ignored and replaced by the next load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import MINIMAL_CODE, write_lesson

import tutor.lesson.index as lesson_index
from tutor.lesson.index import LessonIndex, index_path, load_catalog_indexed, read_index
from tutor.lesson.loader import load_catalog

pytestmark = pytest.mark.usefixtures("tutor_env")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    write_lesson(root, "alpha")
    write_lesson(root, "beta")
    return root


def indexed(root: Path) -> LessonIndex | None:
    load_catalog_indexed([root], builtin=False)
    return read_index([root], builtin=False)


def expected(root: Path) -> LessonIndex:
    return LessonIndex.from_catalog(load_catalog([root], builtin=False))


def test_the_index_lists_what_a_full_load_lists(root: Path) -> None:
    (root / "broken").mkdir()
    (root / "broken" / "lesson.yaml").write_text("id: broken\ntitel: x\n")
    assert read_index([root], builtin=False) is None  # nothing cached yet
    index = indexed(root)
    assert index == expected(root)
    assert [e.id for e in index.lessons] == ["alpha", "beta"]
    assert index.lessons[0].title("zh") == "最小" and index.lessons[0].title("en") == "Minimal"
    assert index.broken_files == [root / "broken" / "lesson.yaml"]


def test_the_builtin_lessons_are_indexed() -> None:
    load_catalog_indexed()
    index = read_index()
    assert index is not None and index == LessonIndex.from_catalog(load_catalog())
    assert len(index.lessons) >= 20


def grow(path: Path, text: str = "\n# edited\n") -> None:
    """Change a file and its size: its stamp changes whatever the clock's granularity."""
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


# Each change makes the cached index stale; several also change what the loader accepts.
CHANGES: dict[str, Callable[[Path], None]] = {
    "title edited": lambda r: (r / "alpha" / "lesson.yaml").write_text(
        (r / "alpha" / "lesson.yaml").read_text().replace("Minimal", "Changed title")
    ),
    "lesson made invalid": lambda r: grow(r / "alpha" / "lesson.yaml", "titel: typo\n"),
    "code loses its entry": lambda r: (r / "alpha" / "code.py").write_text("def other(ctx): ...\n"),
    "code syntax error": lambda r: grow(r / "beta" / "code.py", "def (:\n"),
    "code file deleted": lambda r: (r / "beta" / "code.py").unlink(),
    "lesson file added": lambda r: write_lesson(r, "gamma"),
    "duplicate id added": lambda r: write_lesson(
        r, "copy", yaml=(r / "alpha" / "lesson.yaml").read_text()
    ),
    "lesson file deleted": lambda r: (r / "beta" / "lesson.yaml").unlink(),
    "same size, new mtime": lambda r: os.utime(
        r / "alpha" / "code.py", ns=(0, (r / "alpha" / "code.py").stat().st_mtime_ns + 10**9)
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_makes_the_index_stale_and_a_reload_fixes_it(root: Path, change: str) -> None:
    assert indexed(root) is not None
    CHANGES[change](root)
    assert read_index([root], builtin=False) is None
    assert indexed(root) == expected(root)  # the next load writes the index of what it loaded


def test_a_broken_lesson_is_stale_when_its_missing_code_file_appears(root: Path) -> None:
    (root / "beta" / "code.py").unlink()
    index = indexed(root)
    assert index is not None and [e.id for e in index.lessons] == ["alpha"]
    assert "not found" in index.problems[0].message
    (root / "beta" / "code.py").write_text(MINIMAL_CODE)
    assert read_index([root], builtin=False) is None
    assert [e.id for e in expected(root).lessons] == ["alpha", "beta"]


def test_another_version_of_dl_tutor_does_not_use_the_index(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert indexed(root) is not None
    monkeypatch.setattr(lesson_index, "__version__", "99.0")
    assert read_index([root], builtin=False) is None


CORRUPTIONS: dict[str, Callable[[str], str]] = {
    "empty": lambda text: "",
    "truncated": lambda text: text[: len(text) // 2],
    "not json": lambda text: "\0\1garbage",
    "a list": lambda text: "[]",
    "wrong types": lambda text: text.replace('"order": 1', '"order": "one"'),
    "no english title": lambda text: json.dumps(
        {**json.loads(text), "lessons": [{"id": "x", "order": 1, "titles": {"zh": "无"}}]}
    ),
    "stamps not a mapping": lambda text: json.dumps({**json.loads(text), "stamps": [1, 2]}),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupt_index_is_ignored_and_rebuilt(root: Path, corruption: str) -> None:
    assert indexed(root) is not None
    path = index_path([root], builtin=False)
    path.write_text(CORRUPTIONS[corruption](path.read_text(encoding="utf-8")), encoding="utf-8")
    assert read_index([root], builtin=False) is None
    assert indexed(root) == expected(root)


def test_an_unwritable_cache_does_not_stop_loading(
    root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(blocker / "cache"))
    catalog = load_catalog_indexed([root], builtin=False)
    assert [x.id for x in catalog.lessons] == ["alpha", "beta"]
    assert read_index([root], builtin=False) is None


def test_each_set_of_lesson_directories_has_its_own_index(root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_lesson(other, "solo")
    assert indexed(root) is not None
    assert read_index([other], builtin=False) is None
    assert [e.id for e in indexed(other).lessons] == ["solo"]  # type: ignore[union-attr]
    assert read_index([root], builtin=False) is not None


def test_importing_the_index_needs_neither_pydantic_nor_yaml() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tutor.ui.app, tutor.lesson.index; heavy = ('pydantic', 'yaml', 'torch'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the shipped index of the built-in lessons (lessons/index.json) -------------------------


def test_the_shipped_index_is_up_to_date() -> None:
    # Fails after a built-in lesson (or the loader) changed: regenerate it with
    # `python -m tutor.lesson.index --write-shipped` and commit lessons/index.json.
    shipped = lesson_index.shipped_index_path().read_text(encoding="utf-8")
    assert shipped == lesson_index.shipped_index_text(), "regenerate it (see the comment)"


def test_without_a_cache_the_first_screen_uses_the_shipped_index() -> None:
    assert read_index() is None  # a first start: nothing cached yet
    index = lesson_index.read_first_index()
    assert index is not None and index == LessonIndex.from_catalog(load_catalog())
    assert index.lessons[0].page("zh").startswith(f"# {index.lessons[0].title('zh')}\n")


def test_each_page_is_the_one_the_lesson_pane_shows() -> None:
    from tutor.ui.panes.lesson import lesson_markdown

    index = lesson_index.read_shipped_index()
    assert index is not None
    catalog = load_catalog()
    for entry in index.lessons:
        loaded = catalog.get(entry.id)
        assert loaded is not None
        for lang in lesson_index.LANGUAGES:
            assert entry.page(lang) == lesson_markdown(loaded, lang), (entry.id, lang)


@pytest.fixture
def builtin_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The built-in lessons and their shipped index, copied where a test may edit them."""
    import shutil

    import tutor.paths

    copy = tmp_path / "builtin"
    shutil.copytree(tutor.paths.builtin_lessons_dir(), copy)
    monkeypatch.setattr(tutor.paths, "builtin_lessons_dir", lambda: copy)
    assert lesson_index.read_shipped_index() is not None
    return copy


SHIPPED_CHANGES: dict[str, Callable[[Path], None]] = {
    "title edited": lambda r: (r / "01-gradient-descent" / "lesson.yaml").write_text(
        (r / "01-gradient-descent" / "lesson.yaml")
        .read_text(encoding="utf-8")
        .replace("Gradient descent by hand", "Edited"),
        encoding="utf-8",
    ),
    "same size, other text": lambda r: (r / "01-gradient-descent" / "lesson.yaml").write_text(
        (r / "01-gradient-descent" / "lesson.yaml")
        .read_text(encoding="utf-8")
        .replace("Three points", "Three pointz"),
        encoding="utf-8",
    ),
    "code edited": lambda r: grow(r / "01-gradient-descent" / "gradient_descent.py"),
    "code deleted": lambda r: (r / "01-gradient-descent" / "gradient_descent.py").unlink(),
    "lesson added": lambda r: write_lesson(r, "zz-extra"),
    "lesson deleted": lambda r: (r / "01-gradient-descent" / "lesson.yaml").unlink(),
    "index edited": lambda r: (r / "index.json").write_text(
        (r / "index.json").read_text(encoding="utf-8").replace('"order": 1,', '"order": 9,'),
        encoding="utf-8",
    ),
    "index corrupt": lambda r: (r / "index.json").write_text("{", encoding="utf-8"),
    "index missing": lambda r: (r / "index.json").unlink(),
}


@pytest.mark.parametrize("change", list(SHIPPED_CHANGES))
def test_the_shipped_index_is_ignored_once_a_builtin_lesson_changed(
    builtin_copy: Path, change: str
) -> None:
    SHIPPED_CHANGES[change](builtin_copy)
    assert lesson_index.read_shipped_index() is None
    assert lesson_index.read_first_index() is None  # and no cache either: an empty list


def test_the_shipped_index_is_not_used_with_other_lessons(root: Path) -> None:
    # The built-in lessons are not the whole catalog: its order and start lesson may differ.
    assert lesson_index.read_shipped_index() is not None
    assert lesson_index.read_shipped_index([root]) is None
    assert lesson_index.read_shipped_index(builtin=False) is None
    assert lesson_index.read_first_index([root]) is None


def test_the_shipped_index_is_not_used_with_a_lesson_pack(
    monkeypatch: pytest.MonkeyPatch, root: Path
) -> None:
    import tutor.lesson.packs as packs

    monkeypatch.setattr(packs, "installed_packs", lambda: (packs.Pack("mine", root),))
    assert lesson_index.read_shipped_index() is None


def test_the_regenerate_command_writes_and_checks(
    builtin_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SHIPPED_CHANGES["title edited"](builtin_copy)
    assert lesson_index.main(["--check"]) == 1
    assert "--write-shipped" in capsys.readouterr().out
    assert lesson_index.main(["--write-shipped"]) == 0
    assert lesson_index.main(["--check"]) == 0
    index = lesson_index.read_shipped_index()
    assert index is not None and index.lessons[0].title() == "Edited"
