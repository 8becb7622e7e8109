"""Set the signed rotation policy: a whole number of days, or none.

The input is checked here first (1..3650, empty or 0 for none) so a typo gets a message
that stays beside the field; the client checks it again before signing the ``policy`` link.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from ..format import days

MAX_DAYS = 3650
"""The client's ceiling (``MAX_ROTATE_EVERY_DAYS``): ten years."""

EXPLANATION = (
    "Rotate the KEK every N days. The policy is signed by your admins into the tenant"
    " chain, so the server cannot stretch or drop it; the console warns once the active"
    " version is older. Empty or 0: no policy."
)


def parse_days(text: str) -> int | str:
    """The policy in days (0: none), or why ``text`` is not one."""
    value = text.strip()
    if not value:
        return 0
    if not (value.isascii() and value.isdigit()):
        return f"{value!r} is not a whole number of days (1..{MAX_DAYS}; empty or 0: none)"
    days = int(value)
    if days > MAX_DAYS:
        return f"{days} days is more than {MAX_DAYS} (ten years); use 1..{MAX_DAYS}"
    return days


class RotationPolicyDialog(ModalScreen[int | None]):
    """Returns the new policy in days (0: none), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="policy.cancel")]

    def __init__(self, current: int) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        now = f"every {days(self._current)}" if self._current else "none"
        with Vertical(classes="dialog", id="policy-dialog"):
            yield Label(f"Rotation policy (now: {now})", classes="dialog-title")
            yield Static(EXPLANATION, classes="hint", id="policy-explanation")
            yield Input(
                value=str(self._current) if self._current else "",
                placeholder=f"days, 1..{MAX_DAYS} (empty: no policy)",
                max_length=8,
                id="policy-days",
            )
            yield Static("", id="policy-error", classes="error")
            yield Static("Enter to sign it, Escape to cancel", classes="hint")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        days = parse_days(event.value)
        if isinstance(days, str):
            self.query_one("#policy-error", Static).update(days)
            return
        self.dismiss(days)

    def action_cancel(self) -> None:
        self.dismiss(None)
