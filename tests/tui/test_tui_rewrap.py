"""Rewrap from the Versions tab against a live server: a dry-run count first, then the
rewrap with a progress bar, then the emptied version offered for destruction."""

from __future__ import annotations

from tui_pilot import admin_app, cursor_to, notifications, rows, shows, unlock, wait_until
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.confirm import ConfirmDialog
from neurallog_tui.dialogs.progress import ProgressDialog
from neurallog_tui.dialogs.typed_confirm import TypedConfirmDialog
from neurallog_tui.screens.main import MainScreen


async def test_rewrap_counts_then_rewraps_then_offers_destroy(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    old = (await admin.get_active_kek_version()).id
    await admin.log("orders", {"n": 1})
    await admin.log("orders", {"n": 2})
    await admin.log("billing", {"n": 3})
    new = (await admin.create_kek_version("quarterly")).id
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
            await rows(pilot, "versions-table", 2)
            await pilot.press("w")
            # the dry run: a count, nothing changed yet
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the count")
            text = screen_text(app)
            assert "3 entries in 2 log(s)" in text and old[:8] in text and new[:8] in text
            await pilot.press("y")
            # the rewrap, with progress, then the emptied version offered for destruction
            await wait_until(
                pilot, lambda: isinstance(app.screen, TypedConfirmDialog), "the destroy offer"
            )
            assert advances
            assert any(n[1] == "Rewrapped" for n in notifications(app))
            await pilot.press(*old[:8], "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
            await cursor_to(pilot, "versions-table", old)
            await shows(pilot, "destroyed")
    finally:
        ProgressDialog.advance = original  # type: ignore[method-assign]

    statuses = {v.id: v.status for v in await admin.get_kek_versions()}
    assert statuses == {old: "destroyed", new: "active"}
    page = await admin.get_logs("orders")
    assert sorted(e.data["n"] for e in page.entries) == [1, 2]  # still readable
