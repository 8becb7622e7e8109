"""Tables keep their columns whole when the terminal is resized (seen in tmux at 80x24)."""

from __future__ import annotations

from tui_pilot import admin_app, rows, shows, unlock
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient


async def test_versions_columns_survive_a_resize(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    """Going from 100 to 80 columns redraws the table without cutting id, date or reason.

    The redraw replaced the columns and the new ones kept the width of their header
    ("1a", "2026-12", "initia") until the next refresh.
    """
    version = (await admin.get_active_kek_version()).id
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)
        await shows(pilot, "initial version")
        for width in (80, 100, 80):
            await pilot.resize_terminal(width, 24)
            await pilot.pause(0.3)
            text = screen_text(app)
            assert f"{version[:8]}  active" in text, text
            assert "initial version" in text, text
