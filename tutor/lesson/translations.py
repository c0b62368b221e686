"""Lesson packs' translations: ``translations/<lang>/<lesson-id>.yaml`` gives one lesson's
title, summary, text and quiz prompts in ``<lang>`` (text only: values, answers and code stay
the lesson's own). Applied to a loaded catalog; a problem in a translation file is reported like
a lesson's, and never stops the lesson it translates from loading.
"""

from __future__ import annotations

from pydantic import ValidationError

from tutor.lesson.catalog import Catalog, LessonError, Problem
from tutor.lesson.packs import installed_packs
from tutor.lesson.schema import Translation


def apply_translations(catalog: Catalog) -> None:
    from tutor.lesson.loader import _problems_from, read_yaml

    for pack in installed_packs():
        for lang, files in pack.translation_files().items():
            for file in files:
                try:
                    data, lines = read_yaml(file)
                    translation = Translation.model_validate(data)
                except LessonError as e:
                    catalog.problems.extend(e.problems)
                    continue
                except ValidationError as e:
                    catalog.problems.extend(_problems_from(file, e, lines, data))
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
