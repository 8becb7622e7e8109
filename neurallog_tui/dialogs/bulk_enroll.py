"""Bulk enrolment: a CSV file of users checked line by line, then every new API key
shown once, with the users that were not enrolled.

The file is read with the CLI's own parser (``neurallog users import``), so the console
and the command line accept and refuse exactly the same lines; the keys file is written
by the CLI's writer too: created owner-only (0600), never over an existing file.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from neurallog.cli.users_import import open_keys_out, read_entries, write_key_rows

from ..backend import BulkEnrolment
from .enroll import OneTimeSecret

SHOWN_ERRORS = 8
"""Bad lines listed in the dialog; the rest are counted."""


def check_file(path: str) -> tuple[list[tuple[str, ...]], str]:
    """The entries of the CSV at ``path``, or ``[]`` and why not (every bad line named)."""
    try:
        text = Path(os.path.expanduser(path)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], f"Cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}"
    entries, errors = read_entries(text)
    if errors:
        shown = errors[:SHOWN_ERRORS]
        more = len(errors) - len(shown)
        lines = [f"Nothing sent: {len(errors)} bad line(s); fix them and check again.", *shown]
        if more:
            lines.append(f"... and {more} more")
        return [], "\n".join(lines)
    if not entries:
        return [], f"{path} holds no users."
    return [e.fields for e in entries], ""


def summary(entries: Sequence[Sequence[str]]) -> str:
    """``12 users: 2 admin, 10 member``."""
    roles = Counter(e[1] for e in entries)
    return f"{len(entries)} user(s): " + ", ".join(f"{n} {r}" for r, n in sorted(roles.items()))


class ImportDialog(ModalScreen[list[tuple[str, ...]] | None]):
    """Asks for the CSV file; Enter checks it, Enter again (unchanged) imports it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="import.cancel")]

    def __init__(self) -> None:
        super().__init__()
        self._checked: tuple[str, list[tuple[str, ...]]] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="import-dialog"):
            yield Label("Import users from a CSV file", classes="dialog-title")
            yield Static(
                "One user a line: user_id,role[,label] (role: admin, member or auditor; a"
                " first line user_id,role,label is a header). Every line is checked before"
                " anything is sent; each new API key is then shown once.",
                classes="hint",
            )
            yield Input(placeholder="path of the CSV file", id="import-path")
            yield Static("", id="import-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Check (enter)", variant="primary", id="import-go")
                yield Button("Cancel (esc)", id="import-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._checked = None
        self.query_one("#import-go", Button).label = "Check (enter)"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._go()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "import-go":
            self._go()
        else:
            self.dismiss(None)

    def _go(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        status = self.query_one("#import-status", Static)
        if self._checked is not None and self._checked[0] == path:
            self.dismiss(self._checked[1])
            return
        if not path:
            status.set_classes("error")
            status.update("Type the path of the CSV file.")
            return
        entries, problem = check_file(path)
        if problem:  # stays until the path or the file is fixed
            status.set_classes("error")
            status.update(problem)
            return
        self._checked = (path, entries)
        status.set_classes("ok")
        status.update(f"{summary(entries)}. Enter enrols them.")
        self.query_one("#import-go", Button).label = f"Enrol {len(entries)}"

    def action_cancel(self) -> None:
        self.dismiss(None)


class BulkKeysDialog(OneTimeSecret, ModalScreen[None]):
    """Every new API key (the highlighted one in full), the users not enrolled, and a way
    to save the keys to a 0600 file. Only "I have stored them" closes it while it holds
    a key: Escape does not."""

    BINDINGS = [
        Binding("c", "copy", "Copy key", id="bulk.copy"),
        Binding("s", "save", "Save to file", id="bulk.save"),
        Binding("escape", "escape", "Close?", show=False, id="bulk.escape"),
    ]

    def __init__(self, result: BulkEnrolment, total: int) -> None:
        super().__init__()
        self._result = result
        self._total = total
        self.saved_to = ""
        self._shown_key = ""

    @property
    def holds_one_time_secret(self) -> bool:
        return bool(self._result.keys)

    def compose(self) -> ComposeResult:
        result = self._result
        enrolled = sum(1 for k in result.keys if k.status == "enrolled")
        with Vertical(classes="dialog", id="bulk-dialog"):
            yield Label(f"{enrolled} of {self._total} users enrolled", classes="dialog-title")
            with VerticalScroll(id="bulk-scroll"):
                if result.keys:
                    yield Static(
                        "These API keys are shown ONCE: save them (s) to a file only you"
                        " can read, or copy each (c), and hand each to its user.",
                        classes="warning",
                    )
                    yield DataTable(id="bulk-keys", cursor_type="row")
                    yield Static("", id="bulk-key-value", classes="secret")
                if result.failures:
                    yield Static(self._failures_text(), id="bulk-failures", classes="error")
                if result.keys:
                    yield Input(
                        placeholder="save to (a new file, created 0600)", id="bulk-save-path"
                    )
                    yield Static("", id="bulk-save-status")
            with Horizontal(classes="dialog-buttons"):
                if result.keys:
                    yield Button("Save (s)", variant="primary", id="bulk-save")
                    yield Button("I have stored them", variant="warning", id="bulk-done")
                else:
                    yield Button("Close", variant="primary", id="bulk-done")
        yield Footer()

    def _failures_text(self) -> str:
        failures = self._result.failures
        lines = [f"Not enrolled or not finished ({len(failures)}):"]
        lines += [f"  {user}: {reason}: {message}" for user, reason, message in failures]
        if any(reason == "incomplete" for _, reason, _ in failures):
            lines.append("  An incomplete user has its key above; provision it (p).")
        return "\n".join(lines)

    def on_resize(self) -> None:
        """The list scrolls, the buttons stay: what the dialog (90% of the screen, title
        and buttons ten lines) leaves goes to the list."""
        scroll = self.query_one("#bulk-scroll", VerticalScroll)
        scroll.styles.max_height = max(4, int(self.size.height * 0.9) - 10)

    def on_mount(self) -> None:
        if not self._result.keys:
            self.query_one("#bulk-done", Button).focus()
            return
        table = self.query_one("#bulk-keys", DataTable)
        table.add_columns("user", "role", "status")
        for key in self._result.keys:
            table.add_row(key.user_id, key.role, key.status, key=key.user_id)
        table.focus()
        self._show_key()

    def _show_key(self) -> None:
        table = self.query_one("#bulk-keys", DataTable)
        if table.row_count == 0:
            return
        user = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        key = next(k for k in self._result.keys if k.user_id == user)
        self._shown_key = key.api_key
        self.query_one("#bulk-key-value", Static).update(f"{key.user_id}: {key.api_key}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_key()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save(event.value.strip())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "bulk-save":
            self.action_save()
        elif event.button.id == "bulk-done":
            self._result, self._shown_key = BulkEnrolment(()), ""  # dropped from this screen
            self.dismiss(None)

    def action_save(self) -> None:
        field = self.query_one("#bulk-save-path", Input)
        if field.has_focus and field.value.strip():
            self._save(field.value.strip())
        else:
            field.focus()

    def _save(self, path: str) -> None:
        status = self.query_one("#bulk-save-status", Static)
        if not path:
            status.set_classes("error")
            status.update("Type the path of a new file.")
            return
        target = os.path.expanduser(path)
        try:
            out = open_keys_out(target)
        except FileExistsError:
            status.set_classes("error")
            status.update(f"{path} exists: the keys are never written over a file.")
            return
        except OSError as exc:
            status.set_classes("error")
            status.update(f"Cannot create {path}: {exc.strerror}")
            return
        with out:
            rows = ((k.user_id, k.role, k.api_key, k.status) for k in self._result.keys)
            count = write_key_rows(out, rows)
        self.saved_to = target
        status.set_classes("ok")
        status.update(f"Saved {count} key(s) to {path} (owner read/write only, 0600).")
        self.query_one("#bulk-done", Button).focus()

    def action_copy(self) -> None:
        if not self._shown_key:
            return
        self.app.copy_to_clipboard(self._shown_key)
        self.notify("copied (if your terminal supports OSC 52)")

    def action_escape(self) -> None:
        if not self._result.keys:
            self.dismiss(None)
            return
        self.notify(
            'The keys cannot be shown again: press "I have stored them" once they are stored.',
            severity="warning",
        )
