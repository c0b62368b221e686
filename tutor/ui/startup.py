"""The app's start-up, in the steps the App takes: the first frame, then everything else.

:class:`TutorApp` calls these steps in order: ``on_mount`` has :meth:`StartUp.first_frame`
list the lessons and show the start lesson's page from an index (nothing is painted until
it returns); right after the paint, ``_first_paint`` and ``_start_up`` mount the panes while
:meth:`StartUp.load` loads the catalog and opens the store on a worker thread, and
:meth:`StartUp.preload` has a spare training process import torch; once the start lesson is
shown, :meth:`StartUp.finish` freezes what start-up built out of the garbage collector's sight.

This keeps what only start-up needs: the index the first frame lists, the start lesson's
page (``#first-page``) until the panes show it, and a lesson chosen before it can be opened.
Imported with the first frame: nothing here imports pydantic, YAML, torch or the panes
before the first paint (see the imports of :mod:`tutor.ui.app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import Awaitable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from tutor.lesson.catalog import Catalog
from tutor.lesson.index import (
    LANGUAGES,
    IndexEntry,
    LessonIndex,
    load_catalog_indexed,
    read_first_index,
)
from tutor.peek import peek_state
from tutor.ui.widgets.first_page import FirstPage
from tutor.ui.widgets.lesson_list import LessonList, lesson_label
from tutor.ui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson, Problem
    from tutor.progress import ProgressStore
    from tutor.training.process import Ready, Trainer
    from tutor.ui.store_link import StoreOpened


class StartUp:
    """Start-up's state and steps, for ``app`` (which owns what start-up hands it)."""

    def __init__(
        self,
        app: App[Any],
        lesson_dirs: Sequence[Path],
        *,
        builtin: bool,
        catalog: Catalog | None,
        store: ProgressStore | None,
    ) -> None:
        self._app = app
        self._lesson_dirs = [Path(d) for d in lesson_dirs]
        self._builtin = builtin
        self._catalog = catalog  # given: listed at once, and nothing is loaded
        self._given_store = store
        self.index: LessonIndex | None = None  # what the list shows before the catalog
        # The start lesson's page in the first frame, until the Lesson pane shows it.
        self.first_page: FirstPage | None = None
        self.wanted: str | Path | None = None  # a lesson or broken file chosen before that
        self.first_paint_at: float | None = None  # time.perf_counter() at the first paint
        self.done = False  # lessons loaded, store opened, the first lesson shown
        self.trainer: Trainer | None = None  # made at the first paint
        self.torch_ready = False  # a training process is warm (torch imported)
        self._gc_frozen = False  # start-up's objects are out of the collector's sight
        # Tab underlines slide (and views scroll smoothly) only where TEXTUAL_ANIMATIONS asks:
        # a slide is 18 screen updates where one will do, sent over SSH, and drawn while Run
        # brings the Train pane up. "basic" keeps what shows progress (the loading indicator).
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            app.animation_level = "basic"

    # -- the first frame: nothing is painted until it is ready -----------------------------

    def show_terminal_note(self, note: str | None) -> None:
        """A toast, not the status line: that is soon taken by "Opened …"."""
        if note:
            self._app.notify(note, severity="warning", timeout=10)

    def first_frame(self, lang: str, lang_given: bool) -> str:
        """List the lessons (from the catalog given, else from the cached index if it is still
        valid) and show the start lesson's page. Returns the language to show: ``lang`` if
        ``lang_given``, else the one the store remembers, if any."""
        lessons = self._app.query_one(LessonList)
        if self._catalog is not None:
            self.index = LessonIndex.from_catalog(self._catalog)
        else:
            self.index = read_first_index(self._lesson_dirs, builtin=self._builtin)
        self.first_page = self._app.query_one(FirstPage)
        if self.index is not None:
            start, lang = self._start_from_store(self.index, lang, lang_given)
            lessons.show_catalog(self.index, lang)
            if start is not None:
                self.show_first_page(start, lang)
                lessons.highlighted = self.index.lessons.index(start)
        return lang

    def _start_from_store(
        self, index: LessonIndex, lang: str, lang_given: bool
    ) -> tuple[IndexEntry | None, str]:
        """The lesson start-up will open (unless another is chosen first), and the language,
        as the store says before it is opened (:mod:`tutor.peek`)."""
        path = self._given_store.path if self._given_store is not None else None
        state = peek_state(("lang", "last_lesson"), path)
        if not lang_given and state.get("lang") in LANGUAGES:
            lang = state["lang"]
        return index.get(state.get("last_lesson")) or next(iter(index.lessons), None), lang

    def show_first_page(self, entry: IndexEntry | None, lang: str) -> None:
        """Show ``entry``'s page from the index (None: none) until the Lesson pane can."""
        if self.first_page is not None:
            page = entry.page(lang) if entry else ""
            self.first_page.show_page(entry.id if entry else None, page)
            self._app.sub_title = lesson_label(entry, lang) if entry else ""

    @property
    def showing_page(self) -> bool:
        """``#first-page`` shows a lesson: the panes stay hidden until they show it too."""
        return self.first_page is not None and self.first_page.lesson_id is not None

    def drop_first_page(self, panes: Widget | None) -> None:
        """The panes take over from ``#first-page``, in one frame (never both on screen)."""
        page = self.first_page
        if page is not None and panes is not None:
            self.first_page = None
            page.display = False
            panes.display = True
            page.remove()

    def wait_for(self, choice: str | Path, lang: str) -> None:
        """``choice`` (a lesson id, or a broken lesson file) was chosen before the App could
        show it: start-up shows it; meanwhile ``#first-page`` shows its page (a file: none)."""
        self.wanted = choice
        if isinstance(choice, Path):
            self.show_first_page(None, lang)
        elif self.index is not None:
            self.show_first_page(self.index.get(choice), lang)

    def relabel(self, catalog: Catalog, lang: str) -> None:
        """The language was switched: the list (the index until start-up is done) and the
        first page in ``lang``."""
        listed = catalog if self.done or self.index is None else self.index
        self._app.query_one(LessonList).show_catalog(listed, lang)
        if self.first_page is not None and self.first_page.lesson_id and self.index:
            self.show_first_page(self.index.get(self.first_page.lesson_id), lang)

    # -- after the first paint ----------------------------------------------------------------

    def painted(self, device: str) -> Trainer:
        """The first screen is painted: the trainer can be made (it imports the training
        side of dl-tutor, not torch: that is the training process's)."""
        self.first_paint_at = time.perf_counter()
        from tutor.training.process import Trainer  # not before the first paint

        self.trainer = Trainer(device)
        return self.trainer

    def load(self) -> Worker[tuple[Catalog, StoreOpened]]:
        """Load the catalog and open the store on a worker thread (see :meth:`loaded`)."""
        return self._app.run_worker(
            self._load, thread=True, group="startup", name="open", exit_on_error=False
        )

    async def loaded(
        self, worker: Worker[tuple[Catalog, StoreOpened]]
    ) -> tuple[Catalog, StoreOpened]:
        """What :meth:`load`'s worker read: the catalog, and the store with its state."""
        from tutor.ui.store_link import StoreOpened

        try:
            return await worker.wait()
        except Exception as e:  # a bug in loading or the store must not keep the app down
            catalog = self._catalog if self._catalog is not None else Catalog()
            return catalog, StoreOpened(None, f"{type(e).__name__}: {e}")

    def _load(self) -> tuple[Catalog, StoreOpened]:
        """Worker thread: load the lessons (unless given), then open the store (unless
        given) and read the start-up state."""
        from tutor.ui.store_link import open_store

        catalog = self._catalog
        if catalog is None:
            catalog = load_catalog_indexed(self._lesson_dirs, builtin=self._builtin)
        # Grading and outcome checks use numpy on worker threads: imported here, whole, so
        # no thread (nor a test's pytest.approx) ever sees a half-imported module.
        import numpy  # noqa: F401

        return catalog, open_store(self._given_store, catalog)

    def start_lesson(
        self, catalog: Catalog, last_lesson: str | None
    ) -> LoadedLesson | list[Problem] | None:
        """What start-up shows once ``catalog`` is loaded: the lesson (or the broken file's
        problems) chosen meanwhile, else the lesson opened last, else the first; None: no
        lesson at all."""
        wanted, self.wanted = self.wanted, None
        broken = [p for p in catalog.problems if p.file == wanted]
        if broken:
            return broken
        if not catalog.lessons:
            return None
        wanted = wanted if isinstance(wanted, str) else last_lesson
        return (catalog.get(wanted) if wanted else None) or catalog.lessons[0]

    def preload(self) -> None:
        """Start the spare training process and wait (on a worker thread, group "preload")
        until it has imported torch; the App hears how that worker ended (see
        :meth:`preloaded`)."""
        assert self.trainer is not None, "no trainer before the first paint"
        self._app.run_worker(
            partial(_wait_ready, self.trainer),
            thread=True,
            group="preload",
            name="_preload_torch",
            exit_on_error=False,
        )

    def preloaded(self, worker: Worker[Any], state: WorkerState) -> Ready | None:
        """A worker ended in ``state``: if it was the preload, note whether PyTorch is ready;
        returns what the training process said when it was."""
        if worker.group != "preload" or state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return None
        from tutor.training.process import Ready

        self.torch_ready = state == WorkerState.SUCCESS
        # Quitting while torch loads: the import ends after the widgets are gone.
        with contextlib.suppress(NoMatches):
            self._app.query_one("#status", StatusLine).set_torch_note(
                "" if self.torch_ready else f"PyTorch failed to load: {worker.error}"
            )
        return worker.result if isinstance(worker.result, Ready) else None

    async def unless_closing(self, steps: Awaitable[None]) -> None:
        """Run start-up's ``steps``. A learner quitting meanwhile removes the widgets they
        fill (the quiz, the status line): NoMatches then is no error."""
        try:
            await steps
        except NoMatches:
            if self._app.is_running:
                raise

    def report(self, catalog: Catalog, opened: StoreOpened) -> None:
        """Say what start-up could not do: lesson files not loaded, a store not opened."""
        status = self._app.query_one("#status", StatusLine)
        if catalog.problems:
            n = len(catalog.broken_files)
            status.say(
                f"{n} lesson file{'s' if n > 1 else ''} could not be loaded (✗ in the list)",
                "warning",
            )
        if opened.store is not None and opened.store.recovered_message:
            status.say(opened.store.recovered_message, "warning")
        elif opened.error:
            status.set_store_note(f"Progress not saved: {opened.error}")
            self._app.notify(status.store_note, severity="error", timeout=10)  # in full

    def finish(self) -> None:
        """The start lesson is shown: start-up is done."""
        # What exists now (Textual, the widgets, the catalog) lives as long as the app. Out of
        # the garbage collector's sight, its full collections scan only what came after: the
        # event loop stalled 66-100 ms for one instead of 177-203 ms (bench/perf.md).
        # The young generations first, so little of the start-up's garbage is kept for good.
        gc.collect(1)
        gc.freeze()
        self._gc_frozen = True
        self.done = True

    # -- the end ------------------------------------------------------------------------------

    async def close(self, store: ProgressStore | None) -> None:
        """The app ends: close what start-up opened (the training processes, ``store`` unless
        it was given) and make what it froze collectable again."""
        if self.trainer is not None:  # None if the app ends before its first paint
            await asyncio.to_thread(self.trainer.close)  # the spare, and a run never stopped
        if self._given_store is None and store is not None:
            store.close()
        if self._gc_frozen:  # collectable again: another app may start in this process (tests)
            gc.unfreeze()
            self._gc_frozen = False


def _wait_ready(trainer: Trainer) -> Ready:
    """Worker thread: until the spare training process has imported torch."""
    ready = trainer.wait_ready()
    if ready is None:
        raise RuntimeError(trainer.spare_failure())
    return ready
