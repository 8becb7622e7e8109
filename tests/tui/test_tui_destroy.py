"""Destroy a retired KEK version from the Versions tab against a live server: the id is
typed to confirm, the server's refusal while entries remain stays on screen with what to
do next, and once the entries are gone the version shows ``destroyed``."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Input, Static
from tui_pilot import admin_app, cursor_to, notifications, rows, shows, unlock, wait_until
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.help import HelpDialog
from neurallog_tui.dialogs.notice import NoticeDialog
from neurallog_tui.dialogs.typed_confirm import TypedConfirmDialog
from neurallog_tui.screens.main import MainScreen


async def statuses(admin: AsyncNeuralLogClient) -> dict[str, str]:
    return {v.id: v.status for v in await admin.get_kek_versions()}


async def test_destroy_refused_while_entries_remain_then_destroyed(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    old = (await admin.get_active_kek_version()).id
    await admin.log("orders", {"n": 1})
    await admin.log("orders", {"n": 2})
    new = (await admin.create_kek_version("quarterly")).id
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 2)

        # the active version cannot be destroyed: said, and no dialog opens
        await cursor_to(pilot, "versions-table", new)
        await pilot.press("d")
        await wait_until(
            pilot,
            lambda: any("only a decrypt-only or deprecated" in n[2] for n in notifications(app)),
            "the warning",
        )
        assert isinstance(app.screen, MainScreen)

        # the id must be typed: a wrong one does not confirm
        await cursor_to(pilot, "versions-table", old)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirmDialog), "confirm")
        text = screen_text(app)
        assert f"Type the version id {old[:8]} to confirm." in text
        assert "cannot be undone" in text
        await pilot.press(*"0000", "enter")
        assert isinstance(app.screen, TypedConfirmDialog)
        app.screen.query_one(Input).value = ""
        await pilot.press(*old[:8], "enter")

        # the refusal: a dialog that stays, with the count and what to do next
        await wait_until(pilot, lambda: isinstance(app.screen, NoticeDialog), "the refusal")
        text = await shows(pilot, "was not destroyed")
        assert "2 entries in 1 log(s) are still encrypted under" in text
        assert "Nothing was changed" in text and "delete those logs" in text
        await pilot.pause(0.5)
        assert isinstance(app.screen, NoticeDialog)  # not a vanishing toast
        assert (await statuses(admin))[old] == "decrypt-only"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        detail = app.screen.query_one("#versions-detail", Static)
        assert "NOT destroyed: entries remain: 2" in str(detail.render())

        # once the log is deleted the same steps destroy it
        await admin.delete_log("orders")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirmDialog), "confirm")
        await pilot.press(*old[:8], "enter")
        await wait_until(
            pilot,
            lambda: any(n[1] == "Destroyed" for n in notifications(app)),
            "the destroy",
        )
        await shows(pilot, "destroyed")
        assert (await statuses(admin)) == {old: "destroyed", new: "active"}

        # a destroyed version is final: d says so, no dialog
        await cursor_to(pilot, "versions-table", old)
        await pilot.press("d")
        await wait_until(
            pilot,
            lambda: any("already destroyed" in n[2] for n in notifications(app)),
            "the warning",
        )
        assert isinstance(app.screen, MainScreen)


async def test_destroy_in_the_palette_and_the_help(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpDialog), "the help")
        body = str(app.screen.query_one("#help-body", Static).render())  # it scrolls at 80x24
        assert "DESTROYED:" in body and "     d  Destroy version: " in body
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"destroy")
        await shows(pilot, "Versions: Destroy version (d)")
        await pilot.press("enter")
        # the only version is active: the warning, not a dialog
        await wait_until(
            pilot,
            lambda: any("only a decrypt-only or deprecated" in n[2] for n in notifications(app)),
            "the warning",
        )
