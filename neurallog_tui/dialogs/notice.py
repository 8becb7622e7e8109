"""A refusal or a result that must be read: it stays until dismissed (a toast would not)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static


class NoticeDialog(ModalScreen[None]):
    """Title, explanation and what to do next; closed by Enter, Escape or its button."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="notice.close")]

    def __init__(self, title: str, body: str, *, error: bool = True) -> None:
        super().__init__()
        self._title, self._body, self._error = title, body, error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog" + (" notice-error" if self._error else ""), id="notice"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._body, id="notice-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK (enter)", variant="primary", id="notice-ok")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#notice-ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
