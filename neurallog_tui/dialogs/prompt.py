"""A one-line text prompt (a reason, a user id) and a pick-one list."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class PromptDialog(ModalScreen[str | None]):
    """Asks for one line of text; Enter submits, Escape cancels (returns None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(
        self,
        title: str,
        placeholder: str = "",
        *,
        required: bool = True,
        max_length: int = 500,
        note: str = "",
    ) -> None:
        super().__init__()
        self._title, self._placeholder, self._note = title, placeholder, note
        self._required, self._max_length = required, max_length

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            if self._note:
                yield Static(self._note, classes="hint", id="prompt-note")
            yield Input(placeholder=self._placeholder, max_length=self._max_length, id="prompt")
            yield Static("Enter to submit, Escape to cancel", classes="hint")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self._required and not value:
            self.notify("a value is required", severity="warning")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of ``choices`` (value, label); only the legal ones are ever offered."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], note: str = "") -> None:
        super().__init__()
        self._title, self._choices, self._note = title, choices, note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            if self._note:
                yield Static(self._note, classes="hint")
            yield OptionList(
                *(Option(label, id=value) for value, label in self._choices), id="choices"
            )
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
