"""The log browser: every log of the encrypted catalogue this session can open.

Names are decrypted by the client (the server holds them sealed); choosing one opens it
in the logs pane.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..backend import CatalogueRow
from ..format import short_id

EMPTY = (
    "no logs in the catalogue for the versions you hold (logs written before the catalogue"
    " appear once someone writes to them again)"
)


class CatalogueDialog(ModalScreen[str | None]):
    """Returns the chosen log name, or None (Escape)."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="catalogue.close")]

    def __init__(self, logs: list[CatalogueRow]) -> None:
        super().__init__()
        self._logs = logs

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="catalogue-dialog"):
            yield Label(f"Logs ({len(self._logs)})", classes="dialog-title")
            if not self._logs:
                yield Static(EMPTY, classes="hint")
            else:
                yield Static("Enter opens a log; versions it has entries in:", classes="hint")
                yield OptionList(
                    *(
                        Option(
                            f"{log.name}  [{', '.join(short_id(v) for v in log.version_ids)}]",
                            id=str(i),
                        )
                        for i, log in enumerate(self._logs)
                    ),
                    id="catalogue-list",
                    markup=False,
                )
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._logs[int(event.option.id or 0)].name)

    def action_close(self) -> None:
        self.dismiss(None)
