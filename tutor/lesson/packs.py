"""Lesson packs: lessons (and translations of lessons) that other Python packages ship.

A pack is an installed distribution with an entry point in the group ``dl_tutor.lessons``::

    [project.entry-points."dl_tutor.lessons"]
    mypack = "mypack"              # the directory of the package ``mypack`` (not imported)
    # or: mypack = "mypack:LESSONS_DIR"  (imported; the attribute is a path)

The name (``mypack``) marks its lessons in ``dl-tutor list``. Every ``*.yaml`` under the
directory is a lesson, except under ``translations/``: ``translations/<lang>/<lesson-id>.yaml``
translates the text of any lesson (built-in ones too) into ``<lang>`` (see docs/lesson-format.md).

Light on purpose (importlib.metadata only): the app's first frame lists the catalog's files.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

ENTRY_POINT_GROUP = "dl_tutor.lessons"
TRANSLATIONS = "translations"
LANG_PATTERN = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class Pack:
    name: str  # the entry point's name
    directory: Path | None  # None: the entry point could not be resolved
    error: str = ""  # why not

    def translation_files(self) -> dict[str, list[Path]]:
        """``{lang: [translations/<lang>/<lesson-id>.yaml, ...]}``."""
        root = self.directory / TRANSLATIONS if self.directory else None
        if root is None or not root.is_dir():
            return {}
        return {
            d.name: sorted(d.glob("*.y*ml"))
            for d in sorted(root.iterdir())
            if d.is_dir() and LANG_PATTERN.match(d.name)
        }


@functools.lru_cache(maxsize=1)
def installed_packs() -> tuple[Pack, ...]:
    """Every installed pack, by name; the first distribution wins a name used twice."""
    packs: dict[str, Pack] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in packs:
            packs[ep.name] = _resolve(ep.name, ep.value)
    return tuple(packs[name] for name in sorted(packs))


def _resolve(name: str, value: str) -> Pack:
    module, _, attr = (part.strip() for part in value.partition(":"))
    try:
        if attr:  # the attribute is the directory: the module has to be imported
            directory = Path(getattr(importlib.import_module(module), attr))
        else:  # the package's own directory, found without running its code
            spec = importlib.util.find_spec(module)
            if spec is None:
                raise ImportError(f"no module named {module!r}")
            if spec.submodule_search_locations:
                directory = Path(next(iter(spec.submodule_search_locations)))
            elif spec.origin:
                directory = Path(spec.origin).parent
            else:
                raise ImportError(f"{module!r} has no directory")
    except Exception as e:  # a broken pack must not stop the tutor
        return Pack(name, None, f"cannot resolve {value!r}: {type(e).__name__}: {e}")
    if not directory.is_dir():
        return Pack(name, None, f"{value!r} is not a directory: {directory}")
    return Pack(name, directory.resolve())


def pack_of(path: Path) -> str | None:
    """The name of the pack a lesson file belongs to, or None."""
    for pack in installed_packs():
        if pack.directory is not None and path.is_relative_to(pack.directory):
            return pack.name
    return None


def pack_languages() -> list[str]:
    """Languages the installed packs translate lessons into."""
    return sorted({lang for p in installed_packs() for lang in p.translation_files()})
