"""Contextual help: what the current tab is for and what each of its keys does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static


class HelpDialog(ModalScreen[None]):
    """Closed by Escape, ``?`` or ``q``; it holds nothing that could be lost."""

    BINDINGS = [Binding("escape,question_mark,q,f1", "close", "Close", id="help.close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self._title, self._body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label(self._title, classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(self._body, id="help-body", markup=False)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
