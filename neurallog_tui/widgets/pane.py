"""Base of the main screen's panes: access to the unlocked backend, and reloading."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.containers import Vertical
from textual.widgets import DataTable

from neurallog.errors import NotInitializedError

from ..backend import Backend
from ..messages import DataChanged

NARROW = 100
"""Below this many columns the tables drop or shorten their less important columns."""

Cell = str | Text


def refill(
    table: DataTable[Any], columns: Sequence[str], rows: Iterable[tuple[str, Sequence[Cell]]]
) -> None:
    """Replace the table's columns and rows, keeping the cursor on the same row key.

    Without this every refresh (after each action) would jump back to row 0. Column widths
    are given, not left to the table: columns replaced while a resize redraws kept the
    width of their header ("1a", "initia") until the next refresh.
    """
    keep: str | None = None
    if table.row_count:
        keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    table.clear(columns=True)
    body = list(rows)
    widths = [cell_len(label) for label in columns]
    for _, cells in body:
        for i, cell in enumerate(cells[: len(widths)]):
            widths[i] = max(widths[i], _width(cell))
    for label, width in zip(columns, widths, strict=True):
        table.add_column(label, width=width)
    for key, cells in body:
        table.add_row(*cells, key=key)
    if keep is not None and keep in table.rows:
        table.move_cursor(row=table.get_row_index(keep), animate=False)


def _width(cell: Cell) -> int:
    """Terminal cells the widest line of ``cell`` takes."""
    text = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in text.splitlines()), default=0)


class Pane(Vertical):
    """A tab of the main screen. Subclasses load their data in :meth:`reload`."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self._was_narrow: bool | None = None

    def on_mount(self) -> None:
        self.reload()

    @property
    def narrow(self) -> bool:
        return self.app.size.width < NARROW

    def on_resize(self, event: events.Resize) -> None:
        if self._was_narrow is not None and self._was_narrow != self.narrow:
            self.redraw()
        self._was_narrow = self.narrow

    def redraw(self) -> None:
        """Lay the loaded rows out again (the width changed); nothing is fetched."""

    @property
    def backend(self) -> Backend:
        backend: Backend | None = getattr(self.app, "backend", None)
        if backend is None:
            raise NotInitializedError("the session is locked; unlock it again")
        return backend

    def reload(self) -> None:
        """Fetch fresh data (a worker); the default pane has nothing to load."""

    def changed(self, what: str) -> None:
        """Tell every pane that server state changed."""
        self.post_message(DataChanged(what))
