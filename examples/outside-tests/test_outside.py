"""A lesson author's own test: run the lesson in the app and answer its quiz, as a learner.

Uses only the kit in tutor.testing (see docs/testing.md); run with ``pytest`` in this folder.
"""

from pathlib import Path

from tutor.testing import (
    expected_answer,
    finish_run,
    graded,
    open_by_keys,
    started,
    text_of,
    tutor_app,
    type_into,
)

LESSONS = Path(__file__).parent / "lessons"


async def test_run_and_answer_the_quiz(tutor_env: Path) -> None:
    app = tutor_app(LESSONS)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, 0)  # the first (here: only) lesson in the list
        await pilot.press("r")  # run it
        result = await finish_run(pilot)
        assert result.status == "completed" and result.checks[0].passed

        await pilot.press("4")  # the quiz tab
        total = expected_answer(app, "tiny", "total")
        assert total == 6
        await type_into(pilot, "#quiz-total-input", str(total))
        await pilot.press("enter")
        await graded(pilot)
        assert text_of(app, "#quiz-total-verdict").startswith("✓ Correct")
    assert (tutor_env / "data").is_dir()  # progress went to the private data dir
