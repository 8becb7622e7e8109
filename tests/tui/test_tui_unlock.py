"""Connect and unlock against a live server: a wrong mnemonic is refused, the right one opens."""

from __future__ import annotations

from neurallog_tui.app import AdminApp
from neurallog_tui.client_backend import ClientConnector
from neurallog_tui.screens.connect import ConnectScreen
from neurallog_tui.screens.main import MainScreen
from textual.widgets import DataTable
from tui_screen import screen_text
from tui_world import Tenant


async def test_wrong_mnemonic_refused_then_unlock(tenant: Tenant) -> None:
    app = AdminApp(ClientConnector(tenant.url), lock_after=None)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        screen.query_one("#api-key-input").value = tenant.api_key  # type: ignore[attr-defined]
        await pilot.click("#kind-mnemonic")
        wrong = " ".join(reversed(tenant.mnemonic.split()))
        screen.query_one("#secret-input").value = wrong  # type: ignore[attr-defined]
        await pilot.press("ctrl+o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        print(screen_text(app))
        assert app.screen is screen
        assert app.backend is None
        screen.query_one("#secret-input").value = tenant.mnemonic  # type: ignore[attr-defined]
        await pilot.press("ctrl+o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        print(text)
        table = app.screen.query_one("#versions-table", DataTable)
        assert table.row_count == 1
        assert "active" in text and "1/1" in text
