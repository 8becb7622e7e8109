"""The signed tenant chain as this console's client verified it: a read-only summary.

Everything shown comes from the chain the client replayed and checked link by link
(signatures, order, the head it saved before), never from the server's own word.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from ..backend import ChainStatus

MEANING = "State signed by your tenant's admins; the server cannot change it undetected."

NOT_STARTED = (
    "The tenant chain has not started: this tenant was made before it existed and no"
    " admin has unlocked it since. Its state is taken as the server serves it."
)

HASH_PREFIX = 16


def _members(status: ChainStatus) -> list[str]:
    lines = []
    for role, users in status.members:
        names = [uid if state == "active" else f"{uid} ({state})" for uid, state in users]
        lines.append(f"{role}: {', '.join(names)}")
    return lines or ["none"]


def chain_text(status: ChainStatus | None) -> str:
    """The dialog's body: one labelled line per fact (members one line per role)."""
    if status is None:
        return NOT_STARTED
    audit = (
        "none signed yet"
        if status.audit is None
        else f"{status.audit[0]} record(s), head {status.audit[1][:HASH_PREFIX]}"
    )
    saved = "saved" if status.head_saved else "NOT saved: a restart trusts the server's chain"
    members = _members(status)
    rows = [
        ("Links verified", f"{status.links} (head seq {status.links - 1})"),
        ("Head hash", status.head_hash[:HASH_PREFIX]),
        ("Active version", status.active_version or "none"),
        ("Members", members[0]),
        *(("", line) for line in members[1:]),
        ("Audit checkpoint", audit),
        ("Head", saved),
        ("Head store", status.head_store),
    ]
    return "\n".join(f"{label:<17}{value}" for label, value in rows)


class ChainStatusDialog(ModalScreen[None]):
    """Closed by Escape, Enter or ``q``: it only shows."""

    BINDINGS = [Binding("escape,enter,q,c", "close", "Close", id="chain.close")]

    def __init__(self, status: ChainStatus | None) -> None:
        super().__init__()
        self._status = status

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="chain-dialog"):
            yield Label("Tenant chain", classes="dialog-title")
            yield Static(MEANING, classes="hint", id="chain-meaning")
            with VerticalScroll(id="chain-scroll"):
                yield Static(chain_text(self._status), id="chain-body", markup=False)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
