"""Enrolment form, and the once-only display of a new API key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from neurallog.wire.vocab import ROLES


class EnrollDialog(ModalScreen[tuple[str, str] | None]):
    """Returns ``(user_id, role)``."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="enroll.cancel"),
        Binding("ctrl+s", "submit", "Enrol", id="enroll.submit"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Enrol a user", classes="dialog-title")
            yield Input(placeholder="user id (letters, digits, _ @ -)", id="enroll-user")
            yield Select([(r, r) for r in ROLES], value="member", allow_blank=False, id="role")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Enrol (ctrl+s)", variant="primary", id="enroll-go")
                yield Button("Cancel (esc)", id="enroll-cancel")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "enroll-go":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        user_id = self.query_one("#enroll-user", Input).value.strip()
        if not user_id:
            self.notify("a user id is required", severity="warning")
            return
        self.dismiss((user_id, str(self.query_one("#role", Select).value)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class OneTimeSecret:
    """Marks a screen that shows a secret nobody can show again (an API key, a mnemonic).

    While one is on screen the app asks before quitting and the idle lock waits.
    """

    @property
    def holds_one_time_secret(self) -> bool:
        return True


class SecretShownDialog(OneTimeSecret, ModalScreen[None]):
    """Shows an API key once, with the signing-key fingerprint the holder should check.

    Only the "I have stored it" button closes it: Escape and Enter do not, so a reflex
    key press cannot throw the key away.
    """

    BINDINGS = [
        Binding("c", "copy", "Copy key", id="secret.copy"),
        Binding("escape", "refuse_close", "Close?", show=False, id="secret.escape"),
    ]

    def __init__(self, title: str, api_key: str, fingerprint: str, note: str = "") -> None:
        super().__init__()
        self._title, self._api_key, self._fingerprint, self._note = (
            title,
            api_key,
            fingerprint,
            note,
        )

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="secret-dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Static(
                "This API key is shown ONCE. Copy it now (c copies via the terminal) and"
                " store it safely; the server cannot show it again.",
                classes="warning",
            )
            yield Static(self._api_key, id="secret-value", classes="secret")
            yield Static(f"Signing-key fingerprint: {self._fingerprint}", id="secret-fpr")
            if self._note:
                yield Static(self._note, classes="hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy (c)", variant="primary", id="secret-copy")
                yield Button("I have stored it", variant="warning", id="secret-done")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#secret-copy", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "secret-copy":
            self.action_copy()
        elif event.button.id == "secret-done":
            self.action_close()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self._api_key)
        self.notify("copied (if your terminal supports OSC 52)")

    def action_refuse_close(self) -> None:
        self.notify(
            'The key cannot be shown again: press "I have stored it" once it is stored.',
            severity="warning",
        )

    def action_close(self) -> None:
        self._api_key = ""
        self.dismiss(None)
