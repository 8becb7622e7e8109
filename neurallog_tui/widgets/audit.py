"""Audit: the tenant's hash-chained log, filterable, newest first, with its verdict.

``GET /api/audit`` filters by exact action and actor only, so the console fetches pages
unfiltered and filters them itself: by prefix, reads hidden unless asked for. It keeps
fetching older pages until a screenful matches or :data:`SCAN_PAGES` pages were read.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from ..backend import AuditRow, AuditVerdict
from ..format import short_time, styled
from ..safe_call import Failed, attempt
from ..widgets.pane import Pane, refill

PAGE = 50
"""Matching records added to the table per screenful (``m`` adds another)."""
FETCH = 200
"""Records asked of the server per request."""
SCAN_PAGES = 10
"""Server pages read for one screenful before saying "no matches so far"."""
READS_PREFIX = "reads:"  # the server's batched records of audited reads


BREAKS = {
    "hash_mismatch": "a record was edited",
    "prev_mismatch": "a record was removed, inserted or moved",
    "checkpoint_mismatch": "the log differs from the trusted checkpoint",
    "checkpoint_beyond_end": "the log is shorter than the trusted checkpoint",
}
"""What each reason of the client's verdict means, in the console's words."""


def checkpoint_text(verdict: AuditVerdict) -> str:
    if verdict.checkpoint is None:
        return "no trusted checkpoint (a rewrite of the whole chain would pass)"
    count, head = verdict.checkpoint
    return f"checkpoint: {count} record(s), head {head[:16]}"


def verdict_text(verdict: AuditVerdict) -> str:
    """The verdict of this console's own recomputation, with the checkpoint it used."""
    checked = f"verified by this client ({verdict.records} checked); {checkpoint_text(verdict)}."
    if verdict.intact:
        return f"Chain intact: {checked}"
    why = BREAKS.get(verdict.reason, verdict.reason)
    if verdict.first_broken is None:
        return f"CHAIN BROKEN: {why}. Chain {checked}"
    return f"CHAIN BROKEN at record {verdict.first_broken}: {why}. b jumps to it. Chain {checked}"


def detail_text(rec: AuditRow) -> str:
    """Every field of one record, for the pane under the table."""
    return (
        f"record {rec.seq}  {short_time(rec.time)}  {rec.actor} ({rec.role or '-'})"
        f"  {rec.outcome} {rec.status}\n"
        f"{rec.action}  {rec.target}\n"
        f"hash {rec.hash[:16]}  prev {rec.prev_hash[:16]}"
    )


