"""Users: role, state and versions held; enrol, disable, provision and revoke."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from neurallog.client.lockout import lockout_refusal

from ..backend import UserRow, VersionRow
from ..dialogs.bulk_enroll import BulkKeysDialog, ImportDialog
from ..dialogs.confirm import ConfirmDialog
from ..dialogs.enroll import EnrollDialog, SecretShownDialog
from ..dialogs.progress import ProgressDialog
from ..dialogs.prompt import ChoiceDialog
from ..dialogs.typed_confirm import TypedConfirmDialog
from ..format import short_id, short_time, styled
from ..safe_call import Failed, attempt
from ..widgets.pane import Pane, refill


def held_text(held: list[str], shown: int = 3) -> str:
    """``2: a9c8b7d6 5d2e8c71``, newest first, at most ``shown`` ids (narrow screens)."""
    if not held:
        return "none"
    more = " ..." if len(held) > shown else ""
    return f"{len(held)}: " + " ".join(short_id(v) for v in held[:shown]) + more


class UsersPane(Pane):
    BINDINGS = [
        Binding("e", "enroll", "Enrol", id="users.enroll"),
        Binding("i", "import_users", "Import CSV", id="users.import"),
        Binding("d", "disable", "Disable", id="users.disable"),
        Binding("p", "provision", "Provision", id="users.provision"),
        Binding("v", "revoke", "Revoke", id="users.revoke"),
        Binding("f5", "reload", "Refresh", id="users.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="users-pane")
        self.rows: list[UserRow] = []
        self.versions: list[VersionRow] = []

    def compose(self) -> ComposeResult:
        yield Static("Loading users...", id="users-summary", classes="summary")
        yield DataTable(id="users-table", cursor_type="row")

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load_worker()

    @work(exclusive=True, group="users-load")
    async def _load_worker(self) -> None:
        result = await attempt(self, "Loading users", self._load())
        if isinstance(result, Failed):
            return
        self.rows, self.versions = result
        self._show()

    async def _load(self) -> tuple[list[UserRow], list[VersionRow]]:
        users, versions = await asyncio.gather(self.backend.users(), self.backend.versions())
        return users, versions

    def redraw(self) -> None:
        self._show()

    def _show(self) -> None:
        """Your own row is marked; below 100 columns the creation time is dropped."""
        narrow = self.narrow
        order = {v.id: i for i, v in enumerate(self.versions)}
        me = self.backend.user_id
        columns = ["user", "role", "state", "versions held", *(() if narrow else ("created",))]

        def cells(user: UserRow) -> list[str | Text]:
            held = sorted(user.versions, key=lambda v: order.get(v, -1), reverse=True)
            name = Text(user.user_id)
            if user.user_id == me:
                name.append(" (you)", style="bold")
            return [
                name,
                user.role,
                styled(user.state),
                held_text(held, 2 if narrow else 3),
                *(() if narrow else (short_time(user.created_at),)),
            ]

        refill(self.query_one(DataTable), columns, ((u.user_id, cells(u)) for u in self.rows))
        active = sum(1 for u in self.rows if u.state == "active")
        self.query_one("#users-summary", Static).update(
            f"{len(self.rows)} user(s), {active} active"
        )

    @property
    def selected(self) -> UserRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((u for u in self.rows if u.user_id == key), None)

    @work(exclusive=True, group="users-act")
    async def action_import_users(self) -> None:
        """Enrol the users of a CSV file: a progress bar, then every key shown once."""
        entries = await self.app.push_screen_wait(ImportDialog())
        if not entries:
            return
        dialog = ProgressDialog("Enrolling users", "one key pair each...", "users done")
        await self.app.push_screen(dialog)
        result = await attempt(
            self, "Bulk enrolment", self.backend.enroll_users(entries, dialog.advance)
        )
        dialog.dismiss(None)
        if isinstance(result, Failed):
            return
        self.changed("users")
        await self.app.push_screen_wait(BulkKeysDialog(result, len(entries)))

    @work(exclusive=True, group="users-act")
    async def action_enroll(self) -> None:
        answer = await self.app.push_screen_wait(EnrollDialog())
        if answer is None:
            return
        user_id, role = answer
        enrolled = await attempt(self, "Enrolment", self.backend.enroll(user_id, role))
        if isinstance(enrolled, Failed):
            return
        self.changed("users")
        await self.app.push_screen_wait(
            SecretShownDialog(
                f"{user_id} enrolled as {role}",
                enrolled.api_key,
                enrolled.fingerprint,
                enrolled.note
                or "The holder checks that this fingerprint matches the one their client pins.",
            )
        )

    @work(exclusive=True, group="users-act")
    async def action_disable(self) -> None:
        user = self.selected
        if user is None or user.state != "active":
            self.notify("select an active user", severity="warning")
            return
        # The server refuses these (409 admin-lockout); say why instead of asking.
        refusal = lockout_refusal(
            self.backend.user_id,
            [user.user_id],
            [(u.user_id, u.role, u.state) for u in self.rows],
            verb="disable",
        )
        if refusal is not None:
            self.notify(refusal[1], title="Cannot disable", severity="warning", timeout=10)
            return
        body = (
            f"{user.user_id}'s API keys stop working at once. Its blobs stay until the next"
            " rotation that removes it. Re-enabling is not offered: enrol a new id instead."
        )
        if user.role == "admin":  # taking an admin away is confirmed by typing its id
            dialog: ConfirmDialog | TypedConfirmDialog = TypedConfirmDialog(
                "Disable an admin?", body, user.user_id, "Disable"
            )
        else:
            dialog = ConfirmDialog("Disable user?", body, "Disable")
        if not await self.app.push_screen_wait(dialog):
            return
        done = await attempt(self, "Disabling", self.backend.disable(user.user_id))
        if not isinstance(done, Failed):
            self.notify(f"{user.user_id} is disabled", title="Disabled")
            self.changed("users")

    @work(exclusive=True, group="users-act")
    async def action_provision(self) -> None:
        user = self.selected
        if user is None or user.state != "active":
            self.notify("select an active user", severity="warning")
            return
        choices = [
            (v.id, f"{short_id(v.id)} {v.status} {v.reason}"[:60])
            for v in reversed(self.versions)
            if v.status != "deprecated" and v.id not in user.versions
        ]
        if not choices:
            self.notify(f"{user.user_id} already holds every version that takes blobs")
            return
        picked = await self.app.push_screen_wait(
            ChoiceDialog(f"Provision a version for {user.user_id}", choices)
        )
        if picked is None:
            return
        done = await attempt(self, "Provisioning", self.backend.provision(user.user_id, picked))
        if not isinstance(done, Failed):
            self.notify(f"{user.user_id} holds {short_id(picked)}", title="Provisioned")
            self.changed("users")

    @work(exclusive=True, group="users-act")
    async def action_revoke(self) -> None:
        user = self.selected
        if user is None or not user.versions:
            self.notify("select a user that holds a version", severity="warning")
            return
        status = {v.id: v.status for v in self.versions}
        choices = [(v, f"{short_id(v)} {status.get(v, '')}") for v in user.versions]
        picked = await self.app.push_screen_wait(
            ChoiceDialog(
                f"Revoke a version from {user.user_id}",
                choices,
                "Deletes the blob; the user can no longer decrypt that version's logs.",
            )
        )
        if picked is None:
            return
        done = await attempt(self, "Revoking", self.backend.revoke(user.user_id, picked))
        if not isinstance(done, Failed):
            self.notify(f"{short_id(picked)} revoked from {user.user_id}", title="Revoked")
            self.changed("users")
