"""Where things live: built-in lessons, the user's data (progress) and cache (datasets).

Every location can be overridden by an environment variable so tests and
shared machines can point the tutor somewhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "dl-tutor"

ENV_DATA_DIR = "DL_TUTOR_DATA_DIR"  # progress database, exercise workspace
ENV_CACHE_DIR = "DL_TUTOR_CACHE_DIR"  # downloaded datasets, files lessons write
ENV_DATASETS = "DL_TUTOR_DATASETS"  # a directory that already holds MNIST/Fashion-MNIST
ENV_OFFLINE = "DL_TUTOR_OFFLINE"  # "1": never try a download
# "1": training processes skip their warm-up import (tests: most of their spares never run)
ENV_NO_WARM_UP = "DL_TUTOR_NO_WARM_UP"


def builtin_lessons_dir() -> Path:
    """The lessons shipped with the package (wheel) or the checkout (editable install)."""
    here = Path(__file__).resolve().parent
    shipped = here / "_lessons"
    if shipped.is_dir():
        return shipped
    return here.parent / "lessons"


def data_dir() -> Path:
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def offline() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}