class AuditPane(Pane):
    BINDINGS = [
        Binding("f5", "reload", "Refresh", id="audit.refresh"),
        Binding("m", "more", "More", id="audit.more"),
        Binding("slash", "filter", "Filter", id="audit.filter", key_display="/"),
        Binding("h", "toggle_reads", "Reads", id="audit.reads"),
        Binding("b", "broken", "To broken", id="audit.broken"),
    ]

    def __init__(self) -> None:
        super().__init__(id="audit-pane")
        self.fetched: list[AuditRow] = []
        self.server_cursor: str | None = None
        self.exhausted = False
        self.wanted = PAGE
        self.hide_reads = True
        self.verdict: AuditVerdict | None = None

    @property
    def rows(self) -> list[AuditRow]:
        """The records shown: fetched ones that pass the filters."""
        match = self._matcher()
        return [r for r in self.fetched if match(r)][: self.wanted]

    def compose(self) -> ComposeResult:
        yield Static("Verifying the chain...", id="audit-verdict", classes="summary")
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="action prefix", id="filter-action")
            yield Input(placeholder="actor prefix", id="filter-actor")
            yield Select(
                [("allowed", "allowed"), ("denied", "denied")],
                prompt="any outcome",
                id="filter-outcome",
            )
        yield Static("", id="audit-summary", classes="summary")
        yield DataTable(id="audit-table", cursor_type="row")
        yield Static("", id="audit-detail", classes="detail3")

    def action_reload(self) -> None:
        self.reload()

    def action_filter(self) -> None:
        self.query_one("#filter-action", Input).focus()

    def action_more(self) -> None:
        if self.exhausted and len(self.rows) >= self._match_count():
            self.notify("no older records")
            return
        self.wanted += PAGE
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._refilter()
        self.query_one(DataTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._refilter()

    def _refilter(self) -> None:
        self.wanted = PAGE
        self.redraw()
        self._fill()

    def _filters(self) -> tuple[str, str, str]:
        outcome = self.query_one("#filter-outcome", Select).value
        return (
            self.query_one("#filter-action", Input).value.strip(),
            self.query_one("#filter-actor", Input).value.strip(),
            outcome if isinstance(outcome, str) else "",
        )

    def _matcher(self) -> Callable[[AuditRow], bool]:
        """The current filters as one predicate (prefixes; reads hidden unless shown)."""
        action, actor, outcome = self._filters()
        hide_reads = self.hide_reads

        def match(rec: AuditRow) -> bool:
            if hide_reads and rec.action.startswith(READS_PREFIX):
                return False
            return (
                rec.action.startswith(action)
                and rec.actor.startswith(actor)
                and (not outcome or rec.outcome == outcome)
            )

        return match

    def _matches(self, rec: AuditRow) -> bool:
        return self._matcher()(rec)

    def _match_count(self) -> int:
        match = self._matcher()
        return sum(1 for r in self.fetched if match(r))

    def reload(self) -> None:
        self.fetched, self.server_cursor, self.exhausted = [], None, False
        self.wanted = PAGE
        self._verify()
        self._fill()

    @work(exclusive=True, group="audit-verify")
    async def _verify(self) -> None:
        label = self.query_one("#audit-verdict", Static)
        label.set_class(False, "error")

        def fetched(count: int) -> None:  # a long log: say how far the walk is
            label.update(f"Verifying the chain here... {count} record(s) fetched.")

        call = self.backend.verify_audit(fetched)
        verdict = await attempt(self, "Verifying the audit chain", call)
        if isinstance(verdict, Failed):
            label.update("Chain not verified: the request failed (f5 retries).")
            return
        self.verdict = verdict
        label.set_class(not verdict.intact, "error")
        label.update(verdict_text(verdict))
        self.redraw()

    async def _fetch_page(self) -> bool:
        """One more server page; False when it failed (already reported)."""
        call = self.backend.audit(
            action="", actor="", outcome="", limit=FETCH, cursor=self.server_cursor
        )
        page = await attempt(self, "Loading the audit log", call)
        if isinstance(page, Failed):
            return False
        self.fetched.extend(page.records)
        self.server_cursor = page.next
        self.exhausted = page.next is None or not page.records
        return True

    @work(exclusive=True, group="audit-fetch")
    async def _fill(self) -> None:
        """Fetch older pages until ``wanted`` records match or the scan budget is spent."""
        for _ in range(SCAN_PAGES):
            if self.exhausted or self._match_count() >= self.wanted:
                break
            if not await self._fetch_page():
                break
            self.redraw()
        self.redraw()

    def action_toggle_reads(self) -> None:
        """Hide or show the server's batched read records (``reads:...``)."""
        self.hide_reads = not self.hide_reads
        self._refilter()
        self.notify("read records hidden" if self.hide_reads else "read records shown")

    @work(exclusive=True, group="audit-fetch")
    async def action_broken(self) -> None:
        """Jump to the first record the verification rejects (fetching back to it)."""
        seq = self.verdict.first_broken if self.verdict and not self.verdict.intact else None
        if not seq:
            self.notify("the chain is intact: no broken record", severity="information")
            return
        while not any(r.seq == seq for r in self.fetched) and not self.exhausted:
            if not await self._fetch_page():
                return
        record = next((r for r in self.fetched if r.seq == seq), None)
        if record is None:
            self.notify(f"record {seq} is not in the log any more", severity="warning")
            return
        if not self._matches(record):  # clear what hides it
            for box in ("#filter-action", "#filter-actor"):
                self.query_one(box, Input).value = ""
            self.query_one("#filter-outcome", Select).clear()
            self.hide_reads = self.hide_reads and not record.action.startswith(READS_PREFIX)
        self.wanted = max(self.wanted, [r.seq for r in self.fetched].index(seq) + 1)
        self.redraw()
        table = self.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(seq))
        table.focus()

    def redraw(self) -> None:
        if not self.is_attached or not self.query(DataTable):  # closing: nothing to draw
            return
        narrow = self.narrow
        broken = self.verdict.first_broken if self.verdict and not self.verdict.intact else None
        # narrow: status and target move to the detail pane under the table
        wide = ("status", "target")
        columns = ["time", "actor", "action", "outcome", *(() if narrow else wide)]

        def cells(rec: AuditRow) -> list[str | Text]:
            when = short_time(rec.time)
            time = Text(when[5:] if narrow else when)
            if rec.seq == broken:
                time = Text("BROKEN ", style="bold red") + time
            return [
                time,
                rec.actor,
                rec.action,
                styled(rec.outcome),
                *(() if narrow else (rec.status, rec.target)),
            ]

        shown = self.rows
        refill(self.query_one(DataTable), columns, ((r.seq, cells(r)) for r in shown))
        self._summary(len(shown))
        self._detail()

    def _summary(self, shown: int) -> None:
        reads = "reads hidden (h shows)" if self.hide_reads else "reads shown (h hides)"
        scanned = len(self.fetched)
        if shown:
            more = "" if self.exhausted and shown >= self._match_count() else "; m: more"
            text = f"{shown} shown of {scanned} fetched; {reads}{more}"
        elif self.exhausted:
            text = f"No matches among all {scanned} records (filters match by prefix); {reads}"
        else:
            text = f"No matches in the {scanned} newest records so far; m searches older; {reads}"
        self.query_one("#audit-summary", Static).update(text)

    def _detail(self) -> None:
        table = self.query_one(DataTable)
        detail = self.query_one("#audit-detail", Static)
        if not table.row_count:
            detail.update("")
            return
        seq = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        record = next((r for r in self.fetched if r.seq == seq), None)
        detail.update(detail_text(record) if record else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()
