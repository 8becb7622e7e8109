"""Logs: pick a log name (typed, or from the encrypted catalogue), read its decrypted
entries newest first, page by page."""

from __future__ import annotations

import json
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Input, Static

from ..backend import LogRow
from ..dialogs.catalogue import CatalogueDialog
from ..dialogs.entry import EntryDialog
from ..dialogs.prompt import PromptDialog
from ..format import short_id, short_time
from ..safe_call import Failed, attempt
from ..widgets.pane import Pane, refill

PAGE = 20
EMPTY_HINT = (
    "no entries under this name for the versions you hold; log names are exact"
    " (case, spaces and punctuation count)"
)
WRITE_RULE = (
    "Text that starts with { or [ and is valid JSON is stored as JSON (an object or a"
    " list); anything else is stored as a string."
)


def parse_entry(text: str) -> str | dict[str, Any] | list[Any]:
    """What ``w`` writes: a JSON object or list when the text is one, else the text."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(stripped)
        except ValueError:
            return text
        if isinstance(value, dict | list):
            return value
    return text


class LogsPane(Pane):
    """Names never reach the server in clear, so they are typed (and remembered here).

    The table has the focus (so ``/``, ``w``, ``[`` and ``]`` work); ``/`` moves to the
    name box, and Enter on an entry shows it in full.
    """

    BINDINGS = [
        Binding("slash", "pick", "Log name", id="logs.pick", key_display="/"),
        Binding("l", "browse", "Browse logs", id="logs.browse"),
        Binding("right_square_bracket", "next", "Older", id="logs.next", key_display="]"),
        Binding("left_square_bracket", "prev", "Newer", id="logs.prev", key_display="["),
        Binding("w", "write", "Write", id="logs.write"),
    ]

    def __init__(self) -> None:
        super().__init__(id="logs-pane")
        self.names: list[str] = []
        self.cursors: list[str | None] = [None]
        self.next_cursor: str | None = None
        self.entries: list[LogRow] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="logs-bar"):
            yield Input(placeholder="log name (exact), then Enter", id="log-name")
        yield Static(
            "Press / and type a log name to read it, or l to browse the logs.",
            id="logs-summary",
            classes="summary",
        )
        yield DataTable(id="logs-table", cursor_type="row")

    @property
    def log_name(self) -> str:
        return self.query_one("#log-name", Input).value.strip()

    def action_pick(self) -> None:
        self.query_one("#log-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._open()

    def _open(self) -> None:
        """Read the log named in the name box from its newest entry."""
        if not self.log_name:
            return
        if self.log_name not in self.names:
            self.names.append(self.log_name)
            box = self.query_one("#log-name", Input)
            box.suggester = SuggestFromList(self.names, case_sensitive=True)
        self.cursors = [None]
        self._fetch()
        self.query_one(DataTable).focus()

    @work(exclusive=True, group="logs-browse")
    async def action_browse(self) -> None:
        """The catalogue's logs (decrypted here); the chosen one opens in this pane."""
        logs = await attempt(self, "Listing logs", self.backend.catalogue())
        if isinstance(logs, Failed):
            return
        chosen = await self.app.push_screen_wait(CatalogueDialog(logs))
        if chosen:
            self.query_one("#log-name", Input).value = chosen
            self._open()

    def action_next(self) -> None:
        if self.next_cursor is None:
            self.notify("no older entries")
            return
        self.cursors.append(self.next_cursor)
        self._fetch()

    def action_prev(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self._fetch()

    def reload(self) -> None:
        if self.log_name:
            self._fetch()

    def redraw(self) -> None:
        narrow = self.narrow

        def cells(entry: LogRow) -> list[str]:
            when = short_time(entry.time)
            return [when[5:] if narrow else when, short_id(entry.version_id), entry.data]

        rows = ((str(i), cells(e)) for i, e in enumerate(self.entries))
        refill(self.query_one(DataTable), ["time", "version", "data"], rows)

    @work(exclusive=True, group="logs-fetch")
    async def _fetch(self) -> None:
        name, cursor = self.log_name, self.cursors[-1]
        page = await attempt(self, f"Reading {name!r}", self.backend.logs(name, PAGE, cursor))
        if isinstance(page, Failed):
            return
        self.entries = list(page.entries)
        self.query_one(DataTable).clear()
        self.redraw()
        self.next_cursor = page.next
        for note in page.warnings:
            self.notify(note, title="Warning", severity="warning", timeout=10)
        summary = self.query_one("#logs-summary", Static)
        if not page.entries and len(self.cursors) == 1:
            summary.update(f"{name}: {EMPTY_HINT}")
            return
        more = "  (] older)" if page.next else ""
        summary.update(
            f"{name}: page {len(self.cursors)}, {len(page.entries)} entries; enter shows one{more}"
        )

    def action_show(self) -> None:
        table = self.query_one(DataTable)
        if not self.entries or not table.row_count:
            return
        self.app.push_screen(EntryDialog(self.log_name, self.entries[table.cursor_row]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show()

    @work(exclusive=True, group="logs-write")
    async def action_write(self) -> None:
        if not self.log_name:
            self.notify("type a log name first (/)", severity="warning")
            return
        text = await self.app.push_screen_wait(
            PromptDialog(
                f"Write to {self.log_name!r}",
                'text, or JSON such as {"user": "x"}',
                note=WRITE_RULE,
                max_length=10_000,
            )
        )
        if not text:
            return
        data = parse_entry(text)
        done = await attempt(self, "Writing", self.backend.write_log(self.log_name, data))
        if not isinstance(done, Failed):
            self.notify(f"written as {'text' if isinstance(data, str) else 'JSON'}")
            self.cursors = [None]
            self._fetch()
