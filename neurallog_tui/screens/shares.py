"""Unlock with SLIP-39 shares: holders type their share one after another at one terminal.

Each share is masked while typed and the field is emptied as soon as it is accepted, so
the next holder never sees it; only the progress ("1 of 2 shares") stays on screen. A bad
share is refused with its reason (positions, never words) and nothing is kept of it.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, Static

from neurallog.client import ShareCollector
from neurallog.errors import NeuralLogError

from ..backend import Connector
from ..messages import SessionOpened
from ..safe_call import describe
from ..widgets.header import ConsoleHeader
from ..widgets.secret import SecretField
from ..widgets.share_entry import take_share


class ShareUnlockScreen(Screen[None]):
    """API key, then shares one by one, then the SLIP-39 passphrase (if any)."""

    BINDINGS = [
        Binding("ctrl+o", "unlock", "Unlock", id="shares.unlock"),
        Binding("escape", "back", "Back", id="shares.back"),
    ]

    def __init__(self, connector: Connector) -> None:
        super().__init__()
        self._connector = connector
        self._collector = ShareCollector()

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with Vertical(id="shares", classes="form"):
            yield Label("Unlock with recovery shares", classes="form-title")
            yield Static(f"Server: {self._connector.base_url}", id="server")
            yield SecretField("API key (nlk1...)", id="shares-api-key")
            yield Static(
                "Holders: type your share and press enter; it is hidden once accepted.",
                classes="hint",
            )
            yield SecretField("share (SLIP-39 words)", id="share")
            yield Static("No shares entered yet.", id="shares-progress")
            yield SecretField("SLIP-39 passphrase (empty if none)", id="shares-passphrase")
            with Horizontal(classes="form-buttons"):
                yield Button("Unlock (ctrl+o)", variant="primary", id="shares-unlock")
                yield Button("Back (esc)", id="shares-back")
            yield Static("", id="shares-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#shares-api-key", SecretField).focus_input()

    def on_input_submitted(self, event: object) -> None:
        if self.query_one("#shares-api-key", SecretField).input.has_focus:
            self.query_one("#share", SecretField).focus_input()
        elif self.query_one("#share", SecretField).input.has_focus:
            self.add_share()
        else:
            self.action_unlock()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "shares-unlock":
            self.action_unlock()
        elif event.button.id == "shares-back":
            self.action_back()

    def _status(self, text: str, classes: str = "") -> None:
        status = self.query_one("#shares-status", Static)
        status.set_classes(classes)
        status.update(text)

    def add_share(self) -> None:
        field = self.query_one("#share", SecretField)
        if not field.value.strip():
            return
        progress, message = take_share(self._collector, field)
        if progress is None:
            self._status(message, "error")
            return
        self.query_one("#shares-progress", Static).update(
            message + (" Enough shares: unlock (ctrl+o)." if progress.complete else " Next holder.")
        )
        self._status("")
        if progress.complete:
            self.query_one("#shares-passphrase", SecretField).focus_input()

    def action_back(self) -> None:
        self._collector.clear()
        self.app.pop_screen()

    def action_unlock(self) -> None:
        api_key = self.query_one("#shares-api-key", SecretField).value.strip()
        if not api_key:
            self._status("Enter the admin API key first.", "error")
            return
        if not self._collector.progress().complete:
            self._status(f"Not enough shares yet: {self._collector.progress().describe()}.")
            return
        self._unlock(api_key, self.query_one("#shares-passphrase", SecretField).value)

    @work(exclusive=True, group="unlock")
    async def _unlock(self, api_key: str, passphrase: str) -> None:
        self._status("Combining the shares and checking them against the tenant...")
        try:
            backend = await self._connector.connect_with_shares(
                api_key, self._collector, passphrase
            )
        except (NeuralLogError, Exception) as exc:
            self._status(f"Refused: {describe(exc)}", "error")
            self.notify(describe(exc), title="Unlock refused", severity="error")
            return
        self._collector.clear()
        for name in ("#shares-api-key", "#shares-passphrase", "#share"):
            self.query_one(name, SecretField).clear()
        self.post_message(SessionOpened(backend))
