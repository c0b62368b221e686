"""``import tutor.app`` for outside tests and tools: the app lives in :mod:`tutor.ui.app`."""

from tutor.ui.app import TutorApp as TutorApp

__all__ = ["TutorApp"]
