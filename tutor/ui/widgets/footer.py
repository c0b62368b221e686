"""The key footer: one line, one widget, repainted in place when the keys change."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.widget import Widget

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.binding import ActiveBinding, Binding
    from textual.screen import Screen


class FooterItem(NamedTuple):
    """One entry of the footer: its keys, each with how it is shown (more than one for a
    binding group), then ``description``."""

    keys: tuple[tuple[str, str], ...]  # (key, as shown)
    description: str
    enabled: bool
    joiner: str = ""  # between a group's keys


def footer_items(
    screen: Screen, active: Mapping[str, ActiveBinding] | None = None
) -> tuple[FooterItem, ...]:
    """The keys the footer on ``screen`` shows, in Textual's ``Footer`` order: one item per
    action (its first key), a binding group's keys in one item (see :func:`palette_item`
    for the command palette's key). ``active``: ``screen.active_bindings``, if at hand."""
    app = screen.app
    per_action: dict[str, tuple[Binding, bool]] = {}
    if active is None:
        active = screen.active_bindings
    for _, binding, enabled, _tooltip in active.values():
        if binding.show:
            per_action.setdefault(binding.action, (binding, enabled))
    items: list[FooterItem] = []
    for group, members in groupby(per_action.values(), lambda item: item[0].group):
        bindings = list(members)
        if group is not None and len(bindings) > 1:
            keys = tuple((b.key, app.get_key_display(b)) for b, _ in bindings)
            enabled = any(on for _, on in bindings)
            joiner = "" if group.compact else " "
            items.append(FooterItem(keys, group.description, enabled, joiner))
        else:
            items += [
                FooterItem(((b.key, app.get_key_display(b)),), b.description, on)
                for b, on in bindings
            ]
    return tuple(items)


def palette_item(
    screen: Screen, active: Mapping[str, ActiveBinding] | None = None
) -> FooterItem | None:
    """The command palette's key, which the footer shows at its right end."""
    app = screen.app
    if not app.ENABLE_COMMAND_PALETTE:
        return None
    found = (screen.active_bindings if active is None else active).get(app.COMMAND_PALETTE_BINDING)
    if found is None:
        return None
    _, binding, enabled, _ = found
    return FooterItem(((binding.key, app.get_key_display(binding)),), binding.description, enabled)


class KeyFooter(Widget):
    """The keys the focused widget and its ancestors offer, on one line.

    Textual's ``Footer`` is a container of one widget per key, which it removes and mounts
    again whenever the keys change (a focus change, each ``refresh_bindings``): pressing
    Run did so 2-3 times, each a mount and a layout of the whole screen (about 0.05 s of
    the UI's CPU per run, taken from the training process's two threads). This footer is
    one widget of fixed height: a change of keys repaints one line.
    """

    COMPONENT_CLASSES = {"footer--key", "footer--description", "footer--disabled"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        .footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer--disabled {
            text-style: dim;
        }
    }
    """
    ALLOW_SELECT = False

    def __init__(self) -> None:
        super().__init__()
        self.items: tuple[FooterItem, ...] = ()
        self.palette: FooterItem | None = None
        self._spans: list[tuple[int, int, str, bool]] = []  # x from, x to, key, enabled

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if screen is not self.screen:
            return
        active = screen.active_bindings  # computed on each read: walks the focus chain
        items, palette = footer_items(screen, active), palette_item(screen, active)
        if (items, palette) != (self.items, self.palette):
            self.items, self.palette = items, palette
            self.refresh()  # the same height: a repaint, no layout

    def render(self) -> Text:
        """The keys from the left; the command palette's key at the right end."""
        width = self.size.width
        spans: list[tuple[int, int, str, bool]] = []
        left = self._draw(self.items, " ", spans)
        right = Text()
        if self.palette is not None:
            right = Text("▏") + self._draw((self.palette,), "", [])
        room = max(0, width - right.cell_len)
        left.truncate(room, pad=True)
        self._spans = [(a, min(b, room), key, on) for a, b, key, on in spans if a < room]
        if self.palette is not None:
            self._spans.append((room, width, self.palette.keys[0][0], self.palette.enabled))
        return left + right

    def _draw(
        self, items: tuple[FooterItem, ...], pad: str, spans: list[tuple[int, int, str, bool]]
    ) -> Text:
        """Each item as ``key description``, a group's keys side by side; ``spans``: the
        cells a click on which presses each key (a key alone: its description's too)."""
        key_style = self.get_component_rich_style("footer--key")
        description_style = self.get_component_rich_style("footer--description")
        dim = self.get_component_rich_style("footer--disabled")
        line = Text(no_wrap=True, overflow="crop")
        for item in items:
            on = Style() if item.enabled else dim
            start = line.cell_len
            line.append(pad, key_style + on)
            for i, (key, shown) in enumerate(item.keys):
                line.append(item.joiner if i else "", key_style + on)
                at = line.cell_len
                spans.append((at, at + cell_len(shown), key, item.enabled))
                line.append(shown, key_style + on)
            line.append(" ", key_style + on)
            if item.description:
                line.append(f"{item.description} ", description_style + on)
            if len(item.keys) == 1:
                spans[-1] = (start, line.cell_len, *spans[-1][2:])
        return line

    def on_click(self, event: Click) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
