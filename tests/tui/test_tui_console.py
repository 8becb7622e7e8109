"""Console-wide behaviour against a live server: rotate's [x]/[ ] marks, the command
palette, contextual help, tables that fit 80x24, your own row, the cursor kept across
refreshes, the header's state line, and a 401 locking the console."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.command import CommandPalette
from textual.widgets import DataTable
from tui_pilot import admin_app, cursor_to, notifications, rows, shows, table, unlock, wait_until
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.help import HelpDialog
from neurallog_tui.dialogs.rotate import RotateDialog
from neurallog_tui.screens.connect import ConnectScreen
from neurallog_tui.screens.main import MainScreen


async def test_rotate_marks_selected_users_with_distinct_glyphs(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    await admin.enroll_user("ingest")
    await admin.enroll_user("web")
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RotateDialog), "rotate form")
        await pilot.press(*"q4", "enter", "space")
        text = await shows(pilot, "[x] ingest")
        assert "[ ] web" in text


async def test_command_palette_and_contextual_help(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpDialog), "the help")
        text = await shows(pilot, "DECRYPT-ONLY")
        assert "DEPRECATED" in text and "NEW VERSION (n)" in text and "ROTATE (r)" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "back")

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"enrol")
        await shows(pilot, "Users: Enrol a user (e)")
        await shows(pilot, "its API key is shown once")
        await pilot.press("enter")
        from neurallog_tui.dialogs.enroll import EnrollDialog

        await wait_until(pilot, lambda: isinstance(app.screen, EnrollDialog), "enrol form")


def fits(grid: DataTable[Any]) -> bool:
    """Every column is drawn in full inside the table's width."""
    widths = sum(c.get_render_width(grid) for c in grid.columns.values())
    assert widths <= grid.scrollable_content_region.width, [
        (str(c.label), c.get_render_width(grid)) for c in grid.columns.values()
    ]
    return True


async def test_tables_fit_80x24_own_row_cursor_kept_and_header_state(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    await admin.enroll_user("ingest-service-eu")
    await admin.create_kek_version("quarterly rotation after the audit")
    app = admin_app(tenant.url, wall_clock=lambda: datetime(2026, 11, 30, 12, 34, 56))
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 2)
        await shows(pilot, "connected, refreshed 12:34:56")
        assert fits(table(pilot, "versions-table"))
        await pilot.press("2")
        await rows(pilot, "users-table", 2)
        assert fits(table(pilot, "users-table"))
        text = await shows(pilot, "admin (you)")
        assert "ingest-service-eu (you)" not in text
        await pilot.press("3")
        await wait_until(pilot, lambda: table(pilot, "audit-table").row_count > 0, "audit")
        assert fits(table(pilot, "audit-table"))

        # the cursor stays on its row after a refresh (it used to jump to row 0)
        await pilot.press("2")
        await cursor_to(pilot, "users-table", "ingest-service-eu")
        row = table(pilot, "users-table").cursor_row
        assert row > 0
        await pilot.press("f5")
        await pilot.pause(0.5)
        await wait_until(pilot, lambda: not [w for w in app.workers if w.is_running], "load")
        assert table(pilot, "users-table").cursor_row == row


async def test_401_locks_the_console(tenant: Tenant, admin: AsyncNeuralLogClient) -> None:
    ops_key = await admin.enroll_user("ops", role="admin")
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, ops_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)
        await admin.disable_user("ops")
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), "the lock")
        assert app.backend is None
        await shows(pilot, "Locked: the server rejected the session")
        await pilot.pause(0.3)
        assert not [n for n in notifications(app) if n[0] == "error"]
