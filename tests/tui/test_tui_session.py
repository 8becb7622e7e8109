"""Logs paging, the recovery drill, bootstrap with the mnemonic quiz, and the idle lock."""

from __future__ import annotations

import socket

from textual.widgets import Input, Static
from tui_pilot import (
    admin_app,
    notifications,
    paste,
    rows,
    shows,
    store_secret,
    unlock,
    wait_until,
)
from tui_screen import screen_text
from tui_world import Tenant, new_bootstrap_token

from neurallog.client import AsyncNeuralLogClient
from neurallog.crypto.mnemonic import generate_mnemonic
from neurallog.storage.connection import connect
from neurallog.storage.tenants import bootstrap_hash
from neurallog_tui.dialogs.enroll import SecretShownDialog
from neurallog_tui.screens.bootstrap import BootstrapScreen
from neurallog_tui.screens.connect import ConnectScreen
from neurallog_tui.screens.main import MainScreen
from neurallog_tui.widgets.word_grid import WordGrid


async def test_logs_paging(tenant: Tenant, admin: AsyncNeuralLogClient) -> None:
    first = (await admin.get_active_kek_version()).id
    await admin.log("payments", {"n": -1})  # under a version deprecated below
    await admin.create_kek_version("scheduled")
    await admin.update_kek_version_status(first, "deprecated")
    for i in range(25):
        await admin.log("payments", {"n": i})
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("4")
        await wait_until(pilot, lambda: app.focused is app.screen.query_one("#logs-table"), "focus")
        await pilot.press("slash")
        await pilot.press(*"payments", "enter")
        grid = await rows(pilot, "logs-table", 20)
        assert str(grid.get_row_at(0)[2]) == '{"n": 24}'  # newest first
        assert "page 1, 20 entries" in await shows(pilot, "(] older)")
        assert not [n for n in notifications(app) if n[0] == "warning"]
        await pilot.press("right_square_bracket")
        grid = await rows(pilot, "logs-table", 6)
        assert [str(grid.get_row_at(i)[2]) for i in range(6)] == [
            f'{{"n": {n}}}' for n in range(4, -2, -1)
        ]
        # the entry of the deprecated version decrypts, with the client's warning shown
        await wait_until(
            pilot,
            lambda: any(n[0] == "warning" and first in n[2] for n in notifications(app)),
            "the deprecation warning",
        )
        await pilot.press("left_square_bracket")
        await rows(pilot, "logs-table", 20)
        # a name with no entries shows an empty page, not an error
        app.screen.query_one("#log-name", Input).value = "nothing-here"
        app.screen.query_one("#log-name", Input).focus()
        await pilot.press("enter")
        await rows(pilot, "logs-table", 0)
        assert not [n for n in notifications(app) if n[0] == "error"]


async def test_recovery_drill(tenant: Tenant) -> None:
    """A mnemonic tenant's drill takes the words in the grid (pasted here, whole)."""
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("5")
        grid = app.screen.query_one("#drill-words", WordGrid)
        await wait_until(pilot, lambda: grid.cells[0].has_focus, "the first word cell")
        await paste(pilot, generate_mnemonic(256))  # valid words, another tenant's keys
        await pilot.press("enter")
        text = await shows(pilot, "FAIL")
        assert "does not match" in text
        grid.cells[0].focus()
        await pilot.pause()
        await paste(pilot, tenant.mnemonic)
        await pilot.press("enter")
        await shows(pilot, "PASS: this mnemonic matches tenant acme")
        assert grid.value.strip() == ""  # the secret is not kept on screen


async def unredeemed(redis_url: str, tenant_id: str) -> bool:
    """True while the tenant's bootstrap token has not been used."""
    redis = connect(redis_url)
    try:
        return await bootstrap_hash(redis, tenant_id) is not None
    finally:
        await redis.aclose()


async def test_bootstrap_with_quiz(live: object, redis_url: str) -> None:
    url = live.url  # type: ignore[attr-defined]
    token = await new_bootstrap_token(redis_url, "globex")
    app = admin_app(url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), "bootstrap")
        screen = app.screen
        assert isinstance(screen, BootstrapScreen)
        text = screen_text(app)
        assert "argon2id (builtin)" in text or "argon2id" in text
        screen.query_one("#token-input", Input).value = token
        await pilot.press("ctrl+g")
        await shows(pilot, "24.")
        shown = screen_text(app)
        words = [str(w.render()).split(". ", 1)[1] for w in screen.query(".word").results(Static)]
        assert len(words) == 24 and all(w in shown for w in words)
        await pilot.press("enter")
        await shows(pilot, "Check: type these words")
        assert not list(screen.query(".word"))  # shown once: gone from the screen

        # a wrong answer keeps the tenant uncreated
        for i in range(3):
            screen.query_one(f"#quiz-{i}", Input).value = "wrong"
        screen.query_one("#quiz-2", Input).focus()
        await pilot.press("enter")
        await shows(pilot, "do not match")
        assert await unredeemed(redis_url, "globex")
        for i, pos in enumerate(screen.quiz_positions):
            screen.query_one(f"#quiz-{i}", Input).value = words[pos]
        screen.query_one("#quiz-2", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SecretShownDialog), "admin key")
        dialog = app.screen
        assert isinstance(dialog, SecretShownDialog)
        api_key = dialog._api_key
        assert api_key.startswith("nlk1.globex.")
        await store_secret(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
        await rows(pilot, "versions-table", 1)

    assert not await unredeemed(redis_url, "globex")
    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(api_key)
        await client.initialize_with_mnemonic(" ".join(words))
        tenant = await client.get_tenant()
        assert tenant.profile.secret_kind == "mnemonic"
        assert [v.status for v in await client.get_kek_versions()] == ["active"]


async def test_idle_lock_drops_keys(tenant: Tenant) -> None:
    now = [1000.0]
    app = admin_app(tenant.url, lock_after=60.0, clock=lambda: now[0])
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        backend = app.backend
        assert backend is not None
        client = backend.client  # type: ignore[attr-defined]
        assert client.is_initialized
        now[0] += 59
        await pilot.pause(0.3)
        assert isinstance(app.screen, MainScreen)
        now[0] += 2
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), "the lock")
        assert app.backend is None
        assert not client.is_initialized and client.user_id is None
        await wait_until(
            pilot, lambda: "Locked after inactivity" in screen_text(app), "the lock notice"
        )
        # unlocking again works, and ctrl+l locks by hand
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), "manual lock")
        assert app.backend is None


async def test_bootstrap_checks_the_server_before_showing_words(
    live: object, redis_url: str
) -> None:
    """A dead URL is found before a mnemonic is shown or the token is sent; a live one is
    named with the token's tenant above the words."""
    token = await new_bootstrap_token(redis_url, "initech")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = admin_app(dead)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), "bootstrap")
        screen = app.screen
        assert f"Server: {dead}" in screen_text(app)
        screen.query_one("#token-input", Input).value = token
        await pilot.press("ctrl+g")
        text = await shows(pilot, f"Cannot use {dead}")
        assert "the token is unspent" in text
        assert not list(screen.query(".word"))  # no mnemonic was generated or shown
        assert await unredeemed(redis_url, "initech")

    url = live.url  # type: ignore[attr-defined]
    app = admin_app(url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), "bootstrap")
        app.screen.query_one("#token-input", Input).value = token
        await pilot.press("ctrl+g")
        await shows(pilot, "24.")
        assert f"(tenant initech at {url})" in screen_text(app)
