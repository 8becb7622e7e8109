"""A progress bar shown while blobs are sealed and uploaded."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static


class ProgressDialog(ModalScreen[None]):
    """Indeterminate until :meth:`advance` reports a total; dismissed by its owner."""

    def __init__(self, title: str, note: str = "", unit: str = "blobs sealed and sent") -> None:
        super().__init__()
        self._title, self._note, self._unit = title, note, unit

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="progress-dialog"):
            yield Label(self._title, classes="dialog-title")
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static(self._note, id="progress-note", classes="hint")

    def advance(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` (safe to call from the client's callback)."""
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#progress-note", Static).update(f"{done}/{total} {self._unit}")
