"""Confirmation by typing a user's id: for the steps that take an admin away.

A y/n answer can be given by reflex; typing the id cannot, and it names which admin
goes, so a cursor one row off is caught before anything happens.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static


class TypedConfirmDialog(ModalScreen[bool]):
    """Returns True only once the typed text equals ``expected`` exactly; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="typed-confirm.cancel")]

    def __init__(
        self,
        title: str,
        body: str,
        expected: str,
        confirm: str = "Confirm",
        *,
        what: str = "user id",
    ) -> None:
        super().__init__()
        self._title, self._body, self._expected, self._confirm = title, body, expected, confirm
        self._what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="typed-confirm-dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._body, id="typed-confirm-body", markup=False)
            yield Static(
                f"Type the {self._what} {self._expected} to confirm.",
                classes="hint",
                id="typed-confirm-hint",
                markup=False,
            )
            yield Input(placeholder=self._expected, id="typed-confirm-input")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    f"{self._confirm} (enter)",
                    variant="error",
                    id="typed-confirm-yes",
                    disabled=True,
                )
                yield Button("Cancel (esc)", id="typed-confirm-no")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#typed-confirm-input", Input).focus()

    @property
    def matches(self) -> bool:
        return self.query_one("#typed-confirm-input", Input).value == self._expected

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#typed-confirm-yes", Button).disabled = not self.matches

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.matches:
            self.notify(
                f"type {self._expected} exactly, or Escape to cancel",
                title="Not confirmed",
                severity="warning",
            )
            return
        self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "typed-confirm-yes" and self.matches:
            self.dismiss(True)
        elif event.button.id == "typed-confirm-no":
            self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)
