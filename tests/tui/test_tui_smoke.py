from __future__ import annotations

from textual.widgets import DataTable
from tui_fake import API_KEY, PHRASE, FakeConnector
from tui_screen import screen_text

from neurallog_tui.app import AdminApp
from neurallog_tui.screens.main import MainScreen


async def test_unlock_and_tabs() -> None:
    app = AdminApp(FakeConnector(), lock_after=None)
    async with app.run_test(size=(100, 32)) as pilot:
        app.screen.query_one("#api-key-input").value = API_KEY
        app.screen.query_one("#secret-input").value = PHRASE
        await pilot.press("ctrl+o")
        await pilot.pause(0.3)
        assert isinstance(app.screen, MainScreen)
        table = app.screen.query_one("#versions-table", DataTable)
        assert table.row_count == 3
        print(screen_text(app))
        await pilot.press("2")
        await pilot.pause(0.3)
        print(screen_text(app))
        await pilot.press("3")
        await pilot.pause(0.3)
        print(screen_text(app))
