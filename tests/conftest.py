"""Fixtures shared by the test modules. Keep this small and general."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.testing import isolate


@pytest.fixture(autouse=True)
def tutor_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point every dl-tutor location at ``tmp_path`` and forbid downloads.

    Autouse: no test may touch the real user's progress, cache or the network.

    Sets DL_TUTOR_DATA_DIR, DL_TUTOR_CACHE_DIR and DL_TUTOR_OFFLINE=1 (see tutor/paths.py);
    returns the directory holding ``data/`` and ``cache/``.
    """
    return isolate(monkeypatch, tmp_path)
