"""A masked input with a show/hide toggle, for API keys, phrases and mnemonics."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input


class SecretField(Horizontal):
    """Masked by default; ``ctrl+t`` or the button shows the text while you check it."""

    BINDINGS = [Binding("ctrl+t", "toggle_secret", "Show/hide", id="secret.toggle")]

    def __init__(self, placeholder: str, *, id: str) -> None:
        super().__init__(id=id, classes="secret-field")
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self._placeholder, password=True, id=f"{self.id}-input")
        yield Button("show", id=f"{self.id}-toggle", classes="toggle")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    def clear(self) -> None:
        self.input.value = ""
        self.input.password = True
        self.query_one(Button).label = "show"

    def focus_input(self) -> None:
        self.input.focus()

    def action_toggle_secret(self) -> None:
        self.input.password = not self.input.password
        self.query_one(Button).label = "show" if self.input.password else "hide"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_toggle_secret()
        self.input.focus()
