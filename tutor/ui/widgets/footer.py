"""The key footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen

Shown = tuple[tuple[str, str, str, bool, str], ...]


def keys_shown(screen: Screen) -> Shown:
    """What a footer on ``screen`` would show: each key, its label and whether it is enabled."""
    return tuple(
        (binding.key, binding.description, binding.action, enabled, tooltip)
        for _, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


class KeyFooter(Footer):
    """Textual's ``Footer``, minus the rebuilds that change nothing.

    ``Footer`` removes and mounts all its keys (14 widgets here) on every bindings signal:
    each focus change, each ``refresh_bindings``. Pressing Run sends several, and each
    rebuild costs the event loop tens of milliseconds that the training process (and the
    learner's keys) would rather have. Most of them show the same keys again.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown | None = None

    def bindings_changed(self, screen: Screen) -> None:
        shown = keys_shown(screen)
        if shown == self._shown:
            return
        super().bindings_changed(screen)
        # Remember only what a rebuild was scheduled for (Footer skips it while the app
        # has no focus), so the next signal after that rebuilds.
        scheduled = screen.app.app_focus and self.is_attached and screen is self.screen
        self._shown = shown if scheduled else None
