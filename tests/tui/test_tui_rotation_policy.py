"""The signed rotation policy and the tenant chain in the console, against a live server.

The policy dialog signs a ``policy`` link through the real client (read back here from
another client's verified chain); bad input is refused in the dialog with a message that
stays. The due banner is driven by the chain alone: the arranging admin signs a rotation
with a clock three days back, so the active version is old by its signed time although
the server stored it a moment ago; a rotation from the console (signed now) clears it.
The chain status dialog shows what the verified chain says: head, members, checkpoint.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from textual.widgets import Input, Static
from tui_pilot import admin_app, notifications, rows, shows, unlock, wait_until
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.commands import help_text
from neurallog_tui.dialogs.chain_status import ChainStatusDialog
from neurallog_tui.dialogs.confirm import ConfirmDialog
from neurallog_tui.dialogs.rotate import RotateDialog
from neurallog_tui.dialogs.rotation_policy import RotationPolicyDialog

DAY = 86_400


async def _policy(admin: AsyncNeuralLogClient) -> int:
    state = await admin.verified_state()
    assert state is not None
    return state.rotate_every_days


async def test_the_policy_dialog_signs_the_policy_into_the_chain(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await shows(pilot, "Rotation policy: none (p sets one)")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, RotationPolicyDialog), "dialog")
        await shows(pilot, "Rotation policy (now: none)")
        hint = str(app.screen.query_one("#policy-explanation", Static).render())
        assert "signed by your admins into the tenant chain" in hint
        await pilot.press(*"30", "enter")
        await shows(pilot, "Rotation policy: every 30 days; due ")
        assert await _policy(admin) == 30
        assert ("information", "Rotation policy", "signed: rotate every 30 days") in (
            notifications(app)
        )

        # empty removes the policy; the dialog opens with the policy in force
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, RotationPolicyDialog), "dialog")
        field = app.screen.query_one("#policy-days", Input)
        assert field.value == "30"
        field.value = ""
        await pilot.press("enter")
        await shows(pilot, "Rotation policy: none (p sets one)")
        assert await _policy(admin) == 0


async def test_bad_days_are_refused_with_a_message_that_stays(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await shows(pilot, "Rotation policy: none")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, RotationPolicyDialog), "dialog")
        dialog = app.screen
        for bad, why in (("abc", "not a whole number"), ("4000", "more than 3650"), ("-1", "")):
            dialog.query_one("#policy-days", Input).value = bad
            await pilot.press("enter")
            await pilot.pause(0.3)
            error = str(dialog.query_one("#policy-error", Static).render())
            assert why in error and "3650" in error, error
            assert app.screen is dialog  # still open: nothing was signed
        await pilot.pause(1.0)
        assert "more than" not in str(dialog.query_one("#policy-error", Static).render())
        assert "not a whole number" in screen_text(app)  # "-1" is not one either; it stays
        await pilot.press("escape")
        await shows(pilot, "Rotation policy: none")
    assert await _policy(admin) == 0


async def test_the_due_banner_shows_until_a_rotation(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    await admin.set_rotation_policy(1)
    chain = admin._need_session().chain
    chain.clock = lambda: int(time.time()) - 3 * DAY  # an admin machine, three days ago
    old = (await admin.create_kek_version("three days ago")).id
    app = admin_app(tenant.url)
    async with app.run_test(size=(120, 36)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        banner = (
            "Rotation due: the active version is 3 days old; the policy is every 1 day"
            " -- press r to rotate"
        )
        text = await shows(pilot, banner)
        assert "Rotation policy: every 1 day; DUE since" in text
        # the banner stays on every tab, and its r works there too
        await pilot.press("3")
        await shows(pilot, banner)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RotateDialog), "rotate form")
        await pilot.press(*"policy", "enter", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm")
        await pilot.press("y")
        await rows(pilot, "versions-table", 3)
        await wait_until(pilot, lambda: not app.screen.query("#rotation-due"), "the banner to go")
        text = await shows(pilot, "Rotation policy: every 1 day; due ")
        assert "Rotation due" not in text
        # without the banner, r on another tab does nothing
        await pilot.press("3", "r")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, RotateDialog)
    due = await admin.rotation_due()
    assert due.due is False and due.active_version not in (None, old)


async def test_chain_status_shows_the_verified_head_and_members(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    await admin.enroll_user("ingest")
    await admin.enroll_user("carol", role="auditor")
    await admin.enroll_user("bob")
    await admin.disable_user("bob")
    await admin.verify_audit()
    app = admin_app(tenant.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ChainStatusDialog), "chain")
        state = await admin.verified_state()
        assert state is not None
        assert "server cannot change it undetected" in await shows(pilot, "Links verified")
        text = str(app.screen.query_one("#chain-body", Static).render())
        assert f"Links verified   {state.head.seq + 1} (head seq {state.head.seq})" in text
        assert f"Head hash        {state.head.hash.hex()[:16]}" in text
        assert f"Active version   {state.active_version}" in text
        admins = sorted(uid for uid, m in state.members.items() if m.role == "admin")
        assert f"Members          admin: {', '.join(admins)}" in text
        assert "auditor: carol" in text
        assert "member: bob (disabled), ingest" in text
        assert state.audit is not None
        assert f"{state.audit.count} record(s), head {state.audit.head[:16]}" in text
        heads = Path(os.environ["XDG_STATE_HOME"]) / "neurallog" / "chain-heads.json"
        assert "Head             saved\n" in text
        assert f"Head store       {heads}" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ChainStatusDialog), "closed")


def test_the_new_keys_are_in_the_help() -> None:
    text = help_text("versions")
    assert "p  Rotation policy:" in text and "c  Tenant chain status:" in text
    assert "the server cannot change it undetected" in text
