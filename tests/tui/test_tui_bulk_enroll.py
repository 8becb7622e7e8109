"""Bulk enrolment from a CSV file against a live server: every line checked before
anything is sent (the CLI's parser), a progress bar, the users not enrolled listed, each
new API key shown once behind "I have stored them", and saved to a new 0600 file."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

from textual.widgets import Input, Static
from tui_pilot import admin_app, notifications, rows, shows, unlock, wait_until
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.bulk_enroll import BulkKeysDialog, ImportDialog
from neurallog_tui.dialogs.progress import ProgressDialog
from neurallog_tui.screens.main import MainScreen


async def user_ids(admin: AsyncNeuralLogClient) -> set[str]:
    return {u.user_id for u in await admin.list_users()}


async def test_bulk_enrolment_from_csv(
    tenant: Tenant, admin: AsyncNeuralLogClient, tmp_path: Path
) -> None:
    await admin.enroll_user("bob")
    bad = tmp_path / "bad.csv"
    bad.write_text("ingest-eu,member\nbad id,member\ncarl,owner\n")
    good = tmp_path / "users.csv"
    good.write_text("user_id,role,label\ningest-eu,member,EU ingest\nbob,member\ndana,auditor\n")
    before = await user_ids(admin)
    advances: list[tuple[int, int]] = []
    original = ProgressDialog.advance

    def record(self: ProgressDialog, done: int, total: int) -> None:
        advances.append((done, total))
        original(self, done, total)

    ProgressDialog.advance = record  # type: ignore[method-assign]
    try:
        app = admin_app(tenant.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlock(pilot, tenant.api_key, tenant.mnemonic)
            await pilot.press("2")
            await rows(pilot, "users-table", 2)
            await pilot.press("i")
            await wait_until(pilot, lambda: isinstance(app.screen, ImportDialog), "the form")

            # a file with bad lines: each named, nothing sent, the form stays
            await pilot.press(*str(bad), "enter")
            text = await shows(pilot, "Nothing sent: 2 bad line(s)")
            assert "line 2: 'bad id'" in text and "line 3: 'carl'" in text
            await pilot.press("enter")  # Enter again does not send a refused file
            assert isinstance(app.screen, ImportDialog)
            assert await user_ids(admin) == before

            field = app.screen.query_one("#import-path", Input)
            field.value = str(good)
            await pilot.press("enter")
            await shows(pilot, "3 user(s): 1 auditor, 2 member. Enter enrols them.")
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, BulkKeysDialog), "the keys")
            dialog = app.screen
            assert isinstance(dialog, BulkKeysDialog)
            text = await shows(pilot, "2 of 3 users enrolled")
            assert "bob: exists" in text and "shown ONCE" in text
            assert advances and advances[-1] == (3, 3)
            assert await user_ids(admin) == before | {"ingest-eu", "dana"}

            keys = {k.user_id: k.api_key for k in dialog._result.keys}
            assert set(keys) == {"ingest-eu", "dana"}
            assert keys["ingest-eu"][:40] in text  # the highlighted user's key, in full

            # Escape does not throw the keys away
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert app.screen is dialog and dialog.holds_one_time_secret
            assert any("cannot be shown again" in n[2] for n in notifications(app))

            # saved to a new file, owner-only; never over an existing one
            out = tmp_path / "keys.csv"
            await pilot.press("s")
            await pilot.press(*str(out), "enter")
            await wait_until(
                pilot,
                lambda: "Saved 2 key(s)" in str(dialog.query_one("#bulk-save-status").render()),
                "saved",
            )
            assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
            with out.open(newline="") as f:
                saved = list(csv.DictReader(f))
            assert {(r["user_id"], r["role"], r["api_key"], r["status"]) for r in saved} == {
                ("ingest-eu", "member", keys["ingest-eu"], "enrolled"),
                ("dana", "auditor", keys["dana"], "enrolled"),
            }
            dialog.query_one("#bulk-save-path", Input).focus()
            await pilot.press("enter")
            status = dialog.query_one("#bulk-save-status", Static)
            await wait_until(
                pilot,
                lambda: "exists: the keys are never written over a file" in str(status.render()),
                "the refusal",
            )
            assert len(out.read_text().splitlines()) == 3

            await pilot.click("#bulk-done")
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
            await rows(pilot, "users-table", 4)
            assert "ingest-eu" in screen_text(app)
    finally:
        ProgressDialog.advance = original  # type: ignore[method-assign]

    # a key shown is a working key
    async with AsyncNeuralLogClient(tenant.url) as user:
        await user.authenticate_with_api_key(keys["ingest-eu"])
        assert user.user_id == "ingest-eu"
