"""Rotation form: a reason and a multi-select of the users to remove."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Button, Footer, Input, Label, SelectionList, Static
from textual.widgets.option_list import OptionDoesNotExist


class CheckList(SelectionList[str]):
    """A SelectionList drawing ``[x]`` / ``[ ]``: the state must not depend on colour."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line
        if len(segments) < 3:
            return line
        mark = "x" if selection.value in self.selected else " "
        style = segments[3].style if len(segments) > 3 else None
        glyphs = [Segment(c, style) for c in ("[", mark, "]")]
        return Strip([*glyphs, *segments[3:]], line.cell_length)


@dataclass(frozen=True)
class RotatePlan:
    reason: str
    remove_users: tuple[str, ...]


class RotateDialog(ModalScreen[RotatePlan | None]):
    """Collects the plan; the caller confirms it with the consequences spelled out."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="rotate.cancel"),
        Binding("ctrl+s", "submit", "Rotate", id="rotate.submit"),
    ]

    def __init__(self, users: Sequence[str]) -> None:
        super().__init__()
        self._users = users

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rotate-dialog"):
            yield Label("Rotate the KEK", classes="dialog-title")
            yield Input(placeholder="reason (required)", max_length=500, id="rotate-reason")
            yield Static(
                "Users to remove: [x] removed (blobs and API keys deleted), [ ] kept."
                " Space toggles.",
                markup=False,  # "[x]" is markup to Rich: the legend lost its mark
                classes="hint",
            )
            yield CheckList(*((u, u) for u in self._users), id="rotate-remove")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Rotate (ctrl+s)", variant="warning", id="rotate-go")
                yield Button("Cancel (esc)", id="rotate-cancel")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(SelectionList).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rotate-go":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        reason = self.query_one("#rotate-reason", Input).value.strip()
        if not reason:
            self.notify("a reason is required", severity="warning")
            self.query_one("#rotate-reason", Input).focus()
            return
        chosen = self.query_one("#rotate-remove", SelectionList).selected
        self.dismiss(RotatePlan(reason, tuple(str(u) for u in chosen)))

    def action_cancel(self) -> None:
        self.dismiss(None)
