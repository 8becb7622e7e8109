"""Versions: the KEK versions with status, coverage, and create / status / rotate."""

from __future__ import annotations

import asyncio
import threading

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from neurallog.client.lockout import lockout_refusal

from ..backend import (
    DestroyOutcome,
    RewrapStep,
    RewrapSummary,
    RotationPolicy,
    UserRow,
    VersionRow,
)
from ..dialogs.chain_status import ChainStatusDialog
from ..dialogs.confirm import ConfirmDialog
from ..dialogs.notice import NoticeDialog
from ..dialogs.progress import ProgressDialog
from ..dialogs.prompt import ChoiceDialog, PromptDialog
from ..dialogs.rotate import RotateDialog, RotatePlan
from ..dialogs.rotation_policy import RotationPolicyDialog
from ..dialogs.typed_confirm import TypedConfirmDialog
from ..format import TRANSITIONS, coverage, days, short_id, short_time, styled
from ..safe_call import FAILED, Failed, attempt
from ..widgets.pane import Pane, refill


def rotation_consequences(plan: RotatePlan, active: VersionRow | None, readers: list[str]) -> str:
    """The confirm text: what rotation will do, in plain words (``readers``: the active
    admins and members, the only users that get blobs)."""
    keep = len(set(readers) - set(plan.remove_users))
    lines = [
        "A new KEK version becomes active for all new logs.",
        f"{short_id(active.id) if active else 'No version'} becomes decrypt-only"
        " (old logs stay readable)."
        if active
        else "There is no active version yet.",
        f"New blobs are sealed and uploaded for {keep} user(s).",
    ]
    if plan.remove_users:
        lines.append(
            f"REMOVED: {', '.join(plan.remove_users)}: every blob of theirs is deleted,"
            " their API keys are revoked and they are marked removed. This cannot be undone."
        )
    lines.append(f"Reason: {plan.reason}")
    return "\n".join(lines)


def policy_line(policy: RotationPolicy | None) -> str:
    """The pane's policy line: the signed policy and when the next rotation is due."""
    if policy is None:
        return "Rotation policy: loading..."
    if not policy.days:
        return "Rotation policy: none (p sets one)"
    every = f"Rotation policy: every {days(policy.days)}"
    when = short_time(policy.due_at)[:16]
    if policy.due:
        return f"{every}; DUE since {when or 'now'} (r rotates)"
    age = "" if policy.age_days is None else f" (active {days(policy.age_days)} old)"
    return f"{every}; due {when}{age}"


DESTROYABLE = ("decrypt-only", "deprecated")
"""Statuses a version can be destroyed from (never the active one; destroyed is final)."""


def destroy_consequences(row: VersionRow) -> str:
    """The typed confirmation's text: what a destroy does, and that it is for good."""
    return "\n".join(
        [
            f"Version {row.id} ({row.status}, by {row.created_by}: {row.reason or 'no reason'}).",
            f"Its {row.blob_count} blob(s) are deleted from every user and its status becomes"
            " destroyed, signed in the tenant chain. This cannot be undone.",
            "The server refuses while entries of it remain in any log.",
        ]
    )


def destroy_refusal(row: VersionRow, outcome: DestroyOutcome) -> str:
    """The refusal dialog's text: why, how much is left, and what to do next."""
    if outcome.entries or outcome.streams:  # the counts say it better than the detail
        entries = f"{outcome.entries} entr{'y' if outcome.entries == 1 else 'ies'}"
        logs = f"{outcome.streams} log(s)" if outcome.streams else "some logs"
        lines = [
            f"The server refused: {entries} in {logs} are still encrypted under"
            f" {short_id(row.id)}. Destroying the version would make them unreadable for"
            " good, so it waits until none remain."
        ]
    else:
        lines = [f"The server refused: {outcome.refusal}."]
    lines += [
        "",
        "To destroy it: delete those logs, or let their retention remove them (l on the"
        " Logs tab lists the logs and the versions they use), or rewrap them to the active"
        " version; then press d again.",
        "Nothing was changed.",
    ]
    return "\n".join(lines)


