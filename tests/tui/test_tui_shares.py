"""Unlock with SLIP-39 shares at one terminal, against a live server: each holder types a
share, it disappears once accepted, the progress shows, and bad shares are refused."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input
from tui_pilot import admin_app, rows, shows, unlock, wait_until
from tui_screen import screen_text
from tui_world import new_bootstrap_token

from neurallog.client import AsyncNeuralLogClient
from neurallog.crypto.shares import ShareScheme
from neurallog_tui.screens.connect import ConnectScreen
from neurallog_tui.screens.main import MainScreen
from neurallog_tui.screens.shares import ShareUnlockScreen


async def type_share(pilot: Any, share: str) -> None:
    field = pilot.app.screen.query_one("#share-input", Input)
    field.focus()
    field.value = share
    await pilot.press("enter")
    await pilot.pause()


async def test_unlock_with_shares_one_holder_after_another(live: Any, redis_url: str) -> None:
    token = await new_bootstrap_token(redis_url, "acme")
    async with AsyncNeuralLogClient(live.url) as client:
        result = await client.bootstrap_tenant(token, share_scheme=ShareScheme(((2, 3),)))
    other_token = await new_bootstrap_token(redis_url, "globex")
    async with AsyncNeuralLogClient(live.url) as client:
        other = await client.bootstrap_tenant(other_token, share_scheme=ShareScheme())
    assert result.shares is not None and other.shares is not None
    (group,) = result.shares

    app = admin_app(live.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConnectScreen)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ShareUnlockScreen), "shares")
        screen = app.screen
        screen.query_one("#shares-api-key-input", Input).value = result.api_key

        await type_share(pilot, group[2])
        text = await shows(pilot, "Accepted: 1 of 2 shares. Next holder.")
        assert screen.query_one("#share-input", Input).value == ""  # hidden once accepted
        for share in group:  # no run of its words (one alone can be a word of the screen's)
            assert " ".join(share.split()[4:7]) not in " ".join(text.split())

        await type_share(pilot, group[2])
        await shows(pilot, "was already entered")
        wrong = group[0].split()
        wrong[6] = "acid" if wrong[6] != "acid" else "academic"
        await type_share(pilot, " ".join(wrong))
        await shows(pilot, "checksum does not match")
        assert screen.query_one("#share-input", Input).value == ""
        await type_share(pilot, other.shares[0][0])
        await shows(pilot, "different set of shares")

        await pilot.press("ctrl+o")
        await shows(pilot, "Not enough shares yet: 1 of 2 shares")

        await type_share(pilot, group[0])
        await shows(pilot, "Accepted: 2 of 2 shares. Enough shares")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
        await rows(pilot, "versions-table", 1)
        assert "tenant acme" in screen_text(app)


async def test_wrong_passphrase_is_refused(live: Any, redis_url: str) -> None:
    token = await new_bootstrap_token(redis_url, "acme")
    async with AsyncNeuralLogClient(live.url) as client:
        result = await client.bootstrap_tenant(
            token, share_scheme=ShareScheme(((2, 2),)), share_passphrase="vault"
        )
    assert result.shares is not None
    app = admin_app(live.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ShareUnlockScreen), "shares")
        app.screen.query_one("#shares-api-key-input", Input).value = result.api_key
        for share in result.shares[0]:
            await type_share(pilot, share)
        app.screen.query_one("#shares-passphrase-input", Input).value = "vault?"
        await pilot.press("ctrl+o")
        await shows(pilot, "SLIP-39 passphrase")
        assert app.backend is None
        app.screen.query_one("#shares-passphrase-input", Input).value = "vault"
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
        # let the first load finish before the app is torn down (a busy machine otherwise
        # ends the test while the versions pane's worker still fills its table)
        await rows(pilot, "versions-table", 1)


async def test_recovery_drill_with_shares(live: Any, redis_url: str) -> None:
    """The drill takes shares one holder after another and says whether they recover the
    tenant; a set from another tenant fails; nothing of a share stays on screen."""
    token = await new_bootstrap_token(redis_url, "acme")
    async with AsyncNeuralLogClient(live.url) as client:
        result = await client.bootstrap_tenant(token, share_scheme=ShareScheme(((2, 3),)))
    other_token = await new_bootstrap_token(redis_url, "globex")
    async with AsyncNeuralLogClient(live.url) as client:
        other = await client.bootstrap_tenant(other_token, share_scheme=ShareScheme())
    assert result.shares is not None and other.shares is not None
    assert result.mnemonic is not None
    (group,) = result.shares

    async def drill_share(pilot: Any, share: str) -> None:
        """Enter one share and wait until the field was cleared for the next holder (on a
        busy machine a value set before that would be wiped by the clearing)."""
        field = pilot.app.screen.query_one("#drill-share-input", Input)
        field.focus()
        field.value = share
        await pilot.press("enter")
        await wait_until(pilot, lambda: field.value == "", "the share field to be cleared")

    app = admin_app(live.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await unlock(pilot, result.api_key, result.mnemonic)
        await pilot.press("5")
        await drill_share(pilot, other.shares[0][0])
        await drill_share(pilot, other.shares[0][1])
        await shows(pilot, "Accepted: 2 of 2 shares. Enough")
        app.screen.query_one("#drill-share-passphrase-input", Input).focus()
        await pilot.press("enter")
        await shows(pilot, "FAIL: these shares do not recover tenant acme")

        await drill_share(pilot, group[1])
        text = await shows(pilot, "Accepted: 1 of 2 shares. Next holder.")
        assert app.screen.query_one("#drill-share-input", Input).value == ""
        for share in group:  # no run of its words (one alone can be a word of the screen's)
            assert " ".join(share.split()[5:8]) not in " ".join(text.split())
        await drill_share(pilot, group[2])
        app.screen.query_one("#drill-check-shares").focus()
        await pilot.press("enter")
        await shows(pilot, "PASS: these shares recover tenant acme's mnemonic")
        assert "No shares entered yet." in screen_text(app)
