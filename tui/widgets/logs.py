"""Logs: pick a log name, read its decrypted entries newest first, page by page."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Input, Static

from ..dialogs.prompt import PromptDialog
from ..format import short_id, short_time
from ..guard import Failed, attempt
from ..widgets.pane import Pane

PAGE = 20


class LogsPane(Pane):
    """Names never reach the server in clear, so they are typed (and remembered here)."""

    BINDINGS = [
        Binding("slash", "pick", "Log name", id="logs.pick", key_display="/"),
        Binding("right_square_bracket", "next", "Older", id="logs.next", key_display="]"),
        Binding("left_square_bracket", "prev", "Newer", id="logs.prev", key_display="["),
        Binding("w", "write", "Write", id="logs.write"),
    ]

    def __init__(self) -> None:
        super().__init__(id="logs-pane")
        self.names: list[str] = []
        self.cursors: list[str | None] = [None]
        self.next_cursor: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="logs-bar"):
            yield Input(placeholder="log name, then Enter", id="log-name")
        yield Static("Type a log name to read it.", id="logs-summary", classes="summary")
        table: DataTable[object] = DataTable(id="logs-table", cursor_type="row")
        table.add_columns("time", "version", "data")
        yield table

    @property
    def log_name(self) -> str:
        return self.query_one("#log-name", Input).value.strip()

    def action_pick(self) -> None:
        self.query_one("#log-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.log_name:
            return
        if self.log_name not in self.names:
            self.names.append(self.log_name)
            event.input.suggester = SuggestFromList(self.names, case_sensitive=True)
        self.cursors = [None]
        self._fetch()
        self.query_one(DataTable).focus()

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

    @work(exclusive=True, group="logs-fetch")
    async def _fetch(self) -> None:
        name, cursor = self.log_name, self.cursors[-1]
        page = await attempt(self, f"Reading {name!r}", self.backend.logs(name, PAGE, cursor))
        if isinstance(page, Failed):
            return
        table = self.query_one(DataTable)
        table.clear()
        for entry in page.entries:
            table.add_row(short_time(entry.time), short_id(entry.version_id), entry.data)
        self.next_cursor = page.next
        for note in page.warnings:
            self.notify(note, title="Warning", severity="warning", timeout=10)
        more = "  (] older)" if page.next else ""
        self.query_one("#logs-summary", Static).update(
            f"{name}: page {len(self.cursors)}, {len(page.entries)} entries{more}"
        )

    @work(exclusive=True, group="logs-write")
    async def action_write(self) -> None:
        if not self.log_name:
            self.notify("type a log name first", severity="warning")
            return
        text = await self.app.push_screen_wait(PromptDialog(f"Write to {self.log_name!r}", "text"))
        if not text:
            return
        done = await attempt(self, "Writing", self.backend.write_log(self.log_name, text))
        if not isinstance(done, Failed):
            self.cursors = [None]
            self._fetch()