def rewrap_plan(count: RewrapSummary, active: VersionRow | None) -> str:
    """The dry run in words: what the rewrap would re-encrypt, and under which version."""
    target = short_id(active.id) if active else "the active version"
    versions = ", ".join(short_id(v) for v in count.versions) or "none"
    return "\n".join(
        [
            f"{count.entries} entries in {count.logs} log(s) are encrypted under retired"
            f" versions ({versions}).",
            f"The rewrap decrypts each one here and encrypts it again under {target}; the"
            " server only sees ciphertext replaced. Logs stay readable throughout.",
            "Then those versions hold no entry and can be destroyed (you are asked).",
        ]
    )


class VersionsPane(Pane):
    BINDINGS = [
        Binding("n", "create", "New version", id="versions.create"),
        Binding("s", "status", "Status", id="versions.status"),
        Binding("r", "rotate", "Rotate", id="versions.rotate"),
        Binding("p", "policy", "Policy", id="versions.policy"),
        Binding("c", "chain", "Chain", id="versions.chain"),
        Binding("d", "destroy", "Destroy", id="versions.destroy"),
        Binding("w", "rewrap", "Rewrap", id="versions.rewrap"),
        Binding("f5", "reload", "Refresh", id="versions.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="versions-pane")
        self.rows: list[VersionRow] = []
        self.users: list[UserRow] = []
        self.policy: RotationPolicy | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading versions...", id="versions-summary", classes="summary")
        yield Static(policy_line(None), id="versions-policy", classes="summary")
        yield DataTable(id="versions-table", cursor_type="row")
        yield Static("", id="versions-detail", classes="detail")

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load_worker()

    @work(exclusive=True, group="versions-load")
    async def _load_worker(self) -> None:
        both = attempt(self, "Loading versions", self._load())
        result = await both
        if isinstance(result, Failed):
            return
        self.rows, self.users, self.policy = result
        self._show()
        show_due = getattr(self.screen, "show_rotation_due", None)
        if show_due is not None:
            show_due(self.policy)

    async def _load(self) -> tuple[list[VersionRow], list[UserRow], RotationPolicy]:
        backend = self.backend
        versions, users = await asyncio.gather(backend.versions(), backend.users())
        return versions, users, await backend.rotation_policy()

    def redraw(self) -> None:
        self._show()

    def _show(self) -> None:
        """Newest first; below 100 columns "by" moves to the detail line, dates lose times."""
        narrow = self.narrow
        columns = ["id", "status", "created", *(() if narrow else ("by",)), "users", "reason"]

        def cells(row: VersionRow) -> list[str | Text]:
            created = short_time(row.created_at)
            return [
                short_id(row.id),
                styled(row.status),
                created[:10] if narrow else created,
                *(() if narrow else (row.created_by,)),
                coverage(row.id, self.users),
                row.reason,
            ]

        refill(self.query_one(DataTable), columns, ((r.id, cells(r)) for r in reversed(self.rows)))
        active = self.active
        summary = f"{len(self.rows)} version(s); active: {active.id if active else 'none'}"
        self.query_one("#versions-summary", Static).update(summary)
        self.query_one("#versions-policy", Static).update(policy_line(self.policy))

    @property
    def active(self) -> VersionRow | None:
        return next((r for r in self.rows if r.status == "active"), None)

    @property
    def selected(self) -> VersionRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.id == key), None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = self.selected
        if row is not None:
            text = f"{row.id} {row.status} by {row.created_by}, {row.blob_count} blob(s)"
            self.query_one("#versions-detail", Static).update(text)

    @work(exclusive=True, group="versions-act")
    async def action_create(self) -> None:
        reason = await self.app.push_screen_wait(
            PromptDialog("New KEK version: reason", "why (e.g. scheduled rotation)")
        )
        if not reason:
            return
        created = await attempt(self, "Creating a version", self.backend.create_version(reason))
        if not isinstance(created, Failed):
            self.notify(f"version {short_id(created.id)} is active", title="Created")
            self.changed("versions")

    @work(exclusive=True, group="versions-act")
    async def action_policy(self) -> None:
        current = self.policy.days if self.policy is not None else 0
        chosen = await self.app.push_screen_wait(RotationPolicyDialog(current))
        if chosen is None:
            return
        call = self.backend.set_rotation_policy(chosen)
        done = await attempt(self, "Setting the policy", call)
        if not isinstance(done, Failed):
            said = f"rotate every {days(done)}" if done else "no rotation policy"
            self.notify(f"signed: {said}", title="Rotation policy")
            self.changed("versions")

    @work(exclusive=True, group="versions-act")
    async def action_chain(self) -> None:
        status = await attempt(self, "Verifying the tenant chain", self.backend.chain_status())
        if not isinstance(status, Failed):
            await self.app.push_screen_wait(ChainStatusDialog(status))

    @work(exclusive=True, group="versions-act")
    async def action_status(self) -> None:
        row = self.selected
        if row is None:
            return
        allowed = TRANSITIONS.get(row.status, ())
        if not allowed:
            self.notify(
                "The active version changes only by creating or rotating a new one.",
                title=f"{short_id(row.id)} is {row.status}",
                severity="warning",
            )
            return
        choice = await self.app.push_screen_wait(
            ChoiceDialog(
                f"Status of {short_id(row.id)} ({row.status})",
                [(s, f"-> {s}") for s in allowed],
                "deprecated: still decrypts (with a warning), takes no new blobs",
            )
        )
        if choice is None:
            return
        done = await attempt(self, "Changing status", self.backend.set_status(row.id, choice))
        if not isinstance(done, Failed):
            self.notify(f"{short_id(row.id)} is now {done.status}", title="Status changed")
            self.changed("versions")

    @work(exclusive=True, group="versions-act")
    async def action_destroy(self) -> None:
        row = self.selected
        if row is None:
            return
        if row.status not in DESTROYABLE:
            why = (
                "it is already destroyed"
                if row.status == "destroyed"
                else "only a decrypt-only or deprecated version can be (rotate first)"
            )
            self.notify(why, title=f"{short_id(row.id)} is {row.status}", severity="warning")
            return
        dialog = TypedConfirmDialog(
            f"Destroy version {short_id(row.id)}?",
            destroy_consequences(row),
            short_id(row.id),
            "Destroy",
            what="version id",
        )
        if not await self.app.push_screen_wait(dialog):
            return
        detail = self.query_one("#versions-detail", Static)
        outcome = await attempt(self, "Destroying a version", self.backend.destroy_version(row.id))
        if isinstance(outcome, Failed):
            return
        if outcome.version is None:  # the refusal stays: on the detail line and in a dialog
            left = f"entries remain: {outcome.entries}" if outcome.entries else outcome.refusal
            detail.update(f"{short_id(row.id)} NOT destroyed: {left}")
            title = f"Version {short_id(row.id)} was not destroyed"
            await self.app.push_screen_wait(NoticeDialog(title, destroy_refusal(row, outcome)))
            return
        self.notify(f"{short_id(row.id)} is now {outcome.version.status}", title="Destroyed")
        self.changed("versions")

    @work(exclusive=True, group="versions-act")
    async def action_rewrap(self) -> None:
        """Dry run (a count), then the rewrap with a progress bar, then the emptied
        versions offered for destruction, each confirmed by its typed id."""
        counting = ProgressDialog("Rewrap: counting", "nothing is changed yet")
        await self.app.push_screen(counting)
        call = self.backend.rewrap(None, dry_run=True, progress=None)
        count = await attempt(self, "Counting entries to rewrap", call)
        counting.dismiss(None)
        if isinstance(count, Failed):
            return
        if not count.entries:
            await self.app.push_screen_wait(
                NoticeDialog(
                    "Nothing to rewrap",
                    "No entry is encrypted under a retired version.",
                    error=False,
                )
            )
            return
        body = rewrap_plan(count, self.active)
        if not await self.app.push_screen_wait(ConfirmDialog("Rewrap?", body, "Rewrap")):
            return
        dialog = ProgressDialog("Rewrapping", "re-encrypting entries...", "entries rewrapped")
        await self.app.push_screen(dialog)
        app_thread = threading.get_ident()

        def progress(step: RewrapStep) -> None:
            if threading.get_ident() == app_thread:
                dialog.advance(step.done, step.total)
            else:
                self.app.call_from_thread(dialog.advance, step.done, step.total)

        done = await attempt(
            self, "Rewrap", self.backend.rewrap(count.versions, dry_run=False, progress=progress)
        )
        dialog.dismiss(None)
        self.changed("versions")
        if isinstance(done, Failed):
            return
        self.notify(f"{done.entries} entries in {done.logs} log(s)", title="Rewrapped")
        await self._offer_destroy(done.versions)

    async def _offer_destroy(self, emptied: tuple[str, ...]) -> None:
        rows = {r.id: r for r in await self.backend.versions()}
        for version_id in emptied:
            row = rows.get(version_id)
            if row is None or row.status not in DESTROYABLE:
                continue
            dialog = TypedConfirmDialog(
                f"Destroy the emptied version {short_id(row.id)}?",
                destroy_consequences(row) + "\nEsc keeps it (it stays decrypt-only).",
                short_id(row.id),
                "Destroy",
                what="version id",
            )
            if not await self.app.push_screen_wait(dialog):
                continue
            outcome = await attempt(
                self, "Destroying a version", self.backend.destroy_version(row.id)
            )
            if isinstance(outcome, Failed):
                continue
            if outcome.version is None:
                title = f"Version {short_id(row.id)} was not destroyed"
                await self.app.push_screen_wait(NoticeDialog(title, destroy_refusal(row, outcome)))
                continue
            self.notify(f"{short_id(row.id)} is now {outcome.version.status}", title="Destroyed")
        self.changed("versions")

    @work(exclusive=True, group="versions-act")
    async def action_rotate(self) -> None:
        active_users = [u.user_id for u in self.users if u.state == "active"]
        removable = [u for u in active_users if u != self.backend.user_id]  # never yourself
        plan = await self.app.push_screen_wait(RotateDialog(removable))
        if plan is None:
            return
        refusal = lockout_refusal(
            self.backend.user_id,
            plan.remove_users,
            [(u.user_id, u.role, u.state) for u in self.users],
            verb="remove",
        )
        if refusal is not None:  # the server refuses it too (409 admin-lockout)
            self.notify(refusal[1], title="Cannot rotate", severity="warning", timeout=10)
            return
        readers = [u.user_id for u in self.users if u.state == "active" and u.role != "auditor"]
        body = rotation_consequences(plan, self.active, readers)
        if not await self._confirm_rotation(plan, body):
            return
        dialog = ProgressDialog("Rotating", "sealing blobs for every remaining user...")
        await self.app.push_screen(dialog)
        app_thread = threading.get_ident()

        def progress(done: int, total: int) -> None:
            if threading.get_ident() == app_thread:
                dialog.advance(done, total)
            else:
                self.app.call_from_thread(dialog.advance, done, total)

        call = self.backend.rotate(plan.reason, plan.remove_users, progress)
        result = await attempt(self, "Rotation", call)
        dialog.dismiss(None)
        if result is FAILED or isinstance(result, Failed):
            return
        removed = ", ".join(result.removed_users) or "nobody"
        self.notify(
            f"version {short_id(result.version.id)} is active; removed: {removed}",
            title="Rotated",
        )
        self.changed("versions")

    async def _confirm_rotation(self, plan: RotatePlan, body: str) -> bool:
        """y/n, unless admins are removed: then each one's id is typed, one dialog each."""
        roles = {u.user_id: u.role for u in self.users}
        admins = [u for u in plan.remove_users if roles.get(u) == "admin"]
        if not admins:
            confirm = ConfirmDialog("Rotate the KEK?", body, "Rotate")
            answer: bool = await self.app.push_screen_wait(confirm)
            return answer
        for admin in admins:
            dialog = TypedConfirmDialog(f"Rotate and remove admin {admin}?", body, admin, "Rotate")
            if not await self.app.push_screen_wait(dialog):
                return False
        return True
