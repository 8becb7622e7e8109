"""Audit: the tenant's hash-chained log, filterable, newest first, with its verdict."""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from ..backend import AuditPage, AuditRow, AuditVerdict
from ..format import short_time, styled
from ..guard import Failed, attempt
from ..widgets.pane import Pane

PAGE = 50
READS_PREFIX = "reads:"  # the server's batched records of audited reads


def verdict_text(verdict: AuditVerdict) -> str:
    if verdict.intact:
        return f"Chain intact: {verdict.records} record(s) verified."
    return (
        f"CHAIN BROKEN at record {verdict.first_broken}: a record was edited or deleted"
        f" ({verdict.records} checked)."
    )


class AuditPane(Pane):
    BINDINGS = [
        Binding("f5", "reload", "Refresh", id="audit.refresh"),
        Binding("m", "more", "More", id="audit.more"),
        Binding("slash", "filter", "Filter", id="audit.filter", key_display="/"),
        Binding("h", "toggle_reads", "Hide reads", id="audit.reads"),
    ]

    def __init__(self) -> None:
        super().__init__(id="audit-pane")
        self.rows: list[AuditRow] = []
        self.next_cursor: str | None = None
        self.hide_reads = False

    def compose(self) -> ComposeResult:
        yield Static("Verifying the chain...", id="audit-verdict", classes="summary")
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="action", id="filter-action")
            yield Input(placeholder="actor", id="filter-actor")
            yield Select(
                [("allowed", "allowed"), ("denied", "denied")],
                prompt="any outcome",
                id="filter-outcome",
            )
        table: DataTable[object] = DataTable(id="audit-table", cursor_type="row")
        table.add_columns("seq", "time", "actor", "action", "outcome", "status", "target")
        yield table

    def action_reload(self) -> None:
        self.reload()

    def action_filter(self) -> None:
        self.query_one("#filter-action", Input).focus()

    def action_more(self) -> None:
        if self.next_cursor is None:
            self.notify("no older records")
            return
        self._fetch(self.next_cursor)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.reload()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.reload()

    def _filters(self) -> dict[str, str]:
        outcome = self.query_one("#filter-outcome", Select).value
        return {
            "action": self.query_one("#filter-action", Input).value.strip(),
            "actor": self.query_one("#filter-actor", Input).value.strip(),
            "outcome": outcome if isinstance(outcome, str) else "",
        }

    def reload(self) -> None:
        self.rows, self.next_cursor = [], None
        self.query_one(DataTable).clear()
        self._verify()
        self._fetch(None)

    @work(exclusive=True, group="audit-verify")
    async def _verify(self) -> None:
        verdict = await attempt(self, "Verifying the audit chain", self.backend.verify_audit())
        label = self.query_one("#audit-verdict", Static)
        if isinstance(verdict, Failed):
            label.update("Chain not verified (see the error).")
            return
        label.set_class(not verdict.intact, "error")
        label.update(verdict_text(verdict))

    @work(exclusive=True, group="audit-fetch")
    async def _fetch(self, cursor: str | None) -> None:
        call = self.backend.audit(limit=PAGE, cursor=cursor, **self._filters())
        page = await attempt(self, "Loading the audit log", call)
        if isinstance(page, Failed):
            return
        self._append(page)

    def action_toggle_reads(self) -> None:
        """Hide or show the server's batched read records (``reads:...``) on this screen."""
        self.hide_reads = not self.hide_reads
        self.query_one(DataTable).clear()
        self._add_rows(self.rows)
        self.notify("read records hidden" if self.hide_reads else "read records shown")

    def _append(self, page: AuditPage) -> None:
        self._add_rows(page.records)
        self.rows.extend(page.records)
        self.next_cursor = page.next

    def _add_rows(self, records: Iterable[AuditRow]) -> None:
        table = self.query_one(DataTable)
        for rec in records:
            if self.hide_reads and rec.action.startswith(READS_PREFIX):
                continue
            table.add_row(
                rec.seq,
                short_time(rec.time),
                rec.actor,
                rec.action,
                styled(rec.outcome),
                rec.status,
                rec.target,
            )
