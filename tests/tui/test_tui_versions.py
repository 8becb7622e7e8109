"""Versions pane against a live server: create, legal status changes only, rotation."""

from __future__ import annotations

from textual.widgets import Input, SelectionList
from tui_pilot import admin_app, cursor_to, notifications, rows, shows, unlock, wait_until
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.confirm import ConfirmDialog
from neurallog_tui.dialogs.progress import ProgressDialog
from neurallog_tui.dialogs.prompt import ChoiceDialog
from neurallog_tui.dialogs.rotate import RotateDialog
from neurallog_tui.dialogs.typed_confirm import TypedConfirmDialog


async def test_create_status_and_rotate(tenant: Tenant, admin: AsyncNeuralLogClient) -> None:
    await admin.enroll_user("ingest")
    await admin.enroll_user("bob")
    advances: list[tuple[int, int]] = []
    original = ProgressDialog.advance

    def record(self: ProgressDialog, done: int, total: int) -> None:
        advances.append((done, total))
        original(self, done, total)

    ProgressDialog.advance = record  # type: ignore[method-assign]
    try:
        app = admin_app(tenant.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await unlock(pilot, tenant.api_key, tenant.mnemonic)
            await rows(pilot, "versions-table", 1)
            assert "3/3" in await shows(pilot, "initial version")

            # create: a reason, then the new version is active and the old decrypt-only
            await pilot.press("n")
            await pilot.press(*"scheduled", "enter")
            await rows(pilot, "versions-table", 2)
            versions = await admin.get_kek_versions()
            assert [v.status for v in versions] == ["decrypt-only", "active"]
            assert versions[1].reason == "scheduled"
            old, new = versions[0].id, versions[1].id

            # the active version offers no status change at all
            await cursor_to(pilot, "versions-table", new)
            await pilot.press("s")
            await wait_until(
                pilot,
                lambda: any("only by creating or rotating" in n[2] for n in notifications(app)),
                "the warning",
            )
            assert not isinstance(app.screen, ChoiceDialog)

            # decrypt-only offers exactly "deprecated"
            await cursor_to(pilot, "versions-table", old)
            await pilot.press("s")
            await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "the choice")
            text = screen_text(app)
            assert "-> deprecated" in text and "-> active" not in text
            await pilot.press("enter")
            await shows(pilot, "deprecated")
            versions = await admin.get_kek_versions()
            assert versions[0].status == "deprecated"

            # rotate, removing bob: the confirm dialog states the consequences first
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, RotateDialog), "rotate form")
            # the legend shows both marks (Rich took "[x]" for markup and dropped it)
            assert "[x] removed" in screen_text(app) and "[ ] kept" in screen_text(app)
            await pilot.press(*"bob left", "enter")
            dialog = app.screen
            remove = dialog.query_one("#rotate-remove", SelectionList)
            options = [str(remove.get_option_at_index(i).value) for i in range(remove.option_count)]
            assert sorted(options) == ["bob", "ingest"]  # never the admin doing the rotation
            for _ in range(options.index("bob")):
                await pilot.press("down")
            await pilot.press("space", "ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm")
            text = screen_text(app)
            assert "REMOVED: bob" in text and "revoked" in text
            assert f"{new[:8]} becomes decrypt-only" in text
            assert "sealed and uploaded for 2 user(s)" in text
            await pilot.press("y")
            await rows(pilot, "versions-table", 3)
            # the cursor stays where it was; move it to the rotated-in version to read it
            rotated = (await admin.get_kek_versions())[-1].id
            await cursor_to(pilot, "versions-table", rotated)
            await shows(pilot, "bob left")
    finally:
        ProgressDialog.advance = original  # type: ignore[method-assign]

    versions = await admin.get_kek_versions()
    assert [v.status for v in versions] == ["deprecated", "decrypt-only", "active"]
    assert versions[2].reason == "bob left" and versions[2].blob_count == 2
    users = {u.user_id: u for u in await admin.list_users()}
    assert users["bob"].state == "removed" and users["bob"].versions == ()
    assert versions[2].id in users["ingest"].versions
    assert advances and advances[-1] == (2, 2)


async def test_rotation_removing_an_admin_needs_its_id_typed(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    """Removing an admin in a rotation is confirmed by typing its id, not y: a wrong id
    is refused and nothing rotates; the exact id rotates and the server marks it removed."""
    await admin.enroll_user("ops", role="admin")
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)

        async def plan_removing_ops() -> TypedConfirmDialog:
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, RotateDialog), "rotate form")
            await pilot.press(*"ops left", "enter", "space", "ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirmDialog), "confirm")
            assert isinstance(app.screen, TypedConfirmDialog)
            return app.screen

        dialog = await plan_removing_ops()
        assert "REMOVED: ops" in screen_text(app)
        await pilot.press("y", "enter")  # the old answer is only text here
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one("#typed-confirm-input", Input).value == "y"
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert len(await admin.get_kek_versions()) == 1
        assert {u.user_id: u.state for u in await admin.list_users()}["ops"] == "active"

        await plan_removing_ops()
        await pilot.press(*"ops", "enter")
        await rows(pilot, "versions-table", 2)
    assert {u.user_id: u.state for u in await admin.list_users()}["ops"] == "removed"
