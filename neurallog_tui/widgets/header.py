"""Textual's header, tolerant of a title change that lands while it is torn down.

The stock header updates its title from an async watcher; when a screen is popped (a lock,
quitting) between the change and the watcher, the title widget is already gone and the
watcher's ``NoMatches`` crashes the app. The console changes its header line on every
refresh, so it uses this one.
"""

from __future__ import annotations

from contextlib import suppress

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.errors import NoWidget
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class ConsoleHeader(Header):
    """A :class:`Header` whose title updates skip a header that is going away."""

    def _on_mount(self, event: Mount) -> None:
        # Textual calls the handlers of every class in the MRO: stop before Header's own,
        # which would register the unguarded watchers, and run Widget's ourselves.
        event.prevent_default()
        Widget._on_mount(self, event)

        async def set_title() -> None:
            with suppress(NoMatches, NoScreen, NoWidget):
                if self.is_attached:
                    self.query_one(HeaderTitle).update(self.format_title())

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
