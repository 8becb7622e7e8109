"""Recovery drill: check a phrase or mnemonic against the tenant, changing nothing."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, Static

from ..guard import describe
from ..widgets.pane import Pane
from ..widgets.secret import SecretField


class DrillPane(Pane):
    """Derives keys in a throw-away client and compares the tenant's key-check value.

    The outcome, and any error, stays on the form under the field until the next check:
    a toast would vanish before a person has read it against their paper copy.
    """

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

    @property
    def kind(self) -> str:
        mnemonic = self.backend.secret_kind == "mnemonic"  # noqa: S105 (a kind, not a secret)
        return "mnemonic" if mnemonic else "recovery phrase"

    def reload(self) -> None:
        self.query_one("#drill-secret-input", Input).placeholder = f"the tenant's {self.kind}"

    def on_input_submitted(self, event: object) -> None:
        self._check()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "drill-check":
            self._check()

    def action_check(self) -> None:
        self._check()

    @work(exclusive=True, group="drill")
    async def _check(self) -> None:
        field = self.query_one("#drill-secret", SecretField)
        secret = field.value
        error = self.query_one("#drill-error", Static)
        result = self.query_one("#drill-result", Static)
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
        result.set_class(not ok, "error")
        result.set_class(ok, "ok")
        tenant, kind = self.backend.tenant_id, self.kind
        result.update(
            f"PASS: this {kind} matches tenant {tenant}; it can recover it."
            if ok
            else f"FAIL: this {kind} does not match tenant {tenant}: {why}"
        )
