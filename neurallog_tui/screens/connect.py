"""Connect and unlock: API key, then recovery phrase or mnemonic (both masked)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, Static

from neurallog.errors import NeuralLogError, WrongRecoveryPhraseError

from ..backend import Connector
from ..commands import CONNECT_HELP
from ..dialogs.help import HelpDialog
from ..messages import SessionOpened
from ..safe_call import describe
from ..widgets.header import ConsoleHeader
from ..widgets.secret import SecretField
from ..widgets.word_grid import WordGrid


class ConnectScreen(Screen[None]):
    """Nothing is unlocked until the phrase matches the tenant's key-check value."""

    BINDINGS = [
        Binding("ctrl+o", "unlock", "Unlock", id="connect.unlock"),
        Binding("ctrl+n", "new_tenant", "New tenant", id="connect.new"),
        Binding("ctrl+s", "shares", "Shares", id="connect.shares"),
        Binding("ctrl+g", "word_grid", "Word grid", id="connect.words"),
        # not a priority binding: inside a text box "?" is typed, F1 still opens the help
        Binding("question_mark,f1", "help", "Help", id="connect.help", key_display="?"),
    ]

    def __init__(
        self, connector: Connector, *, tenant: str | None, locked: bool, notice: str = ""
    ) -> None:
        super().__init__()
        self._connector, self._tenant, self._locked = connector, tenant, locked
        self._notice = notice or "Locked after inactivity: keys were dropped."

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with Vertical(id="connect", classes="form"):
            yield Label("Unlock a tenant", classes="form-title")
            target = f" (tenant {self._tenant})" if self._tenant else ""
            yield Static(f"Server: {self._connector.base_url}{target}", id="server")
            if self._locked:
                yield Static(self._notice, classes="warning")
            yield SecretField("API key (nlk1...)", id="api-key")
            yield SecretField("recovery phrase or 24-word mnemonic", id="secret")
            grid = WordGrid(id="secret-words")
            grid.display = False
            yield grid
            with Horizontal(classes="form-buttons"):
                yield Button("Unlock (ctrl+o)", variant="primary", id="unlock")
                yield Button("New tenant (ctrl+n)", id="new-tenant")
            yield Static("", id="connect-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#api-key", SecretField).focus_input()

    def on_input_submitted(self, event: object) -> None:
        if self.query_one("#api-key", SecretField).input.has_focus:
            if self._grid.display:
                self._grid.focus_first()
            else:
                self.query_one("#secret", SecretField).focus_input()
        else:
            self.action_unlock()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "unlock":
            self.action_unlock()
        elif event.button.id == "new-tenant":
            self.action_new_tenant()

    def _status(self, text: str, classes: str = "") -> None:
        status = self.query_one("#connect-status", Static)
        status.set_classes(classes)
        status.update(text)

    @property
    def _grid(self) -> WordGrid:
        return self.query_one("#secret-words", WordGrid)

    def action_word_grid(self) -> None:
        """Type the mnemonic word by word in numbered cells, or back to one field.

        What was typed in either stays there until the unlock or the screen ends.
        """
        grid, field = self._grid, self.query_one("#secret", SecretField)
        grid.display = not grid.display
        field.display = not grid.display
        if grid.display:
            grid.focus_first()
        else:
            field.focus_input()

    def action_unlock(self) -> None:
        api_key = self.query_one("#api-key", SecretField).value.strip()
        grid = self._grid
        if grid.display:
            if not grid.check():
                self._status("Fix the words marked with ! (their numbers are above).", "error")
                return
            secret = grid.value
        else:
            secret = self.query_one("#secret", SecretField).value
        if not api_key or not secret.strip():
            self._status("Enter the API key and the recovery phrase or mnemonic.", "error")
            return
        key_tenant = api_key.split(".")[1] if api_key.count(".") == 4 else ""
        if self._tenant and key_tenant and key_tenant != self._tenant:
            self._status(
                f"This API key belongs to tenant {key_tenant}, not {self._tenant}.", "error"
            )
            return
        self._unlock(api_key, secret)

    @work(exclusive=True, group="unlock")
    async def _unlock(self, api_key: str, secret: str) -> None:
        self._status("Deriving keys and checking them against the tenant...")
        self.query_one("#unlock", Button).disabled = True
        try:
            backend = await self._connector.connect(api_key, secret)
        except WrongRecoveryPhraseError as exc:
            self._status(f"Refused: {describe(exc)}. Nothing was changed.", "error")
            self.notify(describe(exc), title="Unlock refused", severity="error")
            return
        except (NeuralLogError, Exception) as exc:
            self._status(describe(exc), "error")
            self.notify(describe(exc), title="Unlock failed", severity="error")
            return
        finally:
            self.query_one("#unlock", Button).disabled = False
        self.query_one("#secret", SecretField).clear()
        self._grid.clear()
        self.query_one("#api-key", SecretField).clear()
        self.post_message(SessionOpened(backend))

    def action_new_tenant(self) -> None:
        from ..screens.bootstrap import BootstrapScreen

        try:  # a broken plugin must be a message, not a crash
            algorithms = self._connector.algorithms()
        except Exception as exc:
            self.notify(describe(exc), title="Plugins failed to load", severity="error")
            return
        self.app.push_screen(BootstrapScreen(self._connector, algorithms))

    def action_shares(self) -> None:
        """Unlock with SLIP-39 recovery shares instead of the words (docs/recovery.md)."""
        from ..screens.shares import ShareUnlockScreen

        self.app.push_screen(ShareUnlockScreen(self._connector))

    def action_help(self) -> None:
        """What each field is, and what reaches the server (docs/tui.md)."""
        self.app.push_screen(HelpDialog("Help: unlock", CONNECT_HELP))
