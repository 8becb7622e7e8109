"""Recovery drill: check a phrase, a mnemonic or SLIP-39 shares against the tenant.

Nothing changes on the server. Shares are typed one holder after another, each field
emptied as soon as its share is accepted, as on the shares unlock screen.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Input, Label, Static

from neurallog.client import ShareCollector

from ..safe_call import describe
from ..widgets.pane import Pane
from ..widgets.secret import SecretField
from ..widgets.share_entry import take_share
from ..widgets.word_grid import WordGrid


class DrillPane(Pane):
    """Derives keys in a throw-away client and compares the tenant's key-check value.

    The outcome, and any error, stays on the form under the field until the next check:
    a toast would vanish before a person has read it against their paper copy.
    """

    BINDINGS = [Binding("ctrl+g", "word_grid", "Word grid", id="drill.words")]

    def __init__(self) -> None:
        super().__init__(id="drill-pane")

    def compose(self) -> ComposeResult:
        yield Label("Recovery drill", classes="form-title")
        yield Static(
            "Prove the written-down secret still works: it is checked against the tenant's"
            " key-check value; nothing is changed or stored.",
            classes="hint",
        )
        yield SecretField("phrase or mnemonic to check", id="drill-secret")
        yield Static("", id="drill-error", classes="error")
        yield Button("Check (enter)", variant="primary", id="drill-check")
        yield Static("", id="drill-result")
        yield Label("Or with recovery shares (mnemonic tenants)", classes="form-title")
        yield SecretField("share (SLIP-39 words), enter after each", id="drill-share")
        yield Static("No shares entered yet.", id="drill-shares-progress")
        yield SecretField("SLIP-39 passphrase (empty if none)", id="drill-share-passphrase")
        yield Button("Check shares", id="drill-check-shares")
        yield Static("", id="drill-shares-result")

    def on_mount(self) -> None:
        self._collector = ShareCollector()
        self._kind_shown = False

    @property
    def kind(self) -> str:
        mnemonic = self.backend.secret_kind == "mnemonic"  # noqa: S105 (a kind, not a secret)
        return "mnemonic" if mnemonic else "recovery phrase"

    def reload(self) -> None:
        self.query_one("#drill-secret-input", Input).placeholder = f"the tenant's {self.kind}"
        if not self._kind_shown:  # once: a later reload keeps the entry the admin chose
            self._kind_shown = True
            if self.kind == "mnemonic":  # the words in numbered cells
                self.call_later(self._toggle_grid, focus=False)

    @property
    def grid(self) -> WordGrid | None:
        """The word grid, once mounted (for a mnemonic tenant, or after ctrl+g)."""
        found = self.query("#drill-words").results(WordGrid)
        return next(iter(found), None)

    async def action_word_grid(self) -> None:
        """The words in numbered cells, or in one field (what is typed in each is kept)."""
        await self._toggle_grid(focus=True)

    async def _toggle_grid(self, *, focus: bool) -> None:
        """The grid is mounted the first time it is wanted: a phrase tenant never needs it."""
        field = self.query_one("#drill-secret", SecretField)
        grid = self.grid
        if grid is None:
            grid = WordGrid(id="drill-words")
            grid.display = False
            await self.mount(grid, after=field)
        grid.display = not grid.display
        field.display = not grid.display
        if not focus:
            return
        if grid.display:
            grid.focus_first()
        else:
            field.focus_input()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "drill-share-input":
            self._add_share()
        elif event.input.id == "drill-share-passphrase-input":
            self._check_shares()
        else:
            self._check()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "drill-check":
            self._check()
        elif event.button.id == "drill-check-shares":
            self._check_shares()

    def _add_share(self) -> None:
        field = self.query_one("#drill-share", SecretField)
        result = self.query_one("#drill-shares-result", Static)
        if not field.value.strip():
            return
        progress, message = take_share(self._collector, field)
        if progress is None:
            result.set_classes("error")
            result.update(message)
            return
        result.update("")
        self.query_one("#drill-shares-progress", Static).update(
            message + (" Enough: check them." if progress.complete else " Next holder.")
        )
        if progress.complete:
            self.query_one("#drill-share-passphrase", SecretField).focus_input()

    @work(exclusive=True, group="drill")
    async def _check_shares(self) -> None:
        result = self.query_one("#drill-shares-result", Static)
        progress = self._collector.progress()
        if not progress.complete:
            result.set_classes("error")
            result.update(f"Not enough shares yet: {progress.describe()}.")
            return
        passphrase_field = self.query_one("#drill-share-passphrase", SecretField)
        result.set_classes("")
        result.update("Combining the shares and checking them...")
        try:
            ok, why = await self.backend.check_shares(self._collector, passphrase_field.value)
        except Exception as exc:
            ok, why = False, describe(exc)
        self._collector.clear()
        passphrase_field.clear()
        self.query_one("#drill-shares-progress", Static).update("No shares entered yet.")
        result.set_class(not ok, "error")
        result.set_class(ok, "ok")
        tenant = self.backend.tenant_id
        result.update(
            f"PASS: these shares recover tenant {tenant}'s mnemonic."
            if ok
            else f"FAIL: these shares do not recover tenant {tenant}: {why}"
        )

    def action_check(self) -> None:
        self._check()

    @work(exclusive=True, group="drill")
    async def _check(self) -> None:
        field = self.query_one("#drill-secret", SecretField)
        grid = self.grid
        if grid is not None and not grid.display:
            grid = None
        secret = field.value if grid is None else grid.value
        error = self.query_one("#drill-error", Static)
        result = self.query_one("#drill-result", Static)
        if grid is not None and not grid.check():  # the grid says which cells, under it
            error.update("")
            result.update("")
            return
        if not secret.strip():
            error.update(f"Type the {self.kind} to check.")
            return
        error.update("")
        result.set_classes("")
        result.update("Checking...")
        try:
            ok, why = await self.backend.check_secret(secret)
        except Exception as exc:  # on the form, never with the secret; kept to be fixed
            result.update("")
            error.update(f"Not checked: {describe(exc)} (ctrl+t shows what you typed)")
            return
        field.clear()
        if grid is not None:
            grid.clear()
            grid.focus_first()  # emptied: the next try starts at word 1, not where Enter was
        result.set_class(not ok, "error")
        result.set_class(ok, "ok")
        tenant, kind = self.backend.tenant_id, self.kind
        result.update(
            f"PASS: this {kind} matches tenant {tenant}; it can recover it."
            if ok
            else f"FAIL: this {kind} does not match tenant {tenant}: {why}"
        )
