"""Pilot helpers: open the console on a live tenant, wait for what the screen shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input
from tui_screen import screen_text

from neurallog_tui.app import AdminApp
from neurallog_tui.client_backend import ClientConnector
from neurallog_tui.screens.main import MainScreen


def admin_app(url: str, **kwargs: Any) -> AdminApp:
    kwargs.setdefault("lock_after", None)
    return AdminApp(ClientConnector(url), **kwargs)


async def wait_until(
    pilot: Pilot[Any], predicate: Callable[[], bool], what: str, within: float = 20.0
) -> None:
    """Poll ``predicate`` while the app runs; fail with the screen's text on timeout."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


async def shows(pilot: Pilot[Any], text: str, within: float = 20.0) -> str:
    """Wait until ``text`` is visible; return the whole screen."""
    await wait_until(pilot, lambda: text in screen_text(pilot.app), repr(text), within)
    return screen_text(pilot.app)


async def unlock(pilot: Pilot[Any], api_key: str, mnemonic: str) -> MainScreen:
    """Type the API key and mnemonic on the unlock screen and wait for the console."""
    app = pilot.app
    await pilot.pause()
    app.screen.query_one("#api-key-input", Input).value = api_key
    app.screen.query_one("#secret-input", Input).value = mnemonic
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def table(pilot: Pilot[Any], table_id: str) -> DataTable[Any]:
    return pilot.app.screen.query_one(f"#{table_id}", DataTable)


async def rows(pilot: Pilot[Any], table_id: str, count: int) -> DataTable[Any]:
    """Wait until the table has ``count`` rows."""
    await wait_until(pilot, lambda: table(pilot, table_id).row_count == count, f"{count} rows")
    return table(pilot, table_id)


async def cursor_to(pilot: Pilot[Any], table_id: str, key: str) -> None:
    """Move the table cursor with the arrow keys to the row whose key is ``key``."""
    grid = table(pilot, table_id)
    grid.focus()
    target = grid.get_row_index(key)
    # "home" scrolls without always moving the cursor: step there key by key instead
    for _ in range(grid.cursor_row - target):
        await pilot.press("up")
    for _ in range(target - grid.cursor_row):
        await pilot.press("down")
    assert grid.cursor_row == target


def notifications(app: Any) -> list[tuple[str, str, str]]:
    """(severity, title, message) of every notification raised so far."""
    return [(n.severity, n.title, n.message) for n in app._notifications]


async def store_secret(pilot: Pilot[Any]) -> None:
    """Close a one-time secret dialog the only way it closes: "I have stored it"."""
    from neurallog_tui.dialogs.enroll import SecretShownDialog

    await pilot.click("#secret-done")
    await wait_until(
        pilot, lambda: not isinstance(pilot.app.screen, SecretShownDialog), "the dialog closed"
    )


async def paste(pilot: Pilot[Any], text: str) -> None:
    """Paste ``text`` into the focused widget, as a terminal's bracketed paste does."""
    from textual import events

    focused = pilot.app.focused
    assert focused is not None
    focused.post_message(events.Paste(text))
    await pilot.pause()
