"""Connect and unlock against a live server: wrong secrets are refused before anything
changes, the right one opens the console; the key check decides, not the admin's guess."""

from __future__ import annotations

from neurallog_tui.screens.connect import ConnectScreen
from neurallog_tui.screens.main import MainScreen
from textual.widgets import Input
from tui_pilot import admin_app, rows, shows, wait_until
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.crypto.mnemonic import generate_mnemonic


async def attempt_unlock(pilot: object, api_key: str, secret: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    app.screen.query_one("#api-key-input", Input).value = api_key
    app.screen.query_one("#secret-input", Input).value = secret
    await pilot.press("ctrl+o")  # type: ignore[attr-defined]


async def test_wrong_secrets_refused_then_unlock(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConnectScreen)

        # valid BIP-39 words, but another tenant's: the key-check value refuses them
        await attempt_unlock(pilot, tenant.api_key, generate_mnemonic(256))
        text = await shows(pilot, "Refused:")
        assert "does not match" in text and "Nothing was changed" in text
        assert app.screen is screen and app.backend is None

        # a typo breaks the checksum: named as such
        swapped = " ".join(reversed(tenant.mnemonic.split()))
        await attempt_unlock(pilot, tenant.api_key, swapped)
        await shows(pilot, "checksum")
        assert app.backend is None

        # the secret is masked on screen
        assert tenant.mnemonic.split()[0] not in screen_text(app)

        await attempt_unlock(pilot, tenant.api_key, tenant.mnemonic)
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
        await rows(pilot, "versions-table", 1)
        text = await shows(pilot, "1/1")
        assert "active" in text and "tenant acme" in text


async def test_tenant_flag_refuses_other_tenants_keys(tenant: Tenant) -> None:
    app = admin_app(tenant.url, tenant="globex")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await attempt_unlock(pilot, tenant.api_key, tenant.mnemonic)
        await shows(pilot, "belongs to tenant acme, not globex")
        assert app.backend is None
