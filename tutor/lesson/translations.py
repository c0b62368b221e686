"""Lesson packs' translations: ``translations/<lang>/<lesson-id>.yaml`` gives one lesson's
title, summary, text and quiz prompts in ``<lang>`` (text only: values, answers and code stay
the lesson's own). Applied to a loaded catalog; a problem in a translation file is reported like
a lesson's, and never stops the lesson it translates from loading.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutor.lesson.catalog import Catalog, LessonError, Problem
from tutor.lesson.packs import installed_packs
from tutor.lesson.schema import Translation

# tutor.lesson.loader.load_translation: the file's Translation and its key -> line map
Reader = Callable[[Path], tuple[Translation, dict[tuple[Any, ...], int]]]


def apply_translations(catalog: Catalog, read: Reader) -> None:
    for pack in installed_packs():
        for lang, files in pack.translation_files().items():
            for file in files:
                try:
                    translation, lines = read(file)
                except LessonError as e:
                    catalog.problems.extend(e.problems)
                    continue
                loaded = catalog.get(file.stem)
                if loaded is None:
                    catalog.warnings.append(
                        Problem(file, 1, "(file)", f"no lesson {file.stem!r}", "warning")
                    )
                    continue
                lesson = loaded.lesson
                for key in ("title", "summary", "text"):
                    value = getattr(translation, key)
                    if value:
                        getattr(lesson, key).add_translation(lang, value)
                questions = {q.id: q for q in lesson.quiz}
                for qid, prompt in translation.quiz.items():
                    if qid in questions:
                        questions[qid].prompt.add_translation(lang, prompt)
                    else:
                        catalog.warnings.append(
                            Problem(
                                file,
                                lines.get(("quiz", qid), 1),
                                f"quiz.{qid}",
                                f"lesson {loaded.id!r} has no question {qid!r}",
                                "warning",
                            )
                        )
