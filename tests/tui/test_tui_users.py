"""Users pane against a live server: enrol (key shown once), disable, provision, revoke."""

from __future__ import annotations

from textual.widgets import Button, Input, Select
from tui_pilot import (
    admin_app,
    cursor_to,
    notifications,
    rows,
    shows,
    store_secret,
    unlock,
    wait_until,
)
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.confirm import ConfirmDialog
from neurallog_tui.dialogs.enroll import EnrollDialog, SecretShownDialog
from neurallog_tui.dialogs.prompt import ChoiceDialog
from neurallog_tui.dialogs.typed_confirm import TypedConfirmDialog
from neurallog_tui.screens.main import MainScreen


async def test_enroll_disable_provision_revoke(tenant: Tenant, admin: AsyncNeuralLogClient) -> None:
    await admin.enroll_user("ingest")
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("2")
        await rows(pilot, "users-table", 2)

        # enrol carol as auditor: the API key is shown once with the fingerprint
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollDialog), "enrol form")
        app.screen.query_one(Select).value = "auditor"
        app.screen.query_one("#enroll-user").focus()
        await pilot.press(*"carol", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SecretShownDialog), "the key")
        dialog = app.screen
        assert isinstance(dialog, SecretShownDialog)
        api_key = dialog._api_key
        text = screen_text(app)
        assert "shown ONCE" in text
        assert f"Signing-key fingerprint: {api_key.split('.')[-1]}" in text
        await store_secret(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        await rows(pilot, "users-table", 3)
        async with AsyncNeuralLogClient(tenant.url) as carol:
            await carol.authenticate_with_api_key(api_key)
            assert (carol.user_id, carol.role) == ("carol", "auditor")

        # enrolling the same id again: a readable error, no traceback, app still usable
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollDialog), "enrol form")
        await pilot.press(*"carol", "enter")
        await wait_until(
            pilot,
            lambda: any(n[0] == "error" and n[1] == "Enrolment failed" for n in notifications(app)),
            "the error",
        )
        assert isinstance(app.screen, MainScreen)

        # revoke, then provision back, the active version for ingest
        active = (await admin.get_active_kek_version()).id
        await cursor_to(pilot, "users-table", "ingest")
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "versions")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: any(n[1] == "Revoked" for n in notifications(app)),
            "revoked",
        )
        user = next(u for u in await admin.list_users() if u.user_id == "ingest")
        assert active not in user.versions
        await shows(pilot, "none")  # ingest now holds no version
        await cursor_to(pilot, "users-table", "ingest")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "versions")
        assert active[:8] in screen_text(app)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: any(n[1] == "Provisioned" for n in notifications(app)), "provisioned"
        )
        user = next(u for u in await admin.list_users() if u.user_id == "ingest")
        assert active in user.versions

        # disable carol after a confirm that states what happens
        await cursor_to(pilot, "users-table", "carol")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm")
        assert "stop working at once" in screen_text(app)
        await pilot.press("y")
        await shows(pilot, "disabled")
    states = {u.user_id: u.state for u in await admin.list_users()}
    assert states["carol"] == "disabled" and states["ingest"] == "active"


async def test_disable_refuses_yourself_before_asking(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    """Disabling your own row (here also the last active admin) is refused with the
    reason, and no confirmation is offered; another admin's row still asks."""
    await admin.enroll_user("ada", role="admin")
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("2")
        await rows(pilot, "users-table", 2)
        await cursor_to(pilot, "users-table", "admin")
        await pilot.press("d")
        await wait_until(
            pilot,
            lambda: any(n[1] == "Cannot disable" for n in notifications(app)),
            "the refusal",
        )
        refusal = next(n for n in notifications(app) if n[1] == "Cannot disable")
        assert refusal[0] == "warning"
        assert "an admin cannot disable itself; another admin must do it" in refusal[2]
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # no confirm dialog was pushed

        await cursor_to(pilot, "users-table", "ada")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirmDialog), "confirm")
        await pilot.press("escape")
    states = {u.user_id: u.state for u in await admin.list_users()}
    assert states == {"admin": "active", "ada": "active"}


async def test_disabling_an_admin_needs_its_id_typed(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    """An admin goes only after its id is typed exactly: a near miss (a prefix, another
    case) is refused and Escape leaves it active; the exact id disables it on the server."""
    await admin.enroll_user("ada", role="admin")
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("2")
        await rows(pilot, "users-table", 2)
        await cursor_to(pilot, "users-table", "ada")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirmDialog), "confirm")
        dialog = app.screen
        assert "Type the user id ada to confirm" in screen_text(app)
        assert dialog.query_one("#typed-confirm-yes", Button).disabled
        for wrong in ("ad", "ADA", "ada "):
            dialog.query_one("#typed-confirm-input", Input).value = ""
            await pilot.press(*wrong, "enter")
            await pilot.pause()
            assert app.screen is dialog  # refused: still asking
            assert dialog.query_one("#typed-confirm-yes", Button).disabled
        await pilot.click("#typed-confirm-yes")  # a disabled button does nothing either
        await pilot.pause()
        assert app.screen is dialog
        assert any(n[1] == "Not confirmed" for n in notifications(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "cancelled")
        await pilot.pause(0.3)
        assert {u.user_id: u.state for u in await admin.list_users()}["ada"] == "active"

        await cursor_to(pilot, "users-table", "ada")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirmDialog), "confirm")
        await pilot.press(*"ada")
        assert not app.screen.query_one("#typed-confirm-yes", Button).disabled
        await pilot.press("enter")
        await shows(pilot, "disabled")
    assert {u.user_id: u.state for u in await admin.list_users()}["ada"] == "disabled"
