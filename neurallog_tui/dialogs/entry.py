"""One decrypted log entry in full: JSON pretty-printed, text as it is."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from ..backend import LogRow
from ..format import short_time


def pretty(entry: LogRow) -> str:
    """Indented JSON for a JSON entry; anything else unchanged."""
    if entry.kind != "json":
        return entry.data
    try:
        return json.dumps(json.loads(entry.data), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return entry.data


class EntryDialog(ModalScreen[None]):
    """Read-only; Escape, Enter or ``q`` closes it."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="entry.close")]

    def __init__(self, log_name: str, entry: LogRow) -> None:
        super().__init__()
        self._name, self._entry = log_name, entry

    def compose(self) -> ComposeResult:
        entry = self._entry
        with Vertical(classes="dialog", id="entry-dialog"):
            yield Label(f"{self._name}: {short_time(entry.time)}", classes="dialog-title")
            yield Static(f"version {entry.version_id}, {entry.kind}", classes="hint")
            with VerticalScroll(id="entry-scroll"):
                yield Static(pretty(entry), id="entry-body", markup=False)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
